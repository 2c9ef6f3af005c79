"""The audit store: one DuckDB file holding scans, files, records, findings and reference sets.

It holds locators, hashes, statuses and masked previews — never record text or a detected value.
Every query the rest of the code needs lives here, so the schema has one owner.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from provenance.errors import StoreError
from provenance.model import Action, DataFile, Finding

STORE_ENV = "PROVENANCE_STORE"
DEFAULT_DIR = ".provenance"
DB_NAME = "audit.duckdb"

SCHEMA = """
CREATE TABLE IF NOT EXISTS scans (
    scan_id VARCHAR PRIMARY KEY,
    created_at TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    status VARCHAR NOT NULL,            -- running | complete | incomplete
    source VARCHAR NOT NULL,            -- what the user named
    root VARCHAR,                       -- resolved dataset root (null for a hub dataset)
    fingerprint VARCHAR,                -- sha256 over the sorted (path, sha256) of its files
    config_sha256 VARCHAR NOT NULL,     -- policy, detectors and options: same config may resume
    policy_source VARCHAR NOT NULL,
    policy_sha256 VARCHAR NOT NULL,
    tool JSON NOT NULL,
    usage JSON,
    options JSON NOT NULL,
    licenses JSON
);
CREATE TABLE IF NOT EXISTS files (
    scan_id VARCHAR NOT NULL,
    path VARCHAR NOT NULL,
    sha256 VARCHAR NOT NULL,
    format VARCHAR NOT NULL,
    size BIGINT NOT NULL,
    records BIGINT,
    done BOOLEAN NOT NULL DEFAULT false,
    PRIMARY KEY (scan_id, path)
);
CREATE TABLE IF NOT EXISTS records (
    scan_id VARCHAR NOT NULL,
    record_id VARCHAR NOT NULL,
    file VARCHAR NOT NULL,
    "row" BIGINT NOT NULL,
    shape VARCHAR NOT NULL,
    status VARCHAR NOT NULL,
    reasons VARCHAR[] NOT NULL
);
CREATE TABLE IF NOT EXISTS findings (
    scan_id VARCHAR NOT NULL,
    record_id VARCHAR NOT NULL,
    file VARCHAR NOT NULL,
    "row" BIGINT NOT NULL,
    detector VARCHAR NOT NULL,
    type VARCHAR NOT NULL,
    field VARCHAR,
    start BIGINT,
    "end" BIGINT,
    score DOUBLE NOT NULL,
    action VARCHAR NOT NULL,
    preview VARCHAR NOT NULL,
    detail JSON NOT NULL
);
-- reference sets (provenance.refs): documents are indexed once and reused by every scan.
-- Findings copy the set's name, document and license into their detail, so removing a set
-- never breaks an old report.
CREATE TABLE IF NOT EXISTS reference_sets (
    name VARCHAR PRIMARY KEY,
    license VARCHAR NOT NULL,
    description VARCHAR NOT NULL,
    threshold DOUBLE,                   -- containment threshold; null: the detector's default
    index_format VARCHAR NOT NULL,      -- tokenisers, shingle sizes, window of the index
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE IF NOT EXISTS reference_docs (
    set_name VARCHAR NOT NULL,
    doc_id INTEGER NOT NULL,
    name VARCHAR NOT NULL,              -- shown in reports: path under what was added, #row
    location VARCHAR NOT NULL,          -- absolute path (#row): re-adding it is a no-op
    sha256 VARCHAR NOT NULL,            -- of the document's text
    kind VARCHAR NOT NULL,              -- text | code
    chars BIGINT NOT NULL,
    tokens BIGINT NOT NULL,
    added_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (set_name, doc_id)
);
CREATE TABLE IF NOT EXISTS reference_tokens (
    set_name VARCHAR NOT NULL,
    doc_id INTEGER NOT NULL,
    shingles BLOB NOT NULL,             -- uint32 per shingle: what candidates are verified on
    starts BLOB NOT NULL,               -- uint32 character offset where each token starts
    ends BLOB NOT NULL,                 -- ... and ends
    PRIMARY KEY (set_name, doc_id)
);
CREATE TABLE IF NOT EXISTS reference_anchors (
    set_name VARCHAR NOT NULL,
    doc_id INTEGER NOT NULL,
    hash UBIGINT NOT NULL,              -- a winnowed shingle hash (the LSH key of its window)
    pos INTEGER NOT NULL                -- its shingle position in the document
);
"""

_FINDING_COLUMNS = [
    "scan_id", "record_id", "file", "row", "detector", "type", "field", "start", "end",
    "score", "action", "preview", "detail",
]  # fmt: skip
# DuckDB caches table blocks up to its memory limit (80% of RAM by default), so a long scan's
# inserts would make memory grow with the corpus. Inserts run under a small bound (`streaming`);
# settling statuses, sorting and reports get a roomy one, and spill to disk beyond it.
MEMORY_LIMIT = "1GB"
STREAMING_MEMORY_LIMIT = "64MB"
_SANDBOX: dict[str, bool] = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
}
_SEVERITY_SQL = (
    "CASE action WHEN 'error' THEN 4 WHEN 'block' THEN 3 WHEN 'redact' THEN 2 ELSE 0 END"
)


@dataclass(frozen=True)
class ScanRow:
    scan_id: str
    created_at: datetime
    finished_at: datetime | None
    status: str
    source: str
    root: str | None
    fingerprint: str | None
    config_sha256: str
    policy_source: str
    policy_sha256: str
    tool: dict[str, Any]
    usage: dict[str, Any] | None
    options: dict[str, Any]
    licenses: list[dict[str, Any]] | None

    @property
    def complete(self) -> bool:
        return self.status == "complete"


def store_dir(directory: str | Path | None = None) -> Path:
    """Where the store lives: `--store`, else $PROVENANCE_STORE, else ./.provenance."""
    chosen = directory or os.environ.get(STORE_ENV) or DEFAULT_DIR
    return Path(chosen)


class Store:
    """A connection to the audit store. Use as a context manager."""

    def __init__(
        self, directory: str | Path | None = None, *, create: bool = True, read_only: bool = False
    ) -> None:
        self.directory = store_dir(directory)
        self.path = self.directory / DB_NAME
        if not self.path.exists():
            if not create:
                raise StoreError(f"no audit store at {self.path} (run `provenance scan` first)")
            self.directory.mkdir(parents=True, exist_ok=True)
        try:
            # Read-only connections serve users' SQL: no other files, no network, no extensions.
            config: dict[str, str | bool | int | float | list[str]] = (
                dict(_SANDBOX) if read_only else {}
            )
            self.db = duckdb.connect(str(self.path), read_only=read_only, config=config)
        except duckdb.Error as exc:
            first = str(exc).splitlines()[0]
            raise StoreError(f"cannot open audit store {self.path}: {first}") from None
        self.db.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
        if not read_only:
            self.db.execute(SCHEMA)

    @contextmanager
    def streaming(self) -> Iterator[None]:
        """While a scan runs: a small memory bound, so memory stays flat (DuckDB spills)."""
        self.db.execute(f"SET memory_limit = '{STREAMING_MEMORY_LIMIT}'")
        try:
            yield
        finally:
            self.db.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.db.close()

    def execute(self, sql: str, params: Sequence[Any] = ()) -> duckdb.DuckDBPyConnection:
        return self.db.execute(sql, list(params))

    # -- scans ------------------------------------------------------------------------------

    def begin_scan(
        self,
        *,
        source: str,
        root: str | None,
        config_sha256: str,
        policy_source: str,
        policy_sha256: str,
        tool: dict[str, Any],
        usage: dict[str, Any] | None,
        options: dict[str, Any],
        files: Sequence[DataFile],
        fingerprint: str,
    ) -> tuple[str, set[str]]:
        """Start a scan, or resume the unfinished one with the same dataset and configuration.

        Returns the scan id and the paths of files a resumed scan already finished (whose
        hashes still match); their record-level results are kept.
        """
        resumable = self.execute(
            """SELECT scan_id FROM scans WHERE status IN ('running', 'incomplete')
               AND source = ? AND config_sha256 = ? ORDER BY created_at DESC LIMIT 1""",
            [source, config_sha256],
        ).fetchone()
        now = datetime.now(timezone.utc)
        if resumable:
            scan_id = resumable[0]
            done = {
                path
                for path, sha in self.execute(
                    "SELECT path, sha256 FROM files WHERE scan_id = ? AND done", [scan_id]
                ).fetchall()
                if any(f.path == path and f.sha256 == sha for f in files)
            }
            with self.transaction():
                keep = sorted(done)
                for table in ("records", "findings"):
                    self.execute(
                        f"DELETE FROM {table} WHERE scan_id = ? AND NOT list_contains(?, file)",
                        [scan_id, keep],
                    )
                self.execute("DELETE FROM files WHERE scan_id = ?", [scan_id])
                self._insert_files(scan_id, files, done)
                self.execute(
                    """UPDATE scans SET status = 'running', tool = ?, usage = ?, options = ?,
                       fingerprint = ?, root = ? WHERE scan_id = ?""",
                    [_json(tool), _json(usage), _json(options), fingerprint, root, scan_id],
                )
            return scan_id, done
        scan_id = f"scan-{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
        with self.transaction():
            self.execute(
                "INSERT INTO scans VALUES "
                "(?, ?, NULL, 'running', ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)",
                [scan_id, now, source, root, fingerprint, config_sha256, policy_source,
                 policy_sha256, _json(tool), _json(usage), _json(options)],
            )  # fmt: skip
            self._insert_files(scan_id, files, set())
        return scan_id, set()

    def _insert_files(self, scan_id: str, files: Sequence[DataFile], done: set[str]) -> None:
        for f in files:
            self.execute(
                "INSERT INTO files VALUES (?, ?, ?, ?, ?, NULL, ?)",
                [scan_id, f.path, f.sha256, f.format, f.size, f.path in done],
            )

    def add_results(
        self,
        scan_id: str,
        records: Sequence[tuple[str, str, int, str]],
        findings: Sequence[Finding],
        done_files: Iterable[str] = (),
    ) -> None:
        """Record-level results of one batch: (record_id, file, row, shape) rows and findings.

        Statuses are settled in `finish_scan`, once corpus-level findings are in too.
        """
        with self.transaction():
            if records:
                table = pa.table(
                    {
                        "scan_id": [scan_id] * len(records),
                        "record_id": [r[0] for r in records],
                        "file": [r[1] for r in records],
                        "row": [r[2] for r in records],
                        "shape": [r[3] for r in records],
                    }
                )
                self.db.register("_batch_records", table)
                self.db.execute(
                    """INSERT INTO records SELECT scan_id, record_id, file, "row", shape,
                       'cleared', []::VARCHAR[] FROM _batch_records"""
                )
                self.db.unregister("_batch_records")
            self.add_findings(scan_id, findings)
            for path in done_files:
                self.execute(
                    """UPDATE files SET done = true, records = (SELECT count(*) FROM records
                       WHERE scan_id = ? AND file = ?) WHERE scan_id = ? AND path = ?""",
                    [scan_id, path, scan_id, path],
                )

    def add_findings(self, scan_id: str, findings: Sequence[Finding]) -> None:
        if not findings:
            return
        columns: dict[str, list[Any]] = {c: [] for c in _FINDING_COLUMNS}
        for f in findings:
            values = (
                scan_id, f.record_id, f.file, f.row, f.detector, f.type, f.field, f.start, f.end,
                float(f.score), f.action.value, f.preview, _json(dict(f.detail)),
            )  # fmt: skip
            for column, value in zip(_FINDING_COLUMNS, values, strict=True):
                columns[column].append(value)
        table = pa.table(columns)
        self.db.register("_batch_findings", table)
        self.db.execute("INSERT INTO findings SELECT * FROM _batch_findings")
        self.db.unregister("_batch_findings")

    def finish_scan(self, scan_id: str, licenses: list[dict[str, Any]] | None = None) -> None:
        """Settle every record's status from its findings and mark the scan complete."""
        with self.transaction():
            self.execute(
                f"""UPDATE records SET status = s.status, reasons = s.reasons FROM (
                      SELECT file, "row",
                        CASE max({_SEVERITY_SQL}) WHEN 4 THEN 'error' WHEN 3 THEN 'blocked'
                          WHEN 2 THEN 'redacted' ELSE 'cleared' END AS status,
                        coalesce(list_sort(list_distinct(list(type) FILTER
                          (WHERE {_SEVERITY_SQL} >= 2))), []) AS reasons
                      FROM findings WHERE scan_id = ? GROUP BY file, "row") AS s
                    WHERE records.scan_id = ? AND records.file = s.file AND records."row" = s."row"
                """,
                [scan_id, scan_id],
            )
            self.execute(
                """UPDATE files SET records = (SELECT count(*) FROM records r
                   WHERE r.scan_id = files.scan_id AND r.file = files.path), done = true
                   WHERE scan_id = ?""",
                [scan_id],
            )
            self.execute(
                """UPDATE scans SET status = 'complete', finished_at = ?, licenses = ?
                   WHERE scan_id = ?""",
                [datetime.now(timezone.utc), _json(licenses), scan_id],
            )

    def mark_incomplete(self, scan_id: str) -> None:
        self.execute("UPDATE scans SET status = 'incomplete' WHERE scan_id = ?", [scan_id])

    def scan(self, scan_id: str | None = None, *, source: str | None = None) -> ScanRow:
        """A scan by id, else the latest complete scan (of `source`, when given)."""
        if scan_id:
            row = self.execute(f"SELECT {_SCAN_COLUMNS} FROM scans WHERE scan_id = ?", [scan_id])
            found = row.fetchone()
            if not found:
                raise StoreError(f"no scan {scan_id} in {self.path}")
            return _scan_row(found)
        sql = f"SELECT {_SCAN_COLUMNS} FROM scans WHERE status = 'complete'"
        params: list[Any] = []
        if source is not None:
            sql += " AND (source = ? OR root = ?)"
            params += [source, source]
        found = self.execute(sql + " ORDER BY finished_at DESC LIMIT 1", params).fetchone()
        if not found:
            what = f" of {source}" if source else ""
            raise StoreError(f"no complete scan{what} in {self.path} (run `provenance scan`)")
        return _scan_row(found)

    def files(self, scan_id: str) -> list[DataFile]:
        rows = self.execute(
            "SELECT path, sha256, format, size, coalesce(records, 0) FROM files "
            "WHERE scan_id = ? ORDER BY path",
            [scan_id],
        ).fetchall()
        return [DataFile(*row) for row in rows]

    def records(
        self,
        scan_id: str,
        status: str | None = None,
        *,
        not_cleared: bool = False,
        limit: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        sql = 'SELECT record_id, file, "row", shape, status, reasons FROM records WHERE scan_id = ?'
        params: list[Any] = [scan_id]
        if status:
            sql += " AND status = ?"
            params.append(status)
        if not_cleared:
            sql += " AND status <> 'cleared'"
        sql += ' ORDER BY file, "row"' + (f" LIMIT {int(limit)}" if limit is not None else "")
        cursor = self.execute(sql, params)
        keys = ("id", "file", "row", "shape", "status", "reasons")
        while batch := cursor.fetchmany(10_000):
            for row in batch:
                yield dict(zip(keys, row, strict=True))

    def findings(
        self, scan_id: str, *, not_allowed: bool = False, limit: int | None = None, **where: Any
    ) -> Iterator[Finding]:
        columns = ", ".join(_q(c) for c in _FINDING_COLUMNS[1:])
        sql = f"SELECT {columns} FROM findings WHERE scan_id = ?"
        params: list[Any] = [scan_id]
        if not_allowed:
            sql += " AND action <> 'allow'"
        for column, value in where.items():
            sql += f" AND {_q(column)} = ?"
            params.append(value)
        sql += ' ORDER BY file, "row", detector, field, start, "end", type'
        cursor = self.execute(sql + (f" LIMIT {int(limit)}" if limit is not None else ""), params)
        while batch := cursor.fetchmany(10_000):
            for r in batch:
                yield Finding(
                    record_id=r[0], file=r[1], row=r[2], detector=r[3], type=r[4], field=r[5],
                    start=r[6], end=r[7], score=r[8], action=Action(r[9]), preview=r[10],
                    detail=json.loads(r[11]),
                )  # fmt: skip

    def summary(self, scan_id: str) -> dict[str, Any]:
        counts = dict(
            self.execute(
                "SELECT status, count(*) FROM records WHERE scan_id = ? GROUP BY 1", [scan_id]
            ).fetchall()
        )
        by_detector = dict(
            self.execute(
                "SELECT detector, count(*) FROM findings WHERE scan_id = ? GROUP BY 1 ORDER BY 1",
                [scan_id],
            ).fetchall()
        )
        by_type = dict(
            self.execute(
                "SELECT type, count(*) FROM findings WHERE scan_id = ? GROUP BY 1 ORDER BY 1",
                [scan_id],
            ).fetchall()
        )
        return {
            "records": sum(counts.values()),
            "cleared": counts.get("cleared", 0),
            "redacted": counts.get("redacted", 0),
            "blocked": counts.get("blocked", 0),
            "errors": counts.get("error", 0),
            "findings_by_detector": by_detector,
            "findings_by_type": by_type,
        }

    def type_actions(self, scan_id: str) -> dict[str, str]:
        rows = self.execute(
            f"""SELECT type, arg_max(action, {_SEVERITY_SQL}) FROM findings WHERE scan_id = ?
                GROUP BY 1 ORDER BY 1""",
            [scan_id],
        ).fetchall()
        return dict(rows)

    def query(self, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Run a user's read-only SQL; returns column names and rows."""
        if not sql.strip():
            raise StoreError("query failed: the query is empty")
        try:
            cursor = self.db.execute(sql)
            if cursor.description is None:
                raise StoreError("query failed: the statement returns no rows")
            rows = cursor.fetchall()
        except duckdb.Error as exc:
            raise StoreError(f"query failed: {str(exc).splitlines()[0]}") from None
        columns = [d[0] for d in cursor.description]
        return columns, rows

    # -- reference sets ---------------------------------------------------------------------
    # Owned by provenance.refs, which builds the index; these are its queries.

    def reference_sets(self, names: Sequence[str] | None = None) -> list[dict[str, Any]]:
        """Registered reference sets with their document and token counts, by name."""
        sql = """SELECT s.name, s.license, s.description, s.threshold, s.index_format,
                   s.created_at, s.updated_at, count(d.doc_id), coalesce(sum(d.tokens), 0)
                 FROM reference_sets s LEFT JOIN reference_docs d ON d.set_name = s.name"""
        params: list[Any] = []
        if names is not None:
            sql += " WHERE list_contains(?, s.name)"
            params.append(list(names))
        rows = self.execute(sql + " GROUP BY ALL ORDER BY s.name", params).fetchall()
        keys = ("name", "license", "description", "threshold", "index_format", "created_at",
                "updated_at", "documents", "tokens")  # fmt: skip
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def create_reference_set(
        self, name: str, *, license: str, description: str, threshold: float | None,
        index_format: str,
    ) -> None:  # fmt: skip
        now = datetime.now(timezone.utc)
        self.execute(
            "INSERT INTO reference_sets VALUES (?, ?, ?, ?, ?, ?, ?)",
            [name, license, description, threshold, index_format, now, now],
        )

    def update_reference_set(
        self, name: str, *, description: str | None = None, threshold: float | None = None
    ) -> None:
        """Touch the set's update time, and change its description or threshold when given."""
        self.execute(
            """UPDATE reference_sets SET updated_at = ?, description = coalesce(?, description),
               threshold = coalesce(?, threshold) WHERE name = ?""",
            [datetime.now(timezone.utc), description, threshold, name],
        )

    def remove_reference_set(self, name: str) -> None:
        with self.transaction():
            for table in ("reference_anchors", "reference_tokens", "reference_docs"):
                self.execute(f"DELETE FROM {table} WHERE set_name = ?", [name])
            self.execute("DELETE FROM reference_sets WHERE name = ?", [name])

    def reference_docs(self, name: str) -> list[dict[str, Any]]:
        rows = self.execute(
            """SELECT doc_id, name, location, sha256, kind, chars, tokens, added_at
               FROM reference_docs WHERE set_name = ? ORDER BY doc_id""",
            [name],
        ).fetchall()
        keys = ("doc_id", "name", "location", "sha256", "kind", "chars", "tokens", "added_at")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def add_reference_doc(
        self, set_name: str, doc: dict[str, Any], *, shingles: bytes, starts: bytes, ends: bytes,
        anchor_hashes: Any, anchor_positions: Any,
    ) -> int:  # fmt: skip
        """Insert one indexed document (call inside a transaction); returns its doc_id."""
        found = self.execute(
            "SELECT coalesce(max(doc_id) + 1, 0) FROM reference_docs WHERE set_name = ?",
            [set_name],
        ).fetchone()
        doc_id = int(found[0]) if found else 0
        self.execute(
            "INSERT INTO reference_docs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [set_name, doc_id, doc["name"], doc["location"], doc["sha256"], doc["kind"],
             doc["chars"], doc["tokens"], datetime.now(timezone.utc)],
        )  # fmt: skip
        self.execute(
            "INSERT INTO reference_tokens VALUES (?, ?, ?, ?, ?)",
            [set_name, doc_id, shingles, starts, ends],
        )
        table = pa.table(
            {
                "set_name": pa.array([set_name] * len(anchor_hashes), pa.string()),
                "doc_id": pa.array([doc_id] * len(anchor_hashes), pa.int32()),
                "hash": pa.array(anchor_hashes, pa.uint64()),
                "pos": pa.array(anchor_positions, pa.int32()),
            }
        )
        self.db.register("_reference_anchors", table)
        self.db.execute("INSERT INTO reference_anchors SELECT * FROM _reference_anchors")
        self.db.unregister("_reference_anchors")
        return doc_id

    def remove_reference_doc(self, set_name: str, doc_id: int) -> None:
        """Delete one document of a set (call inside a transaction)."""
        for table in ("reference_anchors", "reference_tokens", "reference_docs"):
            self.execute(
                f"DELETE FROM {table} WHERE set_name = ? AND doc_id = ?", [set_name, doc_id]
            )

    def reference_tokens(self, set_name: str) -> Iterator[tuple[int, bytes, bytes, bytes]]:
        """(doc_id, shingles, starts, ends) of every document of a set, in doc_id order."""
        cursor = self.execute(
            """SELECT doc_id, shingles, starts, ends FROM reference_tokens WHERE set_name = ?
               ORDER BY doc_id""",
            [set_name],
        )
        while batch := cursor.fetchmany(256):
            yield from batch

    def reference_anchors(self, set_name: str) -> pa.Table:
        """Every anchor of a set: doc_id, hash, pos (an Arrow table, for numpy)."""
        return self.db.sql(
            "SELECT doc_id, hash, pos FROM reference_anchors WHERE set_name = ?", params=[set_name]
        ).to_arrow_table()

    # -- end of reference sets --------------------------------------------------------------

    def transaction(self) -> _Transaction:
        return _Transaction(self.db)


class _Transaction:
    def __init__(self, db: duckdb.DuckDBPyConnection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN TRANSACTION")

    def __exit__(self, exc_type: object, *rest: object) -> None:
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")


_SCAN_COLUMNS = (
    "scan_id, created_at, finished_at, status, source, root, fingerprint, config_sha256, "
    "policy_source, policy_sha256, tool, usage, options, licenses"
)


def _scan_row(row: tuple[Any, ...]) -> ScanRow:
    values = list(row)
    for i in (10, 11, 12, 13):
        values[i] = json.loads(values[i]) if values[i] is not None else None
    return ScanRow(*values)


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, sort_keys=True, default=str)


def _q(column: str) -> str:
    return f'"{column}"' if column in ("row", "end") else column
