"""Reference sets: registering, incremental adds, bad input, the license table, the index."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from provenance import refs
from provenance.errors import InputError
from provenance.refs import (
    add_reference_set,
    license_terms,
    list_reference_sets,
    load_index,
    reference_documents,
    remove_reference_set,
)
from provenance.store import Store

PROSE = "It was the best of times, it was the worst of times, it was the age of wisdom. " * 20


@pytest.fixture
def store(tmp_path: Path) -> Store:
    with Store(tmp_path / "store") as opened:
        yield opened


def write(path: Path, data: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data, encoding="utf-8")
    return path


def test_add_list_show_remove(store: Store, tmp_path: Path) -> None:
    write(tmp_path / "books" / "a.txt", PROSE)
    write(
        tmp_path / "books" / "sub" / "b.md", "Call me Ishmael. Some years ago, never mind how long"
    )
    result = add_reference_set(
        store, "books", [tmp_path / "books"], license="CC-BY-4.0", description="two"
    )
    assert result.created and sorted(result.added) == ["books/a.txt", "books/sub/b.md"]
    [listed] = list_reference_sets(store)
    assert (listed.name, listed.license, listed.documents, listed.description) == (
        "books", "CC-BY-4.0", 2, "two",
    )  # fmt: skip
    assert listed.terms.training == "permitted" and listed.terms.obligations == ["attribution"]
    docs = reference_documents(store, "books")
    assert [d["kind"] for d in docs] == ["text", "text"] and docs[0]["tokens"] > 100
    assert remove_reference_set(store, "books").documents == 2
    assert list_reference_sets(store) == []
    for table in ("reference_docs", "reference_tokens", "reference_anchors"):
        assert store.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,)


def test_re_adding_is_a_no_op_and_a_changed_file_is_replaced(store: Store, tmp_path: Path) -> None:
    book = write(tmp_path / "a.txt", PROSE)
    add_reference_set(store, "books", [book], license="MIT")
    anchors = store.execute("SELECT count(*) FROM reference_anchors").fetchone()
    again = add_reference_set(store, "books", [book])
    assert again.unchanged == ("a.txt",) and not again.added and not again.created
    assert store.execute("SELECT count(*) FROM reference_anchors").fetchone() == anchors
    write(book, PROSE + " And a new ending that was not there before.")
    changed = add_reference_set(store, "books", [book])
    assert changed.replaced == ("a.txt",) and changed.set.documents == 1
    copy = write(tmp_path / "copy.txt", PROSE + " And a new ending that was not there before.")
    duplicate = add_reference_set(store, "books", [copy])
    assert duplicate.skipped[0][1].startswith("DUPLICATE_CONTENT") and duplicate.set.documents == 1


def test_empty_and_binary_files_are_skipped(store: Store, tmp_path: Path) -> None:
    write(tmp_path / "d" / "empty.txt", "")
    write(tmp_path / "d" / "blob.txt", b"\x00\x01\x02binary")
    write(tmp_path / "d" / "punct.txt", "... --- !!!")
    write(tmp_path / "d" / "code.py", b"\x00\x00")
    write(tmp_path / "d" / "ok.txt", PROSE)
    result = add_reference_set(store, "mixed", [tmp_path / "d"], license="MIT")
    reasons = {name: reason.split(":")[0] for name, reason in result.skipped}
    assert reasons == {
        "d/empty.txt": "EMPTY_FILE",
        "d/blob.txt": "BINARY_CONTENT",
        "d/punct.txt": "NO_TOKENS",
        "d/code.py": "BINARY_CONTENT",
    }
    assert result.added == ("d/ok.txt",)


def test_a_new_set_without_readable_documents_is_not_created(store: Store, tmp_path: Path) -> None:
    empty = write(tmp_path / "empty.txt", "")
    with pytest.raises(InputError, match=r"no readable reference documents for 'x' \(empty.txt"):
        add_reference_set(store, "x", [empty], license="MIT")
    assert list_reference_sets(store) == []


@pytest.mark.parametrize(
    ("name", "paths", "license", "message"),
    [
        ("bad name", ["a.txt"], "MIT", "invalid reference set name"),
        ("ok", ["missing.txt"], "MIT", "reference path does not exist"),
        ("ok", ["a.txt"], None, "is new: give its --license"),
        ("ok", ["a.txt"], "not a license!", "invalid license"),
        ("books", ["a.txt"], "GPL-3.0-only", "exists with license MIT"),
    ],
)
def test_bad_input_fails_before_writing(
    store: Store, tmp_path: Path, name: str, paths: list[str], license: str | None, message: str
) -> None:
    write(tmp_path / "a.txt", PROSE)
    add_reference_set(store, "books", [tmp_path / "a.txt"], license="MIT")
    with pytest.raises(InputError, match=message):
        add_reference_set(store, name, [tmp_path / p for p in paths], license=license)
    assert [s.name for s in list_reference_sets(store)] == ["books"]


def test_unknown_set_names(store: Store) -> None:
    with pytest.raises(InputError, match="no reference set 'nope'"):
        remove_reference_set(store, "nope")
    with pytest.raises(InputError, match="no reference set 'nope'"):
        load_index(store, ["nope"])
    with pytest.raises(InputError, match="no reference set 'nope'"):
        load_index(None, ["nope"])
    assert load_index(None).kinds == []


def test_rows_of_data_files_are_documents_and_code_is_code(store: Store, tmp_path: Path) -> None:
    rows = [{"text": PROSE}, {"text": "Call me Ishmael. " * 10}]
    write(tmp_path / "refs" / "articles.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
    write(tmp_path / "refs" / "lib.py", "def f(x):\n    return x + 1\n")
    result = add_reference_set(store, "mixed", [tmp_path / "refs"], license="MIT")
    assert sorted(result.added) == ["refs/articles.jsonl#0", "refs/articles.jsonl#1", "refs/lib.py"]
    kinds = {d["name"]: d["kind"] for d in reference_documents(store, "mixed")}
    assert kinds["refs/lib.py"] == "code" and kinds["refs/articles.jsonl#0"] == "text"
    index = load_index(store, ["mixed"])
    assert index.kinds == ["text", "code"] and len(index.doc_names) == 3


def test_index_holds_the_chosen_sets_only(store: Store, tmp_path: Path) -> None:
    add_reference_set(store, "a", [write(tmp_path / "a.txt", PROSE)], license="MIT")
    add_reference_set(
        store, "b", [write(tmp_path / "b.txt", "Call me Ishmael. " * 30)], license="MIT"
    )
    assert [s.name for s in load_index(store, ["b"]).sets] == ["b"]
    both = load_index(store)
    assert [s.name for s in both.sets] == ["a", "b"]
    anchors = both.anchors["text"]
    assert np.all(np.diff(anchors.hashes.astype(np.float64)) >= 0)
    assert "documents=2" in repr(both) and len(repr(both)) < 200


def test_long_documents_are_tokenised_in_pieces_identically(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = "Call me Ishmael, some years ago - never mind how long precisely.\n" * 400
    whole = refs.document_tokens(text, "text")
    monkeypatch.setattr(refs, "_CHUNK_CHARS", 1000)
    pieces = refs.document_tokens(text, "text")
    for a, b in zip(
        (whole.hashes, whole.starts, whole.ends), (pieces.hashes, pieces.starts, pieces.ends),
        strict=True,
    ):  # fmt: skip
        assert np.array_equal(a, b)


@pytest.mark.parametrize(
    ("license", "training", "obligations"),
    [
        ("LicenseRef-all-rights-reserved", "not-permitted", []),
        ("LicenseRef-something-else", "not-permitted", []),
        ("cc0-1.0", "permitted", []),
        ("CC-BY-4.0", "permitted", ["attribution"]),
        ("CC-BY-SA-4.0", "permitted", ["attribution", "share-alike"]),
        ("CC-BY-NC-4.0", "non-commercial", ["attribution"]),
        ("GPL-3.0-only", "not-permitted", []),
        ("GPL-3.0-only OR MIT", "permitted", ["attribution"]),
        ("CC0-1.0 AND CC-BY-NC-4.0", "non-commercial", ["attribution"]),
    ],
)
def test_license_table(license: str, training: str, obligations: list[str]) -> None:
    terms = license_terms(license)
    assert (terms.training, terms.obligations) == (training, obligations)
