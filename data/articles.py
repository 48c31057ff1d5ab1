"""Article readers for scoring: JSONL, CSV, Parquet, plain text files and folders of them.

Readers never raise on bad content: each input article becomes exactly one
:class:`ArticleInput`, and a broken one carries an ``error`` naming file, line and cause,
so the batch completes and every input is accounted for. Only a usage error (a missing
path, a CSV without a ``text`` column) raises :class:`InputError` before any work.
"""
from __future__ import annotations

import csv
import glob
import io
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

TEXT_SUFFIXES = {".txt"}
READABLE_SUFFIXES = {".jsonl", ".csv", ".txt", ".parquet"}
_BINARY_MAGIC = {b"%PDF": "a PDF", b"PK\x03\x04": "a ZIP/Office file", b"\x89PNG": "a PNG image",
                 b"\xff\xd8\xff": "a JPEG image", b"GIF8": "a GIF image", b"\x1f\x8b": "a gzip archive"}


class InputError(ValueError):
    """A usage error in the inputs, reported before any scoring starts."""


@dataclass
class ArticleInput:
    """One article as read: ``text`` is None when ``error`` says why it could not be read."""

    id: str
    text: str | None
    origin: str
    meta: dict = field(default_factory=dict)
    error: str | None = None


def decode_bytes(raw: bytes) -> tuple[str | None, str | None]:
    """Decode as UTF-8 (BOM allowed), else the charset-normalizer guess; return (text, error)."""
    for magic, what in _BINARY_MAGIC.items():
        if raw.startswith(magic):
            return None, f"binary file ({what}), not text"
    if b"\x00" in raw[:8192]:
        return None, "binary content (NUL bytes), not text"
    try:
        return raw.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        first_error = f"{exc.reason} at byte {exc.start}"
    from charset_normalizer import from_bytes

    best = from_bytes(raw).best()
    if best is None:
        return None, f"undecodable bytes: not UTF-8 ({first_error}) and no charset detected"
    return str(best), None


def article_from_mapping(obj: object, origin: str) -> ArticleInput:
    if not isinstance(obj, dict):
        return ArticleInput(id=origin, text=None, origin=origin, error=f"expected a JSON object, got {type(obj).__name__}")
    raw_id = obj.get("id")
    meta = {k: v for k, v in obj.items() if k not in ("id", "text")}
    if raw_id is None or (isinstance(raw_id, str) and not raw_id.strip()):
        return ArticleInput(id=origin, text=None, origin=origin, meta=meta, error="missing 'id'")
    art_id = str(raw_id)
    text = obj.get("text")
    if "text" not in obj:
        return ArticleInput(art_id, None, origin, meta, error="missing 'text'")
    if not isinstance(text, str):
        return ArticleInput(art_id, None, origin, meta, error=f"'text' must be a string, got {type(text).__name__ if text is not None else 'null'}")
    return ArticleInput(art_id, text, origin, meta)


def read_jsonl(path: Path, start: int = 0, end: int | None = None, first_line: int = 1) -> Iterator[ArticleInput]:
    """Every line of ``path``; or only the lines that start in the byte range ``[start, end)`` (``start``
    at a line start, numbered from ``first_line``), so a big file can be read in parts by several workers."""
    with open(path, "rb") as fh:
        fh.seek(start)
        pos = start
        for lineno, raw in enumerate(fh, first_line):
            if end is not None and pos >= end:
                break
            pos += len(raw)
            origin = f"{path}:{lineno}"
            if not raw.strip():
                continue
            line, error = decode_bytes(raw)
            if error:
                yield ArticleInput(id=origin, text=None, origin=origin, error=error)
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                yield ArticleInput(id=origin, text=None, origin=origin, error=f"malformed JSON ({exc.msg}, column {exc.colno})")
                continue
            yield article_from_mapping(obj, origin)


def _csv_text_stream(path: Path) -> io.TextIOBase:
    """Open a CSV as text: UTF-8 when its first megabyte is, else the detected charset, provided it
    reads the (ASCII) header line as ASCII; undecodable bytes become U+FFFD rather than stop the run."""
    with open(path, "rb") as fh:
        head = fh.read(1 << 20)
    encoding = "utf-8-sig"
    try:
        head.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if exc.start <= len(head) - 4:  # not just a character cut by the sample boundary
            from charset_normalizer import from_bytes

            best = from_bytes(head).best()
            header = head.split(b"\n", 1)[0]
            for candidate in ([best.encoding] if best else []) + ["cp1252", "latin-1"]:
                try:
                    if header.decode(candidate) == header.decode("latin-1"):
                        encoding = candidate
                        break
                except (UnicodeDecodeError, LookupError):
                    continue
    return open(path, encoding=encoding, errors="replace", newline="")


def read_csv(path: Path) -> Iterator[ArticleInput]:
    csv.field_size_limit(sys.maxsize)
    with _csv_text_stream(path) as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames or "text" not in reader.fieldnames:
            raise InputError(f"{path}: CSV has no 'text' column (columns: {reader.fieldnames or []})")
        for row in reader:
            origin = f"{path}:{reader.line_num}"
            if None in row:
                yield ArticleInput(id=str(row.get("id") or origin), text=None, origin=origin,
                                   error=f"row has {len(row) - 1 + len(row[None])} fields, header has {len(reader.fieldnames)}")
                continue
            yield article_from_mapping({k: v for k, v in row.items() if v != "" or k == "text"}, origin)


def _jsonable(value):
    """Parquet values as JSON-friendly Python: dates and times as ISO strings, decimals as strings,
    bytes as UTF-8 text (hex when not UTF-8), nested lists and structs recursively."""
    import datetime
    import decimal

    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return value.hex()
    return value


def read_parquet(path: Path, row_groups: list[int] | None = None, first_row: int = 1) -> Iterator[ArticleInput]:
    """Rows of a Parquet file (columns as in JSONL: ``id``, ``text``, any others become metadata),
    streamed a record batch at a time; ``row_groups`` (numbered rows from ``first_row``) reads part of
    the file. Origins are ``file:N`` with N the 1-based row number. A file that cannot be read becomes
    one error article."""
    import pyarrow.parquet as pq

    origin = str(path)
    try:
        pf = pq.ParquetFile(path)
        batches = pf.iter_batches(batch_size=1024, row_groups=row_groups)
        row = first_row
        for batch in batches:
            for obj in batch.to_pylist():
                yield article_from_mapping(_jsonable(obj), f"{path}:{row}")
                row += 1
    except Exception as exc:  # noqa: BLE001 - a corrupt file is bad content, not a crash
        yield ArticleInput(id=origin, text=None, origin=origin, error=f"unreadable Parquet ({type(exc).__name__}: {exc})")


def read_txt(path: Path) -> Iterator[ArticleInput]:
    origin = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        yield ArticleInput(id=path.stem, text=None, origin=origin, error=f"cannot read: {exc.strerror}")
        return
    text, error = decode_bytes(raw)
    yield ArticleInput(id=path.stem, text=text, origin=origin, error=error)


def expand_inputs(inputs: list[str | Path]) -> list[Path]:
    """Files as given, folders as their ``*.txt`` files (sorted), glob patterns (``'archive/*.jsonl'``,
    ``'**'`` recursive) as their matches (sorted); a usage error for anything else."""
    files: list[Path] = []
    for item in inputs:
        p = Path(item)
        if not p.exists() and glob.has_magic(str(item)):
            matches = sorted(glob.glob(str(item), recursive=True))
            if not matches:
                raise InputError(f"{item}: the pattern matches no file")
            files.extend(expand_inputs(matches))
            continue
        if p.is_dir():
            files.extend(sorted(q for q in p.iterdir() if q.suffix.lower() in TEXT_SUFFIXES and q.is_file()))
        elif not p.exists():
            raise InputError(f"{p}: no such file or folder")
        elif p.suffix.lower() not in READABLE_SUFFIXES:
            raise InputError(f"{p}: unsupported input type {p.suffix!r} (use .jsonl, .csv, .parquet, .txt or a folder of .txt)")
        else:
            files.append(p)
    return files


_READERS = {".jsonl": read_jsonl, ".csv": read_csv, ".txt": read_txt, ".parquet": read_parquet}


def check_inputs(files: list[Path]) -> None:
    """Raise :class:`InputError` for usage errors that must stop the run before it starts."""
    for path in files:
        if path.suffix.lower() == ".csv":
            with _csv_text_stream(path) as fh:
                header = next(csv.reader(fh), [])
            if "text" not in header:
                raise InputError(f"{path}: CSV has no 'text' column (columns: {header})")
        elif path.suffix.lower() == ".parquet":
            import pyarrow.parquet as pq

            try:
                names = pq.read_schema(path).names
            except Exception:  # noqa: BLE001 - unreadable: read_parquet reports it as an error article
                continue
            if "text" not in names:
                raise InputError(f"{path}: Parquet has no 'text' column (columns: {names})")


def read_articles(files: list[Path]) -> Iterator[ArticleInput]:
    """Every article of every file, in order."""
    for path in files:
        yield from _READERS[path.suffix.lower()](path)
