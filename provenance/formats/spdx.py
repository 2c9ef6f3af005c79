"""SPDX 3.0.1 JSON-LD with the Dataset profile and, given a release bundle, the AI profile.

The scanned data is a `dataset_DatasetPackage` (`datasetSize` in bytes, `datasetType` text,
`hasSensitivePersonalInformation` from the PII detector, the anonymisation the policy applies)
with its files as `software_File`s carrying their sha256. With a bundle the adapter is an
`ai_AIPackage` that was `trainedOn` the dataset and is a `descendantOf` its base model (another
`ai_AIPackage`), and contains the bundle's files. Every package has exactly one declared and one
concluded license relationship, as the AI and Dataset profiles require; a license the scan could
not settle is `NoAssertionLicense`, never a guess.

Where the model requires a value nobody recorded — when a dataset was built or released — the
time of the audit is given, and a `comment` says so. Ids are IRIs under a namespace derived from
the scan id, so the same scan renders the same document.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from provenance.formats.base import Format
from provenance.formats.facts import (
    Bundle,
    anonymization_methods,
    dataset_name,
    file_expression,
    file_licenses,
    hub_url,
    license_facts,
    personal_data,
    read_bundle,
    trained_personal_data,
    utc_z,
    verdict,
)
from provenance.report import ScanReport

CONTEXT = "https://spdx.org/rdf/3.0.1/spdx-context.jsonld"
CREATION = "_:creationinfo"
NO_ASSERTION_LICENSE = "expandedlicensing_NoAssertionLicense"
NAMESPACE = uuid.UUID("0f3a3c62-2d6f-4d0e-8f0a-5a7c8d1e9b44")


class SpdxFormat(Format):
    name = "spdx"
    suffix = ".spdx3.json"

    def __init__(self, *, bundle: str | Path | None = None, organization: str | None = None):
        self.bundle = read_bundle(bundle) if bundle is not None else None
        self.organization = organization

    def render(self, report: ScanReport) -> str:
        document = spdx_document(report, self.bundle, organization=self.organization)
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


class _Graph:
    """The flat @graph being built: elements in order, ids under one namespace."""

    def __init__(self, namespace: str) -> None:
        self.namespace = namespace
        self.elements: list[dict[str, Any]] = []
        self.relationships = 0

    def iri(self, kind: str, local: str) -> str:
        return f"{self.namespace}{kind}/{_slug(local)}"

    def add(self, kind: str, local: str, **properties: Any) -> str:
        spdx_id = self.iri(kind.split("_")[-1], local)
        element = {"type": kind, "spdxId": spdx_id, "creationInfo": CREATION}
        element.update({k: v for k, v in properties.items() if v not in (None, [], "")})
        self.elements.append(element)
        return spdx_id

    def relate(self, source: str, relationship: str, targets: Iterable[str]) -> None:
        to = list(targets)
        if not to:
            return
        self.relationships += 1
        self.add(
            "Relationship",
            f"{self.relationships}-{relationship}",
            relationshipType=relationship,
            **{"from": source, "to": to},
        )

    def license(self, expression: str | None) -> str:
        """The element for a license expression (shared), or NoAssertionLicense when unknown."""
        if not expression:
            return NO_ASSERTION_LICENSE
        spdx_id = self.iri("LicenseExpression", expression)
        if not any(e["spdxId"] == spdx_id for e in self.elements):
            self.add(
                "simplelicensing_LicenseExpression",
                expression,
                simplelicensing_licenseExpression=expression,
            )
        return spdx_id


def spdx_document(
    report: ScanReport, bundle: Bundle | None = None, *, organization: str | None = None
) -> dict[str, Any]:
    scan = report.scan
    key = "".join(f.sha256 for f in bundle.files) if bundle else ""
    serial = uuid.uuid5(NAMESPACE, f"{scan.scan_id}:{key}")
    graph = _Graph(f"https://spdx.org/spdxdocs/provenance-{serial}/")
    audited = utc_z(scan.created_at)
    tool = graph.add("Tool", "provenance", name=f"provenance {scan.tool.get('version', '')}")
    if organization:
        agent = graph.add("Organization", organization, name=organization)
    else:
        agent = graph.add("SoftwareAgent", "provenance", name="provenance")

    dataset = _dataset(graph, report, audited, organization and agent)
    subject = dataset
    profiles = ["core", "software", "simpleLicensing", "dataset"]
    if bundle is not None:
        subject = _models(graph, report, bundle, dataset, audited, organization and agent)
        profiles.insert(3, "ai")

    members = [e["spdxId"] for e in graph.elements]
    sbom = graph.add(
        "software_Sbom",
        "sbom",
        name=f"Data audit of {dataset_name(report)}",
        software_sbomType=["analyzed"],
        profileConformance=profiles,
        rootElement=[subject],
        element=members,
    )
    graph.add(
        "SpdxDocument",
        "document",
        name=f"provenance audit {scan.scan_id}",
        comment=f"Audit verdict: {verdict(report)} (scan {scan.scan_id}).",
        profileConformance=profiles,
        rootElement=[sbom],
    )
    creation = {
        "type": "CreationInfo",
        "@id": CREATION,
        "specVersion": "3.0.1",
        "created": audited,
        "createdBy": [agent],
        "createdUsing": [tool],
    }
    return {"@context": CONTEXT, "@graph": [creation, *graph.elements]}


def _dataset(graph: _Graph, report: ScanReport, audited: str, originator: str | None) -> str:
    scan, summary = report.scan, report.summary
    licenses = license_facts(report)
    usage = scan.usage or {}
    size = _dataset_size(report)
    hub = hub_url(scan.source, dataset=True) if scan.root is None else None
    # Who the data came from: the hub namespace that publishes it, else the organization that
    # assembled it for training (--organization); left out when neither is known.
    origin = _hub_owner(graph, scan.source) if hub else originator
    excluded = []
    if summary["blocked"]:
        excluded.append(f"{summary['blocked']} blocked records are left out of training")
    if summary["errors"]:
        excluded.append(f"{summary['errors']} unreadable records are left out of training")
    dataset = graph.add(
        "dataset_DatasetPackage",
        "dataset",
        name=dataset_name(report),
        comment=(
            f"Audited by provenance scan {scan.scan_id} ({scan.status}): {summary['records']} "
            f"records, {summary['cleared']} cleared, {summary['redacted']} redacted, "
            f"{summary['blocked']} blocked, {summary['errors']} unreadable. builtTime and "
            "releaseTime are the time of the audit: the data does not record them."
        ),
        builtTime=audited,
        releaseTime=audited,
        originatedBy=[origin] if origin else None,
        software_downloadLocation=hub,
        software_primaryPurpose="data",
        dataset_datasetType=["text"],
        dataset_datasetSize=size,
        dataset_hasSensitivePersonalInformation=personal_data(report),
        dataset_anonymizationMethodUsed=anonymization_methods(report),
        dataset_dataPreprocessing=excluded,
        dataset_dataCollectionProcess=_collection(usage),
        dataset_intendedUse=_intended_use(usage),
    )
    by_file = file_licenses(report)
    files = []
    for f in report.files:
        file_id = graph.add(
            "software_File",
            f"data/{f['path']}",
            name=f["path"],
            software_primaryPurpose="data",
            verifiedUsing=[{"type": "Hash", "algorithm": "sha256", "hashValue": f["sha256"]}],
        )
        files.append(file_id)
        expression = file_expression(by_file.get(f["path"], []))
        if expression:
            graph.relate(file_id, "hasConcludedLicense", [graph.license(expression)])
    graph.relate(dataset, "hasDataFile", files)
    graph.relate(dataset, "hasDeclaredLicense", [graph.license(licenses.expression)])
    concluded = licenses.expression if licenses.settled else None
    graph.relate(dataset, "hasConcludedLicense", [graph.license(concluded)])
    return dataset


def _models(
    graph: _Graph,
    report: ScanReport,
    bundle: Bundle,
    dataset: str,
    audited: str,
    supplier: str | None,
) -> str:
    adapter_file = bundle.adapter
    base_id = bundle.base_model
    base_license = bundle.base_license
    version = f"sha256:{adapter_file.sha256[:12]}" if adapter_file else None
    released = str(bundle.manifest.get("created_at") or "") or audited
    summary = report.summary
    training = (
        f"{bundle.adapter_config.get('peft_type', 'adapter')} fine-tuning"
        + (f" of {base_id}" if base_id else "")
        + f" on records cleared by provenance scan {report.scan.scan_id} "
        f"({summary['cleared']} cleared, {summary['redacted']} redacted before training, "
        f"{summary['blocked']} blocked and {summary['errors']} unreadable left out)."
    )
    adapter = graph.add(
        "ai_AIPackage",
        "adapter",
        name=bundle.name,
        software_packageVersion=version,
        software_primaryPurpose="model",
        releaseTime=_timestamp(released, audited),
        suppliedBy=supplier,
        verifiedUsing=(
            [{"type": "Hash", "algorithm": "sha256", "hashValue": adapter_file.sha256}]
            if adapter_file
            else None
        ),
        ai_typeOfModel=[f"{bundle.adapter_config.get('peft_type', 'adapter')} adapter (peft)"],
        ai_informationAboutTraining=training,
        ai_hyperparameter=[
            {"type": "DictionaryEntry", "key": k, "value": v}
            for k, v in bundle.hyperparameters.items()
        ],
        ai_modelDataPreprocessing=anonymization_methods(report),
        ai_useSensitivePersonalInformation=trained_personal_data(report),
    )
    files = [
        graph.add(
            "software_File",
            f"bundle/{f.path}",
            name=f.path,
            verifiedUsing=[{"type": "Hash", "algorithm": "sha256", "hashValue": f.sha256}],
        )
        for f in bundle.files
    ]
    by_name = {f.path: spdx_id for f, spdx_id in zip(bundle.files, files, strict=True)}
    graph.relate(adapter, "trainedOn", [dataset])
    graph.relate(adapter, "contains", files)
    graph.relate(
        adapter,
        "hasDocumentation",
        [by_name[n] for n in ("README.md", "DATASHEET.md") if n in by_name],
    )
    graph.relate(
        adapter,
        "hasEvidence",
        [by_name[n] for n in ("audit-report.json", "provenance.json") if n in by_name],
    )
    license_id = graph.license(base_license.get("spdx"))
    graph.relate(adapter, "hasDeclaredLicense", [license_id])
    graph.relate(adapter, "hasConcludedLicense", [license_id])
    if base_id:
        base = graph.add(
            "ai_AIPackage",
            "base-model",
            name=base_id,
            software_downloadLocation=hub_url(base_id),
            software_packageVersion=_revision(bundle),
            software_primaryPurpose="model",
        )
        graph.relate(adapter, "descendantOf", [base])
        graph.relate(base, "hasDeclaredLicense", [license_id])
        graph.relate(base, "hasConcludedLicense", [license_id])
    return adapter


def _timestamp(value: str, fallback: str) -> str:
    """A timestamp from a manifest as `...Z`, or the fallback when it cannot be read."""
    try:
        return utc_z(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        return fallback


def _revision(bundle: Bundle) -> str | None:
    base = bundle.manifest.get("base_model")
    if isinstance(base, dict):
        revision = base.get("revision") or base.get("sha")
        return str(revision) if revision else None
    return None


def _hub_owner(graph: _Graph, source: str) -> str | None:
    owner = source.split("/", 1)[0]
    return graph.add("Organization", f"hub-{owner}", name=owner) if owner else None


def _dataset_size(report: ScanReport) -> int | None:
    """Bytes of all data files: from the report when it has sizes, else from the files on disk;
    None (left out) when any size is unknown rather than a wrong total.
    """
    total = 0
    root = Path(report.scan.root) if report.scan.root else None
    for f in report.files:
        size = f.get("size")
        if size is None and root is not None and (root / f["path"]).is_file():
            size = (root / f["path"]).stat().st_size
        if size is None:
            return None
        total += int(size)
    return total


def _collection(usage: dict[str, Any]) -> str | None:
    sources = usage.get("sources") or {}
    parts = []
    for glob, entry in sorted(sources.items()):
        if not isinstance(entry, dict):
            continue
        said = [
            f"{key.replace('_', ' ')}: {entry[key]}"
            for key in ("origin", "derived_from", "generated_by")
            if entry.get(key)
        ]
        if said:
            parts.append(f"{glob}: " + "; ".join(said))
    return " | ".join(parts) or None


def _intended_use(usage: dict[str, Any]) -> str | None:
    use_cases = usage.get("use_cases")
    if not use_cases:
        return None
    commercial = usage.get("commercial")
    kind = "" if commercial is None else ("commercial" if commercial else "non-commercial")
    return f"Fine-tuning for {', '.join(map(str, use_cases))}" + (f" ({kind})" if kind else "")


def _slug(text: str) -> str:
    """An IRI path segment: letters, digits and `-._~`; everything else percent-encoded."""
    return quote(text, safe="-._~/")
