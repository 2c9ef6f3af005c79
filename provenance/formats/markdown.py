"""A Markdown report for pull requests, wikis and release notes."""

from __future__ import annotations

from provenance.formats.base import Format
from provenance.report import ScanReport

MAX_FINDINGS = 200


class MarkdownFormat(Format):
    name = "markdown"
    suffix = ".md"

    def render(self, report: ScanReport) -> str:
        scan, summary = report.scan, report.summary
        verdict = "**Not cleared**" if report.blocked else "**Cleared**"
        lines = [
            f"# Data audit: {scan.source}",
            "",
            f"{verdict}: {summary['cleared']} cleared, {summary['redacted']} redacted, "
            f"{summary['blocked']} blocked, {summary['errors']} errors "
            f"of {summary['records']} records.",
            "",
            "| | |",
            "|---|---|",
            f"| Scan | `{scan.scan_id}` ({scan.status}) |",
            f"| Created | {scan.created_at.isoformat()} |",
            f"| Dataset fingerprint | `{scan.fingerprint}` |",
            f"| Policy | `{scan.policy_source}` (sha256 `{scan.policy_sha256[:12]}`) |",
            f"| Tool | provenance {scan.tool.get('version')} |",
            "",
            "## Files",
            "",
            "| File | Format | Records | sha256 |",
            "|---|---|---:|---|",
        ]
        lines += [
            f"| `{_cell(f['path'])}` | {f['format']} | {f['records']} | `{f['sha256'][:12]}` |"
            for f in report.files
        ]
        if scan.licenses:
            lines += ["", "## Licenses", "", "| License | Applies to | Evidence |", "|---|---|---|"]
            for lic in scan.licenses:
                evidence = "; ".join(_evidence(e) for e in lic.get("evidence", []))
                lines.append(
                    f"| {lic.get('spdx') or 'unknown'} | {_cell(str(lic.get('applies_to', '')))} "
                    f"| {_cell(evidence)} |"
                )
        lines += ["", "## Findings by type", "", "| Type | Count |", "|---|---:|"]
        lines += [f"| {t} | {n} |" for t, n in summary["findings_by_type"].items()]
        shown = [f for f in report.findings if f.action.value != "allow"][:MAX_FINDINGS]
        lines += [
            "",
            "## Findings",
            "",
            "| File | Row | Field | Type | Action | Score | Preview |",
            "|---|---:|---|---|---|---:|---|",
        ]
        lines += [
            f"| `{_cell(f.file)}` | {f.row} | {_cell(f.field or '')} | {f.type} | {f.action.value} "
            f"| {f.score:.2f} | `{_cell(f.preview)}` |"
            for f in shown
        ]
        hidden = sum(summary["findings_by_type"].values()) - len(shown)
        if hidden > 0:
            lines += ["", f"{hidden} more findings are in the JSON report."]
        return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _evidence(evidence: object) -> str:
    if isinstance(evidence, dict):
        where = evidence.get("file", "")
        line = evidence.get("line")
        return f"{where}:{line}" if line else str(where)
    return str(evidence)
