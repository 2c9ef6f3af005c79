"""The release bundle written beside a trained adapter, and its hash-bound manifest.

Next to peft's `adapter_config.json` and `adapter_model.safetensors` it writes:

- `audit-report.json`: the scan report (`provenance.scan/v1`) cut down to exactly the records
  trained on and their findings, with a `training` key saying what was left out;
- `NOTICE` and the license copies the license check's obligations require;
- `DATASHEET.md`: the seven sections of Datasheets for Datasets, filled from the scan, the check
  and the usage declaration, saying "not provided" wherever nothing is known;
- `README.md`: a Hugging Face model card (`base_model`, `library_name: peft`, the base model's
  `license`, `datasets`, `tags`, `pipeline_tag`) with a training-data section;
- `provenance.json`: scan id, dataset fingerprint, policy hash, the digest of the sorted ids of
  the records trained on, base model and license, check verdicts, training arguments, and the
  sha256 of every other file. Its own `manifest_sha256` is the sha256 of the file's bytes with
  that value zeroed, so a change to any byte of any file of the bundle is detected by
  `provenance verify` (detected, not prevented: signing is `provenance attest`'s job).
"""

from __future__ import annotations

import hashlib
import json
import platform
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from provenance import __version__
from provenance.report import ScanReport

BUNDLE_SCHEMA = "provenance.bundle/v1"
MANIFEST = "provenance.json"
AUDIT_REPORT = "audit-report.json"
DATASHEET = "DATASHEET.md"
MODEL_CARD = "README.md"
NOTICE = "NOTICE"
# Written after the bundle by `provenance attest`; it signs the manifest, so it is not listed in it.
ATTESTATION = "attestation.intoto.json"
ZERO_DIGEST = "0" * 64
NOT_PROVIDED = "Not provided."
RECORD_DIGEST_METHOD = "sha256 of the sorted record ids (content ids), one per line, '\\n'-joined"


def record_digest(ids: Iterable[str]) -> str:
    """sha256 over the sorted record ids joined by newlines (duplicates kept: each row counts)."""
    return hashlib.sha256("\n".join(sorted(ids)).encode("ascii")).hexdigest()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def manifest_digest(data: bytes) -> str | None:
    """The manifest's self-digest: sha256 of its bytes with the recorded value zeroed.

    None when the file does not hold exactly one `manifest_sha256` entry.
    """
    try:
        recorded = json.loads(data)["manifest_sha256"]
    except (ValueError, KeyError, TypeError):
        return None
    needle = f'"manifest_sha256": "{recorded}"'.encode()
    if not isinstance(recorded, str) or data.count(needle) != 1:
        return None
    zeroed = data.replace(needle, f'"manifest_sha256": "{ZERO_DIGEST}"'.encode())
    return hashlib.sha256(zeroed).hexdigest()


@dataclass(frozen=True)
class LicenseInfo:
    """The base model's license as the card and the manifest state it."""

    id: str | None  # the rule id (llama2), None when unknown
    name: str
    spdx: str | None
    hub_license: str  # the card's `license:` value: a Hub id, `other` or `unknown`
    license_name: str | None = None  # with `other`: a short id for the license
    license_link: str | None = None  # with `other`: a file of the bundle or a URL

    def card_fields(self) -> dict[str, Any]:
        if self.hub_license == "other":
            fields = {"license": "other", "license_name": self.license_name or self.id or "unknown"}
            return fields | ({"license_link": self.license_link} if self.license_link else {})
        return {"license": self.hub_license}


@dataclass(frozen=True)
class Obligation:
    """Something the license requires of the release, and the files that fulfil it."""

    id: str
    text: str
    files: tuple[tuple[str, bytes], ...]  # (file name in the bundle, its content)


@dataclass(frozen=True)
class CheckSummary:
    """The license check as the bundle records it."""

    verdict: str
    license: LicenseInfo
    clauses: tuple[dict[str, Any], ...]  # {id, section, verdict, message}
    obligations: tuple[Obligation, ...]
    accepted_review: tuple[str, ...] = ()


@dataclass(frozen=True)
class BundleFacts:
    """Everything the bundle states, gathered by the training run."""

    base_model: str
    report: ScanReport  # the whole scan
    trained: Sequence[tuple[str, str, int]]  # (record id, file, row) of every example
    status_of: Mapping[tuple[str, int], str]  # (file, row) -> status, for the trained records
    statuses: Sequence[str]  # the statuses the gate let through (cleared, redacted[, blocked])
    check: CheckSummary
    gate: Mapping[str, Any]  # cleared_only, include_blocked, accept_review, excluded
    training: Mapping[str, Any]  # arguments, data, result, versions
    usage: Mapping[str, Any] | None  # the usage declaration as a dict, when there is one
    dataset_card: Mapping[str, Any]  # front matter of the dataset's card, {} when none


def write_bundle(directory: Path, facts: BundleFacts) -> dict[str, Any]:
    """Write every bundle file beside the adapter already in `directory`; return the manifest."""
    report = subset_report(facts)
    _write_json(directory / AUDIT_REPORT, report)
    for name, content in obligation_files(facts.check.obligations).items():
        (directory / name).write_bytes(content)
    (directory / DATASHEET).write_text(datasheet(facts, report), encoding="utf-8")
    (directory / MODEL_CARD).write_text(model_card(facts, report), encoding="utf-8")
    return write_manifest(directory, facts)


def subset_report(facts: BundleFacts) -> dict[str, Any]:
    """The scan report for exactly the trained records: their rows, findings and summary."""
    full = facts.report.to_dict()
    keys = {(file, row) for _, file, row in facts.trained}
    records = [r for r in full["records"] if (r["file"], r["row"]) in keys]
    findings = [f for f in full["findings"] if (f["file"], f["row"]) in keys]
    statuses = Counter(r["status"] for r in records)
    full["summary"] = {
        "records": len(records),
        "cleared": statuses.get("cleared", 0),
        "redacted": statuses.get("redacted", 0),
        "blocked": statuses.get("blocked", 0),
        "errors": statuses.get("error", 0),
        "findings_by_detector": dict(sorted(Counter(f["detector"] for f in findings).items())),
        "findings_by_type": dict(sorted(Counter(f["type"] for f in findings).items())),
    }
    full["records"] = records
    full["findings"] = findings
    full["training"] = {
        "subset": "the records of the scan that the adapter was trained on",
        "records_in_scan": facts.report.summary["records"],
        "scan_summary": facts.report.summary,
        "excluded_by_status": dict(facts.gate.get("excluded", {})),
        "record_digest": record_digest(r["id"] for r in records),
    }
    return full


def obligation_files(obligations: Sequence[Obligation]) -> dict[str, bytes]:
    """File name -> content. Several obligations may name one file (NOTICE: the Llama notice
    line and each dataset's attribution): their contents are joined, each once, in order."""
    parts: dict[str, list[bytes]] = {}
    for obligation in obligations:
        for name, content in obligation.files:
            if content not in parts.setdefault(name, []):
                parts[name].append(content)
    return {
        name: b"\n".join(c if c.endswith(b"\n") else c + b"\n" for c in contents)
        for name, contents in parts.items()
    }


def write_manifest(directory: Path, facts: BundleFacts) -> dict[str, Any]:
    """provenance.json: what was trained, on what, under which checks, and every file's sha256."""
    scan = facts.report.scan
    files = {
        path.relative_to(directory).as_posix(): file_sha256(path)
        for path in sorted(directory.rglob("*"))
        if path.is_file() and path.name not in (MANIFEST, ATTESTATION)
    }
    statuses = Counter(facts.status_of[(file, row)] for _, file, row in facts.trained)
    manifest: dict[str, Any] = {
        "schema": BUNDLE_SCHEMA,
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "tool": {"name": "provenance", "version": __version__},
        "scan": {
            "scan_id": scan.scan_id,
            "source": scan.source,
            "finished_at": scan.finished_at.isoformat() if scan.finished_at else None,
            "dataset_fingerprint": scan.fingerprint,
            "policy": {"source": scan.policy_source, "sha256": scan.policy_sha256},
        },
        "dataset": {
            "files": [{"path": f["path"], "sha256": f["sha256"]} for f in facts.report.files],
        },
        "records": {
            "count": len(facts.trained),
            "by_status": dict(sorted(statuses.items())),
            "statuses": sorted(facts.statuses),
            "digest": record_digest(rid for rid, _, _ in facts.trained),
            "digest_method": RECORD_DIGEST_METHOD,
        },
        "base_model": {
            "name_or_path": facts.base_model,
            "license": {
                "id": facts.check.license.id,
                "name": facts.check.license.name,
                "spdx": facts.check.license.spdx,
                "hub_license": facts.check.license.hub_license,
            },
        },
        "check": {
            "verdict": facts.check.verdict,
            "accepted_review": list(facts.check.accepted_review),
            "clauses": [dict(c) for c in facts.check.clauses],
            "obligations": [
                {"id": o.id, "text": o.text, "files": [name for name, _ in o.files]}
                for o in facts.check.obligations
            ],
        },
        "gate": dict(facts.gate),
        "training": dict(facts.training),
        "files": files,
        "manifest_sha256": ZERO_DIGEST,
    }
    data = _json_bytes(manifest)
    digest = hashlib.sha256(data).hexdigest()
    manifest["manifest_sha256"] = digest
    (directory / MANIFEST).write_bytes(_json_bytes(manifest))
    return manifest


# -- the model card ----------------------------------------------------------------------------


def model_card(facts: BundleFacts, report: Mapping[str, Any]) -> str:
    """README.md: Hugging Face model card front matter and a body about the data trained on."""
    from huggingface_hub import ModelCardData

    gate = facts.gate
    license_info = facts.check.license
    model_name = (facts.usage or {}).get("model_name") or f"LoRA adapter for {facts.base_model}"
    data = ModelCardData(
        base_model=facts.base_model,
        library_name="peft",
        pipeline_tag="text-generation",
        datasets=[facts.report.scan.source],
        tags=[
            "lora",
            "peft",
            "transformers",
            f"base_model:adapter:{facts.base_model}",
            "provenance-audited",
        ],
        **license_info.card_fields(),
    )
    summary = report["summary"]
    training = facts.training
    result = training.get("result", {})
    args = training.get("arguments", {})
    lines = [
        "---",
        data.to_yaml().rstrip(),
        "---",
        "",
        f"# {model_name}",
        "",
        f"A LoRA adapter for `{facts.base_model}`, trained with `provenance train` on the records "
        f"of `{facts.report.scan.source}` that the audit cleared "
        f"(scan `{facts.report.scan.scan_id}`).",
        "",
    ]
    lines += _warnings(facts)
    lines += [
        "## Training data",
        "",
        f"- Dataset: `{facts.report.scan.source}`, fingerprint `{facts.report.scan.fingerprint}`.",
        f"- Trained on **{summary['records']}** of {facts.report.summary['records']} records: "
        f"{summary['cleared']} cleared, {summary['redacted']} redacted"
        + (f", **{summary['blocked']} blocked**" if summary["blocked"] else "")
        + ".",
        f"- Left out: {_counts(gate.get('excluded', {})) or 'nothing'}.",
        f"- Redacted spans, replaced by `<TYPE>`: "
        f"{_counts(training.get('data', {}).get('redacted_spans', {})) or 'none'}.",
        f"- Policy: `{facts.report.scan.policy_source}` "
        f"(sha256 `{facts.report.scan.policy_sha256}`).",
        f"- Record digest: `{record_digest(rid for rid, _, _ in facts.trained)}` "
        "(see `provenance.json`).",
        "",
        f"The [datasheet]({DATASHEET}) describes the data; [{AUDIT_REPORT}]({AUDIT_REPORT}) is the "
        "audit of exactly the records trained on (masked previews only).",
        "",
        "## License",
        "",
        f"- Base model license: {license_info.name}"
        + (f" (`{license_info.hub_license}`)" if license_info.hub_license != "other" else ""),
        f"- License check verdict: **{facts.check.verdict}**"
        + (
            f" (review accepted for: {', '.join(facts.check.accepted_review)})"
            if facts.check.accepted_review
            else ""
        ),
    ]
    for obligation in facts.check.obligations:
        names = ", ".join(f"`{name}`" for name, _ in obligation.files)
        lines.append(
            f"- Obligation `{obligation.id}`: {obligation.text}" + (f" ({names})" if names else "")
        )
    lines += [
        "",
        "## Training procedure",
        "",
        "| setting | value |",
        "|---|---|",
        *[f"| {k} | {_cell(v)} |" for k, v in args.items()],
        "",
        f"{result.get('steps', 0)} optimizer steps over {result.get('epochs', 0)} epochs on "
        f"{result.get('device', 'cpu')} in {result.get('seconds', 0):.1f} s; loss "
        f"{_num(result.get('first_loss'))} → {_num(result.get('final_loss'))}.",
        "",
        "### Framework versions",
        "",
        *[f"- {name} {version}" for name, version in training.get("versions", {}).items()],
        "",
        "## How to use",
        "",
        "```python",
        "from peft import PeftModel",
        "from transformers import AutoModelForCausalLM, AutoTokenizer",
        "",
        f'base = AutoModelForCausalLM.from_pretrained("{facts.base_model}")',
        f'tokenizer = AutoTokenizer.from_pretrained("{facts.base_model}")',
        'model = PeftModel.from_pretrained(base, "path/to/this/folder")',
        "```",
        "",
        "Check that no file of this folder changed since it was written:",
        "",
        "```",
        "provenance verify path/to/this/folder",
        "```",
        "",
    ]
    return "\n".join(lines)


def _warnings(facts: BundleFacts) -> list[str]:
    lines = []
    blocked = sum(1 for status in facts.status_of.values() if status == "blocked")
    if facts.gate.get("include_blocked") and blocked:
        lines += [
            f"> **WARNING: trained on {blocked} records the audit BLOCKED** (`--include-blocked`). "
            "They may hold personal data or text that may not be used; see "
            f"[{AUDIT_REPORT}]({AUDIT_REPORT}) for their findings.",
            "",
        ]
    if facts.check.accepted_review:
        lines += [
            "> **License clauses needing review were accepted** (`--accept-review`): "
            f"{', '.join(facts.check.accepted_review)}.",
            "",
        ]
    return lines


# -- the datasheet -----------------------------------------------------------------------------


def datasheet(facts: BundleFacts, report: Mapping[str, Any]) -> str:
    """DATASHEET.md: the seven sections of Datasheets for Datasets (Gebru et al.)."""
    scan = facts.report.scan
    usage = dict(facts.usage or {})
    card = dict(facts.dataset_card)
    summary = report["summary"]
    full = facts.report.summary
    data_stats = facts.training.get("data", {})
    excluded_reasons = Counter(
        reason
        for r in facts.report.records
        if (r["file"], r["row"]) not in facts.status_of
        for reason in (r["reasons"] or [r["status"]])
    )
    findings_all = facts.report.findings
    trained_keys = set(facts.status_of)
    pii_trained = Counter(
        f.type for f in findings_all if f.detector == "pii" and (f.file, f.row) in trained_keys
    )
    pii_all = Counter(f.type for f in findings_all if f.detector == "pii")
    references = Counter(
        (str(f.detail.get("reference_set", "?")), str(f.detail.get("reference_doc", "?")),
         str(f.detail.get("reference_license", "?")), f.action.value)
        for f in findings_all if f.detector == "reference"
    )  # fmt: skip
    detectors = set(scan.tool.get("detectors") or {})
    duplicates = sum(
        1 for f in findings_all if f.detector == "duplicate" and f.action.value == "block"
    )
    sources = usage.get("sources") or {}
    licenses = scan.licenses or []
    shapes = data_stats.get("shapes", {})
    files = facts.report.files

    def section(title: str, rows: list[tuple[str, str]]) -> list[str]:
        out = [f"## {title}", ""]
        for question, answer in rows:
            out += [f"**{question}**", "", answer or NOT_PROVIDED, ""]
        return out

    title = card.get("pretty_name") or scan.source
    lines = [
        f"# Datasheet: {title}",
        "",
        "Following *Datasheets for Datasets* (Gebru et al., 2021), for the data this adapter was "
        f"trained on. Written by provenance {__version__} from scan `{scan.scan_id}`, the license "
        "check and the usage declaration; what none of them records is marked "
        f'"{NOT_PROVIDED.rstrip(".").lower()}".',
        "",
    ]
    lines += _warnings(facts)
    lines += section("Motivation", [
        ("For what purpose was the dataset created?", _purpose(usage)),
        ("Who created the dataset and on behalf of which entity?", NOT_PROVIDED),
        ("Who funded the creation of the dataset?", NOT_PROVIDED),
    ])  # fmt: skip
    lines += section("Composition", [
        ("What do the instances represent?",
         "Training examples for a causal language model, one per record; shapes: "
         + (_counts(shapes) or "none") + "."),
        ("How many instances are there?",
         f"{summary['records']} trained on, of {full['records']} records in the scanned dataset "
         f"({full['cleared']} cleared, {full['redacted']} redacted, {full['blocked']} blocked, "
         f"{full['errors']} unreadable)."),
        ("Does the dataset contain all possible instances or is it a sample?",
         "The records the audit cleared (and redacted), all of them; left out: "
         + (_counts(facts.gate.get("excluded", {})) or "nothing") + "."),
        ("What data does each instance consist of?",
         "Text fields as read from the files: "
         + ", ".join(f"`{f['path']}` ({f['format']}, {f['records']} records)" for f in files)
         + "."),
        ("Is any information missing from individual instances?",
         f"Redacted spans were replaced by `<TYPE>` placeholders: "
         f"{_counts(data_stats.get('redacted_spans', {})) or 'none'}. "
         f"{data_stats.get('truncated', 0)} examples were cut to the maximum length, "
         f"{data_stats.get('without_labels', 0)} have nothing left to learn after it."),
        ("Are there errors, sources of noise, or redundancies?",
         f"{full['errors']} records could not be read and were left out. "
         + (f"Duplicate records left out: {duplicates}." if "duplicate" in detectors
            else "Duplicates were not looked for (the duplicate detector did not run).")),
        ("Does the dataset contain data that might be considered confidential, or text copied "
         "from other works?",
         _references(references) if "reference" in detectors
         else "Not checked: the reference (copied text) detector did not run."),
        ("Is it possible to identify individuals, directly or indirectly?",
         "Personal data found by the audit in the records trained on (flagged findings stay in "
         "the text; redacted ones were replaced): " + (_counts(pii_trained) or "none")
         + ". In the whole dataset: " + (_counts(pii_all) or "none") + "."),
        ("Does the dataset contain sensitive data (government ids, financial data, ...)?",
         "Records with such identifiers are blocked by the policy and not trained on"
         + (" (except where --include-blocked was given)" if facts.gate.get("include_blocked")
            else "") + ". Blocked or excluded because of: "
         + (_counts(excluded_reasons) or "nothing") + "."),
    ])  # fmt: skip
    lines += section("Collection process", [
        ("How was the data acquired?", _sources(sources, card)),
        ("Over what timeframe was the data collected?", NOT_PROVIDED),
        ("Were the individuals concerned notified, and did they consent?", NOT_PROVIDED),
        ("Has an analysis of the potential impact on data subjects been conducted?",
         NOT_PROVIDED),
    ])  # fmt: skip
    lines += section("Preprocessing, cleaning, labeling", [
        ("Was any preprocessing or cleaning done?",
         f"Audited by provenance {scan.tool.get('version', '?')} with detectors "
         + ", ".join(f"`{k}`" for k in (scan.tool.get("detectors") or {}))
         + f" under policy `{scan.policy_source}`; records left out by status: "
         + (_counts(facts.gate.get("excluded", {})) or "none")
         + "; redactions: " + (_counts(data_stats.get("redacted_spans", {})) or "none")
         + ". Formatted with: " + (_counts(data_stats.get("templates", {})) or "none")
         + f"; tokenised with the base model's tokenizer, at most "
         f"{facts.training.get('arguments', {}).get('max_length', '?')} tokens; prompts and "
         "user turns are masked out of the loss."),
        ("Was the raw data saved in addition?",
         "The source files are not part of this bundle; their sha256 are listed in "
         f"`{MANIFEST}` and `{AUDIT_REPORT}`: "
         + ", ".join(f"`{f['path']}` `{f['sha256'][:16]}…`" for f in files) + "."),
        ("Is the software used to preprocess the data available?",
         f"provenance {__version__} (`provenance scan`, `provenance train`)."),
    ])  # fmt: skip
    lines += section("Uses", [
        ("What task is the dataset used for here?", _purpose(usage)),
        ("Declared use of the resulting model", _usage_facts(usage)),
        ("Are there tasks for which the dataset should not be used?", _restrictions(facts.check)),
    ])  # fmt: skip
    lines += section("Distribution", [
        ("Under what license is the data distributed?", _licenses(licenses, card, sources)),
        ("Which sources does this data credit?", _credits(sources)),
        ("Is the data distributed with the model?",
         "No: this bundle holds the adapter and the audit (masked previews, no record text)."),
        ("Have third parties imposed restrictions?",
         f"Base model license: {facts.check.license.name}; license check verdict "
         f"{facts.check.verdict}. Obligations: "
         + (" ".join(_sentence(o.text) for o in facts.check.obligations) or "none.")),
    ])  # fmt: skip
    lines += section("Maintenance", [
        ("Who maintains the dataset, and how can they be contacted?", NOT_PROVIDED),
        ("Will the dataset be updated?",
         "Not by this bundle. Any change to the data files changes their sha256: "
         "`provenance train` refuses to run until the changed data is scanned again."),
        ("Is there an erratum?", NOT_PROVIDED),
    ])  # fmt: skip
    return "\n".join(lines).rstrip() + "\n"


def _purpose(usage: Mapping[str, Any]) -> str:
    cases = usage.get("use_cases")
    name = usage.get("model_name")
    if not cases and not name:
        return NOT_PROVIDED
    parts = []
    if name:
        parts.append(f"Fine-tuning the model `{name}`")
    if cases:
        parts.append("declared use cases: " + ", ".join(f"`{c}`" for c in cases))
    return "; ".join(parts) + "."


def _usage_facts(usage: Mapping[str, Any]) -> str:
    facts = {k: v for k, v in usage.items() if k not in ("sources", "base_model")}
    if not facts:
        return NOT_PROVIDED
    return "; ".join(f"{k}: {NOT_PROVIDED.rstrip('.').lower() if v is None else _cell(v)}"
                     for k, v in facts.items()) + "."  # fmt: skip


def _restrictions(check: CheckSummary) -> str:
    relevant = [c for c in check.clauses if c.get("verdict") in ("fail", "review")]
    if not relevant:
        return (
            f"The base model license ({check.license.name}) and its clauses; none restricts the "
            "declared use."
        )
    return " ".join(f"`{c['id']}` ({c['verdict']}): {c.get('message', '')}" for c in relevant)


def _sources(sources: Mapping[str, Any], card: Mapping[str, Any]) -> str:
    parts = []
    for glob, entry in sources.items():
        details = ", ".join(f"{k}: {_cell(v)}" for k, v in (entry or {}).items() if v)
        parts.append(f"`{glob}`" + (f" ({details})" if details else ""))
    if card.get("source_datasets"):
        parts.append("The dataset card names its sources: " + _cell(card["source_datasets"]))
    return ("; ".join(parts) + ".") if parts else NOT_PROVIDED


def _credits(sources: Mapping[str, Any]) -> str:
    credited = [
        f"`{glob}`: {entry.get('origin') or 'origin not provided'} ({entry.get('license')})"
        for glob, entry in sources.items()
        if isinstance(entry, Mapping) and (entry.get("origin") or entry.get("license"))
    ]
    if not credited:
        return NOT_PROVIDED
    return (
        "; ".join(credited)
        + ". Modified by provenance: records left out and spans redacted as described above."
    )


def _licenses(licenses: Sequence[Mapping[str, Any]], card: Mapping[str, Any],
              sources: Mapping[str, Any]) -> str:  # fmt: skip
    parts = [
        f"{item.get('spdx')} for {_cell(item.get('applies_to'))} (evidence: "
        f"{_evidence(item.get('evidence'))})"
        for item in licenses
    ]
    if not parts and card.get("license"):
        parts.append(f"{card['license']} (the dataset card's `license`)")
    parts += [
        f"{entry['license']} for `{glob}` (usage declaration)"
        for glob, entry in sources.items()
        if isinstance(entry, Mapping) and entry.get("license")
    ]
    return ("; ".join(parts) + ".") if parts else NOT_PROVIDED


def _evidence(evidence: Any) -> str:
    """License evidence as `file:line (origin)` items; free text when it is not a list."""
    if not isinstance(evidence, list):
        return _cell(evidence)
    return ", ".join(
        f"`{e.get('file')}:{e.get('line')}` ({e.get('origin')})"
        if isinstance(e, Mapping)
        else str(e)
        for e in evidence
    )


def _references(references: Counter[tuple[str, str, str, str]]) -> str:
    if not references:
        return "No text matching a registered reference set was found."
    return (
        "Matches against reference sets: "
        + "; ".join(
            f"{count} × `{doc}` in `{ref_set}` (license {lic}, action {action})"
            for (ref_set, doc, lic, action), count in sorted(references.items())
        )
        + "."
    )


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?", '"')) else text + "."


def _counts(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{v} {k}" for k, v in sorted(counts.items()) if v)


def _cell(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value) or "[]"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value).replace("|", "\\|")


def _num(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, (int, float)) else "n/a"


def _json_bytes(data: Any) -> bytes:
    return (json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n").encode("utf-8")


def _write_json(path: Path, data: Any) -> None:
    path.write_bytes(_json_bytes(data))


def environment() -> dict[str, str]:
    """Versions of what trained the adapter, for the card and the manifest."""
    import peft
    import torch
    import transformers

    return {
        "provenance": __version__,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "peft": peft.__version__,
    }
