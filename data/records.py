"""Typed annotated sentence records, read from the codebook's JSONL format with file:line errors."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

from .schema import LabelSchema

OPTIONAL_FIELDS = ("source", "article", "index", "url")


@dataclass(frozen=True)
class SentenceRecord:
    """One annotated sentence. ``stances`` maps each target to its stance value."""

    id: str
    text: str
    lang: str
    stances: dict[str, str]
    frames: tuple[str, ...]
    source: str | None = None
    article: str | None = None
    index: int | None = None
    origin: str = field(default="", compare=False)  # "file:line", for error messages

    @property
    def group(self) -> str:
        """The unit that is never split: its article, or the sentence itself when standalone."""
        return self.article or self.id

    def to_json(self) -> dict:
        row: dict = {"id": self.id, "text": self.text, "lang": self.lang}
        row.update({f"stance_{t}": v for t, v in self.stances.items()})
        row["frames"] = list(self.frames)
        for name in ("source", "article", "index"):
            value = getattr(self, name)
            if value is not None:
                row[name] = value
        return row


@dataclass(frozen=True)
class RecordError:
    origin: str
    message: str

    def __str__(self) -> str:
        return f"{self.origin}: {self.message}"


class CorpusError(ValueError):
    """Every bad record of a corpus, reported at once."""

    def __init__(self, errors: list[RecordError]):
        self.errors = errors
        shown = "\n".join(f"  {e}" for e in errors[:50])
        more = f"\n  ... and {len(errors) - 50} more" if len(errors) > 50 else ""
        super().__init__(f"{len(errors)} bad record(s):\n{shown}{more}")


def parse_record(obj: object, schema: LabelSchema, origin: str) -> SentenceRecord | RecordError:
    """Validate one decoded JSON value against the schema."""
    if not isinstance(obj, dict):
        return RecordError(origin, f"expected a JSON object, got {type(obj).__name__}")
    problems: list[str] = []
    allowed = {"id", "text", "lang", "frames", *schema.stance_fields, *OPTIONAL_FIELDS}
    unknown = sorted(set(obj) - allowed)
    if unknown:
        problems.append(f"unknown field(s) {unknown}")
    for name in ("id", "text", "lang"):
        if not isinstance(obj.get(name), str) or not obj.get(name, "").strip():
            problems.append(f"'{name}' must be a non-empty string")
    stances = {}
    for target, name in zip(schema.targets, schema.stance_fields):
        value = obj.get(name)
        if value not in schema.stance_values:
            problems.append(f"'{name}' is {value!r}, expected one of {list(schema.stance_values)}")
        stances[target] = value
    frames = obj.get("frames")
    if not isinstance(frames, list) or any(f not in schema.frames for f in frames):
        problems.append(f"'frames' is {frames!r}, expected a list drawn from {list(schema.frames)}")
    elif len(set(frames)) != len(frames):
        problems.append(f"'frames' repeats a value: {frames}")
    if ("article" in obj) != ("index" in obj):
        problems.append("'article' and 'index' come together")
    if "index" in obj and (not isinstance(obj["index"], int) or obj["index"] < 0):
        problems.append("'index' must be a non-negative integer")
    if problems:
        return RecordError(origin, "; ".join(problems))
    return SentenceRecord(
        id=obj["id"], text=obj["text"], lang=obj["lang"], stances=stances,
        frames=tuple(f for f in schema.frames if f in frames),
        source=obj.get("source"), article=obj.get("article"), index=obj.get("index"), origin=origin,
    )


def iter_jsonl(path: Path) -> Iterator[tuple[str, object | RecordError]]:
    """Yield (origin, decoded value or error) for each non-blank line."""
    with open(path, "rb") as fh:
        for lineno, raw in enumerate(fh, 1):
            origin = f"{path}:{lineno}"
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                yield origin, RecordError(origin, f"not UTF-8 ({exc.reason} at byte {exc.start})")
                continue
            if not line.strip():
                continue
            try:
                yield origin, json.loads(line)
            except json.JSONDecodeError as exc:
                yield origin, RecordError(origin, f"malformed JSON ({exc.msg}, column {exc.colno})")


def read_records(paths: Iterable[Path], schema: LabelSchema) -> tuple[list[SentenceRecord], list[RecordError]]:
    """Read annotated JSONL files; return good records and every error (never stops at the first)."""
    records: list[SentenceRecord] = []
    errors: list[RecordError] = []
    seen: dict[str, str] = {}
    for path in paths:
        for origin, value in iter_jsonl(Path(path)):
            parsed = value if isinstance(value, RecordError) else parse_record(value, schema, origin)
            if isinstance(parsed, RecordError):
                errors.append(parsed)
            elif parsed.id in seen:
                errors.append(RecordError(origin, f"duplicate id {parsed.id!r} (first at {seen[parsed.id]})"))
            else:
                seen[parsed.id] = origin
                records.append(parsed)
    return records, errors


def load_records(paths: Iterable[Path], schema: LabelSchema) -> list[SentenceRecord]:
    """Like :func:`read_records` but raise :class:`CorpusError` listing every bad record."""
    records, errors = read_records(paths, schema)
    if errors:
        raise CorpusError(errors)
    return records
