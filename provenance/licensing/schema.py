"""The license rule formats, validated with pydantic at the YAML boundary, and their loading.

Owns three kinds of file under `rules/licenses/`:

- `<id>.yaml` (`provenance.license/v1`): one model license (or generated-data terms) — its
  identity, the models it covers, and its clauses. Each clause has a section, a short exact quote,
  the usage facts it needs and an ordered list of outcomes whose conditions are data
  (`all`/`any`/`not`, or `fact` + `op` + `value`); they are interpreted by `clauses.py`, never
  evaluated as code.
- `datasets.yaml` (`provenance.datasets/v1`): properties of the licenses found on fine-tuning data,
  the names and HF ids that mean them, and the terms that generated data inherits.
- `use-cases.yaml` (`provenance.use-cases/v1`): the vocabulary of `usage.use_cases` tags.

Every file is validated on load; an error names the file and the field.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from provenance.errors import RuleError
from provenance.policy.load import describe_validation_error

LICENSE_SCHEMA = "provenance.license/v1"
DATASETS_SCHEMA = "provenance.datasets/v1"
USE_CASES_SCHEMA = "provenance.use-cases/v1"

Verdict = Literal["pass", "fail", "obligation", "review", "not-applicable"]
VERDICTS: tuple[str, ...] = ("pass", "fail", "obligation", "review", "not-applicable")
Op = Literal[
    "eq", "ne", "gt", "ge", "lt", "le", "in", "not_in", "contains_any", "matches", "present"
]
Scope = Literal["model", "outputs"]

# Every fact a condition may name, with its type. The first ten (and `base_model`) are declared
# by the user in provenance.yaml; the rest are derived by the check (see docs/licenses.md).
FACT_TYPES: dict[str, type | tuple[type, ...]] = {
    "base_model": str,
    "commercial": bool,
    "monthly_active_users": int,
    "distributes_model": bool,
    "hosted_service": bool,
    "integrated_end_user_product": bool,
    "use_cases": list,
    "outputs_train_other_model": bool,
    "other_model": str,
    "eu_domiciled": bool,
    "model_name": str,
    # derived
    "model_multimodal": bool,
    "license_commercial": bool,
    "license_attribution": bool,
    "license_share_alike": bool,
    "license_derivatives": bool,
    "license_grant": bool,
}
DERIVED_FACTS = (
    "model_multimodal",
    "license_commercial",
    "license_attribution",
    "license_share_alike",
    "license_derivatives",
    "license_grant",
)
_KEBAB = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
_ID = re.compile(r"^[a-z0-9]+([.-][a-z0-9]+)*$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Condition(_Model):
    """`{all: [...]}`, `{any: [...]}`, `{not: ...}` or `{fact, op, value}`."""

    all_: tuple[Condition, ...] | None = Field(default=None, alias="all")
    any_: tuple[Condition, ...] | None = Field(default=None, alias="any")
    not_: Condition | None = Field(default=None, alias="not")
    fact: str | None = None
    op: Op | None = None
    value: Any = None

    @model_validator(mode="after")
    def _one_form(self) -> Condition:
        forms = [
            self.all_ is not None,
            self.any_ is not None,
            self.not_ is not None,
            bool(self.fact),
        ]
        if sum(forms) != 1:
            raise ValueError("a condition is exactly one of all, any, not, or fact/op/value")
        if self.fact is None:
            if self.op is not None or self.value is not None:
                raise ValueError("op and value belong with fact")
            if (self.all_ is not None and not self.all_) or (
                self.any_ is not None and not self.any_
            ):
                raise ValueError("all/any need at least one condition")
            return self
        if self.fact not in FACT_TYPES:
            raise ValueError(f"unknown fact {self.fact!r} (known: {', '.join(FACT_TYPES)})")
        if self.op is None:
            raise ValueError("a fact condition needs op")
        _check_value(self.fact, self.op, self.value)
        return self

    def facts(self) -> set[str]:
        """Every fact this condition names."""
        if self.fact:
            return {self.fact}
        children = self.all_ or self.any_ or ((self.not_,) if self.not_ else ())
        return set().union(*(c.facts() for c in children))

    def tags(self) -> set[str]:
        """Every use-case tag this condition compares `use_cases` with."""
        if self.fact == "use_cases":
            return set(self.value) if isinstance(self.value, list) else set()
        children = self.all_ or self.any_ or ((self.not_,) if self.not_ else ())
        return set().union(*(c.tags() for c in children))


def _check_value(fact: str, op: str, value: Any) -> None:
    kind = FACT_TYPES[fact]
    if op == "present":
        if value is not None:
            raise ValueError("op present takes no value")
        return
    if op in ("gt", "ge", "lt", "le"):
        if kind is not int or isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"op {op} compares an integer fact with an integer value")
    elif op in ("in", "not_in", "contains_any"):
        if not isinstance(value, list) or not value:
            raise ValueError(f"op {op} needs a non-empty list value")
        if op == "contains_any" and kind is not list:
            raise ValueError("op contains_any applies to a list fact (use_cases)")
    elif op == "matches":
        if not isinstance(value, str):
            raise ValueError("op matches needs a regular expression string")
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"invalid regular expression: {exc}") from None
    elif op in ("eq", "ne") and not isinstance(value, kind):
        raise ValueError(f"fact {fact} is {_type_name(kind)}; value {value!r} is not")


def _type_name(kind: type | tuple[type, ...]) -> str:
    return kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)


class Outcome(_Model):
    """One step of a clause: when `when` holds (always, when absent) the clause gets `verdict`."""

    when: Condition | None = None
    verdict: Verdict
    message: str = Field(min_length=1)


class ObligationFile(_Model):
    """A file the release must carry: a copy of `source` (under texts/), the literal `text` (a
    NOTICE credit line), or else the obligation's own text."""

    name: str = Field(min_length=1)
    source: str | None = None
    text: str | None = None


class ObligationSpec(_Model):
    id: str
    text: str = Field(min_length=1)
    files: tuple[ObligationFile, ...] = ()

    @field_validator("id")
    @classmethod
    def _kebab(cls, value: str) -> str:
        if not _KEBAB.match(value):
            raise ValueError(f"obligation id {value!r} must be kebab-case")
        return value


class Clause(_Model):
    id: str
    section: str = Field(min_length=1)
    quote: str = Field(min_length=1)
    facts: tuple[str, ...]
    scope: tuple[Scope, ...] = ("model",)
    outcomes: tuple[Outcome, ...] = Field(min_length=1)
    obligation: ObligationSpec | None = None
    note: str = ""

    @field_validator("id")
    @classmethod
    def _kebab(cls, value: str) -> str:
        if not _KEBAB.match(value):
            raise ValueError(f"clause id {value!r} must be kebab-case")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Clause:
        *steps, last = self.outcomes
        if last.when is not None:
            raise ValueError("the last outcome must have no `when` (it is the otherwise case)")
        if any(step.when is None for step in steps):
            raise ValueError("only the last outcome may omit `when`")
        named = set().union(*(o.when.facts() for o in self.outcomes if o.when))
        declared = set(self.facts)
        if named != declared:
            raise ValueError(
                f"facts must list exactly the facts the conditions use: {sorted(named)}"
            )
        gives_obligation = any(o.verdict == "obligation" for o in self.outcomes)
        if gives_obligation != (self.obligation is not None):
            raise ValueError("an obligation is required exactly when an outcome is `obligation`")
        return self

    def tags(self) -> set[str]:
        return set().union(*(o.when.tags() for o in self.outcomes if o.when))


class ModelPattern(_Model):
    """Hub model ids (fnmatch patterns, case-insensitive) a license covers."""

    match: str
    multimodal: bool = False


class LicenseRule(_Model):
    schema_: Literal["provenance.license/v1"] = Field(alias="schema")
    id: str
    name: str
    spdx: str
    kind: Literal["model", "generated-data", "data"] = "model"
    hub_license: tuple[str, ...] = ()  # Hugging Face `license:` / `license_name:` values
    license_links: tuple[str, ...] = ()  # `license_link:` URLs (substring match)
    identify: tuple[str, ...] = ()  # phrases that identify its text in a LICENSE file
    release_date: date | None = None
    source: str
    models: tuple[ModelPattern, ...] = ()
    clauses: tuple[Clause, ...] = Field(min_length=1)

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError(f"license id {value!r} must be lower case, digits, '.' and '-'")
        return value

    @model_validator(mode="after")
    def _unique(self) -> LicenseRule:
        seen: set[str] = set()
        for clause in self.clauses:
            if clause.id in seen:
                raise ValueError(f"duplicate clause id {clause.id!r}")
            seen.add(clause.id)
        return self


class UseCaseTag(_Model):
    kind: Literal["domain", "prohibited"]
    description: str


class UseCaseVocabulary(_Model):
    schema_: Literal["provenance.use-cases/v1"] = Field(alias="schema")
    tags: dict[str, UseCaseTag]


class LicenseProperties(_Model):
    """What a data license allows: None means the license does not say or is not known."""

    commercial: bool | None = None
    attribution: bool | None = None
    share_alike: bool | None = None
    derivatives: bool | None = None
    name: str = ""
    note: str = ""
    # A license that grants nothing without a separate agreement (all rights reserved,
    # "commercial license, contact us"): never cleared, like an unknown license.
    grant: bool = True


class Generator(_Model):
    """Models whose output carries terms: fnmatch patterns over `generated_by` values."""

    match: tuple[str, ...] = Field(min_length=1)
    license: str
    rule: str | None = None  # the license rule whose `outputs` clauses the check evaluates


class Phrase(_Model):
    """A regular expression (case-insensitive) that names a license in free text."""

    pattern: str
    license: str
    # weak: counts only when nothing else in the same text names a license ("all rights
    # reserved" next to an MIT notice is part of the notice, not a second license).
    weak: bool = False
    # anywhere: searched in the whole card, not only in license sections (lineage statements
    # such as "generated with GPT-4" sit in the description).
    anywhere: bool = False

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"invalid regular expression: {exc}") from None
        return value


class KnownDataset(_Model):
    """A hub dataset whose license `derived_from` may name without a local copy."""

    license: str
    origin: str = ""
    generated_by: tuple[str, ...] = ()


class DatasetTable(_Model):
    schema_: Literal["provenance.datasets/v1"] = Field(alias="schema")
    licenses: dict[str, LicenseProperties]
    aliases: dict[str, str] = Field(default_factory=dict)  # lower-cased name/HF id -> id
    phrases: tuple[Phrase, ...] = ()
    unresolved: tuple[str, ...] = ()  # values that say "a license, not named" (other, unknown)
    generators: tuple[Generator, ...] = ()
    known_datasets: dict[str, KnownDataset] = Field(default_factory=dict)

    @field_validator("aliases")
    @classmethod
    def _lower(cls, value: dict[str, str]) -> dict[str, str]:
        for key in value:
            if key != key.lower():
                raise ValueError(f"alias {key!r} must be lower case (matching is case-insensitive)")
        return value


@dataclass(frozen=True)
class RuleSet:
    """Everything under rules/licenses/, validated."""

    licenses: dict[str, LicenseRule]
    datasets: DatasetTable
    vocabulary: UseCaseVocabulary
    texts: Traversable

    def text_path(self, name: str) -> Traversable:
        return self.texts / name


def builtin_rules_dir() -> Traversable:
    return resources.files("provenance.rules") / "licenses"


@lru_cache(maxsize=4)
def load_rules(directory: str | None = None) -> RuleSet:
    """The license rules in `directory` (default: the shipped ones), validated, cross-checked."""
    root: Traversable = Path(directory) if directory else builtin_rules_dir()
    label = directory or "builtin:licenses"
    licenses: dict[str, LicenseRule] = {}
    datasets: DatasetTable | None = None
    vocabulary: UseCaseVocabulary | None = None
    for name, raw in _yaml_files(root, label):
        source = f"{label}/{name}"
        schema = raw.get("schema") if isinstance(raw, dict) else None
        if schema == LICENSE_SCHEMA:
            rule = _validate(LicenseRule, raw, source)
            if rule.id != name.removesuffix(".yaml"):
                raise RuleError(f"{source}: id: {rule.id!r} must match the file name")
            licenses[rule.id] = rule
        elif schema == DATASETS_SCHEMA:
            datasets = _validate(DatasetTable, raw, source)
        elif schema == USE_CASES_SCHEMA:
            vocabulary = _validate(UseCaseVocabulary, raw, source)
    if datasets is None or vocabulary is None:
        raise RuleError(f"{label}: needs datasets.yaml and use-cases.yaml")
    rules = RuleSet(licenses, datasets, vocabulary, root / "texts")
    _cross_check(rules, label)
    return rules


def _yaml_files(root: Traversable, label: str) -> Iterator[tuple[str, Any]]:
    try:
        entries = sorted(root.iterdir(), key=lambda e: e.name)
    except OSError as exc:
        raise RuleError(f"cannot read license rules {label}: {exc}") from None
    for entry in entries:
        if not entry.name.endswith(".yaml") or not entry.is_file():
            continue
        try:
            yield entry.name, yaml.load(entry.read_bytes(), Loader=_LOADER)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = f" line {mark.line + 1}:" if mark else ""
            raise RuleError(
                f"{label}/{entry.name}:{line} invalid YAML: {getattr(exc, 'problem', exc)}"
            ) from None


_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _validate(model: type[Any], raw: Any, source: str) -> Any:
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise RuleError(f"{source}: {describe_validation_error(exc)}") from None


def _cross_check(rules: RuleSet, label: str) -> None:
    """What one file cannot check alone: tags, obligation texts, ids the tables point to."""
    vocabulary = rules.vocabulary.tags
    for rule in rules.licenses.values():
        for i, clause in enumerate(rule.clauses):
            where = f"{label}/{rule.id}.yaml: clauses.{i}"
            unknown = sorted(clause.tags() - set(vocabulary))
            if unknown:
                raise RuleError(f"{where}: use-case tag(s) not in use-cases.yaml: {unknown}")
            for file in clause.obligation.files if clause.obligation else ():
                if file.source and not rules.text_path(file.source).is_file():
                    raise RuleError(f"{where}.obligation.files: no text {file.source} in texts/")
    table = rules.datasets
    for alias, target in table.aliases.items():
        if target not in table.licenses:
            raise RuleError(f"{label}/datasets.yaml: aliases.{alias}: {target} is not in licenses")
    for i, phrase in enumerate(table.phrases):
        if phrase.license not in table.licenses:
            raise RuleError(
                f"{label}/datasets.yaml: phrases.{i}.license: {phrase.license} is not in licenses"
            )
    for i, generator in enumerate(table.generators):
        where = f"{label}/datasets.yaml: generators.{i}"
        if generator.license not in table.licenses:
            raise RuleError(f"{where}.license: {generator.license} is not in licenses")
        if generator.rule and generator.rule not in rules.licenses:
            raise RuleError(f"{where}.rule: no license rule {generator.rule}")
