"""SARIF, CycloneDX and SPDX output validate against the official JSON schemas (tests/schemas)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator, Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from provenance.formats import FORMATS
from provenance.report import ScanReport

SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SCHEMAS / name).read_text(encoding="utf-8"))
    return data


@cache
def sarif_validator() -> Draft7Validator:
    return Draft7Validator(_load("sarif-schema-2.1.0.json"))


@cache
def cyclonedx_validator() -> Draft7Validator:
    # bom-1.6 refers to the SPDX license list and JSF schemas by relative $ref.
    resources = [
        (_load(n)["$id"], Resource.from_contents(_load(n), default_specification=DRAFT7))
        for n in ("spdx.schema.json", "jsf-0.82.schema.json", "bom-1.6.schema.json")
    ]
    return Draft7Validator(
        _load("bom-1.6.schema.json"), registry=Registry().with_resources(resources)
    )


@cache
def spdx_schema() -> dict[str, Any]:
    return _load("spdx-3.0.1.schema.json")


def spdx_element_errors(document: dict[str, Any]) -> list[str]:
    """Each @graph element against its class in the official schema: what the document-level
    schema checks for it, several times faster (that one tries every class on every element).
    """
    schema = spdx_schema()
    errors = []
    for element in document["@graph"]:
        one = {
            "$schema": schema["$schema"],
            "$defs": schema["$defs"],
            "type": "object",
            "$ref": f"#/$defs/{element['type']}",
            "unevaluatedProperties": False,
        }
        errors += [e.message for e in Draft202012Validator(one).iter_errors(element)]
    return errors


def render(fmt: str, report: ScanReport, bundle: Path | None = None) -> dict[str, Any]:
    options = {"bundle": bundle, "organization": "Example Org"} if bundle else {}
    data: dict[str, Any] = json.loads(FORMATS[fmt](**options).render(report))
    return data


def messages(validator: Any, document: Any) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]


def test_sarif_validates(report: ScanReport) -> None:
    assert messages(sarif_validator(), render("sarif", report)) == []


def test_cyclonedx_validates(report: ScanReport, bundle: Path) -> None:
    assert messages(cyclonedx_validator(), render("cyclonedx", report)) == []
    assert messages(cyclonedx_validator(), render("cyclonedx", report, bundle)) == []


def test_spdx_validates(report: ScanReport, bundle: Path) -> None:
    for document in (render("spdx", report), render("spdx", report, bundle)):
        assert document["@context"] == "https://spdx.org/rdf/3.0.1/spdx-context.jsonld"
        assert spdx_element_errors(document) == []


def test_spdx_document_level_schema(report: ScanReport, bundle: Path) -> None:
    # The document schema checks the wrapper and then each @graph element against every class
    # (slow: seconds per element); every element was checked against its class above, so one
    # element of each class is enough here.
    document = render("spdx", report, bundle)
    one_of_each = list({element["type"]: element for element in document["@graph"]}.values())
    validator = Draft202012Validator(spdx_schema())
    assert messages(validator, {**document, "@graph": one_of_each}) == []


def test_the_validators_do_reject_broken_documents(report: ScanReport) -> None:
    # A schema that accepts anything would make the tests above worthless.
    sarif = render("sarif", report)
    sarif["runs"][0]["results"][0]["level"] = "critical"
    assert messages(sarif_validator(), sarif)
    bom = render("cyclonedx", report)
    bom["metadata"]["component"]["type"] = "ml-model"
    assert messages(cyclonedx_validator(), bom)
    spdx = render("spdx", report)
    dataset = next(e for e in spdx["@graph"] if e["type"] == "dataset_DatasetPackage")
    dataset["dataset_datasetSize"] = "18MB"
    assert spdx_element_errors(spdx)
