"""Within-corpus near-duplicates: provenance's duplicate detector against datasketch MinHashLSH.

Usage: python benchmarks/duplicates.py [--records 100000] [--seed 0]

The corpus is passages of 30-150 words from the Gutenberg books; 10 % of records are copies of
an earlier record with one or two words changed (near-duplicates) and 2 % exact copies. Both
sides get the same records and the same threshold (0.8) and num_perm (128):
  - provenance: `DuplicateDetector.sketch_batch` in batches of 1,000, `absorb`, `finish`
    (tokenising, signatures, banding, verification, clusters; one process);
  - datasketch: the same tokens as shingle strings, `MinHash.update_batch`, `MinHashLSH`
    insert then query per record, keeping candidates whose estimated Jaccard reaches the
    threshold (clusters not built: that only favours the baseline).
Prints wall time of each and how many records each marks as a duplicate of another.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from datasketch import MinHash, MinHashLSH  # noqa: E402

from provenance.detectors.duplicate import SHINGLE_K, DuplicateDetector  # noqa: E402
from provenance.detectors.shingles import text_tokens  # noqa: E402
from provenance.model import Record, TextField  # noqa: E402

BOOKS = REPO.parent / "shared" / "data" / "reference" / "gutenberg"


def corpus(count: int, rng: random.Random) -> tuple[list[str], int]:
    books = [p.read_text(encoding="utf-8").split() for p in sorted(BOOKS.glob("*.txt"))]
    texts: list[str] = []
    planted = 0
    for i in range(count):
        roll = rng.random()
        if i > 10 and roll < 0.12:
            words = texts[rng.randrange(len(texts))].split()
            if roll < 0.10:
                for _ in range(rng.randint(1, 2)):
                    words[rng.randrange(len(words))] = "changed"
            texts.append(" ".join(words))
            planted += 1
            continue
        book = books[rng.randrange(len(books))]
        length = rng.randint(30, 150)
        start = rng.randrange(len(book) - length)
        texts.append(" ".join(book[start : start + length]))
    return texts, planted


def ours(texts: list[str], threshold: float) -> tuple[float, int]:
    records = [
        Record(id=str(i), file="d.jsonl", row=i, shape="text", fields=(TextField("text", t),))
        for i, t in enumerate(texts)
    ]
    started = time.perf_counter()
    worker, driver = DuplicateDetector(threshold=threshold), DuplicateDetector(threshold=threshold)
    for lo in range(0, len(records), 1000):
        driver.absorb(worker.sketch_batch(records[lo : lo + 1000]))
    found = sum(1 for _ in driver.finish())
    return time.perf_counter() - started, found


def baseline(texts: list[str], threshold: float) -> tuple[float, int]:
    started = time.perf_counter()
    lsh = MinHashLSH(threshold=threshold, num_perm=128)
    flagged = 0
    for i, text in enumerate(texts):
        toks = text_tokens(text)
        names = [text[s:e].lower() for s, e in zip(toks.starts, toks.ends, strict=True)]
        grams = {" ".join(names[j : j + SHINGLE_K]).encode()
                 for j in range(max(1, len(names) - SHINGLE_K + 1))}  # fmt: skip
        m = MinHash(num_perm=128)
        m.update_batch(list(grams))
        if any(other.jaccard(m) >= threshold for other in (sketches[c] for c in lsh.query(m))):
            flagged += 1
        lsh.insert(i, m)
        sketches[i] = m
    return time.perf_counter() - started, flagged


sketches: dict[int, MinHash] = {}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--threshold", type=float, default=0.8)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    texts, planted = corpus(args.records, random.Random(args.seed))
    print(f"duplicates: {len(texts):,} records, {planted:,} planted copies, "
          f"threshold {args.threshold}")  # fmt: skip
    ours_time, ours_found = ours(texts, args.threshold)
    print(f"  provenance DuplicateDetector     {ours_time:8.2f} s  {ours_found:,} duplicates")
    base_time, base_found = baseline(texts, args.threshold)
    print(f"  datasketch MinHash + MinHashLSH  {base_time:8.2f} s  {base_found:,} duplicates")
    print(f"  speed-up: {base_time / ours_time:.1f}x")


if __name__ == "__main__":
    main()
