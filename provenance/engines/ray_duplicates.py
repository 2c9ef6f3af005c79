"""Within-corpus duplicates on Ray: the `duplicate` detector's clusters, found with distributed
grouping, without ever gathering the corpus's signatures on the driver.

The local engine gathers every record's sketch on the driver and calls the detector's `finish`.
Here the same steps run as Ray Data stages over the sketches the scan actors wrote to Parquet,
each a grouping by one key (rows of one key value always meet in one partition):

1. exact     group by the normalised-text hash: the first record (smallest id) of each hash is
             the one that takes part in LSH; the others get an edge to it.
2. buckets   group by (band, band key) of the first records' signatures: the candidate pairs of
             each bucket, all pairs up to the detector's `ALL_PAIRS_LIMIT`, a chain and a star
             beyond it.
3. verify    two groupings by record id attach both signatures to each candidate pair; pairs
             whose estimated Jaccard reaches the threshold become edges.
4. clusters  connected components of the edges with alternating large-star / small-star rounds
             (Kiveris et al., "Connected Components in MapReduce and Beyond", 2014), each round a
             grouping by node; it ends with every cluster a star around its smallest id.
5. findings  a grouping by record id attaches each member's sketch, a grouping by cluster
             compares every member with the representative, and a sort by representative lets
             the driver number the clusters while it streams the findings into the store.

Record ids are `file index << 40 | row` over the dataset's files in path order, so "smallest
id" is "first in (file, row) order", the detector's representative. Every step computes what
the detector computes, with the same numpy expressions, so the findings are identical.

Grouping goes through `groupby(partition).map_groups` on a hash of the key into a few coarse
partitions; each call then handles a whole partition with vectorised numpy, instead of one
Python call per key (about 100 µs each in Ray Data, too slow for a record-per-key stage).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Generator, Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from provenance.detectors.duplicate import (
    ALL_PAIRS_LIMIT,
    DuplicateDetector,
    Sketch,
    member_finding,
)
from provenance.detectors.minhash import band_keys
from provenance.detectors.shingles import mix64
from provenance.policy import Policy

if TYPE_CHECKING:
    from ray.data import Dataset

ROW_BITS = 40  # a record id is file index << 40 | row: 2**40 rows per file, 2**23 files
ROWS_PER_PARTITION = 250_000  # sketch rows (~600 bytes each) per grouping call: ~150 MB
DRIVER_BLOCK_ROWS = 10_000  # finding rows per block the driver streams into the store
MAX_ROUNDS = 200  # connected components converge in O(log^2 n) rounds; more means a bug
PARTITION = "_partition"
NO_ID = -1

SKETCH_SCHEMA = pa.schema(
    [
        ("id", pa.int64()),
        ("record_id", pa.string()),
        ("file", pa.string()),
        ("row", pa.int64()),
        ("exact", pa.binary()),
        ("signature", pa.binary()),
    ]
)
EDGE_SCHEMA = pa.schema([("u", pa.int64()), ("v", pa.int64())])
PAIRED_SCHEMA = pa.schema([("key", pa.int64()), ("other", pa.int64()), ("signature", pa.binary())])
STAR_SCHEMA = pa.schema([("u", pa.int64()), ("v", pa.int64()), ("changed", pa.int64())])
MEMBER_SCHEMA = pa.schema([("root", pa.int64()), *SKETCH_SCHEMA])
FINDING_SCHEMA = pa.schema(  # the store's findings columns, plus what numbering needs
    [
        ("root", pa.int64()),
        ("kept", pa.bool_()),  # False: the policy drops it (its cluster still gets a number)
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
        ("detail_rest", pa.string()),  # the detail's JSON after its first key, "cluster"
    ]
)


def record_key(file_index: int, row: int) -> int:
    return (file_index << ROW_BITS) | row


def sketch_table(sketches: Sequence[Sketch], file_index: Mapping[str, int]) -> pa.Table:
    """Worker side: the detector's sketches as Arrow rows keyed by record id."""
    return pa.table(
        {
            "id": pa.array([record_key(file_index[s.file], s.row) for s in sketches], pa.int64()),
            "record_id": pa.array([s.record_id for s in sketches], pa.string()),
            "file": pa.array([s.file for s in sketches], pa.string()),
            "row": pa.array([s.row for s in sketches], pa.int64()),
            "exact": pa.array([s.exact for s in sketches], pa.binary()),
            "signature": pa.array([s.signature for s in sketches], pa.binary()),
        },
        schema=SKETCH_SCHEMA,
    )


def duplicate_findings(
    detector: DuplicateDetector, sketches: Dataset, count: int, policy: Policy
) -> Generator[pa.Table, None, None]:
    """Driver side: the duplicate findings of the corpus whose `count` sketches are `sketches`,
    with the policy applied, as tables of the store's findings columns.

    Workers build each finding and apply the policy; the driver only numbers the clusters, a
    block of at most `DRIVER_BLOCK_ROWS` findings at a time, with vectorised Arrow operations.
    """
    grouped = _Grouper(max(1, math.ceil(count / ROWS_PER_PARTITION)))
    edges = _edges(detector, sketches, grouped)
    if edges.count() == 0:
        return
    stars = _connected_components(edges, grouped)
    labels = stars.map_batches(_labels, batch_format="pyarrow")
    members = grouped(
        labels.union(sketches.map_batches(_as_member, batch_format="pyarrow")),
        ["id"],
        _attach_sketch,
    )
    found = partial(_cluster_rows, width=detector.num_perm, name=detector.name, policy=policy)
    clusters = grouped(members, ["root"], found).sort("root")
    # The driver fetches whole blocks: small ones keep its memory flat however many there are.
    clusters = clusters.repartition(target_num_rows_per_block=DRIVER_BLOCK_ROWS)
    number, last_root = 0, NO_ID
    for block in clusters.iter_batches(batch_size=None, batch_format="pyarrow"):
        table = cast(pa.Table, block)
        roots = table["root"].to_numpy()
        if len(roots) == 0:
            continue
        new = np.empty(len(roots), dtype=bool)  # a cluster's number: its rank among roots
        new[0] = roots[0] != last_root
        new[1:] = roots[1:] != roots[:-1]
        numbers = number + np.cumsum(new)
        number, last_root = int(numbers[-1]), int(roots[-1])
        detail = pc.binary_join_element_wise(
            '{"cluster": ', pa.array(numbers).cast(pa.string()), table["detail_rest"], ""
        )
        kept = table.append_column("detail", detail).filter(table["kept"])
        yield kept.drop_columns(["root", "kept", "detail_rest"])


def _edges(detector: DuplicateDetector, sketches: Dataset, grouped: _Grouper) -> Dataset:
    """Steps 1-3, materialised: exact-duplicate edges and verified near-duplicate edges.

    A function of its own so the intermediate datasets (signatures included) are released
    from the object store as soon as the edges exist.
    """
    width = detector.num_perm
    firsts = grouped(sketches, ["exact"], _exact_groups).materialize()
    uniques = firsts.map_batches(_firsts, batch_format="pyarrow")
    exact_edges = firsts.map_batches(_exact_edges, batch_format="pyarrow")
    bands = uniques.map_batches(
        partial(_band_rows, bands=detector.bands, rows=detector.rows, width=width),
        batch_format="pyarrow",
    )
    pairs = grouped(bands, ["band", "key"], _bucket_pairs)
    attached = grouped(
        pairs.map_batches(_as_paired, batch_format="pyarrow").union(
            uniques.map_batches(_as_signature_row, batch_format="pyarrow")
        ),
        ["key"],
        _attach_first,
    )
    near_edges = grouped(
        attached.union(uniques.map_batches(_as_signature_row, batch_format="pyarrow")),
        ["key"],
        _verify,
        threshold=detector.threshold,
        width=width,
    )
    return exact_edges.union(near_edges).materialize()


# -- grouping --------------------------------------------------------------------------------


class _Grouper:
    """Applies a whole-partition function to rows grouped by key columns.

    Rows are routed to `parts` coarse partitions by a hash of their key; `map_groups` on the
    partition column guarantees one call sees every row of its partition, hence of each key.
    """

    def __init__(self, parts: int) -> None:
        self.parts = parts

    def __call__(
        self, ds: Dataset, keys: list[str], fn: Callable[..., pa.Table], **kwargs: Any
    ) -> Dataset:
        routed = ds.map_batches(
            partial(_route, keys=keys, parts=self.parts), batch_format="pyarrow"
        )
        return routed.groupby(PARTITION).map_groups(
            partial(_in_partition, fn=partial(fn, **kwargs)), batch_format="pyarrow"
        )


def _route(table: pa.Table, keys: list[str], parts: int) -> pa.Table:
    mixed = np.zeros(table.num_rows, dtype=np.uint64)
    for key in keys:
        column = table[key]
        if pa.types.is_binary(column.type):
            values = _fixed_width(column)[:, :8].copy().view(np.uint64).reshape(-1)
        else:
            values = column.to_numpy().astype(np.uint64)
        mixed = mix64(mixed * np.uint64(0x9E3779B97F4A7C15) + values)
    return table.append_column(PARTITION, pa.array((mixed % np.uint64(parts)).astype(np.int64)))


def _in_partition(table: pa.Table, fn: Callable[[pa.Table], pa.Table]) -> pa.Table:
    return fn(table.drop_columns([PARTITION]))


def _runs(*columns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Starts and lengths of runs of equal values in sorted columns (rows equal in all)."""
    n = len(columns[0])
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    new = np.zeros(n, dtype=bool)
    new[0] = True
    for column in columns:
        if column.ndim == 1:
            new[1:] |= column[1:] != column[:-1]
        else:
            new[1:] |= (column[1:] != column[:-1]).any(axis=1)
    starts = np.flatnonzero(new)
    return starts, np.diff(np.append(starts, n))


def _fixed_width(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """A binary column whose values all have the same length, as an (n, width) uint8 matrix."""
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    n = len(array)
    if n == 0:
        return np.zeros((0, 8), dtype=np.uint8)
    offsets = np.frombuffer(
        array.buffers()[1], dtype=np.int32, count=n + 1, offset=array.offset * 4
    )
    width = int(offsets[1] - offsets[0])
    if width == 0 or int(offsets[-1] - offsets[0]) != width * n:
        raise ValueError("binary column values do not all have the same non-zero length")
    data = np.frombuffer(array.buffers()[2], dtype=np.uint8)
    return data[offsets[0] : offsets[-1]].reshape(n, width)


def _signatures(column: pa.ChunkedArray | pa.Array, width: int) -> np.ndarray:
    return _fixed_width(column).view(np.uint32).reshape(-1, width)


# -- 1. exact duplicates ---------------------------------------------------------------------


def _exact_groups(table: pa.Table) -> pa.Table:
    """Each sketch with `first`: the smallest id with the same normalised-text hash."""
    ids = table["id"].to_numpy()
    exact = _fixed_width(table["exact"])
    order = np.lexsort((ids, *(exact[:, j] for j in reversed(range(exact.shape[1])))))
    starts, lengths = _runs(exact[order])
    first = np.repeat(ids[order][starts], lengths)
    ordered = table.take(pa.array(order))
    return pa.table(
        {
            "id": ordered["id"],
            "first": pa.array(first, pa.int64()),
            "signature": ordered["signature"],
        }
    )


def _firsts(table: pa.Table) -> pa.Table:
    """The records that take part in LSH: the first of each normalised text."""
    first = pc.equal(table["id"], table["first"])
    return table.filter(first).select(["id", "signature"])


def _exact_edges(table: pa.Table) -> pa.Table:
    member = table.filter(pc.not_equal(table["id"], table["first"]))
    return pa.table({"u": member["first"], "v": member["id"]}, schema=EDGE_SCHEMA)


# -- 2. LSH buckets --------------------------------------------------------------------------


def _band_rows(table: pa.Table, bands: int, rows: int, width: int) -> pa.Table:
    """One row per (record, band): the band's key, as `DuplicateDetector.near_pairs` bands them."""
    keys = band_keys(_signatures(table["signature"], width), bands, rows)
    ids = table["id"].to_numpy()
    return pa.table(
        {
            "band": pa.array(np.tile(np.arange(bands, dtype=np.int32), len(ids))),
            "key": pa.array(keys.reshape(-1)),
            "id": pa.array(np.repeat(ids, bands)),
        }
    )


def _bucket_pairs(table: pa.Table) -> pa.Table:
    """Candidate pairs (a < b) of each bucket: all pairs, or a chain and a star if it is large."""
    band = table["band"].to_numpy()
    key = table["key"].to_numpy()
    ids = table["id"].to_numpy()
    order = np.lexsort((ids, key, band))
    band, key, ids = band[order], key[order], ids[order]
    starts, lengths = _runs(band, key)
    left: list[np.ndarray] = []
    right: list[np.ndarray] = []
    for size in np.unique(lengths[lengths > 1]):
        first = starts[lengths == size]
        if size <= ALL_PAIRS_LIMIT:
            i, j = np.triu_indices(int(size), k=1)
            left.append(ids[first[:, None] + i].reshape(-1))
            right.append(ids[first[:, None] + j].reshape(-1))
        else:  # as near_pairs does: consecutive members, and the first with every other
            step = np.arange(1, int(size))
            left.extend(
                (ids[first[:, None] + step - 1].reshape(-1), np.repeat(ids[first], size - 1))
            )
            right.extend((ids[first[:, None] + step].reshape(-1),) * 2)
    if not left:
        return pa.table({"a": pa.array([], pa.int64()), "b": pa.array([], pa.int64())})
    pairs = np.unique(np.stack([np.concatenate(left), np.concatenate(right)], axis=1), axis=0)
    return pa.table({"a": pairs[:, 0], "b": pairs[:, 1]})


# -- 3. verification -------------------------------------------------------------------------


def _as_paired(table: pa.Table) -> pa.Table:
    nulls = pa.nulls(table.num_rows, pa.binary())
    return pa.table([table["a"], table["b"], nulls], schema=PAIRED_SCHEMA)


def _as_signature_row(table: pa.Table) -> pa.Table:
    others = pa.array(np.full(table.num_rows, NO_ID, dtype=np.int64))
    return pa.table([table["id"], others, table["signature"]], schema=PAIRED_SCHEMA)


def _signature_runs(table: pa.Table) -> tuple[np.ndarray, np.ndarray, np.ndarray, pa.Table]:
    """Rows sorted by (key, other): each key's signature row (other = -1) comes first.

    Returns the sorted keys and others, the index of each row's run start, and the table.
    """
    order = np.lexsort((table["other"].to_numpy(), table["key"].to_numpy()))
    table = table.take(pa.array(order))
    key = table["key"].to_numpy()
    other = table["other"].to_numpy()
    starts, lengths = _runs(key)
    return key, other, np.repeat(starts, lengths), table


def _attach_first(table: pa.Table) -> pa.Table:
    """For each pair (a, b) grouped by a: the row (b, a, signature of a), each pair once."""
    key, other, start, table = _signature_runs(table)
    keep = (other != NO_ID) & (other[start] == NO_ID)
    keep[1:] &= (other[1:] != other[:-1]) | (key[1:] != key[:-1])
    signature = table["signature"].take(pa.array(start[keep]))
    return pa.table([other[keep], key[keep], signature], schema=PAIRED_SCHEMA)


def _verify(table: pa.Table, threshold: float, width: int) -> pa.Table:
    """Rows (b, a, signature of a) grouped by b: the pairs whose estimate reaches the threshold."""
    key, other, start, table = _signature_runs(table)
    pending = np.flatnonzero((other != NO_ID) & (other[start] == NO_ID))
    if len(pending) == 0:
        return pa.table({"u": pa.array([], pa.int64()), "v": pa.array([], pa.int64())})
    signature = table["signature"]
    mine = _signatures(signature.take(pa.array(pending)), width)
    theirs = _signatures(signature.take(pa.array(start[pending])), width)
    estimate = (mine == theirs).mean(axis=1)
    similar = pending[estimate >= threshold]
    return pa.table({"u": other[similar], "v": key[similar]}, schema=EDGE_SCHEMA)


# -- 4. connected components -----------------------------------------------------------------


def _connected_components(edges: Dataset, grouped: _Grouper) -> Dataset:
    """Stars (member, smallest id of its component) for every member that is not the smallest.

    One round is a large-star then a small-star step; the small-star rows also carry the
    large-star step's changes, so a round needs one materialisation and a count of changes.
    """
    for _ in range(MAX_ROUNDS):
        large = grouped(edges.map_batches(_both_ways, batch_format="pyarrow"), ["a"], _large_star)
        edges = grouped(
            large.map_batches(_downwards, batch_format="pyarrow"), ["a"], _small_star
        ).materialize()
        changes = edges.map_batches(_changes, batch_size=None, batch_format="pyarrow")
        if sum(row["changed"] for row in changes.take_all()) == 0:
            return edges
    raise RuntimeError(f"duplicate clusters did not converge in {MAX_ROUNDS} rounds")


def _changes(table: pa.Table) -> pa.Table:
    return pa.table({"changed": [pc.sum(table["changed"]).as_py() or 0]})


def _both_ways(table: pa.Table) -> pa.Table:
    u, v = table["u"].to_numpy(), table["v"].to_numpy()
    return pa.table({"a": np.concatenate([u, v]), "b": np.concatenate([v, u])})


def _downwards(table: pa.Table) -> pa.Table:
    u, v = table["u"].to_numpy(), table["v"].to_numpy()
    return pa.table({"a": np.maximum(u, v), "b": np.minimum(u, v), "changed": table["changed"]})


def _unique_pairs(table: pa.Table) -> tuple[np.ndarray, np.ndarray]:
    a, b = table["a"].to_numpy(), table["b"].to_numpy()
    if len(a) == 0:
        return a, b
    pairs = np.unique(np.stack([a, b], axis=1), axis=0)  # sorted by (a, b)
    return pairs[:, 0], pairs[:, 1]


def _large_star(table: pa.Table) -> pa.Table:
    """Each node links its larger neighbours to the smallest of itself and its neighbours."""
    a, b = _unique_pairs(table)
    starts, lengths = _runs(a)
    smallest = np.repeat(np.minimum(a[starts], b[starts]), lengths)
    larger = b > a
    changed = (smallest[larger] < a[larger]).astype(np.int64)
    return pa.table([b[larger], smallest[larger], changed], schema=STAR_SCHEMA)


def _small_star(table: pa.Table) -> pa.Table:
    """Each node links itself and its smaller neighbours to the smallest of them.

    `changed` counts this step's new edges plus, on the first row, the changes the
    large-star step reported for the edges that came in.
    """
    incoming = pc.sum(table["changed"]).as_py() or 0
    a, b = _unique_pairs(table)  # every b < a here
    starts, lengths = _runs(a)
    smallest = np.repeat(b[starts], lengths)
    others = b != smallest
    u = np.concatenate([a[starts], b[others]])
    v = np.concatenate([b[starts], smallest[others]])
    changed = np.concatenate(
        [np.zeros(len(starts), np.int64), np.ones(int(others.sum()), np.int64)]
    )
    if len(changed):
        changed[0] += incoming
    return pa.table([u, v, changed], schema=STAR_SCHEMA)


# -- 5. findings -----------------------------------------------------------------------------


def _labels(table: pa.Table) -> pa.Table:
    """(id, root) for every member of a star, the root included, with empty sketch columns."""
    u, v = table["u"].to_numpy(), table["v"].to_numpy()
    ids, roots = np.concatenate([u, v]), np.concatenate([v, v])
    n = len(ids)
    columns: list[pa.Array] = [pa.array(roots), pa.array(ids)]
    columns += [pa.nulls(n, field.type) for field in SKETCH_SCHEMA if field.name != "id"]
    return pa.table(columns, schema=MEMBER_SCHEMA)


def _as_member(table: pa.Table) -> pa.Table:
    roots = pa.array(np.full(table.num_rows, NO_ID, dtype=np.int64))
    return pa.table([roots, *table.select(SKETCH_SCHEMA.names).columns], schema=MEMBER_SCHEMA)


def _attach_sketch(table: pa.Table) -> pa.Table:
    """Grouped by id: the sketch of each record that belongs to a cluster, with its root."""
    order = np.lexsort((table["root"].to_numpy(), table["id"].to_numpy()))
    table = table.take(pa.array(order))
    ids, roots = table["id"].to_numpy(), table["root"].to_numpy()
    starts, lengths = _runs(ids)
    member = starts[(lengths > 1) & (roots[starts] == NO_ID)]  # the sketch row comes first
    sketches = table.take(pa.array(member))
    return sketches.set_column(0, "root", pa.array(roots[member + 1]))


def _cluster_rows(table: pa.Table, width: int, name: str, policy: Policy) -> pa.Table:
    """Grouped by root: the finding of every member but the representative, as
    `DuplicateDetector.finish` makes it, with the policy's action."""
    order = np.lexsort((table["id"].to_numpy(), table["root"].to_numpy()))
    table = table.take(pa.array(order))
    roots = table["root"].to_numpy()
    starts, lengths = _runs(roots)
    keep = np.repeat(starts, lengths)
    members = np.flatnonzero(np.arange(len(roots)) != keep)
    exact = _fixed_width(table["exact"])
    same = (exact[members] == exact[keep[members]]).all(axis=1)
    signatures = _signatures(table["signature"], width)
    estimate = (signatures[members] == signatures[keep[members]]).mean(axis=1)
    similarity = np.where(same, 1.0, estimate)
    sizes = np.repeat(lengths, lengths)[members]
    rows = table.select(["record_id", "file", "row"]).to_pylist()
    out: list[dict[str, Any]] = []
    for member, size, is_exact, value in zip(members, sizes, same, similarity, strict=True):
        kept, row = rows[keep[member]], rows[member]
        # the finding finish() gives, but "cluster", numbered on the driver
        finding = member_finding(
            (row["record_id"], row["file"], row["row"]),
            (kept["record_id"], kept["file"], kept["row"]),
            exact=bool(is_exact), similarity=float(value), cluster=None, size=int(size),
        )  # fmt: skip
        score = finding.score
        applied = policy.apply(finding)
        rest = json.dumps(dict(finding.detail), sort_keys=True, default=str)
        out.append({
            "root": int(roots[member]), "kept": applied is not None, "record_id": row["record_id"],
            "file": row["file"], "row": row["row"], "detector": name, "type": finding.type,
            "field": None, "start": None, "end": None, "score": score,
            "action": (applied or finding).action.value, "preview": finding.preview,
            "detail_rest": ", " + rest[1:],  # the members of the object after "cluster"
        })  # fmt: skip
    return pa.Table.from_pylist(out, schema=FINDING_SCHEMA)
