"""The exceptions that end a command with a one-line message and a documented exit code."""

from __future__ import annotations


class ProvenanceError(Exception):
    """Bad input, configuration or rules: the CLI prints `Error: <message>` and exits 2."""

    exit_code = 2


class InputError(ProvenanceError):
    """A dataset, path or argument that cannot be used."""


class RuleError(ProvenanceError):
    """A rule or policy file that does not validate; the message names the file and the field."""


class StoreError(ProvenanceError):
    """The audit store is missing something a command needs (no scan, unknown scan id, ...)."""


class GateRefused(ProvenanceError):
    """Training refused by the gate: the data or the license check is not cleared (exit 1)."""

    exit_code = 1
