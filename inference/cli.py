"""Commands that use a trained run folder: score, predict, inspect. A thin layer over the library."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

EXIT_OK, EXIT_USAGE, EXIT_PARTIAL = 0, 2, 3


class UsageError(Exception):
    pass


def _load(run: str):
    from . import runfolder
    from .predictor import Predictor

    try:
        return Predictor.load(run)
    except runfolder.RunFolderError as exc:
        raise UsageError(str(exc)) from None


def cmd_score(args) -> int:
    from data.articles import InputError

    from .scoring import ResumeError, score_files

    predictor = _load(args.model)
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
    predictor = _load(args.model)
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

    predictor = _load(args.model)
    raw = sys.stdin.buffer.read() if args.file == "-" else Path(args.file).read_bytes() if Path(args.file).is_file() else None
    if raw is None:
        raise UsageError(f"{args.file}: no such file")
    text, error = decode_bytes(raw)
    if error:
        raise UsageError(f"{args.file}: {error}")
    meta = {"lang": args.lang} if args.lang else {}
    result = next(predictor.score_articles([ArticleInput(id=Path(args.file).stem, text=text, origin=args.file, meta=meta)]))
    if result.article["status"] != "ok":
        raise UsageError(f"{args.file}: article is {result.article['status']}")
    from .scoring import score_batch

    result = score_batch(predictor, [ArticleInput(id=Path(args.file).stem, text=text, origin=args.file, meta=meta)],
                         explain=True)[0]
    from .report import render_sentences

    render_sentences(Console(), result.sentences, predictor.schema, title=f"{args.file} ({result.article.get('lang')})")
    return EXIT_OK


def add_commands(sub) -> None:
    p = sub.add_parser("score", help="score articles (.jsonl, .csv, .txt, folders of .txt) into sentence and article rows")
    p.add_argument("inputs", nargs="+", help="input files or folders")
    p.add_argument("--model", required=True, help="run folder")
    p.add_argument("--out", required=True, help="output folder (sentences.jsonl, articles.jsonl)")
    p.add_argument("--batch-size", type=int, default=64, help="articles per batch (default 64)")
    p.add_argument("--resume", action="store_true", help="continue an interrupted run with the same arguments")
    p.add_argument("--explain", action="store_true", help="add the words behind each label to sentence rows")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_score)

    p = sub.add_parser("predict", help="label sentences given as arguments or in a JSONL file")
    p.add_argument("sentences", nargs="*", help="sentences to label")
    p.add_argument("--model", required=True, help="run folder")
    p.add_argument("--input", help="JSONL with id, text, optional lang per line")
    p.add_argument("--out", help="output JSONL (default: stdout)")
    p.add_argument("--explain", action="store_true", help="add the words behind each label")
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser("inspect", help="show an article sentence by sentence with labels, confidence and reasons")
    p.add_argument("file", help="a text file, or - for stdin")
    p.add_argument("--model", required=True, help="run folder")
    p.add_argument("--lang", help="language code (detected when omitted)")
    p.set_defaults(func=cmd_inspect)


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
