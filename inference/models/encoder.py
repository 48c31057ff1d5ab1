"""The fine-tuned transformer kind: one shared encoder, mean pooling, a softmax head per stance
target and a sigmoid head for frames.

Run folder files: ``encoder/`` (the fine-tuned encoder as safetensors plus its tokenizer files),
``heads.safetensors`` and ``encoder.json`` (head shapes and encoding options). Nothing is unpickled:
weights load from safetensors only.
"""
from __future__ import annotations

import json
from functools import partial
from pathlib import Path

import numpy as np

from data.schema import LabelSchema

from .encoding import EncodingOptions, approx_lengths, calibration_sample, length_batches, load_backbone, \
    load_int8, mean_pool, recording_input_ranges, save_int8_ranges, set_threads, tokenize

ENCODER_DIR = "encoder"
HEADS_FILE = "heads.safetensors"
SPEC_FILE = "encoder.json"


def build_net(backbone, schema: LabelSchema, dropout: float):
    """The torch module: backbone + pooled dropout + heads. Built here so training and serving agree."""
    import torch
    from torch import nn

    class EncoderNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.backbone = backbone
            hidden = backbone.config.hidden_size
            self.dropout = nn.Dropout(dropout)
            self.stance = nn.ModuleDict({f: nn.Linear(hidden, len(schema.stance_values)) for f in schema.stance_fields})
            self.frames = nn.Linear(hidden, max(len(schema.frames), 1))

        def forward(self, **batch) -> dict[str, torch.Tensor]:
            pooled = self.dropout(mean_pool(self.backbone(**batch).last_hidden_state, batch["attention_mask"]))
            logits = {f: head(pooled) for f, head in self.stance.items()}
            logits["frames"] = self.frames(pooled)[:, :len(schema.frames)]
            return logits

    return EncoderNet()


class EncoderModel:
    def __init__(self, net, tokenizer, schema: LabelSchema, opts: EncodingOptions, base: str, dropout: float):
        self.net, self.tokenizer, self.schema, self.opts, self.base, self.dropout = net, tokenizer, schema, opts, base, dropout
        self.uses_context = opts.context
        self.int8_ranges: dict | None = None

    def calibrate_int8(self, texts: list[str], contexts: list[str | None] | None = None) -> None:
        """Record the activation ranges that ``--quantize int8`` needs (call once training is done)."""
        with recording_input_ranges(self.net.backbone) as ranges:
            self.predict_proba(*calibration_sample(texts, contexts))
        self.int8_ranges = ranges

    def save(self, run_dir: Path) -> None:
        from safetensors.torch import save_file

        if self.int8_ranges is not None:
            save_int8_ranges(self.int8_ranges, run_dir)
        self.net.backbone.save_pretrained(run_dir / ENCODER_DIR, safe_serialization=True)
        self.tokenizer.save_pretrained(run_dir / ENCODER_DIR)
        heads = {k: v.detach().contiguous() for k, v in self.net.state_dict().items() if not k.startswith("backbone.")}
        save_file(heads, run_dir / HEADS_FILE)
        (run_dir / SPEC_FILE).write_text(json.dumps({
            "base": self.base, "dropout": self.dropout, "options": self.opts.to_dict(),
            "heads": {k: list(v.shape) for k, v in heads.items()}}, indent=2) + "\n")

    def logits(self, batch):
        return self.net(**batch)

    def predict_proba(self, texts: list[str], contexts: list[str | None] | None = None) -> dict[str, np.ndarray]:
        import torch

        set_threads()
        contexts = contexts if self.uses_context else None
        n = len(texts)
        out = {f: np.zeros((n, len(self.schema.stance_values)), dtype=np.float64) for f in self.schema.stance_fields}
        out["frames"] = np.zeros((n, len(self.schema.frames)), dtype=np.float64)
        self.net.eval()
        with torch.inference_mode():
            for idx in length_batches(approx_lengths(texts, contexts), self.opts.batch_size):
                batch = tokenize(self.tokenizer, [texts[i] for i in idx],
                                 None if contexts is None else [contexts[i] for i in idx], self.opts)
                logits = self.net(**batch)
                for f in self.schema.stance_fields:
                    out[f][idx] = torch.softmax(logits[f].float(), dim=-1).numpy()
                out["frames"][idx] = torch.sigmoid(logits["frames"].float()).numpy()
        return out

    def explain(self, texts, head_name, labels, top_k=5):
        from ..explain import occlusion

        return occlusion(partial(self.predict_proba, contexts=None), self.schema, texts, head_name, labels, top_k)


def load(run_dir: Path, schema: LabelSchema, quantize: str | None = None) -> EncoderModel:
    from safetensors.torch import load_file

    spec = json.loads((run_dir / SPEC_FILE).read_text("utf-8"))
    tokenizer, backbone = load_backbone(str(run_dir / ENCODER_DIR))
    net = build_net(backbone, schema, spec["dropout"])
    heads = load_file(run_dir / HEADS_FILE)
    expected = {k: list(v.shape) for k, v in net.state_dict().items() if not k.startswith("backbone.")}
    got = {k: list(v.shape) for k, v in heads.items()}
    if got != expected:
        raise ValueError(f"{run_dir / HEADS_FILE}: head shapes {got} disagree with the label schema {expected}")
    net.load_state_dict(heads, strict=False)
    net.eval()
    if quantize == "int8":
        net.backbone = load_int8(net.backbone, run_dir)
    return EncoderModel(net, tokenizer, schema, EncodingOptions(**spec["options"]), spec["base"], spec["dropout"])
