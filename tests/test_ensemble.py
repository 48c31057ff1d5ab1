"""The ensemble kind: members from other configs, a run folder holding every member, served
probabilities that are the weighted mean of the members' own, and explanations of the mixture."""
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from inference import Predictor
from inference.models import kind_module
from inference.runfolder import RunFolderError
from training.config import ConfigError, load_config
from training.train import train

from .conftest import ROOT

CONFIGS = ROOT / "configs"
SENTENCES = ["Niamey a dénoncé les accords de défense avec Paris et salué l'arrivée des instructeurs russes.",
             "Protesters in Bamako demanded that French troops leave, waving Russian flags.",
             "Rain fell on Ouagadougou on Tuesday."]


def test_members_take_the_model_section_of_their_config():
    cfg = load_config(CONFIGS / "ensemble.yaml")
    assert [m.model for m in cfg.model.members] == [load_config(CONFIGS / "baseline.yaml").model,
                                                    load_config(CONFIGS / "embeddings.yaml").model]
    cfg = load_config(CONFIGS / "ensemble.yaml", ["model.members.0.weight=0.7", "model.members.1.model.batch_size=8"])
    assert cfg.model.members[0].weight == 0.7 and cfg.model.members[1].model.batch_size == 8


def _ensemble_yaml(tmp_path: Path, members: str) -> Path:
    text = (CONFIGS / "ensemble.yaml").read_text(encoding="utf-8").split("  members:")[0]
    path = tmp_path / "ens.yaml"
    path.write_text(text.replace("../data/corpus", str(ROOT / "data" / "corpus")) + "  members:\n" + members, "utf-8")
    return path


def test_member_errors_name_the_file_and_key(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text((CONFIGS / "baseline.yaml").read_text().replace("C: 4.0", "C: 4.0\n  Cee: 1"), "utf-8")
    with pytest.raises(ConfigError, match=r"ens\.yaml: model\.members\.0\.config: .*bad\.yaml: unknown key 'model\.Cee'"):
        load_config(_ensemble_yaml(tmp_path, f"    - {{weight: 1, config: {bad}}}\n    - {{weight: 1, config: {bad}}}\n"))
    both = f"    - {{weight: 1, config: {CONFIGS / 'baseline.yaml'}, model: {{kind: tfidf}}}}\n"
    with pytest.raises(ConfigError, match=r"model\.members\.0: give either config or model"):
        load_config(_ensemble_yaml(tmp_path, both * 2))
    nested = f"    - {{weight: 1, config: {CONFIGS / 'ensemble.yaml'}}}\n"
    with pytest.raises(ConfigError, match=r"model\.members\.0\.model"):
        load_config(_ensemble_yaml(tmp_path, nested * 2))
    with pytest.raises(ConfigError, match=r"model\.members\.1\.weight"):
        load_config(CONFIGS / "ensemble.yaml", ["model.members.1.weight=0"])
    with pytest.raises(ConfigError, match=r"'model\.members' has no item '5' \(it holds 2\)"):
        load_config(CONFIGS / "ensemble.yaml", ["model.members.5.weight=1"])


@pytest.fixture(scope="module")
def ensemble_run(tiny_base, small_corpus, tmp_path_factory) -> Path:
    overrides = [f"data.paths=[{small_corpus}]", "model.members.0.weight=3", "model.members.1.weight=1",
                 f"model.members.1.model.base={tiny_base}", "model.members.1.model.prefix=''",
                 "model.members.1.model.max_length=48"]
    out = tmp_path_factory.mktemp("runs") / "ensemble"
    return train(load_config(CONFIGS / "ensemble.yaml", overrides), CONFIGS, out, log=lambda m: None)


def test_run_folder_holds_every_member_without_pickle(ensemble_run):
    files = set(json.loads((ensemble_run / "manifest.json").read_text())["files"])
    assert {"ensemble.json", "members/0-tfidf/model.skops", "members/1-embeddings/heads.skops",
            "members/1-embeddings/encoder.json"} <= files
    assert not [f for f in files if f.endswith((".bin", ".pt", ".pkl", ".pth", ".joblib"))]
    assert {"en", "fr"} == set(json.loads((ensemble_run / "metrics.json").read_text())["test"]["by_lang"])


def test_probabilities_are_the_weighted_mean_of_the_members(ensemble_run):
    predictor = Predictor.load(ensemble_run)
    mixed = predictor.predict_proba(SENTENCES)
    schema = predictor.schema
    tfidf = kind_module("tfidf").load(ensemble_run / "members" / "0-tfidf", schema).predict_proba(SENTENCES)
    emb = kind_module("embeddings").load(ensemble_run / "members" / "1-embeddings", schema).predict_proba(SENTENCES)
    for head in mixed:
        np.testing.assert_allclose(mixed[head], 0.75 * tfidf[head] + 0.25 * emb[head], atol=1e-6)
        assert not np.allclose(tfidf[head], emb[head])
    again = Predictor.load(ensemble_run).predict_proba(SENTENCES)
    for head in mixed:
        np.testing.assert_allclose(mixed[head], again[head], atol=1e-6)


def test_explanations_scoring_and_int8(ensemble_run):
    predictor = Predictor.load(ensemble_run)
    preds = predictor.predict(SENTENCES, explain=True)
    explained = [p.explanation for p in preds if p.explanation]
    words = {w for e in explained for per in e.values() for ws in per.values() for w, _ in ws}
    assert words and all(any(w in s for s in SENTENCES) for w in words)
    result = next(predictor.score_articles([{"id": "a", "text": " ".join(SENTENCES)}]))
    assert result.article["n_sentences"] == len(result.sentences) == 3
    fp32 = predictor.predict_proba(SENTENCES)
    int8 = Predictor.load(ensemble_run, quantize="int8").predict_proba(SENTENCES)
    for head in fp32:
        assert np.abs(fp32[head] - int8[head]).max() < 0.05


def test_a_changed_member_file_is_refused(ensemble_run, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(ensemble_run, copy)
    with open(copy / "members" / "1-embeddings" / "encoder.json", "a") as fh:
        fh.write(" ")
    with pytest.raises(RunFolderError):
        Predictor.load(copy)
