"""The `license` detector: evidence gathered on the driver, findings per record in workers."""

from __future__ import annotations

import pickle
from pathlib import Path

from provenance.detectors import BUILTIN, DetectorSpec, ScanContext
from provenance.detectors.license import LicenseDetector, dataset_licenses
from provenance.model import Record
from provenance.sources.base import open_dataset
from tests.conftest import write_jsonl

REPO = Path(__file__).resolve().parents[2]


def make_dataset(root: Path) -> Path:
    data = root / "data"
    write_jsonl(data / "a.jsonl", [{"text": "one"}, {"text": "two"}])
    write_jsonl(data / "code" / "b.jsonl", [{"text": "x = 1", "license": "mit"}])
    (data / "README.md").write_text("---\nlicense: cc-by-nc-4.0\n---\n# Data\n", encoding="utf-8")
    (data / "code" / "LICENSE").write_text(
        (REPO / "rules/licenses/texts/mit.txt").read_text(encoding="utf-8"), encoding="utf-8"
    )
    return data


def prepared(root: Path, project: str | None) -> dict:
    data = make_dataset(root)
    project_file = None
    if project is not None:
        project_file = root / "provenance.yaml"
        project_file.write_text(project, encoding="utf-8")
    context = ScanContext(dataset=open_dataset(str(data)), project_file=project_file)
    return DetectorSpec("license").prepared(context).options


def record(file: str, row: int, license: str | None = None, error: str | None = None) -> Record:
    return Record(f"{file}:{row}", file, row, shape="text", license=license, error=error)


def test_registered() -> None:
    assert BUILTIN["license"] == "provenance.detectors.license:LicenseDetector"


def test_non_commercial_data_in_commercial_use(tmp_path: Path) -> None:
    options = prepared(tmp_path, "usage: {commercial: true}\n")
    pickle.dumps(options)  # workers receive them
    detector = LicenseDetector(**options)
    findings = list(detector.detect_batch([record("a.jsonl", 0), record("a.jsonl", 1)]))
    assert [(f.row, f.type) for f in findings] == [
        (0, "LICENSE_NON_COMMERCIAL"), (0, "LICENSE_ATTRIBUTION"),
        (1, "LICENSE_NON_COMMERCIAL"), (1, "LICENSE_ATTRIBUTION"),
    ]  # fmt: skip
    first = findings[0]
    assert (first.detector, first.field, first.start, first.score) == ("license", None, None, 1.0)
    assert first.preview == "CC-BY-NC-4.0"
    assert set(first.detail) == {"spdx", "evidence", "properties", "message"}
    assert first.detail["evidence"][0] == {
        "origin": "card", "file": "README.md", "line": 2, "text": "license: cc-by-nc-4.0",
        "license": "CC-BY-NC-4.0",
    }  # fmt: skip


def test_non_commercial_use_clears_non_commercial_data(tmp_path: Path) -> None:
    detector = LicenseDetector(**prepared(tmp_path, "usage: {commercial: false}\n"))
    types = [f.type for f in detector.detect_batch([record("a.jsonl", 0)])]
    assert types == ["LICENSE_ATTRIBUTION"]


def test_undeclared_use_blocks_non_commercial_data(tmp_path: Path) -> None:
    detector = LicenseDetector(**prepared(tmp_path, None))
    types = [f.type for f in detector.detect_batch([record("a.jsonl", 0)])]
    assert "LICENSE_NON_COMMERCIAL" in types


def test_subfolder_license_and_record_field_apply_to_their_records(tmp_path: Path) -> None:
    detector = LicenseDetector(**prepared(tmp_path, "usage: {commercial: false}\n"))
    findings = list(detector.detect_batch([record("code/b.jsonl", 0, license="mit")]))
    assert findings[0].preview == "CC-BY-NC-4.0 AND MIT"
    origins = {e["origin"] for e in findings[0].detail["evidence"]}
    assert origins == {"card", "license-file", "record"}


def test_unknown_license_blocks_and_error_records_are_skipped(tmp_path: Path) -> None:
    data = tmp_path / "d"
    write_jsonl(data / "a.jsonl", [{"text": "x"}])
    options = DetectorSpec("license").prepared(ScanContext(dataset=open_dataset(str(data)))).options
    detector = LicenseDetector(**options)
    assert [f.type for f in detector.detect_batch([record("a.jsonl", 0)])] == ["LICENSE_UNKNOWN"]
    assert list(detector.detect_batch([record("a.jsonl", 1, error="PARSE_ERROR: x")])) == []


def test_manifest_declares_a_license_and_lineage(tmp_path: Path) -> None:
    data = tmp_path / "d"
    write_jsonl(data / "gen" / "a.jsonl", [{"text": "x"}])
    write_jsonl(data / "own" / "b.jsonl", [{"text": "y"}])
    project = tmp_path / "provenance.yaml"
    project.write_text(
        "usage: {commercial: false}\nsources:\n"
        "  'gen/*.jsonl': {license: CC-BY-4.0, generated_by: openai/gpt-4}\n"
        "  'own/*.jsonl': {license: CC0-1.0}\n",
        encoding="utf-8",
    )
    context = ScanContext(dataset=open_dataset(str(data)), project_file=project)
    detector = LicenseDetector(**DetectorSpec("license").prepared(context).options)
    gen = [f.type for f in detector.detect_batch([record("gen/a.jsonl", 0)])]
    assert gen == ["LICENSE_ATTRIBUTION", "LICENSE_LINEAGE"]
    assert list(detector.detect_batch([record("own/b.jsonl", 0)])) == []


def test_dataset_licenses_for_the_report(tmp_path: Path) -> None:
    entries = dataset_licenses(prepared(tmp_path, "usage: {commercial: true}\n"))
    assert [(e["spdx"], e["applies_to"]) for e in entries] == [
        ("CC-BY-NC-4.0", ["a.jsonl"]),
        ("CC-BY-NC-4.0 AND MIT", ["code/b.jsonl"]),
    ]
    assert set(entries[0]) == {"spdx", "evidence", "applies_to", "properties"}
