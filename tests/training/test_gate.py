"""Each refusal of the training gate: exit 1 and a one-line reason, before any model loads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from provenance.cli import main
from provenance.errors import GateRefused, InputError
from provenance.model import Status
from provenance.policy import load_policy
from provenance.scan import ScanOptions, run_scan
from provenance.store import Store
from provenance.training.data import cleared_records
from provenance.training.gate import Clearance, GateOptions, open_gate
from tests.conftest import write_jsonl
from tests.training.conftest import fake_check, make_dataset, scan, write_usage

pytestmark = pytest.mark.usefixtures("fake_pii", "usage")


@pytest.fixture
def usage(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """./provenance.yaml with a use that passes every Llama 2 clause."""
    monkeypatch.chdir(tmp_path)
    return write_usage(tmp_path)


@pytest.fixture
def dataset(tmp_path: Path, store_dir: Path) -> Path:
    path = make_dataset(tmp_path / "ds")
    scan(path, store_dir)
    return path


@pytest.fixture
def train(tiny_model: Path, capsys: pytest.CaptureFixture[str]) -> Any:
    """Run `provenance train` as a user would; returns the exit code and the first stderr line.

    The base model is the tiny Llama (its card says llama2), so the license check is the real
    one; every refusal happens before the model is loaded.
    """

    def run(dataset: Path | None, *extra: str) -> tuple[int, str]:
        args = ["train", *([str(dataset)] if dataset else []), "--base-model", str(tiny_model),
                "-o", "out", "-q", *extra]  # fmt: skip
        with pytest.raises(SystemExit) as exit_info:
            main(args)
        err = capsys.readouterr().err
        return int(exit_info.value.code or 0), (err.splitlines() or [""])[0]

    return run


def gate(store_dir: Path, dataset: Path | None, **options: bool) -> Clearance:
    with Store(store_dir, create=False) as store:
        return open_gate(store, str(dataset) if dataset else None, load_policy(), fake_check(),
                         GateOptions(**options))  # fmt: skip


def test_no_store_refuses(tmp_path: Path, store_dir: Path, train: Any) -> None:
    code, line = train(tmp_path, "--cleared-only")
    assert code == 1
    assert line == f"Error: no audit store at {store_dir}; run `provenance scan DATASET` first"


def test_unscanned_dataset_refuses(dataset: Path, tmp_path: Path, train: Any) -> None:
    other = tmp_path / "other"
    write_jsonl(other / "d.jsonl", [{"text": "never scanned"}])
    code, line = train(other, "--cleared-only")
    assert code == 1
    assert line.startswith(f"Error: no complete scan of {other} in ")


def test_incomplete_scan_refuses(dataset: Path, store_dir: Path, train: Any) -> None:
    with Store(store_dir) as store:
        store.mark_incomplete(store.scan(source=str(dataset)).scan_id)
    code, line = train(dataset, "--cleared-only")
    assert code == 1 and line.startswith(f"Error: no complete scan of {dataset}")


def test_scan_that_skipped_the_license_check_refuses(
    tmp_path: Path, store_dir: Path, train: Any
) -> None:
    path = make_dataset(tmp_path / "ds")
    with Store(store_dir) as store:
        run_scan(str(path), store=store, policy=load_policy(),
                 options=ScanOptions(detectors=("pii",), workers=1))  # fmt: skip
    code, line = train(path, "--cleared-only")
    assert code == 1
    assert line.startswith("Error: scan scan-") and line.endswith(
        "did not run the license detector; rescan with the default detectors"
    )


@pytest.mark.parametrize("change", ["changed", "added", "removed"])
def test_changed_dataset_refuses(dataset: Path, change: str, train: Any) -> None:
    if change == "changed":
        path = dataset / "data" / "alpaca.jsonl"
        path.write_bytes(path.read_bytes().replace(b"Red", b"Blue", 1))
        named = "data/alpaca.jsonl"
    elif change == "added":
        write_jsonl(dataset / "data" / "extra.jsonl", [{"text": "added after the scan"}])
        named = "data/extra.jsonl"
    else:
        (dataset / "data" / "notes.txt").unlink()
        named = "data/notes.txt"
    code, line = train(dataset, "--cleared-only")
    assert code == 1
    assert line.startswith("Error: dataset changed since scan scan-")
    assert f": {change} {named}; rescan it with `provenance scan {dataset}`" in line


def test_other_policy_refuses(dataset: Path, tmp_path: Path, train: Any) -> None:
    from importlib import resources

    custom = tmp_path / "policy.yaml"
    default = resources.files("provenance.rules") / "policy" / "default.yaml"
    custom.write_bytes(default.read_bytes() + b"# one more comment changes the hash\n")
    code, line = train(dataset, "--cleared-only", "--policy", str(custom))
    assert code == 1
    assert line.startswith(f"Error: policy {custom} (sha256 ")
    assert "is not the policy scan scan-" in line and "builtin:policy/default.yaml" in line


def test_failing_clause_refuses(dataset: Path, tmp_path: Path, train: Any) -> None:
    write_usage(tmp_path, monthly_active_users=800_000_000)
    code, line = train(dataset, "--cleared-only", "--accept-review")
    assert code == 1
    assert line.startswith("Error: license check failed: llama2.mau-700m;")


def test_review_refuses_unless_accepted(
    dataset: Path, tmp_path: Path, store_dir: Path, train: Any
) -> None:
    write_usage(tmp_path, monthly_active_users=None)
    code, line = train(dataset, "--cleared-only")
    assert code == 1
    assert line.startswith("Error: license check needs review: llama2.mau-700m;")
    with Store(store_dir, create=False) as store:
        clearance = open_gate(store, str(dataset), load_policy(), fake_check("review"),
                              GateOptions(cleared_only=True, accept_review=True))  # fmt: skip
    assert clearance.accepted_review == ["llama2.example-clause"]


def test_no_cleared_record_refuses(tmp_path: Path, store_dir: Path, train: Any) -> None:
    data = write_jsonl(tmp_path / "bad" / "d.jsonl", [{"text": "SSN 536-22-8146"}])
    scan(data.parent, store_dir)
    code, line = train(data.parent, "--cleared-only")
    assert code == 1
    assert (
        line.startswith("Error: scan scan-") and "has no cleared records (of 1: 1 blocked" in line
    )


def test_blocked_records_refuse_without_cleared_only(dataset: Path, train: Any) -> None:
    code, line = train(dataset)
    assert code == 1
    assert line.startswith("Error: 1 blocked and 0 unreadable records in scan scan-")
    assert "pass --cleared-only to train on the 8 cleared ones" in line


def test_contradictory_flags_are_a_usage_error(dataset: Path, train: Any) -> None:
    code, line = train(dataset, "--cleared-only", "--include-blocked")
    assert code == 2
    assert line == "Error: --cleared-only and --include-blocked contradict each other"


def test_gate_lets_through_cleared_and_redacted_only(dataset: Path, store_dir: Path) -> None:
    clearance = gate(store_dir, dataset, cleared_only=True)
    statuses = {r.status for r in clearance.records}
    assert statuses == {Status.CLEARED, Status.REDACTED}
    assert clearance.excluded == {"blocked": 1}
    assert ("data/alpaca.jsonl", 2) not in {(r.file, r.row) for r in clearance.records}


def test_include_blocked_lets_blocked_through(dataset: Path, store_dir: Path) -> None:
    clearance = gate(store_dir, dataset, include_blocked=True)
    assert Status.BLOCKED in {r.status for r in clearance.records}


def test_default_dataset_is_the_latest_scan(dataset: Path, store_dir: Path) -> None:
    clearance = gate(store_dir, None, cleared_only=True)
    assert clearance.scan.source == str(dataset)


def test_record_edited_after_the_hash_check_is_refused(dataset: Path, store_dir: Path) -> None:
    clearance = gate(store_dir, dataset, cleared_only=True)
    path = dataset / "data" / "alpaca.jsonl"
    path.write_bytes(path.read_bytes().replace(b"Red", b"Blue", 1))
    with pytest.raises(GateRefused, match=r"record data/alpaca.jsonl:0 changed since scan"):
        list(cleared_records(clearance))


def test_options_validate() -> None:
    with pytest.raises(InputError):
        GateOptions(cleared_only=True, include_blocked=True)
