"""Per-article language detection with py3langid (a small bundled model, no download)."""
from __future__ import annotations

from functools import lru_cache

SAMPLE_CHARS = 2000


@lru_cache(maxsize=1)
def _identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detect_language(text: str, default: str = "en") -> str:
    """ISO 639-1 code of the text's language, judged on its first characters; ``default`` when empty."""
    sample = text[:SAMPLE_CHARS]
    if not any(ch.isalpha() for ch in sample):
        return default
    lang, _ = _identifier().classify(sample)
    return lang
