"""Model-agnostic word attributions by occlusion: how much the probability of a label drops when
one word is removed. Used by the transformer kinds, whose words interact non-linearly."""
from __future__ import annotations

import re
from typing import Callable

import numpy as np

from data.schema import LabelSchema

_WORD = re.compile(r"\S+")


def label_column(schema: LabelSchema, head_name: str, label: str) -> int:
    return schema.frames.index(label) if head_name == "frames" else schema.stance_values.index(label)


def occlusion(predict_proba: Callable[[list[str]], dict[str, np.ndarray]], schema: LabelSchema, texts: list[str],
              head_name: str, labels: list[str], top_k: int = 5, max_words: int = 80) -> list[list[tuple[str, float]]]:
    """Top words by probability drop when removed (whole words, so subword tokens never show)."""
    variants: list[str] = []
    spans: list[tuple[int, list[str]]] = []
    for text in texts:
        words = [m.group() for m in _WORD.finditer(text)][:max_words]
        start = len(variants)
        variants.append(text)
        variants.extend(" ".join(words[:k] + words[k + 1:]) for k in range(len(words)))
        spans.append((start, words))
    probs = predict_proba(variants)[head_name]
    out = []
    for (start, words), label in zip(spans, labels):
        col = label_column(schema, head_name, label)
        base = probs[start, col]
        drops = [(w.strip(".,;:!?«»\"“”'()"), float(base - probs[start + 1 + k, col])) for k, w in enumerate(words)]
        ranked = sorted((d for d in drops if d[1] > 0 and d[0]), key=lambda d: -d[1])[:top_k]
        out.append([(w, round(s, 4)) for w, s in ranked])
    return out
