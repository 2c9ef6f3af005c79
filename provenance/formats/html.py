"""A self-contained HTML report for reviewers: one file, nothing fetched, the verdict first.

Order of the page: the verdict and the key numbers; charts (inline SVG) of records by status,
findings by type, license composition and reference matches by set and document; the findings
table (sortable, filterable, masked previews only); license evidence; files; the policy, tool
and detector versions, and the usage declaration. The stylesheet and the script are inlined from
`templates/` and pinned by a Content-Security-Policy that allows only those two (by hash) and
no network at all, so a browser opening the file fetches nothing.
"""

from __future__ import annotations

import base64
import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from html import escape
from importlib.resources import files
from typing import Any

from provenance.formats.base import Format
from provenance.formats.facts import (
    dataset_name,
    evidence_label,
    file_expression,
    file_licenses,
    license_facts,
    reference_matches,
    type_title,
    verdict,
)
from provenance.model import Finding
from provenance.report import ScanReport

MAX_ROWS = 5_000  # findings rendered in the table; the JSON report has all of them
MAX_BARS = 12  # bars per chart; the rest are summed into one "other" bar
BAR_WIDTH = 200
LABEL_WIDTH = 200
ROW_HEIGHT = 24
LABEL_CHARS = 20  # longer labels are cut (the full one is in the bar's tooltip)


@cache
def _asset(name: str) -> str:
    return (files("provenance.formats") / "templates" / name).read_text(encoding="utf-8")


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


class HtmlFormat(Format):
    name = "html"
    suffix = ".html"

    def render(self, report: ScanReport) -> str:
        css, js = _asset("report.css"), _asset("report.js")
        csp = (
            f"default-src 'none'; style-src {_csp_hash(css)}; script-src {_csp_hash(js)}; "
            "img-src data:; base-uri 'none'; form-action 'none'"
        )
        title = f"Data audit: {report.scan.source}"
        body = "\n".join(
            [
                _header(report),
                _charts(report),
                _findings(report),
                _records(report),
                _licenses(report),
                _files(report),
                _policy(report),
                _footer(report),
            ]
        )
        return (
            "<!DOCTYPE html>\n"
            '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta http-equiv="Content-Security-Policy" content="{csp}">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            '<meta name="referrer" content="no-referrer">\n'
            f"<title>{escape(title)}</title>\n<style>{css}</style>\n</head>\n<body>\n<main>\n"
            f"{body}\n</main>\n<script>{js}</script>\n</body>\n</html>\n"
        )


# -- sections ---------------------------------------------------------------------------------


def _header(report: ScanReport) -> str:
    summary = report.summary
    outcome = verdict(report)
    kind, headline = {
        "not-cleared": ("bad", "Not cleared"),
        "cleared-with-redactions": ("warn", "Cleared after redaction"),
        "cleared": ("ok", "Cleared"),
    }[outcome]
    if not report.scan.complete:
        kind, headline = "bad", f"Scan {report.scan.status}: not cleared"
    sentence = (
        f"{summary['blocked']} blocked and {summary['errors']} unreadable of "
        f"{summary['records']} records; {summary['redacted']} are cleared once their flagged "
        f"spans are redacted."
    )
    total_findings = sum(summary.get("findings_by_type", {}).values())
    cards = [
        ("records", "Records", summary["records"]),
        ("cleared", "Cleared", summary["cleared"]),
        ("redacted", "Redacted", summary["redacted"]),
        ("blocked", "Blocked", summary["blocked"]),
        ("error", "Unreadable", summary["errors"]),
        ("findings", "Findings", total_findings),
    ]
    card_html = "".join(
        f'<div class="card {cls}" id="count-{cls}"><span class="n">{value}</span>'
        f'<span class="l">{label}</span></div>'
        for cls, label, value in cards
    )
    return (
        f"<h1>{escape(f'Data audit: {report.scan.source}')}</h1>\n"
        f'<p class="sub">Scan <code>{escape(report.scan.scan_id)}</code> · '
        f"{escape(report.scan.created_at.isoformat())}</p>\n"
        f'<section class="verdict {kind}" id="verdict" aria-live="polite">'
        f"<strong>{escape(headline)}</strong>{escape(sentence)}</section>\n"
        f'<section class="cards" aria-label="Key numbers">{card_html}</section>'
    )


def _charts(report: ScanReport) -> str:
    summary = report.summary
    statuses = [
        ("cleared", summary["cleared"], "cleared"),
        ("redacted", summary["redacted"], "redacted"),
        ("blocked", summary["blocked"], "blocked"),
        ("unreadable", summary["errors"], "error"),
    ]
    # Colour each type by its action: from the store when the report carries it (it covers
    # types whose findings were not loaded), else from the findings at hand.
    action_of: dict[str, str] = dict(report.type_actions)
    for f in report.findings:
        current = action_of.get(f.type)
        if current is None or _severity(f.action.value) > _severity(current):
            action_of[f.type] = f.action.value
    by_type = [
        (t, n, action_of.get(t, ""))
        for t, n in sorted(summary.get("findings_by_type", {}).items(), key=lambda i: (-i[1], i[0]))
    ]
    licenses = [
        (label, n, "unknown" if label == "unknown" else "")
        for label, n in sorted(
            license_facts(report).records_by_license.items(), key=lambda i: (-i[1], i[0])
        )
    ]
    matches = reference_matches(report)
    by_set: Counter[str] = Counter()
    for (ref_set, _), n in matches.items():
        by_set[ref_set] += n
    sets = [(s, n, "") for s, n in sorted(by_set.items(), key=lambda i: (-i[1], i[0]))]
    docs = [
        (f"{s}: {d}", n, "") for (s, d), n in sorted(matches.items(), key=lambda i: (-i[1], i[0]))
    ]
    panels = [
        _panel("Records by status", "chart-status", statuses),
        _panel("Findings by type", "chart-types", by_type),
        _panel("License composition (records)", "chart-licenses", licenses),
        _panel("Reference matches by set", "chart-ref-sets", sets),
        _panel("Reference matches by document", "chart-ref-docs", docs),
    ]
    return '<h2>Overview</h2>\n<section class="charts">' + "".join(panels) + "</section>"


def _panel(title: str, chart_id: str, items: Sequence[tuple[str, int, str]]) -> str:
    return (
        f'<div class="panel"><h3 id="{chart_id}-title">{escape(title)}</h3>'
        f"{bar_chart(chart_id, items)}</div>"
    )


def bar_chart(chart_id: str, items: Sequence[tuple[str, int, str]]) -> str:
    """Horizontal bars as inline SVG: one row per (label, value, css class), longest first."""
    shown = [i for i in items if i[1] > 0]
    if not shown:
        return '<p class="empty">Nothing to show.</p>'
    if len(shown) > MAX_BARS:
        rest = sum(n for _, n, _ in shown[MAX_BARS - 1 :])
        shown = [*shown[: MAX_BARS - 1], ("other", rest, "")]
    top = max(n for _, n, _ in shown)
    width = LABEL_WIDTH + BAR_WIDTH + 50
    height = ROW_HEIGHT * len(shown) + 4
    rows = []
    for i, (label, value, cls) in enumerate(shown):
        y = i * ROW_HEIGHT + 2
        bar = max(1, round(BAR_WIDTH * value / top))
        short = label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"
        css_class = f' class="{escape(cls)}"' if cls else ""
        rows.append(
            f"<g><title>{escape(label)}: {value}</title>"
            f'<text x="{LABEL_WIDTH - 6}" y="{y + 16}" text-anchor="end">{escape(short)}</text>'
            f'<rect x="{LABEL_WIDTH}" y="{y + 4}" width="{bar}" height="{ROW_HEIGHT - 8}"'
            f"{css_class}></rect>"
            f'<text class="value" x="{LABEL_WIDTH + bar + 6}" y="{y + 16}">{value}</text></g>'
        )
    return (
        f'<svg class="chart" id="{chart_id}" role="img" aria-labelledby="{chart_id}-title" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'xmlns="http://www.w3.org/2000/svg">{"".join(rows)}</svg>'
    )


def _severity(action: str) -> int:
    return ["allow", "flag", "redact", "block", "error"].index(action)


def _findings(report: ScanReport) -> str:
    findings = report.findings
    total = sum(report.summary.get("findings_by_type", {}).values())
    shown = findings[:MAX_ROWS]
    actions = sorted({f.action.value for f in findings}, key=_severity, reverse=True)
    detectors = sorted({f.detector for f in findings})
    options = "".join(f'<option value="{escape(a)}">{escape(a)}</option>' for a in actions)
    detector_options = "".join(
        f'<option value="{escape(d)}">{escape(d)}</option>' for d in detectors
    )
    rows = "\n".join(_finding_row(f) for f in shown)
    note = ""
    if total > len(shown):
        note = (
            f'<p class="note">{len(shown)} of {total} findings are listed here; the JSON report '
            "(<code>provenance report -f json</code>) has all of them.</p>"
        )
    return (
        '<h2 id="findings-title">Findings</h2>\n'
        '<p class="note">Previews are masked: a report never holds a detected value.</p>\n'
        '<div class="filters" role="search">'
        '<input id="filter-text" type="search" placeholder="Filter findings…" '
        'aria-label="Filter findings">'
        '<select id="filter-action" aria-label="Action"><option value="">All actions</option>'
        f"{options}</select>"
        '<select id="filter-detector" aria-label="Detector"><option value="">All detectors'
        f"</option>{detector_options}</select>"
        f'<span id="filter-count" class="note">{len(shown)} findings</span></div>\n'
        '<div class="panel"><table id="findings" class="sortable" '
        'aria-labelledby="findings-title"><thead><tr>'
        '<th>File</th><th class="num">Row</th><th>Field</th><th>Detector</th><th>Type</th>'
        '<th>Action</th><th class="num">Score</th><th>Preview</th><th>Detail</th>'
        f"</tr></thead>\n<tbody>\n{rows}\n</tbody></table></div>\n{note}"
    )


def _finding_row(f: Finding) -> str:
    action = f.action.value
    return (
        f'<tr data-action="{escape(action)}" data-detector="{escape(f.detector)}">'
        f'<td class="mono">{escape(f.file)}</td>'
        f'<td class="num">{f.row}</td>'
        f'<td class="mono">{escape(f.field or "")}</td>'
        f"<td>{escape(f.detector)}</td>"
        f'<td title="{escape(type_title(f.type))}">{escape(f.type)}</td>'
        f'<td data-sort="{_severity(action)}"><span class="badge {escape(action)}">'
        f"{escape(action)}</span></td>"
        f'<td class="num">{f.score:.2f}</td>'
        f'<td class="mono">{escape(f.preview)}</td>'
        f"<td>{escape(detail_text(f))}</td></tr>"
    )


def detail_text(finding: Finding) -> str:
    """The finding's detail in one line: what was matched, never a value."""
    detail: Mapping[str, Any] = finding.detail or {}
    if finding.detector == "reference":
        containment = detail.get("containment")
        share = f", containment {float(containment):.0%}" if containment is not None else ""
        return (
            f"{detail.get('reference_set', '?')} / {detail.get('reference_doc', '?')} "
            f"({detail.get('reference_license', 'unknown license')}{share})"
        )
    if finding.detector == "duplicate":
        return (
            f"duplicate of {detail.get('file', '?')} row {detail.get('row', '?')} "
            f"(cluster {detail.get('cluster', '?')})"
        )
    for key in ("message", "reason", "license", "spdx"):
        if detail.get(key):
            return str(detail[key])
    return ""


def _records(report: ScanReport) -> str:
    problems = [r for r in report.records if r["status"] != "cleared"][:MAX_ROWS]
    if not problems:
        return '<h2>Records not cleared</h2>\n<p class="empty">Every record is cleared.</p>'
    rows = "\n".join(
        f'<tr><td class="mono">{escape(r["file"])}</td><td class="num">{r["row"]}</td>'
        f'<td><span class="badge {escape(r["status"])}">{escape(r["status"])}</span></td>'
        f"<td>{escape(', '.join(r['reasons']))}</td></tr>"
        for r in problems
    )
    return (
        '<h2 id="records-title">Records not cleared</h2>\n<div class="panel">'
        '<table id="records" class="sortable" aria-labelledby="records-title"><thead><tr>'
        '<th>File</th><th class="num">Row</th><th>Status</th><th>Reasons</th></tr></thead>'
        f"\n<tbody>\n{rows}\n</tbody></table></div>"
    )


def _licenses(report: ScanReport) -> str:
    entries = report.scan.licenses or []
    facts = license_facts(report)
    if facts.settled:
        headline = f"Dataset license: <code>{escape(facts.expression or '')}</code>."
    else:
        headline = (
            "The dataset's license is not settled: "
            f"{len(facts.unknown_files)} file(s) have no known license, and data whose license "
            "is unknown is never cleared."
        )
    if not entries:
        return (
            f'<h2>Licenses</h2>\n<p class="empty">{headline} The scan found no license '
            "evidence.</p>"
        )
    rows = "\n".join(
        f"<tr><td><code>{escape(str(e.get('spdx') or 'unknown'))}</code></td>"
        f'<td class="mono">{escape(_applies(e.get("applies_to")))}</td>'
        f"<td>{_evidence_list(e.get('evidence') or [])}</td></tr>"
        for e in entries
    )
    return (
        f'<h2 id="licenses-title">Licenses</h2>\n<p>{headline}</p>\n<div class="panel">'
        '<table id="licenses" class="sortable" aria-labelledby="licenses-title"><thead><tr>'
        "<th>License</th><th>Applies to</th><th>Evidence</th></tr></thead>\n"
        f"<tbody>\n{rows}\n</tbody></table></div>"
    )


def _applies(applies_to: Any) -> str:
    if applies_to in (None, ""):
        return "whole dataset"
    if isinstance(applies_to, str):
        return applies_to
    if isinstance(applies_to, Iterable):
        return ", ".join(str(a) for a in applies_to)
    return str(applies_to)


def _evidence_list(evidence: Any) -> str:
    items = evidence if isinstance(evidence, list) else [evidence]
    labels = [evidence_label(e) for e in items]
    return "<br>".join(f'<span class="mono">{escape(label)}</span>' for label in labels if label)


def _files(report: ScanReport) -> str:
    by_file = file_licenses(report)
    rows = "\n".join(
        f'<tr><td class="mono">{escape(f["path"])}</td><td>{escape(str(f["format"]))}</td>'
        f'<td class="num">{f["records"]}</td>'
        f"<td><code>{escape(file_expression(by_file.get(f['path'], [])) or 'unknown')}</code></td>"
        f'<td class="mono" title="{escape(f["sha256"])}">{escape(f["sha256"][:16])}…</td></tr>'
        for f in report.files
    )
    return (
        '<h2 id="files-title">Files</h2>\n<div class="panel">'
        '<table id="files" class="sortable" aria-labelledby="files-title"><thead><tr>'
        '<th>File</th><th>Format</th><th class="num">Records</th><th>License</th>'
        f"<th>sha256</th></tr></thead>\n<tbody>\n{rows}\n</tbody></table></div>"
    )


def _policy(report: ScanReport) -> str:
    scan = report.scan
    facts = [
        ("Policy", scan.policy_source),
        ("Policy sha256", scan.policy_sha256),
        ("Tool", f"{scan.tool.get('name', 'provenance')} {scan.tool.get('version', '')}"),
        ("Dataset fingerprint", scan.fingerprint or "not computed"),
        ("Scan status", scan.status),
    ]
    detectors = scan.tool.get("detectors") or {}
    for name in sorted(detectors):
        facts.append((f"Detector {name}", _describe(detectors[name])))
    usage = scan.usage or {}
    for key in sorted(k for k in usage if k != "sources"):
        value = usage[key]
        facts.append((f"Usage: {key}", "not declared" if value is None else _describe(value)))
    items = "".join(
        f"<dt>{escape(label)}</dt><dd>{escape(str(value))}</dd>" for label, value in facts
    )
    return (
        "<h2>Policy, tools and declared use</h2>\n"
        f'<div class="panel"><dl class="facts">{items}</dl></div>'
    )


def _describe(value: Any) -> str:
    if isinstance(value, Mapping):
        return ", ".join(f"{k}: {_describe(v)}" for k, v in sorted(value.items()))
    if isinstance(value, (list, tuple)):
        return ", ".join(_describe(v) for v in value) or "none"
    return str(value)


def _footer(report: ScanReport) -> str:
    scan = report.scan
    finished = scan.finished_at.isoformat() if scan.finished_at else "not finished"
    return (
        f"<footer>Dataset <code>{escape(dataset_name(report))}</code> · scan "
        f"<code>{escape(scan.scan_id)}</code> · started {escape(scan.created_at.isoformat())} · "
        f"finished {escape(finished)} · generated by provenance "
        f"{escape(str(scan.tool.get('version', '')))}</footer>"
    )
