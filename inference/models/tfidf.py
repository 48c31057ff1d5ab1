"""The TF-IDF baseline: word and character n-grams, one linear head per stance target and one
binary linear head per frame, stored with skops under an explicit trusted-types list."""
from __future__ import annotations

import re
import zipfile
from collections import defaultdict
from pathlib import Path

import numpy as np

from data.schema import LabelSchema

MODEL_FILE = "model.skops"
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
_WORD = re.compile(r"\w+", re.UNICODE)


class TfidfModel:
    """Holds the fitted feature union and heads; ``heads[field]`` is a classifier, ``heads["frames"]`` a list."""

    def __init__(self, features, heads: dict, schema: LabelSchema):
        self.features = features
        self.heads = heads
        self.schema = schema

    def save(self, run_dir: Path) -> None:
        import skops.io as sio

        for _, vectorizer in self.features.transformer_list:
            # numpy ints in the vocabulary would be stored one archive member each (very slow)
            vectorizer.vocabulary_ = {term: int(j) for term, j in vectorizer.vocabulary_.items()}
        sio.dump({"features": self.features, "heads": self.heads}, run_dir / MODEL_FILE,
                 compression=zipfile.ZIP_DEFLATED, compresslevel=6)

    def _stance_proba(self, head, X) -> np.ndarray:
        """Probabilities in schema order; a value the head never saw in training gets 0."""
        raw = head.predict_proba(X)
        out = np.zeros((X.shape[0], len(self.schema.stance_values)))
        for j, cls in enumerate(head.classes_):
            out[:, self.schema.stance_values.index(cls)] = raw[:, j]
        return out

    def predict_proba(self, texts: list[str], contexts: list[str | None] | None = None) -> dict[str, np.ndarray]:
        X = self.features.transform(texts)
        probs = {f: self._stance_proba(self.heads[f], X) for f in self.schema.stance_fields}
        probs["frames"] = np.column_stack([h.predict_proba(X)[:, 1] for h in self.heads["frames"]]) \
            if self.schema.frames else np.zeros((len(texts), 0))
        return probs

    def _direction(self, head_name: str, label: str) -> np.ndarray:
        """Weight vector pushing towards ``label`` (for a softmax head: relative to the mean class)."""
        if head_name == "frames":
            return self.heads["frames"][self.schema.frames.index(label)].coef_[0]
        head = self.heads[head_name]
        j = list(head.classes_).index(label)
        return head.coef_[j] - head.coef_.mean(axis=0)

    def explain(self, texts: list[str], head_name: str, labels: list[str], top_k: int = 5) -> list[list[tuple[str, float]]]:
        """The words that pushed each text most towards its label.

        Each n-gram's contribution (tf-idf value x weight) is shared among the words it covers:
        a word n-gram among its words, a character n-gram among the words that contain it.
        """
        X = self.features.transform(texts).tocsr()
        names = self.features.get_feature_names_out()
        result = []
        for i, (text, label) in enumerate(zip(texts, labels)):
            direction = self._direction(head_name, label)
            row = X.getrow(i)
            words = _WORD.findall(text)
            lowered = [w.lower() for w in words]
            scores: dict[int, float] = defaultdict(float)
            for col, value in zip(row.indices, row.data):
                contribution = float(value * direction[col])
                kind, gram = names[col].split("__", 1)
                if kind == "word":
                    parts = gram.split()
                    hits = [k for k, w in enumerate(lowered) if w in parts]
                else:
                    core = gram.strip()
                    hits = [k for k, w in enumerate(lowered) if core and core in w]
                for k in hits:
                    scores[k] += contribution / len(hits)
            merged: dict[str, float] = defaultdict(float)
            for k, s in scores.items():
                merged[words[k]] += s
            ranked = sorted(((w, s) for w, s in merged.items() if s > 0), key=lambda x: -x[1])[:top_k]
            result.append([(w, round(s, 4)) for w, s in ranked])
        return result


def load(run_dir: Path, schema: LabelSchema) -> TfidfModel:
    import skops.io as sio

    path = run_dir / MODEL_FILE
    untrusted = set(sio.get_untrusted_types(file=path)) - set(TRUSTED_TYPES)
    if untrusted:
        raise ValueError(f"{path}: refuses to load types outside the trusted list: {sorted(untrusted)}")
    obj = sio.load(path, trusted=TRUSTED_TYPES)
    heads = obj["heads"]
    if sorted(k for k in heads if k != "frames") != sorted(schema.stance_fields) or len(heads["frames"]) != len(schema.frames):
        raise ValueError(f"{path}: model heads {sorted(heads)} (frames: {len(heads['frames'])}) disagree with the label schema")
    for f in schema.stance_fields:
        unknown = set(heads[f].classes_) - set(schema.stance_values)
        if unknown:
            raise ValueError(f"{path}: head {f} predicts {sorted(unknown)}, not in the label schema")
    return TfidfModel(obj["features"], heads, schema)
