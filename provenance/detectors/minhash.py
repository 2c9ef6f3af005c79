"""Vectorised MinHash signatures, LSH banding, and the bridge to datasketch.

datasketch's `MinHash` applies every permutation to every shingle: O(shingles x num_perm) work
per document. `signatures` does one-permutation hashing (Li, Owen & Zhang, 2012): each shingle
is hashed once into one of `num_perm` bins and each bin keeps its minimum, so the work is
O(shingles + num_perm), done for a whole batch of documents in a few numpy calls. Bins that no
shingle fell into are filled by optimal densification (Shrivastava, 2017): an empty bin copies
the first non-empty bin of a probe sequence fixed by the seed, which keeps the probability
that two signatures agree at a bin equal to the Jaccard similarity of their sets.

The signatures are uint32 arrays in datasketch's `affine32` layout (empty = 2**32 - 1), so
`to_lean_minhash` wraps them as `LeanMinHash` objects that datasketch's `MinHashLSH` indexes and
serialises. Compare signatures only with signatures made here with the same seed and
num_perm. `permutation_signatures` computes exactly what datasketch computes (same seed, same
values), batched, for when signatures must mix with sketches made by datasketch itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

import numpy as np

from provenance.detectors.shingles import mix64

DEFAULT_NUM_PERM = 128
DEFAULT_SEED = 1
EMPTY_VALUE = np.uint32(0xFFFFFFFF)
SCHEME = "affine32"  # the datasketch storage layout the signatures use
_PROBES = 64  # densification probes tried vectorised before a deterministic fallback
_SEED_SALT = 0xD6E8FEB86659FD93


def _check(num_perm: int, seed: int) -> None:
    if not 1 <= num_perm <= 1 << 16:
        raise ValueError(f"num_perm must be between 1 and 65536, got {num_perm}")
    if not 0 <= seed < 1 << 32:
        raise ValueError(f"seed must be between 0 and 2**32 - 1, got {seed}")


def _salt(seed: int) -> np.uint64:
    return np.uint64(seed * _SEED_SALT % 2**64)


def _flatten(sets: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """All hashes of all sets in one array, and the set index of each."""
    sizes = np.fromiter((len(s) for s in sets), dtype=np.int64, count=len(sets))
    if sizes.sum() == 0:
        return np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int64)
    values = np.concatenate([np.asarray(s, dtype=np.uint64) for s in sets])
    owner = np.repeat(np.arange(len(sets), dtype=np.int64), sizes)
    return values, owner


def signatures(
    sets: Sequence[np.ndarray], *, num_perm: int = DEFAULT_NUM_PERM, seed: int = DEFAULT_SEED
) -> np.ndarray:
    """One MinHash signature per set of uint64 shingle hashes: an (n, num_perm) uint32 array.

    An empty set gives an all-`EMPTY_VALUE` signature, as an empty datasketch MinHash does.
    Duplicate hashes in a set do not change its signature.
    """
    _check(num_perm, seed)
    out = np.full((len(sets), num_perm), EMPTY_VALUE, dtype=np.uint32)
    values, owner = _flatten(sets)
    if len(values) == 0:
        return out
    mixed = mix64(values ^ _salt(seed))
    # High 32 bits pick the bin (multiply-shift range reduction), low 32 bits are the value.
    bins = ((mixed >> np.uint64(32)) * np.uint64(num_perm)) >> np.uint64(32)
    cells = owner * num_perm + bins.astype(np.int64)
    flat = out.reshape(-1)
    np.minimum.at(flat, cells, (mixed & np.uint64(0xFFFFFFFF)).astype(np.uint32))
    _densify(out, seed)
    return out


@cache
def _probe_table(num_perm: int, seed: int) -> np.ndarray:
    """For each bin, the bins an empty one copies from, in order: (num_perm, _PROBES) int64."""
    bins = np.arange(num_perm, dtype=np.uint64)[:, None]
    attempts = np.arange(1, _PROBES + 1, dtype=np.uint64)[None, :]
    key = mix64(bins * np.uint64(0x9E3779B97F4A7C15) + attempts + _salt(seed))
    return ((key >> np.uint64(32)) * np.uint64(num_perm) >> np.uint64(32)).astype(np.int64)


def _densify(sig: np.ndarray, seed: int) -> None:
    """Fill empty bins in place from the first non-empty bin of their probe sequence."""
    empty = sig == EMPTY_VALUE
    rows_with_data = ~empty.all(axis=1)
    need = empty & rows_with_data[:, None]
    if not need.any():
        return
    num_perm = sig.shape[1]
    probes = _probe_table(num_perm, seed)
    row, col = np.nonzero(need)
    source = np.full(len(row), -1, dtype=np.int64)
    pending = np.arange(len(row))
    for attempt in range(_PROBES):
        candidate = probes[col[pending], attempt]
        found = ~empty[row[pending], candidate]
        source[pending[found]] = candidate[found]
        pending = pending[~found]
        if len(pending) == 0:
            break
    for i in pending:  # a nearly empty signature: take the next non-empty bin to the right
        filled = np.flatnonzero(~empty[row[i]])
        after = filled[filled > col[i]]
        source[i] = after[0] if len(after) else filled[0]
    sig[row, col] = sig[row, source]


def permutation_signatures(
    sets: Sequence[np.ndarray], *, num_perm: int = DEFAULT_NUM_PERM, seed: int = DEFAULT_SEED
) -> np.ndarray:
    """Signatures equal to datasketch's `MinHash(num_perm, seed)` (`affine32` scheme).

    Each set holds the 32-bit values datasketch's hash function would return (use
    `hash32(shingle_hashes)` with `hashfunc=int` on the datasketch side). Batched, but it does
    the same num_perm operations per shingle as datasketch; `signatures` is the fast path.
    """
    _check(num_perm, seed)
    gen = np.random.RandomState(seed)  # datasketch's generator, so `a` and `b` are the same
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    out = np.full((len(sets), num_perm), EMPTY_VALUE, dtype=np.uint32)
    for i, values in enumerate(sets):
        if len(values) == 0:
            continue
        hv = _fmix32(np.asarray(values, dtype=np.uint32))
        for start in range(0, len(hv), 4096):  # bounded memory for long documents
            chunk = hv[start : start + 4096, None] * a[None, :] + b[None, :]
            np.minimum(out[i], chunk.min(axis=0), out=out[i])
    return out


def _fmix32(h: np.ndarray) -> np.ndarray:
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x85EBCA6B)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(0xC2B2AE35)
    return h ^ (h >> np.uint32(16))


def hash32(shingle_hashes: np.ndarray) -> np.ndarray:
    """The 32-bit values of uint64 shingle hashes, as a datasketch hash function would give."""
    return (np.asarray(shingle_hashes, dtype=np.uint64) >> np.uint64(32)).astype(np.uint32)


def jaccard(a: np.ndarray, b: np.ndarray) -> np.ndarray | float:
    """Estimated Jaccard similarity: the share of equal bins (row-wise for 2-D arrays)."""
    equal = np.asarray(a) == np.asarray(b)
    if equal.ndim == 1:
        return float(equal.mean())
    return np.asarray(equal.mean(axis=-1))


def to_lean_minhash(signature: np.ndarray, seed: int = DEFAULT_SEED) -> Any:
    """A datasketch `LeanMinHash` holding this signature, for `MinHashLSH` and serialisation."""
    from datasketch import LeanMinHash

    return LeanMinHash(seed=seed, hashvalues=np.asarray(signature, dtype=np.uint32), scheme=SCHEME)


# -- LSH banding -------------------------------------------------------------------------------


@cache
def lsh_params(
    threshold: float, num_perm: int, weights: tuple[float, float] = (0.5, 0.5)
) -> tuple[int, int]:
    """(bands, rows) minimising weighted false-positive and false-negative probability.

    The same objective as datasketch's `MinHashLSH`, integrated on a fixed grid.
    """
    if not 0.0 < threshold < 1.0:
        raise ValueError(f"threshold must be between 0 and 1 (exclusive), got {threshold}")
    s = np.linspace(0.0, 1.0, 2001)
    below, above = s <= threshold, s >= threshold
    best, best_error = (1, num_perm), float("inf")
    for b in range(1, num_perm + 1):
        for r in range(1, num_perm // b + 1):
            candidate = 1.0 - (1.0 - s**r) ** b
            fp = float(np.trapezoid(candidate[below], s[below]))
            fn = float(np.trapezoid(1.0 - candidate[above], s[above]))
            error = fp * weights[0] + fn * weights[1]
            if error < best_error:
                best, best_error = (b, r), error
    return best


def band_keys(sigs: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """One uint64 key per (signature, band): equal keys mean an equal band. Shape (n, bands)."""
    if bands * rows > sigs.shape[1]:
        raise ValueError(f"{bands} bands of {rows} rows need {bands * rows} values per signature")
    keys = np.zeros((sigs.shape[0], bands), dtype=np.uint64)
    for j in range(rows):
        column = sigs[:, j : bands * rows : rows].astype(np.uint64)
        keys = keys * np.uint64(0x100000001B3) + column + np.uint64(j + 1)
    return mix64(keys)
