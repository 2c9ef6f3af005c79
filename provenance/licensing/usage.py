"""The usage declaration in provenance.yaml: the planned use, the base model, and `sources:`.

Owns the file's `base_model`, `usage:` and `sources:` sections (other top-level sections, such as
reference sets, belong to other parts of provenance and are ignored here), loading them with
errors that name the file and the field, checking use-case tags against the vocabulary, the
commented template `provenance init` writes, and glob matching of `sources:` patterns.

Every usage fact may be left out or set to null: an undeclared fact makes the clauses that need
it `review`, never `pass`.
"""

from __future__ import annotations

import difflib
import os
import re
import tempfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, ValidationError

from provenance.errors import InputError
from provenance.policy.load import describe_validation_error, load_yaml

PROJECT_FILE = "provenance.yaml"
USAGE_FACTS = (
    "commercial",
    "monthly_active_users",
    "distributes_model",
    "hosted_service",
    "integrated_end_user_product",
    "use_cases",
    "outputs_train_other_model",
    "other_model",
    "eu_domiciled",
    "model_name",
)


class UsageFacts(BaseModel):
    """`usage:` — each fact None until declared."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    commercial: StrictBool | None = None
    monthly_active_users: StrictInt | None = Field(default=None, ge=0)
    distributes_model: StrictBool | None = None
    hosted_service: StrictBool | None = None
    integrated_end_user_product: StrictBool | None = None
    use_cases: tuple[str, ...] | None = None
    outputs_train_other_model: StrictBool | None = None
    other_model: str | None = None
    eu_domiciled: StrictBool | None = None
    model_name: str | None = None


class SourceEntry(BaseModel):
    """One `sources:` pattern: what the user knows about the files it matches."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    license: str | None = None
    origin: str | None = None
    derived_from: str | None = None
    generated_by: str | tuple[str, ...] | None = None


class UsageFile(BaseModel):
    # Other sections of provenance.yaml (references, ...) are read by other commands.
    model_config = ConfigDict(extra="ignore", frozen=True)

    base_model: str | None = None
    usage: UsageFacts = UsageFacts()
    sources: dict[str, SourceEntry] = Field(default_factory=dict)


@dataclass(frozen=True)
class Source:
    """A `sources:` entry with its glob; `generated_by` always a tuple."""

    glob: str
    license: str | None = None
    origin: str | None = None
    derived_from: str | None = None
    generated_by: tuple[str, ...] = ()

    def matches(self, path: str) -> bool:
        return glob_matches(self.glob, path)


@dataclass(frozen=True)
class Usage:
    """A loaded usage declaration; `path` is None for one built in code."""

    base_model: str | None = None
    facts: UsageFacts = field(default_factory=UsageFacts)
    sources: tuple[Source, ...] = ()
    path: Path | None = None

    @property
    def base_dir(self) -> Path:
        """Where relative paths in the declaration (local models, derived_from) start."""
        return self.path.parent if self.path else Path.cwd()

    def fact_values(self) -> dict[str, Any]:
        """The declared facts by name (None when undeclared), plus `base_model`."""
        values: dict[str, Any] = {name: getattr(self.facts, name) for name in USAGE_FACTS}
        if values["use_cases"] is not None:
            values["use_cases"] = list(values["use_cases"])
        values["base_model"] = self.base_model
        return values

    def to_dict(self) -> dict[str, Any]:
        """As stored with a scan and shown in reports (`usage{...}`)."""
        return {
            "base_model": self.base_model,
            **{k: v for k, v in self.fact_values().items() if k != "base_model"},
            "sources": {
                s.glob: {
                    "license": s.license,
                    "origin": s.origin,
                    "derived_from": s.derived_from,
                    "generated_by": list(s.generated_by),
                }
                for s in self.sources
            },
        }


def load_usage(path: str | Path) -> Usage:
    """The usage declaration in `path`, validated."""
    file = Path(path)
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read usage declaration {file}: {exc.strerror}") from None
    return parse_usage(data, str(file), path=file)


def parse_usage(data: bytes | str, source: str, *, path: Path | None = None) -> Usage:
    raw = load_yaml(data, source, InputError)
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise InputError(f"{source}: (top level): must be a mapping of sections")
    try:
        parsed = UsageFile.model_validate(raw)
    except ValidationError as exc:
        raise InputError(f"{source}: {describe_validation_error(exc)}") from None
    check_use_cases(parsed.usage.use_cases or (), source)
    sources = tuple(
        Source(
            glob=glob,
            license=entry.license,
            origin=entry.origin,
            derived_from=entry.derived_from,
            generated_by=(
                (entry.generated_by,)
                if isinstance(entry.generated_by, str)
                else tuple(entry.generated_by or ())
            ),
        )
        for glob, entry in parsed.sources.items()
    )
    return Usage(parsed.base_model, parsed.usage, sources, path)


def check_use_cases(tags: tuple[str, ...] | list[str], source: str) -> None:
    """Every tag must be in rules/licenses/use-cases.yaml: a typo must not pass a clause."""
    from provenance.licensing.schema import load_rules

    known = load_rules().vocabulary.tags
    for i, tag in enumerate(tags):
        if tag not in known:
            close = difflib.get_close_matches(tag, list(known), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise InputError(
                f"{source}: usage.use_cases.{i}: unknown use-case tag {tag!r}{hint}; "
                "the tags are listed in docs/licenses.md"
            )


def glob_matches(pattern: str, path: str) -> bool:
    """gitignore-style: `*` within a directory, `**` across them; no `/` matches any depth."""
    return _glob_regex(pattern).fullmatch(path) is not None


@lru_cache(maxsize=256)
def _glob_regex(pattern: str) -> re.Pattern[str]:
    pattern = pattern.strip().removeprefix("./")
    anchored = "/" in pattern.rstrip("/")
    parts: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            parts.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            parts.append(".*")
            i += 2
        elif pattern[i] == "*":
            parts.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            parts.append("[^/]")
            i += 1
        else:
            parts.append(re.escape(pattern[i]))
            i += 1
    body = "".join(parts)
    if pattern.endswith("/"):
        body += ".*"  # a directory: everything under it
    return re.compile(body if anchored else f"(?:.*/)?{body}")


TEMPLATE = """\
# provenance.yaml: what you plan to do with the data and the base model.
# `provenance check` compares this with the base model's license clause by clause; `provenance
# scan` uses it to judge the data's licenses. A fact left as null is not declared: every clause
# that needs it is `review` (never `pass`) until you fill it in. Facts: docs/licenses.md.

# The model you fine-tune: a Hugging Face id (meta-llama/Llama-2-7b-hf) or a local folder.
base_model: null

usage:
  # Is the model, or anything built with it, used for commercial advantage or money?
  commercial: null
  # Monthly active users of your products and services (yours plus your affiliates') in the
  # calendar month before the base model version's release date (Llama: the 700M threshold).
  monthly_active_users: null
  # Are the weights or the adapter given to anyone outside your organisation?
  distributes_model: null
  # Do third parties use the model through an API, a web app or another hosted service?
  hosted_service: null
  # Is the model shipped inside a product that end users use (an app, a device)?
  integrated_end_user_product: null
  # What the model is for: tags from docs/licenses.md, e.g. [customer_support, code_generation].
  # [] declares that no listed use applies.
  use_cases: null
  # Will this model's outputs be used to train or improve another model?
  outputs_train_other_model: null
  # That other model's name or family (e.g. mistral-7b), or null when there is none.
  other_model: null
  # Are you an individual domiciled in, or a company with its principal place of business in,
  # the European Union?
  eu_domiciled: null
  # The name the fine-tuned model will be released under (Llama 3.x require a "Llama" prefix).
  model_name: null

# Where the data came from, by glob relative to the dataset root (`*` within a folder, `**`
# across folders; a pattern without `/` matches at any depth). Each entry may give:
#   license:      an SPDX id or expression (CC-BY-4.0, "MIT AND CC-BY-SA-4.0")
#   origin:       a URL or a description of where the files came from
#   derived_from: a dataset the files were made from (a local folder or a hub id); they inherit
#                 its license
#   generated_by: the model (or models) that generated them, e.g. openai/gpt-4; they inherit
#                 its terms
sources: {}
#  "data/alpaca/*.jsonl":
#    license: CC-BY-NC-4.0
#    origin: https://github.com/tatsu-lab/stanford_alpaca
#    generated_by: openai/text-davinci-003
"""


def write_template(directory: Path, *, force: bool = False) -> Path:
    """Write the commented template to `directory`/provenance.yaml; refuse to overwrite."""
    target = directory / PROJECT_FILE
    if target.exists() and not force:
        raise InputError(f"{target} already exists (use --force to overwrite it)")
    try:
        with tempfile.NamedTemporaryFile(
            "w", encoding="utf-8", dir=directory, delete=False, suffix=".tmp"
        ) as tmp:
            tmp.write(TEMPLATE)
        os.replace(tmp.name, target)
    except OSError as exc:
        raise InputError(f"cannot write {target}: {exc.strerror}") from None
    return target
