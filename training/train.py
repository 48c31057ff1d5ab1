"""Config -> corpus -> fit -> tune thresholds -> evaluate -> run folder.

The run folder is assembled in a temporary sibling folder and renamed into place only when
complete, so a failed training never leaves a folder that ``Predictor.load`` would accept.
"""
from __future__ import annotations

import json
import shutil
import tempfile
import time
from contextlib import contextmanager
from importlib import import_module
from pathlib import Path
from typing import Iterator

from data.corpus import corpus_files, to_dataset
from data.records import SentenceRecord, load_records
from inference import runfolder
from inference.decision import Thresholds
from inference.predictor import Predictor

from . import thresholds as tuning
from .config import TrainConfig, dump_config
from .evaluate import evaluate, previous_sentences

FITTERS = {"tfidf": "training.fit_tfidf", "embeddings": "training.fit_embeddings", "encoder": "training.fit_encoder",
           "ensemble": "training.fit_ensemble"}


class RunExistsError(FileExistsError):
    pass


def load_splits(config: TrainConfig, config_dir: Path) -> dict[str, list[SentenceRecord]]:
    """Read the corpus (every bad record reported at once) and split it by stable hash via ``datasets``."""
    schema = config.labels.schema()
    records = load_records(corpus_files(config.resolved_paths(config_dir)), schema)
    by_id = {r.id: r for r in records}
    splits = to_dataset(records, schema, config.data.dev_fraction, config.data.test_fraction)
    return {name: [by_id[i] for i in splits[name]["id"]] for name in splits}


def check_trainable(train: list[SentenceRecord], schema) -> None:
    """Every head needs at least two classes in the training split; say which one lacks them."""
    problems = []
    for target, f in zip(schema.targets, schema.stance_fields):
        seen = {r.stances[target] for r in train}
        if len(seen) < 2:
            problems.append(f"{f} has only {sorted(seen)} in the training split")
    for frame in schema.frames:
        positives = sum(frame in r.frames for r in train)
        if positives in (0, len(train)):
            problems.append(f"frame {frame!r} has {'no' if not positives else 'only'} positive training sentences")
    if problems:
        raise ValueError("cannot train: " + "; ".join(problems) + " (add data or change the labels section)")


def tuning_records(dev: list[SentenceRecord], tune_on: str) -> list[SentenceRecord]:
    """Dev sentences of whole articles (closest to the label mix of real news), unless too few."""
    if tune_on == "articles":
        in_articles = [r for r in dev if r.article is not None]
        if len(in_articles) >= 50:
            return in_articles
    return dev


def sample_probabilities(predictor: Predictor, records: list[SentenceRecord]) -> dict:
    contexts = previous_sentences(records) if predictor.uses_context else None
    return predictor.predict_proba([r.text for r in records], contexts)


@contextmanager
def assembling(output: Path) -> Iterator[Path]:
    """A temporary sibling folder that replaces ``output`` only if the block completes."""
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{output.name}.", dir=output.parent))
    tmp.chmod(0o755)
    try:
        yield tmp
        if output.exists():
            shutil.rmtree(output)
        tmp.rename(output)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def train(config: TrainConfig, config_dir: Path, output: Path, force: bool = False, log=print) -> Path:
    output = Path(output)
    if output.exists() and not force:
        raise RunExistsError(f"{output} already exists; pass --force to replace it")
    schema = config.labels.schema()
    started = time.perf_counter()
    splits = load_splits(config, config_dir)
    log(f"corpus: {', '.join(f'{k} {len(v)}' for k, v in splits.items())} sentences")
    check_trainable(splits["train"], schema)
    fitter = import_module(FITTERS[config.model.kind])
    model = fitter.fit(splits["train"], splits["dev"], config.model, schema, config.seed)
    fit_seconds = time.perf_counter() - started
    with assembling(output) as tmp:
        (tmp / runfolder.CONFIG).write_text(dump_config(config), encoding="utf-8")
        runfolder.write_json(tmp / runfolder.SCHEMA, schema.to_dict())
        model.save(tmp)
        predictor = Predictor(model, schema, Thresholds.default(schema), config.model.kind, tmp,
                              getattr(model, "uses_context", False))
        tune_set = tuning_records(splits["dev"], config.data.tune_on)
        predictor.thresholds = tuning.tune(sample_probabilities(predictor, tune_set), tune_set, schema,
                                           config.data.tune_bootstrap, config.seed)
        runfolder.write_json(tmp / runfolder.THRESHOLDS, predictor.thresholds.to_dict())
        metrics = {name: evaluate(predictor, splits[name]) for name in ("dev", "test")}
        metrics["training"] = {"fit_seconds": round(fit_seconds, 1), "sizes": {k: len(v) for k, v in splits.items()},
                               "thresholds_tuned_on": f"dev ({len(tune_set)} sentences, {config.data.tune_on}, "
                                                      f"{config.data.tune_bootstrap} bootstrap rounds)"}
        runfolder.write_json(tmp / runfolder.METRICS, metrics)
        runfolder.write_manifest(tmp, config.model.kind)
    return output


def recalibrate(run_dir: Path, records: list[SentenceRecord], output: Path, force: bool = False) -> tuple[Path, dict]:
    """Copy a run folder with thresholds re-tuned on a user's labelled sample, head by head where
    re-tuning wins under cross-validation over the sample's articles; return it and the calibration
    report (the choice per head and the metrics on the sample)."""
    if output.exists() and not force:
        raise RunExistsError(f"{output} already exists; pass --force to replace it")
    predictor = Predictor.load(run_dir)
    probs = sample_probabilities(predictor, records)
    predictor.thresholds, choice = tuning.cross_validated(probs, records, predictor.schema, predictor.thresholds)
    with assembling(output) as tmp:
        shutil.copytree(run_dir, tmp, dirs_exist_ok=True)
        runfolder.write_json(tmp / runfolder.THRESHOLDS, predictor.thresholds.to_dict())
        metrics = json.loads((tmp / runfolder.METRICS).read_text("utf-8"))
        metrics["calibration"] = {"sentences": len(records), "cross_validation": choice,
                                  "metrics_on_sample": evaluate(predictor, records, probs)}
        runfolder.write_json(tmp / runfolder.METRICS, metrics)
        runfolder.write_manifest(tmp, predictor.kind)
    return output, metrics["calibration"]
