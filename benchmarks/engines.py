"""Local engine against Ray engine on the same corpus: throughput, peak memory, driver growth.

    python benchmarks/engines.py throughput --records 50000 --detectors pii --workers 1 2
    python benchmarks/engines.py growth --records 50000 --factor 10 --detectors duplicate
    python benchmarks/engines.py ingest --records 204800

`ingest` times the Ray engine's driver alone: loading Parquet parts of records and findings
(one finding per four records) into the store, as the driver does while a scan runs.

Each run is `provenance scan CORPUS -q -o /dev/null --engine E --workers N --detectors D` in a
process of its own (the Ray engine starts and stops its own local Ray instance, so Ray's
start-up is part of the time). The report format is the terminal table, which loads at most
500 rows, so the report does not grow with the corpus either.

Memory is sampled every 0.2 s over the whole process tree (the driver, its process pool or
the Ray processes it starts: GCS, raylet, workers, actors):

- driver RSS: the `provenance` process alone (what `--engine ray` keeps flat);
- tree RSS: the sum of every process's RSS. It counts shared pages (libraries, Ray's
  object store in /dev/shm) once per process that maps them, so it overstates;
- tree PSS: the sum of proportional set sizes, shared pages split between their processes:
  the memory the scan really occupies.

The corpus is alpaca-style records built from the example data (`corpus.py`), each with a
unique suffix, in 10 jsonl shards, so no cache makes a large corpus cheap.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import EXAMPLE, WORDS

SHARDS = 10
SAMPLE_SECONDS = 0.2


def write_records(directory: Path, records: int, seed: int = 0) -> int:
    """`records` alpaca records in `SHARDS` jsonl files under `directory`; returns bytes."""
    base = [json.loads(line) for line in EXAMPLE.read_text(encoding="utf-8").splitlines()]
    rng = random.Random(seed)
    directory.mkdir(parents=True, exist_ok=True)
    per_shard = -(-records // SHARDS)
    written = 0
    for shard in range(SHARDS):
        with open(directory / f"part-{shard:02d}.jsonl", "w", encoding="utf-8") as out:
            for i in range(shard * per_shard, min(records, (shard + 1) * per_shard)):
                record = dict(base[i % len(base)])
                tail = " ".join(rng.choice(WORDS) for _ in range(8))
                record["output"] = f"{record['output']} (variant {i}: {tail})"
                line = json.dumps(record, ensure_ascii=False) + "\n"
                written += len(line.encode("utf-8"))
                out.write(line)
    return written


@dataclass
class Run:
    engine: str
    workers: int
    records: int
    megabytes: float
    seconds: float
    driver_rss: float  # MB, peaks
    tree_rss: float
    tree_pss: float
    driver_cpu: float  # CPU seconds used by the driver process
    tree_cpu: float  # CPU seconds used by every process of the tree
    exit_code: int

    @property
    def records_per_second(self) -> float:
        return self.records / self.seconds

    @property
    def mb_per_second(self) -> float:
        return self.megabytes / self.seconds


def measure(command: list[str]) -> tuple[float, list[float], float, float, int]:
    """Run `command`: seconds, peak [driver RSS, tree RSS, tree PSS] in MB, driver and tree CPU
    seconds (the last reading of each process: one that lives under 0.2 s is missed), exit."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    root = psutil.Process(process.pid)
    peaks = [0.0, 0.0, 0.0]
    cpu: dict[int, float] = {}

    def sample() -> None:
        while process.poll() is None:
            try:
                tree = [root, *root.children(recursive=True)]
            except psutil.Error:
                break
            driver = rss = pss = 0
            for p in tree:
                try:
                    info = p.memory_full_info()
                    times = p.cpu_times()
                except psutil.Error:
                    continue
                rss += info.rss
                pss += info.pss
                cpu[p.pid] = times.user + times.system
                if p.pid == root.pid:
                    driver = info.rss
            peaks[0] = max(peaks[0], driver / 1e6)
            peaks[1] = max(peaks[1], rss / 1e6)
            peaks[2] = max(peaks[2], pss / 1e6)
            time.sleep(SAMPLE_SECONDS)

    thread = threading.Thread(target=sample)
    thread.start()
    _, err = process.communicate()
    thread.join()
    if process.returncode not in (0, 1):
        sys.stderr.write(err.decode())
    seconds = time.perf_counter() - start
    return seconds, peaks, cpu.get(root.pid, 0.0), sum(cpu.values()), process.returncode


def scan(corpus: Path, store: Path, engine: str, workers: int, detectors: str) -> list[str]:
    return [
        sys.executable, "-m", "provenance", "scan", str(corpus), "-q", "-o", "/dev/null",
        "--store", str(store), "--engine", engine, "--workers", str(workers),
        "--detectors", detectors,
    ]  # fmt: skip


def run(corpus: Path, tmp: Path, engine: str, workers: int, detectors: str, records: int) -> Run:
    store = tmp / f"store-{engine}-{workers}-{records}"
    megabytes = sum(f.stat().st_size for f in corpus.iterdir()) / 1e6
    seconds, peaks, driver_cpu, tree_cpu, code = measure(
        scan(corpus, store, engine, workers, detectors)
    )
    result = Run(engine, workers, records, megabytes, seconds, *peaks, driver_cpu, tree_cpu, code)
    print(f"  {engine} x{workers} {records:,} records: {seconds:.1f} s", file=sys.stderr)
    return result


def table(runs: list[Run]) -> str:
    lines = [
        "| engine | workers | records | MB | seconds | records/s | MB/s | peak driver RSS (MB) "
        "| peak tree RSS (MB) | peak tree PSS (MB) | driver CPU (s) | all CPU (s) "
        "| MB per CPU-s | exit |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in runs:
        lines.append(
            f"| {r.engine} | {r.workers} | {r.records:,} | {r.megabytes:.1f} | {r.seconds:.1f} "
            f"| {r.records_per_second:,.0f} | {r.mb_per_second:.2f} | {r.driver_rss:.0f} "
            f"| {r.tree_rss:.0f} | {r.tree_pss:.0f} | {r.driver_cpu:.1f} | {r.tree_cpu:.1f} "
            f"| {r.megabytes / r.tree_cpu:.3f} | {r.exit_code} |"
        )
    return "\n".join(lines)


def ingest(records: int) -> None:
    """Parts as the scan actors write them, loaded by the driver's `_Ingest`."""
    from provenance.engines.ray import (
        CHUNK_RECORDS,
        _findings_table,
        _Ingest,
        _Results,
        _stored_records_table,
    )
    from provenance.model import DataFile, Finding
    from provenance.store import Store

    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        results = _Results(str(tmp / "results"))
        parts = []
        for start in range(0, records, CHUNK_RECORDS):
            part = f"{start:012d}"
            rows = [(f"{i:064x}", "data.jsonl", i, "alpaca")
                    for i in range(start, min(records, start + CHUNK_RECORDS))]  # fmt: skip
            results.write("records", part, _stored_records_table(rows))
            found = [Finding(r[0], r[1], r[2], "pii", "EMAIL_ADDRESS", "output", 3, 20, 0.9,
                             "a***@e***.com") for r in rows[::4]]  # fmt: skip
            results.write("findings", part, _findings_table(found))
            parts.append((part, len(rows), len(found)))
        with Store(tmp / "store") as store, store.streaming():
            scan_id, _ = store.begin_scan(
                source="bench", root=None, config_sha256="-", policy_source="-",
                policy_sha256="-", tool={}, usage=None, options={},
                files=[DataFile("data.jsonl", "-", "jsonl", 0)], fingerprint="-",
            )  # fmt: skip
            driver = _Ingest(store, scan_id, results, frozenset(), None, 1)
            wall, cpu = time.perf_counter(), time.process_time()
            for part, n, f in parts:
                driver({"part": part, "records": n, "findings": f, "counts": {"data.jsonl": n},
                        "totals": {}, "shared": {}, "gathered": 0})  # fmt: skip
            driver.flush()
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"{records:,} records and {records // 4:,} findings in {len(parts)} parts: "
          f"{wall:.2f} s ({cpu:.2f} s CPU), {wall / records * 1e6:.1f} us per record, "
          f"{records / wall:,.0f} records/s")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["throughput", "growth", "ingest"])
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument("--factor", type=int, default=10, help="growth: corpus size multiplier")
    parser.add_argument("--detectors", default="pii")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--engines", nargs="+", default=["local", "ray"])
    args = parser.parse_args()
    if args.mode == "ingest":
        ingest(args.records)
        return

    runs: list[Run] = []
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        sizes = [args.records]
        if args.mode == "growth":
            sizes.append(args.records * args.factor)
        for records in sizes:
            corpus = tmp / f"corpus-{records}"
            write_records(corpus, records)
            for workers in args.workers:
                for engine in args.engines:
                    runs.append(run(corpus, tmp, engine, workers, args.detectors, records))
    print(f"detectors={args.detectors}; {psutil.cpu_count()} CPUs; Python {sys.version.split()[0]}")
    print(table(runs))
    if args.mode == "growth":
        for engine in args.engines:
            for workers in args.workers:
                small, large = (
                    next(r for r in runs if (r.engine, r.workers, r.records) == key)
                    for key in ((engine, workers, args.records),
                                (engine, workers, args.records * args.factor))
                )  # fmt: skip
                print(
                    f"{engine} x{workers}: {args.factor}x the records -> driver RSS "
                    f"{large.driver_rss / small.driver_rss:.2f}x, tree PSS "
                    f"{large.tree_pss / small.tree_pss:.2f}x"
                )


if __name__ == "__main__":
    main()
