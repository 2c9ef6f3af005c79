"""What the CycloneDX and SPDX documents say about the data, the adapter and the base model."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from provenance.errors import InputError
from provenance.formats.cyclonedx import CycloneDxFormat
from provenance.formats.spdx import SpdxFormat
from provenance.report import ScanReport
from tests.formats.sample import DATASET


def cdx(report: ScanReport, bundle: Path | None = None) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        CycloneDxFormat(bundle=bundle, organization="Example Org" if bundle else None).render(
            report
        )
    )
    return data


def spdx(report: ScanReport, bundle: Path | None = None) -> dict[str, list[dict[str, Any]]]:
    graph = json.loads(SpdxFormat(bundle=bundle).render(report))["@graph"]
    by_type: dict[str, list[dict[str, Any]]] = {}
    for element in graph:
        by_type.setdefault(element["type"], []).append(element)
    return by_type


def props(component: dict[str, Any]) -> list[tuple[str, str]]:
    return [(p["name"], p["value"]) for p in component.get("properties", [])]


def test_cyclonedx_dataset_is_a_data_component_with_sensitive_data(report: ScanReport) -> None:
    dataset = cdx(report)["metadata"]["component"]
    assert dataset["type"] == "data"
    data = dataset["data"][0]
    assert data["type"] == "dataset"
    assert "US social security number (US_SSN): 1 found; block" in data["sensitiveData"]
    assert dataset["licenses"] == [
        {"expression": "CC-BY-4.0 AND CC-BY-NC-4.0", "acknowledgement": "declared"}
    ]
    assert ("provenance:license_unknown", "notes.csv") in props(dataset)
    files = {c["name"]: c for c in dataset["components"]}
    assert "licenses" not in files["notes.csv"]  # no license is guessed
    assert files["train.jsonl"]["hashes"][0]["alg"] == "SHA-256"


def test_cyclonedx_with_bundle_links_adapter_base_and_data(
    report: ScanReport, bundle: Path
) -> None:
    bom = cdx(report, bundle)
    adapter = bom["metadata"]["component"]
    assert adapter["type"] == "machine-learning-model"
    assert adapter["name"] == "llama2-7b-support-lora"
    assert adapter["modelCard"]["modelParameters"]["datasets"] == [{"ref": "dataset"}]
    assert adapter["pedigree"]["ancestors"][0]["purl"] == "pkg:huggingface/meta-llama/Llama-2-7b-hf"
    assert adapter["licenses"] == [
        {"expression": "LicenseRef-llama2", "acknowledgement": "declared"}
    ]
    refs = {c["bom-ref"]: c for c in bom["components"]}
    assert refs["model-base"]["type"] == "machine-learning-model"
    assert refs["dataset"]["data"][0]["governance"] == {
        "custodians": [{"organization": {"name": "Example Org"}}]
    }
    assert {"ref": "model-adapter", "dependsOn": ["dataset", "model-base"]} in bom["dependencies"]
    weights = (bundle / "adapter_model.safetensors").read_bytes()
    assert adapter["hashes"][0]["content"] == hashlib.sha256(weights).hexdigest()


def test_spdx_dataset_properties(report: ScanReport) -> None:
    graph = spdx(report)
    (dataset,) = graph["dataset_DatasetPackage"]
    assert dataset["dataset_hasSensitivePersonalInformation"] == "yes"
    assert dataset["dataset_datasetType"] == ["text"]
    assert dataset["dataset_datasetSize"] == sum(
        (DATASET / f["path"]).stat().st_size for f in report.files
    )
    assert any("EMAIL_ADDRESS" in m for m in dataset["dataset_anonymizationMethodUsed"])
    relations = {(r["from"], r["relationshipType"]): r["to"] for r in graph["Relationship"]}
    declared = relations[(dataset["spdxId"], "hasDeclaredLicense")]
    concluded = relations[(dataset["spdxId"], "hasConcludedLicense")]
    assert len(declared) == 1 and len(concluded) == 1
    assert concluded == ["expandedlicensing_NoAssertionLicense"]  # notes.csv has no license


def test_spdx_bundle_has_an_ai_package_trained_on_the_dataset(
    report: ScanReport, bundle: Path
) -> None:
    graph = spdx(report, bundle)
    packages = {p["name"]: p for p in graph["ai_AIPackage"]}
    adapter = packages["llama2-7b-support-lora"]
    base = packages["meta-llama/Llama-2-7b-hf"]
    assert adapter["software_primaryPurpose"] == "model"
    assert adapter["ai_useSensitivePersonalInformation"] == "yes"  # flagged names stay in
    assert {"type": "DictionaryEntry", "key": "r", "value": "16"} in adapter["ai_hyperparameter"]
    (dataset,) = graph["dataset_DatasetPackage"]
    kinds: dict[str, list[tuple[str, list[str]]]] = {}
    for r in graph["Relationship"]:
        kinds.setdefault(r["relationshipType"], []).append((r["from"], r["to"]))
    assert (adapter["spdxId"], [dataset["spdxId"]]) in kinds["trainedOn"]
    assert (adapter["spdxId"], [base["spdxId"]]) in kinds["descendantOf"]
    for package in (adapter, base, dataset):
        for kind in ("hasDeclaredLicense", "hasConcludedLicense"):
            assert [f for f, _ in kinds[kind]].count(package["spdxId"]) == 1


def test_no_personal_data_assertion_without_the_pii_detector(report: ScanReport) -> None:
    tool = {**report.scan.tool, "detectors": {"duplicate": {}}}
    others = [f for f in report.findings if f.detector != "pii"]
    summary = {
        **report.summary,
        "findings_by_detector": {
            k: v for k, v in report.summary["findings_by_detector"].items() if k != "pii"
        },
    }
    bare = replace(report, scan=replace(report.scan, tool=tool), findings=others, summary=summary)
    (dataset,) = spdx(bare)["dataset_DatasetPackage"]
    assert dataset["dataset_hasSensitivePersonalInformation"] == "noAssertion"
    assert cdx(bare)["metadata"]["component"]["data"][0]["classification"] == (
        "personal data not assessed"
    )


def test_a_folder_that_is_not_a_bundle_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a release bundle"):
        CycloneDxFormat(bundle=tmp_path)
