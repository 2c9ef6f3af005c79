"""The terminal view: a summary panel, findings by type, and the records that are not cleared."""

from __future__ import annotations

import io

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from provenance.formats.base import Format
from provenance.report import ScanReport

MAX_ROWS = 30
_STYLE = {"cleared": "green", "redacted": "yellow", "blocked": "red", "error": "magenta"}


class TableFormat(Format):
    name = "table"
    suffix = ".txt"

    def render(self, report: ScanReport) -> str:
        buffer = io.StringIO()
        Console(file=buffer, width=120, color_system=None).print(renderable(report))
        return buffer.getvalue()


def renderable(report: ScanReport) -> Group:
    summary = report.summary
    head = Text()
    head.append(f"{report.scan.source}  ", style="bold")
    for status, key in (("cleared", "cleared"), ("redacted", "redacted"), ("blocked", "blocked"),
                        ("error", "errors")):  # fmt: skip
        head.append(f"{summary[key]} {status}  ", style=_STYLE[status])
    head.append(f"of {summary['records']} records")

    by_type = Table(title="Findings by type", title_justify="left", show_edge=False)
    by_type.add_column("Type")
    by_type.add_column("Count", justify="right")
    by_type.add_column("Action")
    for finding_type, count in summary["findings_by_type"].items():
        by_type.add_row(finding_type, str(count), report.type_actions.get(finding_type, ""))

    problems = Table(title="Records not cleared", title_justify="left", show_edge=False)
    for column in ("File", "Row", "Status", "Reasons"):
        problems.add_column(column, justify="right" if column == "Row" else "left")
    shown = [r for r in report.records if r["status"] in ("blocked", "error", "redacted")]
    for r in shown[:MAX_ROWS]:
        problems.add_row(
            r["file"], str(r["row"]), Text(r["status"], style=_STYLE[r["status"]]),
            ", ".join(r["reasons"]),
        )  # fmt: skip
    parts: list[object] = [head, by_type]
    if shown:
        parts.append(problems)
        if len(shown) > MAX_ROWS:
            parts.append(Text(f"... {len(shown) - MAX_ROWS} more; use -f json for all of them"))
    return Group(*parts)  # type: ignore[arg-type]
