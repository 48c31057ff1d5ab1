"""Load a run folder and label sentences and articles: ``Predictor.load(run).predict([...])``.

Attributes load lazily so that ``stanceframe --help`` imports nothing heavy.
"""
__all__ = ["Prediction", "Predictor"]


def __getattr__(name: str):
    if name in __all__:
        from . import predictor

        return getattr(predictor, name)
    raise AttributeError(f"module 'inference' has no attribute {name!r}")
