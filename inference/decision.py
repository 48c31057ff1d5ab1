"""From probabilities to labels: per-label decision thresholds, stored in the run folder.

A stance head predicts a polar label (favor, against) only when its probability reaches that
label's threshold, and the more probable of the qualifying labels wins; otherwise ``none``.
Frames are independent: a frame is on when its probability reaches its threshold. Thresholds
are tuned on dev at training time and can be re-tuned on a small labelled sample of the
user's own domain (``stanceframe calibrate``).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from data.schema import LabelSchema


@dataclass
class Thresholds:
    stance: dict[str, dict[str, float]] = field(default_factory=dict)  # field -> polar label -> threshold
    frames: dict[str, float] = field(default_factory=dict)

    @classmethod
    def default(cls, schema: LabelSchema) -> "Thresholds":
        return cls(
            stance={f: {v: 0.5 for v in schema.polar_values} for f in schema.stance_fields},
            frames={f: 0.5 for f in schema.frames},
        )

    def to_dict(self) -> dict:
        return {"stance": self.stance, "frames": self.frames}

    @classmethod
    def from_dict(cls, d: dict, schema: LabelSchema) -> "Thresholds":
        th = cls(stance=d["stance"], frames=d["frames"])
        expected = cls.default(schema)
        if {k: sorted(v) for k, v in th.stance.items()} != {k: sorted(v) for k, v in expected.stance.items()} \
                or sorted(th.frames) != sorted(expected.frames):
            raise ValueError("thresholds do not match the label schema")
        return th


def decide_stance(probs: np.ndarray, schema: LabelSchema, thresholds: dict[str, float]) -> np.ndarray:
    """Index into ``schema.stance_values`` per row, for probabilities of shape (n, n_values)."""
    none_idx = schema.stance_values.index(schema.none_label)
    scores = np.full(probs.shape, -np.inf)
    for j, value in enumerate(schema.stance_values):
        if value != schema.none_label:
            scores[:, j] = np.where(probs[:, j] >= thresholds[value], probs[:, j], -np.inf)
    best = scores.argmax(axis=1)
    return np.where(np.isfinite(scores.max(axis=1)), best, none_idx)


def decide_frames(probs: np.ndarray, schema: LabelSchema, thresholds: dict[str, float]) -> np.ndarray:
    """Boolean matrix (n, n_frames)."""
    cut = np.array([thresholds[f] for f in schema.frames])
    return probs >= cut
