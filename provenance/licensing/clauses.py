"""Evaluating clause conditions against usage facts, with three-valued logic.

A condition is true, false or unknown; it is unknown when it depends on a fact that was not
declared and the other parts do not settle it (`any` with one true part is true whatever the
rest; `all` with one false part is false). A clause takes the verdict of its first outcome whose
condition is true; when a condition is unknown before any is true, the clause is `review` and
says which facts it needs — a missing fact never passes a clause.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from provenance.licensing.schema import DERIVED_FACTS, Clause, Condition, ObligationSpec

Facts = Mapping[str, Any]


@dataclass(frozen=True)
class ClauseResult:
    """One clause's verdict with the facts that decided it."""

    id: str
    section: str
    verdict: str
    quote: str
    facts: dict[str, Any]
    message: str
    obligation: ObligationSpec | None = None
    missing: tuple[str, ...] = field(default=())


def holds(condition: Condition, facts: Facts) -> bool | None:
    """True, False, or None when undeclared facts leave it open."""
    if condition.all_ is not None:
        results = [holds(c, facts) for c in condition.all_]
        if False in results:
            return False
        return None if None in results else True
    if condition.any_ is not None:
        results = [holds(c, facts) for c in condition.any_]
        if True in results:
            return True
        return None if None in results else False
    if condition.not_ is not None:
        inner = holds(condition.not_, facts)
        return None if inner is None else not inner
    assert condition.fact is not None and condition.op is not None  # guaranteed by the schema
    actual = facts.get(condition.fact)
    if condition.op == "present":
        return actual is not None
    if actual is None:
        return None
    return _compare(condition.op, actual, condition.value)


def _compare(op: str, actual: Any, expected: Any) -> bool:
    if op == "eq":
        return bool(actual == expected)
    if op == "ne":
        return bool(actual != expected)
    if op == "gt":
        return bool(actual > expected)
    if op == "ge":
        return bool(actual >= expected)
    if op == "lt":
        return bool(actual < expected)
    if op == "le":
        return bool(actual <= expected)
    if op == "in":
        return actual in expected
    if op == "not_in":
        return actual not in expected
    if op == "contains_any":
        return bool(set(actual) & set(expected))
    if op == "matches":
        return re.search(expected, str(actual)) is not None
    raise ValueError(f"unknown op {op}")  # unreachable: the schema restricts op


def missing_facts(condition: Condition, facts: Facts) -> list[str]:
    """The undeclared facts a condition names, in name order."""
    return sorted(name for name in condition.facts() if facts.get(name) is None)


def evaluate(clause: Clause, facts: Facts) -> ClauseResult:
    """The clause's verdict for these facts."""
    shown = {name: facts.get(name) for name in clause.facts}
    for outcome in clause.outcomes:
        result = True if outcome.when is None else holds(outcome.when, facts)
        if result is None:
            assert outcome.when is not None
            missing = missing_facts(outcome.when, facts)
            declared = [m for m in missing if m not in DERIVED_FACTS]
            unknown = [m for m in missing if m in DERIVED_FACTS]
            reasons = []
            if declared:
                reasons.append(f"needs {', '.join(declared)} (not in the usage declaration)")
            if unknown:
                reasons.append(f"{', '.join(unknown)} is not known")
            message = f"{'; '.join(reasons)}; until then it cannot be decided whether: "
            message += outcome.message
            return ClauseResult(
                clause.id,
                clause.section,
                "review",
                clause.quote,
                shown,
                message,
                missing=tuple(missing),
            )
        if result:
            obligation = clause.obligation if outcome.verdict == "obligation" else None
            return ClauseResult(
                clause.id,
                clause.section,
                outcome.verdict,
                clause.quote,
                shown,
                outcome.message,
                obligation,
            )
    raise AssertionError("the schema guarantees an unconditional last outcome")
