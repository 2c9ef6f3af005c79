"""The output-format interface: a format renders a scan report to text."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

from provenance.report import ScanReport


class Format(ABC):
    name: ClassVar[str]
    suffix: ClassVar[str]

    @abstractmethod
    def render(self, report: ScanReport) -> str:
        """The whole report as text."""
