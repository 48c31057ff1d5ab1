"""Scoring every input format through the CLI and the library, with offsets and accounting."""
import csv
import json
import subprocess
import sys

import pytest

from inference import Predictor
from inference.scoring import score_files

from .conftest import ROOT, read_jsonl, write_jsonl

SEED = next((ROOT / "seeds").glob("*.txt"))
FR = ("Les instructeurs russes sont arrivés à Niamey le 10 avril. Le ministre a salué « un partenaire sincère ». "
      "Des manifestants ont exigé le départ des troupes françaises.")


def stanceframe(*args, **kw):
    return subprocess.run([sys.executable, "-m", "training", *map(str, args)], capture_output=True, text=True, cwd=ROOT, **kw)


def check_outputs(out, expected_ids):
    articles = read_jsonl(out / "articles.jsonl")
    sentences = read_jsonl(out / "sentences.jsonl")
    assert [a["id"] for a in articles] == expected_ids
    assert sum(a["n_sentences"] for a in articles) == len(sentences)
    return articles, sentences


def test_every_input_format_scores(baseline_run, tmp_path):
    jl = write_jsonl(tmp_path / "a.jsonl", [{"id": "j1", "text": FR, "lang": "fr", "source": "wire", "date": "2024-04-12"},
                                             {"id": "j2", "text": SEED.read_text("utf-8"), "title": "seed"}])
    with open(tmp_path / "b.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=["id", "title", "text"])
        w.writeheader()
        w.writerow({"id": "c1", "title": "t", "text": "Washington a suspendu son aide. Paris proteste."})
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "t1.txt").write_text("Wagner is accused of abuses in Moura.", encoding="utf-8")
    (folder / "t2.txt").write_text(FR, encoding="utf-8")
    single = tmp_path / "single.txt"
    single.write_text("Russian instructors arrived in Niamey.", encoding="utf-8")
    out = tmp_path / "out"
    proc = stanceframe("score", jl, tmp_path / "b.csv", folder, single, "--model", baseline_run, "--out", out, "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert "6 articles" in proc.stderr
    articles, sentences = check_outputs(out, ["j1", "j2", "c1", "t1", "t2", "single"])
    texts = {"j1": FR, "j2": SEED.read_text("utf-8"), "t2": FR}
    for s in sentences:
        if s["article_id"] in texts:
            assert texts[s["article_id"]][s["start"]:s["end"]] == s["text"]
        assert set(s["probabilities"]) == {"stance_west", "stance_russia", "frames"}
    assert articles[0]["source"] == "wire" and articles[0]["date"] == "2024-04-12" and articles[0]["lang"] == "fr"
    assert articles[1]["lang"] == "en" and articles[1]["n_sentences"] >= 10  # detected language; seed has 12+ sentences
    a = articles[0]
    assert a["stance_west_against"] == sum(1 for s in sentences if s["article_id"] == "j1" and s["stance_west"] == "against")
    assert a["stance_west_against_share"] == pytest.approx(a["stance_west_against"] / a["n_sentences"], abs=1e-4)


def test_library_score_articles_accepts_strings_and_mappings(baseline_run):
    p = Predictor.load(baseline_run)
    results = list(p.score_articles(["Niger ended its agreements with France.", {"id": "x", "text": FR, "lang": "fr"}]))
    assert [r.article["id"] for r in results] == ["article-0", "x"]
    assert results[1].article["n_sentences"] == len(results[1].sentences) == 3


def test_bad_inputs_are_accounted_for(baseline_run, tmp_path):
    rows = [{"id": "ok1", "text": FR}, "{not json", {"id": "nulltext", "text": None}, {"id": "num", "text": 42},
            {"text": "no id here"}, {"id": "empty", "text": "   \n "}, {"id": "ok1", "text": "duplicate id."},
            {"id": "zw", "text": "Les\u200b instructeurs\x07 russes sont arrivés.\u200d"}]
    jl = write_jsonl(tmp_path / "bad.jsonl", rows)
    out = tmp_path / "out"
    proc = stanceframe("score", jl, "--model", baseline_run, "--out", out, "--quiet")
    assert proc.returncode == 3, proc.stderr
    articles = read_jsonl(out / "articles.jsonl")
    assert len(articles) == len(rows)
    status = [a["status"] for a in articles]
    assert status == ["ok", "error", "error", "error", "error", "empty", "error", "ok"]
    assert "bad.jsonl:2" in articles[1]["error"] and "malformed JSON" in articles[1]["error"]
    assert "null" in articles[2]["error"] and "int" in articles[3]["error"] and "missing 'id'" in articles[4]["error"]
    assert "duplicate id 'ok1'" in articles[6]["error"] and "bad.jsonl:1" in articles[6]["error"]
    zw = [s for s in read_jsonl(out / "sentences.jsonl") if s["article_id"] == "zw"]
    assert zw and rows[-1]["text"][zw[0]["start"]:zw[0]["end"]] == zw[0]["text"]


def test_csv_without_text_column_is_a_usage_error(baseline_run, tmp_path):
    (tmp_path / "x.csv").write_text("id,body\n1,hello\n", encoding="utf-8")
    proc = stanceframe("score", tmp_path / "x.csv", "--model", baseline_run, "--out", tmp_path / "o", "--quiet")
    assert proc.returncode == 2 and "no 'text' column" in proc.stderr
    assert not (tmp_path / "o" / "articles.jsonl").exists()


def test_undecodable_and_binary_files(baseline_run, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "cp1252.txt").write_bytes("Les soldats français ont quitté la base de Gao à l'été.".encode("cp1252"))
    (folder / "report.txt").write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n")
    summary = score_files(Predictor.load(baseline_run), [folder], tmp_path / "o")
    articles = read_jsonl(tmp_path / "o" / "articles.jsonl")
    assert [a["status"] for a in articles] == ["ok", "error"] and summary.errors == 1
    assert "PDF" in articles[1]["error"] and "report.txt" in articles[1]["error"]
    sent = read_jsonl(tmp_path / "o" / "sentences.jsonl")
    assert "français" in sent[0]["text"]
