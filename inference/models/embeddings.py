"""Frozen pretrained encoder embeddings with scikit-learn linear heads: the cheap middle kind.

The run folder holds the heads (skops) and ``encoder.json`` naming the base encoder and the sha256
of its weights; loading refuses a base whose weights differ from those the heads were fitted on.
"""
from __future__ import annotations

import json
from functools import partial
from pathlib import Path

import numpy as np

from data.schema import LabelSchema

from . import linear_heads
from .encoding import EncodingOptions, embed, load_backbone, load_int8, save_int8_ranges

HEADS_FILE = "heads.skops"
ENCODER_FILE = "encoder.json"


def weights_digest(base_path: str) -> str:
    from ..runfolder import sha256_file

    path = Path(base_path) / "model.safetensors"
    return sha256_file(path) if path.is_file() else "unverified (hub id)"


class EmbeddingsModel:
    def __init__(self, tokenizer, backbone, heads: dict, schema: LabelSchema, opts: EncodingOptions, base: str, digest: str):
        self.tokenizer, self.backbone, self.heads = tokenizer, backbone, heads
        self.schema, self.opts, self.base, self.digest = schema, opts, base, digest
        self.uses_context = opts.context
        self.int8_ranges: dict | None = None  # what ``--quantize int8`` needs; recorded while fitting

    def save(self, run_dir: Path) -> None:
        if self.int8_ranges is not None:
            save_int8_ranges(self.int8_ranges, run_dir)
        linear_heads.save({"heads": self.heads}, run_dir / HEADS_FILE)
        (run_dir / ENCODER_FILE).write_text(json.dumps(
            {"base": self.base, "weights_sha256": self.digest, "options": self.opts.to_dict()}, indent=2) + "\n")

    def embed(self, texts: list[str], contexts: list[str | None] | None = None) -> np.ndarray:
        return embed(self.tokenizer, self.backbone, texts, contexts if self.uses_context else None, self.opts)

    def predict_proba(self, texts: list[str], contexts: list[str | None] | None = None) -> dict[str, np.ndarray]:
        return linear_heads.predict_proba(self.heads, self.embed(texts, contexts), self.schema)

    def explain(self, texts, head_name, labels, top_k=5):
        from ..explain import occlusion

        return occlusion(partial(self.predict_proba, contexts=None), self.schema, texts, head_name, labels, top_k)


def load(run_dir: Path, schema: LabelSchema, quantize: str | None = None) -> EmbeddingsModel:
    from ..pretrained import resolve_base

    spec = json.loads((run_dir / ENCODER_FILE).read_text("utf-8"))
    path = resolve_base(spec["base"])
    digest = weights_digest(path)
    if digest != spec["weights_sha256"]:
        raise ValueError(f"base encoder {spec['base']!r} at {path} has other weights than the heads were fitted on "
                         f"(sha256 {digest[:12]} != {spec['weights_sha256'][:12]})")
    tokenizer, backbone = load_backbone(path)
    if quantize == "int8":
        backbone = load_int8(backbone, run_dir)
    heads = linear_heads.load(run_dir / HEADS_FILE, schema)["heads"]
    return EmbeddingsModel(tokenizer, backbone, heads, schema, EncodingOptions(**spec["options"]), spec["base"], digest)
