"""A weighted mean of the probabilities of several member models of other kinds, e.g. the TF-IDF
baseline (strong on the words of stance) with frozen embeddings (strong on paraphrase and framing).

Each member lives in ``members/<i>-<kind>/`` of the run folder, in its own kind's files; the run's
manifest covers them. The run's thresholds are tuned on the mixed probabilities, so what is served
is what was measured. Explanations are by occlusion of the mixture: the words whose removal lowers
the ensemble's own probability of the label most.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from data.schema import LabelSchema

SPEC_FILE = "ensemble.json"
MEMBERS_DIR = "members"
_QUANTIZABLE = frozenset({"embeddings", "encoder"})


class EnsembleModel:
    def __init__(self, members: list[tuple[str, object]], weights: list[float], schema: LabelSchema):
        self.members = members          # (kind, model) pairs
        self.weights = weights
        self.schema = schema
        self.uses_context = any(getattr(m, "uses_context", False) for _, m in members)

    def save(self, run_dir: Path) -> None:
        spec = []
        for i, ((kind, model), weight) in enumerate(zip(self.members, self.weights)):
            folder = Path(MEMBERS_DIR) / f"{i}-{kind}"
            (run_dir / folder).mkdir(parents=True)
            model.save(run_dir / folder)
            spec.append({"kind": kind, "weight": weight, "folder": folder.as_posix()})
        (run_dir / SPEC_FILE).write_text(json.dumps({"members": spec}, indent=2) + "\n", encoding="utf-8")

    def predict_proba(self, texts: list[str], contexts: list[str | None] | None = None) -> dict[str, np.ndarray]:
        total = float(sum(self.weights))
        mixed: dict[str, np.ndarray] = {}
        for (_, model), weight in zip(self.members, self.weights):
            probs = model.predict_proba(texts, contexts if getattr(model, "uses_context", False) else None)
            for head, p in probs.items():
                mixed[head] = mixed.get(head, 0) + (weight / total) * p
        return mixed

    def explain(self, texts: list[str], head_name: str, labels: list[str], top_k: int = 5) -> list[list[tuple[str, float]]]:
        from ..explain import occlusion

        return occlusion(self.predict_proba, self.schema, texts, head_name, labels, top_k)


def load(run_dir: Path, schema: LabelSchema, quantize: str | None = None) -> EnsembleModel:
    from . import kind_module

    spec = json.loads((run_dir / SPEC_FILE).read_text("utf-8"))["members"]
    if quantize and not any(m["kind"] in _QUANTIZABLE for m in spec):
        raise ValueError("quantisation applies to transformer kinds, and this ensemble has none")
    members = [(m["kind"], kind_module(m["kind"]).load(run_dir / m["folder"], schema,
                                                        quantize if m["kind"] in _QUANTIZABLE else None))
               for m in spec]
    return EnsembleModel(members, [float(m["weight"]) for m in spec], schema)
