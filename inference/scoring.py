"""Scoring articles: one batch function, and the local streaming runner around it.

``score_batch`` turns a batch of articles into article rows and sentence rows; every runner
(local here, distributed elsewhere) calls it, so the output contract lives in one place.

``score_files`` streams inputs through it and writes ``sentences.jsonl`` and ``articles.jsonl``.
Rows go to ``*.partial`` files; after each batch the files are flushed and a checkpoint records
how many articles and bytes are done, so ``resume=True`` after a crash truncates any half-written
tail and continues exactly where the last complete batch ended. Final files appear by rename.
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

from data.articles import ArticleInput, article_from_mapping, check_inputs, expand_inputs, read_articles
from data.language import detect_language
from data.sentences import split_sentences, splitter_text

SENTENCES = "sentences.jsonl"
ARTICLES = "articles.jsonl"
CHECKPOINT = "checkpoint.json"
PARTIAL = ".partial"


@dataclass
class ArticleResult:
    article: dict
    sentences: list[dict]


def as_article_inputs(items: Iterable) -> Iterator[ArticleInput]:
    """Accept ArticleInput, mappings with ``id``/``text`` and plain strings (numbered ``article-N``)."""
    for n, item in enumerate(items):
        if isinstance(item, ArticleInput):
            yield item
        elif isinstance(item, str):
            yield ArticleInput(id=f"article-{n}", text=item, origin=f"item {n}")
        else:
            yield article_from_mapping(item, f"item {n}")


def _article_row(article: ArticleInput, schema, status: str, sentences: list[dict], lang: str | None,
                 error: str | None = None) -> dict:
    row = {"id": article.id, **article.meta}
    if lang:
        row["lang"] = lang
    row["origin"] = article.origin
    row["status"] = status
    if error:
        row["error"] = error
    n = len(sentences)
    row["n_sentences"] = n
    for f in schema.stance_fields:
        for value in schema.polar_values:
            count = sum(1 for s in sentences if s[f] == value)
            row[f"{f}_{value}"] = count
            row[f"{f}_{value}_share"] = round(count / n, 4) if n else 0.0
    for frame in schema.frames:
        count = sum(1 for s in sentences if frame in s["frames"])
        row[f"frame_{frame}"] = count
        row[f"frame_{frame}_share"] = round(count / n, 4) if n else 0.0
    return row


def score_batch(predictor, articles: list[ArticleInput], explain: bool = False) -> list[ArticleResult]:
    """Split, predict and aggregate a batch of articles; one result per article, in order."""
    schema = predictor.schema
    plans: list[tuple[ArticleInput, str | None, list]] = []
    texts: list[str] = []
    contexts: list[str | None] = []
    for art in articles:
        if art.error or art.text is None or not art.text.strip():
            plans.append((art, None, []))
            continue
        lang = art.meta.get("lang") if isinstance(art.meta.get("lang"), str) and art.meta.get("lang") else detect_language(art.text)
        spans = split_sentences(splitter_text(art.text), lang)
        plans.append((art, lang, spans))
        for k, sp in enumerate(spans):
            texts.append(art.text[sp.start:sp.end])
            contexts.append(art.text[spans[k - 1].start:spans[k - 1].end] if k else None)
    preds = iter(predictor.predict(texts, contexts if predictor.uses_context else None, explain=explain))
    results = []
    for art, lang, spans in plans:
        if art.error or art.text is None:
            results.append(ArticleResult(_article_row(art, schema, "error", [], None, f"{art.origin}: {art.error}"), []))
            continue
        rows = []
        for k, sp in enumerate(spans):
            p = next(preds)
            rows.append({"article_id": art.id, "index": k, "text": art.text[sp.start:sp.end],
                         "start": sp.start, "end": sp.end, "lang": lang, **p.to_json()})
        results.append(ArticleResult(_article_row(art, schema, "ok" if rows else "empty", rows, lang), rows))
    return results


@dataclass
class Summary:
    articles: int = 0
    sentences: int = 0
    ok: int = 0
    empty: int = 0
    errors: int = 0
    seconds: float = 0.0

    def add(self, result: ArticleResult) -> None:
        self.articles += 1
        self.sentences += len(result.sentences)
        name = {"ok": "ok", "empty": "empty", "error": "errors"}[result.article["status"]]
        setattr(self, name, getattr(self, name) + 1)

    def line(self) -> str:
        rate = self.sentences / self.seconds if self.seconds else 0.0
        return (f"{self.articles} articles, {self.sentences} sentences: {self.ok} ok, {self.empty} empty, "
                f"{self.errors} errors in {self.seconds:.1f}s ({rate:.0f} sentences/s)")


@dataclass
class _Checkpoint:
    fingerprint: str
    articles_done: int = 0
    sentences_bytes: int = 0
    articles_bytes: int = 0
    summary: dict = field(default_factory=dict)


class ResumeError(ValueError):
    """``--resume`` was asked for, but the folder holds no matching interrupted run."""


def _fingerprint(files: list[Path], predictor, batch_size: int, explain: bool) -> str:
    h = hashlib.sha256()
    for f in files:
        st = f.stat()
        h.update(f"{f.resolve()}|{st.st_size}|{st.st_mtime_ns}\n".encode())
    manifest = predictor.run_dir / "manifest.json" if predictor.run_dir else None
    h.update(manifest.read_bytes() if manifest and manifest.exists() else predictor.kind.encode())
    h.update(f"{batch_size}|{explain}".encode())
    return h.hexdigest()


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def as_duplicate(art: ArticleInput, first_origin: str) -> ArticleInput:
    """The error article that a later occurrence of an id becomes (every engine uses this)."""
    return ArticleInput(art.id, None, art.origin, art.meta, error=f"duplicate id {art.id!r} (first at {first_origin})")


def _mark_duplicates(articles: Iterator[ArticleInput], seen: dict[str, str]) -> Iterator[ArticleInput]:
    """A repeated id becomes an error row naming the first occurrence; never a silent overwrite."""
    for art in articles:
        if art.error is None and art.id in seen:
            art = as_duplicate(art, seen[art.id])
        elif art.error is None:
            seen[art.id] = art.origin
        yield art


def score_files(predictor, inputs: list[str | Path], out_dir: str | Path, batch_size: int = 64,
                resume: bool = False, explain: bool = False,
                on_batch: Callable[[Summary], None] | None = None) -> Summary:
    """Score every article of ``inputs`` into ``out_dir``; see the module docstring for resume."""
    started = time.perf_counter()
    files = expand_inputs(inputs)
    check_inputs(files)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {name: out / (name + PARTIAL) for name in (SENTENCES, ARTICLES)}
    ckpt_path = out / CHECKPOINT
    fingerprint = _fingerprint(files, predictor, batch_size, explain)
    ckpt = _Checkpoint(fingerprint)
    if resume:
        if not ckpt_path.exists():
            raise ResumeError(f"{out}: nothing to resume (no {CHECKPOINT}); run without --resume")
        ckpt = _Checkpoint(**json.loads(ckpt_path.read_text("utf-8")))
        if ckpt.fingerprint != fingerprint:
            raise ResumeError(f"{out}: the interrupted run used other inputs, model or batch size; "
                              "rerun with the same arguments, or without --resume")
    summary = Summary(**{k: v for k, v in ckpt.summary.items() if k != "seconds"})
    seen: dict[str, str] = {}
    modes = "r+b" if resume else "wb"
    for name, path in paths.items():
        if resume:
            with open(path, "r+b") as fh:
                fh.truncate(ckpt.sentences_bytes if name == SENTENCES else ckpt.articles_bytes)
        else:
            path.write_bytes(b"")
    if resume:
        with open(paths[ARTICLES], encoding="utf-8") as fh:
            for line in fh:
                row = json.loads(line)
                if row["status"] != "error":
                    seen.setdefault(row["id"], row["origin"])
    with open(paths[SENTENCES], modes) as sent_fh, open(paths[ARTICLES], modes) as art_fh:
        sent_fh.seek(0, os.SEEK_END)
        art_fh.seek(0, os.SEEK_END)
        stream = _mark_duplicates(read_articles(files), seen)
        for _ in range(ckpt.articles_done):
            next(stream, None)
        batch: list[ArticleInput] = []

        def flush() -> None:
            for result in score_batch(predictor, batch, explain=explain):
                sent_fh.write("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in result.sentences).encode("utf-8"))
                art_fh.write((json.dumps(result.article, ensure_ascii=False) + "\n").encode("utf-8"))
                summary.add(result)
            for fh in (sent_fh, art_fh):
                fh.flush()
                os.fsync(fh.fileno())
            ckpt.articles_done += len(batch)
            ckpt.sentences_bytes, ckpt.articles_bytes = sent_fh.tell(), art_fh.tell()
            ckpt.summary = asdict(summary)
            _write_atomic(ckpt_path, json.dumps(asdict(ckpt)))
            batch.clear()
            if on_batch:
                on_batch(summary)

        for art in stream:
            batch.append(art)
            if len(batch) >= batch_size:
                flush()
        if batch:
            flush()
    for name, path in paths.items():
        os.replace(path, out / name)
    ckpt_path.unlink()
    summary.seconds = time.perf_counter() - started
    return summary
