"""Shared transformer plumbing: tokenise (optionally with the previous sentence as a text pair),
batch by length, mean-pool. Used by the frozen-embeddings kind and the fine-tuned encoder kind, at
training and at serving time, so both see exactly the same inputs.
"""
from __future__ import annotations

import os
import warnings
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
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


INT8_RANGES_FILE = "int8_ranges.safetensors"
CALIBRATION_SENTENCES = 512
SMOOTHING_ALPHA = 0.9  # chosen on dev: 0.5-0.6 lose 4-20 points, 0.7-1.0 about one or less


def calibration_sample(texts: list[str], contexts: list[str | None] | None):
    """An even spread of at most ``CALIBRATION_SENTENCES`` texts and their contexts (deterministic)."""
    step = max(1, len(texts) // CALIBRATION_SENTENCES)
    pick = slice(0, step * CALIBRATION_SENTENCES, step)
    return texts[pick], None if contexts is None else contexts[pick]


@contextmanager
def recording_input_ranges(module) -> Iterator[dict]:
    """Inside the block, the dict fills with the per-input-channel absolute maxima of every ``nn.Linear``
    input of ``module``: the statistics int8 quantisation needs to tame activation outliers."""
    import torch

    ranges: dict[str, torch.Tensor] = {}

    def hook(name):
        def record(_mod, inputs, _out):
            x = inputs[0].detach()
            peak = x.abs().reshape(-1, x.shape[-1]).amax(0).float()
            ranges[name] = torch.maximum(ranges[name], peak) if name in ranges else peak
        return record

    handles = [m.register_forward_hook(hook(n)) for n, m in module.named_modules() if isinstance(m, torch.nn.Linear)]
    try:
        yield ranges
    finally:
        for h in handles:
            h.remove()


def save_int8_ranges(ranges: dict, run_dir) -> None:
    from safetensors.torch import save_file

    save_file({k: v.contiguous() for k, v in ranges.items()}, Path(run_dir) / INT8_RANGES_FILE)


def load_int8(module, run_dir):
    """``module`` quantised with the calibration ranges saved in ``run_dir``."""
    from safetensors.torch import load_file

    path = Path(run_dir) / INT8_RANGES_FILE
    if not path.is_file():
        raise ValueError(f"{run_dir}: no {INT8_RANGES_FILE}, so no int8 calibration; retrain the run with this version")
    return quantize_int8(module, load_file(path))


def quantize_int8(module, ranges: dict):
    """Dynamic int8, in place, for every ``nn.Linear`` of ``module`` (all need calibration ranges):
    weights per output channel, and SmoothQuant-style migration (inputs divided by s, weight columns
    multiplied by s, with s = a^alpha / w^(1 - alpha)) so that per-tensor activation quantisation does
    not crush the few outlier channels of BERT-like encoders. Plain per-tensor int8 lost 6-14 F_avg
    points here."""
    import torch

    class Smoothed(torch.nn.Module):
        def __init__(self, linear, scale):
            super().__init__()
            self.register_buffer("inverse", 1.0 / scale)
            self.linear = linear

        def forward(self, x):
            return self.linear(x * self.inverse)

    missing = [n for n, m in module.named_modules() if isinstance(m, torch.nn.Linear) and n not in ranges]
    if missing:
        raise ValueError(f"no int8 calibration ranges for {missing[:3]}: the run predates them or its model changed")
    for name, peak in ranges.items():
        parent_name, _, child = name.rpartition(".")
        parent = module.get_submodule(parent_name)
        linear = getattr(parent, child)
        w = linear.weight.detach().abs().amax(0).clamp(min=1e-5)
        scale = (peak.clamp(min=1e-5) ** SMOOTHING_ALPHA / w ** (1 - SMOOTHING_ALPHA)).clamp(min=1e-5)
        with torch.no_grad():
            linear.weight.mul_(scale)
        setattr(parent, child, Smoothed(linear, scale))
    spec = {n: torch.ao.quantization.per_channel_dynamic_qconfig
            for n, m in module.named_modules() if isinstance(m, torch.nn.Linear)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.ao's deprecation notice points users at torchao
        return torch.ao.quantization.quantize_dynamic(module, spec, inplace=True)


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
