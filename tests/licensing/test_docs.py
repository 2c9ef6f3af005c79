"""docs/licenses.md covers what users write and read: every tag, fact, rule file and finding."""

from __future__ import annotations

from pathlib import Path

from provenance.licensing.schema import FACT_TYPES, load_rules
from provenance.licensing.spdx import VENDORED

DOC = (Path(__file__).resolve().parents[2] / "docs" / "licenses.md").read_text(encoding="utf-8")
RULES = load_rules()


def test_every_use_case_tag_is_documented() -> None:
    assert [t for t in RULES.vocabulary.tags if f"| `{t}` |" not in DOC] == []


def test_every_fact_is_documented() -> None:
    assert [f for f in FACT_TYPES if f"`{f}`" not in DOC] == []


def test_every_rule_file_is_documented() -> None:
    assert [r for r in RULES.licenses if f"`{r}.yaml`" not in DOC] == []


def test_finding_types_and_counts_are_documented() -> None:
    for name in ("LICENSE_UNKNOWN", "LICENSE_NON_COMMERCIAL", "LICENSE_SHARE_ALIKE",
                 "LICENSE_NO_DERIVATIVES", "LICENSE_CONFLICT", "LICENSE_LINEAGE",
                 "LICENSE_ATTRIBUTION"):  # fmt: skip
        assert f"`{name}`" in DOC
    assert f"of {len(VENDORED)} SPDX texts" in DOC
