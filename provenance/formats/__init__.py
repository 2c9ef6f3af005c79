"""Report formats, by name."""

from __future__ import annotations

from provenance.formats.base import Format
from provenance.formats.json import JsonFormat
from provenance.formats.markdown import MarkdownFormat
from provenance.formats.table import TableFormat

FORMATS: dict[str, type[Format]] = {
    "table": TableFormat,
    "json": JsonFormat,
    "markdown": MarkdownFormat,
}

__all__ = ["FORMATS", "Format"]
