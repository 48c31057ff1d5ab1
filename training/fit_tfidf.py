"""Fit the TF-IDF baseline that ``inference.models.tfidf`` serves."""
from __future__ import annotations

from data.records import SentenceRecord
from data.schema import LabelSchema
from inference.models import linear_heads
from inference.models.tfidf import TfidfModel

from .config import TfidfConfig


def fit(train: list[SentenceRecord], dev: list[SentenceRecord], cfg: TfidfConfig, schema: LabelSchema, seed: int) -> TfidfModel:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion

    texts = [r.text for r in train]
    features = FeatureUnion([
        ("word", TfidfVectorizer(analyzer="word", ngram_range=tuple(cfg.word_ngrams), min_df=cfg.min_df,
                                 max_features=cfg.max_features, sublinear_tf=cfg.sublinear_tf, lowercase=True)),
        ("char", TfidfVectorizer(analyzer="char_wb", ngram_range=tuple(cfg.char_ngrams), min_df=cfg.min_df,
                                 max_features=cfg.max_features, sublinear_tf=cfg.sublinear_tf, lowercase=True)),
    ])
    X = features.fit_transform(texts)
    return TfidfModel(features, linear_heads.fit_heads(X, train, schema, cfg.C, cfg.class_weight, cfg.max_iter, seed), schema)
