"""Scale: index the ten-book reference set and scan 10,000 records against it; a 100 MB book.

Usage: python benchmarks/scale_reference.py [--records 10000] [--big-mb 100]

Part 1 indexes the ten Gutenberg books into a fresh store and scans 2,500 and then 10,000
instruction records (40 % hiding an edited passage, as in containment.py) with the reference
detector in one process, printing wall time and records per second for both, so the ratio shows
that candidate verification grows with the records, not with their square.

Part 2 generates a 100 MB reference file in a temporary folder (the books repeated with words
shuffled within lines, so no two copies are alike), registers it, and scans 1,000 records
against it. Peak RSS of the process is printed after each part (a running maximum).
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from containment import BOOKS, make_cases, read_books  # noqa: E402

from provenance.detectors.reference import ReferenceDetector  # noqa: E402
from provenance.refs import add_reference_set, load_index  # noqa: E402
from provenance.sources.base import open_dataset  # noqa: E402
from provenance.store import Store  # noqa: E402


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def scan(detector: ReferenceDetector, work: Path, books: dict[str, str], count: int) -> None:
    cases = list(make_cases(books, books, count, random.Random(count)))
    data = work / f"records-{count}.jsonl"
    data.write_text("".join(json.dumps(c.record) + "\n" for c in cases), encoding="utf-8")
    started = time.perf_counter()
    found = 0
    batch = []
    for record in open_dataset(str(data)).records():
        batch.append(record)
        if len(batch) == 1000:
            found += sum(1 for _ in detector.detect_batch(batch))
            batch = []
    found += sum(1 for _ in detector.detect_batch(batch))
    seconds = time.perf_counter() - started
    print(f"  scanned {count:,} records in {seconds:.2f} s ({count / seconds:,.0f} records/s), "
          f"{found:,} findings")  # fmt: skip


def index(store: Store, name: str, path: Path) -> ReferenceDetector:
    started = time.perf_counter()
    result = add_reference_set(store, name, [path], license="LicenseRef-all-rights-reserved")
    indexed = time.perf_counter() - started
    started = time.perf_counter()
    loaded = load_index(store, [name])
    print(f"  indexed {result.set.documents} documents, {result.set.tokens:,} tokens in "
          f"{indexed:.2f} s; index loaded in {time.perf_counter() - started:.2f} s")  # fmt: skip
    return ReferenceDetector(index=loaded)


def big_file(path: Path, megabytes: int, rng: random.Random) -> None:
    lines = [line for p in sorted(BOOKS.glob("*.txt")) for line in p.read_text().splitlines()]
    written = 0
    with open(path, "w", encoding="utf-8") as out:
        while written < megabytes * 1_000_000:
            words = lines[rng.randrange(len(lines))].split()
            rng.shuffle(words)
            line = " ".join(words) + "\n"
            out.write(line)
            written += len(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--big-mb", type=int, default=100, help="0 skips part 2")
    args = parser.parse_args()
    books = read_books(sorted(BOOKS.glob("*.txt")))
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        print("part 1: ten books")
        with Store(work / "store") as store:
            detector = index(store, "books", BOOKS)
        scan(detector, work, books, args.records // 4)
        scan(detector, work, books, args.records)
        print(f"  peak RSS {peak_rss_mb():.0f} MB")
        if args.big_mb:
            print(f"part 2: one {args.big_mb} MB reference file")
            big = work / "big" / "big.txt"
            big.parent.mkdir()
            big_file(big, args.big_mb, random.Random(0))
            with Store(work / "store-big") as store:
                detector = index(store, "big", big.parent)
            scan(detector, work, books, 1000)
            print(f"  peak RSS {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
