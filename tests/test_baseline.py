"""Train -> save -> load -> predict on the shipped corpus, through the real code paths."""
import json

import numpy as np
import pytest

from inference import Predictor
from inference.runfolder import RunFolderError

def test_run_folder_contents(baseline_run):
    names = {p.name for p in baseline_run.iterdir()}
    assert {"config.yaml", "schema.json", "thresholds.json", "model.skops", "metrics.json", "manifest.json"} <= names
    manifest = json.loads((baseline_run / "manifest.json").read_text())
    assert set(manifest["files"]) == names - {"manifest.json"} and manifest["package_version"]
    metrics = json.loads((baseline_run / "metrics.json").read_text())
    for split in ("dev", "test"):
        m = metrics[split]
        assert {"favor", "against", "none"} == set(m["stance_west"]["labels"])
        assert 0 <= m["stance_russia"]["F_avg"] <= 1 and "macro_f1" in m["stance_russia"]
        assert {"micro_f1", "macro_f1", "labels"} <= set(m["frames"])
        assert {"en", "fr"} == set(m["by_lang"])


def test_round_trip_gives_identical_probabilities(baseline_run):
    from training.config import load_config
    from training.train import load_splits

    from .conftest import BASELINE

    cfg = load_config(BASELINE)
    test = load_splits(cfg, BASELINE.parent)["test"][:50]
    texts = [r.text for r in test]
    first = Predictor.load(baseline_run).predict_proba(texts)
    second = Predictor.load(baseline_run).predict_proba(texts)
    for head in first:
        np.testing.assert_array_equal(first[head], second[head])
    # the metrics written at training time are reproduced by the loaded predictor
    from training.evaluate import evaluate

    full = load_splits(cfg, BASELINE.parent)["test"]
    saved = json.loads((baseline_run / "metrics.json").read_text())["test"]
    again = evaluate(Predictor.load(baseline_run), full)
    assert again["stance_west"] == saved["stance_west"] and again["frames"] == saved["frames"]


def test_predictions_are_typed_and_probabilities_sum_to_one(baseline_run):
    preds = Predictor.load(baseline_run).predict(["Les instructeurs russes sont arrivés à Bamako.", "Hello."], explain=True)
    for p in preds:
        assert set(p.stances) == {"stance_west", "stance_russia"}
        for head in ("stance_west", "stance_russia"):
            assert sum(p.probabilities[head].values()) == pytest.approx(1.0, abs=1e-4)
            assert p.stances[head] in p.probabilities[head]
        assert set(p.frames) <= set(p.probabilities["frames"])
        assert p.explanation is not None


def test_tampered_or_incomplete_run_folder_is_refused(baseline_run, tmp_path):
    import shutil

    bad = tmp_path / "run"
    shutil.copytree(baseline_run, bad)
    (bad / "thresholds.json").write_text((bad / "thresholds.json").read_text().replace("0.", "0.0"))
    with pytest.raises(RunFolderError, match="thresholds.json was changed"):
        Predictor.load(bad)
    shutil.rmtree(bad)
    shutil.copytree(baseline_run, bad)
    (bad / "model.skops").unlink()
    with pytest.raises(RunFolderError, match="model.skops .*missing"):
        Predictor.load(bad)
    shutil.rmtree(bad)
    shutil.copytree(baseline_run, bad)
    manifest = json.loads((bad / "manifest.json").read_text())
    manifest["format_version"] = 99
    (bad / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(RunFolderError, match="newer"):
        Predictor.load(bad)


def test_train_refuses_to_overwrite_without_force(baseline_run):
    from training.config import load_config
    from training.train import RunExistsError, train

    from .conftest import BASELINE

    with pytest.raises(RunExistsError):
        train(load_config(BASELINE), BASELINE.parent, baseline_run)
