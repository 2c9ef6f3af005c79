"""Record shapes: which fields of a row are scanned, under which names and roles."""

from __future__ import annotations

from typing import Any

import pytest

from provenance.sources.shapes import detect_shape, text_fields

CASES: list[tuple[Any, str, list[tuple[str, str | None]]]] = [
    ({"text": "hello"}, "text", [("text", None)]),
    ("a bare string", "text", [("text", None)]),
    (
        {"instruction": "Add.", "input": "1 2", "output": "3"},
        "alpaca",
        [("instruction", None), ("input", None), ("output", None)],
    ),
    ({"instruction": "Say hi.", "input": "", "output": "hi"}, "alpaca",
     [("instruction", None), ("output", None)]),  # empty input is not a field
    (
        {"messages": [{"role": "system", "content": "Be brief."},
                      {"role": "user", "content": "Hi"},
                      {"role": "assistant", "content": "Hello"}]},
        "messages",
        [("messages[0].content", "system"), ("messages[1].content", "user"),
         ("messages[2].content", "assistant")],
    ),
    (
        {"conversations": [{"from": "human", "value": "Hi"}, {"from": "gpt", "value": "Yo"}]},
        "sharegpt",
        [("conversations[0].value", "human"), ("conversations[1].value", "gpt")],
    ),
    ({"prompt": "2+2=", "completion": "4"}, "prompt_completion",
     [("prompt", None), ("completion", None)]),
    ({"question": "why?"}, "unknown", []),
    ([1, 2, 3], "unknown", []),
]  # fmt: skip


@pytest.mark.parametrize(("row", "shape", "fields"), CASES)
def test_shape_and_fields(row: Any, shape: str, fields: list[tuple[str, str | None]]) -> None:
    assert detect_shape(row) == shape
    assert [(f.name, f.role) for f in text_fields(row, shape)] == fields


def test_text_field_override_names_fields() -> None:
    row = {"question": "Why?", "answer": "Because.", "meta": 3}
    shape = detect_shape(row, ["question", "answer"])
    assert [f.name for f in text_fields(row, shape, ["question", "answer"])] == [
        "question",
        "answer",
    ]


def test_text_field_override_reaches_into_lists() -> None:
    row = {"turns": [{"role": "user", "body": "Hi"}, {"role": "bot", "body": "Hey"}]}
    fields = text_fields(row, "custom", ["turns[].body"])
    assert [(f.name, f.role, f.text) for f in fields] == [
        ("turns[0].body", "user", "Hi"),
        ("turns[1].body", "bot", "Hey"),
    ]
