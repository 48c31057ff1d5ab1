"""Parquet inputs and glob patterns on the local engine (no Ray needed)."""
import datetime
import json
import subprocess
import sys

import pytest

pa = pytest.importorskip("pyarrow")
import pyarrow.parquet as pq  # noqa: E402

from data.articles import InputError, check_inputs, expand_inputs, read_articles, read_jsonl  # noqa: E402

from .conftest import ROOT, read_jsonl as read_rows, write_jsonl  # noqa: E402

FR = "Les instructeurs russes sont arrivés à Niamey. Le ministre a salué leur venue."


def test_parquet_reader_streams_rows_with_metadata_and_errors(tmp_path):
    table = pa.table({"id": [1, 2, None, 4], "text": [FR, None, "no id", "Paris proteste."],
                      "date": [datetime.date(2024, 4, 12)] * 4, "tags": [["a"], [], None, ["b", "c"]]})
    pq.write_table(table, tmp_path / "x.parquet", row_group_size=2)
    arts = list(read_articles(expand_inputs([tmp_path / "x.parquet"])))
    assert [a.id for a in arts] == ["1", "2", f"{tmp_path / 'x.parquet'}:3", "4"]
    assert arts[0].meta == {"date": "2024-04-12", "tags": ["a"]} and arts[0].error is None
    assert "null" in arts[1].error and "missing 'id'" in arts[2].error
    assert arts[3].origin.endswith("x.parquet:4")
    json.dumps(arts[0].meta)  # JSON-friendly
    part = list(read_articles([tmp_path / "x.parquet"]))  # same as reading the row groups apart
    from data.articles import read_parquet

    assert [a.origin for a in read_parquet(tmp_path / "x.parquet", [1], first_row=3)] == [a.origin for a in part[2:]]


def test_parquet_without_text_is_a_usage_error_and_corrupt_parquet_an_error_row(tmp_path):
    pq.write_table(pa.table({"id": ["a"], "body": ["x"]}), tmp_path / "nobody.parquet")
    with pytest.raises(InputError, match="no 'text' column"):
        check_inputs(expand_inputs([tmp_path / "nobody.parquet"]))
    (tmp_path / "bad.parquet").write_bytes(b"PAR1 not really")
    check_inputs([tmp_path / "bad.parquet"])
    arts = list(read_articles([tmp_path / "bad.parquet"]))
    assert len(arts) == 1 and "unreadable Parquet" in arts[0].error


def test_jsonl_byte_ranges_cover_every_line_once(tmp_path):
    src = write_jsonl(tmp_path / "a.jsonl", [{"id": f"a{i}", "text": FR} for i in range(10)])
    data = src.read_bytes()
    cut = data.index(b"\n", len(data) // 2) + 1
    first = list(read_jsonl(src, 0, cut))
    second = list(read_jsonl(src, cut, len(data), first_line=len(first) + 1))
    assert [a.origin for a in first + second] == [a.origin for a in read_jsonl(src)]


def test_globs_expand_sorted_and_unmatched_is_a_usage_error(tmp_path):
    for name in ("b.jsonl", "a.jsonl"):
        write_jsonl(tmp_path / name, [{"id": name, "text": FR}])
    assert expand_inputs([str(tmp_path / "*.jsonl")]) == [tmp_path / "a.jsonl", tmp_path / "b.jsonl"]
    with pytest.raises(InputError, match="matches no file"):
        expand_inputs([str(tmp_path / "*.csv")])


def test_local_engine_scores_parquet_and_globs(baseline_run, tmp_path):
    pq.write_table(pa.table({"id": ["p1", "p2"], "text": [FR, "Washington a suspendu son aide."],
                             "source": ["wire", "radio"]}), tmp_path / "in.parquet")
    write_jsonl(tmp_path / "j1.jsonl", [{"id": "j1", "text": FR}])
    write_jsonl(tmp_path / "j2.jsonl", [{"id": "p1", "text": FR}])
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "training", "score", str(tmp_path / "in.parquet"), str(tmp_path / "j*.jsonl"),
                           "--model", str(baseline_run), "--out", str(out), "--quiet"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 3, proc.stderr  # p1 repeated in j2.jsonl
    articles = read_rows(out / "articles.jsonl")
    assert [a["id"] for a in articles] == ["p1", "p2", "j1", "p1"]
    assert articles[0]["source"] == "wire" and articles[0]["origin"].endswith("in.parquet:1")
    assert articles[3]["status"] == "error" and "in.parquet:1" in articles[3]["error"]
