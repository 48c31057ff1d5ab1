"""Shared transformer plumbing: tokenise (optionally with the previous sentence as a text pair),
batch by length, mean-pool. Used by the frozen-embeddings kind and the fine-tuned encoder kind, at
training and at serving time, so both see exactly the same inputs.
"""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from typing import Iterator

import numpy as np


@dataclass(frozen=True)
class EncodingOptions:
    max_length: int = 128
    prefix: str = "query: "          # e5 models expect a role prefix; "" for others
    context: bool = False            # encode (previous sentence, sentence) as a text pair
    batch_size: int = 32

    def to_dict(self) -> dict:
        return asdict(self)


def set_threads(threads: int | None = None) -> None:
    """Use the cores we have (``STANCEFRAME_THREADS`` overrides): torch defaults are not always right."""
    import torch

    n = threads or int(os.environ.get("STANCEFRAME_THREADS", "0")) or os.cpu_count() or 1
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)


def length_batches(lengths: list[int], batch_size: int) -> Iterator[np.ndarray]:
    """Indices grouped into batches of similar length (longest first), so padding stays small;
    callers scatter results back by index, which restores input order."""
    order = np.argsort(-np.asarray(lengths), kind="stable")
    for i in range(0, len(order), batch_size):
        yield order[i:i + batch_size]


def tokenize(tokenizer, texts: list[str], contexts: list[str | None] | None, opts: EncodingOptions):
    """Tokenise a batch; with context, the previous sentence is the first segment and the sentence
    the second, and truncation trims the longer of the two first."""
    first = [opts.prefix + t for t in texts]
    if opts.context and contexts is not None:
        ctx = [c or "" for c in contexts]
        return tokenizer(ctx, first, padding=True, truncation=True, max_length=opts.max_length, return_tensors="pt")
    return tokenizer(first, padding=True, truncation=True, max_length=opts.max_length, return_tensors="pt")


def mean_pool(hidden, mask):
    m = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)


def approx_lengths(texts: list[str], contexts: list[str | None] | None) -> list[int]:
    """Cheap length proxy (characters) for sorting before tokenisation."""
    if contexts is None:
        return [len(t) for t in texts]
    return [len(t) + len(c or "") for t, c in zip(texts, contexts)]


def load_backbone(path: str):
    """Tokenizer and encoder from a local folder (or a hub id, for users with a network); safetensors only."""
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging

    logging.set_verbosity_error()  # a bare encoder "unexpectedly" lacks a pooler: not worth a report
    logging.disable_progress_bar()
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModel.from_pretrained(path, use_safetensors=True, add_pooling_layer=False) \
        if _is_bert_like(path) else AutoModel.from_pretrained(path, use_safetensors=True)
    return tokenizer, model.eval()


def _is_bert_like(path: str) -> bool:
    import json
    from pathlib import Path

    cfg = Path(path) / "config.json"
    return cfg.is_file() and json.loads(cfg.read_text()).get("model_type") in ("bert", "xlm-roberta", "roberta")


def quantize_int8(model):
    """Dynamic int8 quantisation of every ``nn.Linear`` (weights int8, activations quantised on the fly)."""
    import torch

    return torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)


def embed(tokenizer, model, texts: list[str], contexts: list[str | None] | None, opts: EncodingOptions) -> np.ndarray:
    """Mean-pooled, L2-normalised sentence embeddings, in input order."""
    import torch

    set_threads()
    out = None
    with torch.inference_mode():
        for idx in length_batches(approx_lengths(texts, contexts), opts.batch_size):
            batch = tokenize(tokenizer, [texts[i] for i in idx], None if contexts is None else [contexts[i] for i in idx], opts)
            pooled = mean_pool(model(**batch).last_hidden_state, batch["attention_mask"])
            pooled = torch.nn.functional.normalize(pooled, dim=-1).float().numpy()
            if out is None:
                out = np.zeros((len(texts), pooled.shape[1]), dtype=np.float32)
            out[idx] = pooled
    return out if out is not None else np.zeros((0, 0), dtype=np.float32)
