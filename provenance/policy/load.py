"""Loading a policy, the shipped default or a user's file, with errors naming the field."""

from __future__ import annotations

import hashlib
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from provenance.errors import ProvenanceError, RuleError
from provenance.policy.evaluate import Policy
from provenance.policy.schema import PolicyFile

DEFAULT_POLICY = "default"


def load_policy(path: str | Path | None = None) -> Policy:
    """The policy at `path`, or the shipped default policy."""
    if path is None:
        resource = resources.files("provenance.rules") / "policy" / f"{DEFAULT_POLICY}.yaml"
        return parse_policy(resource.read_bytes(), f"builtin:policy/{DEFAULT_POLICY}.yaml")
    file = Path(path)
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise RuleError(f"cannot read policy {file}: {exc.strerror}") from None
    return parse_policy(data, str(file))


def load_yaml(data: bytes | str, source: str, error: type[ProvenanceError] = RuleError) -> Any:
    """Parse a user's YAML file; any problem is one line naming the file (and the line)."""
    try:
        return yaml.safe_load(data)
    except RecursionError:
        raise error(f"{source}: invalid YAML: nested too deeply") from None
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" line {where.line + 1}:" if where else ""
        problem = str(getattr(exc, "problem", None) or exc).splitlines()[0]
        raise error(f"{source}:{line} invalid YAML: {problem}") from None


def parse_policy(data: bytes, source: str) -> Policy:
    raw = load_yaml(data, source)
    try:
        parsed = PolicyFile.model_validate(raw)
    except ValidationError as exc:
        raise RuleError(f"{source}: {describe_validation_error(exc)}") from None
    from provenance.detectors import BUILTIN

    for name in parsed.detectors:
        if name not in BUILTIN:
            known = ", ".join(sorted(BUILTIN))
            raise RuleError(f"{source}: detectors.{name}: unknown detector (known: {known})")
    return Policy(parsed, source=source, sha256=hashlib.sha256(data).hexdigest())


def describe_validation_error(exc: ValidationError) -> str:
    """The first error of a pydantic validation as `field.path: message`."""
    error = exc.errors()[0]
    field = ".".join(str(p) for p in error["loc"]) or "(top level)"
    message = error["msg"]
    if error["type"] == "extra_forbidden":
        message = "unknown field (check the spelling)"
    elif error["type"] == "missing":
        message = "required field is missing"
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{field}: {message}{more}"
