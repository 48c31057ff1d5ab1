"""The annotated corpus: where it lives, the stable split, and ``data check``.

The split hashes the article id (or the sentence id for standalone sentences), so adding
sentences never moves old ones between splits and an article never straddles two splits.
"""
from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from .records import RecordError, SentenceRecord, read_records
from .schema import LabelSchema

CORPUS_DIR = Path(__file__).parent / "corpus"
SEEDS_DIR = Path(__file__).resolve().parent.parent / "seeds"
SPLITS = ("train", "dev", "test")
NEAR_DUPLICATE_JACCARD = 0.7


def corpus_files(paths: Iterable[str | Path] | None = None) -> list[Path]:
    """Expand files and folders (folders give their ``*.jsonl``, sorted) into a file list."""
    found: list[Path] = []
    for p in [CORPUS_DIR] if paths is None else [Path(p) for p in paths]:
        if p.is_dir():
            found.extend(sorted(p.glob("*.jsonl")))
        elif p.exists():
            found.append(p)
        else:
            raise FileNotFoundError(f"corpus path not found: {p}")
    return found


def split_of(record: SentenceRecord, dev: float, test: float) -> str:
    """Deterministic split from a hash of the article id (or the sentence id)."""
    bucket = int.from_bytes(hashlib.sha256(record.group.encode("utf-8")).digest()[:8], "big") / 2**64
    if bucket < test:
        return "test"
    if bucket < test + dev:
        return "dev"
    return "train"


def to_dataset(records: list[SentenceRecord], schema: LabelSchema, dev: float, test: float):
    """A ``datasets.DatasetDict`` with train/dev/test, one column per label field."""
    import datasets

    datasets.disable_progress_bars()

    rows = [
        {**r.to_json(), "article": r.article or "", "index": -1 if r.index is None else r.index,
         "source": r.source or "", "split": split_of(r, dev, test)}
        for r in records
    ]
    columns = ["id", "text", "lang", *schema.stance_fields, "frames", "source", "article", "index", "split"]
    table = datasets.Dataset.from_dict({c: [row[c] for row in rows] for c in columns})
    return datasets.DatasetDict({s: table.filter(lambda x, s=s: x["split"] == s) for s in SPLITS})


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text.lower()).strip()


def near_duplicate_pairs(texts: list[str], others: list[str] | None = None,
                         threshold: float = NEAR_DUPLICATE_JACCARD) -> list[tuple[int, int, float]]:
    """Pairs (i, j, jaccard) whose character 5-gram sets overlap at ``threshold`` or more.

    With ``others``, pairs run from ``texts[i]`` to ``others[j]``; without, within ``texts`` (i < j).
    A sparse product counts shared 5-grams, so this stays fast for tens of thousands of sentences.
    """
    from sklearn.feature_extraction.text import CountVectorizer

    pool = [_normalise(t) for t in texts] + [_normalise(t) for t in (others or [])]
    vec = CountVectorizer(analyzer="char", ngram_range=(5, 5), binary=True, lowercase=False)
    X = vec.fit_transform(pool).tocsr()
    sizes = X.sum(axis=1).A1
    n = len(texts)
    A, B = (X[:n], X[n:]) if others is not None else (X, X)
    offset = n if others is not None else 0
    inter = (A @ B.T).tocoo()
    pairs = []
    for i, j, shared in zip(inter.row, inter.col, inter.data):
        if others is None and j <= i:
            continue
        union = sizes[i] + sizes[j + offset] - shared
        if union and shared / union >= threshold:
            pairs.append((int(i), int(j), float(shared / union)))
    return pairs


@dataclass
class CheckReport:
    records: list[SentenceRecord]
    errors: list[RecordError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def check_corpus(paths: Iterable[str | Path] | None, schema: LabelSchema,
                 seed_texts: list[str] | None = None) -> CheckReport:
    """Schema, labels, duplicate ids, exact and near duplicates, and seed-article sentences."""
    records, errors = read_records(corpus_files(paths), schema)
    report = CheckReport(records, list(errors))
    texts = [r.text for r in records]
    for i, j, jac in near_duplicate_pairs(texts):
        kind = "exact duplicate" if _normalise(texts[i]) == _normalise(texts[j]) else f"near duplicate (5-gram Jaccard {jac:.2f})"
        report.errors.append(RecordError(records[j].origin, f"{kind} of {records[i].id} at {records[i].origin}"))
    if seed_texts:
        for i, j, jac in near_duplicate_pairs(texts, seed_texts):
            report.errors.append(RecordError(records[i].origin, f"matches a seed-article sentence (Jaccard {jac:.2f}): {seed_texts[j][:60]!r}"))
    articles: dict[str, list[SentenceRecord]] = {}
    for r in records:
        if r.article:
            articles.setdefault(r.article, []).append(r)
    for art, members in articles.items():
        indexes = sorted(m.index for m in members)
        if indexes != list(range(len(members))):
            report.errors.append(RecordError(members[0].origin, f"article {art!r} has indexes {indexes}, expected 0..{len(members) - 1}"))
    return report


def distribution(records: list[SentenceRecord], schema: LabelSchema) -> dict[str, Counter]:
    """Counts per (field, label) and language, plus totals: the data-check table."""
    keys = ["sentences", "in articles",
            *[f"stance_{t}={v}" for t in schema.targets for v in schema.stance_values], "no stance on any target",
            *[f"frame={f}" for f in schema.frames], "frames=[]"]
    table: dict[str, Counter] = {k: Counter() for k in keys}

    def add(key: str, lang: str) -> None:
        table[key][lang] += 1
        table[key]["all"] += 1

    for r in records:
        add("sentences", r.lang)
        if r.article:
            add("in articles", r.lang)
        for target in schema.targets:
            add(f"stance_{target}={r.stances[target]}", r.lang)
        if all(v == schema.none_label for v in r.stances.values()):
            add("no stance on any target", r.lang)
        for f in r.frames:
            add(f"frame={f}", r.lang)
        if not r.frames:
            add("frames=[]", r.lang)
    return table
