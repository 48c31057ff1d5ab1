"""Tune per-label decision thresholds on labelled sentences (dev, or a user's own sample).

Stance: a grid over (favor, against) thresholds maximising F_avg. Frames: one grid per frame
maximising its F1. Ties go to the higher threshold: when unsure, say ``none`` (codebook rule 6).

The grid optimum on a thousand dev sentences is noisy: four corpus labels changed moved the
baseline's sovereignty threshold from 0.50 to 0.35. With ``rounds``, ``tune`` returns the mean of
the optima on that many bootstrap resamples of whole articles (bagging), which moves by 0.01-0.03.

On a small sample the grid optimum is mostly noise (on 160 real sentences it lost 3 to 7 points of
F_avg out of sample against the thresholds tuned on dev), so ``cross_validated`` re-tunes a head only
where that beats the current thresholds on held-out articles.
"""
from __future__ import annotations

import zlib

import numpy as np

from data.records import SentenceRecord
from data.schema import LabelSchema
from inference.decision import Thresholds, decide_stance

GRID = np.round(np.arange(0.15, 0.951, 0.05), 2)


def _f1(gold: np.ndarray, pred: np.ndarray) -> float:
    tp = int(np.sum(gold & pred))
    denom = int(np.sum(gold)) + int(np.sum(pred))
    return 2 * tp / denom if denom else 0.0


def _f_avg(gold: np.ndarray, pred: np.ndarray, polar: list[int]) -> float:
    return float(np.mean([_f1(gold == v, pred == v) for v in polar]))


def _stance_gold(records: list[SentenceRecord], schema: LabelSchema, target: str) -> np.ndarray:
    return np.array([schema.stance_values.index(r.stances[target]) for r in records], dtype=int)


def _polar(schema: LabelSchema) -> list[int]:
    return [schema.stance_values.index(v) for v in schema.polar_values]


def tune(probs: dict[str, np.ndarray], records: list[SentenceRecord], schema: LabelSchema,
         rounds: int = 0, seed: int = 0) -> Thresholds:
    """The grid optimum per head on ``records``; with ``rounds``, its mean over that many bootstrap
    resamples of whole articles (``SentenceRecord.group``), rounded to 0.01."""
    if not rounds:
        return _grid_optimum(probs, records, schema)
    groups: dict[str, list[int]] = {}
    for i, r in enumerate(records):
        groups.setdefault(r.group, []).append(i)
    members = list(groups.values())
    rng = np.random.default_rng(seed)
    optima = []
    for _ in range(rounds):
        rows = np.array([i for k in rng.integers(0, len(members), len(members)) for i in members[k]])
        optima.append(_grid_optimum({h: p[rows] for h, p in probs.items()}, [records[i] for i in rows], schema))
    return Thresholds(
        stance={f: {v: round(float(np.mean([o.stance[f][v] for o in optima])), 2) for v in optima[0].stance[f]}
                for f in schema.stance_fields},
        frames={fr: round(float(np.mean([o.frames[fr] for o in optima])), 2) for fr in schema.frames})


def _grid_optimum(probs: dict[str, np.ndarray], records: list[SentenceRecord], schema: LabelSchema) -> Thresholds:
    th = Thresholds.default(schema)
    polar = schema.polar_values
    for target, f in zip(schema.targets, schema.stance_fields):
        gold = _stance_gold(records, schema, target)
        best = (-1.0, ())
        for combo in np.array(np.meshgrid(*[GRID] * len(polar))).T.reshape(-1, len(polar)):
            pred = decide_stance(probs[f], schema, dict(zip(polar, map(float, combo))))
            score = _f_avg(gold, pred, _polar(schema))
            if score > best[0] + 1e-9 or (abs(score - best[0]) <= 1e-9 and tuple(combo) > best[1]):
                best = (score, tuple(combo))
        th.stance[f] = dict(zip(polar, map(float, best[1])))
    for j, frame in enumerate(schema.frames):
        gold = np.array([frame in r.frames for r in records])
        best_score, best_t = -1.0, 0.5
        for t in GRID:
            score = _f1(gold, probs["frames"][:, j] >= t)
            if score >= best_score - 1e-9:
                best_score, best_t = max(score, best_score), float(t)
        th.frames[frame] = best_t
    return th


def head_scores(probs: dict[str, np.ndarray], records: list[SentenceRecord], schema: LabelSchema,
                th: Thresholds) -> dict[str, float]:
    """F_avg of each stance head and F1 of each frame under thresholds ``th``."""
    stance = {f: decide_stance(probs[f], schema, th.stance[f]) for f in schema.stance_fields}
    return _scores(records, schema, stance, probs["frames"] >= np.array([th.frames[fr] for fr in schema.frames]))


def _scores(records: list[SentenceRecord], schema: LabelSchema, stance: dict[str, np.ndarray],
            frames: np.ndarray) -> dict[str, float]:
    """Per head, the score of decisions (stance value indices, a frames boolean matrix) against gold."""
    out = {f: _f_avg(_stance_gold(records, schema, t), stance[f], _polar(schema))
           for t, f in zip(schema.targets, schema.stance_fields)}
    for j, frame in enumerate(schema.frames):
        out[f"frame {frame}"] = _f1(np.array([frame in r.frames for r in records]), frames[:, j])
    return out


def cross_validated(probs: dict[str, np.ndarray], records: list[SentenceRecord], schema: LabelSchema,
                    current: Thresholds, folds: int = 5) -> tuple[Thresholds, dict[str, dict]]:
    """Per head (each stance target, each frame), keep ``current`` unless thresholds re-tuned on the
    other folds score better on the held-out fold. Folds are whole articles (a standalone sentence is
    its own article), assigned by a hash of the article id. Returns the chosen thresholds (re-tuned on
    the whole sample where re-tuning won) and, per head, both held-out scores and the choice."""
    fold_of = np.array([zlib.crc32(r.group.encode("utf-8")) % folds for r in records])
    fold_thresholds = {}
    for k in sorted(set(fold_of.tolist())):
        rest = np.flatnonzero(fold_of != k)
        fold_thresholds[k] = tune({h: p[rest] for h, p in probs.items()}, [records[i] for i in rest], schema) \
            if len(rest) else current
    retuned = _held_out_scores(probs, records, schema, fold_of, fold_thresholds)
    kept = head_scores(probs, records, schema, current)
    whole = tune(probs, records, schema)
    chosen = Thresholds(stance={f: dict(v) for f, v in current.stance.items()}, frames=dict(current.frames))
    report = {}
    for head, score in kept.items():
        won = retuned[head] > score + 1e-9
        report[head] = {"current": round(score, 4), "retuned": round(retuned[head], 4), "kept": "retuned" if won else "current"}
        if won and head in chosen.stance:
            chosen.stance[head] = dict(whole.stance[head])
        elif won:
            frame = head.removeprefix("frame ")
            chosen.frames[frame] = whole.frames[frame]
    return chosen, report


def _held_out_scores(probs, records, schema: LabelSchema, fold_of: np.ndarray, fold_thresholds: dict) -> dict[str, float]:
    """Scores of the decisions each fold's re-tuned thresholds make on that fold, pooled over folds."""
    stance = {f: np.empty(len(records), dtype=int) for f in schema.stance_fields}
    frames = np.empty((len(records), len(schema.frames)), dtype=bool)
    for k, th in fold_thresholds.items():
        rows = fold_of == k
        for f in schema.stance_fields:
            stance[f][rows] = decide_stance(probs[f][rows], schema, th.stance[f])
        frames[rows] = probs["frames"][rows] >= np.array([th.frames[fr] for fr in schema.frames])
    return _scores(records, schema, stance, frames)
