"""Containment benchmark: edited book passages hidden in instruction records.

Usage: python benchmarks/containment.py [--records 400] [--seed 0] [--books DIR]

The ten public-domain novels in shared/data/reference/gutenberg are split into two folds; in
each fold five books are the reference set and the other five are the "other books of the
same era that are not in the set". Every test record is a real instruction (Stanford Alpaca
and Self-Instruct seed tasks) with a 50-300 word passage embedded in its input or output. The
passage is lightly edited: 5-10 % of its words substituted, deleted or inserted, commas and
semicolons dropped or added, case changed, lines re-wrapped, and one in three passages
rewritten as a tokenised edition ("do n't", punctuation split off). Half the passages come from
the reference books (positives), half from the other books (negatives), and a share of
records carry no passage at all.

A positive counts as found when a finding at or above the default threshold names the book it
came from and overlaps the passage; any finding on a negative or plain record, or naming the
wrong book, is a false positive. Prints recall and precision overall and by passage length.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from provenance.detectors.reference import ReferenceDetector  # noqa: E402
from provenance.refs import add_reference_set, load_index  # noqa: E402
from provenance.sources.base import open_dataset  # noqa: E402
from provenance.store import Store  # noqa: E402

SHARED = REPO.parent / "shared" / "data"
BOOKS = SHARED / "reference" / "gutenberg"
INSTRUCT = SHARED / "instruct"
EDIT_RATE = (0.05, 0.10)


@dataclass(frozen=True)
class Case:
    """One test record and what it hides: the source doc name and the passage's offsets."""

    record: dict[str, object]
    field: str
    source: str | None  # reference doc name for a positive, None for a negative or plain record
    start: int
    end: int
    words: int


def instructions() -> list[tuple[str, str]]:
    """(instruction, output) pairs from the seed tasks: real, short, modern prose."""
    pairs = []
    for name in (
        "stanford_alpaca_seed_tasks.jsonl",
        "self_instruct_user_oriented_instructions.jsonl",
    ):
        for line in (INSTRUCT / name).read_text(encoding="utf-8").splitlines():
            task = json.loads(line)
            output = task["instances"][0]["output"] if task.get("instances") else ""
            pairs.append((task["instruction"], output))
    return pairs


def vocabulary(pairs: list[tuple[str, str]]) -> list[str]:
    words = {w for pair in pairs for w in re.findall(r"[A-Za-z]{3,}", " ".join(pair))}
    return sorted(words)


@cache
def word_spans(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in re.finditer(r"\S+", text)]


def passage(text: str, words: int, rng: random.Random) -> tuple[str, int]:
    """About `words` consecutive words of `text` from a random place, and where they start."""
    spans = word_spans(text)
    first = rng.randrange(0, len(spans) - words)
    start, end = spans[first][0], spans[first + words - 1][1]
    return text[start:end], start


def tokenised_edition(text: str) -> str:
    """Penn-Treebank-style: clitics and punctuation split off, as in tokenised corpora."""
    text = re.sub(r"(\w)n't\b", r"\1 n't", text)
    text = re.sub(r"(\w)'(s|re|ve|ll|d|m)\b", r"\1 '\2", text)
    return re.sub(r"([,.;:!?()\"])", r" \1 ", text)


def edit(
    text: str, rng: random.Random, vocab: list[str], rates: tuple[float, float] = EDIT_RATE
) -> tuple[str, float]:
    """A lightly edited copy of `text`; returns it and the share of words changed."""
    words = text.split()
    rate = rng.uniform(*rates)
    changes = max(1, round(rate * len(words)))
    positions = set(rng.sample(range(len(words)), changes))
    out: list[str] = []
    for i, word in enumerate(words):
        if i not in positions:
            out.append(word)
            continue
        action = rng.choice(("substitute", "delete", "insert"))
        if action == "substitute":
            out.append(rng.choice(vocab))
        elif action == "insert":
            out.extend((word, rng.choice(vocab)))
    edited = " ".join(out)
    edited = re.sub(r"[,;]", lambda m: "" if rng.random() < 0.5 else m.group(), edited)
    edited = re.sub(r"\b(\w+) (\w+)\b", lambda m: f"{m.group(1)}, {m.group(2)}"
                    if rng.random() < 0.03 else m.group(), edited)  # fmt: skip
    style = rng.choice(("lower", "upper-some", "title-some", "same"))
    if style == "lower":
        edited = edited.lower()
    elif style != "same":
        change = str.upper if style == "upper-some" else str.title
        edited = " ".join(change(w) if rng.random() < 0.1 else w for w in edited.split(" "))
    if rng.random() < 1 / 3:
        edited = tokenised_edition(edited)
    edited = textwrap.fill(edited, width=rng.randint(30, 100))
    return edited, changes / len(words)


def make_cases(
    inside: dict[str, str],
    outside: dict[str, str],
    count: int,
    rng: random.Random,
    rates: tuple[float, float] = EDIT_RATE,
) -> Iterator[Case]:
    """`count` records: 40 % positives, 40 % negatives from other books, 20 % plain."""
    pairs = instructions()
    vocab = vocabulary(pairs)
    for i in range(count):
        instruction, output = pairs[rng.randrange(len(pairs))]
        kind = "positive" if i % 5 < 2 else "negative" if i % 5 < 4 else "plain"
        if kind == "plain":
            yield Case(
                {"instruction": instruction, "input": "", "output": output}, "", None, 0, 0, 0
            )
            continue
        books = inside if kind == "positive" else outside
        name = sorted(books)[rng.randrange(len(books))]
        words = rng.randint(50, 300)
        original, _ = passage(books[name], words, rng)
        edited, _ = edit(original, rng, vocab, rates)
        if rng.random() < 0.5:
            lead = "Here is a passage I came across:\n\n"
            field, before = "input", lead
            record = {"instruction": instruction, "input": lead + edited, "output": output}
        else:
            before = f"{output}\n\nFor example, consider this:\n"
            field = "output"
            record = {
                "instruction": instruction,
                "input": "",
                "output": before + edited + "\n\nHope it helps.",
            }
        source = name if kind == "positive" else None
        yield Case(record, field, source, len(before), len(before) + len(edited), words)


def read_books(paths: list[Path]) -> dict[str, str]:
    return {f"gutenberg/{p.name}": p.read_bytes().decode("utf-8") for p in paths}


def run_fold(
    inside: list[Path],
    outside: list[Path],
    count: int,
    seed: int,
    work: Path,
    rates: tuple[float, float] = EDIT_RATE,
) -> list[tuple[Case, list[object]]]:
    store_dir = work / f"store-{seed}"
    reference_dir = work / f"refs-{seed}" / "gutenberg"
    reference_dir.mkdir(parents=True)
    for book in inside:
        (reference_dir / book.name).write_bytes(book.read_bytes())
    with Store(store_dir) as store:
        started = time.perf_counter()
        add_reference_set(store, "books", [reference_dir], license="LicenseRef-all-rights-reserved")
        indexed = time.perf_counter() - started
        index = load_index(store, ["books"])
    cases = list(
        make_cases(read_books(inside), read_books(outside), count, random.Random(seed), rates)
    )
    data = work / f"records-{seed}.jsonl"
    data.write_text("".join(json.dumps(c.record) + "\n" for c in cases), encoding="utf-8")
    detector = ReferenceDetector(index=index)
    records = list(open_dataset(str(data)).records())
    started = time.perf_counter()
    findings = list(detector.detect_batch(records))
    scanned = time.perf_counter() - started
    by_row: dict[int, list[object]] = {}
    for finding in findings:
        by_row.setdefault(finding.row, []).append(finding)
    print(f"  fold {seed}: indexed {len(inside)} books in {indexed:.2f} s, "
          f"scanned {len(records)} records in {scanned:.2f} s")  # fmt: skip
    return [(case, by_row.get(row, [])) for row, case in enumerate(cases)]


def score(results: list[tuple[Case, list[object]]], threshold: float = 0.5) -> dict[str, float]:
    tp = fp = fn = 0
    for case, findings in results:
        hits = [f for f in findings if f.score >= threshold]  # type: ignore[attr-defined]
        correct = [
            f for f in hits
            if case.source is not None and f.detail["reference_doc"] == case.source  # type: ignore[attr-defined]
            and f.field == case.field and f.start < case.end and case.start < f.end  # type: ignore[attr-defined]
        ]  # fmt: skip
        if case.source is not None:
            tp += bool(correct)
            fn += not correct
        fp += len(hits) - len(correct)
    return {
        "recall": tp / (tp + fn) if tp + fn else 1.0,
        "precision": tp / (tp + fp) if tp + fp else 1.0,
        "tp": tp, "fp": fp, "fn": fn,
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=400, help="records per fold")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--books", type=Path, default=BOOKS)
    parser.add_argument(
        "--edit-rate",
        type=float,
        nargs=2,
        default=list(EDIT_RATE),
        metavar=("LOW", "HIGH"),
        help="share of words changed in a passage (default 0.05 0.10)",
    )
    args = parser.parse_args()
    rates = (args.edit_rate[0], args.edit_rate[1])
    books = sorted(args.books.glob("*.txt"))
    folds = [(books[0::2], books[1::2]), (books[1::2], books[0::2])]
    print(f"containment: {len(books)} books, 2 folds x {args.records} records, "
          f"{rates[0]:.0%}-{rates[1]:.0%} of words edited")  # fmt: skip
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, (inside, outside) in enumerate(folds):
            results.extend(run_fold(inside, outside, args.records, args.seed + i, Path(tmp), rates))
    overall = score(results)
    print(f"overall: recall {overall['recall']:.3f}  precision {overall['precision']:.3f}  "
          f"(tp {overall['tp']}, fp {overall['fp']}, fn {overall['fn']})")  # fmt: skip
    for low, high in ((50, 99), (100, 199), (200, 300)):
        bucket = [(c, f) for c, f in results if c.source is None or low <= c.words <= high]
        s = score(bucket)
        print(f"  passages of {low}-{high} words: recall {s['recall']:.3f}")
    ok = overall["recall"] >= 0.95 and overall["precision"] >= 0.99
    print("target (recall >= 0.95 at precision >= 0.99):", "met" if ok else "NOT met")


if __name__ == "__main__":
    main()
