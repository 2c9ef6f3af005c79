"""The values every layer exchanges: records, findings, verdicts and scan results.

Records carry raw text and live only in memory while a scan runs; findings, verdicts and scan
results hold locators, offsets and masked previews only, so they can be stored and reported.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any


class Status(str, Enum):
    """What the policy decided for a record, from least to most severe."""

    CLEARED = "cleared"
    REDACTED = "redacted"  # cleared once the listed spans are replaced
    BLOCKED = "blocked"
    ERROR = "error"  # could not be read or examined; never cleared


class Action(str, Enum):
    """What a finding does to its record, from least to most severe."""

    ALLOW = "allow"  # recorded as evidence, no effect (e.g. a permitted reference match)
    FLAG = "flag"  # shown to reviewers, does not change the status
    REDACT = "redact"
    BLOCK = "block"
    ERROR = "error"

    @property
    def severity(self) -> int:
        return _ACTION_ORDER.index(self)


_ACTION_ORDER = [Action.ALLOW, Action.FLAG, Action.REDACT, Action.BLOCK, Action.ERROR]


def status_for(actions: list[Action]) -> Status:
    """The status a record gets from the actions of its findings."""
    worst = max((a.severity for a in actions), default=0)
    if worst >= Action.ERROR.severity:
        return Status.ERROR
    if worst >= Action.BLOCK.severity:
        return Status.BLOCKED
    if worst >= Action.REDACT.severity:
        return Status.REDACTED
    return Status.CLEARED


@dataclass(frozen=True)
class TextField:
    """One text-bearing field of a record, named by its path (`output`, `messages[2].content`)."""

    name: str
    text: str
    role: str | None = None


@dataclass(frozen=True)
class Record:
    """One training example as read from a file.

    `row` is 0-based: the physical line for jsonl, the array index for json, the data row for
    csv/parquet, 0 for a whole-file record. `error` is set when the row could not be read; such a
    record has no fields and is never cleared.
    """

    id: str
    file: str
    row: int
    shape: str
    fields: tuple[TextField, ...] = ()
    error: str | None = None
    license: str | None = None  # a per-record license field, when the data carries one

    @property
    def text(self) -> str:
        return "\n".join(f.text for f in self.fields)


def content_id(data: Any) -> str:
    """sha256 of the canonical JSON of a record's data: the record's content id."""
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class Finding:
    """Something a detector found in a record (or a field of it).

    `start`/`end` are character offsets into `field` (None for record-level findings);
    `preview` is masked and never holds the detected value; `action` is set by the policy.
    """

    record_id: str
    file: str
    row: int
    detector: str
    type: str
    field: str | None = None
    start: int | None = None
    end: int | None = None
    score: float = 1.0
    preview: str = ""
    detail: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    action: Action = Action.FLAG

    def sort_key(self) -> tuple[Any, ...]:
        return (
            self.file,
            self.row,
            self.detector,
            self.field or "",
            self.start if self.start is not None else -1,
            self.end if self.end is not None else -1,
            self.type,
        )


@dataclass(frozen=True)
class Verdict:
    """The policy's decision for one record, with the finding types that decided it."""

    record_id: str
    file: str
    row: int
    status: Status
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class DataFile:
    """A file of the dataset as scanned: path relative to the dataset root, sha256, format."""

    path: str
    sha256: str
    format: str
    size: int
    records: int = 0
