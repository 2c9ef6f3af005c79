"""What an engine does: run detectors over batches of records and hand back results in order.

The work on one batch (`process_batch`) is the same function for every engine, so the local
process pool and a Ray cluster produce identical findings.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from provenance.detectors.base import Detector
from provenance.model import Action, Finding, Record

BATCH_RECORDS = 256
BATCH_CHARS = 2_000_000
SOURCE_DETECTOR = "source"  # findings about records that could not be read


@dataclass(frozen=True)
class Batch:
    index: int
    records: tuple[Record, ...]
    sketch_only: frozenset[str] = frozenset()  # files a resumed scan already examined
    completed: tuple[str, ...] = ()  # files whose last record is in this batch or an earlier one


@dataclass
class BatchResult:
    index: int
    records: list[tuple[str, str, int, str]]  # (record_id, file, row, shape) to store
    findings: list[Finding]
    sketches: dict[str, list[Any]] = field(default_factory=dict)
    completed: tuple[str, ...] = ()


def batches(
    records: Iterable[Record],
    sketch_only: frozenset[str] = frozenset(),
    max_records: int = BATCH_RECORDS,
    max_chars: int = BATCH_CHARS,
) -> Iterator[Batch]:
    """Group records into batches bounded by count and by characters (a huge record goes alone).

    Each batch names the files it completes, so a store can mark them finished once the batch's
    results are in: that is what lets an interrupted scan resume.
    """
    pending: list[Record] = []
    completed: list[str] = []
    current: str | None = None
    chars = 0
    index = 0
    for record in records:
        if current is not None and record.file != current:
            completed.append(current)
        current = record.file
        size = sum(len(f.text) for f in record.fields)
        if pending and (len(pending) >= max_records or chars + size > max_chars):
            yield Batch(index, tuple(pending), sketch_only, tuple(completed))
            index += 1
            pending, completed, chars = [], [], 0
        pending.append(record)
        chars += size
    if current is not None:
        completed.append(current)
    if pending:
        yield Batch(index, tuple(pending), sketch_only, tuple(completed))


def process_batch(detectors: Sequence[Detector], batch: Batch) -> BatchResult:
    """Run every detector over one batch: record-level findings plus corpus-level sketches."""
    fresh = [r for r in batch.records if r.file not in batch.sketch_only]
    readable = [r for r in fresh if r.error is None]
    findings = [error_finding(r) for r in fresh if r.error is not None]
    for detector in detectors:
        findings.extend(detector.detect_batch(readable))
    findings.sort(key=Finding.sort_key)
    sketched = [r for r in batch.records if r.error is None]
    sketches = {d.name: d.sketch_batch(sketched) for d in detectors}
    rows = [(r.id, r.file, r.row, r.shape) for r in fresh]
    sketches = {k: v for k, v in sketches.items() if v}
    return BatchResult(batch.index, rows, findings, sketches, batch.completed)


def error_finding(record: Record) -> Finding:
    """A record that could not be read, as a finding that keeps it from being cleared."""
    code, _, message = (record.error or "").partition(": ")
    return Finding(
        record_id=record.id,
        file=record.file,
        row=record.row,
        detector=SOURCE_DETECTOR,
        type=code if code.isupper() else "READ_ERROR",
        score=1.0,
        preview="",
        detail={"message": message or code},
        action=Action.ERROR,
    )
