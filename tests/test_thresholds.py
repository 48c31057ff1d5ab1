"""Bagged threshold tuning: the mean of the grid optima over bootstrap resamples of articles varies
less from one tuning sample to another than the plain optimum, and stays near the cut-offs that
generated the labels."""
import numpy as np

from data.records import SentenceRecord
from data.schema import LabelSchema
from training.thresholds import tune

SCHEMA = LabelSchema(targets=("west",), frames=("security",))


def noisy_sample(rng, n=600):
    """Probabilities with labels drawn around true cut-offs (favor 0.6, against 0.4, security 0.5)."""
    p_favor = rng.uniform(0, 0.9, n)
    p_against = rng.uniform(0, 1 - p_favor)
    p_frame = rng.uniform(0, 1, n)
    probs = {"stance_west": np.column_stack([p_favor, p_against, 1 - p_favor - p_against]), "frames": p_frame[:, None]}
    noise = lambda: rng.normal(0, 0.12, n)  # noqa: E731
    west = np.where((p_favor + noise() >= 0.6) & (p_favor >= p_against), "favor",
                    np.where(p_against + noise() >= 0.4, "against", "none"))
    security = p_frame + noise() >= 0.5
    return probs, list(west), list(security)


def records_of(west, security):
    return [SentenceRecord(id=f"s{i}", text="x", lang="en", stances={"west": w}, frames=("security",) if s else (),
                           article=f"a{i // 6}", index=i % 6) for i, (w, s) in enumerate(zip(west, security))]


def as_vector(th):
    return np.array([th.stance["stance_west"]["favor"], th.stance["stance_west"]["against"], th.frames["security"]])


def test_bagged_thresholds_vary_less_between_samples_of_the_same_domain():
    rng = np.random.default_rng(7)
    plain, bagged = [], []
    for _ in range(12):
        probs, west, security = noisy_sample(rng, n=200)
        records = records_of(west, security)
        plain.append(as_vector(tune(probs, records, SCHEMA)))
        bagged.append(as_vector(tune(probs, records, SCHEMA, rounds=20, seed=1)))
    assert np.std(bagged, axis=0).sum() < np.std(plain, axis=0).sum()


def test_bagged_thresholds_stay_near_the_generating_cut_offs_and_are_reproducible():
    probs, west, security = noisy_sample(np.random.default_rng(11), n=1500)
    records = records_of(west, security)
    th = tune(probs, records, SCHEMA, rounds=20, seed=3)
    assert np.allclose(as_vector(th), [0.6, 0.4, 0.5], atol=0.1)
    assert th == tune(probs, records, SCHEMA, rounds=20, seed=3)
    assert tune(probs, records, SCHEMA, rounds=0) == tune(probs, records, SCHEMA)
