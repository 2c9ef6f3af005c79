"""Report formats, by name."""

from __future__ import annotations

from provenance.formats.base import Format
from provenance.formats.cyclonedx import CycloneDxFormat
from provenance.formats.html import HtmlFormat
from provenance.formats.json import JsonFormat
from provenance.formats.markdown import MarkdownFormat
from provenance.formats.sarif import SarifFormat
from provenance.formats.spdx import SpdxFormat
from provenance.formats.table import TableFormat

FORMATS: dict[str, type[Format]] = {
    "table": TableFormat,
    "json": JsonFormat,
    "markdown": MarkdownFormat,
    "html": HtmlFormat,
    "sarif": SarifFormat,
    "cyclonedx": CycloneDxFormat,
    "spdx": SpdxFormat,
}

__all__ = ["FORMATS", "Format"]
