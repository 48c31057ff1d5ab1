"""Model-agnostic word attributions by occlusion: how much the probability of a label drops when
one word is removed. Used by the transformer kinds, whose words interact non-linearly."""
from __future__ import annotations

import re
from typing import Callable

import numpy as np

from data.schema import LabelSchema

_WORD = re.compile(r"\S+")
# Function words are still occluded (they can matter), but never shown as a reason: they read as noise.
_FUNCTION_WORDS = frozenset("""
a an the of to in on at by for from with and or but that this these those it its is are was were be been
as than then so if not no he she they we you i his her their our your which who whom whose what when
le la les l un une des du de d au aux et ou mais que qui quoi dont ce cet cette ces il elle ils elles on
nous vous je son sa ses leur leurs notre nos votre vos est sont était être a ont pour par sur dans avec en
""".split())


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
        ranked = sorted((d for d in drops if d[1] > 0 and d[0] and d[0].lower() not in _FUNCTION_WORDS),
                        key=lambda d: -d[1])[:top_k]
        out.append([(w, round(s, 4)) for w, s in ranked])
    return out
