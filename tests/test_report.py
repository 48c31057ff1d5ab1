"""HTML reports from score folders and ``inspect --html``: content, self-containment, schema from the rows."""
from __future__ import annotations

import re
from html import escape

import pytest

from inference.html import infer_schema, read_score_dir, render_article, render_report
from inference.runfolder import read_schema

from .conftest import read_jsonl, write_jsonl
from .test_scoring import FR, SEED, stanceframe

ARTICLES = [
    {"id": "a1", "title": "Paris leaves", "source": "Le Sahel", "date": "2024-01-05", "lang": "en",
     "url": "https://example.org/a1", "text": "Thousands demanded the departure of the French troops. Russia is a sincere partner."},
    {"id": "a2", "title": "Wagner", "source": "Reuters", "date": "2024-03-17", "text": FR},
    {"id": "a3", "title": "Moscou", "source": "Reuters", "date": "2024-05-02", "lang": "fr",
     "text": "Le gouvernement a salué l'aide précieuse de la Russie.\n\nLes troupes américaines partiront."},
    {"id": "a4", "title": "<script>alert(1)</script>", "source": "RFI", "date": "2024-05-20", "text": "   "},
    "{broken",
]


@pytest.fixture(scope="module")
def scored(baseline_run, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("report")
    src = write_jsonl(tmp / "articles.jsonl", ARTICLES)
    proc = stanceframe("score", SEED.parent, src, "--model", baseline_run, "--out", tmp / "out", "--explain", "--quiet")
    assert proc.returncode == 3, proc.stderr  # the broken line is an error row
    return tmp / "out"


def no_external_references(html: str) -> None:
    assert "<link" not in html and " src=" not in html and "@import" not in html and "url(" not in html
    assert "default-src 'none'" in html  # the CSP forbids any fetch the markup might still try
    for m in re.finditer(r'href="([^"#][^"]*)"', html):
        assert m.group(1).startswith("https://example.org/"), m.group(1)  # only the articles' own links


def test_report_command(scored, baseline_run, tmp_path):
    out = tmp_path / "report.html"
    proc = stanceframe("report", scored, "--out", out)
    assert proc.returncode == 0, proc.stderr
    html = out.read_text("utf-8")
    articles = read_jsonl(scored / "articles.jsonl")
    sentences = read_jsonl(scored / "sentences.jsonl")
    schema = read_schema(baseline_run)
    no_external_references(html)
    for section in ("overview", "sources", "time", "articles", "texts"):
        assert f'id="{section}"' in html
    # totals and per-target shares
    n = sum(a["n_sentences"] for a in articles)
    assert f'<div class="v">{len(articles)}</div>' in html and f'<div class="v">{n}</div>' in html
    for f, target in zip(schema.stance_fields, schema.targets):
        for v in schema.polar_values:
            count = sum(1 for s in sentences if s[f] == v)
            assert f"{v} <b>" in html and f"({count})" in html
        assert f"<h4>{target} <small" in html and f"{target}: share of sentences" in html
    for fr in schema.frames:
        assert f"<b>{fr}</b>" in html
    # the table has every article, the error row included, escaped
    table = html[html.index('id="articles"'):html.index('id="texts"')]
    assert table.count("<tr>") == len(articles) + 1
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in table and "<script>alert" not in html
    assert 'class="bad"' in table
    # every sentence of the readable articles is highlighted, with its tip and explanation words
    assert html.count('<span class="s ') == len(sentences)
    for s in sentences:
        assert escape(s["text"]) in html
    assert html.count('<template class="tip">') == len(sentences)
    words = {w for s in sentences for per in s["explanation"].values() for ws in per.values() for w, _ in ws}
    assert words and '<span class="w ' in html and all(escape(w) in html for w in words)
    # the seed's blank lines become paragraphs (title + 11 paragraphs)
    seed_doc = html[html.index('id="a0"'):html.index('id="a1"')]
    assert seed_doc.count("<p>") == SEED.read_text("utf-8").strip().count("\n\n") + 1


def test_report_without_explanations_source_or_dates(baseline_run, tmp_path):
    src = write_jsonl(tmp_path / "plain.jsonl", [{"id": "p1", "text": FR}, {"id": "p2", "text": "Washington a suspendu son aide."}])
    assert stanceframe("score", src, "--model", baseline_run, "--out", tmp_path / "out", "--quiet").returncode == 0
    proc = stanceframe("report", tmp_path / "out", "--out", tmp_path / "r.html", "--max-texts", "1", "--title", "Plain")
    assert proc.returncode == 0, proc.stderr
    html = (tmp_path / "r.html").read_text("utf-8")
    assert 'id="sources"' not in html and 'id="time"' not in html and "<title>Plain</title>" in html
    assert html.count('<article class="doc"') == 1 and "Showing the text of 1 of 2" in html
    assert "score with <code>--explain</code>" in html


def test_report_usage_errors(tmp_path):
    proc = stanceframe("report", tmp_path / "nothing", "--out", tmp_path / "r.html")
    assert proc.returncode == 2 and "no such folder" in proc.stderr
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "articles.jsonl.partial").write_text("")
    proc = stanceframe("report", tmp_path / "half", "--out", tmp_path / "r.html")
    assert proc.returncode == 2 and "--resume" in proc.stderr and not (tmp_path / "r.html").exists()


def test_schema_comes_from_the_rows(scored, baseline_run):
    articles, sentences = read_score_dir(scored)
    schema = read_schema(baseline_run)
    assert infer_schema(articles, [s for rows in sentences.values() for s in rows]) == schema
    assert infer_schema(articles, []) == schema  # article columns alone


def test_other_label_schemes_render_without_code_changes():
    """Targets and frames come from the rows: a ``china`` target and an ``economy`` frame just appear."""
    probs = {"stance_china": {"favor": 0.8, "against": 0.1, "none": 0.1}, "frames": {"economy": 0.9}}
    sent = {"article_id": "c1", "index": 0, "text": "Beijing financed the new railway.", "start": 0, "end": 33,
            "lang": "en", "stance_china": "favor", "frames": ["economy"], "probabilities": probs,
            "explanation": {"stance_china": {"favor": [["financed", 0.7]]}, "frames": {"economy": [["railway", 0.9]]}}}
    art = {"id": "c1", "source": "wire", "date": "2024-02-01", "status": "ok", "n_sentences": 1,
           "stance_china_favor": 1, "stance_china_favor_share": 1.0, "stance_china_against": 0,
           "stance_china_against_share": 0.0, "frame_economy": 1, "frame_economy_share": 1.0}
    schema = infer_schema([art], [sent])
    assert schema.targets == ("china",) and schema.frames == ("economy",)
    html = render_report([art, {**art, "id": "c2", "date": "2024-03-01"}], {"c1": [sent]})
    assert "china favor" in html and "economy" in html and "financed" in html
    assert "west" not in html.lower() and "russia" not in html.lower() and "security" not in html


def test_render_article_keeps_line_breaks_of_the_text():
    schema = infer_schema([], [])
    text = "First line\nsecond line.\n\nNew paragraph."
    rows = [{"index": i, "text": text[a:b], "start": a, "end": b, "frames": [], "probabilities": {}}
            for i, (a, b) in enumerate([(0, 10), (11, 23), (25, 39)])]
    html = render_article({"id": "x", "status": "ok", "n_sentences": 3}, rows, schema, text)
    assert html.count("<br>") == 1 and html.count("<p>") == 2


def test_inspect_html(baseline_run, tmp_path):
    out = tmp_path / "seed.html"
    proc = stanceframe("inspect", SEED, "--model", baseline_run, "--html", out)
    assert proc.returncode == 0, proc.stderr
    html = out.read_text("utf-8")
    no_external_references(html)
    assert html.count('<article class="doc"') == 1 and 'id="overview"' in html and 'table class="sortable"' in html
    from inference import Predictor

    result = next(Predictor.load(baseline_run).score_articles([{"id": "seed", "text": SEED.read_text("utf-8")}]))
    assert html.count('<span class="s ') == len(result.sentences)
    assert "score with <code>--explain</code>" not in html  # inspect always explains
