"""Fine-tune the transformer kind (``inference.models.encoder``) on the corpus.

AdamW with linear warm-up and decay; class-weighted cross-entropy for stances and positive-weighted
BCE for frames (rare labels); length-bucketed batches; early stopping on a dev score; seeded, so a
CPU run is reproducible. Embeddings and the lowest layers can stay frozen to halve the cost.
"""
from __future__ import annotations

import copy
import random
import time

import numpy as np

from data.records import SentenceRecord
from data.schema import LabelSchema
from inference.models.encoder import EncoderModel, build_net
from inference.models.encoding import EncodingOptions, load_backbone, set_threads, tokenize
from inference.pretrained import resolve_base

from .config import EncoderConfig
from .evaluate import previous_sentences


def _class_weights(labels: list[int], n: int, power: float):
    import torch

    counts = np.bincount(labels, minlength=n).astype(float) + 1.0
    w = (counts.sum() / counts) ** power
    return torch.tensor(w / w.mean(), dtype=torch.float32)


def _freeze(backbone, layers: int, embeddings: bool) -> None:
    if embeddings:
        for p in backbone.embeddings.parameters():
            p.requires_grad = False
    for layer in backbone.encoder.layer[:layers]:
        for p in layer.parameters():
            p.requires_grad = False


def _batches(lengths: list[int], batch_size: int, rng: random.Random) -> list[list[int]]:
    """Shuffle, then sort within pools of 50 batches by length, then shuffle the batches."""
    order = list(range(len(lengths)))
    rng.shuffle(order)
    pool = batch_size * 50
    batches = []
    for i in range(0, len(order), pool):
        chunk = sorted(order[i:i + pool], key=lambda j: lengths[j])
        batches.extend(chunk[k:k + batch_size] for k in range(0, len(chunk), batch_size))
    rng.shuffle(batches)
    return batches


def _dev_score(model: EncoderModel, dev: list[SentenceRecord], contexts, schema: LabelSchema) -> float:
    """Mean of stance F_avg (argmax) and frames micro-F1 (0.5): the early-stopping criterion."""
    from sklearn.metrics import f1_score

    probs = model.predict_proba([r.text for r in dev], contexts)
    scores = []
    for t, f in zip(schema.targets, schema.stance_fields):
        pred = [schema.stance_values[i] for i in probs[f].argmax(1)]
        scores.append(f1_score([r.stances[t] for r in dev], pred, labels=list(schema.polar_values), average="macro", zero_division=0))
    gold = np.array([[fr in r.frames for fr in schema.frames] for r in dev])
    scores.append(f1_score(gold, probs["frames"] >= 0.5, average="micro", zero_division=0))
    return float(np.mean(scores))


def fit(train: list[SentenceRecord], dev: list[SentenceRecord], cfg: EncoderConfig, schema: LabelSchema, seed: int,
        log=print) -> EncoderModel:
    import torch
    from transformers import get_linear_schedule_with_warmup

    set_threads()
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    rng = random.Random(seed)
    tokenizer, backbone = load_backbone(resolve_base(cfg.base))
    _freeze(backbone, cfg.freeze_layers, cfg.freeze_embeddings)
    net = build_net(backbone, schema, cfg.dropout)
    opts = EncodingOptions(max_length=cfg.max_length, prefix=cfg.prefix, context=cfg.context, batch_size=cfg.eval_batch_size)
    model = EncoderModel(net, tokenizer, schema, opts, cfg.base, cfg.dropout)

    texts = [r.text for r in train]
    contexts = previous_sentences(train) if cfg.context else None
    dev_contexts = previous_sentences(dev) if cfg.context else None
    y = {f: torch.tensor([schema.stance_values.index(r.stances[t]) for r in train])
         for t, f in zip(schema.targets, schema.stance_fields)}
    y_frames = torch.tensor([[float(fr in r.frames) for fr in schema.frames] for r in train])
    ce = {f: torch.nn.CrossEntropyLoss(weight=_class_weights(y[f].tolist(), len(schema.stance_values), cfg.class_weight_power))
          for f in schema.stance_fields}
    pos = y_frames.sum(0).clamp(min=1.0)
    bce = torch.nn.BCEWithLogitsLoss(pos_weight=((len(train) - pos) / pos).clamp(max=cfg.max_pos_weight))

    heads = [p for n, p in net.named_parameters() if not n.startswith("backbone.")]
    body = [p for n, p in net.named_parameters() if n.startswith("backbone.") and p.requires_grad]
    optim = torch.optim.AdamW([{"params": body, "lr": cfg.lr}, {"params": heads, "lr": cfg.head_lr}],
                              weight_decay=cfg.weight_decay)
    lengths = [len(t) + (len(c or "") if contexts else 0) for t, c in zip(texts, contexts or texts)]
    steps = cfg.epochs * -(-len(train) // cfg.batch_size)
    sched = get_linear_schedule_with_warmup(optim, int(cfg.warmup_ratio * steps), steps)

    best_score, best_state, bad_epochs = -1.0, None, 0
    for epoch in range(cfg.epochs):
        net.train()
        started, total = time.perf_counter(), 0.0
        for idx in _batches(lengths, cfg.batch_size, rng):
            batch = tokenize(tokenizer, [texts[i] for i in idx], None if contexts is None else [contexts[i] for i in idx], opts)
            logits = net(**batch)
            loss = sum(ce[f](logits[f], y[f][idx]) for f in schema.stance_fields) + bce(logits["frames"], y_frames[idx])
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            optim.step()
            sched.step()
            optim.zero_grad()
            total += float(loss.detach()) * len(idx)
        score = _dev_score(model, dev, dev_contexts, schema)
        log(f"epoch {epoch + 1}: loss {total / len(train):.4f}, dev score {score:.4f}, {time.perf_counter() - started:.0f}s")
        if score > best_score:
            best_score, best_state, bad_epochs = score, copy.deepcopy(net.state_dict()), 0
        else:
            bad_epochs += 1
            if bad_epochs > cfg.patience:
                log(f"early stop after epoch {epoch + 1}")
                break
    net.load_state_dict(best_state)
    net.eval()
    model.calibrate_int8(texts, contexts)
    return model
