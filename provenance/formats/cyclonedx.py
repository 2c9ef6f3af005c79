"""CycloneDX 1.6 ML-BOM: the dataset as a `data` component and, given a release bundle, the
adapter and its base model as `machine-learning-model` components linked to it.

The dataset component carries its licenses (as found by the scan), its files with their sha256,
the personal-data types the scan found (`sensitiveData`, by type and count, never a value) and,
with `--organization`, who holds it (`governance`). The adapter's model card points at the
dataset (`modelParameters.datasets[].ref`), names the base model as its ancestor, and lists the
bundle's documents as external references with their hashes. The serial number and timestamp
come from the scan (and the bundle's content), so rendering the same scan twice gives the same
BOM.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from provenance.formats.base import Format
from provenance.formats.facts import (
    Bundle,
    anonymization_methods,
    combine,
    dataset_name,
    file_licenses,
    hub_url,
    license_facts,
    personal_data,
    pii_types,
    read_bundle,
    reference_matches,
    trained_personal_data,
    type_title,
    utc_z,
    verdict,
)
from provenance.report import ScanReport

CDX_SCHEMA = "http://cyclonedx.org/schema/bom-1.6.schema.json"
DATASET_REF = "dataset"
ADAPTER_REF = "model-adapter"
BASE_REF = "model-base"
# Namespace of the BOM serial numbers: a uuid5 of the scan and bundle, so it is stable.
SERIAL_NAMESPACE = uuid.UUID("5b0c8f6e-4c8e-4c1e-9a57-1d5d0f0a6c31")
# The bundle's documents and the CycloneDX external-reference type each one is.
BUNDLE_REFERENCES = {
    "README.md": "model-card",
    "DATASHEET.md": "documentation",
    "audit-report.json": "evidence",
    "NOTICE": "license",
    "provenance.json": "build-meta",
    "attestation.intoto.json": "attestation",
}


class CycloneDxFormat(Format):
    name = "cyclonedx"
    suffix = ".cdx.json"

    def __init__(self, *, bundle: str | Path | None = None, organization: str | None = None):
        self.bundle = read_bundle(bundle) if bundle is not None else None
        self.organization = organization

    def render(self, report: ScanReport) -> str:
        bom = ml_bom(report, self.bundle, organization=self.organization)
        return json.dumps(bom, indent=2, ensure_ascii=False) + "\n"


def ml_bom(
    report: ScanReport, bundle: Bundle | None = None, *, organization: str | None = None
) -> dict[str, Any]:
    """The whole BOM as a dict."""
    scan = report.scan
    # The BOM's subject sits in metadata.component and is not repeated among the components
    # (a bom-ref is unique in a BOM): the adapter when a bundle is given, else the dataset.
    dataset = _dataset_component(report, organization)
    subject, components = dataset, []
    dependencies: list[dict[str, Any]] = [{"ref": DATASET_REF, "dependsOn": []}]
    if bundle is not None:
        adapter, base = _model_components(report, bundle)
        subject, components = adapter, [*([base] if base else []), dataset]
        depends = [DATASET_REF, *([BASE_REF] if base else [])]
        dependencies = [{"ref": ADAPTER_REF, "dependsOn": sorted(depends)}, *dependencies]
        if base:
            dependencies.append({"ref": BASE_REF, "dependsOn": []})
    metadata: dict[str, Any] = {
        "timestamp": utc_z(scan.created_at),
        "tools": {
            "components": [
                {
                    "type": "application",
                    "name": "provenance",
                    "version": str(scan.tool.get("version", "")),
                    "description": "Data audit for fine-tuning corpora",
                }
            ]
        },
        "component": subject,
        "properties": _properties(
            [
                ("provenance:scan_id", scan.scan_id),
                ("provenance:scan_status", scan.status),
                ("provenance:verdict", verdict(report)),
                ("provenance:policy", scan.policy_source),
                ("provenance:policy_sha256", scan.policy_sha256),
            ]
        ),
    }
    if organization:
        metadata["manufacturer"] = {"name": organization}
    bundle_key = "".join(f.sha256 for f in bundle.files) if bundle else ""
    serial = uuid.uuid5(SERIAL_NAMESPACE, f"{scan.scan_id}:{bundle_key}")
    bom: dict[str, Any] = {
        "$schema": CDX_SCHEMA,
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": f"urn:uuid:{serial}",
        "version": 1,
        "metadata": metadata,
    }
    if components:
        bom["components"] = components
    bom["dependencies"] = dependencies
    return bom


def _dataset_component(report: ScanReport, organization: str | None) -> dict[str, Any]:
    scan, summary = report.scan, report.summary
    licenses = license_facts(report)
    name = dataset_name(report)
    pii = pii_types(report)
    sensitive = [
        f"{type_title(t.type)} ({t.type}): {t.count} found; {', '.join(t.actions)}" for t in pii
    ]
    contents: dict[str, Any] = {}
    url = hub_url(scan.source, dataset=True) if scan.root is None else None
    if url:
        contents["url"] = url
    contents["properties"] = _properties(
        [("provenance:source", scan.source), ("provenance:fingerprint", scan.fingerprint)]
    )
    data: dict[str, Any] = {
        "type": "dataset",
        "name": name,
        "description": (
            f"{summary['records']} records in {len(report.files)} files: {summary['cleared']} "
            f"cleared, {summary['redacted']} redacted, {summary['blocked']} blocked, "
            f"{summary['errors']} unreadable"
        ),
        "contents": contents,
        "classification": _classification(report),
    }
    if sensitive:
        data["sensitiveData"] = sensitive
    if organization:
        data["governance"] = {"custodians": [{"organization": {"name": organization}}]}
    # CycloneDX properties may repeat a name, so lists become repeated properties.
    properties: list[tuple[str, Any]] = [
        ("provenance:records", summary["records"]),
        ("provenance:records_cleared", summary["cleared"]),
        ("provenance:records_redacted", summary["redacted"]),
        ("provenance:records_blocked", summary["blocked"]),
        ("provenance:records_errors", summary["errors"]),
        ("provenance:personal_data", personal_data(report)),
        ("provenance:personal_data_in_training", trained_personal_data(report)),
        ("provenance:license_settled", str(licenses.settled).lower()),
    ]
    properties += [("provenance:anonymization", m) for m in anonymization_methods(report)]
    properties += [
        (f"provenance:findings:{finding_type}", count)
        for finding_type, count in sorted(summary.get("findings_by_type", {}).items())
    ]
    properties += [
        (f"provenance:reference_match:{ref_set}", f"{doc}: {count}")
        for (ref_set, doc), count in reference_matches(report).items()
    ]
    properties += [("provenance:license_unknown", path) for path in licenses.unknown_files]
    component: dict[str, Any] = {
        "bom-ref": DATASET_REF,
        "type": "data",
        "name": name,
        "data": [data],
        "properties": _properties(properties),
        "components": [_file_component(f, report) for f in report.files],
    }
    # What the data's cards, license files and declaration state; each file below carries the
    # license concluded for it, and a file with none is listed as `license_unknown`.
    choice = _license_choice(licenses.known, "declared")
    if choice:
        component["licenses"] = choice
    return component


def _classification(report: ScanReport) -> str:
    presence = personal_data(report)
    if presence == "yes":
        return "contains personal data"
    if presence == "no":
        return "no personal data detected"
    return "personal data not assessed"


def _file_component(file: dict[str, Any], report: ScanReport) -> dict[str, Any]:
    licenses = [lic for lic in file_licenses(report).get(file["path"], []) if lic]
    component: dict[str, Any] = {
        "bom-ref": f"{DATASET_REF}:{file['path']}",
        "type": "file",
        "name": file["path"],
        "hashes": [{"alg": "SHA-256", "content": file["sha256"]}],
        "properties": _properties(
            [("provenance:format", file["format"]), ("provenance:records", file["records"])]
        ),
    }
    choice = _license_choice(licenses, "concluded")
    if choice:
        component["licenses"] = choice
    return component


def _license_choice(licenses: Any, acknowledgement: str) -> list[dict[str, Any]]:
    """A CycloneDX `licenses` value: one SPDX expression covering all of them."""
    expression = combine(licenses)
    if not expression:
        return []
    return [{"expression": expression, "acknowledgement": acknowledgement}]


def _model_components(
    report: ScanReport, bundle: Bundle
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    base_id = bundle.base_model
    base_license = bundle.base_license
    adapter_file = bundle.adapter
    parameters: dict[str, Any] = {
        "approach": {"type": "supervised"},
        "task": str(bundle.card.get("pipeline_tag") or "text-generation"),
        "modelArchitecture": _architecture(bundle),
        "datasets": [{"ref": DATASET_REF}],
        "inputs": [{"format": "string"}],
        "outputs": [{"format": "string"}],
    }
    considerations: dict[str, Any] = {}
    methods = anonymization_methods(report)
    if report.summary.get("findings_by_detector", {}).get("pii"):
        considerations["ethicalConsiderations"] = [
            {
                "name": "Personal data in the training data",
                "mitigationStrategy": "; ".join(methods)
                or "none: personal data was flagged for review only",
            }
        ]
    card: dict[str, Any] = {
        "modelParameters": parameters,
        "properties": _properties(
            [(f"provenance:hyperparameter:{k}", v) for k, v in bundle.hyperparameters.items()]
            + [("provenance:personal_data_in_training", trained_personal_data(report))]
        ),
    }
    if considerations:
        card["considerations"] = considerations
    adapter: dict[str, Any] = {
        "bom-ref": ADAPTER_REF,
        "type": "machine-learning-model",
        "name": bundle.name,
        "modelCard": card,
        "externalReferences": [
            {
                "type": kind,
                "url": path.path,
                "hashes": [{"alg": "SHA-256", "content": path.sha256}],
            }
            for name, kind in BUNDLE_REFERENCES.items()
            if (path := bundle.file(name)) is not None
        ],
        "properties": _properties([(f"provenance:file:{f.path}", f.sha256) for f in bundle.files]),
    }
    if adapter_file is not None:
        adapter["hashes"] = [{"alg": "SHA-256", "content": adapter_file.sha256}]
        adapter["version"] = f"sha256:{adapter_file.sha256[:12]}"
    licenses = _model_licenses(base_license, "declared")
    if licenses:
        adapter["licenses"] = licenses
    if not base_id:
        return adapter, None
    group, _, short = base_id.rpartition("/")
    base: dict[str, Any] = {"bom-ref": BASE_REF, "type": "machine-learning-model", "name": short}
    if group:
        base["group"] = group
    url = hub_url(base_id)
    if url:
        base["purl"] = f"pkg:huggingface/{base_id}"
        base["externalReferences"] = [{"type": "distribution", "url": url}]
    if licenses:
        base["licenses"] = _model_licenses(base_license, "declared")
    ancestor = {k: base[k] for k in ("type", "name", "group", "purl") if k in base}
    adapter["pedigree"] = {"ancestors": [ancestor]}
    return adapter, base


def _architecture(bundle: Bundle) -> str:
    config = bundle.adapter_config
    parts = [str(config.get("peft_type") or "adapter")]
    for key in ("r", "lora_alpha"):
        if config.get(key) is not None:
            parts.append(f"{key}={config[key]}")
    targets = config.get("target_modules")
    if targets:
        parts.append("on " + ",".join(sorted(map(str, targets))))
    base = bundle.base_model
    return " ".join(parts) + (f" over {base}" if base else "")


def _model_licenses(license_info: dict[str, Any], acknowledgement: str) -> list[dict[str, Any]]:
    """The base model's license: an SPDX expression when it has an id, else a named license."""
    spdx = license_info.get("spdx")
    if spdx:
        entry: dict[str, Any] = {"expression": spdx, "acknowledgement": acknowledgement}
        return [entry]
    name = license_info.get("name") or license_info.get("hub_id")
    if not name:
        return []
    license_entry: dict[str, Any] = {"name": str(name), "acknowledgement": acknowledgement}
    if license_info.get("url"):
        license_entry["url"] = str(license_info["url"])
    return [{"license": license_entry}]


def _properties(values: list[tuple[str, Any]]) -> list[dict[str, str]]:
    """CycloneDX name/value properties; empty values are left out, order is kept."""
    return [
        {"name": name, "value": str(value)}
        for name, value in values
        if value is not None and value != ""
    ]
