"""The JSON scan report, schema `provenance.scan/v1`."""

from __future__ import annotations

import json

from provenance.formats.base import Format
from provenance.report import ScanReport


class JsonFormat(Format):
    name = "json"
    suffix = ".json"

    def render(self, report: ScanReport) -> str:
        return json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n"
