"""The policy: loading, validation errors that name file and field, and actions per finding."""

from __future__ import annotations

from pathlib import Path

import pytest

from provenance.errors import RuleError
from provenance.model import Action, Finding, Status, status_for
from provenance.policy import load_policy


def finding(kind: str, score: float = 0.9, detector: str = "pii") -> Finding:
    return Finding("id", "f.jsonl", 0, detector, kind, "text", 0, 4, score, "x***")


def test_default_policy_loads_and_is_hashed() -> None:
    policy = load_policy()
    assert policy.name == "default"
    assert policy.source == "builtin:policy/default.yaml"
    assert len(policy.sha256) == 64


@pytest.mark.parametrize(
    ("kind", "score", "action"),
    [
        ("US_SSN", 0.9, Action.BLOCK),
        ("CREDIT_CARD", 0.9, Action.BLOCK),
        ("SECRET", 0.9, Action.BLOCK),
        ("EMAIL_ADDRESS", 0.9, Action.REDACT),
        ("STREET_ADDRESS", 0.9, Action.REDACT),
        ("PERSON", 0.9, Action.FLAG),
        ("DATE_TIME", 0.9, Action.FLAG),
        ("SOMETHING_NEW", 0.9, Action.FLAG),  # unlisted types use the detector's default
        ("US_SSN", 0.3, None),  # below min_score: dropped
    ],
)
def test_default_actions(kind: str, score: float, action: Action | None) -> None:
    applied = load_policy().apply(finding(kind, score))
    assert (applied.action if applied else None) == action


def test_error_findings_always_error() -> None:
    error = Finding("id", "f", 0, "source", "INVALID_JSON", action=Action.ERROR)
    applied = load_policy().apply(error)
    assert applied is not None and applied.action is Action.ERROR


@pytest.mark.parametrize(
    ("actions", "status"),
    [
        ([], Status.CLEARED),
        ([Action.FLAG, Action.ALLOW], Status.CLEARED),
        ([Action.FLAG, Action.REDACT], Status.REDACTED),
        ([Action.REDACT, Action.BLOCK], Status.BLOCKED),
        ([Action.BLOCK, Action.ERROR], Status.ERROR),
    ],
)
def test_record_status_is_the_worst_action(actions: list[Action], status: Status) -> None:
    assert status_for(actions) == status


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "schema: provenance.policy/v1\nname: x\ndetectors:\n  pii:\n    typess: {}\n",
            "detectors.pii.typess: unknown field (check the spelling)",
        ),
        (
            "schema: provenance.policy/v1\nname: x\ndetectors:\n  pii:\n    types:\n"
            "      US_SSN: {action: blok}\n",
            "detectors.pii.types.US_SSN.action: "
            "Input should be 'allow', 'flag', 'redact' or 'block'",
        ),
        (
            "schema: provenance.policy/v1\nname: x\ndetectors:\n  pii:\n    types:\n"
            "      US_SSN: {action: block, min_score: 1.5}\n",
            "detectors.pii.types.US_SSN.min_score: Input should be less than or equal to 1",
        ),
        ("schema: provenance.policy/v1\ndetectors: {}\n", "name: required field is missing"),
        ("schema: provenance.policy/v1\nname: [unclosed\n", "invalid YAML"),
    ],
)
def test_policy_errors_name_the_file_and_field(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RuleError) as error:
        load_policy(path)
    assert str(error.value).startswith(str(path))
    assert message in str(error.value)


def test_missing_policy_file(tmp_path: Path) -> None:
    with pytest.raises(RuleError, match=r"^cannot read policy .*nope\.yaml: No such file"):
        load_policy(tmp_path / "nope.yaml")


def test_shorthand_action(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        "schema: provenance.policy/v1\nname: strict\ndetectors:\n  pii:\n"
        "    default: {action: block}\n    types: {PERSON: redact}\n",
        encoding="utf-8",
    )
    policy = load_policy(path)
    assert policy.apply(finding("PERSON")).action is Action.REDACT  # type: ignore[union-attr]
    assert policy.apply(finding("URL")).action is Action.BLOCK  # type: ignore[union-attr]
