from __future__ import annotations

import json
from pathlib import Path

import pytest

from provenance.detectors import BUILTIN

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"


@pytest.fixture
def fake_pii(monkeypatch: pytest.MonkeyPatch) -> None:
    """Swap the spaCy-backed PII detector for two regexes (in-process scans only)."""
    monkeypatch.setitem(BUILTIN, "pii", "tests.fakes:RegexPiiDetector")


@pytest.fixture
def store_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "store"
    monkeypatch.setenv("PROVENANCE_STORE", str(directory))
    return directory


def write_jsonl(path: Path, rows: list[object]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path
