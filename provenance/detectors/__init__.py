"""The built-in detectors, by name. Imported lazily: presidio and spaCy load only when used."""

from __future__ import annotations

from importlib import import_module

from provenance.detectors.base import Detector, DetectorSpec, ScanContext

# name -> "module:Class"; the one place a detector is registered.
BUILTIN: dict[str, str] = {
    "pii": "provenance.detectors.pii:PiiDetector",
    "reference": "provenance.detectors.reference:ReferenceDetector",
    "duplicate": "provenance.detectors.duplicate:DuplicateDetector",
    "license": "provenance.detectors.license:LicenseDetector",
}
DEFAULT_DETECTORS = ("pii", "reference", "duplicate", "license")


def detector_class(name: str) -> type[Detector]:
    module, _, attr = BUILTIN[name].partition(":")
    cls: type[Detector] = getattr(import_module(module), attr)
    return cls


__all__ = [
    "BUILTIN",
    "DEFAULT_DETECTORS",
    "Detector",
    "DetectorSpec",
    "ScanContext",
    "detector_class",
]
