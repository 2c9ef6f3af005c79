"""Tokenisers: what must read the same (case, punctuation, wrapping, tokenised editions,
renamed identifiers, reformatting) and what must not."""

from __future__ import annotations

import numpy as np
import pytest

from provenance.detectors.shingles import (
    code_tokens,
    hash_strings,
    shingle_hashes,
    text_tokens,
    winnow,
)


def same_text(a: str, b: str) -> bool:
    return text_tokens(a).hashes.tolist() == text_tokens(b).hashes.tolist()


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("It was the best of times", "IT WAS THE BEST OF TIMES"),
        ("It was the best of times, it was", "it was the best of times it was"),
        ("the best\nof   times", "the best of times"),
        ("Don't you think it's late?", "do n't you think it 's late"),
        ("Don’t", "don't"),
        ("café résumé", "cafe resume"),
        ("_emphasis_ here", "emphasis here"),
        ("Mr. Darcy--who", "mr darcy who"),
    ],
)
def test_text_variants_read_the_same(a: str, b: str) -> None:
    assert same_text(a, b)


@pytest.mark.parametrize(
    ("a", "b"),
    [("the best of times", "the worst of times"), ("form", "from"), ("ab c", "a bc")],
)
def test_different_text_reads_differently(a: str, b: str) -> None:
    assert not same_text(a, b)


def test_text_token_offsets_point_into_the_original() -> None:
    text = "  Hello, wörld!\nDon't  stop "
    toks = text_tokens(text)
    assert [text[s:e] for s, e in zip(toks.starts, toks.ends, strict=True)] == [
        "Hello", "wörld", "Don't", "stop",
    ]  # fmt: skip


def test_cjk_characters_are_tokens_of_their_own() -> None:
    assert len(text_tokens("吾輩は猫である")) == 7
    assert len(text_tokens("")) == 0
    assert len(text_tokens("... --- !!!")) == 0


FUNCTION = """
def mean(values, weights):
    # weighted mean
    total = 0.0
    for value, weight in zip(values, weights):
        total += value * weight
    return total / len(values)
"""
RENAMED = (
    "def mean(xs, ws):\n    acc = 0.0\n    for x, w in zip(xs, ws): acc += x * w\n"
    "    return acc / len(xs)"
)


def test_code_tolerates_renaming_reformatting_and_comments() -> None:
    assert code_tokens(FUNCTION).hashes.tolist() == code_tokens(RENAMED).hashes.tolist()


def test_code_keeps_structure_attributes_and_numbers() -> None:
    base = code_tokens("x = a.total + 1").hashes.tolist()
    call = code_tokens("x = f(y, key='A b')").hashes.tolist()
    assert code_tokens('z = f(w, key="a  B")').hashes.tolist() == call
    assert code_tokens("z = g(w, key='a b')").hashes.tolist() != call  # called name kept
    assert code_tokens("z = f(w, other='a b')").hashes.tolist() != call  # keyword name kept
    assert code_tokens("z = f(w, key='a c')").hashes.tolist() != call  # string words kept
    assert code_tokens("y = b.total + 1").hashes.tolist() == base
    assert code_tokens("x = a.count + 1").hashes.tolist() != base
    assert code_tokens("x = a.total + 2").hashes.tolist() != base
    assert code_tokens("x = a.total - 1").hashes.tolist() != base


def test_code_trailing_commas_and_semicolons_are_layout() -> None:
    assert code_tokens("f(a, b,);").hashes.tolist() == code_tokens("f(a, b)").hashes.tolist()


def test_hash_strings_is_deterministic_and_distinguishes_empty() -> None:
    first = hash_strings(["a", "", "abc", ""])
    assert first.tolist() == hash_strings(["a", "", "abc", ""]).tolist()
    assert first[1] == first[3] and len(set(first.tolist())) == 3


def test_shingles_are_order_sensitive_and_short_sequences_give_one() -> None:
    toks = hash_strings(["a", "b", "c", "d", "e", "f"])
    assert len(shingle_hashes(toks, 4)) == 3
    assert len(shingle_hashes(toks[:2], 4)) == 1
    assert shingle_hashes(toks, 2)[0] != shingle_hashes(toks[::-1], 2)[-1]


def test_winnowing_guarantee() -> None:
    rng = np.random.default_rng(0)
    hashes = rng.integers(0, 2**63, size=500, dtype=np.uint64)
    picks = winnow(hashes, 4)
    # every window of 4 consecutive shingles holds a fingerprint ...
    assert all(np.any((picks >= i) & (picks < i + 4)) for i in range(len(hashes) - 3))
    # ... and a copied run selects the same hashes as the original
    copy = np.concatenate([rng.integers(0, 2**63, 50, dtype=np.uint64), hashes[100:140]])
    assert set(copy[winnow(copy, 4)].tolist()) & set(hashes[picks].tolist())
