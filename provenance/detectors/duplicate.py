"""The `duplicate` detector: exact and near-duplicate records inside the corpus, as clusters.

Workers sketch each record (never its text): a hash of its normalised token sequence (case,
punctuation and whitespace folded, so "Hello, world" and "hello world" are exact duplicates)
and a MinHash signature of its word shingles. The driver gathers the sketches and, in
`finish`, groups exact duplicates by hash, finds near-duplicate candidates by LSH banding of
the signatures, keeps the pairs whose estimated Jaccard similarity reaches the threshold, and
joins pairs into clusters. A cluster's representative is its first record in corpus order
(file, row); every other member gets a finding pointing at it, so the default policy keeps the
representative and drops the rest. Results depend only on the records, never on batching.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from provenance.detectors.base import Detector
from provenance.detectors.minhash import DEFAULT_NUM_PERM, band_keys, lsh_params, signatures
from provenance.detectors.shingles import shingle_hashes, text_tokens
from provenance.model import Finding, Record

DEFAULT_THRESHOLD = 0.8
SHINGLE_K = 5
ALL_PAIRS_LIMIT = 64  # larger LSH buckets are linked as a chain and a star, not all pairs


@dataclass(frozen=True)
class Sketch:
    """What a worker sends the driver for one record: locators, hash, signature bytes."""

    record_id: str
    file: str
    row: int
    exact: bytes
    signature: bytes


class DuplicateDetector(Detector):
    """Exact and near-duplicate clusters; every member but the representative is reported."""

    name: ClassVar[str] = "duplicate"
    version: ClassVar[str] = "1"
    finding_types: ClassVar[frozenset[str]] = frozenset({"EXACT_DUPLICATE", "NEAR_DUPLICATE"})

    def __init__(
        self,
        *,
        threshold: float = DEFAULT_THRESHOLD,
        num_perm: int = DEFAULT_NUM_PERM,
        seed: int = 1,
    ) -> None:
        if not 0.0 < threshold < 1.0:
            raise ValueError(f"duplicate threshold must be between 0 and 1, got {threshold}")
        self.threshold = threshold
        self.num_perm = num_perm
        self.seed = seed
        self.bands, self.rows = lsh_params(threshold, num_perm)
        self._sketches: list[Sketch] = []

    def describe(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "threshold": self.threshold,
            "num_perm": self.num_perm,
            "lsh": {"bands": self.bands, "rows": self.rows},
        }

    def detect_batch(self, records: Sequence[Record]) -> Iterator[Finding]:
        return iter(())  # corpus-level only: see sketch_batch / absorb / finish

    def sketch_batch(self, records: Sequence[Record]) -> list[Any]:
        kept: list[Record] = []
        token_sets: list[np.ndarray] = []
        exact: list[bytes] = []
        for record in records:
            if record.error or not record.fields:
                continue
            token_hashes = text_tokens(record.text).hashes
            if len(token_hashes) == 0:
                continue
            kept.append(record)
            exact.append(hashlib.blake2b(token_hashes.tobytes(), digest_size=16).digest())
            token_sets.append(shingle_hashes(token_hashes, SHINGLE_K))
        sigs = signatures(token_sets, num_perm=self.num_perm, seed=self.seed)
        return [
            Sketch(r.id, r.file, r.row, e, s.tobytes())
            for r, e, s in zip(kept, exact, sigs, strict=True)
        ]

    def absorb(self, sketches: list[Any]) -> None:
        self._sketches.extend(sketches)

    def finish(self) -> Iterator[Finding]:
        sketches = sorted(self._sketches, key=lambda s: (s.file, s.row))
        self._sketches = []
        if len(sketches) < 2:
            return
        sigs = np.frombuffer(b"".join(s.signature for s in sketches), dtype=np.uint32)
        sigs = sigs.reshape(len(sketches), self.num_perm)
        parent = list(range(len(sketches)))
        first_of: dict[bytes, int] = {}
        unique: list[int] = []  # one record per exact text takes part in the LSH
        for i, sketch in enumerate(sketches):
            if sketch.exact in first_of:
                _union(parent, first_of[sketch.exact], i)
            else:
                first_of[sketch.exact] = i
                unique.append(i)
        for a, b in self.near_pairs(sigs[unique]):
            _union(parent, unique[a], unique[b])
        clusters: dict[int, list[int]] = {}
        for i in range(len(sketches)):
            clusters.setdefault(_find(parent, i), []).append(i)
        number = 0
        for members in sorted(clusters.values()):
            if len(members) < 2:
                continue
            number += 1
            keep = sketches[members[0]]  # the smallest index: first in corpus order
            for i in members[1:]:
                member = sketches[i]
                exact = member.exact == keep.exact
                similarity = 1.0 if exact else float(np.mean(sigs[i] == sigs[members[0]]))
                yield member_finding(
                    (member.record_id, member.file, member.row),
                    (keep.record_id, keep.file, keep.row),
                    exact=exact, similarity=similarity, cluster=number, size=len(members),
                )  # fmt: skip

    def near_pairs(self, sigs: np.ndarray) -> list[tuple[int, int]]:
        """Index pairs (i < j) sharing an LSH band whose estimated Jaccard reaches the threshold."""
        if len(sigs) < 2:
            return []
        keys = band_keys(sigs, self.bands, self.rows)
        left: list[np.ndarray] = []
        right: list[np.ndarray] = []
        for band in range(self.bands):
            column = keys[:, band]
            order = np.argsort(column, kind="stable")
            ordered = column[order]
            edges = np.flatnonzero(ordered[1:] != ordered[:-1]) + 1
            starts = np.concatenate(([0], edges))
            sizes = np.diff(np.concatenate((starts, [len(ordered)])))
            for start, size in zip(starts[sizes > 1], sizes[sizes > 1], strict=True):
                bucket = order[start : start + size]
                if size <= ALL_PAIRS_LIMIT:
                    i, j = np.triu_indices(size, k=1)
                    left.append(bucket[i])
                    right.append(bucket[j])
                else:  # a chain and a star still connect the bucket; cost stays linear
                    left.extend((bucket[:-1], np.full(size - 1, bucket[0])))
                    right.extend((bucket[1:], bucket[1:]))
        if not left:
            return []
        a = np.concatenate(left)
        b = np.concatenate(right)
        a, b = np.minimum(a, b), np.maximum(a, b)
        pairs = np.unique(np.stack([a, b], axis=1), axis=0)
        similar = np.empty(len(pairs), dtype=bool)
        for lo in range(0, len(pairs), 65536):  # bounded memory
            chunk = pairs[lo : lo + 65536]
            estimate = (sigs[chunk[:, 0]] == sigs[chunk[:, 1]]).mean(axis=1)
            similar[lo : lo + 65536] = estimate >= self.threshold
        return [(int(i), int(j)) for i, j in pairs[similar]]


def member_finding(
    member: tuple[str, str, int],
    keep: tuple[str, str, int],
    *,
    exact: bool,
    similarity: float,
    cluster: int | None,
    size: int,
) -> Finding:
    """The finding for a cluster member that is not its representative; both engines use it.

    `member` and `keep` are (record_id, file, row). `cluster` is None when the number is given
    later (the Ray engine numbers clusters on the driver)."""
    score = round(similarity, 4)
    detail: dict[str, Any] = {} if cluster is None else {"cluster": cluster}
    detail |= {"cluster_size": size, "file": keep[1], "row": keep[2], "record_id": keep[0],
               "similarity": score}  # fmt: skip
    return Finding(
        record_id=member[0],
        file=member[1],
        row=member[2],
        detector=DuplicateDetector.name,
        type="EXACT_DUPLICATE" if exact else "NEAR_DUPLICATE",
        score=score,
        preview=f"duplicate of {keep[1]}:{keep[2]}",
        detail=detail,
    )


def _find(parent: list[int], i: int) -> int:
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


def _union(parent: list[int], a: int, b: int) -> None:
    ra, rb = _find(parent, a), _find(parent, b)
    if ra != rb:
        parent[max(ra, rb)] = min(ra, rb)  # the earlier record stays the root
