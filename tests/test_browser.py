"""A real browser (Debian's headless Chromium driven by Playwright) on the service's page and on a report.

Skipped only when /usr/bin/chromium is absent; CI installs it (``apt-get install chromium chromium-driver``)."""
from __future__ import annotations

from pathlib import Path

import pytest

from data.articles import ArticleInput
from inference.html import render_report
from inference.scoring import score_batch

from .test_scoring import SEED
from .test_server import app, live_url, predictor  # noqa: F401  (fixtures: a real uvicorn server)

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium "
                                                             "(apt-get install chromium chromium-driver)")
FLAGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        # headless=True adds --headless; the persistent context gives a fresh --user-data-dir
        context = pw.chromium.launch_persistent_context(str(tmp_path_factory.mktemp("chromium-profile")),
                                                        executable_path=str(CHROMIUM), headless=True, args=FLAGS)
        yield context
        context.close()


def open_page(browser, width=1366, height=800):
    page = browser.new_page()
    page.set_viewport_size({"width": width, "height": height})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    return page, errors


def expected_chips(row: dict, schema) -> list[str]:
    chips = [f"{t} {row[f]}" for f, t in zip(schema.stance_fields, schema.targets) if row[f] in schema.polar_values]
    return chips + list(row["frames"])


@pytest.mark.parametrize("width, height", [(1366, 800), (390, 844)])
def test_page_labels_the_pasted_article(browser, live_url, predictor, width, height):  # noqa: F811
    text = SEED.read_text("utf-8")
    want = score_batch(predictor, [ArticleInput("seed", text, "test")], explain=True)[0].sentences
    page, errors = open_page(browser, width, height)
    page.goto(f"{live_url}/")
    page.fill("#text", text)
    page.click("#go")
    page.wait_for_selector("#result .s")
    spans = page.locator("#result .s")
    assert spans.count() == len(want) > 5
    for k, row in enumerate(want):
        span = spans.nth(k)
        assert row["text"] in span.inner_text()
        assert span.locator(".chip").all_inner_texts() == expected_chips(row, predictor.schema)
    classes = spans.evaluate_all("els => els.map(e => e.className)")
    assert any("s-favor" in c or "s-against" in c or "s-mixed" in c for c in classes)
    assert f"{len(want)} sentences labelled" in page.inner_text("#status")
    # hover (laptop) or tap (phone) shows probabilities and the words behind the labels
    k = next(i for i, r in enumerate(want) if r.get("explanation"))
    if width > 720:
        spans.nth(k).hover()
    else:
        spans.nth(k).click()
    tip = page.locator("#tip")
    tip.wait_for(state="visible")
    tip_text = tip.inner_text()
    assert f"Sentence {k + 1}" in tip_text and "why" in tip_text
    head, per = next(iter(want[k]["explanation"].items()))
    label, words = next(iter(per.items()))
    assert words[0][0] in tip_text
    for v, p in want[k]["probabilities"][predictor.schema.stance_fields[0]].items():
        assert f"{p:.2f}" in tip_text
    box = tip.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= width + 1  # inside the screen
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # no sideways scrolling
    assert not errors, errors
    page.close()


def test_report_opens_offline_with_charts(browser, predictor, tmp_path):  # noqa: F811
    articles = [{"id": f"n{i}", "text": t, "source": s, "date": d} for i, (t, s, d) in enumerate([
        (SEED.read_text("utf-8"), "web", "2024-04-26"),
        ("Des manifestants ont exigé le départ des troupes françaises. Le ministre a salué Moscou.", "wire", "2024-02-10"),
        ("Washington withdrew its troops from Niger. Russia sent instructors.", "wire", "2024-06-01"),
    ])]
    results = list(predictor.score_articles(articles))
    out = tmp_path / "report.html"
    out.write_text(render_report([r.article for r in results], {r.article["id"]: r.sentences for r in results}),
                   encoding="utf-8")
    page, errors = open_page(browser)
    requests: list[str] = []
    page.on("request", lambda req: requests.append(req.url))
    page.goto(out.as_uri())
    page.wait_for_load_state("networkidle")
    assert requests == [out.as_uri()], requests  # the document itself, nothing else
    for selector in ("#sources svg.bsvg", "#time svg.lsvg"):
        charts = page.locator(selector)
        assert charts.count() > 0
        box = charts.first.bounding_box()
        assert box and box["width"] > 100 and box["height"] > 10
    assert page.locator("#time svg.lsvg path").count() >= len(predictor.schema.targets)
    # sortable table: sort by sentence count, both ways
    counts = sorted(r.article["n_sentences"] for r in results)
    header = page.locator("#articles th button", has_text="sentences")
    header.click()
    col = "els => els.map(e => Number(e.cells[5].dataset.v))"
    assert page.locator("#articles tbody tr").evaluate_all(col) == counts
    header.click()
    assert page.locator("#articles tbody tr").evaluate_all(col) == counts[::-1]
    # the text is highlighted and hovering shows the panel
    page.locator("#texts .s").first.hover()
    page.locator("#tip").wait_for(state="visible")
    assert page.locator("#texts .s").count() == sum(len(r.sentences) for r in results)
    assert not errors, errors
    page.close()
    phone, errors = open_page(browser, 390, 844)  # the wide table scrolls in its own box, not the page
    phone.goto(out.as_uri())
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390 and not errors
    phone.close()
