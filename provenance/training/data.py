"""Training data: re-read, redact, format and tokenise the records the gate let through.

Records are re-read from the files the gate has just hashed, matched to the scan by (file, row),
and each one's content id is checked against the scan's, so a record edited after the hash check
is refused rather than trained on. Nothing outside the clearance is ever formatted or tokenised.

Formats, by record shape:
- alpaca and prompt/completion: the Stanford Alpaca prompt (or the prompt as is) is masked out of
  the labels; only the response and the end-of-sequence token are learned;
- messages and sharegpt: the tokenizer's chat template (a plain `### Role:` template when it has
  none, or when its template rejects the conversation); only assistant turns are learned;
- text and custom fields: the whole text is learned.

Every example is kept, even one whose labels are all masked after truncation to `max_length`, so
the examples are exactly the records of the clearance (the bundle's record digest covers them).
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from provenance.errors import GateRefused, InputError
from provenance.model import Finding, Record, TextField
from provenance.training.gate import Clearance, SelectedRecord

IGNORE_INDEX = -100  # the label torch's cross-entropy skips

ALPACA_PROMPT = (
    "Below is an instruction that describes a task, paired with an input that provides further "
    "context. Write a response that appropriately completes the request.\n\n"
    "### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:\n"
)
ALPACA_PROMPT_NO_INPUT = (
    "Below is an instruction that describes a task. Write a response that appropriately "
    "completes the request.\n\n### Instruction:\n{instruction}\n\n### Response:\n"
)
# For tokenizers without a chat template (base models such as Llama-2-7b-hf have none).
# Separators are expressions: transformers renders templates with trim_blocks, which would eat a
# newline written right after a block tag.
PLAIN_CHAT_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}"
    "{{ '### ' + message['role'] | capitalize + ':\\n' + message['content'] }}"
    "{% if message['role'] == 'assistant' %}{{ eos_token }}{% endif %}{{ '\\n\\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '### Assistant:\\n' }}{% endif %}"
)
ROLES = {
    "human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant",
    "model": "assistant", "chatgpt": "assistant", "bing": "assistant", "bard": "assistant",
    "system": "system",
}  # fmt: skip


@dataclass(frozen=True)
class Formatted:
    """An example as one string, with the character spans the model learns to produce."""

    text: str
    targets: tuple[tuple[int, int], ...]
    template: str  # alpaca | prompt_completion | chat_template | plain_chat | text


@dataclass(frozen=True)
class Example:
    """One tokenised training example and the record it came from."""

    record_id: str
    file: str
    row: int
    input_ids: list[int]
    labels: list[int]


@dataclass
class DataStats:
    """What preparation did, for the datasheet and the manifest."""

    examples: int = 0
    tokens: int = 0
    label_tokens: int = 0
    truncated: int = 0  # longer than max_length; cut at the end
    without_labels: int = 0  # nothing left to learn after truncation (or no assistant turn)
    templates: Counter[str] = field(default_factory=Counter)
    shapes: Counter[str] = field(default_factory=Counter)
    redacted_spans: Counter[str] = field(default_factory=Counter)  # finding type -> spans
    redacted_records: int = 0

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        for key in ("templates", "shapes", "redacted_spans"):
            data[key] = dict(sorted(getattr(self, key).items()))
        return data


@dataclass(frozen=True)
class TrainingData:
    examples: list[Example]
    stats: DataStats


def cleared_records(clearance: Clearance) -> Iterator[tuple[SelectedRecord, Record]]:
    """The records of the clearance, re-read from the verified files, redactions applied.

    Refuses when a record's content no longer has the id the scan gave it, or when a selected
    record is not found where the scan saw it.
    """
    wanted = {(r.file, r.row): r for r in clearance.records}
    files = {r.file for r in clearance.records}
    skip = {f.path for f in clearance.files if f.path not in files}
    seen = 0
    for record in clearance.dataset.records(skip=skip):
        selected = wanted.get((record.file, record.row))
        if selected is None:
            continue
        if record.id != selected.id:
            raise GateRefused(
                f"record {record.file}:{record.row} changed since scan "
                f"{clearance.scan.scan_id} (content id differs); rescan the dataset"
            )
        seen += 1
        findings = clearance.redactions.get((record.file, record.row), [])
        yield selected, redact(record, findings) if findings else record
    if seen != len(wanted):
        raise GateRefused(
            f"{len(wanted) - seen} cleared records of scan {clearance.scan.scan_id} were not "
            "found in the dataset files; rescan the dataset"
        )


def redact(record: Record, findings: Sequence[Finding]) -> Record:
    """The record with each finding's span replaced by `<TYPE>` (overlapping spans merged)."""
    by_field: dict[str, list[Finding]] = {}
    for finding in findings:
        if finding.field is None or finding.start is None or finding.end is None:
            raise GateRefused(
                f"record {record.file}:{record.row}: a {finding.type} finding to redact has no "
                "span; it cannot be redacted, so the record cannot be trained on"
            )
        by_field.setdefault(finding.field, []).append(finding)
    fields = []
    for text_field in record.fields:
        spans = by_field.pop(text_field.name, [])
        text = _replace_spans(record, text_field, spans) if spans else text_field.text
        fields.append(dataclasses.replace(text_field, text=text))
    if by_field:
        missing = ", ".join(sorted(by_field))
        raise GateRefused(f"record {record.file}:{record.row}: no field {missing} to redact")
    return dataclasses.replace(record, fields=tuple(fields))


def _replace_spans(record: Record, text_field: TextField, spans: list[Finding]) -> str:
    text = text_field.text
    merged: list[list[Any]] = []  # [start, end, type]
    for f in sorted(spans, key=lambda f: (f.start or 0, -(f.end or 0))):
        assert f.start is not None and f.end is not None
        if not 0 <= f.start < f.end <= len(text):
            raise GateRefused(
                f"record {record.file}:{record.row}: {f.type} span {f.start}-{f.end} lies outside "
                f"field {text_field.name}"
            )
        if merged and f.start < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], f.end)
        else:
            merged.append([f.start, f.end, f.type])
    pieces, last = [], 0
    for start, end, kind in merged:
        pieces += [text[last:start], f"<{kind}>"]
        last = end
    pieces.append(text[last:])
    return "".join(pieces)


def format_record(record: Record, tokenizer: Any) -> Formatted:
    """The record as one string for its shape, with the spans to learn."""
    fields = {f.name: f.text for f in record.fields}
    eos = tokenizer.eos_token or ""
    bos = tokenizer.bos_token or ""
    if record.shape == "alpaca":
        template = ALPACA_PROMPT if fields.get("input") else ALPACA_PROMPT_NO_INPUT
        prompt = template.format(
            instruction=fields.get("instruction", ""), input=fields.get("input")
        )
        return _completion(bos + prompt, fields.get("output", "") + eos, "alpaca")
    if record.shape == "prompt_completion":
        return _completion(bos + fields.get("prompt", ""), fields.get("completion", "") + eos,
                           "prompt_completion")  # fmt: skip
    if record.shape in ("messages", "sharegpt"):
        return format_chat(record.fields, tokenizer)
    text = bos + "\n\n".join(f.text for f in record.fields) + eos
    return Formatted(text, ((len(bos), len(text)),), "text")


def _completion(prompt: str, completion: str, template: str) -> Formatted:
    return Formatted(prompt + completion, ((len(prompt), len(prompt) + len(completion)),), template)


def format_chat(fields: Sequence[TextField], tokenizer: Any) -> Formatted:
    """A conversation through the chat template; the assistant turns are the targets.

    Each assistant turn's span is where the rendering of the conversation up to it ends and the
    rendering with the generation prompt for it ends: that needs a template whose renderings of
    a conversation's beginnings are prefixes of the whole, which Llama's and most others are.
    When the tokenizer's template is missing, rejects the conversation or is not prefix-stable,
    the plain template is used instead (counted in the stats).
    """
    messages = [{"role": ROLES.get((f.role or "user").lower(), f.role or "user"),
                 "content": f.text} for f in fields]  # fmt: skip
    if getattr(tokenizer, "chat_template", None):
        formatted = _render_chat(messages, tokenizer, None)
        if formatted is not None:
            return formatted
    formatted = _render_chat(messages, tokenizer, PLAIN_CHAT_TEMPLATE)
    if formatted is None:
        raise InputError("the plain chat template failed to render a conversation")
    return formatted


def _render_chat(
    messages: list[dict[str, str]], tokenizer: Any, template: str | None
) -> Formatted | None:
    def render(upto: int, generation_prompt: bool) -> str:
        text = tokenizer.apply_chat_template(
            messages[:upto], tokenize=False, add_generation_prompt=generation_prompt,
            chat_template=template,
        )  # fmt: skip
        return str(text)

    try:
        full = render(len(messages), False)
        targets = []
        for i, message in enumerate(messages):
            if message["role"] != "assistant":
                continue
            prefix = render(i, True) if i else ""
            turn = render(i + 1, False)
            if not (turn.startswith(prefix) and full.startswith(turn)):
                return None
            targets.append((len(prefix), len(turn)))
    except Exception:  # jinja2 TemplateError, raise_exception() in the template, ...
        return None
    return Formatted(full, tuple(targets), "plain_chat" if template else "chat_template")


def tokenise(
    formatted: Formatted, tokenizer: Any, max_length: int
) -> tuple[list[int], list[int], bool]:
    """Token ids and labels (-100 outside the targets), and whether the text was truncated.

    A token is learned when it starts inside a target span: with byte-level and SentencePiece
    tokenizers alike, the token that carries a turn's leading space belongs to that turn.
    """
    encoded = tokenizer(
        formatted.text, add_special_tokens=False, return_offsets_mapping=True,
        truncation=False,
    )  # fmt: skip
    ids: list[int] = list(encoded["input_ids"])
    offsets = encoded["offset_mapping"]
    labels = []
    for token, (start, end) in zip(ids, offsets, strict=True):
        inside = any(lo <= start < hi for lo, hi in formatted.targets) and end > start
        labels.append(token if inside else IGNORE_INDEX)
    truncated = len(ids) > max_length
    return ids[:max_length], labels[:max_length], truncated


def prepare(clearance: Clearance, tokenizer: Any, max_length: int) -> TrainingData:
    """Every record of the clearance as a tokenised example, in file and row order."""
    if not getattr(tokenizer, "is_fast", False):
        raise InputError("the base model's tokenizer must be a fast (tokenizers) tokenizer")
    stats = DataStats()
    examples = []
    for selected, record in cleared_records(clearance):
        findings = clearance.redactions.get((record.file, record.row), [])
        if findings:
            stats.redacted_records += 1
            stats.redacted_spans.update(f.type for f in findings)
        formatted = format_record(record, tokenizer)
        ids, labels, truncated = tokenise(formatted, tokenizer, max_length)
        stats.examples += 1
        stats.tokens += len(ids)
        learned = sum(1 for label in labels if label != IGNORE_INDEX)
        stats.label_tokens += learned
        stats.truncated += truncated
        stats.without_labels += learned == 0
        stats.templates[formatted.template] += 1
        stats.shapes[record.shape] += 1
        examples.append(Example(selected.id, selected.file, selected.row, ids, labels))
    return TrainingData(examples, stats)
