"""The ``stanceframe`` command: training commands here, serving commands from ``inference.cli``."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from inference.cli import EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, UsageError, add_commands, run


def _print_metrics(metrics: dict, schema, title: str) -> None:
    from rich.console import Console
    from rich.table import Table

    from .evaluate import summary_table

    table = Table(title=title)
    for col in ("scope", "n", *[f"F_avg {t}" for t in schema.targets], "frames micro-F1", "frames macro-F1"):
        table.add_column(col, justify="right")
    for row in summary_table(metrics, schema):
        table.add_row(*row)
    Console().print(table)
    detail = Table(title="per label (all languages): precision / recall / F1 (support)")
    for col in ("head", *schema.stance_values, *schema.frames):
        detail.add_column(col, justify="right")
    for f in schema.stance_fields:
        detail.add_row(f, *[f"{m['precision']:.2f} / {m['recall']:.2f} / {m['f1']:.2f} ({m['support']})"
                            for m in metrics[f]["labels"].values()], *[""] * len(schema.frames))
    detail.add_row("frames", *[""] * len(schema.stance_values),
                   *[f"{m['precision']:.2f} / {m['recall']:.2f} / {m['f1']:.2f} ({m['support']})"
                     for m in metrics["frames"]["labels"].values()])
    Console().print(detail)


def cmd_train(args) -> int:
    from data.records import CorpusError

    from .config import ConfigError, load_config
    from .train import RunExistsError, train

    try:
        config = load_config(args.config, args.set)
        output = Path(args.output) if args.output else Path("runs") / config.name
        run_dir = train(config, Path(args.config).resolve().parent, output, force=args.force,
                        log=lambda m: print(m, file=sys.stderr))
    except (ConfigError, CorpusError, RunExistsError, FileNotFoundError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    metrics = json.loads((run_dir / "metrics.json").read_text("utf-8"))
    _print_metrics(metrics["test"], config.labels.schema(), f"{run_dir}: test split")
    print(f"run folder: {run_dir}")
    return EXIT_OK


def _read_labelled(path: str, schema):
    from data.records import CorpusError, load_records

    if not Path(path).is_file():
        raise UsageError(f"{path}: no such file")
    try:
        return load_records([Path(path)], schema)
    except CorpusError as exc:
        raise UsageError(f"{path}: {exc}") from None


def cmd_evaluate(args) -> int:
    from inference.cli import _load

    from .evaluate import evaluate

    predictor = _load(args.run)
    records = _read_labelled(args.data, predictor.schema)
    metrics = evaluate(predictor, records)
    if args.json:
        print(json.dumps(metrics, indent=2))
    else:
        _print_metrics(metrics, predictor.schema, f"{args.run} on {args.data}")
    return EXIT_OK


def cmd_calibrate(args) -> int:
    from inference.cli import _load

    from .train import RunExistsError, recalibrate

    predictor = _load(args.run)
    records = _read_labelled(args.data, predictor.schema)
    try:
        out, report = recalibrate(Path(args.run), records, Path(args.output), force=args.force)
    except RunExistsError as exc:
        raise UsageError(str(exc)) from None
    _print_choice(report["cross_validation"], len(records))
    _print_metrics(report["metrics_on_sample"], predictor.schema, f"{out}: on the calibration sample (in-sample, optimistic)")
    print(f"calibrated run folder: {out}")
    return EXIT_OK


def _print_choice(choice: dict, n: int) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"thresholds per head, scored on held-out articles of the sample ({n} sentences, 5 folds)")
    for col in ("head", "current", "re-tuned", "kept"):
        table.add_column(col, justify="right" if col != "head" else "left")
    for head, row in choice.items():
        table.add_row(head, f"{row['current']:.3f}", f"{row['retuned']:.3f}", row["kept"])
    Console().print(table)


def cmd_data_check(args) -> int:
    from rich.console import Console
    from rich.table import Table

    from data.corpus import SEEDS_DIR, check_corpus, distribution
    from data.sentences import split_sentences

    from .config import ConfigError, load_config

    try:
        schema = load_config(args.config).labels.schema()
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    seeds = [s.text for p in sorted(SEEDS_DIR.glob("*.txt")) for s in split_sentences(p.read_text("utf-8"), "en")]
    try:
        report = check_corpus(args.paths or None, schema, seed_texts=seeds)
    except FileNotFoundError as exc:
        raise UsageError(str(exc)) from None
    table = Table(title=f"{len(report.records)} sentences")
    dist = distribution(report.records, schema)
    langs = sorted({k for c in dist.values() for k in c if k != "all"})
    for col in ("label", *langs, "all", "share"):
        table.add_column(col, justify="right")
    total = max(dist.get("sentences", {}).get("all", 0), 1)
    for key, counts in dist.items():
        table.add_row(key, *[str(counts.get(l, 0)) for l in langs], str(counts["all"]), f"{100 * counts['all'] / total:.1f}%")
    Console().print(table)
    for err in report.errors:
        print(f"error: {err}", file=sys.stderr)
    print(f"{len(report.errors)} error(s)", file=sys.stderr)
    return EXIT_OK if report.ok else EXIT_PARTIAL


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="stanceframe", description=(
        "Stance (toward Western and Russian involvement) and framing labels for Sahel news, per sentence."))
    sub = parser.add_subparsers(metavar="COMMAND")

    p = sub.add_parser("train", help="fit a model from a YAML config and write a run folder")
    p.add_argument("config", help="YAML config, e.g. configs/baseline.yaml")
    p.add_argument("--output", help="run folder (default runs/<name>)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a config value, e.g. model.C=2.0")
    p.add_argument("--force", action="store_true", help="replace an existing run folder")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("evaluate", help="metrics of a run folder on a labelled JSONL file")
    p.add_argument("run", help="run folder")
    p.add_argument("--data", required=True, help="labelled JSONL in the codebook format")
    p.add_argument("--json", action="store_true", help="print the full metrics as JSON")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("calibrate", help="re-tune decision thresholds on a labelled sample of your own domain")
    p.add_argument("run", help="run folder to start from (left unchanged)")
    p.add_argument("--data", required=True, help="labelled JSONL in the codebook format")
    p.add_argument("--output", required=True, help="new run folder with the calibrated thresholds")
    p.add_argument("--force", action="store_true", help="replace an existing output folder")
    p.set_defaults(func=cmd_calibrate)

    data = sub.add_parser("data", help="corpus tools").add_subparsers(metavar="ACTION")
    p = data.add_parser("check", help="validate a corpus and print its label distribution")
    p.add_argument("paths", nargs="*", help="JSONL files or folders (default: the shipped corpus)")
    p.add_argument("--config", default=str(Path(__file__).resolve().parent.parent / "configs" / "baseline.yaml"),
                   help="config whose labels section defines the schema")
    p.set_defaults(func=cmd_data_check)

    add_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    return run(build_parser(), argv)
