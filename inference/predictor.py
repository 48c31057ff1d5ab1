"""The one predictor that serves, scores and is evaluated: load a run folder, predict sentences."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from data.schema import LabelSchema
from data.sentences import model_text

from . import runfolder
from .decision import Thresholds, decide_frames, decide_stance
from .models import kind_module


@dataclass
class Prediction:
    """Labels of one sentence. ``stances`` maps a stance field (``stance_west``) to its value."""

    stances: dict[str, str]
    frames: list[str]
    probabilities: dict[str, dict[str, float]]
    explanation: dict[str, dict[str, list[tuple[str, float]]]] | None = field(default=None)

    def to_json(self) -> dict:
        row = {**self.stances, "frames": self.frames, "probabilities": self.probabilities}
        if self.explanation is not None:
            row["explanation"] = {h: {lab: [[w, s] for w, s in words] for lab, words in per.items()}
                                  for h, per in self.explanation.items()}
        return row


class Predictor:
    """``Predictor.load(run_dir)`` then ``predict([...])`` or ``score_articles(...)``."""

    def __init__(self, model, schema: LabelSchema, thresholds: Thresholds, kind: str, run_dir: Path | None = None,
                 uses_context: bool = False, quantize: str | None = None):
        self.model = model
        self.schema = schema
        self.thresholds = thresholds
        self.kind = kind
        self.run_dir = run_dir
        self.uses_context = uses_context
        self.quantize = quantize

    @classmethod
    def load(cls, run_dir: str | Path, quantize: str | None = None) -> "Predictor":
        """Verify and load a run folder; ``quantize="int8"`` quantises a transformer kind on load."""
        run_dir = Path(run_dir)
        manifest = runfolder.verify(run_dir)
        try:
            schema = runfolder.read_schema(run_dir)
            thresholds = Thresholds.from_dict(json.loads((run_dir / runfolder.THRESHOLDS).read_text("utf-8")), schema)
            model = kind_module(manifest["kind"]).load(run_dir, schema, quantize=quantize)
        except (ValueError, KeyError, OSError) as exc:
            raise runfolder.RunFolderError(f"{run_dir}: {exc}") from None
        return cls(model, schema, thresholds, manifest["kind"], run_dir, getattr(model, "uses_context", False), quantize)

    def predict_proba(self, texts: list[str], contexts: list[str | None] | None = None,
                      batch_size: int = 512) -> dict[str, np.ndarray]:
        """Probabilities per head: stance heads (n, n_values) in schema order, frames (n, n_frames)."""
        texts = [model_text(t) for t in texts]
        contexts = [None if c is None else model_text(c) for c in contexts] if contexts is not None else None
        parts = [self.model.predict_proba(texts[i:i + batch_size], None if contexts is None else contexts[i:i + batch_size])
                 for i in range(0, len(texts), batch_size)]
        if not parts:
            return {h: np.zeros((0, len(self.schema.stance_values) if h != "frames" else len(self.schema.frames)))
                    for h in self.schema.heads}
        return {h: np.concatenate([p[h] for p in parts]) for h in self.schema.heads}

    def predict(self, texts: Iterable[str], contexts: list[str | None] | None = None, explain: bool = False,
                batch_size: int = 512) -> list[Prediction]:
        """Typed predictions in input order. ``contexts`` holds each sentence's previous sentence, if any."""
        texts = list(texts)
        preds = self.decide(self.predict_proba(texts, contexts, batch_size))
        if explain:
            self._attach_explanations(texts, preds)
        return preds

    def decide(self, probs: dict[str, np.ndarray]) -> list[Prediction]:
        """Predictions from the probabilities ``predict_proba`` gave, under the current thresholds."""
        s = self.schema
        stance_idx = {f: decide_stance(probs[f], s, self.thresholds.stance[f]) for f in s.stance_fields}
        frame_on = decide_frames(probs["frames"], s, self.thresholds.frames)
        preds = []
        for i in range(len(probs["frames"])):
            prob_json = {f: {v: round(float(probs[f][i, j]), 6) for j, v in enumerate(s.stance_values)} for f in s.stance_fields}
            prob_json["frames"] = {fr: round(float(probs["frames"][i, j]), 6) for j, fr in enumerate(s.frames)}
            preds.append(Prediction(
                stances={f: s.stance_values[stance_idx[f][i]] for f in s.stance_fields},
                frames=[fr for j, fr in enumerate(s.frames) if frame_on[i, j]],
                probabilities=prob_json,
            ))
        return preds

    def _attach_explanations(self, texts: list[str], preds: list[Prediction], top_k: int = 5) -> None:
        """Words behind every predicted label (polar stances and frames that are on)."""
        requests: dict[tuple[str, str], list[int]] = {}
        for i, p in enumerate(preds):
            p.explanation = {}
            for f, v in p.stances.items():
                if v != self.schema.none_label:
                    requests.setdefault((f, v), []).append(i)
            for fr in p.frames:
                requests.setdefault(("frames", fr), []).append(i)
        for (head, label), rows in requests.items():
            words = self.model.explain([model_text(texts[i]) for i in rows], head, [label] * len(rows), top_k)
            for i, w in zip(rows, words):
                preds[i].explanation.setdefault(head, {})[label] = w

    def score_articles(self, articles: Iterable, batch_size: int = 64) -> Iterator:
        """Score articles (``ArticleInput``, dicts with ``id`` and ``text``, or plain strings) in batches;
        yields one :class:`~inference.scoring.ArticleResult` per article, in order."""
        from .scoring import as_article_inputs, score_batch

        batch = []
        for article in as_article_inputs(articles):
            batch.append(article)
            if len(batch) >= batch_size:
                yield from score_batch(self, batch)
                batch = []
        if batch:
            yield from score_batch(self, batch)
