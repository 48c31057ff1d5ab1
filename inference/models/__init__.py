"""Model kinds. Each kind module exposes ``load(run_dir, schema, quantize=None) -> model`` where the model has
``uses_context``, ``save(run_dir)``, ``predict_proba(texts, contexts=None) -> {head: array}`` and
``explain(texts, head, labels, top_k)``; ``training.train.FITTERS`` names the matching fitter.
Modules are imported on demand so the baseline never imports torch.
"""
from __future__ import annotations

from importlib import import_module

KINDS = {"tfidf": "inference.models.tfidf", "embeddings": "inference.models.embeddings", "encoder": "inference.models.encoder",
         "ensemble": "inference.models.ensemble"}


def kind_module(kind: str):
    if kind not in KINDS:
        raise ValueError(f"unknown model kind {kind!r} (known: {sorted(KINDS)})")
    return import_module(KINDS[kind])
