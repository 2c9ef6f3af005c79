"""Reference sets: protected works a user registers, indexed once in the store, reused by scans.

A reference set is a name, a license and documents read from files: books as .txt, articles as
jsonl rows (the sources layer reads them), source code files (read here, tokenised as code).
Each document is stored as its shingle hashes (what a candidate match is verified on), the
character offsets of its tokens (to report the matched span) and its anchors: the winnowed
shingle hashes, one per window of `WINDOW` shingles, which a scan looks up to find candidates.

Adding is incremental: a document is keyed by its absolute location, so re-adding an unchanged
file is a no-op and a changed one is replaced; each document is written in its own
transaction, so an interrupted `refs add` leaves a consistent set that re-running completes.

`load_index` turns the chosen sets into one `ReferenceIndex` of a few numpy arrays, which the
scan ships once to every worker.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from provenance.detectors.shingles import CODE, TEXT, Tokens, shingle_hashes, tokens, winnow
from provenance.errors import InputError, RuleError, StoreError
from provenance.store import Store

# Shingle sizes and anchor window. Stored with each set as its index format: a set indexed
# with other values must be added again (the scan says so) rather than silently mismatch.
SHINGLE_K = {TEXT: 4, CODE: 10}
WINDOW = 4
INDEX_FORMAT = f"v1 text-k{SHINGLE_K[TEXT]} code-k{SHINGLE_K[CODE]} w{WINDOW}"

_CODE_SUFFIX_LIST = """
.py .pyi .c .h .cc .cpp .cxx .hpp .hh .java .js .mjs .cjs .jsx .ts .tsx .go .rs .rb .php .cs .swift
.kt .kts .scala .m .mm .sh .bash .pl .pm .lua .r .jl .hs .ml .ex .exs .erl .clj .dart .sql
"""
CODE_SUFFIXES = frozenset(_CODE_SUFFIX_LIST.split())
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_LICENSE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.+-]*$")
_SNIFF = 8192
_CHUNK_CHARS = 8 << 20  # long documents are tokenised in pieces to bound memory

Training = Literal["permitted", "non-commercial", "not-permitted"]


# -- licenses ----------------------------------------------------------------------------------


class LicenseTerms(BaseModel):
    """What a reference set's license says about training on text copied from it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    training: Training = "not-permitted"
    attribution: bool = False
    share_alike: bool = False

    @property
    def obligations(self) -> list[str]:
        return [
            name
            for name, needed in (
                ("attribution", self.attribution),
                ("share-alike", self.share_alike),
            )
            if needed
        ]


class _LicenseTable(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_: Literal["provenance.reference-licenses/v1"] = Field(alias="schema")
    licenses: dict[str, LicenseTerms]


_TABLE_SOURCE = "builtin:licenses/reference-licenses.yaml"
_TRAINING_ORDER: tuple[Training, ...] = ("not-permitted", "non-commercial", "permitted")


@cache
def license_table() -> dict[str, LicenseTerms]:
    """The shipped table, keyed by lower-cased license id."""
    resource = resources.files("provenance.rules") / "licenses" / "reference-licenses.yaml"
    try:
        table = _LicenseTable.model_validate(yaml.safe_load(resource.read_bytes()))
    except (yaml.YAMLError, ValidationError) as exc:
        raise RuleError(f"{_TABLE_SOURCE}: {str(exc).splitlines()[0]}") from None
    return {key.lower(): terms for key, terms in table.licenses.items()}


def license_terms(expression: str) -> LicenseTerms:
    """The terms of a license id or a simple `A OR B` / `A AND B` expression; unknown blocks."""
    table = license_table()
    text = expression.strip().strip("()")
    for operator, pick in ((" OR ", max), (" AND ", min)):
        if operator in text.upper():
            parts = re.split(operator, text, flags=re.IGNORECASE)
            terms = [license_terms(part) for part in parts]
            return pick(terms, key=lambda t: _TRAINING_ORDER.index(t.training))
    return table.get(text.lower(), LicenseTerms())


def is_known_license(expression: str) -> bool:
    parts = re.split(r"\s+(?:OR|AND)\s+", expression.strip().strip("()"), flags=re.IGNORECASE)
    return all(part.lower() in license_table() for part in parts)


# -- registering -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReferenceSet:
    """A registered set as `refs list` and `refs show` print it."""

    name: str
    license: str
    description: str
    threshold: float | None
    documents: int
    tokens: int
    index_format: str
    terms: LicenseTerms


@dataclass(frozen=True)
class AddResult:
    """What `add_reference_set` did, per document name."""

    set: ReferenceSet
    created: bool
    added: tuple[str, ...]
    replaced: tuple[str, ...]
    unchanged: tuple[str, ...]
    skipped: tuple[tuple[str, str], ...]  # (name, reason): empty, binary, unreadable ...


@dataclass(frozen=True)
class _Document:
    name: str
    location: str
    kind: str
    text: str


def validate_name(name: str) -> str:
    if not _NAME.match(name):
        raise InputError(
            f"invalid reference set name {name!r}: use letters, digits, '.', '_' or '-' "
            "(at most 64, starting with a letter or digit)"
        )
    return name


def _validate_license(expression: str) -> str:
    parts = re.split(r"\s+(?:OR|AND)\s+", expression.strip().strip("()"), flags=re.IGNORECASE)
    if not expression.strip() or not all(_LICENSE_ID.match(part) for part in parts):
        raise InputError(
            f"invalid license {expression!r}: give an SPDX id or a LicenseRef- "
            "(e.g. CC-BY-4.0, LicenseRef-all-rights-reserved)"
        )
    return expression.strip()


def _validate_threshold(threshold: float | None) -> float | None:
    if threshold is not None and not 0.0 < threshold <= 1.0:
        raise InputError(f"invalid threshold {threshold}: it must be in (0, 1]")
    return threshold


def add_reference_set(
    store: Store,
    name: str,
    paths: Sequence[str | Path],
    *,
    license: str | None = None,
    description: str | None = None,
    threshold: float | None = None,
) -> AddResult:
    """Create the set `name` or add documents to it; re-adding an unchanged file is a no-op.

    A new set needs a license; an existing set keeps its license (giving another one is an
    error: remove the set first). Unreadable, empty and binary files are skipped and listed;
    a new set with no readable document is not created.
    """
    validate_name(name)
    _validate_threshold(threshold)
    if not paths:
        raise InputError("no reference paths given")
    missing = [str(p) for p in paths if not Path(p).exists()]
    if missing:
        raise InputError(f"reference path does not exist: {missing[0]}")
    existing = {s["name"]: s for s in store.reference_sets([name])}.get(name)
    if existing is None:
        if not license:
            raise InputError(f"reference set {name!r} is new: give its --license")
        license = _validate_license(license)
    else:
        if license and license.strip() != existing["license"]:
            raise InputError(
                f"reference set {name!r} exists with license {existing['license']}; "
                f"remove it first to register it under {license.strip()}"
            )
        _check_format(existing)
        license = existing["license"]
    assert license is not None
    known = {doc["location"]: doc for doc in store.reference_docs(name)} if existing else {}
    by_sha = {doc["sha256"]: doc["name"] for doc in known.values()}
    added: list[str] = []
    replaced: list[str] = []
    unchanged: list[str] = []
    skipped: list[tuple[str, str]] = []
    created = False
    for item in _documents(paths):
        if isinstance(item, tuple):
            skipped.append(item)
            continue
        sha = hashlib.sha256(item.text.encode("utf-8", "surrogatepass")).hexdigest()
        previous = known.get(item.location)
        if previous is not None and previous["sha256"] == sha:
            unchanged.append(item.name)
            continue
        if previous is None and sha in by_sha:
            skipped.append((item.name, f"DUPLICATE_CONTENT: same text as {by_sha[sha]}"))
            continue
        indexed = _index_document(item)
        if indexed is None:
            skipped.append((item.name, "NO_TOKENS: no words or code tokens in the document"))
            continue
        with store.transaction():
            if existing is None and not created:
                store.create_reference_set(
                    name, license=license, description=description or "", threshold=threshold,
                    index_format=INDEX_FORMAT,
                )  # fmt: skip
                created = True
            if previous is not None:
                store.remove_reference_doc(name, previous["doc_id"])
            doc = {"name": item.name, "location": item.location, "sha256": sha, **indexed.meta}
            store.add_reference_doc(name, doc, **indexed.arrays)
        known[item.location] = {**doc, "doc_id": -1}
        by_sha[sha] = item.name
        (replaced if previous is not None else added).append(item.name)
    if existing is None and not created:
        reasons = "; ".join(f"{n}: {r}" for n, r in skipped[:3]) or "no documents found"
        raise InputError(f"no readable reference documents for {name!r} ({reasons})")
    if existing is not None and (added or replaced or description or threshold is not None):
        store.update_reference_set(name, description=description, threshold=threshold)
    return AddResult(
        reference_set(store, name), created, tuple(added), tuple(replaced), tuple(unchanged),
        tuple(skipped),
    )  # fmt: skip


def _check_format(row: dict[str, Any]) -> None:
    if row["index_format"] != INDEX_FORMAT:
        raise StoreError(
            f"reference set {row['name']!r} was indexed as {row['index_format']!r}, this version "
            f"uses {INDEX_FORMAT!r}: remove it and add its files again"
        )


def reference_set(store: Store, name: str) -> ReferenceSet:
    rows = store.reference_sets([name])
    if not rows:
        raise InputError(f"no reference set {name!r} (see `provenance refs list`)")
    return _reference_set(rows[0])


def _reference_set(row: dict[str, Any]) -> ReferenceSet:
    return ReferenceSet(
        name=row["name"], license=row["license"], description=row["description"],
        threshold=row["threshold"], documents=int(row["documents"]), tokens=int(row["tokens"]),
        index_format=row["index_format"], terms=license_terms(row["license"]),
    )  # fmt: skip


def list_reference_sets(store: Store) -> list[ReferenceSet]:
    return [_reference_set(row) for row in store.reference_sets()]


def reference_documents(store: Store, name: str) -> list[dict[str, Any]]:
    """The documents of a set (name, location, sha256, kind, chars, tokens, added_at)."""
    reference_set(store, name)
    return store.reference_docs(name)


def remove_reference_set(store: Store, name: str) -> ReferenceSet:
    """Delete a set and its index. Findings of old scans keep its name, document and license."""
    removed = reference_set(store, name)
    store.remove_reference_set(name)
    return removed


# -- reading documents -------------------------------------------------------------------------


def _documents(paths: Sequence[str | Path]) -> Iterator[_Document | tuple[str, str]]:
    """Every document under `paths`, or (name, reason) for what cannot be used."""
    from provenance.sources.base import open_dataset, read_rows, records_from_rows

    for raw in paths:
        path = Path(raw)
        base = path.resolve().parent
        if path.is_file() and path.suffix.lower() in CODE_SUFFIXES:
            yield _code_document(path.name, path.resolve())
            continue
        dataset = open_dataset(str(path))
        for entry in dataset.entries:
            location = entry.location.resolve()
            name = (
                location.relative_to(base).as_posix()
                if location.is_relative_to(base)
                else (entry.path)
            )
            if entry.format == "unknown" and location.suffix.lower() in CODE_SUFFIXES:
                yield _code_document(name, location)
                continue
            if entry.problem:
                yield name, entry.problem
                continue
            single = entry.format == "text"
            for record in records_from_rows(entry.path, read_rows(entry)):
                label = name if single else f"{name}#{record.row}"
                if record.error:
                    yield label, record.error
                    continue
                where = str(location) if single else f"{location}#{record.row}"
                yield _Document(label, where, TEXT, record.text)


def _code_document(name: str, location: Path) -> _Document | tuple[str, str]:
    try:
        data = location.read_bytes()
    except OSError as exc:
        return name, f"UNREADABLE: {exc.strerror}"
    if not data.strip():
        return name, "EMPTY_FILE: file holds no text"
    if b"\x00" in data[:_SNIFF]:
        return name, "BINARY_CONTENT: file holds binary data, not text"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return name, f"INVALID_UTF8: byte {exc.start}"
    return _Document(name, str(location), CODE, text)


@dataclass(frozen=True)
class _Indexed:
    meta: dict[str, Any]
    arrays: dict[str, Any]


def document_tokens(text: str, kind: str) -> Tokens:
    """Tokens of a whole document; long prose is cut at whitespace into pieces to bound memory."""
    if kind == CODE or len(text) <= _CHUNK_CHARS:
        return tokens(text, kind)
    pieces: list[Tokens] = []
    start = 0
    while start < len(text):
        end = min(len(text), start + _CHUNK_CHARS)
        if end < len(text):
            cut = max(text.rfind(" ", start, end), text.rfind("\n", start, end))
            end = cut + 1 if cut > start else end
        piece = tokens(text[start:end], kind)
        pieces.append(Tokens(piece.hashes, piece.starts + start, piece.ends + start))
        start = end
    return Tokens(
        np.concatenate([p.hashes for p in pieces]),
        np.concatenate([p.starts for p in pieces]),
        np.concatenate([p.ends for p in pieces]),
    )


def _index_document(doc: _Document) -> _Indexed | None:
    toks = document_tokens(doc.text, doc.kind)
    if len(toks) == 0:
        return None
    shingles = shingle_hashes(toks.hashes, SHINGLE_K[doc.kind])
    anchors = winnow(shingles, WINDOW)
    return _Indexed(
        meta={"kind": doc.kind, "chars": len(doc.text), "tokens": len(toks)},
        arrays={
            "shingles": verification_hashes(shingles).tobytes(),
            "starts": toks.starts.astype(np.uint32).tobytes(),
            "ends": toks.ends.astype(np.uint32).tobytes(),
            "anchor_hashes": shingles[anchors],
            "anchor_positions": anchors.astype(np.int32),
        },
    )


def verification_hashes(shingles: np.ndarray) -> np.ndarray:
    """The uint32 form shingles are verified in: half the memory, collisions stay negligible
    because verification compares a record's span with one aligned region of one document."""
    return (shingles >> np.uint64(32)).astype(np.uint32)


# -- the index a scan uses ---------------------------------------------------------------------


@dataclass(frozen=True)
class SetInfo:
    """What a finding needs to say about a set, copied into its detail."""

    name: str
    license: str
    threshold: float | None
    training: str
    obligations: tuple[str, ...]
    documents: int
    fingerprint: str  # sha256 over its documents' names and hashes: which version was used


@dataclass(frozen=True)
class Anchors:
    """Anchor lookup for one kind of document: hashes sorted, with document and position."""

    hashes: np.ndarray  # uint64, sorted
    docs: np.ndarray  # int32, index into the ReferenceIndex documents
    positions: np.ndarray  # int32, shingle position in that document


@dataclass(frozen=True)
class ReferenceIndex:
    """Everything the reference detector needs, as a few arrays (cheap to pickle to workers).

    Document d's shingles are `shingles[shingle_offsets[d]:shingle_offsets[d + 1]]`, its token
    offsets `starts`/`ends[token_offsets[d]:token_offsets[d + 1]]`.
    """

    sets: tuple[SetInfo, ...]
    doc_set: np.ndarray  # int32: index into sets
    doc_names: tuple[str, ...]
    doc_kinds: tuple[str, ...]
    shingle_offsets: np.ndarray  # int64, len docs + 1
    token_offsets: np.ndarray  # int64, len docs + 1
    shingles: np.ndarray  # uint32
    starts: np.ndarray  # uint32
    ends: np.ndarray  # uint32
    anchors: dict[str, Anchors]
    shingle_k: dict[str, int]
    window: int

    def __repr__(self) -> str:  # options may be logged or hashed: never dump the arrays
        names = ", ".join(s.name for s in self.sets)
        return f"ReferenceIndex(sets=[{names}], documents={len(self.doc_names)})"

    @property
    def kinds(self) -> list[str]:
        return [kind for kind in (TEXT, CODE) if len(self.anchors[kind].hashes)]

    def doc_shingles(self, doc: int) -> np.ndarray:
        return self.shingles[self.shingle_offsets[doc] : self.shingle_offsets[doc + 1]]

    def doc_offsets(self, doc: int) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = self.token_offsets[doc], self.token_offsets[doc + 1]
        return self.starts[lo:hi], self.ends[lo:hi]


def empty_index() -> ReferenceIndex:
    return _build_index([], [], [], [])


def load_index(store: Store | None, names: Sequence[str] | None = None) -> ReferenceIndex:
    """The index of the named sets, or of every registered set when `names` is None."""
    if store is None:
        if names:
            raise InputError(f"no reference set {names[0]!r}: there is no audit store yet")
        return empty_index()
    rows = store.reference_sets(list(dict.fromkeys(names)) if names is not None else None)
    if names is not None:
        found = {row["name"] for row in rows}
        for name in names:
            if name not in found:
                raise InputError(f"no reference set {name!r} (see `provenance refs list`)")
    sets: list[SetInfo] = []
    docs: list[tuple[int, str, str]] = []  # (set index, name, kind)
    token_arrays: list[tuple[bytes, bytes, bytes]] = []
    anchor_tables: list[tuple[int, dict[int, int], Any]] = []
    for set_index, row in enumerate(rows):
        _check_format(row)
        listing = store.reference_docs(row["name"])
        terms = license_terms(row["license"])
        digest = hashlib.sha256()
        for doc in listing:
            digest.update(f"{doc['name']}\0{doc['sha256']}\n".encode())
        sets.append(
            SetInfo(
                name=row["name"], license=row["license"], threshold=row["threshold"],
                training=terms.training, obligations=tuple(terms.obligations),
                documents=len(listing), fingerprint=digest.hexdigest(),
            )
        )  # fmt: skip
        local: dict[int, int] = {}
        kinds = {doc["doc_id"]: (doc["name"], doc["kind"]) for doc in listing}
        for doc_id, shingles, starts, ends in store.reference_tokens(row["name"]):
            local[doc_id] = len(docs)
            docs.append((set_index, *kinds[doc_id]))
            token_arrays.append((shingles, starts, ends))
        anchor_tables.append((set_index, local, store.reference_anchors(row["name"])))
    return _build_index(sets, docs, token_arrays, anchor_tables)


def _build_index(
    sets: list[SetInfo],
    docs: list[tuple[int, str, str]],
    token_arrays: list[tuple[bytes, bytes, bytes]],
    anchor_tables: list[tuple[int, dict[int, int], Any]],
) -> ReferenceIndex:
    shingle_parts = [np.frombuffer(t[0], dtype=np.uint32) for t in token_arrays]
    start_parts = [np.frombuffer(t[1], dtype=np.uint32) for t in token_arrays]
    end_parts = [np.frombuffer(t[2], dtype=np.uint32) for t in token_arrays]
    kinds = tuple(d[2] for d in docs)
    kind_of_doc = np.array([k == CODE for k in kinds], dtype=bool)
    hashes: list[np.ndarray] = []
    doc_index: list[np.ndarray] = []
    positions: list[np.ndarray] = []
    for _set_index, local, table in anchor_tables:
        if table.num_rows == 0:
            continue
        lookup = np.full(max(local) + 1, -1, dtype=np.int32)
        for doc_id, index in local.items():
            lookup[doc_id] = index
        hashes.append(table.column("hash").to_numpy())
        doc_index.append(lookup[table.column("doc_id").to_numpy()])
        positions.append(table.column("pos").to_numpy().astype(np.int32))
    all_hashes = np.concatenate(hashes) if hashes else np.zeros(0, dtype=np.uint64)
    all_docs = np.concatenate(doc_index) if doc_index else np.zeros(0, dtype=np.int32)
    all_pos = np.concatenate(positions) if positions else np.zeros(0, dtype=np.int32)
    anchors: dict[str, Anchors] = {}
    for kind in (TEXT, CODE):
        mask = kind_of_doc[all_docs] == (kind == CODE)
        # Sorted by hash, then document and position, so lookups and results are deterministic.
        order = np.lexsort((all_pos[mask], all_docs[mask], all_hashes[mask]))
        anchors[kind] = Anchors(
            all_hashes[mask][order], all_docs[mask][order], all_pos[mask][order]
        )
    return ReferenceIndex(
        sets=tuple(sets),
        doc_set=np.array([d[0] for d in docs], dtype=np.int32),
        doc_names=tuple(d[1] for d in docs),
        doc_kinds=kinds,
        shingle_offsets=_offsets(shingle_parts),
        token_offsets=_offsets(start_parts),
        shingles=_concat(shingle_parts, np.uint32),
        starts=_concat(start_parts, np.uint32),
        ends=_concat(end_parts, np.uint32),
        anchors=anchors,
        shingle_k=dict(SHINGLE_K),
        window=WINDOW,
    )


def _offsets(parts: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(([0], np.cumsum([len(p) for p in parts], dtype=np.int64))).astype(
        np.int64
    )


def _concat(parts: list[np.ndarray], dtype: Any) -> np.ndarray:
    return np.concatenate(parts).astype(dtype, copy=False) if parts else np.zeros(0, dtype=dtype)
