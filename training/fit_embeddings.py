"""Fit linear heads on frozen encoder embeddings (``inference.models.embeddings``)."""
from __future__ import annotations

from data.records import SentenceRecord
from data.schema import LabelSchema
from inference.models import linear_heads
from inference.models.embeddings import EmbeddingsModel, weights_digest
from inference.models.encoding import EncodingOptions, load_backbone, recording_input_ranges
from inference.pretrained import resolve_base

from .config import EmbeddingsConfig
from .evaluate import previous_sentences


def fit(train: list[SentenceRecord], dev: list[SentenceRecord], cfg: EmbeddingsConfig, schema: LabelSchema,
        seed: int) -> EmbeddingsModel:
    path = resolve_base(cfg.base)
    tokenizer, backbone = load_backbone(path)
    opts = EncodingOptions(max_length=cfg.max_length, prefix=cfg.prefix, context=cfg.context, batch_size=cfg.batch_size)
    model = EmbeddingsModel(tokenizer, backbone, {}, schema, opts, cfg.base, weights_digest(path))
    with recording_input_ranges(backbone) as ranges:  # the one pass over train also calibrates int8
        X = model.embed([r.text for r in train], previous_sentences(train) if cfg.context else None)
    model.int8_ranges = ranges
    model.heads = linear_heads.fit_heads(X, train, schema, cfg.C, cfg.class_weight, cfg.max_iter, seed)
    return model
