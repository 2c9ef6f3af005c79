"""Signed attestations of a release bundle: keys, in-toto statements, DSSE envelopes, checks.

`attest` binds every file of a bundle (by sha256) to the audit's verdict in an in-toto Statement
v1, wraps it in a DSSE envelope and signs the envelope's pre-authentication encoding (PAE) with
an Ed25519 or ECDSA P-256 key; `verify_attestation` checks the signature against a public key and
then every subject against the files on disk, and reports a file that is not covered. Keys are
PEM files (PKCS#8 private, SubjectPublicKeyInfo public); a private key is encrypted when
$PROVENANCE_KEY_PASSWORD is set. The envelope is the one cosign and the in-toto tooling read,
so the same file can also be checked with their verifiers.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from provenance import __version__
from provenance.bundle import ATTESTATION, AUDIT_REPORT, MANIFEST, file_sha256
from provenance.errors import InputError
from provenance.formats.facts import bundle_files

ALGORITHMS = ("ed25519", "ecdsa-p256")
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PAYLOAD_TYPE = "application/vnd.in-toto+json"
# The predicate is provenance's own: the audit verdict with the scan and check summaries.
# Its fields follow the in-toto test-result predicate (`result`) where they mean the same.
PREDICATE_TYPE = "https://provenance-audit.dev/attestation/audit/v1"
PASSWORD_ENV = "PROVENANCE_KEY_PASSWORD"

PrivateKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey
PublicKey = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey


# -- keys -------------------------------------------------------------------------------------


def public_path(private: str | Path) -> Path:
    """Where the public half of a key pair goes: `signing.pem` -> `signing.pub`."""
    path = Path(private)
    if path.suffix == ".pub":
        raise InputError(f"{path}: a private key file must not end in .pub")
    return path.with_suffix(".pub")


def generate_keypair(
    private: str | Path, *, algorithm: str = "ed25519", force: bool = False
) -> tuple[Path, Path]:
    """Write a new private key (mode 0600) and its public key; refuse to overwrite either."""
    if algorithm not in ALGORITHMS:
        raise InputError(f"unknown algorithm {algorithm!r} (choose from {', '.join(ALGORITHMS)})")
    private_path, pub_path = Path(private), public_path(private)
    for path in (private_path, pub_path):
        if path.exists() and not force:
            raise InputError(f"{path} exists; use --force to replace it")
    key: PrivateKey = (
        ed25519.Ed25519PrivateKey.generate()
        if algorithm == "ed25519"
        else ec.generate_private_key(ec.SECP256R1())
    )
    password = os.environ.get(PASSWORD_ENV)
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password.encode())
        if password
        else serialization.NoEncryption()
    )
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    _write(private_path, private_pem, mode=0o600)
    _write(pub_path, public_pem, mode=0o644)
    return private_path, pub_path


def _write(path: Path, data: bytes, *, mode: int) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "wb") as stream:
            stream.write(data)
        os.replace(tmp, path)
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror}") from None


def load_private_key(path: str | Path) -> PrivateKey:
    data = _read_key(path)
    password = os.environ.get(PASSWORD_ENV)
    try:
        key = serialization.load_pem_private_key(
            data, password=password.encode() if password else None
        )
    except TypeError:
        raise InputError(f"{path}: the key is encrypted; set {PASSWORD_ENV}") from None
    except (ValueError, UnsupportedAlgorithm):
        raise InputError(f"{path}: not a PEM private key (or a wrong {PASSWORD_ENV})") from None
    return _supported(key, path)


def load_public_key(path: str | Path) -> PublicKey:
    data = _read_key(path)
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm):
        raise InputError(f"{path}: not a PEM public key") from None
    return _supported(key, path)


def _read_key(path: str | Path) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read key {path}: {exc.strerror}") from None


def _supported(key: Any, path: str | Path) -> Any:
    if isinstance(key, (ed25519.Ed25519PrivateKey, ed25519.Ed25519PublicKey)):
        return key
    if isinstance(key, (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey)) and isinstance(
        key.curve, ec.SECP256R1
    ):
        return key
    raise InputError(f"{path}: unsupported key type (use Ed25519 or ECDSA P-256)")


def key_id(key: PublicKey) -> str:
    """sha256 of the public key's DER SubjectPublicKeyInfo: a hint for which key signed."""
    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).hexdigest()


# -- statements and envelopes -------------------------------------------------------------------


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE v1 pre-authentication encoding: what is actually signed."""
    kind = payload_type.encode("utf-8")
    return b"DSSEv1 %d %b %d %b" % (len(kind), kind, len(payload), payload)


def statement(bundle: str | Path) -> dict[str, Any]:
    """The in-toto Statement for a bundle: every file as a subject, the audit as predicate."""
    root = Path(bundle)
    if not root.is_dir():
        raise InputError(f"bundle is not a directory: {root}")
    report = _json_file(root / AUDIT_REPORT, required=True)
    manifest = _json_file(root / MANIFEST, required=False)
    subjects = [
        {"name": p.relative_to(root).as_posix(), "digest": {"sha256": file_sha256(p)}}
        for p in bundle_files(root)
    ]
    return {
        "_type": STATEMENT_TYPE,
        "subject": subjects,
        "predicateType": PREDICATE_TYPE,
        "predicate": predicate(report, manifest),
    }


def predicate(report: Mapping[str, Any], manifest: Mapping[str, Any]) -> dict[str, Any]:
    """The audit verdict, the scan summary of the data trained on and the license check."""
    summary = dict(report.get("summary") or {})
    blocked = int(summary.get("blocked") or 0) + int(summary.get("errors") or 0)
    check = check_summary(manifest)
    check_verdict = (check or {}).get("verdict")
    if blocked or check_verdict == "fail":
        result = "FAILED"
    elif check is None or check_verdict not in ("pass",):
        result = "WARNED"  # no check, or clauses left for review: a person has to look
    else:
        result = "PASSED"
    if blocked:
        verdict = "not-cleared"
    else:
        verdict = "cleared-with-redactions" if summary.get("redacted") else "cleared"
    dataset = report.get("dataset") or {}
    # A bundle's audit report covers the records trained on; the whole scan's summary is kept
    # beside it (`training.scan_summary`).
    whole = (report.get("training") or {}).get("scan_summary") or summary
    return {
        "result": result,
        "verdict": verdict,
        "tool": {"name": "provenance", "version": __version__},
        "scan": {
            "scanId": report.get("scan_id"),
            "createdAt": report.get("created_at"),
            "source": dataset.get("source"),
            "fingerprint": dataset.get("fingerprint"),
            "licenses": sorted(
                {str(lic.get("spdx") or "unknown") for lic in dataset.get("licenses") or []}
            ),
            "policy": report.get("policy"),
            "summary": whole,
            "trainedOn": summary,
        },
        "check": check,
        "training": {
            "baseModel": manifest.get("base_model"),
            "records": manifest.get("records"),
        },
    }


def check_summary(manifest: Mapping[str, Any]) -> dict[str, Any] | None:
    """The license check recorded in the manifest: its verdict and clause counts by verdict."""
    check = manifest.get("check")
    if not isinstance(check, Mapping):
        return None
    clauses = check.get("clauses")
    verdicts: dict[str, str] = {}
    if isinstance(clauses, list):
        verdicts = {
            str(c.get("id")): str(c.get("verdict"))
            for c in clauses
            if isinstance(c, Mapping) and c.get("id")
        }
    elif isinstance(clauses, Mapping):
        verdicts = {str(k): str(v) for k, v in clauses.items()}
    counts = Counter(verdicts.values())
    base = manifest.get("base_model")
    base = base if isinstance(base, Mapping) else {}
    license_info = base.get("license")
    return {
        "model": check.get("model") or base.get("name_or_path"),
        "license": check.get("license")
        or (license_info.get("id") if isinstance(license_info, Mapping) else None),
        "verdict": check.get("verdict"),
        "clauses": dict(sorted(counts.items())),
        "failed": sorted(k for k, v in verdicts.items() if v == "fail"),
        "review": sorted(k for k, v in verdicts.items() if v == "review"),
        "acceptedReview": sorted(str(c) for c in check.get("accepted_review") or []),
    }


def _json_file(path: Path, *, required: bool) -> dict[str, Any]:
    if not path.is_file():
        if required:
            raise InputError(f"not a release bundle: {path.name} is missing in {path.parent}")
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a JSON object")
    return data


def sign(statement_: Mapping[str, Any], key: PrivateKey) -> dict[str, Any]:
    """A DSSE envelope holding the statement, signed with `key`."""
    payload = json.dumps(statement_, sort_keys=True, separators=(",", ":")).encode("utf-8")
    message = pae(PAYLOAD_TYPE, payload)
    if isinstance(key, ed25519.Ed25519PrivateKey):
        signature = key.sign(message)
    else:
        signature = key.sign(message, ec.ECDSA(hashes.SHA256()))
    return {
        "payloadType": PAYLOAD_TYPE,
        "payload": base64.b64encode(payload).decode("ascii"),
        "signatures": [
            {"keyid": key_id(key.public_key()), "sig": base64.b64encode(signature).decode("ascii")}
        ],
    }


def attest(bundle: str | Path, key: str | Path, output: str | Path | None = None) -> Path:
    """Sign a statement about `bundle` and write the envelope (default: in the bundle)."""
    private_key = load_private_key(key)
    envelope = sign(statement(bundle), private_key)
    target = Path(output) if output else Path(bundle) / ATTESTATION
    _write(target, (json.dumps(envelope, indent=2) + "\n").encode("utf-8"), mode=0o644)
    return target


# -- verification -------------------------------------------------------------------------------


@dataclass
class Verification:
    """What `verify_attestation` found: `problems` is empty when everything checks out."""

    attestation: Path
    problems: list[str] = field(default_factory=list)
    subjects: int = 0
    statement: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_attestation(
    bundle: str | Path, public_key: str | Path, attestation: str | Path | None = None
) -> Verification:
    """Check the envelope's signature with `public_key`, then every subject against the bundle.

    Bad input (no bundle, no attestation file, an unreadable key) raises `InputError`; anything
    that fails verification is listed in `problems`, one line each.
    """
    root = Path(bundle)
    if not root.is_dir():
        raise InputError(f"bundle is not a directory: {root}")
    path = Path(attestation) if attestation else root / ATTESTATION
    if not path.is_file():
        raise InputError(f"no attestation at {path} (create one with `provenance attest`)")
    key = load_public_key(public_key)
    result = Verification(path)
    payload = _verified_payload(path, key, result.problems)
    if payload is None:
        return result
    try:
        claimed = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError):
        result.problems.append(f"{path}: the signed payload is not JSON")
        return result
    result.statement = claimed if isinstance(claimed, dict) else None
    if result.statement is None or result.statement.get("_type") != STATEMENT_TYPE:
        result.problems.append(f"{path}: the payload is not an in-toto Statement v1")
        return result
    _check_subjects(root, path, result)
    return result


def _verified_payload(path: Path, key: PublicKey, problems: list[str]) -> bytes | None:
    """The envelope's payload when one of its signatures verifies with `key`, else None."""
    try:
        envelope = json.loads(path.read_text(encoding="utf-8"))
        payload_type = envelope["payloadType"]
        payload = base64.b64decode(envelope["payload"], validate=True)
        signatures = [base64.b64decode(s["sig"], validate=True) for s in envelope["signatures"]]
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, binascii.Error):
        problems.append(f"{path}: not a DSSE envelope")
        return None
    if payload_type != PAYLOAD_TYPE:
        problems.append(f"{path}: payload type is {payload_type!r}, not {PAYLOAD_TYPE}")
        return None
    message = pae(payload_type, payload)
    for signature in signatures:
        try:
            if isinstance(key, ed25519.Ed25519PublicKey):
                key.verify(signature, message)
            else:
                key.verify(signature, message, ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            continue
        return payload
    problems.append(f"{path}: no signature verifies with this public key (key {key_id(key)[:16]})")
    return None


def _check_subjects(root: Path, attestation: Path, result: Verification) -> None:
    assert result.statement is not None
    subjects = result.statement.get("subject")
    if not isinstance(subjects, list) or not subjects:
        result.problems.append(f"{attestation}: the statement has no subjects")
        return
    covered = set()
    for subject in subjects:
        name = subject.get("name") if isinstance(subject, Mapping) else None
        digest = (
            (subject.get("digest") or {}).get("sha256") if isinstance(subject, Mapping) else None
        )
        if not isinstance(name, str) or not isinstance(digest, str):
            result.problems.append("a subject has no name or no sha256 digest")
            continue
        relative = PurePosixPath(name)
        if relative.is_absolute() or ".." in relative.parts:
            result.problems.append(f"{name}: subject name points outside the bundle")
            continue
        covered.add(relative.as_posix())
        target = root / relative
        if target.is_symlink():
            result.problems.append(f"{name}: a symlink, not the attested file")
        elif not target.is_file():
            result.problems.append(f"{name}: missing (attested sha256 {digest[:12]}…)")
        elif file_sha256(target) != digest:
            result.problems.append(f"{name}: sha256 differs from the attested {digest[:12]}…")
        result.subjects += 1
    exclude = {ATTESTATION}
    if attestation.resolve().parent == root.resolve():
        exclude.add(attestation.name)
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if rel in covered or rel in exclude:
            continue
        if path.is_symlink():
            result.problems.append(f"{rel}: a symlink the attestation does not cover")
        elif path.is_file():
            result.problems.append(f"{rel}: not covered by the attestation")
