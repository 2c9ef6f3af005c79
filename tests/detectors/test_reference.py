"""The reference detector: containment of edited passages, exact spans, license types, code."""

from __future__ import annotations

import ast
import inspect
import re
import textwrap
from pathlib import Path

import pytest

from provenance.detectors.base import ScanContext
from provenance.detectors.reference import ReferenceDetector, preview
from provenance.model import Record, TextField
from provenance.refs import add_reference_set, load_index, remove_reference_set
from provenance.store import Store
from tests.conftest import SHARED

BOOKS = SHARED / "data" / "reference" / "gutenberg"
ALICE = (BOOKS / "pg11.txt").read_bytes().decode("utf-8")
GREGOR = (BOOKS / "pg5200.txt").read_bytes().decode("utf-8")
PETER = (BOOKS / "pg16.txt").read_bytes().decode("utf-8")  # not in the set
FILLER = (
    "Sure! Here is a short explanation of the topic you asked about, with a few examples and a "
    "summary at the end so that it is easy to follow. "
)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    root = tmp_path_factory.mktemp("refs")
    books = root / "books"
    books.mkdir()
    for name in ("pg11.txt", "pg5200.txt"):
        (books / name).write_bytes((BOOKS / name).read_bytes())
    (root / "cc").mkdir()
    (root / "cc" / "peter.txt").write_bytes((BOOKS / "pg16.txt").read_bytes())
    with Store(root / "store") as opened:
        add_reference_set(opened, "books", [books], license="LicenseRef-all-rights-reserved")
        yield opened


@pytest.fixture(scope="module")
def detector(store: Store) -> ReferenceDetector:
    return ReferenceDetector(index=load_index(store, ["books"]))


def words(text: str, start: int, count: int) -> str:
    return " ".join(text[start:].split()[1 : count + 1])


def record(text: str, field: str = "output") -> Record:
    return Record(id="r1", file="d.jsonl", row=0, shape="alpaca", fields=(TextField(field, text),))


def light_edit(text: str) -> str:
    """About 6 % of words changed, commas dropped, re-wrapped and lower-cased."""
    out = [w if i % 17 else "indeed" for i, w in enumerate(text.split())]
    return textwrap.fill(" ".join(out).replace(",", "").lower(), width=41)


def tokenised(text: str) -> str:
    text = re.sub(r"(\w)n't\b", r"\1 n't", text)
    return re.sub(r"([,.;:!?])", r" \1 ", text)


PASSAGE = words(ALICE, 30_000, 80)


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("verbatim", PASSAGE, "books/pg11.txt"),
        ("upper case", PASSAGE.upper(), "books/pg11.txt"),
        ("lightly edited", light_edit(PASSAGE), "books/pg11.txt"),
        ("tokenised edition", tokenised(PASSAGE), "books/pg11.txt"),
        ("inside a long record", FILLER * 30 + light_edit(PASSAGE) + FILLER * 30, "books/pg11.txt"),
        ("55 words", words(GREGOR, 40_000, 55), "books/pg5200.txt"),
        ("a short quote", words(ALICE, 30_000, 15), None),
        ("a book not in the set", words(PETER, 30_000, 200), None),
        ("unrelated", FILLER * 10, None),
        ("empty", "", None),
    ],
)
def test_truth_table(
    detector: ReferenceDetector, name: str, text: str, expected: str | None
) -> None:
    findings = list(detector.detect_batch([record(text)]))
    assert [f.detail["reference_doc"] for f in findings] == ([expected] if expected else [])


def test_finding_spans_and_detail(detector: ReferenceDetector) -> None:
    text = FILLER + PASSAGE + " " + FILLER
    [finding] = detector.detect_batch([record(text)])
    assert text[finding.start : finding.end] == PASSAGE
    detail = finding.detail
    assert ALICE[detail["reference_start"] : detail["reference_end"]].split() == PASSAGE.split()
    assert (finding.type, finding.field, finding.score) == ("REFERENCE_MATCH", "output", 1.0)
    assert detail["reference_set"] == "books"
    assert detail["reference_license"] == "LicenseRef-all-rights-reserved"
    assert detail["containment"] == 1.0 and detail["similarity"] == 1.0
    assert len(finding.preview) <= 60 and PASSAGE.startswith(finding.preview.rstrip("…"))


def test_edited_passage_scores_its_containment(detector: ReferenceDetector) -> None:
    [finding] = detector.detect_batch([record(light_edit(PASSAGE))])
    assert 0.5 < finding.score < 1.0
    assert finding.detail["similarity"] < 1.0


def test_results_do_not_depend_on_batching(detector: ReferenceDetector) -> None:
    records = [
        Record(id=str(i), file="d.jsonl", row=i, shape="text",
               fields=(TextField("text", FILLER + words(ALICE, 5000 * i, 60)),))
        for i in range(6)
    ]  # fmt: skip
    together = list(detector.detect_batch(records))
    apart = [f for r in records for f in detector.detect_batch([r])]
    assert together == apart and len(together) == 6


@pytest.mark.parametrize(
    ("license", "finding_type", "obligations"),
    [
        ("CC-BY-4.0", "REFERENCE_MATCH_PERMITTED", ["attribution"]),
        ("CC-BY-NC-4.0", "REFERENCE_MATCH_NONCOMMERCIAL", ["attribution"]),
        ("LicenseRef-unknown", "REFERENCE_MATCH", None),
    ],
)
def test_the_set_license_decides_the_type(
    tmp_path: Path, license: str, finding_type: str, obligations: list[str] | None
) -> None:
    book = tmp_path / "peter.txt"
    book.write_bytes((BOOKS / "pg16.txt").read_bytes())
    with Store(tmp_path / "store") as store:
        add_reference_set(store, "peter", [book], license=license)
        detector = ReferenceDetector(index=load_index(store))
    [finding] = detector.detect_batch([record(words(PETER, 30_000, 100))])
    assert finding.type == finding_type
    assert finding.detail.get("obligations") == obligations


def test_a_set_threshold_overrides_the_default(tmp_path: Path) -> None:
    book = tmp_path / "alice.txt"
    book.write_bytes((BOOKS / "pg11.txt").read_bytes())
    with Store(tmp_path / "store") as store:
        add_reference_set(store, "strict", [book], license="MIT", threshold=0.95)
        index = load_index(store)
    edited = record(light_edit(PASSAGE))
    assert list(ReferenceDetector(index=index).detect_batch([edited])) == []
    assert list(ReferenceDetector(index=index).detect_batch([record(PASSAGE)]))


def test_prepare_loads_the_chosen_sets(store: Store) -> None:
    context = ScanContext(dataset=None, store=store)  # type: ignore[arg-type]
    options = ReferenceDetector.prepare(context, {"sets": ["books"], "threshold": 0.6})
    detector = ReferenceDetector(**options)
    assert detector.describe()["sets"][0]["name"] == "books" and detector.threshold == 0.6
    assert list(ReferenceDetector().detect_batch([record(PASSAGE)])) == []  # no sets, no matches


def test_findings_outlive_their_set(tmp_path: Path) -> None:
    book = tmp_path / "alice.txt"
    book.write_bytes((BOOKS / "pg11.txt").read_bytes())
    with Store(tmp_path / "store") as store:
        add_reference_set(store, "gone", [book], license="MIT")
        [finding] = ReferenceDetector(index=load_index(store)).detect_batch([record(PASSAGE)])
        remove_reference_set(store, "gone")
    assert (finding.detail["reference_set"], finding.detail["reference_doc"]) == (
        "gone",
        "alice.txt",
    )
    assert finding.detail["reference_license"] == "MIT"


# -- code ----------------------------------------------------------------------------------


class _Rename(ast.NodeTransformer):
    """Renames local variables and arguments, as someone hiding a copy would."""

    def __init__(self, names: dict[str, str]) -> None:
        self.names = names

    def visit_Name(self, node: ast.Name) -> ast.Name:
        node.id = self.names.get(node.id, node.id)
        return node

    def visit_arg(self, node: ast.arg) -> ast.arg:
        node.arg = self.names.get(node.arg, node.arg)
        return node


def disguised(source: str) -> str:
    """The function renamed and reformatted by ast.unparse (comments and layout gone)."""
    tree = ast.parse(textwrap.dedent(source))
    names = {"text": "s", "lines": "rows", "margin": "prefix", "indent": "ind"}
    return ast.unparse(_Rename(names).visit(tree))


def test_copied_code_is_found_renamed_and_reformatted(tmp_path: Path) -> None:
    import json.decoder
    import textwrap as module

    code = tmp_path / "code" / "textwrap.py"
    code.parent.mkdir()
    code.write_text(Path(module.__file__).read_text(encoding="utf-8"), encoding="utf-8")
    with Store(tmp_path / "store") as store:
        add_reference_set(store, "gpl", [code.parent], license="GPL-3.0-only")
        detector = ReferenceDetector(index=load_index(store))
    copied = disguised(inspect.getsource(module.dedent))
    assert copied != inspect.getsource(module.dedent)
    answer = f"Here is a function that does it:\n\n```python\n{copied}\n```\n\nHope that helps!"
    [finding] = detector.detect_batch([record(answer)])
    assert (
        finding.detail["kind"] == "code" and finding.detail["reference_doc"] == "code/textwrap.py"
    )
    assert finding.type == "REFERENCE_MATCH"
    other = inspect.getsource(json.decoder.JSONObject)
    assert list(detector.detect_batch([record(other)])) == []


def test_preview_is_short_and_on_one_line() -> None:
    assert preview("a  b\nc") == "a b c"
    long = preview("word " * 40)
    assert len(long) <= 60 and long.endswith("…")
