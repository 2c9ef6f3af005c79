"""Peak memory of a whole scan as the corpus grows 10x: streaming means it should stay flat.

    python benchmarks/scan_memory.py --small 20 --large 200 --detectors pii --workers 2

Runs `provenance scan` as a subprocess on two generated corpora and samples the RSS of the
process tree (driver + workers) every 50 ms. Target: peak RSS on the large corpus within 1.2x
of the small one.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import write_corpus


def peak_rss(command: list[str]) -> tuple[float, float, float, int]:
    """Run `command`; return (seconds, peak tree RSS MB, peak driver RSS MB, exit code)."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    root = psutil.Process(process.pid)
    peaks = [0.0, 0.0]

    def sample() -> None:
        while process.poll() is None:
            try:
                driver = root.memory_info().rss
                tree = driver + sum(c.memory_info().rss for c in root.children(recursive=True))
            except psutil.Error:
                continue
            peaks[0] = max(peaks[0], tree / 1e6)
            peaks[1] = max(peaks[1], driver / 1e6)
            time.sleep(0.05)

    thread = threading.Thread(target=sample)
    thread.start()
    _, err = process.communicate()
    thread.join()
    if process.returncode not in (0, 1):
        sys.stderr.write(err.decode())
    return time.perf_counter() - start, peaks[0], peaks[1], process.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--small", type=float, default=20.0, help="MB")
    parser.add_argument("--large", type=float, default=200.0, help="MB")
    parser.add_argument("--detectors", default="pii")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, size in (("small", args.small), ("large", args.large)):
            corpus = Path(tmp) / f"{label}.jsonl"
            records = write_corpus(corpus, size)
            command = [
                sys.executable, "-m", "provenance", "scan", str(corpus), "-q",
                "--store", str(Path(tmp) / f"store-{label}"), "--workers", str(args.workers),
                "--detectors", args.detectors,
            ]  # fmt: skip
            seconds, tree, driver, code = peak_rss(command)
            rows.append((label, size, records, seconds, tree, driver, code))
    print(f"detectors={args.detectors} workers={args.workers}")
    print("| corpus | MB | records | seconds | MB/s | peak RSS, all (MB) | peak RSS, driver (MB) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for label, size, records, seconds, tree, driver, _ in rows:
        print(f"| {label} | {size:.0f} | {records:,} | {seconds:.1f} | {size / seconds:.2f} "
              f"| {tree:.0f} | {driver:.0f} |")  # fmt: skip
    print(
        f"large/small peak RSS: all processes {rows[1][4] / rows[0][4]:.2f}x, "
        f"driver {rows[1][5] / rows[0][5]:.2f}x (target <= 1.2x)"
    )


if __name__ == "__main__":
    main()
