"""Masked previews of detected values: what a report may show instead of the value itself.

A preview helps a reviewer see *what kind* of thing was found (`j***@e***.com`, `J*** S****`,
`4***-****-****-****`, `AKIA****`) without carrying the value. The rule every preview obeys: it
never holds the value, nor any run of 3+ of its characters, apart from the first character of
each word and a known non-secret marker (a key prefix such as `AKIA`, a URL scheme, an e-mail's
top-level domain, a PEM `-----BEGIN ... PRIVATE KEY-----` line).
"""

from __future__ import annotations

import re

__all__ = ["mask"]

# Identifiers whose first character is kept and every other letter or digit starred; separators
# stay so the shape is recognisable (`4***-****-****-****`, `+**-***-***-****`).
_IDENTIFIER_TYPES = frozenset(
    {
        "CREDIT_CARD",
        "CRYPTO",
        "IBAN_CODE",
        "IP_ADDRESS",
        "PHONE_NUMBER",
        "US_BANK_NUMBER",
        "US_DRIVER_LICENSE",
        "US_PASSPORT",
        "US_SSN",
    }
)

# Public, non-secret prefixes of credentials: showing them says which service a key belongs to.
# Longest first so `sk-proj-` wins over `sk-`.
_SECRET_PREFIXES = sorted(
    [
        "AKIA",
        "ASIA",
        "ABIA",
        "ACCA",
        "AIza",
        "ya29.",
        "ghp_",
        "gho_",
        "ghu_",
        "ghs_",
        "ghr_",
        "github_pat_",
        "glpat-",
        "gldt-",
        "glrt-",
        "xoxb-",
        "xoxp-",
        "xoxa-",
        "xoxr-",
        "xoxs-",
        "xapp-",
        "sk_live_",
        "sk_test_",
        "rk_live_",
        "rk_test_",
        "whsec_",
        "sk-proj-",
        "sk-svcacct-",
        "sk-admin-",
        "sk-ant-",
        "sk-",
        "eyJ",
        "https://hooks.slack.com/",
    ],
    key=len,
    reverse=True,
)

_PEM_BEGIN = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]{0,19}://")
_ALNUM = re.compile(r"[^\W_]", re.UNICODE)
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_SPACE = re.compile(r"\s+")
_TLD = re.compile(r"\.([A-Za-z]{2,24})$")
_MAX_PREVIEW = 80
_STARS = "****"


def mask(value: str, entity_type: str) -> str:
    """A masked preview of `value`, detected as `entity_type`; never contains the value."""
    if not value:
        return ""
    if entity_type == "SECRET":
        return _mask_secret(value)
    if entity_type == "EMAIL_ADDRESS" and "@" in value:
        return _clip(_mask_email(value))
    if entity_type == "URL":
        return _clip(_mask_url(value))
    if entity_type in _IDENTIFIER_TYPES:
        return _clip(_mask_identifier(value))
    return _clip(_mask_words(value))


def _mask_words(value: str) -> str:
    """Keep the first character of each word, star the rest: `John Smith` -> `J*** S****`."""
    flat = _SPACE.sub(" ", value.strip())
    return _WORD.sub(lambda m: m.group()[0] + "*" * (len(m.group()) - 1), flat)


def _mask_identifier(value: str) -> str:
    """Keep only the very first character; star every other letter or digit."""
    flat = _SPACE.sub(" ", value.strip())
    return flat[:1] + _ALNUM.sub("*", flat[1:])


def _mask_domain(domain: str) -> str:
    """`example.com` -> `e***.com`: first character, then only the top-level domain."""
    tld = _TLD.search(domain)
    head = domain[:1] + "***"
    return head + "." + tld.group(1) if tld and len(domain) > len(tld.group()) else head


def _mask_email(value: str) -> str:
    local, _, domain = value.rpartition("@")
    return f"{local[:1]}***@{_mask_domain(domain)}"


def _mask_url(value: str) -> str:
    scheme = _SCHEME.match(value)
    prefix = scheme.group() if scheme else ""
    rest = value[len(prefix) :]
    host, sep, _path = rest.partition("/")
    host = host.rsplit("@", 1)[-1].split(":", 1)[0]  # never show credentials or a port
    masked = prefix + _mask_domain(host) if host else prefix + _STARS
    return masked + ("/…" if sep else "")


def _mask_secret(value: str) -> str:
    """Only a known marker or prefix, then stars: the secret's length is not shown either."""
    pem = _PEM_BEGIN.search(value)
    if pem:
        return pem.group()
    for prefix in _SECRET_PREFIXES:
        if value.startswith(prefix):
            return prefix + _STARS
    scheme = _SCHEME.match(value)
    if scheme:  # a connection string with a password: show the scheme only
        return scheme.group() + _STARS
    return _STARS


def _clip(preview: str) -> str:
    return preview if len(preview) <= _MAX_PREVIEW else preview[: _MAX_PREVIEW - 1] + "…"
