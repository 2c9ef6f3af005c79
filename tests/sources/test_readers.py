"""Reading datasets: every format, and every kind of bad input as an error record or exit 2."""

from __future__ import annotations

import csv
import gzip
import json
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard

from provenance.errors import InputError
from provenance.model import Record
from provenance.sources import base as sources_base
from provenance.sources.base import open_dataset
from tests.conftest import write_jsonl

ROWS = [
    {"instruction": "Add the numbers.", "input": "2 and 3", "output": "5"},
    {"instruction": "Greet.", "input": "", "output": "Hello there."},
]


def records(path: Path, **kwargs: object) -> list[Record]:
    return list(open_dataset(str(path), **kwargs).records())  # type: ignore[arg-type]


def locators(found: list[Record]) -> list[tuple[str, int, str | None]]:
    return [(r.file, r.row, (r.error or "").split(":")[0] or None) for r in found]


def test_jsonl_rows_are_physical_lines(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text(json.dumps(ROWS[0]) + "\n\n" + json.dumps(ROWS[1]) + "\n", encoding="utf-8")
    found = records(path)
    assert [(r.row, r.shape) for r in found] == [(0, "alpaca"), (2, "alpaca")]
    assert [f.name for f in found[0].fields] == ["instruction", "input", "output"]


def test_record_id_is_sha256_of_canonical_json(tmp_path: Path) -> None:
    from provenance.model import content_id

    found = records(write_jsonl(tmp_path / "d.jsonl", ROWS))
    assert found[0].id == content_id(ROWS[0])
    assert found[0].id == content_id(dict(reversed(list(ROWS[0].items()))))


@pytest.mark.parametrize("layout", ["array", "object"])
def test_json_array_or_object_holding_one(tmp_path: Path, layout: str) -> None:
    data = ROWS if layout == "array" else {"version": 2, "data": ROWS, "note": {"a": [1]}}
    path = tmp_path / "d.json"
    path.write_text(json.dumps(data, indent=1), encoding="utf-8")
    found = records(path)
    assert [(r.row, r.error) for r in found] == [(0, None), (1, None)]


def test_json_object_with_two_arrays_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "d.json"
    path.write_text(json.dumps({"train": ROWS, "test": ROWS}), encoding="utf-8")
    found = records(path)
    assert found[-1].error is not None and found[-1].error.startswith("JSON_SHAPE")


def test_csv_tsv_and_parquet(tmp_path: Path) -> None:
    with open(tmp_path / "d.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=["instruction", "input", "output"])
        writer.writeheader()
        writer.writerows(ROWS)
    (tmp_path / "d.tsv").write_text("text\tlabel\nfirst row\t1\nsecond row\t0\n", encoding="utf-8")
    pq.write_table(pa.Table.from_pylist(ROWS), tmp_path / "d.parquet")
    found = records(tmp_path)
    assert [(r.file, r.row, r.shape) for r in found] == [
        ("d.csv", 0, "alpaca"), ("d.csv", 1, "alpaca"),
        ("d.parquet", 0, "alpaca"), ("d.parquet", 1, "alpaca"),
        ("d.tsv", 0, "text"), ("d.tsv", 1, "text"),
    ]  # fmt: skip


def test_txt_and_md_are_one_record_per_file(tmp_path: Path) -> None:
    (tmp_path / "notes.md").write_text("# Title\n\nSome words.\n", encoding="utf-8")
    (tmp_path / "a.txt").write_text("plain text", encoding="utf-8")
    found = records(tmp_path)
    assert [(r.file, r.row, r.fields[0].name) for r in found] == [
        ("a.txt", 0, "text"),
        ("notes.md", 0, "text"),
    ]


def test_gzip_and_zstd(tmp_path: Path) -> None:
    body = "".join(json.dumps(r) + "\n" for r in ROWS).encode()
    (tmp_path / "a.jsonl.gz").write_bytes(gzip.compress(body))
    (tmp_path / "b.jsonl.zst").write_bytes(zstandard.ZstdCompressor().compress(body))
    dataset = open_dataset(str(tmp_path))
    assert [f.format for f in dataset.files()] == ["jsonl+gzip", "jsonl+zstd"]
    assert locators(list(dataset.records())) == [
        ("a.jsonl.gz", 0, None), ("a.jsonl.gz", 1, None),
        ("b.jsonl.zst", 0, None), ("b.jsonl.zst", 1, None),
    ]  # fmt: skip


def test_save_to_disk_folder(tmp_path: Path) -> None:
    import datasets

    datasets.DatasetDict(
        {"train": datasets.Dataset.from_list(ROWS), "test": datasets.Dataset.from_list(ROWS[:1])}
    ).save_to_disk(str(tmp_path / "saved"))
    dataset = open_dataset(str(tmp_path / "saved"))
    assert [f.path for f in dataset.files()] == ["test", "train"]
    assert locators(list(dataset.records())) == [
        ("test", 0, None), ("train", 0, None), ("train", 1, None),
    ]  # fmt: skip


def test_hub_id_is_offline_by_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    with pytest.raises(InputError, match=r"cannot load dataset nobody/nothing.*--allow-network"):
        open_dataset("nobody/nothing")


def test_card_and_license_files_are_metadata_not_records(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "data" / "d.jsonl", ROWS)
    (tmp_path / "README.md").write_text("---\nlicense: mit\n---\n# Card\n", encoding="utf-8")
    (tmp_path / "LICENSE").write_text("MIT License\n", encoding="utf-8")
    dataset = open_dataset(str(tmp_path))
    assert [e.path for e in dataset.entries] == ["data/d.jsonl"]
    assert sorted(p.name for p in dataset.metadata) == ["LICENSE", "README.md"]


def test_hidden_folders_and_the_store_are_skipped(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "d.jsonl", ROWS)
    write_jsonl(tmp_path / ".git" / "x.jsonl", ROWS)
    (tmp_path / ".provenance").mkdir()
    (tmp_path / ".provenance" / "audit.duckdb").write_bytes(b"\0")
    assert [e.path for e in open_dataset(str(tmp_path)).entries] == ["d.jsonl"]


# -- bad input: each becomes an error record with its locator, or a one-line InputError --------


def test_malformed_json_line(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text(json.dumps(ROWS[0]) + "\n{not json\n" + json.dumps(ROWS[1]) + "\n")
    found = records(path)
    assert locators(found) == [("d.jsonl", 0, None), ("d.jsonl", 1, "INVALID_JSON"),
                               ("d.jsonl", 2, None)]  # fmt: skip
    assert found[1].error == (
        "INVALID_JSON: line 2, column 2: Expecting property name enclosed in double quotes"
    )


def test_invalid_utf8(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_bytes(json.dumps(ROWS[0]).encode() + b'\n{"text": "caf\xe9"}\n')
    assert locators(records(path)) == [("d.jsonl", 0, None), ("d.jsonl", 1, "INVALID_UTF8")]


def test_binary_file_with_text_extension(tmp_path: Path) -> None:
    (tmp_path / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + os.urandom(64))
    assert locators(records(tmp_path)) == [("image.txt", 0, "BINARY_CONTENT")]


def test_empty_file(tmp_path: Path) -> None:
    (tmp_path / "empty.jsonl").write_bytes(b"")
    assert locators(records(tmp_path)) == [("empty.jsonl", 0, "EMPTY_FILE")]


def test_empty_dataset_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"^dataset contains no data files: "):
        open_dataset(str(tmp_path))


def test_missing_text_field(tmp_path: Path) -> None:
    found = records(write_jsonl(tmp_path / "d.jsonl", [{"question": "q", "label": 1}]))
    assert locators(found) == [("d.jsonl", 0, "MISSING_TEXT_FIELD")]


def test_missing_override_field(tmp_path: Path) -> None:
    found = records(write_jsonl(tmp_path / "d.jsonl", ROWS), text_field=["body"])
    assert [r.error for r in found] == ["MISSING_TEXT_FIELD: no text in body"] * 2


def test_unknown_extension_in_a_folder_is_reported(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "d.jsonl", ROWS[:1])
    (tmp_path / "weights.bin").write_bytes(b"\x00\x01")
    assert locators(records(tmp_path)) == [("d.jsonl", 0, None),
                                           ("weights.bin", 0, "UNSUPPORTED_FORMAT")]  # fmt: skip


def test_unknown_extension_named_directly_is_an_input_error(tmp_path: Path) -> None:
    (tmp_path / "weights.bin").write_bytes(b"\x00")
    with pytest.raises(InputError, match=r"^unsupported file format: .*weights.bin"):
        open_dataset(str(tmp_path / "weights.bin"))


def test_path_that_does_not_exist(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"^dataset path does not exist: "):
        open_dataset(str(tmp_path / "nope"))


def test_gzip_bomb_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sources_base, "MIN_EXPANDED_LIMIT", 1 << 20)
    line = (json.dumps({"text": "a" * 1000}) + "\n").encode()
    (tmp_path / "bomb.jsonl.gz").write_bytes(gzip.compress(line * 20_000, 9))  # 20 MB of text
    found = records(tmp_path)
    assert found[-1].error is not None and found[-1].error.startswith("DECOMPRESSION_LIMIT")
    # 200x the compressed size (about 8 MB here) came out before reading stopped, not 20 MB
    assert 1000 < len(found) < 10_000


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_jsonl(tmp_path / "d.jsonl", ROWS)
    real_open = sources_base._open

    def deny(entry: sources_base.Entry) -> object:
        raise PermissionError(13, "Permission denied", str(entry.location))

    monkeypatch.setattr(sources_base, "_open", deny)
    assert locators(records(tmp_path)) == [("d.jsonl", 0, "UNREADABLE")]
    monkeypatch.setattr(sources_base, "_open", real_open)


def test_symlink_out_of_the_root_is_reported_not_followed(tmp_path: Path) -> None:
    outside = write_jsonl(tmp_path / "outside" / "secret.jsonl", ROWS)
    root = tmp_path / "root"
    write_jsonl(root / "d.jsonl", ROWS[:1])
    (root / "link.jsonl").symlink_to(outside)
    (root / "linkdir").symlink_to(outside.parent, target_is_directory=True)
    found = records(root)
    assert locators(found) == [
        ("d.jsonl", 0, None),
        ("link.jsonl", 0, "SYMLINK_OUTSIDE_ROOT"),
        ("linkdir", 0, "SYMLINK_OUTSIDE_ROOT"),
    ]


def test_single_50mb_record_streams(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    word = "lorem ipsum dolor sit amet "
    with open(path, "w", encoding="utf-8") as f:
        f.write(json.dumps({"text": word * (50_000_000 // len(word))}) + "\n")
        f.write(json.dumps({"text": "small"}) + "\n")
    found = records(path)
    assert [len(r.fields[0].text) > 49_000_000 for r in found] == [True, False]


def test_json_array_with_a_huge_element_streams(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    path.write_text(json.dumps([{"text": "x" * 3_000_000}, {"text": "y"}]), encoding="utf-8")
    assert [len(r.fields[0].text) for r in records(path)] == [3_000_000, 1]


# -- inputs found by hunting for tracebacks ---------------------------------------------------


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b'{"text": "a", "text": "b"}\n', "DUPLICATE_KEY"),
        (b"[" + b'{"a":' * 5000 + b'"x"' + b"}" * 5000 + b"]\n", "INVALID_JSON"),
        (b'{"text": 1' + b"0" * 5000 + b"}\n", "INVALID_JSON"),
    ],
    ids=["duplicate-key", "nested-too-deeply", "huge-integer"],
)
def test_jsonl_values_that_json_cannot_take(tmp_path: Path, body: bytes, code: str) -> None:
    (tmp_path / "a.jsonl").write_bytes(body)
    assert locators(records(tmp_path)) == [("a.jsonl", 0, code)]


def test_json_array_too_deep(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_bytes(b"[" * 100_000 + b"]" * 100_000)
    assert locators(records(tmp_path))[-1][2] == "INVALID_JSON"


def test_csv_with_a_repeated_column_is_not_read(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text('text,text\n"secret 219-09-9999",hello\n', encoding="utf-8")
    assert locators(records(tmp_path)) == [("a.csv", 0, "DUPLICATE_HEADER")]


def test_byte_order_marks_are_skipped(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_bytes(b"\xef\xbb\xbftext\nhello\n")
    (tmp_path / "b.jsonl").write_bytes(b'\xef\xbb\xbf{"text": "hi"}\n')
    assert locators(records(tmp_path)) == [("a.csv", 0, None), ("b.jsonl", 0, None)]


def test_corrupt_zstd_is_unreadable(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl.zst").write_bytes(b"\x28\xb5\x2f\xfd" + b"garbage" * 10)
    assert locators(records(tmp_path)) == [("a.jsonl.zst", 0, "UNREADABLE")]


def test_symlink_loop_and_fifo(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").symlink_to(tmp_path / "b.jsonl")
    (tmp_path / "b.jsonl").symlink_to(tmp_path / "a.jsonl")
    os.mkfifo(tmp_path / "pipe.jsonl")
    dataset = open_dataset(str(tmp_path))
    assert len(dataset.files()) == 3  # hashing does not block on the FIFO
    assert [code for _, _, code in locators(list(dataset.records()))] == [
        "SYMLINK_LOOP", "SYMLINK_LOOP", "NOT_A_REGULAR_FILE",
    ]  # fmt: skip


def test_file_name_that_is_not_utf8(tmp_path: Path) -> None:
    name = os.fsdecode(b"\xff\xfe.jsonl")
    write_jsonl(tmp_path / name, ROWS[:1])
    (found,) = records(tmp_path)
    assert found.file == "\\xff\\xfe.jsonl" and found.error is None
    found.file.encode("utf-8")  # storable
