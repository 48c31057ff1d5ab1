"""Tune per-label decision thresholds on labelled sentences (dev, or a user's own sample).

Stance: a grid over (favor, against) thresholds maximising F_avg. Frames: one grid per frame
maximising its F1. Ties go to the higher threshold: when unsure, say ``none`` (codebook rule 6).
"""
from __future__ import annotations

import numpy as np
from sklearn.metrics import f1_score

from data.records import SentenceRecord
from data.schema import LabelSchema
from inference.decision import Thresholds, decide_stance

GRID = np.round(np.arange(0.15, 0.951, 0.05), 2)


def _f_avg(gold: list[str], pred: list[str], polar: tuple[str, ...]) -> float:
    return float(np.mean(f1_score(gold, pred, labels=list(polar), average=None, zero_division=0)))


def tune(probs: dict[str, np.ndarray], records: list[SentenceRecord], schema: LabelSchema) -> Thresholds:
    th = Thresholds.default(schema)
    polar = schema.polar_values
    for target, f in zip(schema.targets, schema.stance_fields):
        gold = [r.stances[target] for r in records]
        best = (-1.0, ())
        for combo in np.array(np.meshgrid(*[GRID] * len(polar))).T.reshape(-1, len(polar)):
            cand = dict(zip(polar, map(float, combo)))
            pred = [schema.stance_values[i] for i in decide_stance(probs[f], schema, cand)]
            score = _f_avg(gold, pred, polar)
            if score > best[0] + 1e-9 or (abs(score - best[0]) <= 1e-9 and tuple(combo) > best[1]):
                best = (score, tuple(combo))
        th.stance[f] = dict(zip(polar, map(float, best[1])))
    for j, frame in enumerate(schema.frames):
        gold = np.array([frame in r.frames for r in records])
        best_score, best_t = -1.0, 0.5
        for t in GRID:
            score = f1_score(gold, probs["frames"][:, j] >= t, zero_division=0)
            if score >= best_score - 1e-9:
                best_score, best_t = max(score, best_score), float(t)
        th.frames[frame] = best_t
    return th
