"""The TF-IDF baseline: word and character n-grams, plus word n-grams over the text with target
mentions as placeholders (see ``target_terms``), with linear heads (see ``linear_heads``)."""
from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path

import numpy as np

from data.schema import LabelSchema

from . import linear_heads
from .target_terms import TargetMasker, placeholder

MODEL_FILE = "model.skops"
VOCABULARY_FILE = "vocabulary.json"
TERMS_FILE = "target_terms.json"
TARGET_VIEW = "target"
_WORD = re.compile(r"\w+", re.UNICODE)


class TfidfModel:
    """The fitted feature union over the raw text, the optional target view, and the linear heads."""

    uses_context = False

    def __init__(self, features, heads: dict, schema: LabelSchema, target_view=None, masker: TargetMasker | None = None):
        self.features = features
        self.heads = heads
        self.schema = schema
        self.target_view = target_view
        self.masker = masker or TargetMasker({})

    def _vectorizers(self) -> list[tuple[str, object]]:
        views = list(self.features.transformer_list)
        return views + [(TARGET_VIEW, self.target_view)] if self.target_view is not None else views

    def features_of(self, texts: list[str], fit: bool = False):
        """The feature matrix of ``texts`` (fitting the vectorizers first when ``fit``)."""
        step = "fit_transform" if fit else "transform"
        X = getattr(self.features, step)(texts)
        if self.target_view is not None:
            X = _stack(X, getattr(self.target_view, step)([self.masker.mask(t) for t in texts]))
        return X

    def feature_names(self) -> list[str]:
        names = list(self.features.get_feature_names_out())
        if self.target_view is not None:
            names += [f"{TARGET_VIEW}__{g}" for g in self.target_view.get_feature_names_out()]
        return names

    def save(self, run_dir: Path) -> None:
        # Vocabularies go to plain JSON: as skops objects they take ~60 MB and seconds to load.
        vocabularies = {name: {t: int(j) for t, j in vec.vocabulary_.items()} for name, vec in self._vectorizers()}
        (run_dir / VOCABULARY_FILE).write_text(json.dumps(vocabularies, ensure_ascii=False), encoding="utf-8")
        (run_dir / TERMS_FILE).write_text(json.dumps(self.masker.terms, ensure_ascii=False, indent=1), encoding="utf-8")
        for _, vec in self._vectorizers():
            vec.vocabulary_ = {}
        obj = {"features": self.features, "heads": self.heads}
        if self.target_view is not None:
            obj[TARGET_VIEW] = self.target_view
        try:
            linear_heads.save(obj, run_dir / MODEL_FILE)
        finally:
            self._restore(vocabularies)

    def _restore(self, vocabularies: dict) -> None:
        for name, vec in self._vectorizers():
            vec.vocabulary_ = vocabularies[name]

    def predict_proba(self, texts: list[str], contexts: list[str | None] | None = None) -> dict[str, np.ndarray]:
        return linear_heads.predict_proba(self.heads, self.features_of(texts), self.schema)

    def explain(self, texts: list[str], head_name: str, labels: list[str], top_k: int = 5) -> list[list[tuple[str, float]]]:
        """The words that pushed each text most towards its label.

        Each n-gram's contribution (tf-idf value x weight) is shared among the words it covers:
        a word n-gram among its words, a character n-gram among the words that contain it, and a
        placeholder among the words of the target mentions it stands for.
        """
        X = self.features_of(texts).tocsr()
        names = self.feature_names()
        result = []
        for i, (text, label) in enumerate(zip(texts, labels)):
            weights = linear_heads.direction(self.heads, self.schema, head_name, label)
            row = X.getrow(i)
            spans = [(m.start(), m.end(), m.group()) for m in _WORD.finditer(text)]
            words = [w for _, _, w in spans]
            lowered = [w.lower() for w in words]
            # The target view's tokens: a word inside a mention reads as its target's placeholder.
            in_mention = _placeholder_of_words(spans, self.masker.spans(text))
            masked = [in_mention.get(k, w) for k, w in enumerate(lowered)]
            scores: dict[int, float] = defaultdict(float)
            for col, value in zip(row.indices, row.data):
                contribution = float(value * weights[col])
                kind, gram = names[col].split("__", 1)
                if kind == "char":
                    core = gram.strip()
                    hits = [k for k, w in enumerate(lowered) if core and core in w]
                else:
                    parts = gram.split()
                    hits = [k for k, w in enumerate(masked if kind == TARGET_VIEW else lowered) if w in parts]
                for k in hits:
                    scores[k] += contribution / len(hits)
            merged: dict[str, float] = defaultdict(float)
            for k, s in scores.items():
                merged[words[k]] += s
            ranked = sorted(((w, s) for w, s in merged.items() if s > 0), key=lambda x: -x[1])[:top_k]
            result.append([(w, round(s, 4)) for w, s in ranked])
        return result


def _stack(a, b):
    from scipy.sparse import hstack

    return hstack([a, b]).tocsr()


def _placeholder_of_words(words: list[tuple[int, int, str]], mentions: list[tuple[int, int, str]]) -> dict[int, str]:
    """Word index -> the placeholder of the target mention covering it."""
    out = {}
    for k, (ws, we, _) in enumerate(words):
        for ms, me, target in mentions:
            if ws < me and ms < we:
                out[k] = placeholder(target)
                break
    return out


def load(run_dir: Path, schema: LabelSchema, quantize: str | None = None) -> TfidfModel:
    if quantize:
        raise ValueError("quantisation applies to transformer kinds, not to the tfidf baseline")
    obj = linear_heads.load(run_dir / MODEL_FILE, schema)
    terms_path = run_dir / TERMS_FILE
    terms = json.loads(terms_path.read_text(encoding="utf-8")) if terms_path.exists() else {}
    model = TfidfModel(obj["features"], obj["heads"], schema, obj.get(TARGET_VIEW), TargetMasker(terms))
    model._restore(json.loads((run_dir / VOCABULARY_FILE).read_text(encoding="utf-8")))
    return model
