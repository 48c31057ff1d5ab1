"""Fit the TF-IDF baseline that ``inference.models.tfidf`` serves."""
from __future__ import annotations

from data.records import SentenceRecord
from data.schema import LabelSchema
from inference.models import linear_heads
from inference.models.target_terms import TargetMasker
from inference.models.tfidf import TfidfModel

from .config import TfidfConfig


def fit(train: list[SentenceRecord], dev: list[SentenceRecord], cfg: TfidfConfig, schema: LabelSchema, seed: int) -> TfidfModel:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion

    def vectorizer(analyzer: str, ngrams, min_df: int) -> TfidfVectorizer:
        return TfidfVectorizer(analyzer=analyzer, ngram_range=tuple(ngrams), min_df=min_df,
                               max_features=cfg.max_features, sublinear_tf=cfg.sublinear_tf, lowercase=True)

    features = FeatureUnion([("word", vectorizer("word", cfg.word_ngrams, cfg.min_df)),
                             ("char", vectorizer("char_wb", cfg.char_ngrams, cfg.min_df))])
    target_view = vectorizer("word", cfg.target_ngrams, cfg.target_min_df) if cfg.target_terms else None
    model = TfidfModel(features, {}, schema, target_view, TargetMasker(cfg.target_terms))
    X = model.features_of([r.text for r in train], fit=True)
    model.heads = linear_heads.fit_heads(X, train, schema, cfg.C, cfg.class_weight, cfg.max_iter, seed)
    return model
