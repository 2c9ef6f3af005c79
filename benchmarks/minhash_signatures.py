"""MinHash signatures: provenance's vectorised path against datasketch, side by side.

Usage: python benchmarks/minhash_signatures.py [--docs 2000] [--pairs 1500] [--num-perm 128]

Throughput: the same word 5-gram shingles of passages from the Gutenberg books (50-2,000 words
each) are signed by
  - datasketch `MinHash.update` per shingle (bytes, its default SHA-1 hash), on a subset;
  - datasketch `MinHash.update_batch` (bytes, SHA-1) - its batch API;
  - datasketch `MinHash.bulk` on precomputed 32-bit shingle hashes (`hashfunc=int`): the
    permutation work alone, no hashing;
  - provenance `signatures` (one-permutation hashing + densification) on the uint64 shingle
    hashes, and `permutation_signatures` (datasketch-identical values, batched).
MB/s counts the UTF-8 bytes of the passages. Shingle extraction is shared and not timed; each
contender runs three times and its best time counts.

Accuracy: pairs of passages whose exact Jaccard similarity spreads over 0-1 (shifted windows
and word edits); mean absolute error of each estimate against the exact value.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from datasketch import MinHash  # noqa: E402

from provenance.detectors.minhash import (  # noqa: E402
    hash32,
    jaccard,
    permutation_signatures,
    signatures,
)
from provenance.detectors.shingles import shingle_hashes, text_tokens  # noqa: E402

BOOKS = REPO.parent / "shared" / "data" / "reference" / "gutenberg"
K = 5


def passages(count: int, rng: random.Random) -> list[list[str]]:
    books = [p.read_text(encoding="utf-8").split() for p in sorted(BOOKS.glob("*.txt"))]
    out = []
    for _ in range(count):
        words = books[rng.randrange(len(books))]
        length = int(rng.choice((50, 100, 200, 500, 1000, 2000)) * rng.uniform(0.8, 1.2))
        start = rng.randrange(len(words) - length)
        out.append(words[start : start + length])
    return out


def shingles(words: list[str]) -> tuple[list[bytes], np.ndarray]:
    """The same shingles two ways: normalised token 5-grams as bytes, and as uint64 hashes."""
    text = " ".join(words)
    toks = text_tokens(text)
    names = [text[s:e].lower() for s, e in zip(toks.starts, toks.ends, strict=True)]
    grams = [" ".join(names[i : i + K]).encode() for i in range(max(1, len(names) - K + 1))]
    return grams, shingle_hashes(toks.hashes, K)


def timed(label: str, megabytes: float, run, repeat: int = 3) -> float:  # type: ignore[no-untyped-def]
    """Best of `repeat` runs (the machine is shared; the minimum is the least disturbed)."""
    seconds = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        seconds = min(seconds, time.perf_counter() - started)
    rate = megabytes / seconds
    print(f"  {label:<46} {seconds:8.3f} s  {rate:8.2f} MB/s")
    return rate


def throughput(docs: list[list[str]], num_perm: int) -> None:
    texts = [" ".join(d) for d in docs]
    megabytes = sum(len(t.encode()) for t in texts) / 1e6
    prepared = [shingles(d) for d in docs]
    grams = [g for g, _ in prepared]
    hashes = [h for _, h in prepared]
    values = [hash32(h) for h in hashes]
    subset = max(1, len(docs) // 10)
    sub_mb = sum(len(t.encode()) for t in texts[:subset]) / 1e6
    print(f"throughput: {len(docs)} passages, {megabytes:.2f} MB, "
          f"{sum(len(h) for h in hashes):,} shingles, num_perm={num_perm}")  # fmt: skip

    def per_shingle() -> None:
        for doc in grams[:subset]:
            m = MinHash(num_perm=num_perm)
            for g in doc:
                m.update(g)

    def batch() -> None:
        for doc in grams:
            MinHash(num_perm=num_perm).update_batch(doc)

    def bulk() -> None:
        MinHash.bulk([v.tolist() for v in values], num_perm=num_perm, hashfunc=int)

    slow = timed(f"datasketch update() per shingle ({subset} docs)", sub_mb, per_shingle)
    base = timed("datasketch update_batch()", megabytes, batch)
    timed("datasketch bulk(), hashes precomputed", megabytes, bulk)
    perm = timed("provenance permutation_signatures", megabytes,
                 lambda: permutation_signatures(values, num_perm=num_perm))  # fmt: skip
    fast = timed("provenance signatures (one permutation)", megabytes,
                 lambda: signatures(hashes, num_perm=num_perm))  # fmt: skip
    print(
        f"  speed-up of signatures: {fast / base:.1f}x update_batch, "
        f"{fast / slow:.1f}x update per shingle; permutation path {perm / base:.1f}x"
    )
    ok = fast / base >= 20
    print("  target (>= 20x datasketch MinHash):", "met" if ok else "NOT met")


def accuracy(docs: list[list[str]], count: int, num_perm: int, rng: random.Random) -> None:
    pairs = []
    for i in range(count):
        words = docs[i % len(docs)]
        n = min(len(words) // 2, 400)
        if i % 2:  # shifted windows of one passage: Jaccard about u, u uniform in 0-1
            u = rng.random()
            shift = round(n * (1 - u) / (1 + u))
            a, b = words[:n], words[shift : shift + n]
        else:  # word edits
            rate = rng.uniform(0.0, 0.25)
            a = words[:n]
            b = [w if rng.random() > rate else "edited" + str(j) for j, w in enumerate(a)]
        pairs.append((shingles(a), shingles(b)))
    exact = np.array([
        len(set(ga) & set(gb)) / len(set(ga) | set(gb)) for (ga, _), (gb, _) in pairs
    ])  # fmt: skip
    ds = []
    for (ga, _), (gb, _) in pairs:
        ma, mb = MinHash(num_perm=num_perm), MinHash(num_perm=num_perm)
        ma.update_batch(ga)
        mb.update_batch(gb)
        ds.append(ma.jaccard(mb))
    ours = signatures([h for pair in pairs for _, h in pair], num_perm=num_perm)
    estimate = np.asarray(jaccard(ours[0::2], ours[1::2]))
    ds_error = float(np.abs(np.array(ds) - exact).mean())
    our_error = float(np.abs(estimate - exact).mean())
    spread = np.histogram(exact, bins=5, range=(0, 1))[0].tolist()
    print(f"accuracy: {count} pairs, exact Jaccard per fifth of 0-1: {spread}")
    print(f"  mean absolute error: datasketch {ds_error:.4f}, provenance {our_error:.4f}")
    ok = our_error <= ds_error + 0.01
    print("  target (error <= datasketch + 0.01):", "met" if ok else "NOT met")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=2000)
    parser.add_argument("--pairs", type=int, default=1500)
    parser.add_argument("--num-perm", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    docs = passages(args.docs, rng)
    throughput(docs, args.num_perm)
    accuracy(docs, args.pairs, args.num_perm, rng)


if __name__ == "__main__":
    main()
