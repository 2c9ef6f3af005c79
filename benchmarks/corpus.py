"""Synthetic corpora for benchmarks, built from the example data (no third-party text committed).

Each record is an example record with a unique suffix (a counter and a few varied words), so no
two records are identical and caches cannot make a large corpus look cheap.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "dataset" / "data" / "alpaca.jsonl"
WORDS = [
    "river",
    "stone",
    "lantern",
    "orchard",
    "harbour",
    "meadow",
    "copper",
    "violet",
    "engine",
    "ledger",
    "canvas",
    "summit",
    "quartz",
    "willow",
    "signal",
    "timber",
    "marble",
    "falcon",
    "prairie",
    "beacon",
]


def write_corpus(path: Path, megabytes: float, seed: int = 0) -> int:
    """Write an alpaca-style jsonl of about `megabytes` MB; returns the number of records."""
    base = [json.loads(line) for line in EXAMPLE.read_text(encoding="utf-8").splitlines()]
    rng = random.Random(seed)
    target = int(megabytes * 1_000_000)
    written = count = 0
    with open(path, "w", encoding="utf-8") as out:
        while written < target:
            record = dict(base[count % len(base)])
            tail = " ".join(rng.choice(WORDS) for _ in range(8))
            record["output"] = f"{record['output']} (variant {count}: {tail})"
            line = json.dumps(record, ensure_ascii=False) + "\n"
            out.write(line)
            written += len(line.encode("utf-8"))
            count += 1
    return count
