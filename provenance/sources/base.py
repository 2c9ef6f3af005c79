"""Turning a path or dataset id into a `Dataset`: its files, its metadata and its records.

A directory is walked recursively in sorted order; hidden entries and the audit store are skipped,
and a symlink that leads outside the root is reported as an error record, never followed. Each
file is read as a stream (compressed files through a bounded decompressor), so memory does not
grow with the corpus. Anything that cannot be read becomes an error record: nothing is dropped.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, cast

from provenance.errors import InputError
from provenance.model import DataFile, Record, content_id
from provenance.sources.shapes import detect_shape, record_license, text_fields

# (row, data, error): one row of a file; data is None when error is set.
Row = tuple[int, Any, "str | None"]
RowReader = Callable[[IO[bytes]], Iterator[Row]]

FORMATS = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
    ".csv": "csv",
    ".tsv": "tsv",
    ".parquet": "parquet",
    ".txt": "text",
    ".md": "text",
}
COMPRESSIONS = {".gz": "gzip", ".zst": "zstd", ".zstd": "zstd"}
CARD_NAMES = {"readme.md", "dataset_card.md"}
LICENSE_STEMS = ("license", "licence", "copying", "notice")
STORE_DIR = ".provenance"
# A compressed file may expand to this many times its size before it is treated as a bomb.
MAX_EXPANSION = 200
MIN_EXPANDED_LIMIT = 64 * 1024 * 1024
SNIFF_BYTES = 8192


@dataclass(frozen=True)
class Entry:
    """One file of a dataset: where it is, how to read it, or why it cannot be read."""

    path: str  # relative to the dataset root, with forward slashes
    location: Path
    format: str
    compression: str | None = None
    problem: str | None = None  # set for files that are reported but not read


@dataclass
class Dataset:
    """A dataset as the scan sees it. `records()` streams; nothing is held in memory."""

    source: str
    root: Path | None
    entries: list[Entry]
    metadata: list[Path] = field(default_factory=list)  # card, LICENSE/COPYING/NOTICE files
    text_field: Sequence[str] | None = None
    hub: Any = None  # a loaded `datasets` object for a hub dataset id

    def files(self) -> list[DataFile]:
        """Every entry with its sha256, in path order."""
        from provenance.sources import hf

        if self.hub is not None:
            return hf.hub_files(self)
        return [
            DataFile(e.path, _file_sha256(e), _format_name(e), _size(e.location))
            for e in self.entries
        ]

    def records(self, skip: set[str] | frozenset[str] = frozenset()) -> Iterator[Record]:
        """Every record of every file not in `skip`, in file then row order."""
        from provenance.sources import hf

        if self.hub is not None:
            yield from hf.hub_records(self, skip)
            return
        for entry in self.entries:
            if entry.path in skip:
                continue
            if entry.problem:
                yield error_record(entry.path, 0, entry.problem)
                continue
            yield from records_from_rows(entry.path, read_rows(entry), self.text_field)


def open_dataset(
    source: str,
    *,
    text_field: Sequence[str] | None = None,
    allow_network: bool = False,
) -> Dataset:
    """The dataset at `source`: a file, a directory, a `save_to_disk` folder or a hub id."""
    from provenance.sources import hf

    path = Path(source)
    if not path.exists() and not path.is_symlink():
        if hf.looks_like_hub_id(source):
            return hf.open_hub_dataset(source, text_field=text_field, allow_network=allow_network)
        raise InputError(f"dataset path does not exist: {source}")
    if path.is_dir() and hf.is_saved_dataset(path):
        return hf.open_saved_dataset(path, source, text_field=text_field)
    if path.is_file():
        entry = _entry(path.name, path)
        if entry.problem and entry.format == "unknown":
            supported = ", ".join(sorted(FORMATS))
            raise InputError(f"unsupported file format: {source} (supported: {supported})")
        return Dataset(source, path.parent, [entry], [], text_field)
    if not path.is_dir():
        raise InputError(f"not a file or directory: {source}")
    entries, metadata = _walk(path.resolve())
    if not entries:
        raise InputError(f"dataset contains no data files: {source}")
    return Dataset(source, path.resolve(), entries, metadata, text_field)


def _walk(root: Path) -> tuple[list[Entry], list[Path]]:
    entries: list[Entry] = []
    metadata: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        here = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d != "__pycache__")
        for link in [d for d in dirnames if (here / d).is_symlink()]:
            dirnames.remove(link)  # os.walk does not descend; report it like a file
            filenames.append(link)
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            location = here / name
            rel = display_path(location.relative_to(root).as_posix())
            if location.is_symlink():
                try:
                    target = location.resolve(strict=False)
                except (RuntimeError, OSError):
                    entries.append(
                        Entry(rel, location, "symlink", problem="SYMLINK_LOOP: not followed")
                    )
                    continue
                if not target.is_relative_to(root):
                    entries.append(
                        Entry(
                            rel, location, "symlink", problem="SYMLINK_OUTSIDE_ROOT: not followed"
                        )
                    )
                    continue
                if target.is_dir():
                    continue  # inside the root: its files are walked where they really are
            if _is_metadata(name):
                metadata.append(location)
                continue
            entries.append(_entry(rel, location))
    entries.sort(key=lambda e: e.path)
    return entries, sorted(metadata)


def display_path(path: str) -> str:
    """A path as reports and the store show it: bytes that are not UTF-8 become escapes."""
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _is_metadata(name: str) -> bool:
    lower = name.lower()
    return lower in CARD_NAMES or lower.split(".")[0] in LICENSE_STEMS


def _entry(rel: str, location: Path) -> Entry:
    if location.exists() and not location.is_file():
        # a FIFO or a device would block or never end
        return Entry(rel, location, "special", problem="NOT_A_REGULAR_FILE: not read")
    suffixes = [s.lower() for s in location.suffixes]
    compression = COMPRESSIONS.get(suffixes[-1]) if suffixes else None
    if compression:
        suffixes = suffixes[:-1]
    fmt = FORMATS.get(suffixes[-1]) if suffixes else None
    if fmt is None:
        suffix = "".join(location.suffixes) or "(none)"
        problem = f"UNSUPPORTED_FORMAT: file extension {suffix} is not a data format"
        return Entry(rel, location, "unknown", compression, problem=problem)
    if compression and fmt == "parquet":
        return Entry(
            rel, location, fmt, compression, problem="UNSUPPORTED_FORMAT: compressed parquet"
        )
    return Entry(rel, location, fmt, compression)


def _format_name(entry: Entry) -> str:
    return f"{entry.format}+{entry.compression}" if entry.compression else entry.format


def _size(location: Path) -> int:
    try:
        return location.lstat().st_size
    except OSError:
        return 0


def _file_sha256(entry: Entry) -> str:
    """sha256 of the file's bytes; for an unreadable file or an outside link, of its problem."""
    if entry.format == "symlink":
        target = os.fsencode(os.readlink(entry.location))
        return hashlib.sha256(b"symlink:" + target).hexdigest()
    if entry.format == "special":
        return hashlib.sha256(f"special:{entry.problem}".encode()).hexdigest()
    digest = hashlib.sha256()
    try:
        with open(entry.location, "rb") as stream:
            for block in iter(lambda: stream.read(1 << 20), b""):
                digest.update(block)
    except OSError as exc:
        return hashlib.sha256(f"unreadable:{exc.strerror}".encode()).hexdigest()
    return digest.hexdigest()


def error_record(file: str, row: int, error: str) -> Record:
    return Record(
        id=content_id({"file": file, "row": row, "error": error}),
        file=file,
        row=row,
        shape="error",
        error=error,
    )


def records_from_rows(
    file: str, rows: Iterator[Row], custom_fields: Sequence[str] | None = None
) -> Iterator[Record]:
    """Records from a file's rows; the file's shape is the shape of its first readable row."""
    shape: str | None = None
    for row, data, error in rows:
        if error is not None:
            yield error_record(file, row, error)
            continue
        if shape is None:
            shape = detect_shape(data, custom_fields)
        row_shape = shape
        fields = text_fields(data, shape, custom_fields)
        if not fields and not custom_fields:
            # a row of another known shape in a mixed file is read as that shape
            row_shape = detect_shape(data)
            fields = text_fields(data, row_shape)
        if not fields:
            expected = ", ".join(custom_fields) if custom_fields else _expected(shape)
            yield error_record(file, row, f"MISSING_TEXT_FIELD: no text in {expected}")
            continue
        yield Record(
            id=content_id(data),
            file=file,
            row=row,
            shape=row_shape,
            fields=fields,
            license=record_license(data),
        )


def _expected(shape: str) -> str:
    from provenance.sources.shapes import SHAPES

    if shape in SHAPES:
        return "/".join(SHAPES[shape])
    return "any known field (text, instruction/output, messages, conversations, prompt/completion)"


def read_rows(entry: Entry) -> Iterator[Row]:
    """The rows of one file; read problems become error rows instead of exceptions."""
    from provenance.sources import jsonl, tabular

    readers: dict[str, RowReader] = {
        "jsonl": jsonl.read_jsonl,
        "json": jsonl.read_json,
        "text": jsonl.read_text,
        "csv": tabular.read_csv,
        "tsv": tabular.read_tsv,
        "parquet": tabular.read_parquet,
    }
    last = -1
    try:
        with _open(entry) as stream:
            head = stream.peek(SNIFF_BYTES)[:SNIFF_BYTES] if hasattr(stream, "peek") else b""
            if b"\x00" in head and entry.format != "parquet":
                yield 0, None, "BINARY_CONTENT: file holds binary data, not text"
                return
            if not head and entry.format != "parquet":
                yield 0, None, "EMPTY_FILE: file holds no records"
                return
            for row in readers[entry.format](stream):
                last = row[0]
                yield row
    except DecompressionLimit as exc:
        yield last + 1, None, f"DECOMPRESSION_LIMIT: {exc}; rest of file not read"
    except OSError as exc:
        # zstandard and gzip raise OSError subclasses for corrupt streams, open() for access.
        yield last + 1, None, f"UNREADABLE: {exc.strerror or exc}"
    except EOFError as exc:
        yield last + 1, None, f"UNREADABLE: truncated compressed stream ({exc})"


class DecompressionLimit(Exception):
    pass


class _BoundedReader(io.RawIOBase):
    """Stops a decompression bomb: raises once more than `limit` bytes come out."""

    def __init__(self, inner: IO[bytes], limit: int) -> None:
        self._inner = inner
        self._limit = limit
        self._count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        try:
            data = self._inner.read(len(buffer))
        except Exception as exc:  # zstandard.ZstdError and friends: a corrupt stream
            if isinstance(exc, OSError | EOFError):
                raise
            raise OSError(f"corrupt compressed stream ({str(exc).splitlines()[0]})") from None
        self._count += len(data)
        if self._count > self._limit:
            raise DecompressionLimit(f"decompressed size exceeds {self._limit:,} bytes")
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._inner.close()
        super().close()


def _open(entry: Entry) -> IO[bytes]:
    """The file's bytes, decompressed through a bound; the caller closes it."""
    if entry.compression is None:
        return open(entry.location, "rb", buffering=1 << 20)
    limit = max(MIN_EXPANDED_LIMIT, MAX_EXPANSION * _size(entry.location))
    inner: IO[bytes]
    if entry.compression == "gzip":
        inner = cast(IO[bytes], gzip.GzipFile(entry.location, "rb"))
    else:
        import zstandard

        raw = open(entry.location, "rb")  # noqa: SIM115
        inner = zstandard.ZstdDecompressor().stream_reader(raw, closefd=True)
    return io.BufferedReader(_BoundedReader(inner, limit), buffer_size=1 << 20)
