"""`provenance init`, `check` and `license` as users and CI see them: exit codes, first lines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from provenance.cli import cli, main

CARDS = Path(__file__).resolve().parent.parent / "data" / "cards"

PASSING = """
base_model: meta-llama/Llama-2-7b-hf
usage:
  commercial: true
  monthly_active_users: 5000
  distributes_model: true
  hosted_service: false
  integrated_end_user_product: false
  use_cases: [customer_support]
  outputs_train_other_model: false
  other_model: null
  eu_domiciled: false
  model_name: Llama-Acme
"""


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def run_main(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    out, err = capsys.readouterr()
    return int(exit_info.value.code or 0), out, err


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_init_writes_the_template_and_refuses_to_overwrite(
    here: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_main(capsys, "init")
    assert code == 0 and (here / "provenance.yaml").is_file()
    assert err.startswith("wrote provenance.yaml")
    code, _, err = run_main(capsys, "init")
    assert code == 2
    assert err.splitlines()[0] == (
        f"Error: {here / 'provenance.yaml'} already exists (use --force to overwrite it)"
    )
    assert run_main(capsys, "init", "--force", "-q")[0] == 0


def test_check_without_a_declaration(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_main(capsys, "check")
    assert code == 2 and out == ""
    assert err.splitlines()[0].startswith("Error: no usage declaration: run `provenance init`")


def test_check_passes_with_obligations(here: Path) -> None:
    (here / "provenance.yaml").write_text(PASSING, encoding="utf-8")
    result = run("check")
    assert result.exit_code == 0
    assert "Verdict: PASS" in result.stdout and "llama2-notice" in result.stdout
    assert result.stderr.startswith("license check: pass · meta-llama/Llama-2-7b-hf under llama2")


def test_check_fails_over_700m(here: Path) -> None:
    (here / "provenance.yaml").write_text(PASSING.replace("5000", "700000001"), encoding="utf-8")
    result = run("check", "-f", "json", "-q")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["verdict"] == "fail"
    assert next(c for c in data["clauses"] if c["id"] == "llama2.mau-700m")["facts"] == {
        "monthly_active_users": 700000001
    }


def test_review_fails_only_with_strict(here: Path) -> None:
    usage = here / "u.yaml"
    usage.write_text(PASSING.replace("  distributes_model: true\n", ""), encoding="utf-8")
    assert run("check", "--usage", str(usage), "-q").exit_code == 0
    assert run("check", "--usage", str(usage), "--strict", "-q").exit_code == 1


def test_check_model_option_and_markdown(here: Path) -> None:
    result = run("check", "--model", "meta-llama/Llama-3.2-11B-Vision-Instruct", "-f", "markdown")
    assert result.exit_code == 0
    assert result.stdout.startswith("# License check: meta-llama/Llama-3.2-11B-Vision-Instruct\n")
    assert "| review | `llama3.2.eu-multimodal` |" in result.stdout


def test_check_bad_declaration(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (here / "bad.yaml").write_text("usage:\n  commercial: sometimes\n", encoding="utf-8")
    code, _, err = run_main(capsys, "check", "--usage", "bad.yaml")
    assert code == 2
    first = err.splitlines()[0]
    assert first == "Error: bad.yaml: usage.commercial: Input should be a valid boolean"


def test_check_output_file(here: Path) -> None:
    (here / "provenance.yaml").write_text(PASSING, encoding="utf-8")
    result = run("check", "-f", "json", "-o", "check.json", "-q")
    assert result.exit_code == 0 and result.stdout == ""
    assert json.loads((here / "check.json").read_text())["schema"] == "provenance.check/v1"


def test_license_json_for_many_paths() -> None:
    result = run(
        "license", str(CARDS / "tushar117_xalign.md"), str(CARDS / "bigbio_an_em.md"), "-f", "json"
    )
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert [(d["spdx"], d["properties"]["commercial"]) for d in data] == [
        ("CC-BY-NC-SA-4.0 AND MIT", False),
        ("CC-BY-SA-3.0", True),
    ]
    assert list(data[0]) == ["path", "spdx", "evidence", "properties"]
    properties = ["commercial", "attribution", "share_alike", "derivatives"]
    assert list(data[0]["properties"]) == properties
    assert data[1]["evidence"][0]["line"] == 7  # after the card's leading blank line


def test_license_unknown_exits_1() -> None:
    result = run("license", str(CARDS / "Amir13_ncbi-persian.md"), "-f", "json")
    assert result.exit_code == 1 and json.loads(result.stdout)[0]["spdx"] is None
    table = run("license", str(CARDS / "Amir13_ncbi-persian.md"))
    assert "unknown" in table.stdout


def test_license_missing_path(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run_main(capsys, "license", str(tmp_path / "nope"))
    assert code == 2
    assert err.splitlines()[0] == f"Error: no such file or directory: {tmp_path / 'nope'}"
