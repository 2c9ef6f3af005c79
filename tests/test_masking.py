"""Masked previews: a truth table per kind, and the rule every preview obeys."""

from __future__ import annotations

import re

import pytest

from provenance.masking import mask

CASES = [
    # (value, type, preview)
    ("john.smith@example.com", "EMAIL_ADDRESS", "j***@e***.com"),
    ("UtaKortig@mail.jourrapide.co.uk", "EMAIL_ADDRESS", "U***@m***.uk"),
    ("a@b.io", "EMAIL_ADDRESS", "a***@b***.io"),
    ("John Smith", "PERSON", "J*** S****"),
    ("Krisztián Szöllösy", "PERSON", "K******** S*******"),
    ("Ingrid\nHalvorsen", "PERSON", "I***** H********"),
    ("New Zealand", "LOCATION", "N** Z******"),
    (
        "6750 Koskikatu 25 Apt. 864\nArtilleros",
        "STREET_ADDRESS",
        "6*** K******** 2* A**. 8** A*********",
    ),
    ("4111-1111-1111-1111", "CREDIT_CARD", "4***-****-****-****"),
    ("4111 1111 1111 1111", "CREDIT_CARD", "4*** **** **** ****"),
    ("536-22-8741", "US_SSN", "5**-**-****"),
    ("+1-984-182-0190", "PHONE_NUMBER", "+*-***-***-****"),
    ("(415) 555-0132", "PHONE_NUMBER", "(***) ***-****"),
    ("192.168.10.42", "IP_ADDRESS", "1**.***.**.**"),
    ("GB82 WEST 1234 5698 7654 32", "IBAN_CODE", "G*** **** **** **** **** **"),
    ("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", "CRYPTO", "1" + "*" * 33),
    ("D1234567", "US_DRIVER_LICENSE", "D*******"),
    ("1985-03-14", "DATE_TIME", "1***-0*-1*"),
    ("https://www.example.com/users/42?name=jo", "URL", "https://w***.com/…"),
    ("example.org", "URL", "e***.org"),
    ("AKIAIOSFODNN7EXAMPLE", "SECRET", "AKIA****"),
    ("ghp_abcdefghijklmnopqrstuvwxyz0123456789", "SECRET", "ghp_****"),
    ("glpat-AbCdEfGhIjKlMnOpQrSt", "SECRET", "glpat-****"),
    ("xoxb-123456789012-1234567890123-AbCdEfGh", "SECRET", "xoxb-****"),
    ("sk_live_51HabcdefGHIJKLmnopqrsTUVwx", "SECRET", "sk_live_****"),
    ("sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz0123", "SECRET", "sk-proj-****"),
    ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abcdefghijkl", "SECRET", "eyJ****"),
    (
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----",
        "SECRET",
        "-----BEGIN RSA PRIVATE KEY-----",
    ),
    ("postgres://app:S3cr3t-pw@db.internal:5432", "SECRET", "postgres://****"),
    ("hunter2-correct-horse", "SECRET", "****"),
    ("Xyzzy Corp", "SOMETHING_NEW", "X**** C***"),
    ("", "PERSON", ""),
]

# Markers a preview may show although they are part of the value: they say what kind of thing
# was found and hold nothing secret.
ALLOWED = re.compile(
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----|[a-z]+://|\.(com|uk|io|org)\b|"
    r"AKIA|ghp_|glpat-|xoxb-|sk_live_|sk-proj-|eyJ"
)


@pytest.mark.parametrize(("value", "kind", "preview"), CASES)
def test_truth_table(value: str, kind: str, preview: str) -> None:
    assert mask(value, kind) == preview


@pytest.mark.parametrize(("value", "kind", "preview"), CASES)
def test_no_three_characters_of_the_value(value: str, kind: str, preview: str) -> None:
    """Apart from allowed markers, no run of 3+ characters of the value survives masking, and
    the value itself never does."""
    preview = mask(value, kind)
    if len(value) >= 3:
        assert value not in preview
    shown = ALLOWED.sub(" ", preview)
    for run in re.findall(r"[^*\s.\-@/…()+]{3,}", shown):
        assert run not in value, f"{run!r} of {value!r} leaks into {shown!r}"


def test_long_values_are_clipped() -> None:
    preview = mask("word " * 100, "PERSON")
    assert len(preview) == 80 and preview.endswith("…")


def test_a_secret_preview_does_not_tell_its_length() -> None:
    assert mask("ghp_" + "a" * 36, "SECRET") == mask("ghp_" + "b" * 200, "SECRET")
