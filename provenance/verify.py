"""`provenance verify DIR`: check a release bundle against its manifest, and against the store.

Without a store it checks that every file listed in `provenance.json` is there with the same
sha256, that no file was added, that the manifest itself is unchanged (its self-digest), and that
`audit-report.json` lists exactly the records the manifest's record digest covers. When the audit
store holds the scan the bundle names, it also recomputes the record digest from the scan's
records (the statuses the gate allowed), and compares the dataset fingerprint and policy hash.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from provenance.bundle import (
    ATTESTATION,
    AUDIT_REPORT,
    MANIFEST,
    file_sha256,
    manifest_digest,
    record_digest,
)
from provenance.errors import InputError, StoreError
from provenance.store import DB_NAME, Store, store_dir


@dataclass
class VerifyResult:
    """What was checked, what did not match, and what could not be checked."""

    directory: Path
    checked: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_bundle(directory: str | Path, *, store: str | Path | None = None) -> VerifyResult:
    """Verify the bundle in `directory`; `store` is the audit store directory (default lookup)."""
    root = Path(directory)
    manifest_path = root / MANIFEST
    if not root.is_dir():
        raise InputError(f"not a directory: {directory}")
    if not manifest_path.is_file():
        raise InputError(f"not a release bundle: no {MANIFEST} in {directory}")
    result = VerifyResult(root)
    data = manifest_path.read_bytes()
    try:
        manifest = json.loads(data)
    except ValueError:
        result.problems.append(f"{MANIFEST}: not valid JSON (the file was changed)")
        return result
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
        result.problems.append(f"{MANIFEST}: has no `files` table (the file was changed)")
        return result
    if manifest_digest(data) != manifest.get("manifest_sha256"):
        result.problems.append(f"{MANIFEST}: content differs from when it was written")
    else:
        result.checked.append(MANIFEST)
    _check_files(root, manifest["files"], result)
    digest = (manifest.get("records") or {}).get("digest")
    _check_report(root, digest, result)
    _check_store(manifest, digest, store, result)
    return result


def _check_files(root: Path, listed: dict[str, Any], result: VerifyResult) -> None:
    for name, expected in sorted(listed.items()):
        path = root / name
        if not path.is_file():
            result.problems.append(f"{name}: missing")
        elif file_sha256(path) != expected:
            result.problems.append(f"{name}: sha256 differs from {MANIFEST}")
        else:
            result.checked.append(name)
    present = {
        p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() or p.is_symlink()
    }
    for name in sorted(present - set(listed) - {MANIFEST, ATTESTATION}):
        result.problems.append(f"{name}: not listed in {MANIFEST}")


def _check_report(root: Path, digest: str | None, result: VerifyResult) -> None:
    """The audit report must cover exactly the records the manifest's digest covers."""
    try:
        report = json.loads((root / AUDIT_REPORT).read_bytes())
        ids = [r["id"] for r in report["records"]]
    except (OSError, ValueError, KeyError, TypeError):
        result.problems.append(f"{AUDIT_REPORT}: unreadable, cannot recompute the record digest")
        return
    if record_digest(ids) != digest:
        result.problems.append(
            f"record digest: {AUDIT_REPORT} lists other records than {MANIFEST} covers"
        )
    else:
        result.checked.append(f"record digest ({AUDIT_REPORT})")


def _check_store(
    manifest: dict[str, Any], digest: str | None, store: str | Path | None, result: VerifyResult
) -> None:
    scan_info = manifest.get("scan") or {}
    scan_id = scan_info.get("scan_id")
    location = store_dir(store)
    if not (location / DB_NAME).is_file():
        result.notes.append(f"no audit store at {location}: record digest not recomputed from it")
        return
    try:
        with Store(location, create=False, read_only=True) as opened:
            scan = opened.scan(scan_id)
            statuses = set((manifest.get("records") or {}).get("statuses") or [])
            ids = [r["id"] for r in opened.records(scan.scan_id) if r["status"] in statuses]
    except StoreError:
        result.notes.append(f"scan {scan_id} is not in the store at {location}: not recomputed")
        return
    if record_digest(ids) != digest:
        result.problems.append(
            f"record digest: differs from the records of scan {scan_id} in {location}"
        )
    else:
        result.checked.append(f"record digest (scan {scan_id} in the store)")
    if scan.fingerprint != scan_info.get("dataset_fingerprint"):
        result.problems.append(f"dataset fingerprint: differs from scan {scan_id} in the store")
    policy = scan_info.get("policy") or {}
    if scan.policy_sha256 != policy.get("sha256"):
        result.problems.append(f"policy sha256: differs from scan {scan_id} in the store")
