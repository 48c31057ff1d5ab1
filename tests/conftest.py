"""Shared fixtures: one baseline trained on the shipped corpus per test session."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "configs" / "baseline.yaml"


@pytest.fixture(scope="session")
def baseline_run(tmp_path_factory) -> Path:
    from training.config import load_config
    from training.train import train

    out = tmp_path_factory.mktemp("runs") / "baseline"
    return train(load_config(BASELINE), BASELINE.parent, out, log=lambda m: None)


def write_jsonl(path: Path, rows: list) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n" for r in rows),
                    encoding="utf-8")
    return path


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
