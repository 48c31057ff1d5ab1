"""Model kinds. Each kind module exposes ``load(run_dir, schema) -> model`` where the model has
``predict_proba(texts, contexts=None) -> {head: array}`` and ``explain(texts, head, label_indexes, top_k)``.
Modules are imported on demand so the baseline never imports torch.
"""
from __future__ import annotations

from importlib import import_module

KINDS = {"tfidf": "inference.models.tfidf", "embeddings": "inference.models.embeddings", "encoder": "inference.models.encoder"}


def kind_module(kind: str):
    if kind not in KINDS:
        raise ValueError(f"unknown model kind {kind!r} (known: {sorted(KINDS)})")
    return import_module(KINDS[kind])
