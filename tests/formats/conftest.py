from __future__ import annotations

from pathlib import Path

import pytest

from provenance.report import ScanReport
from tests.formats.sample import sample_report, write_sample_bundle


@pytest.fixture
def report() -> ScanReport:
    return sample_report()


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    # The folder name is the adapter's name in the BOMs, so it is fixed.
    return write_sample_bundle(tmp_path / "llama2-7b-support-lora")


@pytest.fixture(autouse=True)
def _repo_cwd(monkeypatch: pytest.MonkeyPatch) -> None:
    # SARIF paths are relative to the working directory (the repository in CI): run from the
    # repository root whatever directory pytest was started in.
    from tests.formats.sample import REPO

    monkeypatch.chdir(REPO)
