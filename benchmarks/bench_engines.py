"""Throughput and driver memory of the local and Ray engines (issue 7).

    python benchmarks/bench_engines.py make  --articles 100000 --sentences 10 --out /tmp/bench/in100k.jsonl
    python benchmarks/bench_engines.py score --engine local --model runs/baseline --input /tmp/bench/in100k.jsonl
    python benchmarks/bench_engines.py score --engine ray --workers 2 --model runs/baseline --input /tmp/bench/in100k.jsonl

``make`` builds articles of N corpus sentences each (``.jsonl`` or ``.parquet`` by the suffix). ``score``
runs one engine in this process and prints one JSON line: sentences/s, and the peak resident memory of
this process (the driver; Ray's workers are other processes), sampled every 50 ms and as ``ru_maxrss``.
Run each measurement in a fresh process.
"""
from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def make(args) -> None:
    sentences = []
    for f in sorted((ROOT / "data" / "corpus").glob("*.jsonl")):
        for line in f.read_text("utf-8").splitlines():
            if line.strip():
                t = json.loads(line)["text"].strip()
                if t.endswith((".", "!", "?", "»", '"')):
                    sentences.append(t)
    rng = random.Random(7)
    rows = ({"id": f"a{i:08d}", "text": " ".join(rng.choice(sentences) for _ in range(args.sentences)),
             "source": "bench"} for i in range(args.articles))
    out = Path(args.out)
    if out.suffix == ".parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        writer, chunk = None, []
        for row in rows:
            chunk.append(row)
            if len(chunk) == 10_000:
                table = pa.Table.from_pylist(chunk)
                writer = writer or pq.ParquetWriter(out, table.schema)
                writer.write_table(table)
                chunk = []
        if chunk:
            table = pa.Table.from_pylist(chunk)
            writer = writer or pq.ParquetWriter(out, table.schema)
            writer.write_table(table)
        writer.close()
    else:
        with open(out, "w", encoding="utf-8") as fh:
            for row in rows:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB)")


def _rss_mib() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def score(args) -> None:
    peak = [0.0]
    done = threading.Event()

    def sample():  # --rss-log FILE: the running peak every second, readable while the run goes on
        last = 0.0
        while not done.is_set():
            peak[0] = max(peak[0], _rss_mib())
            if args.rss_log and time.time() - last >= 1:
                last = time.time()
                with open(args.rss_log, "a") as fh:
                    fh.write(f"{time.strftime('%H:%M:%S')} rss={_rss_mib():.0f} peak={peak[0]:.0f} MiB\n")
            time.sleep(0.05)

    threading.Thread(target=sample, daemon=True).start()
    out = Path(args.out or tempfile.mkdtemp(prefix="bench-out-"))
    started, cpu_started = time.perf_counter(), time.process_time()
    extra = {}
    if args.engine == "local":
        from inference import Predictor
        from inference.scoring import score_files

        summary = score_files(Predictor.load(args.model), [args.input], out, batch_size=args.batch_size)
    else:
        from inference.distributed import RayOptions, score_distributed

        summary = score_distributed(args.model, [args.input], out, batch_size=args.batch_size, fmt=args.format,
                                    options=RayOptions(workers=args.workers, address=args.address,
                                                       shard_bytes=args.shard_mb << 20))
        extra = json.loads((out / "_SUCCESS").read_text())
        extra = {"shards": extra["shards"], "worker_busy_s": extra["worker_seconds"],
                 "worker_cpu_s": extra["worker_cpu_seconds"],
                 "sentences_per_worker_cpu_s": round(summary.sentences / max(extra["worker_cpu_seconds"], 1e-9))}
    wall = time.perf_counter() - started
    driver_cpu = time.process_time() - cpu_started
    done.set()
    print(json.dumps({"engine": args.engine, "workers": args.workers, "format": args.format, "input": args.input,
                      "articles": summary.articles, "sentences": summary.sentences, "errors": summary.errors,
                      "seconds": round(wall, 1), "sentences_per_s": round(summary.sentences / wall),
                      "driver_cpu_s": round(driver_cpu, 1), **extra,
                      "driver_peak_rss_mib": round(peak[0]),
                      "driver_ru_maxrss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}))


def main() -> None:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("make")
    m.add_argument("--articles", type=int, default=1000)
    m.add_argument("--sentences", type=int, default=10)
    m.add_argument("--out", required=True)
    s = sub.add_parser("score")
    s.add_argument("--engine", choices=["local", "ray"], required=True)
    s.add_argument("--model", required=True)
    s.add_argument("--input", required=True)
    s.add_argument("--out")
    s.add_argument("--workers", type=int)
    s.add_argument("--address")
    s.add_argument("--format", default="parquet")
    s.add_argument("--batch-size", type=int, default=64)
    s.add_argument("--shard-mb", type=int, default=32)
    s.add_argument("--rss-log")
    args = ap.parse_args()
    make(args) if args.cmd == "make" else score(args)


if __name__ == "__main__":
    main()
