"""A tiny detector for testing the engine, store and CLI without loading spaCy."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from provenance.detectors.base import Detector
from provenance.detectors.pii import SUPPORTED_ENTITIES
from provenance.model import Finding, Record

EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
SSN = re.compile(r"\b\d{3}-\d{2}-\d{4}\b")


class RegexPiiDetector(Detector):
    """Finds e-mail addresses and SSN-shaped numbers with two regexes; reports as `pii`."""

    name = "pii"
    finding_types = frozenset(SUPPORTED_ENTITIES)

    def __init__(self, **options: object) -> None:
        self.options = options

    def detect_batch(self, records: Sequence[Record]) -> Iterator[Finding]:
        for record in records:
            for field in record.fields:
                for kind, pattern in (("EMAIL_ADDRESS", EMAIL), ("US_SSN", SSN)):
                    for m in pattern.finditer(field.text):
                        yield Finding(
                            record.id, record.file, record.row, "pii", kind, field.name,
                            m.start(), m.end(), 0.9, "*" * 3,
                        )  # fmt: skip
