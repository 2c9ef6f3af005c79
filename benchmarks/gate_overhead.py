"""What the training gate costs: on the demo, as a share of training; on 1 GB, the hash check.

Usage:
    python benchmarks/gate_overhead.py demo [--model DIR] [--repeats 5]
    python benchmarks/gate_overhead.py hash [--size-gb 1.0] [--dir DIR]

`demo` scans examples/dataset (real detectors, as `make demo` does), then times, on the same
data and the same tiny Llama the demo trains: the gate's hash check (sha256 of every file against
the scan) and its filtering (selecting the cleared records and their redactions from the store),
each the median of `--repeats` runs; the license check; the data step (re-reading, id checks,
redaction, templates, tokenisation); and the LoRA run with the demo's settings. It prints each and
the gate's share of the training time.

`hash` writes a synthetic jsonl dataset of `--size-gb` (files of 128 MB, records built from the
example data with a counter so no two are alike) and times the gate's hash check on it: with the
files in the page cache (warm), after evicting them with posix_fadvise (cold; per file, no root
needed), the same cold check one file after another (`Dataset.files()`, no threads), a plain
read of the same cold files without hashing, and sha256 over memory. When the cold hash check
takes about as long as the cold plain read, the check is I/O bound.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from provenance.sources.base import open_dataset  # noqa: E402
from provenance.training.gate import hash_files  # noqa: E402

EXAMPLES = REPO / "examples"
FILE_BYTES = 128 * 1024 * 1024
DEMO_TRAINING = {  # the settings examples/demo.sh trains with
    "epochs": 1,
    "learning_rate": 5e-3,
    "lora_r": 16,
    "batch_size": 8,
    "max_length": 256,
    "target_modules": ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj",
                       "down_proj", "lm_head"),
}  # fmt: skip


def median_time(run: Callable[[], Any], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def demo(model_dir: Path | None, repeats: int) -> dict[str, float]:
    import importlib.util

    from provenance.licensing.usage import load_usage
    from provenance.policy import load_policy
    from provenance.refs import add_reference_set
    from provenance.scan import ScanOptions, run_scan
    from provenance.store import Store
    from provenance.training import check as license_check
    from provenance.training.data import prepare
    from provenance.training.gate import GateOptions, open_gate
    from provenance.training.lora import load_model, load_tokenizer, quiet_libraries, train_lora
    from provenance.training.options import TrainOptions

    quiet_libraries()
    work = Path(tempfile.mkdtemp(prefix="gate-bench-"))
    if model_dir is None:
        spec = importlib.util.spec_from_file_location("tiny", EXAMPLES / "make_tiny_llama.py")
        assert spec and spec.loader
        builder = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(builder)
        model_dir = Path(builder.build(work / "tiny-llama"))
    dataset = str(EXAMPLES / "dataset")
    policy = load_policy()
    usage = load_usage(EXAMPLES / "provenance.yaml")
    with Store(work / "store") as store:
        # the demo's scan: its reference set and every detector
        add_reference_set(store, "handbook", [str(EXAMPLES / "references" / "handbook")],
                          license="LicenseRef-all-rights-reserved")  # fmt: skip
        scan_options = ScanOptions(detectors=("pii", "reference", "duplicate", "license"),
                                   project_file=EXAMPLES / "provenance.yaml")  # fmt: skip
        run_scan(dataset, store=store, policy=policy, options=scan_options)
        started = time.perf_counter()
        check = license_check.run(usage, str(model_dir))
        check_seconds = time.perf_counter() - started
        options = GateOptions(cleared_only=True)
        runs = [open_gate(store, dataset, policy, check, options) for _ in range(repeats)]
        clearance = runs[-1]
    hash_check = statistics.median(r.timings["hash_check"] for r in runs)
    filtering = statistics.median(r.timings["filtering"] for r in runs)
    tokenizer = load_tokenizer(str(model_dir))
    train_options = TrainOptions(**DEMO_TRAINING)  # type: ignore[arg-type]
    data_seconds = median_time(
        lambda: prepare(clearance, tokenizer, train_options.max_length), repeats
    )
    data = prepare(clearance, tokenizer, train_options.max_length)
    model = load_model(str(model_dir), qlora=False)
    _, result = train_lora(model, data.examples, train_options, pad_token_id=tokenizer.eos_token_id)
    gate = hash_check + filtering
    return {
        "records_cleared": len(clearance.records),
        "dataset_bytes": sum(f.size for f in clearance.files),
        "hash_check_ms": hash_check * 1000,
        "filtering_ms": filtering * 1000,
        "gate_ms": gate * 1000,
        "license_check_ms": check_seconds * 1000,
        "data_preparation_ms": data_seconds * 1000,
        "training_s": result.seconds,
        "training_steps": result.steps,
        "gate_share_of_training_pct": 100 * gate / result.seconds,
        "gate_and_data_share_pct": 100 * (gate + data_seconds) / result.seconds,
    }


def write_corpus(directory: Path, total_bytes: int) -> list[Path]:
    """jsonl files of FILE_BYTES each, from the example records with a counter in every line."""
    base = [
        json.loads(line)
        for line in (EXAMPLES / "dataset" / "data" / "alpaca.jsonl").read_text("utf-8").splitlines()
        if line.strip()
    ]
    files, written, counter = [], 0, 0
    while written < total_bytes:
        path = directory / f"part-{len(files):04d}.jsonl"
        size = 0
        with path.open("w", encoding="utf-8") as out:
            while size < min(FILE_BYTES, total_bytes - written):
                record = dict(base[counter % len(base)])
                record["output"] = f"{record['output']} (variant {counter})"
                line = json.dumps(record) + "\n"
                out.write(line)
                size += len(line.encode("utf-8"))
                counter += 1
            out.flush()
            os.fsync(out.fileno())
        files.append(path)
        written += size
    return files


def evict(files: list[Path]) -> None:
    """Drop these files' pages from the page cache, so the next read comes from the disk."""
    for path in files:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def plain_read(files: list[Path]) -> None:
    for path in files:
        with path.open("rb") as stream:
            while stream.read(1 << 20):
                pass


def hash_check(size_gb: float, directory: Path | None) -> dict[str, float]:
    work = Path(tempfile.mkdtemp(prefix="gate-hash-", dir=directory))
    files = write_corpus(work, int(size_gb * 1024**3))
    total_mb = sum(p.stat().st_size for p in files) / 1024**2
    dataset = open_dataset(str(work))

    def hashed() -> None:
        hash_files(dataset)  # what the gate compares with the scan: sha256 of every file

    def one_thread() -> None:
        dataset.files()  # the same, one file after another

    hashed()  # warm the cache
    warm = median_time(hashed, 3)
    colds, serial, reads = [], [], []
    for _ in range(3):
        evict(files)
        colds.append(median_time(hashed, 1))
        evict(files)
        serial.append(median_time(one_thread, 1))
        evict(files)
        reads.append(median_time(lambda: plain_read(files), 1))
    buffer = os.urandom(256 * 1024**2)
    memory = median_time(lambda: hashlib.sha256(buffer).digest(), 3)
    for path in files:
        path.unlink()
    work.rmdir()
    cold, read = statistics.median(colds), statistics.median(reads)
    one = statistics.median(serial)
    return {
        "dataset_mb": total_mb,
        "files": len(files),
        "hash_warm_s": warm,
        "hash_cold_s": cold,
        "hash_cold_one_thread_s": one,
        "read_cold_s": read,
        "hash_warm_mb_s": total_mb / warm,
        "hash_cold_mb_s": total_mb / cold,
        "hash_cold_one_thread_mb_s": total_mb / one,
        "read_cold_mb_s": total_mb / read,
        "sha256_memory_mb_s": 256 / memory,
        "cold_hash_over_cold_read": cold / read,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    demo_parser = sub.add_parser("demo", help="gate overhead on the demo")
    demo_parser.add_argument("--model", type=Path, default=None, help="tiny model folder to reuse")
    demo_parser.add_argument("--repeats", type=int, default=5)
    hash_parser = sub.add_parser("hash", help="hash-check time on a generated dataset")
    hash_parser.add_argument("--size-gb", type=float, default=1.0)
    hash_parser.add_argument("--dir", type=Path, default=None, help="where to write it")
    args = parser.parse_args()
    if args.what == "demo":
        figures = demo(args.model, args.repeats)
    else:
        figures = hash_check(args.size_gb, args.dir)
    for name, value in figures.items():
        print(f"{name:32} {value:12.3f}" if isinstance(value, float) else f"{name:32} {value:12}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
