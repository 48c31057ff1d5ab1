"""The Ray engine gives the local engine's rows: same order, labels, probabilities and error rows."""
import json
import math
import os
import subprocess
import sys

import pytest

ray = pytest.importorskip("ray")
pa = pytest.importorskip("pyarrow")
import pyarrow.parquet as pq  # noqa: E402

from inference import Predictor  # noqa: E402
from inference.distributed import RayOptions, plan_shards, read_output, score_distributed  # noqa: E402
from inference.scoring import score_files  # noqa: E402

from .conftest import ROOT, read_jsonl, write_jsonl  # noqa: E402

PARAGRAPHS = [
    "Les instructeurs russes sont arrivés à Niamey à bord d'un avion cargo. Le ministre a salué leur venue.",
    "Thousands marched in Agadez to demand that US troops leave. Organisers said the base had brought nothing.",
    "La junte a dénoncé les accords de défense avec la France. Paris a pris acte de la décision.",
    "Analysts said the deal with Moscow would not end the insurgency. The army disputed the claim.",
    "Wagner is accused of abuses in Moura.\nLe gouvernement dément.",
]


def _text(i: int) -> str:
    return " ".join(PARAGRAPHS[(i + k) % len(PARAGRAPHS)] for k in range(1 + i % 3))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """A few hundred articles over JSONL (split into byte ranges), Parquet (split into row groups), CSV and
    .txt, with bad lines, null and missing fields, empty texts and duplicate ids across shards and files."""
    d = tmp_path_factory.mktemp("corpus")
    rows = [{"id": f"j{i:04d}", "text": _text(i), "source": "wire", "date": "2024-04-12", "tags": ["a", i]}
            for i in range(260)]
    rows[5] = "{broken line"
    rows[17] = {"id": "nulltext", "text": None}
    rows[30] = {"text": "no id here"}
    rows[41] = {"id": "j0002", "text": "a duplicate in the same file, another shard later"}
    rows[42] = {"id": "empty", "text": "   "}
    rows[43] = {"id": "x-first", "text": 7}  # unreadable: must not count as a first occurrence
    rows[44] = {"id": "x-first", "text": "the first readable occurrence"}
    rows[200] = {"id": "j0002", "text": "and a third one"}
    rows[201] = {"id": "meta-clash", "text": "Paris proteste.", "lang": 5, "error": "not mine", "meta": {"k": 1}}
    rows[202] = {"id": "nolang", "text": "Paris proteste.", "lang": None}
    lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows]
    lines.insert(100, "")  # a blank line keeps line numbers honest
    (d / "a.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    table = pa.table({"id": [f"p{i}" if i % 50 else "j0010" for i in range(120)],
                      "text": [_text(i) if i % 37 else None for i in range(120)],
                      "title": [f"title {i}" for i in range(120)]})
    pq.write_table(table, d / "b.parquet", row_group_size=25)
    (d / "c.csv").write_text('id,title,text\nc1,t,"Washington a suspendu son aide. Paris proteste."\nc2,,\n'
                             'x-first,dup,"Encore."\n', encoding="utf-8")
    txt = d / "txt"
    txt.mkdir()
    for i in range(6):
        (txt / f"t{i}.txt").write_bytes(_text(i).encode("utf-8") if i != 3 else b"%PDF-1.7 binary")
    (txt / "j0004.txt").write_text("The id of a txt file is its name.", encoding="utf-8")
    return [d / "a.jsonl", d / "b.parquet", d / "c.csv", txt]


@pytest.fixture(scope="module")
def ray_local():
    os.environ.setdefault("RAY_worker_niceness", "0")  # as the CLI does for its own local instance
    ray.init(num_cpus=2, include_dashboard=False, logging_level="WARNING", log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def local_out(baseline_run, corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("local")
    summary = score_files(Predictor.load(baseline_run), corpus, out, batch_size=16)
    return out, summary


def _same(a, b, path="row"):
    """Equal rows, floats within 1e-9."""
    if isinstance(a, float) or isinstance(b, float):
        assert isinstance(a, (int, float)) and isinstance(b, (int, float)) and math.isclose(a, b, abs_tol=1e-9), path
    elif isinstance(a, dict):
        assert isinstance(b, dict) and set(a) == set(b), (path, set(a) ^ set(b))
        for k in a:
            _same(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            _same(x, y, f"{path}[{i}]")
    else:
        assert a == b, (path, a, b)


def test_plan_splits_big_files_and_numbers_lines(corpus):
    shards = plan_shards([corpus[0], corpus[1]], shard_bytes=4000)
    jsonl = [s for s in shards if s.files[0].endswith(".jsonl")]
    parquet = [s for s in shards if s.row_groups is not None]
    assert len(jsonl) > 5 and len(parquet) > 1
    seen = [a.origin for s in jsonl for a in s.read()]
    assert seen == [f"{corpus[0]}:{n}" for n in range(1, 262) if n != 101]  # every line once, numbered as locally
    rows = [a.origin for s in parquet for a in s.read()]
    assert rows == [f"{corpus[1]}:{n}" for n in range(1, 121)]


@pytest.mark.parametrize("fmt", ["parquet", "jsonl"])
def test_ray_engine_matches_local_engine(baseline_run, corpus, local_out, ray_local, tmp_path, fmt):
    local, local_summary = local_out
    out = tmp_path / "ray"
    summary = score_distributed(baseline_run, corpus, out, batch_size=16, fmt=fmt,
                                options=RayOptions(workers=2, shard_bytes=4000, files_per_shard=3))
    for name in ("articles", "sentences"):
        expected = read_jsonl(local / f"{name}.jsonl")
        got = list(read_output(out, name))
        assert len(got) == len(expected)
        for i, (g, e) in enumerate(zip(got, expected)):
            _same(g, e, f"{name}[{i}]")
    assert len(list((out / "articles").glob("part-*"))) > 5
    assert (summary.articles, summary.sentences, summary.ok, summary.empty, summary.errors) == (
        local_summary.articles, local_summary.sentences, local_summary.ok, local_summary.empty, local_summary.errors)
    assert json.loads((out / "_SUCCESS").read_text())["articles"] == summary.articles
    articles = {a["origin"]: a for a in read_output(out, "articles")}
    dup = articles[f"{corpus[0]}:{42}"]
    assert dup["status"] == "error" and dup["error"].endswith(f"duplicate id 'j0002' (first at {corpus[0]}:3)")
    assert articles[f"{corpus[0]}:{45}"]["status"] == "ok"  # x-first: the unreadable row before it does not count
    assert "first at" in articles[f"{corpus[2]}:4"]["error"] and f"{corpus[0]}:45" in articles[f"{corpus[2]}:4"]["error"]
    if fmt == "jsonl":  # the parts, concatenated, are the local files byte for byte
        for name in ("articles", "sentences"):
            parts = sorted((out / name).glob("part-*.jsonl"))
            assert b"".join(p.read_bytes() for p in parts) == (local / f"{name}.jsonl").read_bytes()
    else:
        table = pq.read_table(out / "sentences")
        assert table.num_rows == summary.sentences
        assert table.schema.field("probabilities").type.num_fields == 3


def test_cli_ray_engine(baseline_run, corpus, tmp_path):
    out = tmp_path / "o"
    cmd = [sys.executable, "-m", "training", "score", *map(str, corpus), "--model", str(baseline_run), "--out", str(out),
           "--engine", "ray", "--workers", "2", "--quiet"]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 3, proc.stderr
    assert "errors" in proc.stderr.splitlines()[-1]
    rows = list(read_output(out, "articles"))
    assert len(rows) == int(proc.stderr.splitlines()[-1].split()[0])
    refused = subprocess.run(cmd[:-3] + ["--resume"], cwd=ROOT, capture_output=True, text=True)
    assert refused.returncode == 2 and "--resume is not supported" in refused.stderr
    local_only = subprocess.run(cmd[:-5] + ["--workers", "2"], cwd=ROOT, capture_output=True, text=True)
    assert local_only.returncode == 2 and "--engine ray only" in local_only.stderr
