"""Record shapes: how a row's data becomes named text fields.

Detected once per file from its first readable row, so a whole file is read one way; a row that
does not fit its file's shape has no text fields and becomes an error record.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from provenance.model import TextField

# Checked in order; the first shape whose keys a row has wins.
SHAPES: dict[str, tuple[str, ...]] = {
    "messages": ("messages",),
    "sharegpt": ("conversations",),
    "alpaca": ("instruction", "output"),
    "prompt_completion": ("prompt", "completion"),
    "text": ("text",),
}
ALPACA_FIELDS = ("instruction", "input", "output")
LICENSE_KEYS = ("license", "licence", "license_spdx", "spdx_license")


def detect_shape(row: Any, text_fields: Sequence[str] | None = None) -> str:
    """The shape of one row: a key of SHAPES, `custom` when `text_fields` is given, or `unknown`."""
    if text_fields:
        return "custom"
    if isinstance(row, str):
        return "text"
    if not isinstance(row, Mapping):
        return "unknown"
    for shape, keys in SHAPES.items():
        if all(key in row for key in keys):
            return shape
    return "unknown"


def text_fields(row: Any, shape: str, custom: Sequence[str] | None = None) -> tuple[TextField, ...]:
    """The named text fields of a row read as `shape`; empty when the row does not fit."""
    if isinstance(row, str):
        return (TextField("text", row),) if shape == "text" else ()
    if not isinstance(row, Mapping):
        return ()
    if shape == "custom":
        return tuple(f for name in custom or () for f in _named(row, name))
    if shape == "messages":
        return _turns(row.get("messages"), "messages", "role", "content")
    if shape == "sharegpt":
        return _turns(row.get("conversations"), "conversations", "from", "value")
    if shape == "alpaca":
        return _strings(row, ALPACA_FIELDS)
    if shape == "prompt_completion":
        return _strings(row, ("prompt", "completion"))
    if shape == "text":
        return _strings(row, ("text",))
    return ()


def record_license(row: Any) -> str | None:
    """A per-record license field (code datasets carry one), if the row has it."""
    if isinstance(row, Mapping):
        for key in LICENSE_KEYS:
            value = row.get(key)
            if isinstance(value, str) and value.strip():
                return value.strip()
    return None


def _strings(row: Mapping[str, Any], names: Sequence[str]) -> tuple[TextField, ...]:
    return tuple(
        TextField(name, row[name]) for name in names if isinstance(row.get(name), str) and row[name]
    )


def _turns(turns: Any, key: str, role_key: str, text_key: str) -> tuple[TextField, ...]:
    if not isinstance(turns, list):
        return ()
    fields = []
    for i, turn in enumerate(turns):
        if isinstance(turn, Mapping) and isinstance(turn.get(text_key), str) and turn[text_key]:
            role = turn.get(role_key)
            fields.append(
                TextField(f"{key}[{i}].{text_key}", turn[text_key], str(role) if role else None)
            )
    return tuple(fields)


def _named(row: Mapping[str, Any], name: str) -> tuple[TextField, ...]:
    """A `--text-field` value: a top-level key, or `key[].sub` for a list of objects."""
    if "[]." in name:
        key, sub = name.split("[].", 1)
        return _turns(row.get(key), key, "role", sub)
    value = row.get(name)
    return (TextField(name, value),) if isinstance(value, str) and value else ()
