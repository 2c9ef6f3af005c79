"""Facts several formats report about a scan and, optionally, a release bundle.

The HTML page, the two BOM formats (CycloneDX, SPDX) and the attestation describe the same
things — the dataset's name and licenses, whether it holds personal data, which reference sets it
copies from, what a release bundle contains — so each is derived once, here, from the
`ScanReport` and from the bundle's own files. Nothing here reads record text.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import Any, Literal

import yaml

from provenance.bundle import ATTESTATION, file_sha256
from provenance.errors import InputError
from provenance.licensing.usage import glob_matches
from provenance.model import Action, Finding
from provenance.report import ScanReport

PII_DETECTOR = "pii"
REFERENCE_DETECTOR = "reference"
UNKNOWN_LICENSE = "unknown"
Presence = Literal["yes", "no", "noAssertion"]

# Names people read for the finding types the built-in detectors and readers produce; any
# other type is shown with its words capitalised (`FOO_BAR` -> `Foo bar`).
TYPE_TITLES = {
    "EMAIL_ADDRESS": "Email address",
    "PHONE_NUMBER": "Phone number",
    "IP_ADDRESS": "IP address",
    "STREET_ADDRESS": "Street address",
    "PERSON": "Person's name",
    "LOCATION": "Location",
    "DATE_TIME": "Date or time",
    "URL": "URL",
    "US_SSN": "US social security number",
    "CREDIT_CARD": "Credit card number",
    "IBAN_CODE": "IBAN",
    "US_BANK_NUMBER": "US bank account number",
    "US_PASSPORT": "US passport number",
    "US_DRIVER_LICENSE": "US driver's licence number",
    "CRYPTO": "Crypto wallet address",
    "SECRET": "Secret (API key, token or private key)",
    "REFERENCE_MATCH": "Copied text from a reference that does not permit training",
    "REFERENCE_MATCH_NONCOMMERCIAL": "Copied text from a non-commercial reference",
    "REFERENCE_MATCH_PERMITTED": "Copied text from a reference that permits training",
    "EXACT_DUPLICATE": "Exact duplicate record",
    "NEAR_DUPLICATE": "Near-duplicate record",
    "INVALID_JSON": "Invalid JSON",
    "INVALID_UTF8": "Invalid UTF-8",
    "BINARY_CONTENT": "Binary content",
    "EMPTY_FILE": "Empty file",
    "MISSING_TEXT_FIELD": "No text field",
    "UNSUPPORTED_FORMAT": "Unsupported file format",
    "SYMLINK_OUTSIDE_ROOT": "Symlink outside the dataset",
    "DECOMPRESSION_LIMIT": "Decompression limit exceeded",
    "UNREADABLE": "Unreadable file",
    "READ_ERROR": "Read error",
    "LICENSE_UNKNOWN": "Data under an unknown license",
}


def type_title(finding_type: str) -> str:
    """A finding type as people read it."""
    known = TYPE_TITLES.get(finding_type)
    if known:
        return known
    words = finding_type.replace("_", " ").strip().lower()
    return words[:1].upper() + words[1:] if words else finding_type


def utc_z(moment: datetime) -> str:
    """`2026-08-30T12:00:00Z`: whole seconds in UTC, the form every BOM schema accepts."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def dataset_name(report: ScanReport) -> str:
    """What the dataset is called: the last part of the path or hub id the user scanned."""
    source = report.scan.source.rstrip("/\\")
    name = PurePosixPath(source.replace("\\", "/")).name
    return name or source or "dataset"


def worst_action(findings: Iterable[Finding]) -> Action:
    return max((f.action for f in findings), key=lambda a: a.severity, default=Action.ALLOW)


# -- licenses ---------------------------------------------------------------------------------


def _patterns(applies_to: Any) -> list[str] | None:
    """The globs a license entry covers; None means the whole dataset."""
    if applies_to in (None, "", "*", "**", "dataset", []):
        return None
    if isinstance(applies_to, str):
        return [applies_to]
    if isinstance(applies_to, Sequence):
        return [str(p) for p in applies_to]
    return None


def file_licenses(report: ScanReport) -> dict[str, list[str | None]]:
    """For each dataset file, the SPDX ids (None: unknown) of the license entries covering it."""
    entries = report.scan.licenses or []
    result: dict[str, list[str | None]] = {}
    for f in report.files:
        path = f["path"]
        covering: list[str | None] = []
        for entry in entries:
            patterns = _patterns(entry.get("applies_to"))
            if patterns is None or any(glob_matches(p, path) for p in patterns):
                spdx = entry.get("spdx")
                if spdx not in covering:
                    covering.append(spdx)
        result[path] = covering
    return result


def combine(expressions: Iterable[str]) -> str | None:
    """Several licenses that all apply, as one SPDX expression (`A AND (B OR C)`)."""
    distinct = sorted(set(expressions))
    if not distinct:
        return None
    if len(distinct) == 1:
        return distinct[0]
    return " AND ".join(f"({e})" if " " in e else e for e in distinct)


def file_expression(licenses: Sequence[str | None]) -> str | None:
    """One file's license expression, or None when no license (or an unknown one) covers it."""
    if not licenses or None in licenses:
        return None
    return combine(lic for lic in licenses if lic)


@dataclass(frozen=True)
class LicenseFacts:
    """The dataset's licenses as a BOM states them."""

    expression: str | None  # every known license that applies somewhere, ANDed
    known: tuple[str, ...]  # the distinct SPDX expressions found
    unknown_files: tuple[str, ...]  # files no known license covers: the license is not settled
    records_by_license: dict[str, int]  # records per file expression (`unknown` when unsettled)

    @property
    def settled(self) -> bool:
        return bool(self.known) and not self.unknown_files


def license_facts(report: ScanReport) -> LicenseFacts:
    by_file = file_licenses(report)
    known = sorted({lic for lics in by_file.values() for lic in lics if lic})
    unknown = tuple(sorted(path for path, lics in by_file.items() if file_expression(lics) is None))
    records: Counter[str] = Counter()
    for f in report.files:
        label = file_expression(by_file[f["path"]]) or UNKNOWN_LICENSE
        records[label] += int(f.get("records") or 0)
    return LicenseFacts(
        expression=combine(known),
        known=tuple(known),
        unknown_files=unknown,
        records_by_license=dict(sorted(records.items())),
    )


def evidence_label(evidence: Any) -> str:
    """Where a piece of license evidence was found (`README.md:3`), never the matched text."""
    if isinstance(evidence, Mapping):
        where = str(evidence.get("file") or evidence.get("source") or evidence.get("path") or "")
        line = evidence.get("line")
        kind = evidence.get("kind") or evidence.get("method")
        label = f"{where}:{line}" if line else where
        return f"{label} ({kind})" if kind and label else (label or str(kind or ""))
    return str(evidence)


# -- personal data and references ---------------------------------------------------------------


def pii_ran(report: ScanReport) -> bool:
    detectors = report.scan.tool.get("detectors") or {}
    return PII_DETECTOR in detectors or bool(
        report.summary.get("findings_by_detector", {}).get(PII_DETECTOR)
    )


def personal_data(report: ScanReport) -> Presence:
    """Whether the scanned data holds personal information: only `no` when the PII detector ran."""
    if report.summary.get("findings_by_detector", {}).get(PII_DETECTOR):
        return "yes"
    return "no" if pii_ran(report) else "noAssertion"


def trained_personal_data(report: ScanReport) -> Presence:
    """Whether personal information stays in what training uses: flagged or allowed values in
    records that are cleared or redacted (redacted spans are replaced, blocked records left out).
    """
    if not pii_ran(report):
        return "noAssertion"
    usable = {r["id"] for r in report.records if r["status"] in ("cleared", "redacted")}
    kept = (
        f
        for f in report.findings
        if f.detector == PII_DETECTOR and f.action in (Action.FLAG, Action.ALLOW)
    )
    return "yes" if any(f.record_id in usable for f in kept) else "no"


@dataclass(frozen=True)
class TypeCount:
    type: str
    count: int
    actions: tuple[str, ...]  # distinct actions taken, most severe first


def pii_types(report: ScanReport) -> list[TypeCount]:
    """Each personal-data type found, how often, and what the policy did about it."""
    return _type_counts(f for f in report.findings if f.detector == PII_DETECTOR)


def _type_counts(findings: Iterable[Finding]) -> list[TypeCount]:
    counts: Counter[str] = Counter()
    actions: dict[str, set[Action]] = {}
    for f in findings:
        counts[f.type] += 1
        actions.setdefault(f.type, set()).add(f.action)
    return [
        TypeCount(
            t,
            counts[t],
            tuple(a.value for a in sorted(actions[t], key=lambda a: -a.severity)),
        )
        for t in sorted(counts)
    ]


def anonymization_methods(report: ScanReport) -> list[str]:
    """How personal data is kept out of training, in the policy's own terms."""
    redacted = sorted({f.type for f in report.findings if f.action is Action.REDACT})
    blocked = sorted(
        {f.type for f in report.findings if f.detector == PII_DETECTOR and f.action is Action.BLOCK}
    )
    methods = []
    if redacted:
        methods.append(
            "spans replaced by type placeholders before training: " + ", ".join(redacted)
        )
    if blocked:
        methods.append("records holding these types left out of training: " + ", ".join(blocked))
    return methods


def reference_matches(report: ScanReport) -> dict[tuple[str, str], int]:
    """Findings per (reference set, reference document)."""
    counts: Counter[tuple[str, str]] = Counter()
    for f in report.findings:
        if f.detector != REFERENCE_DETECTOR:
            continue
        detail = f.detail or {}
        ref_set = str(detail.get("reference_set") or "?")
        counts[(ref_set, str(detail.get("reference_doc") or "?"))] += 1
    return dict(sorted(counts.items()))


def verdict(report: ScanReport) -> str:
    """`cleared`, `cleared-with-redactions` or `not-cleared` for the whole scan."""
    if report.blocked:
        return "not-cleared"
    return "cleared-with-redactions" if report.summary.get("redacted") else "cleared"


# -- release bundles ------------------------------------------------------------------------------


@dataclass(frozen=True)
class BundleFile:
    path: str  # relative to the bundle, with forward slashes
    sha256: str
    size: int


@dataclass(frozen=True)
class Bundle:
    """A release bundle as written by `provenance train`: its files and their metadata."""

    root: Path
    files: tuple[BundleFile, ...]
    manifest: dict[str, Any] = field(default_factory=dict)  # provenance.json
    adapter_config: dict[str, Any] = field(default_factory=dict)
    card: dict[str, Any] = field(default_factory=dict)  # README.md front matter

    @property
    def name(self) -> str:
        """The adapter's name: the bundle folder's name (what it is published under)."""
        return self.root.resolve().name

    @property
    def base_model(self) -> str | None:
        base = self.manifest.get("base_model")
        if isinstance(base, Mapping):
            base = base.get("name_or_path") or base.get("id") or base.get("name")
        base = (
            base
            or self.adapter_config.get("base_model_name_or_path")
            or self.card.get("base_model")
        )
        if isinstance(base, list):
            base = base[0] if base else None
        return str(base) if base else None

    @property
    def base_license(self) -> dict[str, Any]:
        """The base model's license: `spdx` (an SPDX id or LicenseRef-), `name`, `hub_id`, `url`."""
        base = self.manifest.get("base_model")
        found = base.get("license") if isinstance(base, Mapping) else None
        found = dict(found) if isinstance(found, Mapping) else {}
        hub_id = found.get("hub_license") or self.card.get("license")
        spdx = found.get("spdx") or _spdx_like(found.get("id")) or _spdx_like(hub_id)
        return {
            "spdx": spdx,
            "name": found.get("name") or self.card.get("license_name"),
            "hub_id": hub_id,
            "url": found.get("url") or self.card.get("license_link"),
        }

    @property
    def adapter(self) -> BundleFile | None:
        return self.file("adapter_model.safetensors") or self.file("adapter_model.bin")

    def file(self, name: str) -> BundleFile | None:
        return next((f for f in self.files if f.path == name), None)

    @property
    def hyperparameters(self) -> dict[str, str]:
        """LoRA settings from adapter_config.json, as strings, in name order."""
        keys = ("peft_type", "r", "lora_alpha", "lora_dropout", "target_modules", "task_type")
        values = {k: self.adapter_config[k] for k in keys if self.adapter_config.get(k) is not None}
        training = self.manifest.get("training") or {}
        arguments = training.get("arguments") if isinstance(training, Mapping) else None
        if isinstance(arguments, Mapping):
            for key, value in arguments.items():
                if isinstance(value, (str, int, float, bool)) and key not in values:
                    values[key] = value
        return {k: _plain(v) for k, v in sorted(values.items())}


def _plain(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return json.dumps(value) if isinstance(value, bool) else str(value)


_SPDX_ID = re.compile(r"^(LicenseRef-[A-Za-z0-9.-]+|[A-Za-z0-9][A-Za-z0-9.+-]*)$")
_HUB_IDS = {"apache-2.0": "Apache-2.0", "mit": "MIT", "openrail": "LicenseRef-openrail"}


def _spdx_like(value: Any) -> str | None:
    """An id usable in an SPDX expression: a LicenseRef- stays, a hub id becomes a LicenseRef-."""
    if not isinstance(value, str) or not value or value in ("other", "unknown"):
        return None
    if value.startswith("LicenseRef-") or value in _HUB_IDS.values():
        return value
    if value.lower() in _HUB_IDS:
        return _HUB_IDS[value.lower()]
    slug = re.sub(r"[^A-Za-z0-9.-]+", "-", value).strip("-")
    return f"LicenseRef-{slug}" if slug and _SPDX_ID.match(slug) else None


def bundle_files(directory: Path, *, exclude: Iterable[str] = (ATTESTATION,)) -> list[Path]:
    """Every regular file under `directory`, sorted; a symlink is refused, not followed."""
    skip = set(exclude)
    found = []
    for path in sorted(directory.rglob("*")):
        rel = path.relative_to(directory).as_posix()
        if path.is_symlink():
            raise InputError(f"{path}: a release bundle holds regular files only, not symlinks")
        if path.is_file() and rel not in skip:
            found.append(path)
    return found


def read_bundle(directory: str | Path, *, exclude: Iterable[str] = (ATTESTATION,)) -> Bundle:
    """The bundle in `directory`, with the sha256 of every file (the attestation excluded)."""
    root = Path(directory)
    if not root.is_dir():
        raise InputError(f"bundle is not a directory: {root}")
    if not (root / "adapter_config.json").is_file():
        raise InputError(f"not a release bundle (no adapter_config.json): {root}")
    files = tuple(
        BundleFile(p.relative_to(root).as_posix(), file_sha256(p), p.stat().st_size)
        for p in bundle_files(root, exclude=exclude)
    )
    return Bundle(
        root=root,
        files=files,
        manifest=_json_object(root / "provenance.json"),
        adapter_config=_json_object(root / "adapter_config.json"),
        card=_front_matter(root / "README.md"),
    )


def _json_object(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a JSON object")
    return data


def _front_matter(path: Path) -> dict[str, Any]:
    """The YAML block at the top of a model card; empty when there is none or it is malformed."""
    if not path.is_file():
        return {}
    text = path.read_text(encoding="utf-8", errors="replace")
    match = re.match(r"^---\s*\n(.*?)\n---\s*(\n|$)", text, re.DOTALL)
    if not match:
        return {}
    try:
        data = yaml.safe_load(match.group(1))
    except (yaml.YAMLError, RecursionError):
        return {}
    return data if isinstance(data, dict) else {}


def hub_url(model_or_dataset: str, *, dataset: bool = False) -> str | None:
    """The Hugging Face page of a hub id (`org/name`), or None for a local path."""
    if (
        re.fullmatch(r"[A-Za-z0-9][\w.-]*/[\w.-]+", model_or_dataset)
        and not Path(model_or_dataset).exists()
    ):
        prefix = "datasets/" if dataset else ""
        return f"https://huggingface.co/{prefix}{model_or_dataset}"
    return None
