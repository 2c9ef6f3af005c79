"""Training data: redaction, the templates of each shape, label masking, and what never gets in."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from provenance.errors import GateRefused
from provenance.model import Action, Finding, Record, TextField
from provenance.policy import load_policy
from provenance.store import Store
from provenance.training.data import (
    IGNORE_INDEX,
    PLAIN_CHAT_TEMPLATE,
    format_record,
    prepare,
    redact,
    tokenise,
)
from provenance.training.gate import GateOptions, open_gate
from tests.training.conftest import BLOCKED_SSN, EMAIL, MARKER, fake_check, make_dataset, scan


def finding(field: str, start: int, end: int, kind: str = "EMAIL_ADDRESS") -> Finding:
    return Finding("id", "f.jsonl", 0, "pii", kind, field, start, end, action=Action.REDACT)


def record(shape: str, *fields: TextField) -> Record:
    return Record(id="id", file="f.jsonl", row=0, shape=shape, fields=fields)


def learned(ids: list[int], labels: list[int], tokenizer: Any) -> str:
    return str(
        tokenizer.decode([t for t, lab in zip(ids, labels, strict=True) if lab != IGNORE_INDEX])
    )


def test_redact_replaces_each_span_with_its_type() -> None:
    text = "Mail a@b.io or call 555-0100."
    redacted = redact(
        record("text", TextField("text", text)),
        [finding("text", 5, 11), finding("text", 20, 28, "PHONE_NUMBER")],
    )
    assert redacted.fields[0].text == "Mail <EMAIL_ADDRESS> or call <PHONE_NUMBER>."


def test_redact_merges_overlapping_spans_and_keeps_other_fields() -> None:
    rec = record(
        "alpaca", TextField("instruction", "keep me"), TextField("output", "x jane@ex.com y")
    )
    redacted = redact(rec, [finding("output", 2, 13), finding("output", 7, 13, "URL")])
    assert [f.text for f in redacted.fields] == ["keep me", "x <EMAIL_ADDRESS> y"]


def test_redact_refuses_a_span_outside_the_field() -> None:
    with pytest.raises(GateRefused, match="lies outside field text"):
        redact(record("text", TextField("text", "short")), [finding("text", 2, 40)])


def test_alpaca_learns_only_the_response(tokenizer: Any) -> None:
    rec = record("alpaca", TextField("instruction", "Add two numbers."),
                 TextField("input", "2 and 3"), TextField("output", "2 plus 3 is 5."))  # fmt: skip
    formatted = format_record(rec, tokenizer)
    assert (
        "### Instruction:\nAdd two numbers.\n\n### Input:\n2 and 3\n\n### Response:\n"
        in formatted.text
    )
    ids, labels, truncated = tokenise(formatted, tokenizer, 512)
    assert not truncated and ids[0] == tokenizer.bos_token_id
    assert learned(ids, labels, tokenizer) == "2 plus 3 is 5.</s>"


def test_chat_learns_only_assistant_turns_through_the_chat_template(tokenizer: Any) -> None:
    rec = record(
        "messages",
        TextField("messages[0].content", "Be brief.", "system"),
        TextField("messages[1].content", "Say hello.", "user"),
        TextField("messages[2].content", "Hello there.", "assistant"),
        TextField("messages[3].content", "Say goodbye.", "user"),
        TextField("messages[4].content", "Goodbye now.", "assistant"),
    )
    formatted = format_record(rec, tokenizer)
    assert formatted.template == "chat_template"
    assert formatted.text.startswith("<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nSay hello. [/INST]")
    ids, labels, _ = tokenise(formatted, tokenizer, 512)
    assert learned(ids, labels, tokenizer) == " Hello there. </s> Goodbye now. </s>"


def test_sharegpt_roles_are_mapped_and_a_rejected_conversation_uses_the_plain_template(
    tokenizer: Any,
) -> None:
    # two user turns in a row: the Llama 2 template raises, the plain template does not
    rec = record(
        "sharegpt",
        TextField("conversations[0].value", "Hi.", "human"),
        TextField("conversations[1].value", "Still there?", "human"),
        TextField("conversations[2].value", "Yes.", "gpt"),
    )
    formatted = format_record(rec, tokenizer)
    assert formatted.template == "plain_chat"
    assert (
        formatted.text
        == "<s>### User:\nHi.\n\n### User:\nStill there?\n\n### Assistant:\nYes.</s>\n\n"
    )
    ids, labels, _ = tokenise(formatted, tokenizer, 512)
    assert learned(ids, labels, tokenizer).strip() == "Yes.</s>"


def test_tokenizer_without_a_chat_template_uses_the_plain_one(tokenizer: Any) -> None:
    rec = record("messages", TextField("messages[0].content", "Q?", "user"),
                 TextField("messages[1].content", "A.", "assistant"))  # fmt: skip
    saved = tokenizer.chat_template
    tokenizer.chat_template = None
    try:
        formatted = format_record(rec, tokenizer)
    finally:
        tokenizer.chat_template = saved
    assert formatted.template == "plain_chat"
    assert PLAIN_CHAT_TEMPLATE.startswith("{{ bos_token }}")


def test_text_learns_everything_and_truncation_is_counted(tokenizer: Any) -> None:
    formatted = format_record(record("text", TextField("text", "tea " * 50)), tokenizer)
    ids, labels, truncated = tokenise(formatted, tokenizer, 16)
    assert truncated and len(ids) == 16
    assert labels[0] == IGNORE_INDEX  # <s> is given, not learned
    assert all(label != IGNORE_INDEX for label in labels[1:])


@pytest.mark.usefixtures("fake_pii")
def test_blocked_record_never_reaches_the_tokenised_data(
    tmp_path: Path, store_dir: Path, tokenizer: Any
) -> None:
    dataset = make_dataset(tmp_path / "ds")
    scan(dataset, store_dir)
    with Store(store_dir, create=False) as store:
        clearance = open_gate(store, str(dataset), load_policy(), fake_check(),
                              GateOptions(cleared_only=True))  # fmt: skip
    data = prepare(clearance, tokenizer, 512)
    assert data.stats.examples == 8
    texts = [tokenizer.decode(ex.input_ids) for ex in data.examples]
    joined = "\n".join(texts)
    assert MARKER not in joined and BLOCKED_SSN not in joined
    assert EMAIL not in joined and joined.count("<EMAIL_ADDRESS>") == 2
    for variant in (MARKER, " " + MARKER):
        marker_ids = tokenizer(variant, add_special_tokens=False)["input_ids"]
        for ex in data.examples:
            windows = {
                tuple(ex.input_ids[i : i + len(marker_ids)]) for i in range(len(ex.input_ids))
            }
            assert tuple(marker_ids) not in windows
    assert data.stats.redacted_spans == {"EMAIL_ADDRESS": 2}
    assert data.stats.shapes == {"alpaca": 5, "messages": 2, "text": 1}
