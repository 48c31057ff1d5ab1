"""Metrics through the serving Predictor: what is measured is what is served.

Per stance target: precision, recall and F1 per label, ``F_avg`` (mean F1 of the polar labels,
as SemEval-2016 Task 6) and macro-F1. Frames: micro- and macro-F1 and per-frame scores. All of
it overall and by language.
"""
from __future__ import annotations

import numpy as np
from sklearn.metrics import precision_recall_fscore_support

from data.records import SentenceRecord
from data.schema import LabelSchema
from inference.predictor import Prediction, Predictor


def _per_label(gold, pred, labels) -> dict:
    p, r, f, s = precision_recall_fscore_support(gold, pred, labels=labels, average=None, zero_division=0)
    return {lab: {"precision": round(float(p[i]), 4), "recall": round(float(r[i]), 4), "f1": round(float(f[i]), 4),
                  "support": int(s[i])} for i, lab in enumerate(labels)}


def metrics_of(records: list[SentenceRecord], preds: list[Prediction], schema: LabelSchema) -> dict:
    out: dict = {"n": len(records)}
    for target, f in zip(schema.targets, schema.stance_fields):
        gold = [r.stances[target] for r in records]
        pred = [p.stances[f] for p in preds]
        labels = _per_label(gold, pred, list(schema.stance_values))
        out[f] = {
            "labels": labels,
            "F_avg": round(float(np.mean([labels[v]["f1"] for v in schema.polar_values])), 4),
            "macro_f1": round(float(np.mean([labels[v]["f1"] for v in schema.stance_values])), 4),
            "accuracy": round(float(np.mean([g == q for g, q in zip(gold, pred)])) if gold else 0.0, 4),
        }
    gold_m = np.array([[fr in r.frames for fr in schema.frames] for r in records], dtype=bool).reshape(len(records), -1)
    pred_m = np.array([[fr in p.frames for fr in schema.frames] for p in preds], dtype=bool).reshape(len(preds), -1)
    per = {}
    for j, fr in enumerate(schema.frames):
        p, r, f, _ = precision_recall_fscore_support(gold_m[:, j], pred_m[:, j], average="binary", zero_division=0)
        per[fr] = {"precision": round(float(p), 4), "recall": round(float(r), 4), "f1": round(float(f), 4),
                   "support": int(gold_m[:, j].sum()), "predicted": int(pred_m[:, j].sum())}
    tp, fp, fn = (gold_m & pred_m).sum(), (~gold_m & pred_m).sum(), (gold_m & ~pred_m).sum()
    micro_p = tp / (tp + fp) if tp + fp else 0.0
    micro_r = tp / (tp + fn) if tp + fn else 0.0
    out["frames"] = {
        "micro_f1": round(float(2 * micro_p * micro_r / (micro_p + micro_r)) if micro_p + micro_r else 0.0, 4),
        "micro_precision": round(float(micro_p), 4), "micro_recall": round(float(micro_r), 4),
        "macro_f1": round(float(np.mean([per[fr]["f1"] for fr in schema.frames])) if per else 0.0, 4),
        "labels": per,
    }
    return out


def evaluate(predictor: Predictor, records: list[SentenceRecord], probs: dict | None = None) -> dict:
    """Metrics overall and per language, using article context where the predictor uses it;
    ``probs`` (from ``predict_proba`` on these records) saves predicting them again."""
    if probs is None:
        contexts = previous_sentences(records) if predictor.uses_context else None
        probs = predictor.predict_proba([r.text for r in records], contexts)
    preds = predictor.decide(probs)
    result = metrics_of(records, preds, predictor.schema)
    result["by_lang"] = {}
    for lang in sorted({r.lang for r in records}):
        idx = [i for i, r in enumerate(records) if r.lang == lang]
        result["by_lang"][lang] = metrics_of([records[i] for i in idx], [preds[i] for i in idx], predictor.schema)
    return result


def previous_sentences(records: list[SentenceRecord]) -> list[str | None]:
    """The previous sentence of the same article for each record (None for standalone or first)."""
    by_pos = {(r.article, r.index): r.text for r in records if r.article is not None}
    return [by_pos.get((r.article, r.index - 1)) if r.article is not None else None for r in records]


def summary_table(metrics: dict, schema: LabelSchema) -> list[tuple[str, ...]]:
    """Rows (scope, n, F_avg per target, frames micro/macro F1) for terminal display."""
    rows = []
    for scope, m in [("all", metrics), *metrics.get("by_lang", {}).items()]:
        rows.append((scope, str(m["n"]), *[f"{m[f]['F_avg']:.3f}" for f in schema.stance_fields],
                     f"{m['frames']['micro_f1']:.3f}", f"{m['frames']['macro_f1']:.3f}"))
    return rows
