"""Rendering license results for people and machines: the check and `provenance license`.

Owns the table (rich, fixed width, no colour so output is stable), Markdown and JSON forms of a
`CheckResult` (`provenance.check/v1`) and of resolved dataset licenses.
"""

from __future__ import annotations

import io
import json
from collections import Counter
from collections.abc import Sequence
from typing import Any

from provenance.licensing.check import CheckResult
from provenance.licensing.datasets import Resolution

CHECK_FORMATS = ("table", "json", "markdown")
LICENSE_FORMATS = ("table", "json")
WIDTH = 160


def render_check(result: CheckResult, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(result.to_dict(), indent=2, ensure_ascii=False) + "\n"
    if fmt == "markdown":
        return _check_markdown(result)
    return _check_table(result)


def summary_line(result: CheckResult) -> str:
    """One line for stderr: the verdict and how many clauses gave each verdict."""
    counts = Counter(c.verdict for c in result.clauses)
    parts = [f"{counts[v]} {v}" for v in ("fail", "review", "obligation", "pass") if counts[v]]
    license_id = result.license.id if result.license else "unknown license"
    return (
        f"license check: {result.verdict} · {result.model} under {license_id} · "
        f"{len(result.clauses)} clauses ({', '.join(parts) or 'none decided'}), "
        f"{len(result.obligations)} obligations"
    )


def _facts(facts: dict[str, Any]) -> str:
    return ", ".join(f"{k}={_value(v)}" for k, v in facts.items()) or "-"


def _value(value: Any, none: str = "undeclared") -> str:
    if value is None:
        return none
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, list):
        return "[" + ", ".join(map(str, value)) + "]"
    return str(value)


def _check_table(result: CheckResult) -> str:
    from rich.console import Console
    from rich.table import Table

    buffer = io.StringIO()
    console = Console(file=buffer, width=WIDTH, color_system=None)
    license_name = result.license.name if result.license else "unknown"
    console.print(f"Base model: {result.model}  ·  License: {license_name}")
    console.print(f"Verdict: {result.verdict.upper()}")
    table = Table(show_lines=True, expand=True)
    table.add_column("verdict", no_wrap=True)
    table.add_column("clause", no_wrap=True)
    table.add_column("section", max_width=16)
    table.add_column("decided by", max_width=30)
    table.add_column("message / quote", ratio=1, min_width=50)
    for c in result.clauses:
        text = c.message + (f"\n“{c.quote}”" if c.quote else "")
        table.add_row(c.verdict, c.id, c.section, _facts(c.facts), text)
    console.print(table)
    if result.obligations:
        console.print("Obligations:")
        for ob in result.obligations:
            files = f"  [files: {', '.join(f.name for f in ob.files)}]" if ob.files else ""
            console.print(f"- {ob.id}: {ob.text}{files}", markup=False)
    return buffer.getvalue()


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _check_markdown(result: CheckResult) -> str:
    license_name = result.license.name if result.license else "unknown"
    lines = [
        f"# License check: {result.model}",
        "",
        f"- License: **{license_name}**",
        f"- Verdict: **{result.verdict}**",
        "",
        "| Verdict | Clause | Section | Decided by | Message | Quote |",
        "|---|---|---|---|---|---|",
    ]
    for c in result.clauses:
        lines.append(
            f"| {c.verdict} | `{c.id}` | {_md(c.section)} | {_md(_facts(c.facts))} | "
            f"{_md(c.message)} | {_md(c.quote)} |"
        )
    lines += ["", "## Obligations", ""]
    if not result.obligations:
        lines.append("None.")
    for ob in result.obligations:
        files = f" (files: {', '.join(f'`{f.name}`' for f in ob.files)})" if ob.files else ""
        lines.append(f"- **{ob.id}**: {ob.text}{files}")
    return "\n".join(lines) + "\n"


def license_entry(path: str, resolution: Resolution) -> dict[str, Any]:
    """One path's license as `provenance license -f json` lists it."""
    return {
        "path": path,
        "spdx": resolution.spdx,
        "evidence": [e.to_dict() for e in resolution.evidence],
        "properties": resolution.properties.to_dict(),
    }


def render_licenses(items: Sequence[tuple[str, Resolution]], fmt: str) -> str:
    if fmt == "json":
        entries = [license_entry(path, res) for path, res in items]
        return json.dumps(entries, indent=2, ensure_ascii=False) + "\n"
    from rich.console import Console
    from rich.table import Table

    buffer = io.StringIO()
    console = Console(file=buffer, width=WIDTH, color_system=None)
    table = Table("path", "spdx", "commercial", "attribution", "share-alike", "derivatives",
                  "evidence", show_lines=True)  # fmt: skip
    for path, res in items:
        p = res.properties
        evidence = "\n".join(
            f"{e.file}:{e.line or '-'} {e.text}" + (f" → {e.license}" if e.license else " → ?")
            for e in res.evidence[:6]
        )
        if len(res.evidence) > 6:
            evidence += f"\n… {len(res.evidence) - 6} more"
        spdx = res.spdx or ("unknown" if res.unknown else "")
        if res.conflict:
            spdx += "\n(conflicting evidence)"
        table.add_row(
            path, spdx, *(_value(v, "unknown") for v in p.to_dict().values()),
            evidence or "no evidence",
        )  # fmt: skip
    console.print(table)
    return buffer.getvalue()
