"""License-file identification on SPDX texts with the damage real LICENSE files have.

The SPDX texts come from ../shared/data/licenses/spdx-full.json (beside the clone in CI); the
Apache-2.0 and MIT tests use the copies vendored under rules/licenses/texts/ and always run.
"""

from __future__ import annotations

import json
import random
import re
import textwrap
from functools import lru_cache
from pathlib import Path

import pytest

from provenance.licensing.spdx import VENDORED, identify_text

REPO = Path(__file__).resolve().parents[2]
SPDX_JSON = REPO.parent / "shared" / "data" / "licenses" / "spdx-full.json"
TEXTS = REPO / "rules" / "licenses" / "texts"


@lru_cache(maxsize=1)
def spdx_texts() -> dict[str, str]:
    if not SPDX_JSON.is_file():
        pytest.skip(f"SPDX texts not found at {SPDX_JSON}")
    data = json.loads(SPDX_JSON.read_text(encoding="utf-8"))
    return {key: entry["licenseText"] for key, entry in data.items()}


def fill_template(text: str) -> str:
    """A real copyright line where the SPDX template has placeholders."""
    text = re.sub(r"<year>", "2019-2023", text)
    return re.sub(r"<(?:copyright holders?|owner|name of author)>", "ACME Data Labs GmbH", text)


def reflow(text: str, width: int) -> str:
    """Paragraphs joined and re-wrapped at another width (what editors and renderers do)."""
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text)]
    return "\n\n".join(textwrap.fill(p, width) for p in paragraphs if p)


HEADER = "# Dataset license\n\nThe data in this repository is released under the terms below.\n\n"
FOOTER = "\n\n---\nQuestions about this license: legal@example.com\n"


def damaged(text: str, seed: int) -> str:
    rng = random.Random(seed)
    return HEADER + reflow(fill_template(text), rng.randint(55, 110)) + FOOTER


@pytest.mark.parametrize(("file", "spdx"), [("apache-2.0.txt", "Apache-2.0"), ("mit.txt", "MIT")])
def test_vendored_texts_survive_damage(file: str, spdx: str) -> None:
    text = (TEXTS / file).read_text(encoding="utf-8")
    for seed in range(5):
        assert [m.spdx for m in identify_text(damaged(text, seed))] == [spdx]


def test_apache_without_its_appendix() -> None:
    """Most Apache LICENSE files stop at END OF TERMS AND CONDITIONS."""
    text = (TEXTS / "apache-2.0.txt").read_text(encoding="utf-8")
    cut = text[: text.index("END OF TERMS AND CONDITIONS")]
    assert identify_text(cut)[0].spdx == "Apache-2.0"


@pytest.mark.parametrize("spdx", VENDORED)
def test_every_vendored_license_is_identified_after_damage(spdx: str) -> None:
    text = spdx_texts()[spdx]
    matches = identify_text(damaged(text, seed=len(spdx)))
    assert [m.spdx for m in matches] == [spdx]


@pytest.mark.parametrize(
    ("text_of", "not_confused_with"),
    [
        ("BSD-2-Clause", "BSD-3-Clause"),
        ("BSD-3-Clause", "BSD-2-Clause"),
        ("CC-BY-NC-4.0", "CC-BY-NC-SA-4.0"),
        ("CC-BY-NC-SA-4.0", "CC-BY-NC-4.0"),
        ("CC-BY-4.0", "CC-BY-SA-4.0"),
        ("MIT", "MIT-0"),
        ("MIT-0", "MIT"),
        ("CC-BY-ND-4.0", "CC-BY-4.0"),
        ("GPL-3.0-only", "AGPL-3.0-only"),
    ],
)
def test_close_variants_are_told_apart(text_of: str, not_confused_with: str) -> None:
    matches = identify_text(fill_template(spdx_texts()[text_of]))
    assert matches[0].spdx == text_of
    assert not_confused_with not in [m.spdx for m in matches]


def test_a_readme_is_not_a_license() -> None:
    text = "# My dataset\n\nThis dataset has 10,000 question-answer pairs about cooking.\n" * 5
    assert identify_text(text) == []


def test_two_licenses_in_one_file() -> None:
    both = fill_template(spdx_texts()["MIT"]) + "\n\n" + spdx_texts()["CC-BY-4.0"]
    assert sorted(m.spdx for m in identify_text(both)) == ["CC-BY-4.0", "MIT"]


def test_coverage_says_when_the_file_holds_more_than_the_license() -> None:
    notes = " ".join(f"Additional term {i}: not for use in product line {i}." for i in range(150))
    match = identify_text(fill_template(spdx_texts()["MIT"]) + "\n\n" + notes)[0]
    assert match.spdx == "MIT" and match.containment >= 0.95 and match.coverage < 0.5
