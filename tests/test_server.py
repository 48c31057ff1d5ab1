"""The HTTP service on a real uvicorn server on loopback (and TestClient for details): the same rows as
the CLI, size limits before parsing, field-naming 422s, concurrency, and the ``serve`` command itself."""
from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import httpx
import pytest

from inference import Predictor
from inference.scoring import score_files

from .conftest import ROOT, read_jsonl, write_jsonl
from .test_scoring import FR, SEED

LIMIT = 64_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running(app):
    """Serve ``app`` with uvicorn on a free loopback port in a background thread; yield its base URL."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{server.config.port}"
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture(scope="module")
def predictor(baseline_run):
    return Predictor.load(baseline_run)


@pytest.fixture(scope="module")
def app(predictor):
    from inference.server import create_app

    return create_app(predictor, max_body_bytes=LIMIT)


@pytest.fixture(scope="module")
def live_url(app):
    with running(app) as url:
        yield url


ARTICLES = [
    {"id": "seed", "text": SEED.read_text("utf-8"), "title": "Niger-Russia", "source": "web", "date": "2024-04-26"},
    {"id": "fr", "text": FR, "lang": "fr", "source": "wire"},
    {"id": "blank", "text": "   "},
    {"id": "fr", "text": "Encore un texte."},  # repeated id: an error row, as in the CLI
]


def test_health_and_docs(live_url, predictor):
    h = httpx.get(f"{live_url}/health").json()
    assert h["status"] == "ok" and h["targets"] == list(predictor.schema.targets)
    assert h["frames"] == list(predictor.schema.frames) and h["max_body_bytes"] == LIMIT
    spec = httpx.get(f"{live_url}/openapi.json").json()
    assert {"/predict", "/score", "/health", "/render"} <= set(spec["paths"])
    assert "413" in spec["info"]["description"]
    assert httpx.get(f"{live_url}/docs").status_code == 200


def test_predict_matches_the_library(live_url, predictor):
    sentences = ["Niger ended its military agreements with France.", "Wagner a quitté le Mali."]
    r = httpx.post(f"{live_url}/predict", json={"sentences": sentences, "explain": True})
    assert r.status_code == 200, r.text
    got = r.json()["predictions"]
    want = predictor.predict(sentences, explain=True)
    assert [g["text"] for g in got] == sentences
    for g, w in zip(got, want):
        assert g == {"text": g["text"], **json.loads(json.dumps(w.to_json()))}
    plain = httpx.post(f"{live_url}/predict", json={"sentences": sentences[:1]}).json()["predictions"][0]
    assert "explanation" not in plain and set(predictor.schema.stance_fields) <= set(plain)


def test_score_rows_match_the_cli(live_url, predictor, tmp_path):
    src = write_jsonl(tmp_path / "in.jsonl", ARTICLES)
    score_files(predictor, [src], tmp_path / "out", explain=True)
    cli_articles, cli_sentences = read_jsonl(tmp_path / "out" / "articles.jsonl"), read_jsonl(tmp_path / "out" / "sentences.jsonl")
    r = httpx.post(f"{live_url}/score", json={"articles": ARTICLES, "explain": True}, timeout=30)
    assert r.status_code == 200, r.text
    body = r.json()
    assert [a["status"] for a in body["articles"]] == ["ok", "ok", "empty", "error"]
    assert "duplicate id 'fr'" in body["articles"][3]["error"]
    for api, cli in zip(body["articles"], cli_articles, strict=True):
        assert api["origin"].startswith("request item ") and cli["origin"].startswith(str(src))
        assert {k: v for k, v in api.items() if k not in ("origin", "error")} == \
               {k: v for k, v in cli.items() if k not in ("origin", "error")}
    assert body["sentences"] == cli_sentences


def test_body_limit_is_enforced_before_parsing(live_url):
    big = {"sentences": ["x" * (LIMIT + 10)]}
    r = httpx.post(f"{live_url}/predict", json=big)
    assert r.status_code == 413 and str(LIMIT) in r.json()["message"]

    def chunks():  # no Content-Length: counted as it arrives
        for _ in range(LIMIT // 1000 + 5):
            yield b" " * 1000

    r = httpx.post(f"{live_url}/score", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413
    # not even valid JSON: still 413, since the size is checked first
    r = httpx.post(f"{live_url}/score", content=b"{" * (LIMIT + 1), headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert httpx.get(f"{live_url}/health").status_code == 200  # the server is fine afterwards


@pytest.mark.parametrize("body, field", [
    ({"articles": [{"id": "a"}]}, "articles[0].text"),
    ({"articles": [{"id": "a", "text": 3}]}, "articles[0].text"),
    ({"articles": [{"id": "", "text": "x"}]}, "articles[0].id"),
    ({"articles": []}, "articles"),
    ({"articles": [{"id": "a", "text": "x"}], "explain": "maybe"}, "explain"),
    ({"article": [{"id": "a", "text": "x"}]}, "articles"),
])
def test_score_bad_bodies_name_the_field(app, body, field):
    from fastapi.testclient import TestClient

    r = TestClient(app).post("/score", json=body)
    assert r.status_code == 422
    assert r.json()["message"].startswith(field) or f"; {field}" in r.json()["message"], r.json()["message"]
    assert r.json()["detail"]


def test_other_bad_bodies(app, live_url):
    from fastapi.testclient import TestClient

    client = TestClient(app)
    r = client.post("/predict", json={"sentences": "one sentence"})
    assert r.status_code == 422 and r.json()["message"].startswith("sentences")
    r = client.post("/predict", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422 and "JSON" in r.json()["message"]
    r = httpx.post(f"{live_url}/render", json={"text": ""})
    assert r.status_code == 422 and r.json()["message"].startswith("text")


def test_concurrent_requests_are_safe(live_url, predictor):
    texts = [f"Sentence {i}: the French troops left Niamey and Russian instructors arrived." for i in range(24)]
    want = [p.to_json() for p in predictor.predict(texts)]

    def call(i):
        with httpx.Client(timeout=30) as c:
            if i % 2:
                return i, c.post(f"{live_url}/predict", json={"sentences": [texts[i]]}).json()["predictions"][0]
            art = c.post(f"{live_url}/score", json={"articles": [{"id": str(i), "text": texts[i], "lang": "en"}]}).json()
            return i, art["sentences"][0]

    with ThreadPoolExecutor(12) as pool:
        results = list(pool.map(call, range(len(texts))))
    for i, row in results:
        assert row["text"] == texts[i]
        assert {k: row[k] for k in want[i]} == json.loads(json.dumps(want[i]))


def test_page_and_render(live_url, predictor):
    page = httpx.get(f"{live_url}/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert "<form" in html and "/render" in html and "<textarea" in html
    assert "<link" not in html and " src=" not in html and "@import" not in html and "url(" not in html
    r = httpx.post(f"{live_url}/render", json={"text": SEED.read_text("utf-8")}, timeout=30)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["html"].count('class="s ') == body["article"]["n_sentences"] == len(body["sentences"]) > 5
    assert all("explanation" in s for s in body["sentences"])


def test_serve_command_binds_loopback(baseline_run):
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "training", "serve", "--model", str(baseline_run), "--port", str(port)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.stdout.read()
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "serve did not come up"
            time.sleep(0.2)
        r = httpx.post(f"http://127.0.0.1:{port}/predict", json={"sentences": ["Paris a retiré ses troupes."]})
        assert r.status_code == 200
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=20)
    assert f"http://127.0.0.1:{port}" in out


def test_serve_command_rejects_bad_run(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "training", "serve", "--model", str(tmp_path), "--port", "1"],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 2 and "error:" in proc.stderr
