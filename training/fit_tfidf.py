"""Fit the TF-IDF baseline that ``inference.models.tfidf`` serves."""
from __future__ import annotations

from data.records import SentenceRecord
from data.schema import LabelSchema
from inference.models.tfidf import TfidfModel

from .config import TfidfConfig


def fit(train: list[SentenceRecord], dev: list[SentenceRecord], cfg: TfidfConfig, schema: LabelSchema, seed: int) -> TfidfModel:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion

    texts = [r.text for r in train]
    features = FeatureUnion([
        ("word", TfidfVectorizer(analyzer="word", ngram_range=tuple(cfg.word_ngrams), min_df=cfg.min_df,
                                 max_features=cfg.max_features, sublinear_tf=cfg.sublinear_tf, lowercase=True)),
        ("char", TfidfVectorizer(analyzer="char_wb", ngram_range=tuple(cfg.char_ngrams), min_df=cfg.min_df,
                                 max_features=cfg.max_features, sublinear_tf=cfg.sublinear_tf, lowercase=True)),
    ])
    X = features.fit_transform(texts)

    def head(y):
        return LogisticRegression(C=cfg.C, class_weight=cfg.class_weight, max_iter=cfg.max_iter, random_state=seed).fit(X, y)

    heads: dict = {f: head([r.stances[t] for r in train]) for t, f in zip(schema.targets, schema.stance_fields)}
    heads["frames"] = [head([int(frame in r.frames) for r in train]) for frame in schema.frames]
    return TfidfModel(features, heads, schema)
