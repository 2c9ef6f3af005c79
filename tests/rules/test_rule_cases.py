"""Every clause of every license rule file, run against its usage cases (tests/rules/*.yaml).

Each case file names a rule, and each case gives usage facts (the rest undeclared) and the
verdict each listed clause must give. Besides running the cases, this checks that every clause
has cases for every verdict it can give, and that every Acceptable Use Policy item is reachable
from a use-case tag.
"""

from __future__ import annotations

import fnmatch
from pathlib import Path
from typing import Any

import pytest
import yaml

from provenance.licensing.clauses import evaluate
from provenance.licensing.schema import LicenseRule, load_rules

CASES_DIR = Path(__file__).parent
RULES = load_rules()


def _case_files() -> list[Path]:
    return sorted(CASES_DIR.glob("*.yaml"))


def _cases() -> list[tuple[str, int, dict[str, Any]]]:
    found = []
    for path in _case_files():
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for i, case in enumerate(data["cases"]):
            found.append((data["license"], i, case))
    return found


CASES = _cases()


def run_case(rule: LicenseRule, case: dict[str, Any]) -> dict[str, str]:
    scope = case.get("scope", "model")
    facts = dict(case.get("usage") or {})
    return {c.id: evaluate(c, facts).verdict for c in rule.clauses if scope in c.scope}


def expected(rule: LicenseRule, case: dict[str, Any]) -> dict[str, str]:
    wanted = dict(case.get("expect") or {})
    for pattern, verdict in (case.get("expect_all") or {}).items():
        matched = [c.id for c in rule.clauses if fnmatch.fnmatchcase(c.id, pattern)]
        assert matched, f"expect_all pattern {pattern!r} matches no clause"
        for clause_id in matched:
            wanted.setdefault(clause_id, verdict)
    return wanted


@pytest.mark.parametrize(
    ("license_id", "case"),
    [(lid, case) for lid, _, case in CASES],
    ids=[f"{lid}:{i}:{case['name'][:50]}" for lid, i, case in CASES],
)
def test_case(license_id: str, case: dict[str, Any]) -> None:
    rule = RULES.licenses[license_id]
    got = run_case(rule, case)
    wanted = expected(rule, case)
    unknown = sorted(set(wanted) - set(got))
    assert not unknown, f"clauses not in {license_id} (or not in this scope): {unknown}"
    assert {k: got[k] for k in wanted} == wanted


def test_every_rule_file_has_a_case_file() -> None:
    assert {p.stem for p in _case_files()} == set(RULES.licenses)


@pytest.mark.parametrize("license_id", sorted(RULES.licenses))
def test_every_clause_has_cases_for_every_verdict_it_can_give(license_id: str) -> None:
    """Each outcome's verdict, and `review` for a clause that needs facts, appears in a case."""
    rule = RULES.licenses[license_id]
    seen: dict[str, set[str]] = {c.id: set() for c in rule.clauses}
    for lid, _, case in CASES:
        if lid != license_id:
            continue
        got = run_case(rule, case)
        for clause_id, verdict in expected(rule, case).items():
            if got.get(clause_id) == verdict:
                seen[clause_id].add(verdict)
    # AUP items: each tag is a case of its own (test_every_tag_reaches_its_verdict)
    for clause_id, _, tags in _tag_outcomes(rule):
        clause = next(c for c in rule.clauses if c.id == clause_id)
        seen[clause_id] |= {evaluate(clause, {"use_cases": [t]}).verdict for t in tags}
    missing = {}
    for clause in rule.clauses:
        possible = {o.verdict for o in clause.outcomes}
        if clause.facts:
            possible.add("review")
        if possible - seen[clause.id]:
            missing[clause.id] = sorted(possible - seen[clause.id])
    assert missing == {}


def _tag_outcomes(rule: LicenseRule) -> list[tuple[str, str, list[str]]]:
    """(clause id, verdict, tags) for each outcome decided by `use_cases contains_any`."""
    found = []
    for clause in rule.clauses:
        for outcome in clause.outcomes:
            when = outcome.when
            if when is not None and when.fact == "use_cases" and when.op == "contains_any":
                found.append((clause.id, outcome.verdict, list(when.value)))
    return found


@pytest.mark.parametrize("license_id", sorted(RULES.licenses))
def test_every_tag_reaches_its_verdict(license_id: str) -> None:
    """A single declared tag gives the verdict its first matching outcome names."""
    rule = RULES.licenses[license_id]
    clauses = {c.id: c for c in rule.clauses}
    for clause_id, _, tags in _tag_outcomes(rule):
        for tag in tags:
            result = evaluate(clauses[clause_id], {"use_cases": [tag]})
            earlier = [v for cid, v, ts in _tag_outcomes(rule) if cid == clause_id and tag in ts]
            assert result.verdict == earlier[0], (clause_id, tag)


@pytest.mark.parametrize("license_id", sorted(RULES.licenses))
def test_every_acceptable_use_item_is_reachable_from_a_tag(license_id: str) -> None:
    rule = RULES.licenses[license_id]
    items = [c for c in rule.clauses if c.id.startswith(("aup-", "pup-", "att-"))]
    for clause in items:
        assert clause.tags(), f"{clause.id} has no use-case tag"
        verdicts = {evaluate(clause, {"use_cases": [t]}).verdict for t in clause.tags()}
        assert verdicts & {"fail", "review"}, clause.id


def test_llama_aup_items_are_all_there() -> None:
    """Llama 2/3/3.1: 25 AUP items; 3.2/3.3 add 1.h and 5 (27)."""
    counts = {
        lid: sum(c.id.startswith("aup-") for c in RULES.licenses[lid].clauses)
        for lid in ("llama2", "llama3", "llama3.1", "llama3.2", "llama3.3")
    }
    assert counts == {"llama2": 25, "llama3": 25, "llama3.1": 25, "llama3.2": 27, "llama3.3": 27}


def test_every_prohibited_tag_is_used_by_some_clause() -> None:
    used = set().union(*(c.tags() for r in RULES.licenses.values() for c in r.clauses))
    prohibited = {t for t, d in RULES.vocabulary.tags.items() if d.kind == "prohibited"}
    assert prohibited - used == set()


@pytest.mark.parametrize("license_id", [r for r in sorted(RULES.licenses) if r.startswith("llama")])
def test_llama_quotes_are_verbatim(license_id: str) -> None:
    """Every quote appears in the vendored license or use-policy text (whitespace folded)."""
    import re

    stem = license_id.replace(".", "_")
    texts = " ".join(
        RULES.text_path(f"{stem}.{suffix}").read_text(encoding="utf-8")
        for suffix in ("LICENSE.txt", "USE_POLICY.md")
    )
    texts = re.sub(r"(?<=\w)-[ \t]*\n\s*", "-", texts.replace("\\_", "_").replace("**", ""))
    folded = " ".join(texts.split())
    for clause in RULES.licenses[license_id].clauses:
        assert " ".join(clause.quote.split()) in folded, clause.id
