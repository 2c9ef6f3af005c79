"""Signed attestations: keygen, attest, verify --key, and each way a bundle can be tampered with."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path
from typing import Any

import pytest

from provenance.attest import (
    PAYLOAD_TYPE,
    PREDICATE_TYPE,
    STATEMENT_TYPE,
    generate_keypair,
    pae,
    sign,
    statement,
    verify_attestation,
)
from provenance.bundle import ATTESTATION
from provenance.cli import main


@pytest.fixture(autouse=True)
def _no_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROVENANCE_STORE", str(tmp_path / "store"))  # verify finds no store
    monkeypatch.delenv("PROVENANCE_KEY_PASSWORD", raising=False)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    out, err = capsys.readouterr()
    return int(exit_info.value.code or 0), out, err


@pytest.fixture(params=["ed25519", "ecdsa-p256"])
def keys(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Path, Path]:
    return generate_keypair(tmp_path / "keys" / "signing.pem", algorithm=request.param)


@pytest.fixture
def attested(bundle: Path, keys: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> Path:
    code, _, err = run(capsys, "attest", str(bundle), "--key", str(keys[0]))
    assert code == 0, err
    return bundle


def envelope(bundle: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((bundle / ATTESTATION).read_text())
    return data


def test_pae_matches_the_dsse_test_vector() -> None:
    assert pae("http://example.com/HelloWorld", b"hello world") == (
        b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    )


def test_keygen_writes_a_private_and_a_public_pem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = tmp_path / "release.pem"
    code, _, err = run(capsys, "keygen", str(key), "--algorithm", "ecdsa-p256")
    assert code == 0
    assert "release.pub" in err
    assert key.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    assert (tmp_path / "release.pub").read_text().startswith("-----BEGIN PUBLIC KEY-----")
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    code, _, err = run(capsys, "keygen", str(key))
    assert code == 2
    assert err.startswith(f"Error: {key} exists; use --force")


def test_encrypted_key_needs_the_password(
    bundle: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    monkeypatch.setenv("PROVENANCE_KEY_PASSWORD", "correct horse")
    private, public = generate_keypair(tmp_path / "enc.pem")
    assert "ENCRYPTED" in private.read_text()
    monkeypatch.delenv("PROVENANCE_KEY_PASSWORD")
    code, _, err = run(capsys, "attest", str(bundle), "--key", str(private))
    assert code == 2
    assert "set PROVENANCE_KEY_PASSWORD" in err
    monkeypatch.setenv("PROVENANCE_KEY_PASSWORD", "correct horse")
    assert run(capsys, "attest", str(bundle), "--key", str(private))[0] == 0
    assert run(capsys, "verify", str(bundle), "--key", str(public))[0] == 0


def test_statement_covers_every_file_and_carries_the_verdict(
    attested: Path, keys: tuple[Path, Path]
) -> None:
    env = envelope(attested)
    assert env["payloadType"] == PAYLOAD_TYPE
    claimed = json.loads(base64.b64decode(env["payload"]))
    assert claimed["_type"] == STATEMENT_TYPE
    assert claimed["predicateType"] == PREDICATE_TYPE
    names = [s["name"] for s in claimed["subject"]]
    expected = sorted(p.name for p in attested.iterdir() if p.name != ATTESTATION)
    assert names == expected
    predicate = claimed["predicate"]
    assert predicate["verdict"] == "cleared-with-redactions"  # the trained subset
    assert predicate["result"] == "PASSED"
    assert predicate["scan"]["summary"]["blocked"] == 5  # the whole scan
    assert predicate["scan"]["trainedOn"]["blocked"] == 0
    assert predicate["check"]["verdict"] == "pass"
    assert predicate["check"]["clauses"] == {"obligation": 1, "pass": 2}
    result = verify_attestation(attested, keys[1])
    assert result.ok and result.subjects == len(expected)


def test_verify_with_key_passes(attested: Path, keys: tuple[Path, Path],
                                capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    code, out, err = run(capsys, "verify", str(attested), "--key", str(keys[1]))
    assert (code, out) == (0, "")
    assert f"verified {attested}: 9 checks passed" in err  # 7 files, digest, attestation


def test_changed_file_fails(attested: Path, keys: tuple[Path, Path],
                            capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    with (attested / "adapter_model.safetensors").open("ab") as stream:
        stream.write(b"\0")
    code, out, _ = run(capsys, "verify", str(attested), "--key", str(keys[1]))
    assert code == 1
    assert "mismatch: attestation: adapter_model.safetensors: sha256 differs" in out


def test_changed_statement_fails(attested: Path, keys: tuple[Path, Path],
                                 capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    env = envelope(attested)
    claimed = json.loads(base64.b64decode(env["payload"]))
    claimed["predicate"]["verdict"] = "cleared"
    claimed["predicate"]["scan"]["trainedOn"]["redacted"] = 0
    env["payload"] = base64.b64encode(json.dumps(claimed).encode()).decode()
    (attested / ATTESTATION).write_text(json.dumps(env))
    code, out, _ = run(capsys, "verify", str(attested), "--key", str(keys[1]))
    assert code == 1
    assert "no signature verifies with this public key" in out


def test_wrong_key_fails(attested: Path, tmp_path: Path,
                         capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    _, other = generate_keypair(tmp_path / "other" / "key.pem")
    code, out, _ = run(capsys, "verify", str(attested), "--key", str(other))
    assert code == 1
    assert "no signature verifies with this public key" in out


def test_added_and_removed_files_fail(attested: Path, keys: tuple[Path, Path]) -> None:
    (attested / "extra.bin").write_bytes(b"smuggled")
    (attested / "NOTICE").unlink()
    problems = verify_attestation(attested, keys[1]).problems
    assert "extra.bin: not covered by the attestation" in problems
    assert any(p.startswith("NOTICE: missing") for p in problems)


def test_a_file_replaced_by_a_symlink_fails(attested: Path, keys: tuple[Path, Path]) -> None:
    original = attested / "NOTICE"
    copy = attested.parent / "NOTICE.copy"
    copy.write_bytes(original.read_bytes())  # same content: only the link gives it away
    original.unlink()
    original.symlink_to(copy)
    (attested / "link").symlink_to(copy)
    problems = verify_attestation(attested, keys[1]).problems
    assert "NOTICE: a symlink, not the attested file" in problems
    assert "link: a symlink the attestation does not cover" in problems


def test_subject_names_cannot_point_outside_the_bundle(
    bundle: Path, keys: tuple[Path, Path]
) -> None:
    from provenance.attest import load_private_key

    claimed = statement(bundle)
    claimed["subject"].append({"name": "../outside.txt", "digest": {"sha256": "0" * 64}})
    env = sign(claimed, load_private_key(keys[0]))
    (bundle / ATTESTATION).write_text(json.dumps(env))
    problems = verify_attestation(bundle, keys[1]).problems
    assert "../outside.txt: subject name points outside the bundle" in problems


def test_bad_input_exits_2(bundle: Path, keys: tuple[Path, Path], tmp_path: Path,
                           capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    code, _, err = run(capsys, "verify", str(bundle), "--key", str(keys[1]))
    assert code == 2 and err.startswith("Error: no attestation at")
    not_a_key = tmp_path / "not-a-key.pub"
    not_a_key.write_text("hello")
    run(capsys, "attest", str(bundle), "--key", str(keys[0]))
    code, _, err = run(capsys, "verify", str(bundle), "--key", str(not_a_key))
    assert code == 2 and err.startswith(f"Error: {not_a_key}: not a PEM public key")
    code, _, err = run(capsys, "verify", str(bundle), "--attestation", "x.json")
    assert code == 2 and err.startswith("Error: --attestation needs --key")
    (bundle / "audit-report.json").unlink()
    code, _, err = run(capsys, "attest", str(bundle), "--key", str(keys[0]))
    assert code == 2 and err.startswith("Error: not a release bundle: audit-report.json")


def test_attestation_elsewhere(bundle: Path, keys: tuple[Path, Path], tmp_path: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    target = tmp_path / "release" / "audit.intoto.json"
    assert run(capsys, "attest", str(bundle), "--key", str(keys[0]), "-o", str(target))[0] == 0
    assert not (bundle / ATTESTATION).exists()
    code, _, _ = run(
        capsys, "verify", str(bundle), "--key", str(keys[1]), "--attestation", str(target)
    )
    assert code == 0
