"""The HTML report's structure: one self-contained file, the verdict first, masked previews."""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import replace

from provenance.formats.html import MAX_ROWS, HtmlFormat
from provenance.report import ScanReport


def test_nothing_is_fetched(report: ScanReport) -> None:
    html = HtmlFormat().render(report)
    assert not re.search(r"<(link|img|iframe|object|embed)\b", html)
    assert not re.search(r"\b(src|href)\s*=", html)
    assert "@import" not in html and "url(" not in html
    # the only URL is the SVG namespace, which is a name, not a request
    urls = set(re.findall(r"https?://[^\s\"'<>]+", html))
    assert urls <= {"http://www.w3.org/2000/svg"}


def test_csp_allows_exactly_the_inline_style_and_script(report: ScanReport) -> None:
    html = HtmlFormat().render(report)
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html)
    assert csp is not None
    style = re.search(r"<style>(.*?)</style>", html, re.DOTALL)
    script = re.search(r"<script>(.*?)</script>", html, re.DOTALL)
    assert style is not None and script is not None
    for block in (style.group(1), script.group(1)):
        digest = base64.b64encode(hashlib.sha256(block.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in csp.group(1)
    assert "default-src 'none'" in csp.group(1)


def test_verdict_comes_before_everything_else(report: ScanReport) -> None:
    html = HtmlFormat().render(report)
    body = html[html.index("<main>") :]
    assert body.index('id="verdict"') < body.index("<h2")
    assert "Not cleared" in body[: body.index("<h2")]


def test_cleared_scan_says_so(report: ScanReport) -> None:
    clean = replace(
        report,
        summary={**report.summary, "blocked": 0, "errors": 0, "redacted": 0, "cleared": 11},
        findings=[],
        records=[{**r, "status": "cleared", "reasons": []} for r in report.records],
    )
    html = HtmlFormat().render(clean)
    assert 'class="verdict ok"' in html and "<strong>Cleared</strong>" in html


def test_previews_are_the_masked_ones(report: ScanReport) -> None:
    html = HtmlFormat().render(report)
    assert "j***@e***.com" in html
    for value in ("jane.doe@example.com", "078-05-1120", "Jane Smith", "+1-202-555-0143"):
        assert value not in html


def test_charts_for_status_types_licenses_and_references(report: ScanReport) -> None:
    html = HtmlFormat().render(report)
    for chart in ("chart-status", "chart-types", "chart-licenses", "chart-ref-sets",
                  "chart-ref-docs"):  # fmt: skip
        assert f'<svg class="chart" id="{chart}"' in html
    assert "books: moby-dick.txt" in html


def test_markup_in_data_is_escaped(report: ScanReport) -> None:
    hostile = replace(report.findings[0], field="<script>alert(1)</script>")
    html = HtmlFormat().render(replace(report, findings=[hostile, *report.findings[1:]]))
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_a_huge_scan_lists_the_first_rows_and_says_so(report: ScanReport) -> None:
    many = report.findings * (MAX_ROWS // len(report.findings) + 2)
    summary = {**report.summary, "findings_by_type": {"PERSON": len(many)}}
    html = HtmlFormat().render(replace(report, findings=many, summary=summary))
    assert html.count("<tr data-action=") == MAX_ROWS
    assert f"{MAX_ROWS} of {len(many)} findings are listed here" in html
