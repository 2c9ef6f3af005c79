"""SARIF 2.1.0 for GitHub code scanning: one rule per finding type, one result per finding.

What GitHub needs for an alert to show and to stay the same alert from one run to the next:
rules with short and full descriptions and help; results with a message, a physical location
(the dataset file as a path in the repository, and for jsonl the record's line) and
`partialFingerprints`. Levels follow the policy's actions (block and error: `error`, redact:
`warning`, flag: `note`); `allow` findings are evidence only and are left out. Messages name the
type, field and place of a finding — never its value, not even the masked preview, because
code-scanning alerts are visible to everyone with read access to the repository.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path, PurePosixPath
from typing import Any

from provenance.formats.base import Format
from provenance.formats.facts import (
    PII_DETECTOR,
    dataset_name,
    type_title,
    utc_z,
    worst_action,
)
from provenance.model import Action, Finding
from provenance.report import ScanReport

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
MAX_RESULTS = 25_000  # GitHub's limit per run; it keeps the first 5,000 for display
LEVELS = {
    Action.ERROR: "error",
    Action.BLOCK: "error",
    Action.REDACT: "warning",
    Action.FLAG: "note",
}
# GitHub ranks alerts that carry a security severity: leaked identifiers and secrets are a
# privacy and security problem, so personal-data rules get one by what the policy does.
PII_SEVERITY = {Action.ERROR: "8.0", Action.BLOCK: "8.0", Action.REDACT: "5.0", Action.FLAG: "2.0"}
TAGS = {
    "pii": ["privacy", "pii"],
    "reference": ["copyright", "license"],
    "duplicate": ["data-quality", "duplicate"],
    "license": ["license"],
    "source": ["data-quality", "parse-error"],
}


class SarifFormat(Format):
    name = "sarif"
    suffix = ".sarif"

    def render(self, report: ScanReport) -> str:
        return json.dumps(sarif_log(report), indent=2, ensure_ascii=False) + "\n"


def sarif_log(report: ScanReport) -> dict[str, Any]:
    """The whole SARIF log of a scan: one run, its rules, artifacts and results."""
    scan = report.scan
    shown = [f for f in report.findings if f.action is not Action.ALLOW]
    by_rule: dict[str, list[Finding]] = {}
    for f in shown:
        by_rule.setdefault(rule_id(f), []).append(f)
    rule_ids = sorted(by_rule)
    rule_index = {rid: i for i, rid in enumerate(rule_ids)}
    prefix = repo_prefix(scan.source, scan.root)
    artifact_index = {f["path"]: i for i, f in enumerate(report.files)}
    formats = {f["path"]: f["format"] for f in report.files}
    results = [
        _result(f, rule_index[rule_id(f)], prefix, artifact_index, formats)
        for f in shown[:MAX_RESULTS]
    ]
    invocation: dict[str, Any] = {
        "executionSuccessful": scan.complete,
        "startTimeUtc": utc_z(scan.created_at),
    }
    if scan.finished_at is not None:
        invocation["endTimeUtc"] = utc_z(scan.finished_at)
    if len(shown) > MAX_RESULTS:
        invocation["toolExecutionNotifications"] = [
            {
                "level": "warning",
                "message": {
                    "text": f"{len(shown) - MAX_RESULTS} more findings are not in this file "
                    f"(GitHub accepts {MAX_RESULTS} per run); the JSON report has all of them."
                },
            }
        ]
    run = {
        "tool": {
            "driver": {
                "name": "provenance",
                "semanticVersion": str(scan.tool.get("version", "0")),
                "rules": [_rule(rid, by_rule[rid]) for rid in rule_ids],
            }
        },
        "automationDetails": {"id": f"provenance/{dataset_name(report)}/"},
        "invocations": [invocation],
        "artifacts": [
            {
                "location": {"uri": repo_uri(prefix, f["path"])},
                "hashes": {"sha-256": f["sha256"]},
                "properties": {"format": f["format"], "records": f["records"]},
            }
            for f in report.files
        ],
        "results": results,
        "properties": {
            "scanId": scan.scan_id,
            "policySha256": scan.policy_sha256,
            "datasetFingerprint": scan.fingerprint,
            "summary": {
                k: report.summary[k]
                for k in ("records", "cleared", "redacted", "blocked", "errors")
            },
        },
    }
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}


def rule_id(finding: Finding) -> str:
    return f"{finding.detector}/{finding.type}"


def _rule(rid: str, findings: list[Finding]) -> dict[str, Any]:
    first = findings[0]
    detector, finding_type = first.detector, first.type
    action = worst_action(findings)
    title = type_title(finding_type)
    properties: dict[str, Any] = {
        "tags": TAGS.get(detector, [detector]),
        "precision": "high" if detector in ("duplicate", "source") else "medium",
        "problem.severity": {"error": "error", "warning": "warning"}.get(
            LEVELS[action], "recommendation"
        ),
    }
    if detector == PII_DETECTOR:
        properties["security-severity"] = PII_SEVERITY[action]
    help_text = _help(detector, action)
    return {
        "id": rid,
        "name": f"{detector}/{finding_type.lower().replace('_', '-')}",
        "shortDescription": {"text": _short(detector, title)},
        "fullDescription": {"text": _full(detector, finding_type, title, action)},
        "help": {"text": help_text, "markdown": help_text},
        "defaultConfiguration": {"level": LEVELS[action]},
        "properties": properties,
    }


def _short(detector: str, title: str) -> str:
    if detector == "source":
        return f"{title}: a record that could not be read"
    if detector in ("reference", "duplicate"):
        return title
    return f"{title} in a training record"


def _full(detector: str, finding_type: str, title: str, action: Action) -> str:
    policy = f"The policy's action for it is `{action.value}`."
    if detector == PII_DETECTOR:
        return (
            f"A training record contains a value the personal-data detector identifies as "
            f"{title.lower()} ({finding_type}). {policy}"
        )
    if detector == "reference":
        return (
            "A passage of a training record is contained in a document of a registered "
            f"reference set ({finding_type}); the result names the set, the document and its "
            f"license. {policy}"
        )
    if detector == "duplicate":
        return (
            f"The record repeats an earlier record of the dataset ({finding_type}); only the "
            f"first record of each cluster is kept. {policy}"
        )
    if detector == "source":
        return (
            f"The reader could not turn this part of the file into a record ({finding_type}). "
            "A record that cannot be read is never cleared."
        )
    return f"The {detector} detector reported {title.lower()} ({finding_type}). {policy}"


def _help(detector: str, action: Action) -> str:
    if detector == "source":
        return "Fix the file at this location (or remove the row) and scan again."
    if action is Action.BLOCK:
        return (
            "The record is blocked: it is not cleared for training. Remove or fix the record in "
            "the source data and scan again, or train with `provenance train --cleared-only`, "
            "which leaves blocked records out."
        )
    if action is Action.REDACT:
        return (
            "The record is cleared once the span is redacted: `provenance train` replaces it "
            "with a placeholder naming its type. Remove the value from the source data if it "
            "must not be stored at all."
        )
    return (
        "Shown for review; it does not change the record's status. Change the policy "
        "(`--policy`) to redact or block this type if it must not be trained on."
    )


def _result(
    finding: Finding,
    index: int,
    prefix: str,
    artifact_index: dict[str, int],
    formats: dict[str, str],
) -> dict[str, Any]:
    jsonl = formats.get(finding.file) == "jsonl"
    where = f"line {finding.row + 1}" if jsonl else f"row {finding.row}"
    artifact: dict[str, Any] = {"uri": repo_uri(prefix, finding.file)}
    if finding.file in artifact_index:
        artifact["index"] = artifact_index[finding.file]
    physical: dict[str, Any] = {"artifactLocation": artifact}
    # A jsonl record is one physical line; other formats have no line a viewer could show.
    line = finding.row + 1 if jsonl else 1
    physical["region"] = {"startLine": line, "endLine": line}
    location: dict[str, Any] = {"physicalLocation": physical}
    location["logicalLocations"] = [
        {"fullyQualifiedName": _logical(finding), "kind": "member" if finding.field else "object"}
    ]
    return {
        "ruleId": rule_id(finding),
        "ruleIndex": index,
        "level": LEVELS[finding.action],
        "message": {"text": message(finding, where)},
        "locations": [location],
        "partialFingerprints": fingerprints(finding),
        "properties": {
            "action": finding.action.value,
            "score": finding.score,
            "field": finding.field,
            "row": finding.row,
            "start": finding.start,
            "end": finding.end,
        },
    }


def _logical(finding: Finding) -> str:
    base = f"{finding.file}[{finding.row}]"
    return f"{base}.{finding.field}" if finding.field else base


def message(finding: Finding, where: str) -> str:
    """What was found and where, from the type, field and locator: never the value itself."""
    detail = finding.detail or {}
    field = f" in field '{finding.field}'" if finding.field else ""
    place = f"of the record at {finding.file} {where}"
    action = finding.action.value
    if finding.detector == "reference":
        containment = detail.get("containment", finding.score)
        share = f"{float(containment):.0%}" if isinstance(containment, (int, float)) else "part"
        return (
            f"Text{field} {place} is contained in '{detail.get('reference_doc', '?')}' of "
            f"reference set '{detail.get('reference_set', '?')}' (license "
            f"{detail.get('reference_license', 'unknown')}, containment {share}); {action}."
        )
    if finding.detector == "duplicate":
        kind = "Exact" if finding.type == "EXACT_DUPLICATE" else "Near"
        kept = f"{detail.get('file', '?')} row {detail.get('row', '?')}"
        return (
            f"{kind} duplicate: the record at {finding.file} {where} repeats {kept} "
            f"(cluster {detail.get('cluster', '?')}); {action}."
        )
    if finding.detector == "source":
        why = str(detail.get("message") or finding.type)
        return f"{type_title(finding.type)} at {finding.file} {where}: {why}; never cleared."
    return f"{type_title(finding.type)}{field} {place}; {action}."


def fingerprints(finding: Finding) -> dict[str, str]:
    """Stable across runs on the same data: a finding keeps its alert as long as its record,
    place and span are unchanged. The row is part of it because identical records share an id.
    """
    key = "\x1f".join(
        str(part)
        for part in (
            finding.file, finding.row, finding.record_id, finding.detector, finding.type,
            finding.field or "", finding.start, finding.end,
        )
    )  # fmt: skip
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()
    return {"primaryLocationLineHash": f"{digest[:16]}:1", "provenance/v1": digest}


def repo_prefix(source: str, root: str | None) -> str:
    """Where the dataset's files are relative to the repository (the working directory), so
    code scanning can match results to committed files: the scanned folder, or the folder of
    a scanned file; empty for a hub dataset or a path outside the working directory.
    """
    if root is None:
        return ""
    path = Path(source)
    folder = path.parent if Path(root) == path.parent else path  # a single file was scanned
    if folder.is_absolute():
        try:
            folder = folder.relative_to(Path.cwd())
        except ValueError:
            return ""
    text = PurePosixPath(os.path.normpath(folder.as_posix())).as_posix()
    return "" if text in (".", "") else text


def repo_uri(prefix: str, path: str) -> str:
    return f"{prefix}/{path}" if prefix else path
