"""The GitHub workflow example and the pre-commit hook only use commands and options that exist."""

from __future__ import annotations

import re
import shlex

import click
import yaml

from provenance.cli import cli
from tests.formats.sample import REPO

WORKFLOW = REPO / "examples" / "github-action" / "provenance.yml"
HOOKS = REPO / ".pre-commit-hooks.yaml"


def provenance_commands(text: str) -> list[list[str]]:
    """Every `provenance ...` invocation in shell text, as argument lists."""
    found = []
    for line in text.replace("\\\n", " ").splitlines():
        for part in re.split(r"\|\||&&|;|\|", line):
            words = shlex.split(part.strip(), comments=True) if "provenance " in part else []
            if words and words[0] == "provenance":
                found.append(words[1:])
    return found


def check(args: list[str]) -> None:
    command = cli.commands[args[0]]
    assert isinstance(command, click.Command), args
    known = {opt for p in command.params if isinstance(p, click.Option) for opt in p.opts}
    known |= {"-h", "--help"}
    for word in args[1:]:
        if word.startswith("-"):
            assert word in known, f"provenance {args[0]}: no option {word}"


def test_workflow_uses_real_commands_and_options() -> None:
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    runs = [
        step["run"] for job in workflow["jobs"].values() for step in job["steps"] if "run" in step
    ]
    commands = [c for run in runs for c in provenance_commands(run)]
    assert {c[0] for c in commands} >= {"scan", "report", "train", "attest", "verify", "check"}
    for args in commands:
        check(args)
    uses = [s.get("uses", "") for job in workflow["jobs"].values() for s in job["steps"]]
    assert any(u.startswith("github/codeql-action/upload-sarif@") for u in uses)
    assert "gh release upload" in "\n".join(runs)
    assert workflow["jobs"]["scan"]["permissions"]["security-events"] == "write"


def test_pre_commit_hook_runs_a_scan() -> None:
    hooks = yaml.safe_load(HOOKS.read_text(encoding="utf-8"))
    (hook,) = hooks
    assert hook["id"] == "provenance-scan"
    assert hook["language"] == "python"
    args = [*hook["entry"].split()[1:], *hook["args"]]
    check(args)
    assert re.search(hook["files"], "data/train.jsonl")
    assert re.search(hook["files"], "data/train.jsonl.gz")
    assert not re.search(hook["files"], "src/app.py")
