"""Vectorised MinHash: datasketch-identical permutations, accurate one-permutation signatures,
and signatures datasketch's LSH and LeanMinHash accept."""

from __future__ import annotations

import numpy as np
import pytest
from datasketch import LeanMinHash, MinHash, MinHashLSH
from datasketch.lsh import _optimal_param

from provenance.detectors.minhash import (
    EMPTY_VALUE,
    band_keys,
    hash32,
    jaccard,
    lsh_params,
    permutation_signatures,
    signatures,
    to_lean_minhash,
)

RNG = np.random.default_rng(7)


def random_set(size: int) -> np.ndarray:
    return RNG.integers(0, 2**64 - 1, size=size, dtype=np.uint64)


def pair(size: int, shared: int) -> tuple[np.ndarray, np.ndarray, float]:
    """Two sets of `size` with `shared` elements in common, and their exact Jaccard."""
    common = random_set(shared)
    a = np.concatenate([common, random_set(size - shared)])
    b = np.concatenate([common, random_set(size - shared)])
    return a, b, shared / (2 * size - shared)


def test_permutation_signatures_equal_datasketch() -> None:
    values = hash32(random_set(300))
    minhash = MinHash(num_perm=64, seed=3, hashfunc=int)
    minhash.update_batch(values.tolist())
    ours = permutation_signatures([values, values[:0]], num_perm=64, seed=3)
    assert np.array_equal(ours[0], minhash.hashvalues)
    assert np.all(ours[1] == EMPTY_VALUE)


def test_signature_shape_empty_and_set_semantics() -> None:
    s = random_set(500)
    sigs = signatures([s, s[::-1], np.concatenate([s, s[:100]]), s[:0]], num_perm=128)
    assert sigs.shape == (4, 128) and sigs.dtype == np.uint32
    assert np.array_equal(sigs[0], sigs[1]) and np.array_equal(sigs[0], sigs[2])
    assert np.all(sigs[3] == EMPTY_VALUE)
    assert not np.any(sigs[0] == EMPTY_VALUE)  # densified: no empty bin left
    assert np.array_equal(signatures([s], seed=1), signatures([s], seed=1))
    assert not np.array_equal(signatures([s], seed=1), signatures([s], seed=2))


def test_a_singleton_set_fills_every_bin() -> None:
    sig = signatures([random_set(1)], num_perm=32)[0]
    assert len(set(sig.tolist())) == 1 and sig[0] != EMPTY_VALUE


@pytest.mark.parametrize("size", [20, 200, 2000])
def test_one_permutation_error_is_no_worse_than_k_permutations(size: int) -> None:
    pairs = [pair(size, int(size * f)) for f in np.linspace(0.0, 1.0, 300)]
    exact = np.array([p[2] for p in pairs])
    oph = signatures([x for a, b, _ in pairs for x in (a, b)])
    perm = permutation_signatures([hash32(x) for a, b, _ in pairs for x in (a, b)])
    oph_error = np.abs(jaccard(oph[0::2], oph[1::2]) - exact).mean()
    perm_error = np.abs(jaccard(perm[0::2], perm[1::2]) - exact).mean()
    assert oph_error <= perm_error + 0.01


def test_datasketch_lsh_and_lean_minhash_accept_signatures() -> None:
    a, b, similarity = pair(400, 380)
    unrelated = random_set(400)
    sigs = signatures([a, b, unrelated])
    lsh = MinHashLSH(threshold=0.8, num_perm=128)
    lsh.insert("a", to_lean_minhash(sigs[0]))
    lsh.insert("unrelated", to_lean_minhash(sigs[2]))
    assert lsh.query(to_lean_minhash(sigs[1])) == ["a"]
    lean = to_lean_minhash(sigs[1])
    buffer = bytearray(lean.bytesize())
    lean.serialize(buffer)
    restored = LeanMinHash.deserialize(buffer)
    assert np.array_equal(restored.hashvalues, sigs[1])
    assert abs(restored.jaccard(to_lean_minhash(sigs[0])) - similarity) < 0.15


@pytest.mark.parametrize("threshold", [0.5, 0.8, 0.9])
def test_lsh_params_match_datasketch(threshold: float) -> None:
    assert lsh_params(threshold, 128) == _optimal_param(threshold, 128, 0.5, 0.5)


def test_band_keys_agree_exactly_when_bands_agree() -> None:
    sigs = signatures([random_set(50) for _ in range(3)], num_perm=12)
    sigs[1, :4] = sigs[0, :4]  # first band of 4 rows copied
    keys = band_keys(sigs, 3, 4)
    assert keys[0, 0] == keys[1, 0]
    assert keys[0, 1] != keys[1, 1] and keys[0, 0] != keys[2, 0]
    with pytest.raises(ValueError, match="need 16 values"):
        band_keys(sigs, 4, 4)


def test_bad_arguments_fail_early() -> None:
    with pytest.raises(ValueError, match="num_perm"):
        signatures([], num_perm=0)
    with pytest.raises(ValueError, match="threshold"):
        lsh_params(1.0, 128)
