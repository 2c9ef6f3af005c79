"""The detector interface: a detector is mostly data plus one method.

Record-level detectors implement `detect_batch`; it runs in worker processes (or Ray actors), so
it must be pure with respect to the store and depend only on its constructor options. Whatever a
detector needs from the driver's world (the store's reference index, the dataset's card and
license files, the project manifest) it gathers once in the classmethod `prepare`, which returns
the final, picklable constructor options that every worker receives.

Detectors that need the whole corpus (near-duplicates) also get a driver-side instance: workers
return small picklable `sketch_batch` summaries (never raw text), the driver `absorb`s them in
batch order and `finish` yields the corpus-level findings.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from provenance.model import Finding, Record

if TYPE_CHECKING:
    from provenance.sources.base import Dataset
    from provenance.store import Store


@dataclass(frozen=True)
class ScanContext:
    """What `prepare` may look at, on the driver, before the scan starts."""

    dataset: Dataset
    store: Store | None = None
    project_file: Path | None = None  # provenance.yaml, when there is one


class Detector(ABC):
    name: ClassVar[str]
    version: ClassVar[str] = "1"
    finding_types: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def known_types(cls, options: dict[str, Any]) -> frozenset[str]:
        """The finding types this detector can report with these options (a policy may name no
        other: a misspelt type would silently fall back to the default action)."""
        return cls.finding_types

    @abstractmethod
    def detect_batch(self, records: Sequence[Record]) -> Iterator[Finding]:
        """Findings for these records (worker side)."""

    def describe(self) -> dict[str, Any]:
        """Versions and models, for the report's `tool.detectors`."""
        return {"version": self.version}

    @classmethod
    def prepare(cls, context: ScanContext, options: dict[str, Any]) -> dict[str, Any]:
        """Driver side, once: the constructor options every worker gets (picklable)."""
        return options

    # Corpus-level protocol; the defaults make a purely record-level detector.

    def sketch_batch(self, records: Sequence[Record]) -> list[Any]:
        """Worker side: picklable summaries of these records for `absorb`."""
        return []

    def absorb(self, sketches: list[Any]) -> None:  # noqa: B027 - optional hook
        """Driver side: take the sketches of one batch, in batch order."""

    def finish(self) -> Iterator[Finding]:
        """Driver side, after every batch: corpus-level findings."""
        return iter(())


@dataclass(frozen=True)
class DetectorSpec:
    """A detector by name with its constructor options: picklable, so workers can build it."""

    name: str
    options: dict[str, Any] = field(default_factory=dict)

    def build(self) -> Detector:
        from provenance.detectors import detector_class

        return detector_class(self.name)(**self.options)

    def prepared(self, context: ScanContext) -> DetectorSpec:
        from provenance.detectors import detector_class

        return DetectorSpec(
            self.name, detector_class(self.name).prepare(context, dict(self.options))
        )
