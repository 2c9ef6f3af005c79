"""A stored scan as the report every format renders (`provenance.scan/v1`)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from provenance.model import Finding
from provenance.store import ScanRow, Store

SCAN_SCHEMA = "provenance.scan/v1"


@dataclass(frozen=True)
class ScanReport:
    """Everything a report needs, loaded from the store; records and findings are lists."""

    scan: ScanRow
    files: list[dict[str, Any]]
    summary: dict[str, Any]
    records: list[dict[str, Any]]
    findings: list[Finding]
    # the action of each finding type (the most severe, should a policy have mixed them)
    type_actions: dict[str, str] = field(default_factory=dict)

    @property
    def blocked(self) -> bool:
        """Whether anything keeps this scan from being fully cleared (exit code 1)."""
        return bool(self.summary["blocked"] or self.summary["errors"])

    def to_dict(self) -> dict[str, Any]:
        """The JSON report: exactly the keys of the `provenance.scan/v1` contract."""
        scan = self.scan
        return {
            "schema": SCAN_SCHEMA,
            "scan_id": scan.scan_id,
            "created_at": scan.created_at.isoformat(),
            "tool": scan.tool,
            "dataset": {
                "source": scan.source,
                "fingerprint": scan.fingerprint,
                "files": self.files,
                "licenses": scan.licenses or [],
            },
            "policy": {"source": scan.policy_source, "sha256": scan.policy_sha256},
            "usage": scan.usage,
            "summary": self.summary,
            "records": [
                {k: r[k] for k in ("id", "file", "row", "status", "reasons")} for r in self.records
            ],
            "findings": [finding_dict(f) for f in self.findings],
        }


def finding_dict(finding: Finding) -> dict[str, Any]:
    data = asdict(finding)
    data["action"] = finding.action.value
    data["detail"] = dict(finding.detail)
    return {
        key: data[key]
        for key in (
            "record_id", "file", "row", "detector", "type", "field", "start", "end", "score",
            "action", "preview", "detail",
        )
    }  # fmt: skip


def load_report(
    store: Store, scan_id: str | None = None, *, preview: int | None = None
) -> ScanReport:
    """The report of a scan by id, or of the latest complete scan.

    With `preview`, only the first `preview` records that are not cleared and the first
    `preview` findings are loaded (the summary stays complete): enough for a terminal or a
    Markdown page, and memory stays flat however large the corpus.
    """
    scan = store.scan(scan_id)
    files = [
        {"path": f.path, "sha256": f.sha256, "format": f.format, "records": f.records}
        for f in store.files(scan.scan_id)
    ]
    if preview is None:
        records = list(store.records(scan.scan_id))
        findings = list(store.findings(scan.scan_id))
    else:
        records = list(store.records(scan.scan_id, not_cleared=True, limit=preview))
        findings = list(store.findings(scan.scan_id, not_allowed=True, limit=preview))
    return ScanReport(
        scan=scan,
        files=files,
        summary=store.summary(scan.scan_id),
        records=records,
        findings=findings,
        type_actions=store.type_actions(scan.scan_id),
    )


def iter_findings(report: ScanReport, *, min_action: str = "flag") -> Iterator[Finding]:
    order = ["allow", "flag", "redact", "block", "error"]
    floor = order.index(min_action)
    return (f for f in report.findings if order.index(f.action.value) >= floor)
