"""Interruptions, arbitrary bytes, failed training and mismatched run folders."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from data.articles import ArticleInput, expand_inputs, read_articles
from inference import Predictor
from inference.runfolder import RunFolderError, write_manifest
from inference.scoring import score_batch

from .conftest import BASELINE, ROOT, read_jsonl, write_jsonl

PARAGRAPHS = [
    "Les instructeurs russes sont arrivés à Niamey à bord d'un avion cargo. Le ministre a salué leur venue.",
    "Thousands marched in Agadez to demand that US troops leave. Organisers said the base had brought nothing.",
    "La junte a dénoncé les accords de défense avec la France. Paris a pris acte de la décision.",
    "Analysts said the deal with Moscow would not end the insurgency. The army disputed the claim.",
]


def test_killed_run_resumes_to_identical_outputs(baseline_run, tmp_path):
    rows = [{"id": f"a{i:05d}", "text": " ".join(PARAGRAPHS[(i + k) % 4] for k in range(3)), "source": "wire"}
            for i in range(1500)]
    rows[700] = "{broken line"
    src = write_jsonl(tmp_path / "in.jsonl", rows)
    cmd = [sys.executable, "-m", "training", "score", str(src), "--model", str(baseline_run), "--batch-size", "16", "--quiet"]
    full = tmp_path / "full"
    assert subprocess.run([*cmd, "--out", str(full)], cwd=ROOT).returncode == 3

    cut = tmp_path / "cut"
    proc = subprocess.Popen([*cmd, "--out", str(cut)], cwd=ROOT, stderr=subprocess.DEVNULL)
    ckpt = cut / "checkpoint.json"
    deadline = time.time() + 120
    while time.time() < deadline:
        if ckpt.exists() and json.loads(ckpt.read_text() or "{}").get("articles_done", 0) >= 300:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (cut / "articles.jsonl").exists(), "final files must not appear before the run completes"
    done = json.loads(ckpt.read_text())["articles_done"]
    assert 300 <= done < 1500
    with open(cut / "sentences.jsonl.partial", "ab") as fh:  # a torn write after the last checkpoint
        fh.write(b'{"article_id": "half a li')
    resumed = subprocess.run([*cmd, "--out", str(cut), "--resume"], cwd=ROOT, capture_output=True, text=True)
    assert resumed.returncode == 3, resumed.stderr
    assert "1500 articles" in resumed.stderr and "1 errors" in resumed.stderr
    for name in ("articles.jsonl", "sentences.jsonl"):
        assert (cut / name).read_bytes() == (full / name).read_bytes()
    assert not list(cut.glob("*.partial")) and not ckpt.exists()


def test_resume_refuses_other_arguments(baseline_run, tmp_path):
    src = write_jsonl(tmp_path / "in.jsonl", [{"id": "x", "text": PARAGRAPHS[0]}])
    proc = subprocess.run([sys.executable, "-m", "training", "score", str(src), "--model", str(baseline_run),
                           "--out", str(tmp_path / "o"), "--resume"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 2 and "nothing to resume" in proc.stderr


@pytest.fixture(scope="module")
def predictor(baseline_run):
    return Predictor.load(baseline_run)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.binary(max_size=300), min_size=1, max_size=5), st.sampled_from([".jsonl", ".txt", ".csv"]))
def test_readers_never_crash_the_batch_on_arbitrary_bytes(predictor, tmp_path_factory, blobs, suffix):
    folder = tmp_path_factory.mktemp("bytes")
    if suffix == ".csv":
        blobs = [b"id,text\n" + b for b in blobs]
    paths = []
    for i, blob in enumerate(blobs):
        p = folder / f"f{i}{suffix}"
        p.write_bytes(blob)
        paths.append(p)
    articles = list(read_articles(expand_inputs(paths)))
    results = score_batch(predictor, articles)
    assert len(results) == len(articles)
    assert all(r.article["status"] in ("ok", "empty", "error") for r in results)
    if suffix == ".txt":
        assert len(articles) == len(blobs)


def test_huge_article_and_runaway_sentence(predictor):
    long_sentence = "Le convoi parti de Niamey a été attaqué près de Tillabéri" + ", puis encore plus loin" * 35 + ". "
    huge = (long_sentence * 25 + "\n") * 1000  # about 20 MB in 25,000 long sentences
    assert len(huge.encode()) > 20_000_000
    runaway = "x" + " mot" * 1300  # 5,201 characters without a full stop
    big, run = score_batch(predictor, [ArticleInput("huge", huge, "huge"), ArticleInput("runaway", runaway, "runaway")])
    assert big.article["status"] == "ok" and big.article["n_sentences"] == 25_000
    assert 6 <= run.article["n_sentences"] <= 8 and all(len(s["text"]) <= 1000 for s in run.sentences)
    assert " ".join(s["text"] for s in run.sentences).split() == runaway.split()


def test_failed_training_leaves_no_run_folder(tmp_path):
    from training.config import load_config
    from training.train import train

    corpus = write_jsonl(tmp_path / "c.jsonl", [
        {"id": f"s{i}", "text": f"Phrase numéro {i} sur la coopération.", "lang": "fr", "stance_west": "none",
         "stance_russia": ["none", "favor", "against"][i % 3], "frames": []} for i in range(60)])
    cfg = load_config(BASELINE, [f"data.paths=[{corpus}]"])
    with pytest.raises(ValueError, match=r"stance_west has only \['none'\].*frame 'sovereignty' has no positive"):
        train(cfg, tmp_path, tmp_path / "run")
    assert not (tmp_path / "run").exists() and not list(tmp_path.glob(".run*"))


def test_schema_that_disagrees_with_weights_is_refused(baseline_run, tmp_path):
    bad = tmp_path / "run"
    shutil.copytree(baseline_run, bad)
    schema = json.loads((bad / "schema.json").read_text())
    schema["frames"].append("economy")
    (bad / "schema.json").write_text(json.dumps(schema))
    write_manifest(bad, "tfidf")  # hashes agree again: the schema check itself must refuse
    with pytest.raises(RunFolderError, match="disagree|do not match"):
        Predictor.load(bad)
