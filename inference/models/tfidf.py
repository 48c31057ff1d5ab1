"""The TF-IDF baseline: word and character n-grams with linear heads (see ``linear_heads``)."""
from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path

import numpy as np

from data.schema import LabelSchema

from . import linear_heads

MODEL_FILE = "model.skops"
VOCABULARY_FILE = "vocabulary.json"
_WORD = re.compile(r"\w+", re.UNICODE)


class TfidfModel:
    """The fitted feature union and the linear heads."""

    uses_context = False

    def __init__(self, features, heads: dict, schema: LabelSchema):
        self.features = features
        self.heads = heads
        self.schema = schema

    def save(self, run_dir: Path) -> None:
        # Vocabularies go to plain JSON: as skops objects they take ~60 MB and seconds to load.
        vocabularies = {name: {t: int(j) for t, j in vec.vocabulary_.items()} for name, vec in self.features.transformer_list}
        (run_dir / VOCABULARY_FILE).write_text(json.dumps(vocabularies, ensure_ascii=False), encoding="utf-8")
        for _, vec in self.features.transformer_list:
            vec.vocabulary_ = {}
        try:
            linear_heads.save({"features": self.features, "heads": self.heads}, run_dir / MODEL_FILE)
        finally:
            _restore_vocabularies(self.features, vocabularies)

    def predict_proba(self, texts: list[str], contexts: list[str | None] | None = None) -> dict[str, np.ndarray]:
        return linear_heads.predict_proba(self.heads, self.features.transform(texts), self.schema)

    def explain(self, texts: list[str], head_name: str, labels: list[str], top_k: int = 5) -> list[list[tuple[str, float]]]:
        """The words that pushed each text most towards its label.

        Each n-gram's contribution (tf-idf value x weight) is shared among the words it covers:
        a word n-gram among its words, a character n-gram among the words that contain it.
        """
        X = self.features.transform(texts).tocsr()
        names = self.features.get_feature_names_out()
        result = []
        for i, (text, label) in enumerate(zip(texts, labels)):
            weights = linear_heads.direction(self.heads, self.schema, head_name, label)
            row = X.getrow(i)
            words = _WORD.findall(text)
            lowered = [w.lower() for w in words]
            scores: dict[int, float] = defaultdict(float)
            for col, value in zip(row.indices, row.data):
                contribution = float(value * weights[col])
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


def _restore_vocabularies(features, vocabularies: dict) -> None:
    for name, vec in features.transformer_list:
        vec.vocabulary_ = vocabularies[name]


def load(run_dir: Path, schema: LabelSchema, quantize: str | None = None) -> TfidfModel:
    if quantize:
        raise ValueError("quantisation applies to transformer kinds, not to the tfidf baseline")
    obj = linear_heads.load(run_dir / MODEL_FILE, schema)
    _restore_vocabularies(obj["features"], json.loads((run_dir / VOCABULARY_FILE).read_text(encoding="utf-8")))
    return TfidfModel(obj["features"], obj["heads"], schema)
