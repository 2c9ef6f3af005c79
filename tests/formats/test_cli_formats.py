"""The new formats through the CLI, on a real scan in a real store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from provenance.cli import main
from tests.conftest import write_jsonl

pytestmark = pytest.mark.usefixtures("fake_pii", "store_dir")

ROWS = [
    {"text": "The capital of France is Paris."},
    {"text": "Mail me at someone@example.org please."},
    {"text": "My SSN is 536-22-8146."},
]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    out, err = capsys.readouterr()
    return int(exit_info.value.code or 0), out, err


@pytest.fixture
def scanned(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    data = write_jsonl(tmp_path / "data" / "train.jsonl", ROWS)
    code, _, _ = run(capsys, "scan", str(data.parent), "--workers", "1", "-q", "-f", "json")
    assert code == 1  # the SSN blocks its record
    return data


def test_scan_writes_sarif(scanned: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "scan", str(scanned.parent), "--workers", "1", "-q", "-f", "sarif")
    assert code == 1
    results = json.loads(out)["runs"][0]["results"]
    ssn = next(r for r in results if r["ruleId"] == "pii/US_SSN")
    assert ssn["level"] == "error"
    assert ssn["locations"][0]["physicalLocation"]["region"]["startLine"] == 3
    assert "536-22-8146" not in out and "someone@example.org" not in out


@pytest.mark.parametrize(
    ("fmt", "marker"),
    [("html", "<!DOCTYPE html>"), ("cyclonedx", '"bomFormat": "CycloneDX"'),
     ("spdx", '"@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld"')],
)  # fmt: skip
def test_report_renders_a_stored_scan(
    scanned: Path, fmt: str, marker: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / f"audit.{fmt}"
    code, out, _ = run(capsys, "report", "-f", fmt, "-o", str(target))
    assert (code, out) == (1, "")  # exit code as the scan's
    text = target.read_text(encoding="utf-8")
    assert marker in text
    assert "536-22-8146" not in text and "someone@example.org" not in text


def test_report_with_a_bundle(
    scanned: Path, bundle: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "report", "-f", "cyclonedx", "--bundle", str(bundle),
                       "--organization", "Example Org")  # fmt: skip
    assert code == 1
    bom = json.loads(out)
    assert bom["metadata"]["component"]["type"] == "machine-learning-model"
    assert bom["metadata"]["manufacturer"] == {"name": "Example Org"}


def test_bundle_options_are_for_the_boms_only(
    scanned: Path, bundle: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "report", "-f", "html", "--bundle", str(bundle))
    assert code == 2
    assert err.startswith("Error: --bundle and --organization apply to cyclonedx and spdx only")
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = run(capsys, "report", "-f", "spdx", "--bundle", str(empty))
    assert code == 2
    assert err.startswith(f"Error: not a release bundle (no adapter_config.json): {empty}")
