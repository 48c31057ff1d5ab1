"""Commands that use a trained run folder: score, predict, inspect, report, serve, bench. A thin layer over the library."""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

EXIT_OK, EXIT_USAGE, EXIT_PARTIAL = 0, 2, 3


class UsageError(Exception):
    pass


def _load(run: str, quantize: str | None = None):
    from . import runfolder
    from .predictor import Predictor

    try:
        return Predictor.load(run, quantize=quantize)
    except runfolder.RunFolderError as exc:
        raise UsageError(str(exc)) from None


def cmd_score(args) -> int:
    from data.articles import InputError

    from .scoring import ResumeError, score_files

    if getattr(args, "engine", "local") == "ray":
        return _score_ray(args)
    for flag, value in (("--address", args.address), ("--workers", args.workers), ("--format", args.format)):
        if value is not None:
            raise UsageError(f"{flag} applies to --engine ray only")
    predictor = _load(args.model, args.quantize)
    show = not args.quiet and sys.stderr.isatty()
    progress = None
    if show:
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), transient=True)
        task = progress.add_task("scoring")
        progress.start()

    def on_batch(s):
        if progress:
            progress.update(task, description=f"{s.articles} articles, {s.sentences} sentences, {s.errors} errors")

    try:
        summary = score_files(predictor, args.inputs, args.out, batch_size=args.batch_size,
                              resume=args.resume, explain=args.explain, on_batch=on_batch)
    except (InputError, ResumeError) as exc:
        raise UsageError(str(exc)) from None
    finally:
        if progress:
            progress.stop()
    print(summary.line(), file=sys.stderr)
    return EXIT_PARTIAL if summary.errors else EXIT_OK


def _score_ray(args) -> int:
    """``score --engine ray``: the same rows, as part files under OUT/sentences/ and OUT/articles/."""
    from data.articles import InputError

    if args.resume:
        raise UsageError("--resume is not supported with --engine ray; rerun without it (OUT is rewritten)")
    if args.workers is not None and args.workers < 1:
        raise UsageError("--workers must be at least 1")
    try:
        import ray  # noqa: F401
    except ImportError:
        raise UsageError("--engine ray needs Ray: pip install -e '.[ray]'") from None
    from . import runfolder
    from .distributed import RayOptions, score_distributed

    opts = RayOptions(address=args.address, workers=args.workers, show_progress=not args.quiet and sys.stderr.isatty())
    try:
        summary = score_distributed(args.model, args.inputs, args.out, batch_size=args.batch_size,
                                    explain=args.explain, fmt=args.format or "parquet", options=opts)
    except (InputError, runfolder.RunFolderError) as exc:
        raise UsageError(str(exc)) from None
    print(summary.line(), file=sys.stderr)
    return EXIT_PARTIAL if summary.errors else EXIT_OK


def _sentence_inputs(path: str):
    """(id, text, error) per non-blank line of a sentence JSONL file."""
    from data.articles import decode_bytes

    with open(path, "rb") as fh:
        for lineno, raw in enumerate(fh, 1):
            if not raw.strip():
                continue
            origin = f"{path}:{lineno}"
            line, error = decode_bytes(raw)
            if error is None:
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as exc:
                    obj, error = None, f"malformed JSON ({exc.msg})"
            if error is None and not (isinstance(obj, dict) and isinstance(obj.get("text"), str) and obj["text"].strip()):
                error = "expected an object with a non-empty string 'text'"
            if error:
                yield {"id": origin}, None, f"{origin}: {error}"
            else:
                yield {k: v for k, v in obj.items() if k != "text"} | {"id": obj.get("id", origin)}, obj["text"], None


def cmd_predict(args) -> int:
    predictor = _load(args.model, args.quantize)
    if args.input:
        if args.sentences:
            raise UsageError("give sentences as arguments or --input FILE, not both")
        if not Path(args.input).is_file():
            raise UsageError(f"{args.input}: no such file")
        out = open(args.out, "w", encoding="utf-8") if args.out else sys.stdout
        failed = 0
        batch: list = []

        def flush():
            texts = [t for _, t, e in batch if e is None]
            preds = iter(predictor.predict(texts, explain=args.explain))
            for meta, text, error in batch:
                row = {**meta, "text": text, **next(preds).to_json()} if error is None else {**meta, "error": error}
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
            batch.clear()

        for item in _sentence_inputs(args.input):
            failed += item[2] is not None
            batch.append(item)
            if len(batch) >= 512:
                flush()
        flush()
        if args.out:
            out.close()
        if failed:
            print(f"{failed} line(s) could not be read; see their 'error' field", file=sys.stderr)
        return EXIT_PARTIAL if failed else EXIT_OK
    if not args.sentences:
        raise UsageError("give sentences to label, or --input FILE.jsonl")
    for text, pred in zip(args.sentences, predictor.predict(args.sentences, explain=args.explain)):
        print(json.dumps({"text": text, **pred.to_json()}, ensure_ascii=False))
    return EXIT_OK


def cmd_inspect(args) -> int:
    from rich.console import Console

    from data.articles import ArticleInput, decode_bytes

    predictor = _load(args.model, args.quantize)
    raw = sys.stdin.buffer.read() if args.file == "-" else Path(args.file).read_bytes() if Path(args.file).is_file() else None
    if raw is None:
        raise UsageError(f"{args.file}: no such file")
    text, error = decode_bytes(raw)
    if error:
        raise UsageError(f"{args.file}: {error}")
    meta = {"lang": args.lang} if args.lang else {}
    from .scoring import score_batch

    result = score_batch(predictor, [ArticleInput(id=Path(args.file).stem, text=text, origin=args.file, meta=meta)],
                         explain=True)[0]
    if result.article["status"] != "ok":
        raise UsageError(f"{args.file}: article is {result.article['status']}")
    if args.html:
        from .html import render_report

        Path(args.html).write_text(render_report([result.article], {result.article["id"]: result.sentences},
                                                 predictor.schema, title=Path(args.file).name if args.file != "-" else "stdin",
                                                 subtitle=f"model {predictor.run_dir}", texts={result.article["id"]: text}),
                                   encoding="utf-8")
        print(f"wrote {args.html}", file=sys.stderr)
        return EXIT_OK
    from .report import render_sentences

    render_sentences(Console(), result.sentences, predictor.schema, title=f"{args.file} ({result.article.get('lang')})")
    return EXIT_OK


def cmd_report(args) -> int:
    from .html import read_score_dir, render_report

    try:
        articles, sentences = read_score_dir(args.score_dir, args.max_texts)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    out = Path(args.out)
    out.write_text(render_report(articles, sentences, title=args.title or f"stanceframe report: {Path(args.score_dir).name}",
                                 subtitle=f"{args.score_dir}", max_texts=args.max_texts), encoding="utf-8")
    print(f"wrote {out} ({len(articles)} articles)", file=sys.stderr)
    return EXIT_OK


def cmd_serve(args) -> int:
    try:
        from .server import serve
    except ImportError as exc:
        raise UsageError(f"serve needs the 'serve' extra (pip install 'stanceframe[serve]'): {exc}") from None
    serve(_load(args.model, args.quantize), host=args.host, port=args.port, max_body_bytes=args.max_body_bytes)
    return EXIT_OK


def cmd_bench(args) -> int:
    from rich.console import Console
    from rich.table import Table

    from .bench import run as bench

    started = time.perf_counter()
    predictor = _load(args.model, args.quantize)
    figures = bench(predictor, time.perf_counter() - started, n=args.n)
    if args.json:
        print(json.dumps(figures))
        return EXIT_OK
    table = Table(title="stanceframe bench")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for key, value in figures.items():
        table.add_row(key, str(value))
    Console().print(table)
    return EXIT_OK


def _quantize_option(p) -> None:
    p.add_argument("--quantize", choices=["int8"], help="transformer kinds: dynamic int8 quantisation on load")


def add_commands(sub) -> None:
    p = sub.add_parser("score", help="score articles (.jsonl, .csv, .parquet, .txt, folders of .txt, globs) into sentence and article rows")
    p.add_argument("inputs", nargs="+", help="input files, folders or glob patterns (quoted: 'archive/*.jsonl')")
    p.add_argument("--model", required=True, help="run folder")
    p.add_argument("--out", required=True, help="output folder (sentences.jsonl, articles.jsonl)")
    p.add_argument("--batch-size", type=int, default=64, help="articles per batch (default 64)")
    p.add_argument("--resume", action="store_true", help="continue an interrupted run with the same arguments")
    p.add_argument("--explain", action="store_true", help="add the words behind each label to sentence rows")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--engine", choices=["local", "ray"], default="local",
                   help="local (default): stream in this process; ray: Ray Data on a local instance or a cluster "
                        "(pip install -e '.[ray]'), writing OUT/sentences/ and OUT/articles/ part files")
    p.add_argument("--address", help="ray only: address of an existing Ray cluster (e.g. auto, ray://head:10001); "
                                     "default: start a local Ray instance")
    p.add_argument("--workers", type=int, help="ray only: scoring workers (default: every CPU of the instance or cluster)")
    p.add_argument("--format", choices=["parquet", "jsonl"], help="ray only: format of the part files (default parquet)")
    _quantize_option(p)
    p.set_defaults(func=cmd_score)

    p = sub.add_parser("predict", help="label sentences given as arguments or in a JSONL file")
    p.add_argument("sentences", nargs="*", help="sentences to label")
    p.add_argument("--model", required=True, help="run folder")
    p.add_argument("--input", help="JSONL with id, text, optional lang per line")
    p.add_argument("--out", help="output JSONL (default: stdout)")
    p.add_argument("--explain", action="store_true", help="add the words behind each label")
    _quantize_option(p)
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser("inspect", help="show an article sentence by sentence with labels, confidence and reasons")
    p.add_argument("file", help="a text file, or - for stdin")
    p.add_argument("--model", required=True, help="run folder")
    p.add_argument("--lang", help="language code (detected when omitted)")
    p.add_argument("--html", metavar="OUT.html", help="write the article as a self-contained HTML page instead")
    _quantize_option(p)
    p.set_defaults(func=cmd_inspect)

    p = sub.add_parser("report", help="turn a score output folder into one self-contained HTML report")
    p.add_argument("score_dir", help="a folder written by `score` (articles.jsonl, sentences.jsonl)")
    p.add_argument("--out", required=True, help="the HTML file to write")
    p.add_argument("--title", help="report title")
    p.add_argument("--max-texts", type=int, default=200,
                   help="show the highlighted text of at most this many articles (0: all; default 200)")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("serve", help="serve a run folder over HTTP (API and a page); needs the 'serve' extra")
    p.add_argument("--model", required=True, help="run folder")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1, this machine only)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument("--max-body-bytes", type=int, default=1_000_000, help="largest request body (default 1000000; 413 beyond)")
    _quantize_option(p)
    p.set_defaults(func=cmd_serve)


    p = sub.add_parser("bench", help="throughput of a run folder here: sentences/s for predict and score, memory")
    p.add_argument("--model", required=True, help="run folder")
    p.add_argument("--n", type=int, default=2000, help="sentences to label (default 2000, from the shipped corpus)")
    p.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    _quantize_option(p)
    p.set_defaults(func=cmd_bench)


def run(parser: argparse.ArgumentParser, argv: list[str] | None) -> int:
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return args.func(args)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m inference", description="Label Sahel news with a trained run folder.")
    add_commands(parser.add_subparsers(metavar="COMMAND"))
    return run(parser, argv)
