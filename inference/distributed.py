"""Scoring on Ray Data: the same ``score_batch`` and output contract as the local engine, spread over
the cores of one machine or the nodes of a cluster.

The driver never holds the data. It only plans *shards* (a group of small files, a byte range of a
big JSONL file aligned to line starts, a run of row groups of a big Parquet file) and passes each
worker a shard to read with the ordinary readers of :mod:`data.articles`:

1. plan: file sizes and Parquet footers; the line number at which each JSONL range starts is counted
   by Ray tasks (newline counts, no parsing), so origins read ``file:line`` exactly as locally;
2. duplicate ids: a pre-pass reads every shard and emits ``(id, order key + origin)`` for each readable
   article; a Ray Data ``groupby("id")`` keeps the ids seen more than once with their first
   occurrence (the minimum order key). Only that small set reaches the driver and the workers, which
   turn every later occurrence into the same ``error`` row as locally (first occurrence wins);
3. scoring: ``map_batches`` with a callable class (the model is loaded once per worker), one shard per
   call; the worker calls :func:`~inference.scoring.score_batch` on batches of articles and writes its
   own part files, ``OUT/sentences/part-NNNNNN.parquet`` and ``OUT/articles/part-NNNNNN.parquet`` (or
   ``.jsonl``), numbered in input order, and returns one small summary row per shard.

Reading the parts in name order gives the rows in the local engine's order; :func:`read_output`
does that and turns Parquet rows back into the JSONL row dicts. ``OUT/_SUCCESS`` (the run summary as
JSON) appears when the run completes.

Parquet layout (columns are the same in every part, so ``pyarrow.dataset``/Spark/DuckDB read a folder):

- sentences: ``article_id``, ``index``, ``text``, ``start``, ``end``, ``lang``, one string column per
  stance field, ``frames`` (list of strings), ``probabilities`` (struct of structs of doubles, as in
  JSONL), and with ``--explain`` an ``explanation`` column holding the JSONL value JSON-encoded;
- articles: ``id``, ``meta`` (the article's other input fields as a JSON object string, since their
  names and types vary between inputs), ``lang``, ``origin``, ``status``, ``error``, ``n_sentences``,
  and the count and share columns of the JSONL rows.

Ray and pyarrow are imported only when this module is used.
"""
from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from data.articles import ArticleInput, check_inputs, expand_inputs, read_articles, read_jsonl, read_parquet

from .scoring import Summary, as_duplicate, score_batch

FORMATS = ("parquet", "jsonl")
SHARD_BYTES = 32 << 20  # about this much input per shard at most
MIN_SHARD_BYTES = 256 << 10  # and at least this much (unless RayOptions.shard_bytes is smaller)
FILES_PER_SHARD = 256  # small files grouped into one shard
SUCCESS = "_SUCCESS"
TABLES = ("sentences", "articles")
_ROWS_PER_ROW_GROUP = 20_000


@dataclass
class Shard:
    """A unit of work: whole ``files``, or a part of one file (``start``/``end`` bytes of a JSONL
    file numbered from line ``first``, or ``row_groups`` of a Parquet file numbered from row ``first``)."""

    index: int
    files: list[str]
    start: int = 0
    end: int | None = None
    row_groups: list[int] | None = None
    first: int = 1

    def read(self) -> Iterator[ArticleInput]:
        if self.row_groups is not None:
            yield from read_parquet(Path(self.files[0]), self.row_groups, self.first)
        elif self.end is not None:
            yield from read_jsonl(Path(self.files[0]), self.start, self.end, self.first)
        else:
            yield from read_articles([Path(f) for f in self.files])

    def order_key(self, seq: int) -> str:
        """Sortable position of the ``seq``-th article of this shard among all inputs."""
        return f"{self.index:09d}{seq:012d}"


def _line_starts(path: Path, size: int, shard_bytes: int) -> list[int]:
    """Byte offsets, about ``shard_bytes`` apart, each at the start of a line (the first is 0)."""
    bounds = [0]
    with open(path, "rb") as fh:
        target = shard_bytes
        while target < size:
            fh.seek(target - 1)
            fh.readline()  # to the end of the line that holds byte target - 1
            pos = fh.tell()
            if pos >= size:
                break
            bounds.append(pos)
            target = pos + shard_bytes
    return bounds


def _parquet_groups(path: Path, shard_bytes: int) -> list[tuple[list[int], int]] | None:
    """Runs of row groups of about ``shard_bytes`` (uncompressed) with their first row number."""
    import pyarrow.parquet as pq

    try:
        meta = pq.ParquetFile(path).metadata
    except Exception:  # noqa: BLE001 - unreadable: the reader reports it as one error article
        return None
    runs, current, size, row, first = [], [], 0, 1, 1
    for i in range(meta.num_row_groups):
        rg = meta.row_group(i)
        if current and size + rg.total_byte_size > shard_bytes:
            runs.append((current, first))
            current, size, first = [], 0, row
        current.append(i)
        size += rg.total_byte_size
        row += rg.num_rows
    if current:
        runs.append((current, first))
    return runs


def plan_shards(files: list[Path], shard_bytes: int = SHARD_BYTES, files_per_shard: int = FILES_PER_SHARD,
                count_lines: Callable[[list[tuple[str, int, int]]], list[int]] | None = None) -> list[Shard]:
    """Shards in input order. ``count_lines`` counts the newlines of (path, start, end) byte ranges
    (Ray tasks in :func:`score_distributed`; a local loop by default)."""
    shards: list[Shard] = []
    group: list[str] = []
    group_bytes = 0
    ranges: list[tuple[Shard, tuple[str, int, int]]] = []

    def flush_group() -> None:
        nonlocal group, group_bytes
        if group:
            shards.append(Shard(len(shards), group))
            group, group_bytes = [], 0

    for path in files:
        size = path.stat().st_size
        suffix = path.suffix.lower()
        if size > shard_bytes and suffix == ".jsonl":
            flush_group()
            bounds = _line_starts(path, size, shard_bytes)
            for start, end in zip(bounds, bounds[1:] + [size]):
                shard = Shard(len(shards), [str(path)], start=start, end=end)
                shards.append(shard)
                ranges.append((shard, (str(path), start, end)))
            continue
        runs = _parquet_groups(path, shard_bytes) if size > shard_bytes and suffix == ".parquet" else None
        if runs and len(runs) > 1:
            flush_group()
            for row_groups, first in runs:
                shards.append(Shard(len(shards), [str(path)], row_groups=row_groups, first=first))
            continue
        group.append(str(path))
        group_bytes += size
        if group_bytes >= shard_bytes or len(group) >= files_per_shard:
            flush_group()
    flush_group()
    if ranges:
        counts = (count_lines or (lambda rs: [_count_newlines(*r) for r in rs]))([r for _, r in ranges])
        line = 1
        for (shard, (path, start, _)), n in zip(ranges, counts):
            if start == 0:
                line = 1
            shard.first = line
            line += n
    return shards


def _count_newlines(path: str, start: int, end: int) -> int:
    n = 0
    with open(path, "rb") as fh:
        fh.seek(start)
        left = end - start
        while left > 0:
            chunk = fh.read(min(left, 16 << 20))
            if not chunk:
                break
            n += chunk.count(b"\n")
            left -= len(chunk)
    return n


def _shards_of(batch) -> list[Shard]:
    return [Shard(**json.loads(s)) for s in batch.column("shard").to_pylist()]


def _prepass(batch):
    """(id, first) for every readable article of the batch's shards; ``first`` = order key | origin."""
    import pyarrow as pa

    ids, firsts = [], []
    for shard in _shards_of(batch):
        for seq, art in enumerate(shard.read()):
            if art.error is None:
                ids.append(art.id)
                firsts.append(f"{shard.order_key(seq)}|{art.origin}")
    return pa.table({"id": pa.array(ids, pa.string()), "first": pa.array(firsts, pa.string())})


def _only_repeated(batch):
    import pyarrow.compute as pc

    return batch.filter(pc.greater(batch["count()"], 1))


# ---------------------------------------------------------------- output rows <-> Parquet

def sentence_schema(schema, explain: bool = False):
    import pyarrow as pa

    probs = pa.struct([(f, pa.struct([(v, pa.float64()) for v in schema.stance_values])) for f in schema.stance_fields]
                      + [("frames", pa.struct([(fr, pa.float64()) for fr in schema.frames]))])
    fields = [("article_id", pa.string()), ("index", pa.int64()), ("text", pa.string()), ("start", pa.int64()),
              ("end", pa.int64()), ("lang", pa.string())]
    fields += [(f, pa.string()) for f in schema.stance_fields]
    fields += [("frames", pa.list_(pa.string())), ("probabilities", probs)]
    if explain:
        fields.append(("explanation", pa.string()))
    return pa.schema(fields)


def _count_columns(schema) -> list[str]:
    cols = []
    for f in schema.stance_fields:
        for v in schema.polar_values:
            cols += [f"{f}_{v}", f"{f}_{v}_share"]
    for frame in schema.frames:
        cols += [f"frame_{frame}", f"frame_{frame}_share"]
    return cols


def article_schema(schema):
    import pyarrow as pa

    fields = [("id", pa.string()), ("meta", pa.string()), ("lang", pa.string()), ("origin", pa.string()),
              ("status", pa.string()), ("error", pa.string()), ("n_sentences", pa.int64())]
    fields += [(c, pa.float64() if c.endswith("_share") else pa.int64()) for c in _count_columns(schema)]
    return pa.schema(fields)


def _sentence_record(row: dict) -> dict:
    if "explanation" in row:
        row = {**row, "explanation": json.dumps(row["explanation"], ensure_ascii=False)}
    return row


def _article_record(row: dict, columns: set[str]) -> dict:
    rec = {"meta": {}}
    for key, value in row.items():
        if key in columns and key != "meta" and (key not in ("lang", "error") or isinstance(value, str)):
            rec[key] = value
        else:
            rec["meta"][key] = value
    rec["meta"] = json.dumps(rec["meta"], ensure_ascii=False)
    return rec


def _article_row(rec: dict) -> dict:
    row = {"id": rec.pop("id"), **json.loads(rec.pop("meta"))}
    row.update({k: v for k, v in rec.items() if v is not None or k not in ("lang", "error")})
    return row


def read_output(out_dir: str | Path, table: str = "articles") -> Iterator[dict]:
    """Rows of ``OUT/sentences`` or ``OUT/articles`` (Parquet or JSONL parts) in input order, as the
    row dicts of the local engine's JSONL files."""
    folder = Path(out_dir) / table
    for part in sorted(folder.glob("part-*")):
        if part.suffix == ".jsonl":
            with open(part, encoding="utf-8") as fh:
                for line in fh:
                    yield json.loads(line)
            continue
        import pyarrow.parquet as pq

        pf = pq.ParquetFile(part)
        for batch in pf.iter_batches():
            for rec in batch.to_pylist():
                if table == "articles":
                    yield _article_row(rec)
                else:
                    if rec.get("explanation") is not None:
                        rec["explanation"] = json.loads(rec["explanation"])
                    yield rec


class _PartWriter:
    """One part file, written to a hidden temporary name and renamed when complete."""

    def __init__(self, path: Path, fmt: str, arrow_schema):
        self.path, self.fmt, self.schema = path, fmt, arrow_schema
        self.tmp = path.with_name("." + path.name + ".tmp")
        self.buffer: list[dict] = []
        if fmt == "jsonl":
            self.fh = open(self.tmp, "w", encoding="utf-8")
        else:
            import pyarrow.parquet as pq

            self.writer = pq.ParquetWriter(self.tmp, arrow_schema)

    def write(self, records: list[dict]) -> None:
        if self.fmt == "jsonl":
            self.fh.write("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
            return
        self.buffer.extend(records)
        if len(self.buffer) >= _ROWS_PER_ROW_GROUP:
            self._flush()

    def _flush(self) -> None:
        import pyarrow as pa

        self.writer.write_table(pa.Table.from_pylist(self.buffer, schema=self.schema))
        self.buffer = []

    def close(self) -> None:
        if self.fmt == "jsonl":
            self.fh.close()
        else:
            if self.buffer:
                self._flush()
            self.writer.close()
        os.replace(self.tmp, self.path)


class ShardScorer:
    """``map_batches`` callable class: loads the model once per worker, then scores one shard per call
    into its own part files and returns the shard's summary row."""

    def __init__(self, run_dir: str, out_dir: str, fmt: str, batch_size: int, explain: bool, duplicates: dict):
        from .predictor import Predictor

        self.predictor = Predictor.load(run_dir)
        self.out = Path(out_dir)
        self.fmt, self.batch_size, self.explain = fmt, batch_size, explain
        self.duplicates = duplicates  # id -> "order key|origin" of its first occurrence
        self.schemas = {"sentences": sentence_schema(self.predictor.schema, explain),
                        "articles": article_schema(self.predictor.schema)}
        self.article_columns = set(self.schemas["articles"].names)

    def __call__(self, batch):
        import pyarrow as pa

        rows = [self.score_shard(shard) for shard in _shards_of(batch)]
        return pa.Table.from_pylist(rows)

    def _marked(self, shard: Shard) -> Iterator[ArticleInput]:
        for seq, art in enumerate(shard.read()):
            first = self.duplicates.get(art.id) if art.error is None else None
            if first is not None:
                key, origin = first.split("|", 1)
                if key != shard.order_key(seq):
                    art = as_duplicate(art, origin)
            yield art

    def score_shard(self, shard: Shard) -> dict:
        started, cpu_started = time.perf_counter(), time.process_time()
        summary = Summary()
        writers = {t: _PartWriter(self.out / t / f"part-{shard.index:06d}.{self.fmt}", self.fmt, self.schemas[t])
                   for t in TABLES}
        batch: list[ArticleInput] = []

        def flush() -> None:
            results = score_batch(self.predictor, batch, explain=self.explain)
            sentences, articles = [], []
            for result in results:
                summary.add(result)
                if self.fmt == "jsonl":
                    sentences.extend(result.sentences)
                    articles.append(result.article)
                else:
                    sentences.extend(_sentence_record(r) for r in result.sentences)
                    articles.append(_article_record(result.article, self.article_columns))
            writers["sentences"].write(sentences)
            writers["articles"].write(articles)
            batch.clear()

        for art in self._marked(shard):
            batch.append(art)
            if len(batch) >= self.batch_size:
                flush()
        if batch:
            flush()
        for w in writers.values():
            w.close()
        summary.seconds = time.perf_counter() - started
        return {"shard": shard.index, **asdict(summary), "cpu_seconds": time.process_time() - cpu_started}


# ---------------------------------------------------------------- the runner

@dataclass
class RayOptions:
    address: str | None = None  # None: a local Ray instance; "auto" or "ray://host:10001": a cluster
    workers: int | None = None  # scoring workers (default: every CPU of the instance or cluster)
    shard_bytes: int = SHARD_BYTES
    files_per_shard: int = FILES_PER_SHARD
    show_progress: bool = False
    init_kwargs: dict = field(default_factory=dict)


def _connect(opts: RayOptions) -> bool:
    """Start or join Ray unless this process already did; True if we must shut it down afterwards."""
    import ray

    if ray.is_initialized():
        return False
    kwargs = {"include_dashboard": False, "logging_level": logging.WARNING, "log_to_driver": opts.show_progress,
              **opts.init_kwargs}
    if opts.address:
        ray.init(address=opts.address, **kwargs)
        return True
    # Ray starts workers at nice 15; on a shared machine they would then yield to every other process,
    # while the local engine runs at normal priority. Our own local instance runs them at nice 0.
    saved = os.environ.get("RAY_worker_niceness")
    os.environ.setdefault("RAY_worker_niceness", "0")
    try:
        ray.init(num_cpus=opts.workers, **kwargs)
    finally:
        if saved is None:
            os.environ.pop("RAY_worker_niceness", None)
    return True


def score_distributed(predictor_dir: str | Path, inputs: list[str | Path], out_dir: str | Path, batch_size: int = 64,
                      explain: bool = False, fmt: str = "parquet", options: RayOptions | None = None,
                      on_shard: Callable[[Summary], None] | None = None) -> Summary:
    """Score ``inputs`` on Ray into ``out_dir/sentences/`` and ``out_dir/articles/`` part files.

    Usage errors (missing inputs, a CSV or Parquet file without ``text``, a bad run folder) raise
    before Ray starts, as in :func:`~inference.scoring.score_files`."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown output format {fmt!r} (use {' or '.join(FORMATS)})")
    opts = options or RayOptions()
    started = time.perf_counter()
    files = [p.resolve() for p in expand_inputs(inputs)]
    check_inputs(files)
    run_dir = str(Path(predictor_dir).resolve())
    from . import runfolder

    runfolder.verify(run_dir)  # a bad run folder is a usage error here, not a failure in every worker;
    runfolder.read_schema(Path(run_dir))  # the weights are loaded by the workers only
    out = Path(out_dir).resolve()
    for table in TABLES:
        (out / table).mkdir(parents=True, exist_ok=True)
        for stale in (out / table).glob("part-*"):
            stale.unlink()
    (out / SUCCESS).unlink(missing_ok=True)

    import ray
    import ray.data

    shutdown = _connect(opts)
    try:
        ctx = ray.data.DataContext.get_current()
        ctx.enable_progress_bars = opts.show_progress
        if not opts.show_progress:
            logging.getLogger("ray.data").setLevel(logging.WARNING)
        count_task = ray.remote(_count_newlines)
        workers = opts.workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
        # at least about 4 shards per worker, so that every worker has work and the last ones finish together
        total = sum(f.stat().st_size for f in files)
        shard_bytes = max(min(MIN_SHARD_BYTES, opts.shard_bytes), min(opts.shard_bytes, total // (4 * workers)))
        shards = plan_shards(files, shard_bytes, opts.files_per_shard,
                             count_lines=lambda rs: ray.get([count_task.remote(*r) for r in rs]))
        worker = {"seconds": 0.0, "cpu_seconds": 0.0}  # time spent in scoring shards, summed over workers
        if not shards:
            summary = Summary()
        else:
            items = [{"shard": json.dumps(asdict(s))} for s in shards]
            from ray.data.aggregate import Count, Min

            duplicates = {}
            firsts = (ray.data.from_items(items, override_num_blocks=len(items))
                      .map_batches(_prepass, batch_size=1, batch_format="pyarrow")
                      .groupby("id").aggregate(Count(), Min("first"))
                      .map_batches(_only_repeated, batch_format="pyarrow"))
            for row in firsts.iter_rows():
                duplicates[row["id"]] = row["min(first)"]
            scored = (ray.data.from_items(items, override_num_blocks=len(items))
                      .map_batches(ShardScorer, batch_size=1, batch_format="pyarrow",
                                   compute=ray.data.ActorPoolStrategy(size=min(workers, len(items))),
                                   num_cpus=1, fn_constructor_kwargs={
                                       "run_dir": run_dir, "out_dir": str(out), "fmt": fmt, "batch_size": batch_size,
                                       "explain": explain, "duplicates": duplicates}))
            summary = Summary()
            for row in scored.iter_rows():
                for k in ("articles", "sentences", "ok", "empty", "errors"):
                    setattr(summary, k, getattr(summary, k) + row[k])
                worker["seconds"] += row["seconds"]
                worker["cpu_seconds"] += row["cpu_seconds"]
                if on_shard:
                    on_shard(summary)
    finally:
        if shutdown:
            ray.shutdown()
    summary.seconds = time.perf_counter() - started
    (out / SUCCESS).write_text(json.dumps({**asdict(summary), "format": fmt, "shards": len(shards),
                                           "worker_seconds": round(worker["seconds"], 3),
                                           "worker_cpu_seconds": round(worker["cpu_seconds"], 3)}) + "\n", "utf-8")
    return summary
