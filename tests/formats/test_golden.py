"""Every format renders the shared scan exactly as its golden file says.

Regenerate after an intended change with `PROVENANCE_UPDATE_GOLDEN=1 pytest tests/formats`, and
review the diff like code.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from provenance.formats import FORMATS
from provenance.report import ScanReport

GOLDEN = Path(__file__).resolve().parent / "golden"
UPDATE = os.environ.get("PROVENANCE_UPDATE_GOLDEN") == "1"
CASES = [
    ("html", "report.html", False),
    ("sarif", "report.sarif", False),
    ("cyclonedx", "report.cdx.json", False),
    ("spdx", "report.spdx3.json", False),
    ("cyclonedx", "bundle.cdx.json", True),
    ("spdx", "bundle.spdx3.json", True),
]


def render(fmt: str, report: ScanReport, bundle: Path | None) -> str:
    if bundle is not None:
        return FORMATS[fmt](bundle=bundle, organization="Example Org").render(report)  # type: ignore[call-arg]
    return FORMATS[fmt]().render(report)


@pytest.mark.parametrize(("fmt", "name", "with_bundle"), CASES, ids=[c[1] for c in CASES])
def test_matches_golden(
    fmt: str, name: str, with_bundle: bool, report: ScanReport, bundle: Path
) -> None:
    text = render(fmt, report, bundle if with_bundle else None)
    path = GOLDEN / name
    if UPDATE:
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("fmt", ["html", "sarif", "cyclonedx", "spdx"])
def test_rendering_twice_gives_the_same_bytes(fmt: str, report: ScanReport) -> None:
    assert render(fmt, report, None) == render(fmt, report, None)
