"""The usage declaration: loading, errors naming the file and field, the template, globs."""

from __future__ import annotations

from pathlib import Path

import pytest

from provenance.errors import InputError
from provenance.licensing.usage import (
    TEMPLATE,
    USAGE_FACTS,
    glob_matches,
    load_usage,
    parse_usage,
    write_template,
)


def test_full_declaration() -> None:
    usage = parse_usage(
        b"""
base_model: meta-llama/Llama-2-7b-hf
usage:
  commercial: true
  monthly_active_users: 1200
  distributes_model: false
  hosted_service: true
  integrated_end_user_product: false
  use_cases: [customer_support]
  outputs_train_other_model: false
  other_model: null
  eu_domiciled: true
  model_name: Llama-Acme
sources:
  "data/*.jsonl": {license: CC-BY-4.0, origin: "https://example.org", generated_by: openai/gpt-4}
references: {books: ./refs}  # another command's section: ignored here
""",
        "provenance.yaml",
    )
    facts = usage.fact_values()
    assert facts["commercial"] is True and facts["monthly_active_users"] == 1200
    assert facts["use_cases"] == ["customer_support"] and facts["base_model"].endswith("7b-hf")
    assert usage.sources[0].generated_by == ("openai/gpt-4",)
    assert set(usage.to_dict()) == {"base_model", *USAGE_FACTS, "sources"}


@pytest.mark.parametrize(
    ("text", "first_line"),
    [
        (
            b"usage:\n  commercial: yes please\n",
            "provenance.yaml: usage.commercial: Input should be a valid boolean",
        ),
        (
            b"usage:\n  comercial: true\n",
            "provenance.yaml: usage.comercial: unknown field (check the spelling)",
        ),
        (
            b"usage:\n  monthly_active_users: -1\n",
            "provenance.yaml: usage.monthly_active_users: Input should be greater than or equal",
        ),
        (
            b"usage:\n  use_cases: [weapon]\n",
            "provenance.yaml: usage.use_cases.0: unknown use-case tag 'weapon' "
            "(did you mean 'weapons'?)",
        ),
        (
            b"sources:\n  '*.jsonl': {licence: MIT}\n",
            "provenance.yaml: sources.*.jsonl.licence: unknown field (check the spelling)",
        ),
        (b"usage: [1, 2\n", "provenance.yaml: line 2: invalid YAML"),
        (b"- a list\n", "provenance.yaml: (top level): must be a mapping of sections"),
    ],
)
def test_errors_name_the_file_and_field(text: bytes, first_line: str) -> None:
    with pytest.raises(InputError) as error:
        parse_usage(text, "provenance.yaml")
    assert str(error.value).startswith(first_line)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"cannot read usage declaration .*nope\.yaml"):
        load_usage(tmp_path / "nope.yaml")


def test_template_declares_every_fact_as_undeclared(tmp_path: Path) -> None:
    path = write_template(tmp_path)
    usage = load_usage(path)
    assert all(v is None for v in usage.fact_values().values())
    for fact in USAGE_FACTS:
        assert f"  {fact}: null" in TEMPLATE
    with pytest.raises(InputError, match="already exists"):
        write_template(tmp_path)
    write_template(tmp_path, force=True)


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("*.jsonl", "a.jsonl", True),
        ("*.jsonl", "sub/a.jsonl", True),  # no slash: any depth
        ("data/*.jsonl", "data/a.jsonl", True),
        ("data/*.jsonl", "data/x/a.jsonl", False),
        ("data/**/*.jsonl", "data/x/y/a.jsonl", True),
        ("data/**/*.jsonl", "data/a.jsonl", True),
        ("data/", "data/x/a.csv", True),
        ("./data/a.jsonl", "data/a.jsonl", True),
        ("data/a?.csv", "data/ab.csv", True),
        ("data/a.jsonl", "other/data/a.jsonl", False),
    ],
)
def test_globs(pattern: str, path: str, matches: bool) -> None:
    assert glob_matches(pattern, path) is matches
