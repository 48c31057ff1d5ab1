"""``stanceframe bench``: throughput of a run folder on this machine, printed, never asserted.

Sentences come from the shipped corpus (cycled to ``n``); ``score`` is measured on articles of ten
of them joined into one text, so splitting and language detection are included.
"""
from __future__ import annotations

import json
import resource
import time
from itertools import cycle, islice

from data.corpus import corpus_files


def corpus_sentences(n: int) -> list[str]:
    texts = [json.loads(line)["text"] for path in corpus_files() for line in open(path, encoding="utf-8") if line.strip()]
    return list(islice(cycle(texts), n))


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(predictor, load_seconds: float, n: int = 2000, batch_size: int = 64) -> dict:
    """Figures for a loaded :class:`~inference.predictor.Predictor` (``load_seconds``: how long loading took)."""
    sentences = corpus_sentences(n)
    predictor.predict(sentences[:32])  # warm-up
    t = time.perf_counter()
    predictor.predict(sentences)
    predict_rate = n / (time.perf_counter() - t)
    articles = [{"id": f"b{i}", "text": " ".join(sentences[i:i + 10])} for i in range(0, n, 10)]
    t = time.perf_counter()
    scored = sum(len(r.sentences) for r in predictor.score_articles(articles, batch_size=batch_size))
    score_rate = scored / (time.perf_counter() - t)
    try:
        import torch

        threads = torch.get_num_threads() if predictor.kind != "tfidf" else 1
    except ImportError:
        threads = 1
    return {"model": str(predictor.run_dir), "kind": predictor.kind, "quantize": predictor.quantize or "none", "threads": threads,
            "sentences": n, "mean_words": round(sum(len(s.split()) for s in sentences) / n, 1),
            "load_seconds": round(load_seconds, 1), "predict_sentences_per_s": round(predict_rate, 1),
            "score_sentences_per_s": round(score_rate, 1), "score_sentences": scored, "peak_rss_mb": round(peak_rss_mb())}
