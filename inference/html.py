"""Self-contained HTML views of scored articles: the ``report`` file, ``inspect --html`` and the
``serve`` page all come from here.

One renderer: :func:`render_article` turns an article row and its sentence rows into highlighted
text (labels as chips, probabilities and explanations in a hover/tap panel); :func:`render_report`
wraps overview figures, inline-SVG charts, a sortable table and those articles into one document;
:func:`render_page` is the service's page, which asks the server for :func:`render_article` output.
Everything (CSS, JS, charts) is inline: the files open offline and fetch nothing.

Labels come from the :class:`~data.schema.LabelSchema` (a model's, or :func:`infer_schema` from the
rows of a score folder); only the stance *values* ``favor``/``against`` get their own colours.
"""
from __future__ import annotations

import datetime as _dt
import json
from html import escape
from pathlib import Path
from typing import Iterable

from data.schema import LabelSchema

DEFAULT_MAX_TEXTS = 200

# --------------------------------------------------------------------------------------------- data


def infer_schema(articles: Iterable[dict] = (), sentences: Iterable[dict] = ()) -> LabelSchema:
    """The label schema of score rows: from a sentence's ``probabilities`` when there is one, else
    from the article columns (``stance_<target>_<value>_share``, ``frame_<frame>_share``)."""
    for s in sentences:
        probs = s.get("probabilities") or {}
        fields = [k for k in probs if k.startswith("stance_")]
        if fields:
            values = list(probs[fields[0]])
            return LabelSchema(tuple(f[len("stance_"):] for f in fields), tuple(values), tuple(probs.get("frames", {})),
                               "none" if "none" in values else values[-1])
    targets: list[str] = []
    values: list[str] = []
    frames: list[str] = []
    for a in articles:
        for key in a:
            if not key.endswith("_share"):
                continue
            base = key[: -len("_share")]
            if base.startswith("frame_") and base[6:] not in frames:
                frames.append(base[6:])
            elif base.startswith("stance_"):
                target, _, value = base[7:].rpartition("_")
                if target and target not in targets:
                    targets.append(target)
                if value and value not in values:
                    values.append(value)
        if targets:
            break
    if not targets:
        return LabelSchema()
    return LabelSchema(tuple(targets), (*values, "none"), tuple(frames), "none")


def read_score_dir(path: str | Path, max_texts: int = DEFAULT_MAX_TEXTS) -> tuple[list[dict], dict[str, list[dict]]]:
    """Article rows (all) and sentence rows of the first ``max_texts`` articles (all when 0), by id.

    Sentence rows are streamed, so a large folder costs memory only for the articles shown."""
    folder = Path(path)
    arts, sents = folder / "articles.jsonl", folder / "sentences.jsonl"
    if not folder.is_dir():
        raise ValueError(f"{folder}: no such folder")
    if not arts.is_file() or not sents.is_file():
        partial = (folder / "articles.jsonl.partial").exists()
        raise ValueError(f"{folder}: not a finished score folder (no articles.jsonl / sentences.jsonl)"
                         + ("; an interrupted run is there: finish it with `stanceframe score ... --resume`" if partial else ""))
    articles = []
    with open(arts, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if line.strip():
                try:
                    articles.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise ValueError(f"{arts}:{lineno}: malformed JSON ({exc.msg})") from None
    shown = [a["id"] for a in articles if a.get("status") == "ok"]
    keep = set(shown if not max_texts else shown[:max_texts])
    by_id: dict[str, list[dict]] = {}
    with open(sents, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{sents}:{lineno}: malformed JSON ({exc.msg})") from None
            if row.get("article_id") in keep:
                by_id.setdefault(row["article_id"], []).append(row)
    return articles, by_id


# ----------------------------------------------------------------------------------------- helpers

def _pct(x: float) -> str:
    return f"{100 * x:.1f}%" if x else "0%"


def _polar_class(value: str) -> str:
    return value if value in ("favor", "against") else "other"


def _sentence_class(row: dict, schema: LabelSchema) -> str:
    polar = {row.get(f) for f in schema.stance_fields} & set(schema.polar_values)
    if len(polar) > 1:
        return "s-mixed"
    if polar:
        return f"s-{_polar_class(polar.pop())}"
    return "s-frame" if row.get("frames") else "s-plain"


def _bar(p: float, cls: str) -> str:
    return (f'<span class="pbar"><span class="pfill {cls}" style="width:{max(0.0, min(1.0, p)) * 100:.1f}%"></span></span>'
            f'<span class="pnum">{p:.2f}</span>')


def _tip(row: dict, schema: LabelSchema) -> str:
    """The panel shown on hover/tap: probabilities of every head and the words behind each label."""
    probs = row.get("probabilities") or {}
    out = [f'<div class="tip-h">Sentence {int(row.get("index", 0)) + 1}</div>']
    for f, target in zip(schema.stance_fields, schema.targets):
        value = row.get(f, "")
        out.append(f'<div class="tip-sec"><b>{escape(target)}</b> <span class="chip c-{_polar_class(value) if value in schema.polar_values else "none"}">'
                   f'{escape(value)}</span><table class="ptab">')
        for v in schema.stance_values:
            p = float((probs.get(f) or {}).get(v, 0.0))
            cls = _polar_class(v) if v in schema.polar_values else "none"
            out.append(f'<tr class="{"on" if v == value else ""}"><td>{escape(v)}</td><td>{_bar(p, cls)}</td></tr>')
        out.append("</table></div>")
    if schema.frames:
        out.append('<div class="tip-sec"><b>frames</b><table class="ptab">')
        on = set(row.get("frames") or [])
        for fr in schema.frames:
            p = float((probs.get("frames") or {}).get(fr, 0.0))
            out.append(f'<tr class="{"on" if fr in on else ""}"><td>{escape(fr)}</td><td>{_bar(p, "frame")}</td></tr>')
        out.append("</table></div>")
    expl = row.get("explanation")
    if expl:
        out.append('<div class="tip-sec"><b>why</b>')
        for head, per_label in expl.items():
            name = head.removeprefix("stance_")
            for label, words in per_label.items():
                if not words:
                    continue
                cls = _polar_class(label) if head != "frames" else "frame"
                chips = " ".join(f'<span class="w w-{cls}">{escape(str(w))} <small>{float(s):.2f}</small></span>' for w, s in words)
                out.append(f'<div class="why"><span class="why-l">{escape(name)} = {escape(label)}</span> {chips}</div>')
        out.append("</div>")
    elif row.get("explanation") is None:
        out.append('<div class="tip-sec muted">No explanation in these rows (score with <code>--explain</code>).</div>')
    return "".join(out)


def _chips(row: dict, schema: LabelSchema) -> str:
    chips = []
    for f, target in zip(schema.stance_fields, schema.targets):
        v = row.get(f)
        if v in schema.polar_values:
            p = float(((row.get("probabilities") or {}).get(f) or {}).get(v, 0.0))
            chips.append(f'<span class="chip c-{_polar_class(v)}" title="{escape(target)}: {escape(v)} ({p:.2f})">'
                         f'{escape(target)} {escape(v)}</span>')
    for fr in row.get("frames") or []:
        chips.append(f'<span class="chip c-frame">{escape(fr)}</span>')
    return f'<span class="chips">{"".join(chips)}</span>' if chips else ""


def _gap_html(gap: str) -> str:
    """The text between two sentences: a paragraph break for a blank line, a line break for one newline."""
    if "\n" not in gap:
        return " " if gap else ""
    return "</p><p>" if gap.count("\n") >= 2 else "<br>"


def render_article(article: dict, sentences: list[dict], schema: LabelSchema, text: str | None = None,
                   anchor: str | None = None) -> str:
    """An article as highlighted text: a header (title, metadata, label counts) and every sentence
    with its label chips and a hover/tap panel. With ``text`` the original line breaks are kept;
    without it (a score folder), a gap of two or more characters between sentences starts a paragraph."""
    title = article.get("title") or article.get("id", "article")
    meta = [escape(str(article[k])) for k in ("source", "date", "lang") if article.get(k)]
    if article.get("url"):
        meta.append(f'<a href="{escape(str(article["url"]))}" rel="noreferrer noopener">link</a>')
    meta.append(f'{article.get("n_sentences", len(sentences))} sentences')
    summary = []
    n = article.get("n_sentences") or len(sentences)
    for f, target in zip(schema.stance_fields, schema.targets):
        for v in schema.polar_values:
            count = article.get(f"{f}_{v}", sum(1 for s in sentences if s.get(f) == v))
            if count:
                summary.append(f'<span class="chip c-{_polar_class(v)}">{escape(target)} {escape(v)} {count}/{n}</span>')
    for fr in schema.frames:
        count = article.get(f"frame_{fr}", sum(1 for s in sentences if fr in (s.get("frames") or [])))
        if count:
            summary.append(f'<span class="chip c-frame">{escape(fr)} {count}/{n}</span>')
    head = (f'<header class="doc-h"><h3>{escape(str(title))}</h3>'
            f'<div class="meta">{" · ".join(meta)}</div>'
            f'<div class="sum">{"".join(summary) or "<span class=muted>no stance or frame</span>"}</div></header>')
    status = article.get("status", "ok")
    if status != "ok":
        body = (f'<p class="muted">This article is <b>{escape(status)}</b>'
                + (f': {escape(str(article["error"]))}' if article.get("error") else "") + ".</p>")
    else:
        parts = ["<p>"]
        prev_end = None
        for row in sorted(sentences, key=lambda r: r.get("index", 0)):
            start, end = int(row.get("start", 0)), int(row.get("end", 0))
            if prev_end is not None:
                if text is not None:
                    gap = text[prev_end:start] if start >= prev_end else " "
                else:
                    gap = " " if start - prev_end <= 1 else "\n\n"
                parts.append(_gap_html(gap))
            parts.append(f'<span class="s {_sentence_class(row, schema)}" tabindex="0">'
                         f'{escape(row.get("text", ""))}{_chips(row, schema)}'
                         f'<template class="tip">{_tip(row, schema)}</template></span>')
            prev_end = end
        parts.append("</p>")
        body = "".join(parts).replace("<p></p>", "")
    aid = f' id="{escape(anchor)}"' if anchor else ""
    return f'<article class="doc"{aid}>{head}<div class="text">{body}</div></article>'


def legend(schema: LabelSchema) -> str:
    items = []
    for v in schema.polar_values:
        items.append(f'<span class="lg"><span class="sw s-{_polar_class(v)}"></span>{escape(v)}</span>')
    if len(schema.polar_values) > 1:
        items.append(f'<span class="lg"><span class="sw s-mixed"></span>{" and ".join(map(escape, schema.polar_values))} '
                     f'(different targets)</span>')
    items.append('<span class="lg"><span class="sw s-frame"></span>frame only</span>')
    items.append('<span class="lg"><span class="chip c-frame">frame</span> tag</span>')
    return (f'<div class="legend">{"".join(items)}<span class="lg muted">Hover or tap a sentence for probabilities '
            f'and the words behind each label.</span></div>')


# ------------------------------------------------------------------------------------------ charts

def _parse_date(value) -> _dt.date | None:
    if not isinstance(value, str) or len(value) < 7:
        return None
    for fmt, n in (("%Y-%m-%d", 10), ("%Y-%m", 7)):
        try:
            return _dt.datetime.strptime(value[:n], fmt).date()
        except ValueError:
            continue
    return None


def _stance_rows(schema: LabelSchema, groups: list[tuple[str, list[dict]]]) -> str:
    """Diverging bars per group and target: share of sentences against (left, red) and favor (right, green)."""
    polar = list(schema.polar_values)
    out = []
    for f, target in zip(schema.stance_fields, schema.targets):
        all_shares = [[sum(a.get(f"{f}_{v}", 0) for a in rows) / (sum(a.get("n_sentences", 0) for a in rows) or 1)
                       for v in polar] for _, rows in groups]
        peak = max([sum(sh) - (sh[1] if len(sh) > 1 else 0) for sh in all_shares] + [sh[1] for sh in all_shares if len(sh) > 1])
        scale = next(t for t in (0.1, 0.2, 0.4, 0.6, 0.8, 1.0) if peak <= t)  # half the bar is this share
        out.append(f'<div class="chart"><h4>{escape(target)} <small class="muted">(each side: 0 to {round(scale * 100)}%)</small></h4>')
        for (name, rows), shares in zip(groups, all_shares):
            rects = []
            # first polar value to the right of the axis, the second to the left, others stacked right
            right = 100.0
            for k, (v, share) in enumerate(zip(polar, shares)):
                w = min(100.0, share / scale * 100)
                if k == 1:
                    rects.append(f'<rect x="{100 - w:.2f}" y="0" width="{w:.2f}" height="14" class="f-{_polar_class(v)}"/>')
                else:
                    rects.append(f'<rect x="{right:.2f}" y="0" width="{w:.2f}" height="14" class="f-{_polar_class(v)}"/>')
                    right += w
            nums = " / ".join(f'<span class="t-{_polar_class(v)}">{_pct(s)}</span>' for v, s in zip(polar, shares))
            out.append(f'<div class="brow"><span class="blabel" title="{escape(name)}">{escape(name)} '
                       f'<small>({sum(1 for _ in rows)})</small></span>'
                       f'<svg class="bsvg" viewBox="0 0 200 14" preserveAspectRatio="none" role="img" '
                       f'aria-label="{escape(target)} in {escape(name)}">{"".join(rects)}'
                       f'<line x1="100" y1="0" x2="100" y2="14" class="axis"/></svg><span class="bnum">{nums}</span></div>')
        out.append("</div>")
    return "".join(out)


_FRAME_COLOURS = ("#0969da", "#8250df", "#bc4c00", "#1b7c83", "#bf3989", "#4d2d00", "#57606a")


def _line_chart(title: str, series: list[tuple[str, str, list[tuple[_dt.date, float]]]], label_fmt: str) -> str:
    """An SVG line chart of shares over time; ``series`` are (name, colour, [(date, share)])."""
    W, H, L, R, T, B = 560, 230, 62, 46, 14, 36
    dates = sorted({d for _, _, pts in series for d, _ in pts})
    if not dates:
        return ""
    d0, d1 = dates[0].toordinal(), dates[-1].toordinal()
    peak = max(v for _, _, pts in series for _, v in pts)
    top = next(t for t in (0.08, 0.2, 0.4, 0.6, 0.8, 1.0) if peak <= t)  # ticks of 2, 5, 10, 15, 20, 25%

    def x(d: _dt.date) -> float:
        return L + (W - L - R) * ((d.toordinal() - d0) / (d1 - d0) if d1 > d0 else 0.5)

    def y(v: float) -> float:
        return T + (H - T - B) * (1 - v / top)

    g = []
    for k in range(5):
        v = top * k / 4
        g.append(f'<line x1="{L}" x2="{W - R}" y1="{y(v):.1f}" y2="{y(v):.1f}" class="grid"/>'
                 f'<text x="{L - 8}" y="{y(v) + 5:.1f}" text-anchor="end">{round(v * 100)}%</text>')
    step = max(1, -(-len(dates) // 5))
    for d in dates[::step]:
        g.append(f'<text x="{x(d):.1f}" y="{H - 10}" text-anchor="middle">{d.strftime(label_fmt)}</text>')
    legend_items = []
    for name, colour, pts in series:
        pts = sorted(pts)
        path = " ".join(f'{"M" if i == 0 else "L"}{x(d):.1f},{y(v):.1f}' for i, (d, v) in enumerate(pts))
        g.append(f'<path d="{path}" fill="none" stroke="{colour}" stroke-width="2.5" stroke-linejoin="round"/>')
        g.extend(f'<circle cx="{x(d):.1f}" cy="{y(v):.1f}" r="3.5" fill="{colour}"><title>{escape(name)} '
                 f'{d.strftime(label_fmt)}: {_pct(v)}</title></circle>' for d, v in pts)
        legend_items.append(f'<span class="lg"><span class="sw" style="background:{colour}"></span>{escape(name)}</span>')
    return (f'<div class="chart"><h4>{escape(title)}</h4><div class="legend small">{"".join(legend_items)}</div>'
            f'<div class="svgwrap"><svg class="lsvg" viewBox="0 0 {W} {H}" role="img" aria-label="{escape(title)}">'
            f'{"".join(g)}</svg></div></div>')


def _time_charts(schema: LabelSchema, articles: list[dict]) -> str:
    dated = [(d, a) for a in articles if a.get("status") == "ok" and (d := _parse_date(a.get("date")))]
    if len({d for d, _ in dated}) < 2:
        return ""
    span = (max(d for d, _ in dated) - min(d for d, _ in dated)).days
    monthly = span > 62
    buckets: dict[_dt.date, list[dict]] = {}
    for d, a in dated:
        buckets.setdefault(d.replace(day=1) if monthly else d, []).append(a)
    fmt = "%b %Y" if monthly else "%d %b"

    def share(rows: list[dict], key: str) -> float:
        n = sum(a.get("n_sentences", 0) for a in rows)
        return sum(a.get(key, 0) for a in rows) / n if n else 0.0

    colours = {"favor": "#1a7f37", "against": "#cf222e"}
    out = []
    for f, target in zip(schema.stance_fields, schema.targets):
        series = [(v, colours.get(v, "#57606a"), [(d, share(rows, f"{f}_{v}")) for d, rows in buckets.items()])
                  for v in schema.polar_values]
        out.append(_line_chart(f"{target}: share of sentences", series, fmt))
    if schema.frames:
        series = [(fr, _FRAME_COLOURS[i % len(_FRAME_COLOURS)], [(d, share(rows, f"frame_{fr}")) for d, rows in buckets.items()])
                  for i, fr in enumerate(schema.frames)]
        out.append(_line_chart("frames: share of sentences", series, fmt))
    unit = "month" if monthly else "day"
    return (f'<section id="time"><h2>Over time</h2><p class="muted">Share of sentences per {unit} '
            f'({len(dated)} dated articles).</p><div class="charts">{"".join(out)}</div></section>')


def _source_charts(schema: LabelSchema, articles: list[dict], top: int = 12) -> str:
    by: dict[str, list[dict]] = {}
    for a in articles:
        if a.get("status") == "ok" and a.get("source") not in (None, ""):
            by.setdefault(str(a["source"]), []).append(a)
    if not by:
        return ""
    ranked = sorted(by.items(), key=lambda kv: -sum(a.get("n_sentences", 0) for a in kv[1]))
    groups = ranked[:top]
    if len(ranked) > top:
        groups.append((f"{len(ranked) - top} other sources", [a for _, rows in ranked[top:] for a in rows]))
    polar = list(schema.polar_values)
    key = " · ".join(f'<span class="t-{_polar_class(v)}">{escape(v)}</span>' for v in polar)
    frame_rows = []
    for name, rows in groups:
        n = sum(a.get("n_sentences", 0) for a in rows) or 1
        cells = "".join(f'<td>{_pct(sum(a.get(f"frame_{fr}", 0) for a in rows) / n)}</td>' for fr in schema.frames)
        frame_rows.append(f"<tr><th>{escape(name)}</th>{cells}</tr>")
    frames = ""
    if schema.frames:
        frames = ('<div class="chart"><h4>frames</h4><div class="tablewrap"><table class="mini"><tr><th></th>'
                  + "".join(f"<th>{escape(fr)}</th>" for fr in schema.frames) + "</tr>" + "".join(frame_rows)
                  + "</table></div></div>")
    return (f'<section id="sources"><h2>By source</h2><p class="muted">Share of sentences per source: '
            f'{polar[0] if polar else ""} to the right of the axis, {polar[1] if len(polar) > 1 else ""} to the left '
            f'({key}); (n) = articles.</p><div class="charts">{_stance_rows(schema, groups)}{frames}</div></section>')


# -------------------------------------------------------------------------------------- documents

def _overview(schema: LabelSchema, articles: list[dict]) -> str:
    ok = [a for a in articles if a.get("status") == "ok"]
    n_sent = sum(a.get("n_sentences", 0) for a in articles)
    status = {s: sum(1 for a in articles if a.get("status") == s) for s in ("ok", "empty", "error")}
    langs: dict[str, int] = {}
    for a in ok:
        langs[str(a.get("lang", "?"))] = langs.get(str(a.get("lang", "?")), 0) + 1
    dates = sorted(d for a in ok if (d := _parse_date(a.get("date"))))
    sources = {a.get("source") for a in ok if a.get("source")}
    cards = [("articles", f'{len(articles)}', f'{status["ok"]} ok · {status["empty"]} empty · {status["error"]} errors'),
             ("sentences", f"{n_sent}", f"{n_sent / len(ok):.1f} per article" if ok else ""),
             ("languages", f"{len(langs)}", " · ".join(f"{escape(k)} {v}" for k, v in sorted(langs.items(), key=lambda kv: -kv[1])))]
    if sources:
        cards.append(("sources", str(len(sources)), ""))
    if dates:
        cards.append(("dates", f'<span class="date">{dates[0].isoformat()}</span>', f"to {dates[-1].isoformat()}"))
    out = ['<section id="overview"><h2>Overview</h2><div class="cards">']
    out.extend(f'<div class="card"><div class="k">{k}</div><div class="v">{v}</div><div class="d">{d}</div></div>'
               for k, v, d in cards)
    out.append('</div><div class="grid2"><div class="panel"><h3>Stance by target</h3>'
               '<p class="muted">Share of all sentences.</p>')
    denom = n_sent or 1
    for f, target in zip(schema.stance_fields, schema.targets):
        counts = {v: sum(a.get(f"{f}_{v}", 0) for a in articles) for v in schema.polar_values}
        segs, labels = [], []
        for v, c in counts.items():
            segs.append(f'<span class="seg f-{_polar_class(v)}" style="width:{100 * c / denom:.2f}%"></span>')
            labels.append(f'<span class="t-{_polar_class(v)}">{escape(v)} <b>{_pct(c / denom)}</b> ({c})</span>')
        out.append(f'<div class="stk"><div class="stk-h"><b>{escape(target)}</b>{"".join(labels)}</div>'
                   f'<div class="stkbar">{"".join(segs)}</div></div>')
    out.append('</div><div class="panel"><h3>Frames</h3><p class="muted">Share of all sentences; a sentence may have several.</p>')
    for i, fr in enumerate(schema.frames):
        c = sum(a.get(f"frame_{fr}", 0) for a in articles)
        out.append(f'<div class="stk"><div class="stk-h"><b>{escape(fr)}</b><span><b>{_pct(c / denom)}</b> ({c})</span></div>'
                   f'<div class="stkbar"><span class="seg" style="width:{100 * c / denom:.2f}%;background:'
                   f'{_FRAME_COLOURS[i % len(_FRAME_COLOURS)]}"></span></div></div>')
    out.append("</div></div></section>")
    return "".join(out)


def _table(schema: LabelSchema, articles: list[dict], anchors: dict[str, str]) -> str:
    cols = [("article", "text"), ("source", "text"), ("date", "text"), ("lang", "text"), ("status", "text"),
            ("sentences", "num")]
    cols = [(escape(name), kind) for name, kind in cols]
    for t in schema.targets:
        cols.extend((f'{escape(t)}<br><span class="t-{_polar_class(v)}">{escape(v)}</span>', "num") for v in schema.polar_values)
    cols.extend((f'frame<br>{escape(fr)}', "num") for fr in schema.frames)
    head = "".join(f'<th data-type="{kind}" aria-sort="none"><button type="button">{name}</button></th>'
                   for name, kind in cols)
    rows = []
    for a in articles:
        title = str(a.get("title") or a.get("id", ""))
        link = (f'<a href="#{anchors[a["id"]]}">{escape(title)}</a>' if a.get("id") in anchors else escape(title))
        status = escape(str(a.get("status", "")))
        if a.get("error"):
            status = f'<span class="bad" title="{escape(str(a["error"]))}">{status}</span>'
        cells = [f'<td data-v="{escape(title.lower())}" class="ttl">{link}</td>']
        for k in ("source", "date", "lang"):
            cells.append(f'<td data-v="{escape(str(a.get(k, "")))}">{escape(str(a.get(k, "")))}</td>')
        cells.append(f'<td data-v="{escape(str(a.get("status", "")))}">{status}</td>')
        cells.append(f'<td data-v="{a.get("n_sentences", 0)}" class="n">{a.get("n_sentences", 0)}</td>')
        for f in schema.stance_fields:
            for v in schema.polar_values:
                s = a.get(f"{f}_{v}_share", 0.0)
                cells.append(f'<td data-v="{s}" class="n t-{_polar_class(v) if s else "zero"}">{_pct(s)}</td>')
        for fr in schema.frames:
            s = a.get(f"frame_{fr}_share", 0.0)
            cells.append(f'<td data-v="{s}" class="n{"" if s else " t-zero"}">{_pct(s)}</td>')
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return (f'<section id="articles"><h2>Articles</h2><p class="muted">Click a column to sort; shares are of the '
            f'article\'s sentences.</p><div class="tablewrap"><table class="sortable"><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table></div></section>')


def _document(title: str, body: str) -> str:
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; style-src \'unsafe-inline\'; '
            f'script-src \'unsafe-inline\'; img-src data:; connect-src \'self\'">'
            f'<title>{escape(title)}</title><style>{CSS}</style></head><body>{body}'
            f'<div id="tip" role="tooltip" hidden></div><script>{JS}</script></body></html>')


def render_report(articles: list[dict], sentences: dict[str, list[dict]], schema: LabelSchema | None = None, *,
                  title: str = "stanceframe report", subtitle: str = "", texts: dict[str, str] | None = None,
                  max_texts: int = DEFAULT_MAX_TEXTS) -> str:
    """One self-contained HTML document: overview, charts by source and over time (when the rows carry
    ``source`` / ``date``), a sortable article table, and the highlighted text of the first
    ``max_texts`` readable articles (all when 0) whose sentence rows are given."""
    schema = schema or infer_schema(articles, (s for rows in sentences.values() for s in rows))
    texts = texts or {}
    shown = [a for a in articles if a.get("status") == "ok" and a.get("id") in sentences]
    if max_texts:
        shown = shown[:max_texts]
    anchors = {a["id"]: f"a{i}" for i, a in enumerate(shown)}
    docs = "".join(render_article(a, sentences[a["id"]], schema, texts.get(a["id"]), anchors[a["id"]]) for a in shown)
    n_ok = sum(1 for a in articles if a.get("status") == "ok")
    more = (f'<p class="muted">Showing the text of {len(shown)} of {n_ok} readable articles.</p>'
            if len(shown) < n_ok else "")
    charts = _source_charts(schema, articles) + _time_charts(schema, articles)
    nav = ['<a href="#overview">Overview</a>']
    if "id=\"sources\"" in charts:
        nav.append('<a href="#sources">By source</a>')
    if "id=\"time\"" in charts:
        nav.append('<a href="#time">Over time</a>')
    nav += ['<a href="#articles">Articles</a>', '<a href="#texts">Texts</a>']
    generated = _dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    body = (f'<header class="top"><div class="wrap"><h1>{escape(title)}</h1>'
            f'<p class="sub">{escape(subtitle)}{" · " if subtitle else ""}generated {generated} · labels: '
            f'{", ".join(map(escape, schema.targets))} ({"/".join(map(escape, schema.stance_values))}); '
            f'frames: {", ".join(map(escape, schema.frames)) or "none"}</p>'
            f'<nav>{"".join(nav)}</nav></div></header><main class="wrap">'
            f'{_overview(schema, articles)}{charts}{_table(schema, articles, anchors)}'
            f'<section id="texts"><h2>Texts</h2>{legend(schema)}{more}{docs}</section></main>')
    return _document(title, body)


def render_page(schema: LabelSchema, max_body_bytes: int, model: str = "") -> str:
    """The service's page: paste an article, press the button, read it highlighted (via ``POST /render``)."""
    body = (f'<header class="top"><div class="wrap"><h1>stanceframe</h1><p class="sub">Paste an article to label each '
            f'sentence: stance toward {", ".join(map(escape, schema.targets))}, and frames '
            f'({", ".join(map(escape, schema.frames))}).{" Model: " + escape(model) + "." if model else ""}</p>'
            f'<nav><a href="/docs">API docs</a><a href="/health">health</a></nav></div></header>'
            f'<main class="wrap"><form id="form" class="panel"><label for="text"><b>Article text</b></label>'
            f'<textarea id="text" name="text" rows="10" placeholder="Paste an article here (English or French)…" required></textarea>'
            f'<div class="row"><label>Language <select id="lang"><option value="">detect</option>'
            f'<option value="en">English</option><option value="fr">French</option></select></label>'
            f'<button id="go" type="submit">Label sentences</button><span id="status" class="muted" role="status"></span></div>'
            f'<p class="muted small">Up to {max_body_bytes // 1000:,} kB per request.</p></form>'
            f'{legend(schema)}<div id="result"></div></main>'
            f'<script>{PAGE_JS}</script>')
    return _document("stanceframe", body)


# --------------------------------------------------------------------------------- inline assets

CSS = """
:root{--fg:#1f2328;--muted:#59636e;--bg:#f6f8fa;--card:#fff;--line:#d1d9e0;--favor:#1a7f37;--favor-bg:#dafbe1;
--against:#cf222e;--against-bg:#ffebe9;--mixed:#9a6700;--mixed-bg:#fff1c2;--frame:#0969da;--frame-bg:#ddf4ff;--accent:#0969da}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
.wrap{max-width:1120px;margin:0 auto;padding:0 20px}
header.top{background:#fff;border-bottom:1px solid var(--line);padding:18px 0 0;margin-bottom:20px}
header.top h1{margin:0;font-size:1.5rem;letter-spacing:-.01em}
.sub{color:var(--muted);margin:4px 0 10px}
nav{display:flex;gap:18px;flex-wrap:wrap;padding-bottom:10px}
nav a{color:var(--accent);text-decoration:none;font-weight:500}
nav a:hover{text-decoration:underline}
h2{font-size:1.2rem;margin:34px 0 8px;padding-bottom:6px;border-bottom:1px solid var(--line)}
h3{font-size:1.05rem;margin:0 0 4px}
h4{font-size:.95rem;margin:0 0 8px}
h4 small{font-weight:400}
.muted{color:var(--muted)}
.small{font-size:.85rem}
code{font-size:.9em;background:#eff2f5;padding:1px 4px;border-radius:4px}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(160px,1fr));gap:12px}
.card,.panel,.chart,.doc{background:var(--card);border:1px solid var(--line);border-radius:10px}
.card{padding:12px 14px}
.card .k{color:var(--muted);font-size:.8rem;text-transform:uppercase;letter-spacing:.04em}
.card .v{font-size:1.55rem;font-weight:650;line-height:1.2}
.card .d{color:var(--muted);font-size:.85rem}
.grid2{display:grid;grid-template-columns:1fr 1fr;gap:12px;margin-top:12px}
.panel{padding:14px 16px}
.stk{margin:10px 0 12px}
.stk-h{display:flex;gap:14px;flex-wrap:wrap;align-items:baseline;font-size:.9rem;margin-bottom:4px}
.stk-h b:first-child{min-width:5em}
.stkbar{display:flex;height:12px;background:#eaeef2;border-radius:6px;overflow:hidden}
.seg{display:block;height:100%}
.f-favor{background:var(--favor);fill:var(--favor)}.f-against{background:var(--against);fill:var(--against)}
.f-other{background:#8c959f;fill:#8c959f}
.t-favor{color:var(--favor)}.t-against{color:var(--against)}.t-other{color:#57606a}.t-zero{color:#afb8c1}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,480px),1fr));gap:12px}
.chart{padding:14px 16px;min-width:0}
.brow{display:grid;grid-template-columns:minmax(6em,11em) 1fr auto;gap:10px;align-items:center;margin:5px 0;font-size:.88rem}
.blabel{overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.blabel small,.bnum{color:var(--muted)}
.bnum{font-variant-numeric:tabular-nums;font-size:.82rem;white-space:nowrap;min-width:8.5em;text-align:right}
.bsvg{width:100%;height:14px;background:#f0f3f6;border-radius:3px;display:block}
.axis{stroke:#57606a;stroke-width:1;vector-effect:non-scaling-stroke}
.svgwrap{overflow-x:auto}
.lsvg{width:100%;height:auto;display:block;font:14px system-ui,sans-serif;fill:var(--muted)}
.lsvg .grid{stroke:#e6eaef}
table.mini{border-collapse:collapse;font-size:.88rem;width:100%}
table.mini th,table.mini td{padding:4px 8px;text-align:right;border-bottom:1px solid #eef1f4;white-space:nowrap}
table.mini th:first-child{text-align:left;font-weight:500}
.tablewrap{overflow-x:auto;background:var(--card);border:1px solid var(--line);border-radius:10px}
.chart .tablewrap{border:0}
table.sortable{border-collapse:collapse;width:100%;font-size:.88rem}
table.sortable th{position:sticky;top:0;background:#f6f8fa;border-bottom:1px solid var(--line);padding:0;text-align:left;white-space:nowrap}
table.sortable th button{all:unset;cursor:pointer;display:block;padding:8px 8px;font-weight:600;line-height:1.25}
table.sortable th[data-type=num] button{text-align:right}
table.sortable th button:focus-visible{outline:2px solid var(--accent)}
table.sortable th[aria-sort=ascending] button::after{content:" \\25B2";font-size:.7em}
table.sortable th[aria-sort=descending] button::after{content:" \\25BC";font-size:.7em}
table.sortable td{padding:6px 8px;border-bottom:1px solid #eef1f4;white-space:nowrap}
table.sortable td.n{text-align:right;font-variant-numeric:tabular-nums}
table.sortable td.ttl{white-space:normal;min-width:14em;max-width:26em}
table.sortable th:first-child,table.sortable td.ttl{position:sticky;left:0;background:#fff;z-index:1;box-shadow:1px 0 0 #eef1f4}
table.sortable th:first-child{background:#f6f8fa;z-index:2}
.card .v .date{font-size:1.2rem}
table.sortable tbody tr:hover{background:#f6f8fa}
a{color:var(--accent)}
.bad{color:var(--against);font-weight:600;cursor:help}
.legend{display:flex;flex-wrap:wrap;gap:8px 18px;align-items:center;margin:10px 0 14px;font-size:.88rem}
.legend.small{margin:0 0 6px;font-size:.82rem}
.lg{display:inline-flex;align-items:center;gap:6px}
.sw{display:inline-block;width:14px;height:14px;border-radius:3px;border:1px solid rgba(0,0,0,.08)}
.doc{padding:18px 22px;margin:0 0 16px}
.doc-h h3{font-size:1.15rem;line-height:1.35}
.meta{color:var(--muted);font-size:.85rem;margin:2px 0 8px}
.sum{display:flex;flex-wrap:wrap;gap:6px}
.text{font-family:Charter,"Bitstream Charter","Sitka Text",Cambria,Georgia,serif;font-size:1.06rem;line-height:1.75;max-width:46em;margin-top:12px}
.text p{margin:0 0 .9em}
.s{border-radius:3px;padding:1px 2px;cursor:pointer;-webkit-box-decoration-break:clone;box-decoration-break:clone;outline:none}
.s-favor{background:var(--favor-bg);box-shadow:inset 0 -2px 0 var(--favor)}
.s-against{background:var(--against-bg);box-shadow:inset 0 -2px 0 var(--against)}
.s-mixed{background:var(--mixed-bg);box-shadow:inset 0 -2px 0 var(--mixed)}
.s-frame{box-shadow:inset 0 -2px 0 #b6d7ff}
.s-other{background:#eaeef2}
.s:hover,.s:focus-visible,.s.active{filter:brightness(.95);box-shadow:inset 0 -2px 0 currentColor,0 0 0 2px #0969da55}
.sw.s-plain{background:#fff}
.chips{font-family:system-ui,sans-serif;white-space:normal}
.chip{display:inline-block;font:600 .7rem/1.5 system-ui,sans-serif;padding:0 6px;border-radius:999px;margin-left:4px;vertical-align:2px;white-space:nowrap;border:1px solid transparent}
.sum .chip{margin-left:0;font-size:.75rem;padding:1px 8px}
.c-favor{background:var(--favor);color:#fff}.c-against{background:var(--against);color:#fff}
.c-other{background:#57606a;color:#fff}.c-none{background:#eaeef2;color:#57606a}
.c-frame{background:var(--frame-bg);color:#0550ae;border-color:#b6e3ff}
#tip{position:fixed;z-index:10;max-width:380px;background:#fff;color:var(--fg);border:1px solid var(--line);border-radius:10px;
box-shadow:0 8px 28px rgba(31,35,40,.18);padding:10px 14px;font:13px/1.45 system-ui,sans-serif;pointer-events:auto}
#tip.sheet{left:0!important;right:0;bottom:0;top:auto!important;max-width:none;max-height:55vh;overflow:auto;border-radius:14px 14px 0 0}
.tip-h{font-weight:650;margin-bottom:4px;display:flex;justify-content:space-between}
.tip-x{all:unset;cursor:pointer;font-size:1.2rem;line-height:1;padding:0 4px;color:var(--muted)}
.tip-sec{margin:6px 0}
.ptab{border-collapse:collapse;width:100%;margin-top:2px}
.ptab td{padding:1px 4px 1px 0;color:var(--muted)}
.ptab td:first-child{width:7.5em}
.ptab tr.on td{color:var(--fg);font-weight:600}
.pbar{display:inline-block;width:calc(100% - 3.2em);height:8px;background:#eaeef2;border-radius:4px;overflow:hidden;vertical-align:middle}
.pfill{display:block;height:100%;background:#8c959f}
.pfill.favor{background:var(--favor)}.pfill.against{background:var(--against)}.pfill.frame{background:var(--frame)}
.pnum{display:inline-block;width:3em;text-align:right;font-variant-numeric:tabular-nums}
.why{margin:3px 0}
.why-l{font-weight:600;margin-right:2px}
.w{display:inline-block;border-radius:4px;padding:0 5px;margin:1px 0;background:#eaeef2}
.w small{color:var(--muted)}
.w-favor{background:var(--favor-bg)}.w-against{background:var(--against-bg)}.w-frame{background:var(--frame-bg)}
form.panel{display:grid;gap:8px}
textarea{width:100%;font:15px/1.5 system-ui,sans-serif;padding:10px 12px;border:1px solid var(--line);border-radius:8px;resize:vertical;min-height:9em}
textarea:focus,select:focus{outline:2px solid #0969da66;border-color:var(--accent)}
.row{display:flex;flex-wrap:wrap;gap:12px;align-items:center}
select{font:inherit;padding:5px 8px;border:1px solid var(--line);border-radius:6px;background:#fff;margin-left:4px}
button#go{font:600 15px system-ui,sans-serif;background:#1f883d;color:#fff;border:0;border-radius:8px;padding:9px 18px;cursor:pointer}
button#go:hover{background:#1a7f37}button#go:disabled{opacity:.6;cursor:wait}
.err{color:var(--against);font-weight:600}
form + .legend{margin-top:16px}
@media (max-width:720px){
 body{font-size:14px}.wrap{padding:0 12px}.grid2{grid-template-columns:1fr}
 .doc{padding:14px 14px}.text{font-size:1.02rem;line-height:1.7}
 .brow{grid-template-columns:minmax(5em,8em) 1fr;row-gap:0}.bnum{grid-column:2;font-size:.78rem}
 header.top h1{font-size:1.3rem}
 .stk-h{column-gap:10px}.stk-h b:first-child{min-width:0;flex-basis:100%}
 .lsvg{font-size:20px}
 table.sortable td.ttl{min-width:10em}
 .bnum{min-width:0;text-align:left}
}
"""

JS = r"""
(function(){
  var tip=document.getElementById('tip'), pinned=null, active=null;
  function narrow(){return window.innerWidth<720;}
  function place(x,y){
    if(narrow()){tip.classList.add('sheet');return;}
    tip.classList.remove('sheet');
    var w=tip.offsetWidth,h=tip.offsetHeight,vw=window.innerWidth,vh=window.innerHeight;
    var left=Math.min(Math.max(8,x-w/2),vw-w-8), top=y+18;
    if(top+h>vh-8){top=Math.max(8,y-h-14);}
    tip.style.left=left+'px';tip.style.top=top+'px';
  }
  function show(s,x,y){
    var t=s.querySelector('template.tip'); if(!t) return;
    tip.innerHTML=t.innerHTML;
    if(pinned||narrow()){var h=tip.querySelector('.tip-h');if(h){var b=document.createElement('button');b.className='tip-x';b.type='button';b.setAttribute('aria-label','close');b.textContent='\u00d7';b.onclick=function(e){e.stopPropagation();hide(true);};h.appendChild(b);}}
    tip.hidden=false;
    if(active) active.classList.remove('active'); active=s; s.classList.add('active');
    if(x===undefined){var r=s.getClientRects()[0]||s.getBoundingClientRect();x=r.left+r.width/2;y=r.bottom-4;}
    place(x,y);
  }
  function hide(force){ if(pinned&&!force) return; pinned=null; tip.hidden=true; if(active){active.classList.remove('active');active=null;} }
  document.addEventListener('mousemove',function(e){
    if(pinned||narrow()) return;
    var s=e.target.closest&&e.target.closest('.s');
    if(s){ if(s!==active) show(s,e.clientX,e.clientY); else place(e.clientX,e.clientY); }
    else if(!tip.contains(e.target)) hide();
  });
  document.addEventListener('click',function(e){
    var s=e.target.closest&&e.target.closest('.s');
    if(s){ if(pinned===s){hide(true);} else {pinned=s; show(s,e.clientX,e.clientY);} }
    else if(!tip.contains(e.target)) hide(true);
  });
  document.addEventListener('focusin',function(e){var s=e.target.closest&&e.target.closest('.s'); if(s&&!pinned) show(s);});
  document.addEventListener('keydown',function(e){
    if(e.key==='Escape') hide(true);
    if((e.key==='Enter'||e.key===' ')&&e.target.classList&&e.target.classList.contains('s')){e.preventDefault();pinned=e.target;show(e.target);}
  });
  var lastX=-1,lastY=-1;
  document.addEventListener('mousemove',function(e){lastX=e.clientX;lastY=e.clientY;},true);
  window.addEventListener('scroll',function(){
    if(pinned||narrow()||tip.hidden) return;
    var under=document.elementFromPoint(lastX,lastY), s=under&&under.closest&&under.closest('.s');
    if(s) show(s,lastX,lastY); else hide();
  },{passive:true});
  function sortable(table){
    var ths=table.querySelectorAll('th');
    ths.forEach(function(th,i){ th.querySelector('button').addEventListener('click',function(){
      var asc=th.getAttribute('aria-sort')!=='ascending', num=th.dataset.type==='num';
      ths.forEach(function(o){o.setAttribute('aria-sort','none');}); th.setAttribute('aria-sort',asc?'ascending':'descending');
      var body=table.tBodies[0], rows=Array.prototype.slice.call(body.rows);
      rows.sort(function(a,b){var x=a.cells[i].dataset.v, y=b.cells[i].dataset.v;
        var c=num?(parseFloat(x)-parseFloat(y)):x.localeCompare(y); return asc?c:-c;});
      rows.forEach(function(r){body.appendChild(r);});
    });});
  }
  document.querySelectorAll('table.sortable').forEach(sortable);
})();
"""

PAGE_JS = r"""
(function(){
  var form=document.getElementById('form'), out=document.getElementById('result'), status=document.getElementById('status'), go=document.getElementById('go');
  form.addEventListener('submit',function(e){
    e.preventDefault();
    var text=document.getElementById('text').value, lang=document.getElementById('lang').value;
    if(!text.trim()){status.textContent='Paste some text first.';return;}
    go.disabled=true; status.className='muted'; status.textContent='Labelling…';
    var first=text.trim().split('\n')[0].trim();
    var body={text:text, title:(first.length<=120?first:'Pasted article')}; if(lang) body.lang=lang;
    fetch('/render',{method:'POST',headers:{'Content-Type':'application/json'},body:JSON.stringify(body)})
      .then(function(r){return r.json().then(function(j){return {ok:r.ok,status:r.status,j:j};});})
      .then(function(res){
        if(!res.ok){throw new Error(res.j.message||res.j.detail||('HTTP '+res.status));}
        out.innerHTML=res.j.html; status.textContent=res.j.article.n_sentences+' sentences labelled.';
        out.scrollIntoView({block:'start'});
      })
      .catch(function(err){status.className='err'; status.textContent='Error: '+err.message;})
      .finally(function(){go.disabled=false;});
  });
})();
"""
