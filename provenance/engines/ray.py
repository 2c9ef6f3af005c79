"""The Ray engine: the same scan on a Ray cluster, through Ray Data, with the same results.

The driver is the process that runs `provenance scan`; it owns the store. A scan runs as:

1. read     Ray Data read tasks, one per file (small files grouped up to `TASK_BYTES`) or per
            split of a Hugging Face dataset, each calling `Dataset.records()` on a one-file view
            of the dataset: the project's own readers, so shapes, error records and locators are
            exactly what the local engine sees.
2. detect   `map_batches` over a fixed pool of actors. Each actor builds its detectors once
            (spaCy and presidio load once per actor) from specs put in the object store once
            (the reference index travels inside them), runs `process_batch`, the function the
            local engine runs, applies the policy, and writes records, findings and sketches as
            Parquet parts. It returns a one-row manifest naming them.
3. ingest   The driver streams the manifests and loads each part into DuckDB; a file is marked
            done once all its records are in, so an interrupted scan resumes like a local one.
4. corpus   Within-corpus duplicates are grouped on the cluster (`ray_duplicates`): the driver
            never holds the corpus's signatures. Any other corpus-level detector gets its
            sketches back on the driver in corpus order, as the local engine gives them.

Results go to `$PROVENANCE_RAY_RESULTS` (a path or a pyarrow filesystem URI such as
`s3://bucket/prefix`), by default `ray/` in the store's directory, which suits a single machine;
they are deleted when the scan ends. Ray runs quietly: no dashboard, no usage statistics, no
progress bars or Ray Data chatter on stderr (its logs stay in the Ray session directory).
"""

from __future__ import annotations

import base64
import importlib
import json
import logging
import os
import pickle
import socket
import time
import uuid
import warnings
from collections import Counter, defaultdict
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from contextlib import ExitStack, closing, contextmanager
from dataclasses import dataclass, replace
from functools import partial
from itertools import groupby
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from provenance.detectors import BUILTIN
from provenance.detectors.base import Detector, DetectorSpec
from provenance.engines import ray_duplicates
from provenance.engines.base import batches, process_batch
from provenance.errors import InputError, ProvenanceError
from provenance.model import Finding, Record, TextField
from provenance.policy import Policy
from provenance.sources.base import Dataset

if TYPE_CHECKING:
    import ray.data

    from provenance.store import Store

RESULTS_ENV = "PROVENANCE_RAY_RESULTS"
RESULTS_DIR = "ray"
TASK_BYTES = 64 * 1024 * 1024  # files smaller than this share a read task
CHUNK_RECORDS = 2048  # a chunk (one actor call, one set of Parquet parts) holds at most this
CHUNK_CHARS = 8_000_000  # many records and this much text
PARTS_PER_TASK = 16  # Parquet parts one task reads back for the corpus stages
INGEST_PARTS = 16  # the driver loads up to this many Parquet parts per transaction,
INGEST_SECONDS = 2.0  # or what arrived in this long, whichever comes first
# On a cluster an actor lost with its node is restarted, a few times: a record that crashes
# its actor must fail the scan, not retry forever. On a local instance a crash is never a lost
# node, so it fails at once (and Ray then has no restartable actor to warn about on stderr).
CLUSTER_ACTOR_RESTARTS = 3
CONNECT_SECONDS = 10.0  # how long a Ray address may take to accept a connection

ProgressHook = Callable[[int, int, int], None]


@dataclass(frozen=True)
class CorpusOnRay:
    """How a corpus-level detector runs on Ray without gathering its sketches on the driver.

    `rows` (worker side) turns one batch's sketches into Arrow rows; `findings` (driver side)
    gets the detector built on the driver, a Ray Dataset of all those rows, their count and
    the policy, and yields the corpus-level findings, computed on the cluster with the policy
    applied, as Arrow tables of the store's findings columns (`FINDING_SCHEMA`, detail as JSON).
    """

    rows: Callable[[list[Any], Mapping[str, int]], pa.Table]
    findings: Callable[[Any, ray.data.Dataset, int, Policy], Generator[pa.Table, None, None]]


DISTRIBUTED: dict[str, CorpusOnRay] = {
    "duplicate": CorpusOnRay(ray_duplicates.sketch_table, ray_duplicates.duplicate_findings),
}

_started_here = False  # whether `connect` started the Ray instance, so `run_ray` stops it


def connect(address: str | None = None, workers: int | None = None) -> None:
    """Attach to the Ray cluster at `address` (else $RAY_ADDRESS), or start a local instance.

    Called before the scan hashes any file, so a wrong address fails at once. A Ray instance
    already initialised in this process (a test, a notebook) is used as it is.
    """
    global _started_here
    try:
        import ray
    except ImportError:
        raise InputError("the ray engine needs Ray: pip install 'provenance-audit[ray]'") from None
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    if ray.is_initialized():
        return
    address = address or os.environ.get("RAY_ADDRESS") or None
    if address:
        _check_reachable(address)
    # A new local instance turns on token authentication and says so on every start; that is
    # news to nobody running a scan, so the notice stays in Ray's logger.
    auth = logging.getLogger("ray._private.authentication.authentication_token_setup")
    level = auth.level
    auth.setLevel(logging.ERROR)
    try:
        ray.init(
            address=address,
            num_cpus=workers if address is None else None,
            include_dashboard=False,
            logging_level=logging.WARNING,
            log_to_driver=False,
        )
    except (ConnectionError, RuntimeError, ValueError, TimeoutError) as exc:
        where = f"at {address}" if address else "locally"
        raise InputError(f"cannot start or reach Ray {where}: {_first_line(exc)}") from None
    finally:
        auth.setLevel(level)
    _started_here = address is None


def _check_reachable(address: str) -> None:
    """Fail in seconds on an address nothing listens at: Ray itself retries for minutes."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        return  # "auto" and the like: Ray resolves them, and fails at once if it cannot
    try:
        socket.create_connection((host, int(port)), timeout=CONNECT_SECONDS).close()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise InputError(f"cannot reach Ray at {address}: {reason}") from None


def disconnect() -> None:
    """Stop the local Ray instance `connect` started, if it did."""
    global _started_here
    if _started_here:
        import ray

        ray.shutdown()
        _started_here = False


def run_ray(
    dataset: Dataset,
    specs: Sequence[DetectorSpec],
    driver: Sequence[Detector],
    *,
    store: Store,
    scan_id: str,
    policy: Policy,
    done: frozenset[str],
    workers: int | None,
    progress: ProgressHook | None,
    total_files: int,
) -> None:
    """Scan `dataset` on Ray into `store`; afterwards the caller runs `finish` on `driver`.

    Record-level results and the findings of distributed corpus-level detectors are in the
    store when this returns; other corpus-level detectors have absorbed their sketches.
    """
    import ray
    from ray.data import ActorPoolStrategy

    with ExitStack() as cleanup:
        cleanup.callback(disconnect)
        cleanup.enter_context(_quiet_ray_data())
        results = _Results.create(store, scan_id)
        cleanup.callback(results.remove)

        corpus = [d.name for d in driver if type(d).sketch_batch is not Detector.sketch_batch]
        units = _units(dataset)
        if not corpus:  # finished files are read again only for corpus detectors' sketches
            units = [u for u in units if u.path not in done]
        size = workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
        actor_options = {
            "specs": [ray.put(list(specs))],  # in a list: each actor fetches it from its node
            "registry": {s.name: BUILTIN[s.name] for s in specs},
            "policy": policy,
            "sketch_only": done,
            "distributed": [n for n in corpus if n in DISTRIBUTED],
            "results": results.uri,
        }
        manifests = _read(units, concurrency=size).map_batches(
            _ScanActor,
            batch_size=1,  # one row is one chunk of records
            batch_format="pyarrow",
            compute=ActorPoolStrategy(size=size),
            num_cpus=1,
            fn_constructor_kwargs=actor_options,
            max_restarts=0 if _started_here else CLUSTER_ACTOR_RESTARTS,
        )
        rows = iter(manifests.iter_rows())  # a generator: closing it stops the pipeline
        ingest = _Ingest(store, scan_id, results, done, progress, total_files)
        try:
            for row in rows:
                ingest(json.loads(row["manifest"]))
            ingest.flush()
        finally:
            getattr(rows, "close", lambda: None)()  # on an error, stop the actors first
        cleanup.enter_context(_no_cpu_warning())

        for detector in driver:
            if detector.name in DISTRIBUTED and ingest.shared[detector.name]:
                sketches = results.dataset(f"sketches/{detector.name}", concurrency=size)
                found = DISTRIBUTED[detector.name].findings(
                    detector, sketches, ingest.shared[detector.name], policy
                )
                with closing(found):  # on an error, end Ray's iteration before Ray stops
                    for table in found:
                        with store.transaction():
                            _insert_findings(store, scan_id, table)
            elif detector.name in corpus and ingest.gathered:
                _absorb_in_order(detector, results)


# -- reading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Unit:
    """One file (or split) of the dataset, as a dataset of its own."""

    index: int  # position in path order: record ids order like (file, row)
    path: str
    size: int
    view: Dataset


def _units(dataset: Dataset) -> list[_Unit]:
    if dataset.hub is not None:
        return [
            _Unit(i, split, 0, replace(dataset, hub={split: data}))
            for i, (split, data) in enumerate(dataset.hub.items())
        ]
    return [
        _Unit(i, entry.path, _size(entry.location), replace(dataset, entries=[entry]))
        for i, entry in enumerate(dataset.entries)
    ]


def _size(location: Path) -> int:
    try:
        return location.stat().st_size
    except OSError:
        return 0


def _read(units: list[_Unit], *, concurrency: int) -> ray.data.Dataset:
    # Small files share a task, but there are at least as many tasks as actors when the
    # files allow it, so reading never waits on a single task.
    task_bytes = max(1, min(TASK_BYTES, sum(u.size for u in units) // concurrency))
    groups: list[list[_Unit]] = []
    for unit in units:
        if groups and sum(u.size for u in groups[-1]) + unit.size <= task_bytes and unit.size:
            groups[-1].append(unit)
        else:
            groups.append([unit])
    tasks = [
        _Task(partial(_read_units, group, CHUNK_RECORDS, CHUNK_CHARS),
              sum(u.size for u in group), tuple(u.path for u in group))
        for group in groups
    ]  # fmt: skip
    return _dataset(tasks, concurrency=concurrency)


@dataclass(frozen=True)
class _Task:
    """A read task: a callable streaming Arrow tables, the bytes it reads and their names."""

    read: Callable[[], Iterator[pa.Table]]
    size: int
    files: tuple[str, ...]


def _dataset(tasks: list[_Task], *, concurrency: int) -> ray.data.Dataset:
    """A Ray Dataset with exactly these read tasks: Ray lists no files and splits no blocks.

    Reads ask for no CPU: they are a small share of the work, and every core can then hold a
    detector actor (1-CPU reads would deadlock against a full actor pool).
    """
    import ray.data
    from ray.data.block import BlockMetadata
    from ray.data.datasource import Datasource, ReadTask

    class TaskSource(Datasource):
        def estimate_inmemory_data_size(self) -> int | None:
            return None

        def get_read_tasks(
            self, parallelism: int, per_task_row_limit: int | None = None, data_context: Any = None
        ) -> list[ReadTask]:
            return [
                ReadTask(
                    task.read, BlockMetadata(None, task.size or None, None, input_files=task.files)
                )
                for task in tasks
            ]

    return ray.data.read_datasource(
        TaskSource(),
        num_cpus=0,
        concurrency=max(1, min(concurrency, len(tasks))),
        override_num_blocks=max(1, len(tasks)),
    )


def _read_units(group: list[_Unit], max_records: int, max_chars: int) -> Iterator[pa.Table]:
    """Blocks of one row each: a chunk of records bounded in count and in text, like the local
    engine's batches (Ray batches by rows only, so a row holds the chunk). The last record of
    each file carries the file's record count."""
    for unit in group:
        pending: list[Record] = []
        count = chars = 0
        for record in unit.view.records():
            size = sum(len(f.text) for f in record.fields)
            if pending and (len(pending) >= max_records or chars + size > max_chars):
                yield _chunk(_records_table(pending, unit.index, None))
                pending, chars = [], 0
            pending.append(record)
            chars += size
            count += 1
        if pending:
            yield _chunk(_records_table(pending, unit.index, count))


def _chunk(records: pa.Table) -> pa.Table:
    rows = records.to_struct_array().combine_chunks()
    offsets = pa.array([0, records.num_rows], pa.int32())
    return pa.table({"chunk": pa.ListArray.from_arrays(offsets, rows)})


FIELD_TYPE = pa.struct([("name", pa.string()), ("text", pa.large_string()), ("role", pa.string())])
RECORD_SCHEMA = pa.schema(
    [
        ("file_index", pa.int32()),
        ("file", pa.string()),
        ("row", pa.int64()),
        ("id", pa.string()),
        ("shape", pa.string()),
        ("error", pa.string()),
        ("license", pa.string()),
        ("fields", pa.list_(FIELD_TYPE)),
        ("file_records", pa.int64()),  # set on a file's last record: how many records it has
    ]
)


def _records_table(records: list[Record], file_index: int, total: int | None) -> pa.Table:
    n = len(records)
    return pa.table(
        {
            "file_index": [file_index] * n,
            "file": [r.file for r in records],
            "row": [r.row for r in records],
            "id": [r.id for r in records],
            "shape": [r.shape for r in records],
            "error": [r.error for r in records],
            "license": [r.license for r in records],
            "fields": [
                [{"name": f.name, "text": f.text, "role": f.role} for f in r.fields]
                for r in records
            ],
            "file_records": [None] * (n - 1) + [total],
        },
        schema=RECORD_SCHEMA,
    )


def _records_from_chunks(chunks: pa.Table) -> list[tuple[int, Record, int | None]]:
    """(file index, record, the file's record count if this is its last record) per record."""
    table = pa.Table.from_struct_array(chunks.column("chunk").combine_chunks().flatten())
    return [
        (
            row["file_index"],
            Record(
                id=row["id"],
                file=row["file"],
                row=row["row"],
                shape=row["shape"],
                fields=tuple(TextField(f["name"], f["text"], f["role"]) for f in row["fields"]),
                error=row["error"],
                license=row["license"],
            ),
            row["file_records"],
        )
        for row in table.to_pylist()
    ]


# -- detection -------------------------------------------------------------------------------


FINDING_SCHEMA = pa.schema(
    [
        ("record_id", pa.string()),
        ("file", pa.string()),
        ("row", pa.int64()),
        ("detector", pa.string()),
        ("type", pa.string()),
        ("field", pa.string()),
        ("start", pa.int64()),
        ("end", pa.int64()),
        ("score", pa.float64()),
        ("action", pa.string()),
        ("preview", pa.string()),
        ("detail", pa.string()),  # JSON, as the store keeps it
    ]
)
STORED_RECORD_SCHEMA = pa.schema(
    [("record_id", pa.string()), ("file", pa.string()), ("row", pa.int64()), ("shape", pa.string())]
)
GATHERED_SCHEMA = pa.schema(
    [
        ("file_index", pa.int32()),
        ("first_row", pa.int64()),
        ("detector", pa.string()),
        ("sketches", pa.binary()),  # pickled list, as `sketch_batch` returned it
    ]
)


class _ScanActor:
    """A Ray actor: detectors built once, then one chunk of records per call."""

    def __init__(
        self,
        specs: list[Any],
        registry: dict[str, str],
        policy: Policy,
        sketch_only: frozenset[str],
        distributed: list[str],
        results: str,
    ) -> None:
        import ray

        self.policy = policy
        self.sketch_only = sketch_only
        self.distributed = set(distributed)
        self.results = _Results(results)
        self.failure: ProvenanceError | None = None
        try:
            self.detectors = [_build(spec, registry[spec.name]) for spec in ray.get(specs[0])]
        except ProvenanceError as exc:  # e.g. a spaCy model missing on this node
            self.failure = exc

    def __call__(self, chunk: pa.Table) -> pa.Table:
        """Scan one chunk; a ProvenanceError comes back as a value, for the driver to raise
        with its own message (Ray would only carry it as the text of a traceback)."""
        try:
            if self.failure is not None:
                raise self.failure
            manifest = self._scan(chunk)
        except ProvenanceError as exc:
            manifest = {"error": base64.b64encode(pickle.dumps(exc)).decode()}
        return pa.table({"manifest": [json.dumps(manifest)]})

    def _scan(self, chunk: pa.Table) -> dict[str, Any]:
        rows = _records_from_chunks(chunk)
        file_index = {record.file: index for index, record, _ in rows}
        first_index, first, _ = rows[0]
        part = f"{first_index:08d}-{first.row:012d}"  # the same name if Ray retries this call
        stored: list[tuple[str, str, int, str]] = []
        findings: list[Finding] = []
        shared: dict[str, list[Any]] = defaultdict(list)
        gathered: list[tuple[int, int, str, bytes]] = []
        for _, run in groupby(rows, key=lambda item: item[0]):
            records = [record for _, record, _ in run]
            for batch in batches(records, self.sketch_only):
                result = process_batch(self.detectors, batch)
                stored.extend(result.records)
                findings.extend(
                    k for f in result.findings if (k := self.policy.apply(f)) is not None
                )
                head = batch.records[0]
                for name, sketches in result.sketches.items():
                    if name in self.distributed:
                        shared[name].extend(sketches)
                    else:
                        gathered.append(
                            (file_index[head.file], head.row, name, pickle.dumps(sketches))
                        )
        if stored:
            self.results.write("records", part, _stored_records_table(stored))
        if findings:
            self.results.write("findings", part, _findings_table(findings))
        for name, sketches in shared.items():
            self.results.write(
                f"sketches/{name}", part, DISTRIBUTED[name].rows(sketches, file_index)
            )
        if gathered:
            self.results.write("gathered", part, pa.Table.from_pylist(
                [dict(zip(GATHERED_SCHEMA.names, g, strict=True)) for g in gathered],
                schema=GATHERED_SCHEMA,
            ))  # fmt: skip
        return {
            "part": part,
            "records": len(stored),
            "findings": len(findings),
            "counts": Counter(r[1] for r in stored),
            "totals": {record.file: total for _, record, total in rows if total is not None},
            "shared": {name: len(s) for name, s in shared.items()},
            "gathered": len(gathered),
        }


def _build(spec: DetectorSpec, path: str) -> Detector:
    """The detector the driver's registry names: a test's fake or a plugin works on Ray too."""
    module, _, attr = path.partition(":")
    cls: type[Detector] = getattr(importlib.import_module(module), attr)
    return cls(**spec.options)


def _stored_records_table(rows: list[tuple[str, str, int, str]]) -> pa.Table:
    return pa.Table.from_pylist(
        [dict(zip(STORED_RECORD_SCHEMA.names, r, strict=True)) for r in rows],
        schema=STORED_RECORD_SCHEMA,
    )


def _findings_table(findings: list[Finding]) -> pa.Table:
    return pa.Table.from_pylist(
        [
            {
                "record_id": f.record_id, "file": f.file, "row": f.row, "detector": f.detector,
                "type": f.type, "field": f.field, "start": f.start, "end": f.end,
                "score": float(f.score), "action": f.action.value, "preview": f.preview,
                "detail": json.dumps(dict(f.detail), sort_keys=True, default=str),
            }
            for f in findings
        ],
        schema=FINDING_SCHEMA,
    )  # fmt: skip


# -- results ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Results:
    """Where actors write Parquet parts: a local path or a pyarrow filesystem URI."""

    uri: str

    @classmethod
    def create(cls, store: Store, scan_id: str) -> _Results:
        import ray

        chosen = os.environ.get(RESULTS_ENV)
        nodes = [n for n in ray.nodes() if n.get("Alive")]
        if not chosen and len(nodes) > 1:
            raise InputError(
                f"a Ray cluster of {len(nodes)} nodes needs results storage every node can "
                f"reach: set {RESULTS_ENV} to an s3://, gs:// or shared filesystem path"
            )
        base = chosen or str(store.directory.resolve() / RESULTS_DIR)
        if "://" not in base:
            base = str(Path(base).resolve())
        return cls(f"{base.rstrip('/')}/{scan_id}-{uuid.uuid4().hex[:8]}")

    def _fs(self) -> tuple[pafs.FileSystem, str]:
        fs, path = pafs.FileSystem.from_uri(self.uri)
        return fs, path

    def write(self, kind: str, part: str, table: pa.Table) -> None:
        fs, path = self._fs()
        fs.create_dir(f"{path}/{kind}", recursive=True)
        pq.write_table(table, f"{path}/{kind}/{part}.parquet", filesystem=fs)

    def read(self, kind: str, parts: list[str] | None = None) -> pa.Table:
        """The parts of `kind` named (default: all of them), as one table."""
        fs, path = self._fs()
        if parts is None:
            return pq.read_table(f"{path}/{kind}", filesystem=fs)
        return pq.read_table([f"{path}/{kind}/{p}.parquet" for p in parts], filesystem=fs)

    def dataset(self, kind: str, *, concurrency: int) -> ray.data.Dataset:
        """Every part of `kind`, read by Ray tasks (up to `PARTS_PER_TASK` parts each)."""
        fs, path = self._fs()
        found = fs.get_file_info(pafs.FileSelector(f"{path}/{kind}"))
        parts = sorted(f.path for f in found if f.path.endswith(".parquet"))
        tasks = [
            _Task(partial(_read_parts, self.uri, parts[i : i + PARTS_PER_TASK]), 0, ())
            for i in range(0, len(parts), PARTS_PER_TASK)
        ]
        return _dataset(tasks, concurrency=concurrency)

    def remove(self) -> None:
        fs, path = self._fs()
        if fs.get_file_info(path).type != pafs.FileType.NotFound:
            fs.delete_dir(path)


def _read_parts(uri: str, parts: list[str]) -> Iterator[pa.Table]:
    fs, _ = pafs.FileSystem.from_uri(uri)
    for part in parts:
        yield pq.read_table(part, filesystem=fs)


class _Ingest:
    """The driver's side of the manifests: parts into the store, files marked done, progress.

    Parts are loaded a few at a time (up to `INGEST_PARTS`, or whatever arrived within
    `INGEST_SECONDS`), one transaction and one Arrow scan per table each time: a transaction
    costs about 10 ms here, a record about 4 µs.
    """

    def __init__(
        self,
        store: Store,
        scan_id: str,
        results: _Results,
        done: frozenset[str],
        progress: ProgressHook | None,
        total_files: int,
    ) -> None:
        self.store, self.scan_id, self.results = store, scan_id, results
        self.done, self.progress, self.total_files = done, progress, total_files
        self.pending: list[dict[str, Any]] = []
        self.flushed = time.monotonic()
        self.seen: Counter[str] = Counter()
        self.totals: dict[str, int] = {}
        self.records = 0
        self.files_done = 0
        self.shared: Counter[str] = Counter()
        self.gathered = 0

    def __call__(self, manifest: dict[str, Any]) -> None:
        if "error" in manifest:
            error: ProvenanceError = pickle.loads(base64.b64decode(manifest["error"]))
            raise error
        self.pending.append(manifest)
        if len(self.pending) >= INGEST_PARTS or time.monotonic() - self.flushed > INGEST_SECONDS:
            self.flush()

    def flush(self) -> None:
        manifests, self.pending = self.pending, []
        self.flushed = time.monotonic()
        if not manifests:
            return
        with self.store.transaction():
            records = [m["part"] for m in manifests if m["records"]]
            if records:
                _insert(
                    self.store,
                    """INSERT INTO records SELECT ?, record_id, file, "row", shape, 'cleared',
                       []::VARCHAR[] FROM _ray_rows""",
                    self.scan_id,
                    self.results.read("records", records),
                )
            findings = [m["part"] for m in manifests if m["findings"]]
            if findings:
                _insert_findings(self.store, self.scan_id, self.results.read("findings", findings))
        touched: set[str] = set()
        for manifest in manifests:
            self.records += manifest["records"]
            self.seen.update(manifest["counts"])
            self.totals.update(manifest["totals"])
            self.shared.update(manifest["shared"])
            self.gathered += manifest["gathered"]
            touched.update(manifest["counts"], manifest["totals"])
        finished = sorted(
            f for f in touched
            if f not in self.done and f in self.totals and self.seen[f] == self.totals[f]
        )  # fmt: skip
        if finished:
            self.store.add_results(self.scan_id, [], [], finished)
            self.files_done += len(finished)
        if self.progress:
            self.progress(self.records, len(self.done) + self.files_done, self.total_files)


def _insert_findings(store: Store, scan_id: str, table: pa.Table) -> None:
    _insert(
        store,
        """INSERT INTO findings (scan_id, record_id, file, "row", detector, type, field, start,
           "end", score, action, preview, detail)
           SELECT ?, record_id, file, "row", detector, type, field, start, "end", score,
           action, preview, detail FROM _ray_rows""",
        scan_id,
        table,
    )


def _insert(store: Store, sql: str, scan_id: str, table: pa.Table) -> None:
    """Rows into the store as an Arrow scan (`_ray_rows` in `sql`): no Python object per row."""
    store.db.register("_ray_rows", table)
    try:
        store.execute(sql, [scan_id])
    finally:
        store.db.unregister("_ray_rows")


def _absorb_in_order(detector: Detector, results: _Results) -> None:
    """Feed a corpus-level detector its sketches in corpus order, as the local engine does."""
    table = results.read("gathered").filter(pc.field("detector") == detector.name)
    for row in table.sort_by([("file_index", "ascending"), ("first_row", "ascending")]).to_pylist():
        detector.absorb(pickle.loads(row["sketches"]))


# -- quiet Ray ---------------------------------------------------------------------------------


@contextmanager
def _quiet_ray_data() -> Iterator[None]:
    """Ray Data without progress bars, execution banners or tips on stderr, for this scan."""
    from ray.data import DataContext
    from ray.data.context import ShuffleStrategy

    context = DataContext.get_current()
    settings = {
        "enable_progress_bars": False,
        "print_on_execution_start": False,
        "enable_auto_log_stats": False,
        # Grouping as sort-based shuffles run by tasks: on small and mid-sized clusters they
        # start in a fraction of the time of the hash shuffle's aggregator actors.
        "shuffle_strategy": ShuffleStrategy.SORT_SHUFFLE_PULL_BASED,
    }
    saved = {name: getattr(context, name) for name in settings}
    for name, value in settings.items():
        setattr(context, name, value)
    # "Progress bars disabled" is advice for interactive users; our own progress replaces it.
    progress_logger = logging.getLogger("ray.data._internal.progress")
    consoles = [h for h in logging.getLogger("ray.data").handlers if not hasattr(h, "baseFilename")]
    levels = [progress_logger.level, *(h.level for h in consoles)]
    progress_logger.setLevel(logging.ERROR)
    for handler in consoles:  # Ray Data's INFO lines go to its log file only
        handler.setLevel(max(handler.level, logging.WARNING))
    try:
        with warnings.catch_warnings():
            # Ray Data guesses a stage's inputs from the read task count; each of our read
            # tasks streams many blocks, so its "fewer inputs than actors" advice does not apply.
            warnings.filterwarnings("ignore", "The (minimum|maximum) number of concurrent")
            # `max_restarts` can only reach the actors through `ray_remote_args`, which Ray
            # 2.60 deprecates without a replacement yet (revisit before Ray 2.64).
            warnings.filterwarnings("ignore", "`ray_remote_args` is deprecated")
            yield
    finally:
        for name, value in saved.items():
            setattr(context, name, value)
        progress_logger.setLevel(levels[0])
        for handler, level in zip(consoles, levels[1:], strict=True):
            handler.setLevel(level)


class _CpuWarningFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "does not have any available CPUs" not in record.getMessage()


@contextmanager
def _no_cpu_warning() -> Iterator[None]:
    """The corpus stages run one Ray Data job after another; the tasks of one free their CPUs
    a moment after it ends, so the next may start when none is free, and Ray Data warns that
    it could hang. It will not: the CPUs are ours and are coming back."""
    logger = logging.getLogger("ray.data.dataset")
    warning_filter = _CpuWarningFilter()
    logger.addFilter(warning_filter)
    try:
        yield
    finally:
        logger.removeFilter(warning_filter)


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
