"""The docs cover the CLI: every command and every option appears in docs/cli.md."""

from __future__ import annotations

from pathlib import Path

import click

from provenance.cli import cli

CLI_DOC = (Path(__file__).resolve().parent.parent / "docs" / "cli.md").read_text(encoding="utf-8")


def commands(group: click.Group, prefix: str = "provenance") -> list[tuple[str, click.Command]]:
    found = []
    for name, command in sorted(group.commands.items()):
        path = f"{prefix} {name}"
        found.append((path, command))
        if isinstance(command, click.Group):
            found += commands(command, path)
    return found


def test_every_command_and_option_is_documented() -> None:
    missing = []
    for path, command in commands(cli):
        if f"## {path}" not in CLI_DOC:
            missing.append(path)
        for param in command.params:
            documented = any(f"`{opt}" in CLI_DOC for opt in getattr(param, "opts", ()))
            if isinstance(param, click.Option) and not documented:
                missing.append(f"{path} {param.opts[0]}")
    assert missing == []
