"""Calibration on a user's sample: re-tuned thresholds replace the current ones only where they win
on held-out articles."""
import numpy as np

from data.records import SentenceRecord
from data.schema import LabelSchema
from inference.decision import Thresholds
from training.thresholds import cross_validated, head_scores

SCHEMA = LabelSchema(targets=("west",), frames=("security",))


def sample(gold_west, gold_security):
    return [SentenceRecord(id=f"s{i}", text="x", lang="en", stances={"west": w}, frames=["security"] if s else [],
                           article=f"a{i // 4}", index=i % 4)
            for i, (w, s) in enumerate(zip(gold_west, gold_security))]


def test_a_consistent_shift_in_the_sample_is_learnt():
    rng = np.random.default_rng(3)
    n = 400
    p_favor = rng.uniform(0, 0.9, n)
    p_against = rng.uniform(0, 1 - p_favor)
    probs = {"stance_west": np.column_stack([p_favor, p_against, 1 - p_favor - p_against]),
             "frames": rng.uniform(0, 1, (n, 1))}
    # In this domain a sentence is favor only from p=0.7 up, against from 0.3 up; frames are coin flips.
    west = ["favor" if f >= 0.7 and f >= a else "against" if a >= 0.3 else "none" for f, a in zip(p_favor, p_against)]
    security = rng.uniform(0, 1, n) < 0.5
    records = sample(west, security)
    current = Thresholds.default(SCHEMA)
    chosen, report = cross_validated(probs, records, SCHEMA, current)

    assert report["stance_west"]["kept"] == "retuned"
    assert report["stance_west"]["retuned"] > report["stance_west"]["current"]
    assert abs(chosen.stance["stance_west"]["favor"] - 0.7) <= 0.05 and abs(chosen.stance["stance_west"]["against"] - 0.3) <= 0.05
    assert head_scores(probs, records, SCHEMA, chosen)["stance_west"] > head_scores(probs, records, SCHEMA, current)["stance_west"]
    # Every head reports both held-out scores, and whatever was kept is what the scores say.
    for head, row in report.items():
        assert row["kept"] == ("retuned" if row["retuned"] > row["current"] else "current")
