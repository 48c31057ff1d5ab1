"""Fit each member of an ensemble with its own kind's fitter (``inference.models.ensemble``)."""
from __future__ import annotations

from importlib import import_module

from data.records import SentenceRecord
from data.schema import LabelSchema
from inference.models.ensemble import EnsembleModel

from .config import EnsembleConfig


def fit(train: list[SentenceRecord], dev: list[SentenceRecord], cfg: EnsembleConfig, schema: LabelSchema,
        seed: int) -> EnsembleModel:
    from .train import FITTERS

    members = [(m.model.kind, import_module(FITTERS[m.model.kind]).fit(train, dev, m.model, schema, seed))
               for m in cfg.members]
    return EnsembleModel(members, [m.weight for m in cfg.members], schema)
