"""Tokens and shingles: the normalised units that reference and duplicate matching compare.

Two tokenisers share one vectorised hasher:

- `text_tokens` reads prose. It folds case and accents, ignores punctuation, whitespace and line
  wrapping, and joins contractions, so "Don't", "don’t" and a tokenised edition's "do n't" give
  the same tokens. CJK ideographs and kana are one token each.
- `code_tokens` reads source code as code: comments, layout, statement terminators and trailing
  commas are dropped, local names become a placeholder (renaming is tolerated); keywords,
  attribute names, called names, keyword-argument names, numbers, operators and the words of
  string literals are kept. Markdown fences are punctuation, so code pasted in an answer reads
  the same.

Every token keeps the character offsets it came from, so a match can be reported as a span of
the original text. Shingles are k consecutive tokens hashed to uint64; `winnow` picks the
minimum shingle hash of every window of w shingles (Schleimer et al., 2003), which guarantees
that two texts sharing a run of at least w + k - 1 tokens share a selected hash.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache

import numpy as np

TEXT = "text"
CODE = "code"
KINDS = (TEXT, CODE)

# Character classes of the fold table.
_SEP, _WORD, _SKIP, _SINGLE = 0, 1, 2, 3
_APOSTROPHES = "'’ʼ`´"
_SPLITMIX_1 = np.uint64(0xBF58476D1CE4E5B9)
_SPLITMIX_2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_CHAR_BASE = np.uint64(0x100000001B3)  # FNV prime: odd, so powers of it never vanish mod 2^64
# Per-position multipliers for shingle hashing: fixed odd constants, so results never change.
_POSITION = np.array(
    [
        (0x9E3779B97F4A7C15 * (2 * i + 1) + 0x632BE59BD9B4E019 * i) % (1 << 64) | 1
        for i in range(64)
    ],
    dtype=np.uint64,
)

# A tokenised edition splits contractions ("do n't", "it 's"); this joins them back. The
# whitespace is replaced by apostrophes, which tokens skip, so character offsets do not move.
_CLITIC = re.compile(r"\s+(?=(?:n['’]t|['’](?:s|t|d|m|ll|re|ve))\b)", re.IGNORECASE)


@dataclass(frozen=True)
class Tokens:
    """A token sequence: uint64 hashes and the [start, end) character offsets of each token."""

    hashes: np.ndarray  # uint64
    starts: np.ndarray  # int64
    ends: np.ndarray  # int64

    def __len__(self) -> int:
        return len(self.hashes)


_EMPTY_U64 = np.zeros(0, dtype=np.uint64)
_EMPTY_I64 = np.zeros(0, dtype=np.int64)
EMPTY = Tokens(_EMPTY_U64, _EMPTY_I64, _EMPTY_I64)


def mix64(values: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser: an avalanching bijection on uint64 (wraps on purpose)."""
    x = values ^ (values >> np.uint64(30))
    x = x * _SPLITMIX_1
    x = x ^ (x >> np.uint64(27))
    x = x * _SPLITMIX_2
    return x ^ (x >> np.uint64(31))


@cache
def _fold_tables() -> tuple[np.ndarray, np.ndarray]:
    """Per BMP code point: the folded code point and its class (built once per process)."""
    fold = np.arange(0x10000, dtype=np.uint32)
    klass = np.zeros(0x10000, dtype=np.uint8)
    for cp in range(0x10000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        char = chr(cp)
        if char in _APOSTROPHES or unicodedata.category(char) in ("Mn", "Me", "Cf"):
            klass[cp] = _SKIP  # combining accents, zero-width joiners, apostrophes
            continue
        if not char.isalnum():
            continue
        if (
            0x3040 <= cp <= 0x30FF
            or 0x3400 <= cp <= 0x4DBF
            or 0x4E00 <= cp <= 0x9FFF
            or 0xF900 <= cp <= 0xFAFF
        ):
            klass[cp] = _SINGLE
            continue
        klass[cp] = _WORD
        lower = char.lower()
        if len(lower) != 1:
            lower = char
        base = [c for c in unicodedata.normalize("NFKD", lower) if not unicodedata.combining(c)]
        fold[cp] = ord(base[0]) if len(base) == 1 and base[0].isalnum() else ord(lower)
    return fold, klass


def _codepoints(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def _hash_runs(chars: np.ndarray, run_starts: np.ndarray) -> np.ndarray:
    """One uint64 hash per run of code points; runs start at `run_starts` and are contiguous."""
    n = len(chars)
    lengths = np.diff(np.append(run_starts, n))
    position = np.arange(n, dtype=np.int64) - np.repeat(run_starts, lengths)
    longest = int(lengths.max())
    powers = np.cumprod(np.full(longest, _CHAR_BASE, dtype=np.uint64), dtype=np.uint64)
    weighted = (chars.astype(np.uint64) + _GOLDEN) * powers[position]
    sums = np.add.reduceat(weighted, run_starts, dtype=np.uint64)
    return mix64(sums ^ lengths.astype(np.uint64))


def text_tokens(text: str) -> Tokens:
    """Word tokens of prose with their offsets in `text` (case, accents, punctuation folded)."""
    if not text:
        return EMPTY
    text = _CLITIC.sub(lambda m: "'" * len(m.group()), text)
    cps = _codepoints(text)
    fold, klass = _fold_tables()
    bmp = cps < 0x10000
    folded = np.where(bmp, fold[np.where(bmp, cps, 0)], cps)
    # Code points beyond the BMP are rare in prose; letters there count as word characters.
    classes = np.where(bmp, klass[np.where(bmp, cps, 0)], _WORD)
    kept = np.flatnonzero(classes != _SKIP)  # skipped characters join their neighbours
    cls = classes[kept]
    is_word = cls == _WORD
    is_token = is_word | (cls == _SINGLE)
    previous_word = np.concatenate(([False], is_word[:-1]))
    begins = (cls == _SINGLE) | (is_word & ~previous_word)
    token_index = np.flatnonzero(is_token)  # positions (in `kept`) of token characters
    if len(token_index) == 0:
        return EMPTY
    starts_mask = begins[token_index]
    run_starts = np.flatnonzero(starts_mask)
    hashes = _hash_runs(folded[kept[token_index]], run_starts)
    original = kept[token_index]
    run_ends = np.append(run_starts[1:], len(token_index)) - 1
    return Tokens(hashes, original[run_starts].astype(np.int64), original[run_ends] + 1)


# -- code --------------------------------------------------------------------------------------

_KEYWORD_LIST = """
and as assert async await break case catch class const continue def default del delete do elif else
enum except export extends false final finally fn for from func function go goto if impl import in
interface is lambda let loop match mod module mut namespace new nil none nonlocal not null or
package
pass private protected pub public raise return self static struct super switch this throw throws
trait true try type typeof union unsafe use var void volatile where while with yield int char float
double long short bool boolean string str list dict set tuple
"""
KEYWORDS = frozenset(_KEYWORD_LIST.split())
_CODE_TOKEN = re.compile(
    r"""
      (?P<comment>\#[^\n]*|/\*.*?\*/|(?:^|(?<=[;{}]))[ \t]*//[^\n]*)
    | (?P<string>[rRbBuUfF]{0,2}(?:\"\"\"(?:\\.|[^\\])*?\"\"\"|'''(?:\\.|[^\\])*?'''
                  |"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'))
    | (?P<name>[^\W\d]\w*)
    | (?P<number>\d[\w.]*)
    | (?P<op>\*\*=?|//=?|<<=?|>>=?|->|=>|::|\+\+|--|&&|\|\||[-+*/%&|^!=<>:@]=|[^\s\w])
    """,
    re.VERBOSE | re.DOTALL | re.MULTILINE,
)
_CLOSERS = frozenset(")]}")
_NAME = "\x01I"  # the placeholder of a local name
_WORDS = re.compile(r"[^\W_]+")


def code_tokens(text: str) -> Tokens:
    """Tokens of source code with their offsets; layout, comments and local names are ignored."""
    words: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    previous = ""
    for match in _CODE_TOKEN.finditer(text):
        kind = match.lastgroup
        value = match.group()
        if kind == "comment":
            continue
        if kind == "string":
            # Formatters change quotes and escapes, not words: keep only the words.
            token = "\x01S" + " ".join(_WORDS.findall(value.lower()))
        elif kind == "name":
            lowered = value.lower()
            if lowered in KEYWORDS:
                token = lowered
            elif previous == ".":
                token = value  # attribute and method names are rarely what a copier renames
            else:
                token = _NAME
        elif kind == "number":
            token = value.lower()
        else:
            if value == ";":
                continue  # formatters add and remove statement terminators
            if value in _CLOSERS and words and words[-1] == ",":
                words.pop()  # ... and trailing commas
                starts.pop()
                ends.pop()
            if value == "(" and words and words[-1] == _NAME:
                words[-1] = previous  # a called name is an API (len, re.sub), rarely renamed
            if value == "=" and len(words) > 1 and words[-1] == _NAME and words[-2] in ("(", ","):
                words[-1] = previous  # so is a keyword argument's name
            token = value
        words.append(token)
        starts.append(match.start())
        ends.append(match.end())
        previous = value
    if not words:
        return EMPTY
    return Tokens(
        hash_strings(words), np.asarray(starts, dtype=np.int64), np.asarray(ends, dtype=np.int64)
    )


def hash_strings(values: list[str]) -> np.ndarray:
    """A deterministic uint64 hash of each string (vectorised; empty strings are allowed)."""
    if not values:
        return _EMPTY_U64
    cps = _codepoints("".join(values))
    lengths = np.fromiter((len(v) for v in values), dtype=np.int64, count=len(values))
    # Prefix every string with a marker so empty strings still form a run of their own.
    marked = np.insert(cps, np.cumsum(lengths) - lengths, 0x110000)
    run_starts = np.cumsum(lengths + 1) - (lengths + 1)
    return _hash_runs(marked, run_starts)


def tokens(text: str, kind: str) -> Tokens:
    """The tokens of `text` read as `kind` (TEXT or CODE)."""
    return code_tokens(text) if kind == CODE else text_tokens(text)


# -- shingles ----------------------------------------------------------------------------------


def shingle_hashes(token_hashes: np.ndarray, k: int) -> np.ndarray:
    """uint64 hashes of every run of k consecutive tokens (order-sensitive).

    A sequence shorter than k gives one shingle of all its tokens, so short texts still compare.
    """
    n = len(token_hashes)
    if n == 0:
        return _EMPTY_U64
    width = min(k, n)
    count = n - width + 1
    acc = np.zeros(count, dtype=np.uint64)
    for j in range(width):
        acc += token_hashes[j : j + count] * _POSITION[j]
    return mix64(acc ^ np.uint64(width))


def winnow(hashes: np.ndarray, window: int) -> np.ndarray:
    """Positions of the winnowing fingerprints: the rightmost minimum of each window.

    Every run of `window` consecutive hashes contains a selected position, and equal runs
    select equal hashes, so a shared run of shingles always shares a fingerprint.
    """
    n = len(hashes)
    if n == 0:
        return _EMPTY_I64
    if n <= window:
        return np.array([n - 1 - int(np.argmin(hashes[::-1]))], dtype=np.int64)
    view = np.lib.stride_tricks.sliding_window_view(hashes, window)
    # argmin over the reversed window gives the rightmost minimum, the usual tie rule.
    picks = np.arange(len(view), dtype=np.int64) + window - 1 - np.argmin(view[:, ::-1], axis=1)
    return np.unique(picks)
