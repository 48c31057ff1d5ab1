"""scikit-learn linear heads shared by the TF-IDF and frozen-embedding kinds: one multiclass
logistic regression per stance target and one binary one per frame, stored with skops under an
explicit trusted-types list (never pickle)."""
from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from data.schema import LabelSchema

TRUSTED_TYPES = [
    "builtins.dict",
    "builtins.list",
    "numpy.float64",
    "numpy.dtype",
    "scipy.sparse._csr.csr_matrix",
    "sklearn.feature_extraction.text.TfidfTransformer",
    "sklearn.feature_extraction.text.TfidfVectorizer",
    "sklearn.linear_model._logistic.LogisticRegression",
    "sklearn.pipeline.FeatureUnion",
]


def fit_heads(X, train, schema: LabelSchema, C: float, class_weight: str | None, max_iter: int, seed: int) -> dict:
    from sklearn.linear_model import LogisticRegression

    def head(y):
        return LogisticRegression(C=C, class_weight=class_weight, max_iter=max_iter, random_state=seed).fit(X, y)

    heads: dict = {f: head([r.stances[t] for r in train]) for t, f in zip(schema.targets, schema.stance_fields)}
    heads["frames"] = [head([int(frame in r.frames) for r in train]) for frame in schema.frames]
    return heads


def predict_proba(heads: dict, X, schema: LabelSchema) -> dict[str, np.ndarray]:
    """Stance probabilities in schema order (a value never seen in training gets 0); frame probabilities."""
    n = X.shape[0]
    probs = {}
    for f in schema.stance_fields:
        raw = heads[f].predict_proba(X)
        out = np.zeros((n, len(schema.stance_values)))
        for j, cls in enumerate(heads[f].classes_):
            out[:, schema.stance_values.index(cls)] = raw[:, j]
        probs[f] = out
    probs["frames"] = np.column_stack([h.predict_proba(X)[:, 1] for h in heads["frames"]]) if schema.frames \
        else np.zeros((n, 0))
    return probs


def direction(heads: dict, schema: LabelSchema, head_name: str, label: str) -> np.ndarray:
    """Weight vector pushing towards ``label`` (for a softmax head: relative to the mean class)."""
    if head_name == "frames":
        return heads["frames"][schema.frames.index(label)].coef_[0]
    head = heads[head_name]
    j = list(head.classes_).index(label)
    return head.coef_[j] - head.coef_.mean(axis=0)


def save(obj: dict, path: Path) -> None:
    import skops.io as sio

    sio.dump(obj, path, compression=zipfile.ZIP_DEFLATED, compresslevel=6)


def load(path: Path, schema: LabelSchema) -> dict:
    """Load a skops file holding ``{"heads": ..., ...}``, refusing any type outside the trusted list,
    and check the heads against the label schema."""
    import skops.io as sio

    try:
        obj = sio.load(path, trusted=TRUSTED_TYPES)
    except sio.exceptions.UntrustedTypesFoundException as exc:
        raise ValueError(f"{path}: refuses to load types outside the trusted list: {exc}") from None
    heads = obj["heads"]
    if sorted(k for k in heads if k != "frames") != sorted(schema.stance_fields) or len(heads["frames"]) != len(schema.frames):
        raise ValueError(f"{path}: model heads {sorted(heads)} (frames: {len(heads['frames'])}) disagree with the label schema")
    for f in schema.stance_fields:
        unknown = set(heads[f].classes_) - set(schema.stance_values)
        if unknown:
            raise ValueError(f"{path}: head {f} predicts {sorted(unknown)}, not in the label schema")
    return obj
