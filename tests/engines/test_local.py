"""The local engine: identical reports for any number of workers, with the real PII detector."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from provenance.engines.base import batches
from provenance.model import Record, TextField
from provenance.policy import load_policy
from provenance.report import load_report
from provenance.scan import ScanOptions, run_scan
from provenance.store import Store
from tests.conftest import write_jsonl


def record(file: str, row: int, text: str) -> Record:
    return Record(f"{file}{row}", file, row, "text", (TextField("text", text),))


def test_batches_name_the_files_they_complete() -> None:
    stream = [record("a", 0, "x"), record("a", 1, "x"), record("b", 0, "x"), record("c", 0, "x")]
    found = [(len(b.records), b.completed) for b in batches(stream, max_records=2)]
    assert found == [(2, ("a",)), (2, ("b", "c"))]


def test_a_huge_record_goes_alone() -> None:
    stream = [record("a", 0, "x"), record("a", 1, "y" * 100), record("a", 2, "z")]
    assert [len(b.records) for b in batches(stream, max_chars=50)] == [1, 1, 1]


def test_report_is_deterministic_across_workers(tmp_path: Path) -> None:
    """Identical findings and verdicts for 1 and 2 workers (real process pool, real detector)."""
    pytest.importorskip("presidio_analyzer")
    rows = [{"text": f"Row {i}: contact bob{i}@example.com or call 212-555-01{i:02d}."}
            for i in range(40)]  # fmt: skip
    data = write_jsonl(tmp_path / "d" / "d.jsonl", rows)
    reports = []
    for workers in (1, 2):
        with Store(tmp_path / f"store{workers}") as store:
            options = ScanOptions(workers=workers, detectors=("pii",))
            run_scan(str(data.parent), store=store, policy=load_policy(), options=options)
            report = load_report(store).to_dict()
        for key in ("scan_id", "created_at"):
            report.pop(key)
        reports.append(json.dumps(report, sort_keys=True))
    assert reports[0] == reports[1]
