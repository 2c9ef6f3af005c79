"""Scanning into the store: statuses, atomicity, resuming, and identical output for any workers."""

from __future__ import annotations

from pathlib import Path

import pytest

from provenance.policy import load_policy
from provenance.report import load_report
from provenance.scan import ScanOptions, run_scan
from provenance.store import Store
from tests.conftest import write_jsonl

pytestmark = pytest.mark.usefixtures("fake_pii")

ROWS = [
    {"text": "nothing personal here"},
    {"text": "write to ada@example.com please"},
    {"text": "my ssn is 536-22-8146"},
]


def scan(path: Path, store: Store, **options: object) -> str:
    opts = ScanOptions(workers=1, detectors=("pii",), **options)  # type: ignore[arg-type]
    return run_scan(str(path), store=store, policy=load_policy(), options=opts).scan_id


def test_statuses_and_reasons(tmp_path: Path) -> None:
    data = write_jsonl(tmp_path / "d" / "d.jsonl", ROWS)
    with Store(tmp_path / "store") as store:
        report = load_report(store, scan(data.parent, store))
    assert [(r["row"], r["status"], r["reasons"]) for r in report.records] == [
        (0, "cleared", []),
        (1, "redacted", ["EMAIL_ADDRESS"]),
        (2, "blocked", ["US_SSN"]),
    ]
    assert report.summary["records"] == 3
    assert report.scan.complete


def test_store_holds_no_record_text(tmp_path: Path) -> None:
    data = write_jsonl(tmp_path / "d" / "d.jsonl", ROWS)
    with Store(tmp_path / "store") as store:
        scan(data.parent, store)
    raw = (tmp_path / "store" / "audit.duckdb").read_bytes()
    for secret in (b"ada@example.com", b"536-22-8146", b"nothing personal"):
        assert secret not in raw


def test_interrupted_scan_is_incomplete_and_resumes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "d"
    write_jsonl(root / "a.jsonl", ROWS)
    write_jsonl(root / "b.jsonl", ROWS)
    from provenance import scan as scan_module

    real = scan_module.batches

    def interrupted(records, sketch_only=frozenset(), **kw):  # type: ignore[no-untyped-def]
        for batch in real(records, sketch_only, max_records=3):
            if batch.index == 1:
                raise KeyboardInterrupt
            yield batch

    monkeypatch.setattr(scan_module, "batches", interrupted)
    with Store(tmp_path / "store") as store:
        with pytest.raises(KeyboardInterrupt):
            scan(root, store)
        (status,) = store.execute("SELECT status FROM scans").fetchone()  # type: ignore[misc]
        assert status == "incomplete"
        with pytest.raises(Exception, match="no complete scan"):
            store.scan()
        monkeypatch.setattr(scan_module, "batches", real)
        outcome = run_scan(
            str(root), store=store, policy=load_policy(),
            options=ScanOptions(workers=1, detectors=("pii",)),
        )  # fmt: skip
        assert outcome.resumed_files == 1
        assert store.execute("SELECT count(*), min(status) FROM scans").fetchone() == (
            1,
            "complete",
        )
        assert outcome.summary["records"] == 6
        assert outcome.summary["blocked"] == 2


def test_changed_dataset_does_not_resume(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "d"
    write_jsonl(root / "a.jsonl", ROWS)
    with Store(tmp_path / "store") as store:
        first = scan(root, store)
        write_jsonl(root / "a.jsonl", ROWS[:1])
        second = scan(root, store)
        assert first != second
        assert store.scan().scan_id == second
        assert store.summary(second)["records"] == 1
