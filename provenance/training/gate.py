"""The training gate: decides whether a dataset may be trained on, and which of its records.

It refuses (`GateRefused`, exit 1, one line) unless, in this order: the store holds a complete scan
of the dataset; every file still has the sha256 the scan recorded and none was added or removed;
the policy is byte-for-byte the one the scan used; the license check has no failing clause (and
no clause left for review unless that is accepted); at least one record is cleared or redacted;
and, without `--cleared-only`, no record is blocked (unless `--include-blocked`).

What it lets through is a list of (id, file, row, status) locators and the redaction findings of
those records. No text is read here beyond hashing; `training.data` re-reads the records from the
files this gate verified and checks each one's content id against the scan.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from provenance.errors import GateRefused, InputError, StoreError
from provenance.model import DataFile, Finding, Status
from provenance.policy import Policy
from provenance.sources.base import Dataset, open_dataset
from provenance.store import ScanRow, Store

USABLE = (Status.CLEARED, Status.REDACTED)


@dataclass(frozen=True)
class GateOptions:
    """The user's choices about what the gate may let through."""

    cleared_only: bool = False  # train on cleared + redacted records, leave out blocked ones
    include_blocked: bool = False  # train on blocked records too (the bundle says so)
    accept_review: bool = False  # accept license clauses that need a human review

    def __post_init__(self) -> None:
        if self.cleared_only and self.include_blocked:
            raise InputError("--cleared-only and --include-blocked contradict each other")


@dataclass(frozen=True)
class SelectedRecord:
    """A record the gate lets through, located as the scan saw it."""

    id: str
    file: str
    row: int
    status: Status


@dataclass(frozen=True)
class Clearance:
    """What the gate decided, with everything the data step and the bundle need."""

    scan: ScanRow
    dataset: Dataset
    files: list[DataFile]
    policy: Policy
    check: Any  # the license check's result (`provenance.licensing`), or None
    options: GateOptions
    records: list[SelectedRecord]  # in file, row order
    redactions: dict[tuple[str, int], list[Finding]]  # (file, row) -> its REDACT findings
    status_counts: dict[str, int]  # every record of the scan, by status
    accepted_review: list[str] = field(default_factory=list)  # clause ids accepted for review
    timings: dict[str, float] = field(default_factory=dict)  # seconds: hash_check, filtering

    @property
    def excluded(self) -> dict[str, int]:
        """Records of the scan left out of training, by status."""
        allowed = {s.value for s in self.allowed_statuses}
        return {s: n for s, n in sorted(self.status_counts.items()) if s not in allowed and n}

    @property
    def allowed_statuses(self) -> tuple[Status, ...]:
        return (*USABLE, Status.BLOCKED) if self.options.include_blocked else USABLE


def find_scan(store: Store, dataset: str | None) -> ScanRow:
    """The latest complete scan of `dataset` (by the name it was scanned as, or its resolved path),
    or the latest complete scan in the store when `dataset` is None."""
    if dataset is None:
        try:
            return store.scan()
        except StoreError:
            raise GateRefused(
                f"no complete scan in {store.path}; run `provenance scan DATASET` first"
            ) from None
    candidates = [dataset]
    if Path(dataset).is_dir():
        # a folder scanned under another spelling (./d, d/, an absolute path) matches its root
        candidates.append(str(Path(dataset).resolve()))
    for candidate in candidates:
        try:
            return store.scan(source=candidate)
        except StoreError:
            continue
    raise GateRefused(
        f"no complete scan of {dataset} in {store.path}; run `provenance scan {dataset}` first"
    )


def dataset_of(scan: ScanRow, dataset: str | None, *, allow_network: bool = False) -> Dataset:
    """Open the scanned dataset: the one named, else the scan's source as it was named."""
    source = dataset or scan.source
    scanned_elsewhere = (
        dataset is None
        and not Path(source).exists()
        and scan.root is not None
        and Path(scan.root).is_dir()
        and Path(scan.root).name == Path(source).name
    )
    if scanned_elsewhere and scan.root:
        source = scan.root  # scanned from another working directory
    text_field = (scan.options or {}).get("text_field")
    try:
        return open_dataset(source, text_field=text_field, allow_network=allow_network)
    except InputError as exc:
        raise GateRefused(f"cannot open the scanned dataset: {exc}") from None


def hash_files(dataset: Dataset) -> list[DataFile]:
    """Every file of the dataset with its sha256, several files at a time.

    hashlib releases the GIL while it hashes, so one thread per core keeps sha256 (about 2 GB/s
    per core) from being the limit: a large dataset is checked at the speed of the disk.
    """
    if dataset.hub is not None or len(dataset.entries) < 2:
        return dataset.files()
    singles = [dataclasses.replace(dataset, entries=[entry]) for entry in dataset.entries]
    with ThreadPoolExecutor(max_workers=min(len(singles), os.cpu_count() or 1)) as pool:
        return [f for files in pool.map(Dataset.files, singles) for f in files]


def verify_files(scan: ScanRow, scanned: Sequence[DataFile], current: Sequence[DataFile]) -> None:
    """Refuse when any file changed, appeared or disappeared since the scan."""
    before = {f.path: f.sha256 for f in scanned}
    now = {f.path: f.sha256 for f in current}
    changed = sorted(p for p in before.keys() & now.keys() if before[p] != now[p])
    added = sorted(now.keys() - before.keys())
    removed = sorted(before.keys() - now.keys())
    if not (changed or added or removed):
        return
    parts = [
        f"{label} {_list(paths)}"
        for label, paths in (("changed", changed), ("added", added), ("removed", removed))
        if paths
    ]
    raise GateRefused(
        f"dataset changed since scan {scan.scan_id}: {'; '.join(parts)}; "
        f"rescan it with `provenance scan {scan.source}`"
    )


# Clearance means these questions were asked: a scan that skipped one cannot clear data.
REQUIRED_DETECTORS = ("pii", "license")


def verify_detectors(scan: ScanRow) -> None:
    """Refuse a scan that did not look for personal data or check the data's licenses."""
    ran = scan.options.get("detectors") or []
    missing = [name for name in REQUIRED_DETECTORS if name not in ran]
    if missing:
        raise GateRefused(
            f"scan {scan.scan_id} did not run the {' and '.join(missing)} detector"
            f"{'s' if len(missing) > 1 else ''}; rescan with the default detectors"
        )


def verify_policy(scan: ScanRow, policy: Policy) -> None:
    """Refuse when the policy in force is not byte-for-byte the one the scan used."""
    if policy.sha256 != scan.policy_sha256:
        raise GateRefused(
            f"policy {policy.source} (sha256 {policy.sha256[:12]}) is not the policy scan "
            f"{scan.scan_id} used ({scan.policy_source}, sha256 {scan.policy_sha256[:12]}); "
            "pass the scan's policy with --policy or rescan with this one"
        )


def verify_check(check: Any, accept_review: bool) -> list[str]:
    """Refuse on a failing clause, or on clauses left for review unless they are accepted.

    Returns the ids of the clauses accepted for review (recorded in the bundle).
    """
    if check is None:
        return []
    failing = [_clause_id(c) for c in _clauses(check) if _verdict(c) == "fail"]
    review = [_clause_id(c) for c in _clauses(check) if _verdict(c) == "review"]
    verdict = _verdict(check)
    if verdict == "fail" or failing:
        raise GateRefused(
            f"license check failed: {_list(failing) or 'verdict fail'}; "
            "see `provenance check` for the clauses and the facts they need"
        )
    if verdict == "review" or review:
        if not accept_review:
            raise GateRefused(
                f"license check needs review: {_list(review) or 'verdict review'}; "
                "resolve the clauses or pass --accept-review (recorded in the bundle)"
            )
        return review
    return []


def select_records(
    store: Store, scan: ScanRow, options: GateOptions
) -> tuple[list[SelectedRecord], dict[str, int]]:
    """The records the options allow, and the scan's count of records by status.

    Refuses when none is cleared, and (without --cleared-only) when any is blocked or unreadable.
    """
    counts = {s.value: 0 for s in Status}
    allowed = {Status.CLEARED, Status.REDACTED}
    if options.include_blocked:
        allowed.add(Status.BLOCKED)
    selected = []
    for row in store.records(scan.scan_id):
        status = Status(row["status"])
        counts[status.value] += 1
        if status in allowed:
            selected.append(SelectedRecord(row["id"], row["file"], int(row["row"]), status))
    usable = counts[Status.CLEARED.value] + counts[Status.REDACTED.value]
    if usable == 0:
        raise GateRefused(
            f"scan {scan.scan_id} has no cleared records (of {sum(counts.values())}: "
            f"{counts['blocked']} blocked, {counts['error']} unreadable)"
        )
    unusable = counts[Status.BLOCKED.value] + counts[Status.ERROR.value]
    if not options.cleared_only and unusable and not options.include_blocked:
        raise GateRefused(
            f"{counts['blocked']} blocked and {counts['error']} unreadable records in scan "
            f"{scan.scan_id}; pass --cleared-only to train on the {usable} cleared ones "
            "(or --include-blocked to train on blocked ones too)"
        )
    return selected, counts


def redactions(
    store: Store, scan: ScanRow, records: Sequence[SelectedRecord]
) -> dict[tuple[str, int], list[Finding]]:
    """The REDACT findings of the selected records, by (file, row)."""
    wanted = {(r.file, r.row) for r in records}
    found: dict[tuple[str, int], list[Finding]] = {}
    for finding in store.findings(scan.scan_id, action="redact"):
        key = (finding.file, finding.row)
        if key in wanted:
            found.setdefault(key, []).append(finding)
    return found


def open_gate(
    store: Store,
    dataset: str | None,
    policy: Policy,
    check: Any,
    options: GateOptions,
    *,
    allow_network: bool = False,
) -> Clearance:
    """Run every check of the gate in order; the first that fails refuses with its reason."""
    scan = find_scan(store, dataset)
    verify_detectors(scan)
    opened = dataset_of(scan, dataset, allow_network=allow_network)
    started = time.perf_counter()
    current = hash_files(opened)
    verify_files(scan, store.files(scan.scan_id), current)
    hashed = time.perf_counter()
    verify_policy(scan, policy)
    accepted = verify_check(check, options.accept_review)
    records, counts = select_records(store, scan, options)
    found = redactions(store, scan, records)
    done = time.perf_counter()
    return Clearance(
        scan=scan,
        dataset=opened,
        files=current,
        policy=policy,
        check=check,
        options=options,
        records=records,
        redactions=found,
        status_counts=counts,
        accepted_review=accepted,
        timings={"hash_check": hashed - started, "filtering": done - hashed},
    )


def _list(items: Sequence[str], limit: int = 3) -> str:
    shown = ", ".join(items[:limit])
    return f"{shown} and {len(items) - limit} more" if len(items) > limit else shown


def _clauses(check: Any) -> list[Any]:
    return list(getattr(check, "clauses", None) or [])


def _verdict(item: Any) -> str:
    value = getattr(item, "verdict", None)
    return str(getattr(value, "value", value) or "").lower()


def _clause_id(clause: Any) -> str:
    return str(getattr(clause, "id", None) or getattr(clause, "clause", None) or clause)
