"""SARIF as GitHub code scanning needs it: rules, locations, levels, fingerprints, no values."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from provenance.formats.sarif import SarifFormat, repo_prefix
from provenance.report import ScanReport
from tests.formats.sample import SOURCE


def sarif(report: ScanReport) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SarifFormat().render(report))
    return data


def test_every_rule_has_what_github_requires(report: ScanReport) -> None:
    run = sarif(report)["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == sorted(r["id"] for r in rules)
    for rule in rules:
        assert rule["shortDescription"]["text"]
        assert rule["fullDescription"]["text"]
        assert rule["help"]["text"]
        assert len(rule["name"]) <= 255
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["message"]["text"]
        assert result["partialFingerprints"]["primaryLocationLineHash"]


def test_levels_follow_the_policy_actions(report: ScanReport) -> None:
    levels = {r["ruleId"]: r["level"] for r in sarif(report)["runs"][0]["results"]}
    assert levels["pii/US_SSN"] == "error"  # block
    assert levels["source/INVALID_JSON"] == "error"  # error
    assert levels["pii/EMAIL_ADDRESS"] == "warning"  # redact
    assert levels["pii/PERSON"] == "note"  # flag
    # allow findings are evidence only: no alert
    assert "reference/REFERENCE_MATCH_PERMITTED" not in levels


def test_jsonl_results_point_at_the_record_line_of_the_committed_file(report: ScanReport) -> None:
    results = sarif(report)["runs"][0]["results"]
    ssn = next(r for r in results if r["ruleId"] == "pii/US_SSN")
    location = ssn["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == f"{SOURCE}/train.jsonl"
    assert location["region"]["startLine"] == 3  # row 2, 0-based
    assert (Path.cwd() / location["artifactLocation"]["uri"]).is_file()
    broken = next(r for r in results if r["ruleId"] == "source/INVALID_JSON")
    assert broken["locations"][0]["physicalLocation"]["region"]["startLine"] == 7


def test_no_value_and_no_preview_in_any_message(report: ScanReport) -> None:
    text = json.dumps([r["message"] for r in sarif(report)["runs"][0]["results"]])
    # the values in the dataset file, and even their masked previews, stay out of alerts
    for value in ("jane.doe@example.com", "078-05-1120", "Jane Smith", "+1-202-555-0143"):
        assert value not in text
    for finding in report.findings:
        if finding.detector == "pii":
            assert finding.preview not in text


def test_fingerprints_are_stable_and_distinct(report: ScanReport) -> None:
    first = [r["partialFingerprints"] for r in sarif(report)["runs"][0]["results"]]
    again = [r["partialFingerprints"] for r in sarif(report)["runs"][0]["results"]]
    assert first == again
    hashes = [f["primaryLocationLineHash"] for f in first]
    assert len(set(hashes)) == len(hashes)


def test_fingerprint_of_a_finding_does_not_depend_on_other_findings(report: ScanReport) -> None:
    fewer = replace(report, findings=[f for f in report.findings if f.detector == "pii"])
    by_rule_row = {
        (r["ruleId"], r["properties"]["row"], r["properties"]["start"]): r["partialFingerprints"]
        for r in sarif(report)["runs"][0]["results"]
    }
    for result in sarif(fewer)["runs"][0]["results"]:
        key = (result["ruleId"], result["properties"]["row"], result["properties"]["start"])
        assert by_rule_row[key] == result["partialFingerprints"]


def test_repo_prefix_for_folders_files_and_hub_datasets() -> None:
    assert repo_prefix("data/train", "/abs/data/train") == "data/train"
    assert repo_prefix("./data/train/", "/abs/data/train") == "data/train"
    assert repo_prefix("data/train.jsonl", "data") == "data"  # a file was scanned
    assert repo_prefix("train.jsonl", ".") == ""
    assert repo_prefix("org/dataset", None) == ""  # hub id: paths as the dataset has them
    assert repo_prefix("/elsewhere/data", "/elsewhere/data") == ""
