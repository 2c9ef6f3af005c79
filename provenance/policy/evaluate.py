"""Applying a policy: the action of each finding, and the status of each record."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from provenance.model import Action, Finding, Status, status_for
from provenance.policy.schema import DetectorPolicy, PolicyFile


@dataclass(frozen=True)
class Policy:
    """A validated policy, with where it came from and the sha256 of its bytes."""

    rules: PolicyFile
    source: str
    sha256: str

    @property
    def name(self) -> str:
        return self.rules.name

    def detector_options(self, detector: str) -> dict[str, Any]:
        rules = self.rules.detectors.get(detector)
        return dict(rules.options) if rules else {}

    def apply(self, finding: Finding) -> Finding | None:
        """The finding with its action set, or None when it scores below the type's threshold.

        Error findings always error: the policy cannot clear what could not be read.
        """
        if finding.action is Action.ERROR:
            return finding
        rules = self.rules.detectors.get(finding.detector, DetectorPolicy())
        rule = rules.types.get(finding.type, rules.default)
        if finding.score < rule.min_score:
            return None
        return dataclasses.replace(finding, action=Action(rule.action))


def record_status(actions: Iterable[Action]) -> Status:
    return status_for(list(actions))


def reasons(findings: Iterable[Finding]) -> tuple[str, ...]:
    """The finding types that changed a record's status, sorted and unique."""
    return tuple(sorted({f.type for f in findings if f.action.severity >= Action.REDACT.severity}))
