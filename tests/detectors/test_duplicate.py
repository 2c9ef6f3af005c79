"""The duplicate detector: exact and near-duplicate clusters with a deterministic representative."""

from __future__ import annotations

import pickle
import random

import pytest

from provenance.detectors.duplicate import DuplicateDetector
from provenance.model import Finding, Record, TextField

WORDS = [
    "river", "stone", "lantern", "orchard", "harbour", "meadow", "copper", "violet", "engine",
    "ledger", "canvas", "summit", "quartz", "willow", "signal", "timber", "marble", "falcon",
    "prairie", "beacon", "amber", "thistle", "glacier", "saddle",
]  # fmt: skip


def text(seed: int, length: int = 120) -> str:
    rng = random.Random(seed)
    return " ".join(rng.choice(WORDS) for _ in range(length))


def edited(source: str, every: int) -> str:
    return " ".join("CHANGED" if i % every == 0 else w for i, w in enumerate(source.split()))


def rec(row: int, body: str, file: str = "d.jsonl") -> Record:
    return Record(id=f"id-{file}-{row}", file=file, row=row, shape="text",
                  fields=(TextField("text", body),))  # fmt: skip


def run(records: list[Record], batch: int = 1000, **options: float) -> list[Finding]:
    driver = DuplicateDetector(**options)  # type: ignore[arg-type]
    worker = DuplicateDetector(**options)  # type: ignore[arg-type]
    for start in range(0, len(records), batch):
        driver.absorb(worker.sketch_batch(records[start : start + batch]))
    return list(driver.finish())


def test_exact_and_near_duplicates_point_at_the_first_record() -> None:
    a, b = text(1, 300), text(2, 300)
    records = [
        rec(0, a),
        rec(1, b),
        rec(2, a.upper().replace(" ", ",  ")),  # same text once normalised
        rec(3, edited(b, 150)),  # 2 words of 300 changed
        rec(4, text(3)),
    ]
    findings = run(records)
    assert [(f.row, f.type, f.detail["row"], f.detail["cluster"]) for f in findings] == [
        (2, "EXACT_DUPLICATE", 0, 1),
        (3, "NEAR_DUPLICATE", 1, 2),
    ]
    near = findings[1]
    assert 0.8 <= near.score < 1.0 and near.detail["similarity"] == near.score
    assert near.detail["file"] == "d.jsonl" and near.detail["record_id"] == "id-d.jsonl-1"
    assert findings[0].score == 1.0 and findings[0].field is None


def test_threshold_is_configurable() -> None:
    a = text(1, 300)
    records = [rec(0, a), rec(1, edited(a, 30))]  # Jaccard of 5-gram sets about 0.7
    assert [f.type for f in run(records, threshold=0.5)] == ["NEAR_DUPLICATE"]
    assert run(records, threshold=0.95) == []


def test_results_do_not_depend_on_batches_or_arrival_order() -> None:
    bases = [text(i, 300) for i in range(20)]
    records = [rec(i, edited(bases[i % 20], 200 + i % 7)) for i in range(80)]
    expected = run(records)
    assert len(expected) == 60
    assert run(records, batch=7) == expected
    shuffled = records[:]
    random.Random(3).shuffle(shuffled)
    assert run(shuffled, batch=13) == expected
    assert all(f.detail["row"] < 20 for f in expected)  # representatives come first


def test_large_buckets_still_form_one_cluster() -> None:
    a = text(5, 400)
    records = [rec(i, edited(a, 300 + i)) for i in range(150)]
    findings = run(records)
    assert len(findings) == 149 and {f.detail["cluster"] for f in findings} == {1}


def test_sketches_hold_no_text_and_unreadable_records_are_ignored() -> None:
    secret = "zanzibar " * 50
    sketches = DuplicateDetector().sketch_batch(
        [rec(0, secret), Record(id="e", file="d.jsonl", row=1, shape="error", error="BAD"),
         rec(2, "... !!!")]
    )  # fmt: skip
    assert len(sketches) == 1 and b"zanzibar" not in pickle.dumps(sketches)


def test_bad_threshold_fails_early() -> None:
    with pytest.raises(ValueError, match="threshold"):
        DuplicateDetector(threshold=1.5)
