"""The CLI as a user runs it: help is fast and light, predict, evaluate, calibrate, data check, inspect."""
import json
import subprocess
import sys

from .conftest import ROOT, read_jsonl, write_jsonl
from .test_scoring import SEED, stanceframe


def test_help_imports_nothing_heavy():
    code = ("import sys, training.cli as c; c.build_parser().format_help(); "
            "heavy = [m for m in ('torch', 'transformers', 'sklearn', 'datasets', 'numpy') if m in sys.modules]; "
            "assert not heavy, heavy")
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT).returncode == 0
    proc = stanceframe("--help")
    assert proc.returncode == 0 and "score" in proc.stdout and "train" in proc.stdout


def test_predict_arguments_and_file(baseline_run, tmp_path):
    proc = stanceframe("predict", "--model", baseline_run, "Niger ended its military agreements with France.", "Bonjour.")
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(rows) == 2 and {"stance_west", "stance_russia", "frames", "probabilities"} <= set(rows[0])
    src = write_jsonl(tmp_path / "s.jsonl", [{"id": "b", "text": "Wagner a quitté le Mali."}, "oops",
                                             {"id": "a", "text": "Washington withdrew its troops.", "lang": "en"}])
    proc = stanceframe("predict", "--model", baseline_run, "--input", src, "--out", tmp_path / "p.jsonl", "--explain")
    assert proc.returncode == 3
    out = read_jsonl(tmp_path / "p.jsonl")
    assert [r["id"] for r in out] == ["b", f"{src}:2", "a"] and "error" in out[1] and out[2]["lang"] == "en"
    assert "explanation" in out[0]


def test_evaluate_and_calibrate(baseline_run, tmp_path):
    data = write_jsonl(tmp_path / "gold.jsonl", [
        {"id": "g1", "text": "Thousands demanded the immediate departure of the French troops.", "lang": "en",
         "stance_west": "against", "stance_russia": "none", "frames": ["security"]},
        {"id": "g2", "text": "Moscou a livré 25 000 tonnes de blé au Burkina Faso.", "lang": "fr",
         "stance_west": "none", "stance_russia": "none", "frames": []},
        {"id": "g3", "text": "Le gouvernement a salué l'aide précieuse de la Russie.", "lang": "fr",
         "stance_west": "none", "stance_russia": "favor", "frames": []},
    ])
    proc = stanceframe("evaluate", baseline_run, "--data", data, "--json")
    assert proc.returncode == 0, proc.stderr
    m = json.loads(proc.stdout)
    assert m["n"] == 3 and set(m["by_lang"]) == {"en", "fr"}
    proc = stanceframe("calibrate", baseline_run, "--data", data, "--output", tmp_path / "cal")
    assert proc.returncode == 0, proc.stderr
    assert json.loads((tmp_path / "cal" / "metrics.json").read_text())["calibration"]["sentences"] == 3
    from inference import Predictor

    Predictor.load(tmp_path / "cal")  # the manifest was rewritten and verifies


def test_evaluate_reports_bad_records_all_at_once(baseline_run, tmp_path):
    data = write_jsonl(tmp_path / "bad.jsonl", [
        {"id": "1", "text": "x", "lang": "en", "stance_west": "pro", "stance_russia": "none", "frames": []},
        "{broken",
        {"id": "3", "text": "y", "lang": "en", "stance_west": "none", "stance_russia": "none", "frames": ["economy"]},
    ])
    proc = stanceframe("evaluate", baseline_run, "--data", data)
    assert proc.returncode == 2
    assert "bad.jsonl:1" in proc.stderr and "bad.jsonl:2" in proc.stderr and "bad.jsonl:3" in proc.stderr


def test_data_check_passes_on_shipped_corpus():
    proc = stanceframe("data", "check")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "stance_west=favor" in proc.stdout and "0 error(s)" in proc.stderr


def test_data_check_catches_bad_records(tmp_path):
    good = {"id": "a1", "text": "Russian instructors arrived in Niamey on a cargo plane on Wednesday night.", "lang": "en",
            "stance_west": "none", "stance_russia": "none", "frames": ["security"]}
    rows = [good,
            {**good, "id": "a2", "text": "Russian instructors arrived in Niamey on a cargo plane on Wednesday night!"},
            {**good, "id": "a1", "text": "Something else entirely about gold."},
            {**good, "id": "a4", "text": "On April 10, Russian military instructors arrived in Niamey aboard a plane "
                                         "loaded with military equipment, in accordance with an agreement between the "
                                         "two countries to strengthen cooperation."},
            {**good, "id": "a5", "stance_west": "maybe", "text": "A different sentence."}]
    path = write_jsonl(tmp_path / "c.jsonl", rows)
    proc = stanceframe("data", "check", path)
    assert proc.returncode == 3
    err = proc.stderr
    assert "c.jsonl:2: near duplicate" in err and "c.jsonl:3: duplicate id 'a1'" in err
    assert "c.jsonl:4: matches a seed-article sentence" in err and "c.jsonl:5" in err and "stance_west" in err


def test_inspect_shows_labels(baseline_run):
    proc = stanceframe("inspect", SEED, "--model", baseline_run, env={"COLUMNS": "120", "PATH": ""})
    assert proc.returncode == 0, proc.stderr
    assert "west:" in proc.stdout and "russia:" in proc.stdout and "because" in proc.stdout
    proc = subprocess.run([sys.executable, "-m", "inference", "inspect", "-", "--model", str(baseline_run)],
                          input="Les Russes sont arrivés. La France est partie.", capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0 and "russia:" in proc.stdout


def test_bench_prints_figures(baseline_run):
    proc = stanceframe("bench", "--model", baseline_run, "--n", "200", "--json")
    assert proc.returncode == 0, proc.stderr
    figures = json.loads(proc.stdout)
    assert figures["kind"] == "tfidf" and figures["sentences"] == 200 and figures["quantize"] == "none"
    assert figures["predict_sentences_per_s"] > 0 and figures["score_sentences_per_s"] > 0 and figures["peak_rss_mb"] > 0
    proc = stanceframe("bench", "--model", baseline_run, "--n", "10", "--quantize", "int8")
    assert proc.returncode == 2 and "transformer kinds" in proc.stderr
