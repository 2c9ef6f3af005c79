"""The command line as users and CI see it: exit codes, first lines of errors, report shapes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from provenance.cli import cli, main
from tests.conftest import write_jsonl

pytestmark = pytest.mark.usefixtures("fake_pii", "store_dir")

CLEAN = [{"text": "The capital of France is Paris."}, {"text": "Two plus two is four."}]
DIRTY = [*CLEAN, {"text": "SSN 536-22-8146"}]


def dataset(tmp_path: Path, rows: list[dict[str, str]]) -> Path:
    """A dataset folder whose card declares MIT, so the license detector clears it."""
    write_jsonl(tmp_path / "data" / "d.jsonl", rows)
    (tmp_path / "data" / "README.md").write_text("---\nlicense: mit\n---\n", encoding="utf-8")
    return tmp_path / "data"


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def run_main(*args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    out, err = capsys.readouterr()
    return int(exit_info.value.code or 0), out, err


def test_clean_dataset_exits_0(tmp_path: Path) -> None:
    data = dataset(tmp_path, CLEAN)
    result = run("scan", str(data), "--workers", "1")
    assert result.exit_code == 0
    assert "2 cleared" in result.stdout
    assert result.stderr.startswith("2 records: 2 cleared, 0 redacted, 0 blocked, 0 errors")


def test_blocked_record_exits_1(tmp_path: Path) -> None:
    data = dataset(tmp_path, DIRTY)
    assert run("scan", str(data), "--workers", "1").exit_code == 1


def test_unreadable_record_exits_1(tmp_path: Path) -> None:
    data = tmp_path / "d.jsonl"
    data.write_text('{"text": "fine"}\n{broken\n', encoding="utf-8")
    assert run("scan", str(data), "--workers", "1", "-q").exit_code == 1


def test_json_report_has_exactly_the_contract_keys(tmp_path: Path) -> None:
    data = dataset(tmp_path, DIRTY)
    result = run("scan", str(data), "--workers", "1", "-f", "json", "-q")
    report = json.loads(result.stdout)
    assert list(report) == [
        "schema", "scan_id", "created_at", "tool", "dataset", "policy", "usage", "summary",
        "records", "findings",
    ]  # fmt: skip
    assert report["schema"] == "provenance.scan/v1"
    assert set(report["dataset"]) == {"source", "fingerprint", "files", "licenses"}
    assert set(report["dataset"]["files"][0]) == {"path", "sha256", "format", "records"}
    assert set(report["summary"]) == {
        "records", "cleared", "redacted", "blocked", "errors", "findings_by_detector",
        "findings_by_type",
    }  # fmt: skip
    assert set(report["records"][0]) == {"id", "file", "row", "status", "reasons"}
    assert list(report["findings"][0]) == [
        "record_id", "file", "row", "detector", "type", "field", "start", "end", "score",
        "action", "preview", "detail",
    ]  # fmt: skip
    (ssn,) = [f for f in report["findings"] if f["type"] == "US_SSN"]
    assert (ssn["field"], ssn["start"], ssn["end"], ssn["action"]) == ("text", 4, 15, "block")
    assert report["dataset"]["licenses"][0]["spdx"] == "MIT"
    assert "536-22-8146" not in result.stdout


def test_output_file_and_markdown(tmp_path: Path) -> None:
    data = dataset(tmp_path, DIRTY)
    out = tmp_path / "audit.md"
    result = run("scan", str(data), "--workers", "1", "-f", "markdown", "-o", str(out), "-q")
    assert result.exit_code == 1 and result.stdout == "" and result.stderr == ""
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# Data audit: ")
    assert "**Not cleared**: 2 cleared, 0 redacted, 1 blocked, 0 errors of 3 records." in text


def test_report_renders_the_latest_scan(tmp_path: Path) -> None:
    data = dataset(tmp_path, CLEAN)
    run("scan", str(data), "--workers", "1", "-q")
    result = run("report", "-f", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["summary"]["cleared"] == 2


def test_query_formats(tmp_path: Path) -> None:
    data = dataset(tmp_path, DIRTY)
    run("scan", str(data), "--workers", "1", "-q")
    sql = "select status, count(*) as n from records group by 1 order by 1"
    assert run("query", sql, "-f", "csv").stdout == "status,n\nblocked,1\ncleared,2\n"
    assert json.loads(run("query", sql, "-f", "json").stdout) == [
        {"status": "blocked", "n": 1},
        {"status": "cleared", "n": 2},
    ]
    assert "blocked" in run("query", sql).stdout


@pytest.mark.parametrize(
    ("args", "first_line"),
    [
        (["scan", "/no/such/dir"], "Error: dataset path does not exist: /no/such/dir"),
        (["scan", "{tmp}", "--detectors", "pii,magic"],
         "Error: unknown detector: magic (choose from "),
        (["scan", "{tmp}", "--policy", "{tmp}/policy.yaml"],
         "Error: {tmp}/policy.yaml: detectors.pii.tpyes: unknown field (check the spelling)"),
        (["query", "select * from nowhere"], "Error: query failed: Catalog Error: "),
        (["report", "--scan", "scan-nope"], "Error: no scan scan-nope in "),
        (["check", "--model", "/no/such/model"],
         "Error: model folder does not exist: /no/such/model"),
        (["check", "--model", "not a model!"],
         "Error: not a model folder or a Hugging Face model id: not a model!"),
        (["scan", "{tmp}", "--workers", "0"], "Usage: provenance scan [OPTIONS] DATASET"),
    ],
)  # fmt: skip
def test_bad_input_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], first_line: str
) -> None:
    write_jsonl(tmp_path / "d.jsonl", CLEAN)
    (tmp_path / "policy.yaml").write_text(
        "schema: provenance.policy/v1\nname: typo\ndetectors:\n  pii:\n    tpyes: {}\n"
    )
    if args[0] in ("query", "report"):
        run("scan", str(tmp_path), "--workers", "1", "-q")
    code, _, err = run_main(*[a.format(tmp=tmp_path) for a in args], capsys=capsys)
    assert code == 2
    assert err.splitlines()[0].startswith(first_line.format(tmp=tmp_path))
    assert "Traceback" not in err


POLICY_HEAD = "schema: provenance.policy/v1\nname: custom\ndetectors:\n"


@pytest.mark.parametrize(
    ("policy", "first_line"),
    [
        # fail closed: a policy that forgets a detector would flag (clear) its findings
        ("  pii: {}\n", "detectors.license: missing; the policy must say what these findings do"),
        ("  pii: {types: {US_SNN: block}}\n  license: {}\n",
         "detectors.pii.types.US_SNN: unknown finding type (known: "),
        ("  nosuch: {}\n", "detectors.nosuch: unknown detector (known: "),
        ("  pii: {}\n  license: {}\n  duplicate: {options: {threshold: 5}}\n",
         "detectors.duplicate.options: duplicate threshold must be between 0 and 1, got 5"),
    ],
)  # fmt: skip
def test_policy_that_would_clear_by_mistake_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], policy: str, first_line: str
) -> None:
    data = dataset(tmp_path, DIRTY)
    path = tmp_path / "policy.yaml"
    path.write_text(POLICY_HEAD + policy, encoding="utf-8")
    code, _, err = run_main(
        "scan",
        str(data),
        "--detectors",
        "pii,license,duplicate",
        "--policy",
        str(path),
        capsys=capsys,
    )
    assert code == 2
    assert err.splitlines()[0].startswith(f"Error: {path}: {first_line}")


@pytest.mark.parametrize(
    ("sql", "first_line"),
    [
        ("", "Error: query failed: the query is empty"),
        ("copy (select 1) to 'leak.csv'", "Error: query failed: Permission Error: "),
        ("select * from read_csv_auto('d.csv')", "Error: query failed: Permission Error: "),
        ("install httpfs", "Error: query failed: Permission Error: "),
    ],
)
def test_query_reads_the_store_and_nothing_else(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], sql: str, first_line: str
) -> None:
    run("scan", str(dataset(tmp_path, CLEAN)), "--workers", "1", "-q")
    code, _, err = run_main("query", sql, capsys=capsys)
    assert code == 2 and err.splitlines()[0].startswith(first_line)


def test_report_without_a_store_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_main("report", "--store", str(tmp_path / "none"), capsys=capsys)
    assert code == 2
    assert err.startswith("Error: no audit store at ")


def test_every_command_has_an_example() -> None:
    for name, command in cli.commands.items():
        assert "Example:" in (command.help or ""), name


def test_public_api() -> None:
    import provenance

    for name in provenance.__all__:
        assert getattr(provenance, name) is not None, name
