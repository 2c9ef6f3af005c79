"""Dataset license resolution: evidence from cards, license files, records and the manifest.

Owns turning what a dataset says about its license into SPDX ids with the evidence for each
(file, line, matched text), combining the evidence, and judging the result against the declared
use. Sources of evidence, by `origin`:

- `card`: Hugging Face card YAML — `license` as a string or list, the misspelt `licence`, keys
  that merely contain the word (`licenses`, `license_details`, `bigbio_license_shortname`),
  `other` with `license_name`/`license_link`; front matter with or without `---`.
- `card-text`: the card's license sections ("Licensing Information", "License", ...) and
  sentences elsewhere that say "licensed/released/available under"; lineage statements such as
  "generated with GPT-4" anywhere.
- `license-file`: LICENSE/COPYING files, identified by their text against SPDX texts
  (`spdx.py`), else by the names they mention.
- `record`: a per-record license field (code datasets).
- `manifest`, `derived`, `generated`: `sources:` in provenance.yaml, a parent dataset's license
  (`derived_from`) and the terms of the model that generated the data (`generated_by`).

Combining follows the Data Provenance Initiative and SPDX `AND`: every license found applies, the
most restrictive property wins, and evidence from different origins that disagrees is a conflict.
A value that says "some license" without naming it (`other`, `unknown`, `cc`) leaves the data
unknown unless other evidence names a license that list did not already have.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from license_expression import ExpressionError, get_spdx_licensing

from provenance.errors import InputError
from provenance.licensing.schema import LicenseProperties, RuleSet, load_rules
from provenance.licensing.spdx import identify_text
from provenance.licensing.usage import Source, Usage

CARD_NAMES = ("README.md", "readme.md", "dataset_card.md")
LICENSE_STEMS = ("license", "licence", "copying")
MAX_TEXT = 200  # characters of matched text kept in evidence
MAX_READ = 2_000_000  # bytes read from a card or license file


@dataclass(frozen=True)
class Evidence:
    """One thing that says something about a license.

    `license` is an SPDX id or expression, or None for a value that says "a license" without
    naming one. Items from one list (one YAML key, one LICENSE file) share a `group`.
    """

    origin: str
    file: str
    line: int | None
    text: str
    license: str | None
    group: str = ""
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        del data["group"]
        if not data["note"]:
            del data["note"]
        return data


@dataclass(frozen=True)
class Properties:
    """What the combined licenses allow; None where it is not known."""

    commercial: bool | None = None
    attribution: bool | None = None
    share_alike: bool | None = None
    derivatives: bool | None = None
    grant: bool = True

    def to_dict(self) -> dict[str, bool | None]:
        return {
            "commercial": self.commercial,
            "attribution": self.attribution,
            "share_alike": self.share_alike,
            "derivatives": self.derivatives,
        }


UNKNOWN_PROPERTIES = Properties()


@dataclass(frozen=True)
class Resolution:
    """The license of a set of files, with every piece of evidence behind it."""

    spdx: str | None  # SPDX expression; None when any part is unknown
    licenses: tuple[str, ...]  # the known expressions that apply
    unknown: bool
    properties: Properties
    evidence: tuple[Evidence, ...]
    conflict: str | None = None
    lineage: tuple[Evidence, ...] = ()
    notes: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {
            "spdx": self.spdx,
            "licenses": list(self.licenses),
            "unknown": self.unknown,
            "properties": self.properties.to_dict(),
            "grant": self.properties.grant,
            "evidence": [e.to_dict() for e in self.evidence],
            "conflict": self.conflict,
            "lineage": [e.to_dict() for e in self.lineage],
            "notes": list(self.notes),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Resolution:
        def evidence(items: list[dict[str, Any]]) -> tuple[Evidence, ...]:
            return tuple(Evidence(**{"note": "", **item}) for item in items)

        return cls(
            spdx=data["spdx"],
            licenses=tuple(data["licenses"]),
            unknown=data["unknown"],
            properties=Properties(**data["properties"], grant=data["grant"]),
            evidence=evidence(data["evidence"]),
            conflict=data["conflict"],
            lineage=evidence(data["lineage"]),
            notes=tuple(data["notes"]),
        )


# -- naming licenses -------------------------------------------------------------------------

_CC_URL = re.compile(
    r"creativecommons\.org/licen[cs]es/(by(?:-nc)?(?:-nd|-sa)?)/(\d\.\d)", re.IGNORECASE
)
_CC_PD_URL = re.compile(r"creativecommons\.org/publicdomain/(zero|mark)/1\.0", re.IGNORECASE)
_CC_ZERO = re.compile(r"\bcc[\s-]?0\b|\bcc[\s-]zero\b|\bcreative commons zero\b", re.IGNORECASE)
_CC_ELEMENT = r"(?:non[\s-]?commercial|nc|share[\s-]?alike|sa|no[\s-]?deriv(?:ative)?s?|nd)"
_CC_NAME = re.compile(
    r"\b(?:creative[\s-]+commons|cc)[\s-]*(?:public[\s-]+licen[cs]e[\s-]+)?"
    r"(attribution|by)\b((?:[\s-]+" + _CC_ELEMENT + r"\b)*)"
    r"(?:[\s-]*(?:licen[cs]e|international|unported|generic|public))*"
    r"(?:[\s-]*\(?[\s-]*(?:v(?:ersion)?[\s.]*)?(\d(?:\.\d)?)(?!\d))?",
    re.IGNORECASE,
)
_TRIGGER = re.compile(
    r"(?:licen[cs]ed|released|available|distributed|published|provided|shared|made available)"
    r"\s+under\b|^[ \t]*(?:[*_#>]+[ \t]*)?licen[cs]e[ \t]*(?:[*_]+[ \t]*)?:",
    re.IGNORECASE | re.MULTILINE,
)
_SECTION_TITLE = re.compile(r"licen[cs]|copyright|terms of (?:use|service)|legal", re.IGNORECASE)
_HEADING = re.compile(r"^(#{1,6})[ \t]*(.+?)[ \t#]*$", re.MULTILINE)
_PLACEHOLDER = re.compile(
    r"^\W*(?:\[?(?:more information needed|needs more information|n/?a|tbd|todo|none|"
    r"not specified|unknown)\]?\W*)?$",
    re.IGNORECASE,
)
_SPDX_TAG = re.compile(r"spdx-license-identifier:\s*([^\n]+)", re.IGNORECASE)
_BIGBIO = re.compile(r"^[A-Z][A-Z0-9_]*(?:\dp\d[A-Z0-9_]*)?$")


def cc_id(elements: str, version: str | None) -> tuple[str, str]:
    """The SPDX id of a Creative Commons license named by its elements; a note when assumed."""
    lower = elements.lower()
    nc = bool(re.search(r"non[\s-]?commercial|\bnc\b", lower))
    sa = bool(re.search(r"share[\s-]?alike|\bsa\b", lower))
    nd = bool(re.search(r"no[\s-]?deriv|\bnd\b", lower))
    parts = ["CC-BY"] + (["NC"] if nc else []) + (["ND"] if nd else ["SA"] if sa else [])
    note = ""
    if version and version.isdigit():
        version = f"{version}.0"
    if version not in ("1.0", "2.0", "2.5", "3.0", "4.0"):
        version, note = "4.0", "version not stated; 4.0 assumed (same terms in every version)"
    return "-".join(parts) + f"-{version}", note


@dataclass(frozen=True)
class Mention:
    start: int
    end: int
    license: str
    note: str = ""
    weak: bool = False


class LicenseNames:
    """Maps license values and free text to ids, using datasets.yaml and license-expression."""

    def __init__(self, rules: RuleSet) -> None:
        self.rules = rules
        self.table = rules.datasets
        self._licensing = spdx_licensing()
        self._phrases = [
            (re.compile(p.pattern, re.IGNORECASE | re.MULTILINE), p) for p in self.table.phrases
        ]
        self._unresolved = {v.lower() for v in self.table.unresolved}
        self._hub = {
            value.lower(): rule.spdx
            for rule in rules.licenses.values()
            for value in rule.hub_license
        }

    @lru_cache(maxsize=4096)  # noqa: B019 - one instance per rule set, kept for the process
    def value(self, raw: str) -> tuple[str | None, str]:
        """A license value (HF id, SPDX id or expression, a name): (expression or None, note).

        None means the value says "a license" without naming one.
        """
        text = raw.strip().strip("\"'`").strip()
        lower = text.lower()
        if not lower or lower in self._unresolved or lower.startswith("other-"):
            return None, ""
        if lower in self.table.aliases:
            return self.table.aliases[lower], ""
        if lower in self._hub:
            return self._hub[lower], ""
        if "_" in text and _BIGBIO.match(text):  # bigbio shortnames: CC_BY_4p0, GPL_3p0
            return self.value(re.sub(r"(?<=\d)p(?=\d)", ".", text).replace("_", "-"))
        expression = self._expression(text)
        if expression:
            return expression, ""
        mentions = self.mentions(text)
        if mentions:
            ids = sorted({m.license for m in mentions})
            return " AND ".join(ids), next((m.note for m in mentions if m.note), "")
        return None, ""

    def _expression(self, text: str) -> str | None:
        if not re.fullmatch(r"[\w.+\- ()]+", text):
            return None
        try:
            parsed = self._licensing.parse(text, validate=False)
        except ExpressionError:
            return None
        if parsed is None:
            return None
        keys = self._licensing.license_keys(parsed)
        if not keys or any(not self.known(k) for k in keys):
            return None
        return str(parsed)

    def known(self, key: str) -> bool:
        """Whether an id is a license we can give properties for."""
        return key in self.table.licenses or category_properties(key) is not None

    def mentions(self, text: str) -> list[Mention]:
        """Licenses named in free text, in order of appearance; each span counted once."""
        # Same-length normalisation so offsets stay valid for line numbers.
        lowered = text.lower()
        if len(lowered) != len(text):
            lowered = "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
        work = list(lowered.replace("’", "'"))
        found: list[Mention] = []

        def take(match: re.Match[str], license_id: str, note: str = "", weak: bool = False) -> None:
            found.append(Mention(match.start(), match.end(), license_id, note, weak))
            work[match.start() : match.end()] = " " * (match.end() - match.start())

        current = "".join(work)
        for m in _CC_URL.finditer(current):
            take(m, cc_id(m.group(1).replace("-", " "), m.group(2))[0])
        current = "".join(work)
        for m in _CC_PD_URL.finditer(current):
            take(m, "CC0-1.0" if m.group(1).lower() == "zero" else "CC-PDM-1.0")
        current = "".join(work)
        for m in _CC_ZERO.finditer(current):
            take(m, "CC0-1.0")
        current = "".join(work)
        for m in _CC_NAME.finditer(current):
            spdx, note = cc_id(m.group(2) or "", m.group(3))
            take(m, spdx, note)
        for pattern, phrase in self._phrases:
            if phrase.anywhere:
                continue
            current = "".join(work)
            for m in pattern.finditer(current):
                take(m, phrase.license, weak=phrase.weak)
        if any(not m.weak for m in found):
            found = [m for m in found if not m.weak]
        # "(CC BY-SA)" next to "CC BY-SA 3.0": the abbreviation names the versioned license
        versioned = {m.license.rsplit("-", 1)[0] for m in found if not m.note}
        found = [m for m in found if not (m.note and m.license.rsplit("-", 1)[0] in versioned)]
        return sorted(found, key=lambda m: m.start)

    def lineage_mentions(self, text: str) -> list[Mention]:
        """Statements anywhere in a card that the data was generated by a model with terms."""
        return [
            Mention(m.start(), m.end(), phrase.license)
            for pattern, phrase in self._phrases
            if phrase.anywhere
            for m in pattern.finditer(text)
        ]

    def generator(self, model: str) -> tuple[str | None, str | None]:
        """(terms id, rule id) for a `generated_by` model, or (None, None) when not known."""
        name = model.strip().lower()
        for entry in self.table.generators:
            if any(fnmatch.fnmatchcase(name, pattern.lower()) for pattern in entry.match):
                return entry.license, entry.rule
        return None, None


@lru_cache(maxsize=1)
def _scancode_categories() -> dict[str, str]:
    from license_expression import get_license_index

    return {
        entry["spdx_license_key"]: entry["category"]
        for entry in get_license_index()
        if entry.get("spdx_license_key")
    }


_CATEGORY_PROPERTIES = {
    "Permissive": Properties(True, True, False, True),
    "Public Domain": Properties(True, False, False, True),
    "Copyleft": Properties(True, True, True, True),
    "Copyleft Limited": Properties(True, True, True, True),
}


def category_properties(spdx: str) -> Properties | None:
    """Properties from the ScanCode category of an SPDX id the table does not list."""
    if spdx.startswith("LicenseRef-"):
        return None
    category = _scancode_categories().get(spdx)
    return _CATEGORY_PROPERTIES.get(category) if category else None


def properties_of(spdx: str, table: dict[str, LicenseProperties]) -> Properties:
    entry = table.get(spdx)
    if entry is not None:
        return Properties(
            entry.commercial, entry.attribution, entry.share_alike, entry.derivatives, entry.grant
        )
    return category_properties(spdx) or UNKNOWN_PROPERTIES


def _all_true(values: list[bool | None]) -> bool | None:
    """Three-valued AND: any False wins, then any unknown."""
    return False if False in values else None if None in values else True


def _any_true(values: list[bool | None]) -> bool | None:
    """Three-valued OR: any True wins, then any unknown."""
    return True if True in values else None if None in values else False


def most_restrictive(items: Iterable[Properties]) -> Properties:
    """AND: every license applies, so the least any of them allows."""
    items = list(items)
    if not items:
        return UNKNOWN_PROPERTIES
    return Properties(
        commercial=_all_true([p.commercial for p in items]),
        attribution=_any_true([p.attribution for p in items]),
        share_alike=_any_true([p.share_alike for p in items]),
        derivatives=_all_true([p.derivatives for p in items]),
        grant=all(p.grant for p in items),
    )


def most_permissive(items: Iterable[Properties]) -> Properties:
    """OR: the licensee may pick, so the most any of them allows."""
    items = list(items)
    return Properties(
        commercial=_any_true([p.commercial for p in items]),
        attribution=_all_true([p.attribution for p in items]),
        share_alike=_all_true([p.share_alike for p in items]),
        derivatives=_any_true([p.derivatives for p in items]),
        grant=any(p.grant for p in items),
    )


def expression_properties(expression: str, table: dict[str, LicenseProperties]) -> Properties:
    """Properties of an SPDX expression: AND takes the least, OR the most."""
    tree = _expression_tree(expression)

    def walk(node: Any) -> Properties:
        if isinstance(node, str):
            return properties_of(node, table)
        op, children = node
        combined = [walk(child) for child in children]
        return most_permissive(combined) if op == "OR" else most_restrictive(combined)

    return walk(tree) if tree is not None else UNKNOWN_PROPERTIES


@lru_cache(maxsize=1)
def spdx_licensing() -> Any:
    """license-expression's SPDX licensing (building it takes ~0.1 s, so once per process)."""
    return get_spdx_licensing()


@lru_cache(maxsize=4096)
def _expression_tree(expression: str) -> Any:
    """An expression as nested ("AND"|"OR", children) tuples with license keys as leaves."""
    if not re.search(r"\s(?:AND|OR|WITH)\s|[()]", expression):
        return expression  # one id: no parsing needed
    try:
        parsed = spdx_licensing().parse(expression, validate=False)
    except ExpressionError:
        return None

    def convert(node: Any) -> Any:
        if hasattr(node, "key"):
            return node.key
        return (type(node).__name__, tuple(convert(a) for a in node.args))

    return convert(parsed) if parsed is not None else None


# -- reading cards and license files ---------------------------------------------------------


def _read(path: Path) -> str:
    try:
        with open(path, "rb") as stream:
            return stream.read(MAX_READ).decode("utf-8", errors="replace")
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from None


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


@dataclass(frozen=True)
class _Block:
    """A YAML block of a card: its text and the line (0-based) it starts on."""

    text: str
    first_line: int
    end_offset: int  # where the block ends in the card (the body starts after the first one)


_FENCE = re.compile(r"^---[ \t]*$", re.MULTILINE)
_YAML_KEY_LINE = re.compile(r"^(?:[A-Za-z_][\w .-]*:(?:\s|$)|\s+\S|-\s|\s*$)")


def _yaml_blocks(text: str) -> list[_Block]:
    """Front matter between `---` lines (wherever they are), or YAML lines at the very top."""
    blocks: list[_Block] = []
    fences = [m for m in _FENCE.finditer(text)]
    for opening, closing in zip(fences[::2], fences[1::2], strict=False):
        body = text[opening.end() + 1 : closing.start()]
        if body.strip() and ":" in body:
            blocks.append(_Block(body, text.count("\n", 0, opening.end()) + 1, closing.end()))
    # YAML lines without fences: at the very top, or right after a fenced block (cards that
    # glue two metadata blocks together)
    starts = [] if text.lstrip().startswith("---") else [0]
    starts += [b.end_offset + 1 for b in blocks]
    for start in starts:
        taken: list[str] = []
        for line in text[start:].splitlines(keepends=True):
            if not _YAML_KEY_LINE.match(line) or line.startswith(("#", "---")):
                break
            taken.append(line)
        head = "".join(taken)
        if re.search(r"^[A-Za-z_][\w .-]*:", head, re.MULTILINE):
            first = text.count("\n", 0, start)
            blocks.append(_Block(head, first, start + len(head)))
    return sorted(blocks, key=lambda b: b.first_line)


_LICENSE_KEY = re.compile(r"^((?:[A-Za-z_][\w .-]*)?licen[cs]e[\w .-]*):(.*)$", re.IGNORECASE)


def _license_keys(block: _Block) -> Iterator[tuple[str, Any, int, dict[str, int]]]:
    """Top-level keys mentioning "license": parsed value, its line, each list item's line."""
    lines = block.text.splitlines()
    i = 0
    while i < len(lines):
        match = _LICENSE_KEY.match(lines[i])
        if not match:
            i += 1
            continue
        j = i + 1
        while j < len(lines) and (lines[j].startswith((" ", "\t", "-")) or not lines[j].strip()):
            j += 1
        snippet = "\n".join(lines[i:j])
        try:
            parsed = yaml.safe_load(snippet)
            value = parsed.get(match.group(1)) if isinstance(parsed, dict) else None
        except (yaml.YAMLError, RecursionError):
            value = match.group(2).strip() or None
        items: dict[str, int] = {}
        for k in range(i + 1, j):
            item = re.match(r"^\s*-\s*(.+?)\s*$", lines[k])
            if item:
                items.setdefault(item.group(1).strip("\"'"), block.first_line + k + 1)
        yield match.group(1).strip(), value, block.first_line + i + 1, items
        i = j


class EvidenceReader:
    """Evidence from the files of one dataset (or one card or license file)."""

    def __init__(self, rules: RuleSet | None = None) -> None:
        self.rules = rules or load_rules()
        self.names = LicenseNames(self.rules)

    # cards

    def card(self, path: Path, rel: str) -> list[Evidence]:
        return self.card_text(_read(path), rel)

    def card_text(self, text: str, rel: str) -> list[Evidence]:
        evidence: list[Evidence] = []
        blocks = _yaml_blocks(text)
        for b, block in enumerate(blocks):
            evidence += self._yaml_evidence(block, rel, f"{rel}:yaml{b}")
        evidence += self._body_evidence(text, rel)
        return evidence

    def _yaml_evidence(self, block: _Block, rel: str, group: str) -> list[Evidence]:
        found: list[Evidence] = []
        keys = list(_license_keys(block))
        values = {key.lower(): value for key, value, _, _ in keys}
        for key, value, key_line, item_lines in keys:
            lower = key.lower()
            if lower in ("license_link", "license_url"):
                found += self._link(value, rel, key_line, f"{group}:{lower}")
                continue
            items = value if isinstance(value, list) else [value]
            for item in items:
                if item is None or isinstance(item, (dict, list)):
                    continue
                raw = str(item)
                line = item_lines.get(raw, key_line)
                if lower in ("license_details", "comment about the license"):
                    found += self._text_evidence(raw, rel, line, "card", f"{group}:{lower}")
                    continue
                spdx, note = self.names.value(raw)
                if spdx is None and raw.strip().lower() == "other" and values.get("license_name"):
                    continue  # `other` is explained by license_name on its own line
                found.append(
                    Evidence(
                        "card", rel, line, _clip(f"{key}: {raw}"), spdx, f"{group}:{lower}", note
                    )
                )
        return found

    def _link(self, value: Any, rel: str, line: int, group: str) -> list[Evidence]:
        if not isinstance(value, str):
            return []
        for rule in self.rules.licenses.values():
            if any(link in value for link in rule.license_links):
                return [
                    Evidence("card", rel, line, _clip(f"license_link: {value}"), rule.spdx, group)
                ]
        mentions = self.names.mentions(value)
        return [
            Evidence("card", rel, line, _clip(f"license_link: {value}"), m.license, group, m.note)
            for m in mentions[:1]
        ]

    def _body_evidence(self, text: str, rel: str) -> list[Evidence]:
        found: list[Evidence] = []
        body_start = 0
        blocks = _yaml_blocks(text)
        if blocks and blocks[0].first_line <= 1:
            body_start = blocks[0].end_offset
        spans = list(self._license_sections(text, body_start))
        covered: list[tuple[int, int]] = []
        for start, end in spans:
            section = text[start:end]
            group = f"{rel}:section@{start}"
            items = self._text_evidence(
                section, rel, text.count("\n", 0, start) + 1, "card-text", group
            )
            if not items and not _PLACEHOLDER.match(section.strip() or "n/a"):
                first = next((ln for ln in section.splitlines() if ln.strip()), "")
                items = [
                    Evidence(
                        "card-text",
                        rel,
                        text.count("\n", 0, start) + 1,
                        _clip(first),
                        None,
                        group,
                        "license section names no license provenance knows",
                    )
                ]
            found += items
            covered.append((start, end))
        for match in _TRIGGER.finditer(text, body_start):
            if any(a <= match.start() < b for a, b in covered):
                continue
            start = max(text.rfind("\n", 0, match.start()) + 1, match.start() - 300)
            stop = text.find("\n", match.end())
            stop = len(text) if stop == -1 else stop
            found += self._text_evidence(
                text[start:stop], rel, text.count("\n", 0, start) + 1, "card-text", f"{rel}:text"
            )
        for url in _CC_URL.finditer(text, body_start):
            if any(a <= url.start() < b for a, b in covered):
                continue
            found.append(
                Evidence(
                    "card-text", rel, text.count("\n", 0, url.start()) + 1, _clip(url.group(0)),
                    cc_id(url.group(1).replace("-", " "), url.group(2))[0], f"{rel}:url",
                )
            )  # fmt: skip
        for m in self.names.lineage_mentions(text.lower()):
            found.append(
                Evidence(
                    "card-text",
                    rel,
                    text.count("\n", 0, m.start) + 1,
                    _clip(text[m.start : m.end]),
                    m.license,
                    f"{rel}:lineage",
                    "the card says the data was generated by a model whose terms it inherits",
                )
            )
        return found

    def _license_sections(self, text: str, start: int) -> Iterator[tuple[int, int]]:
        headings = [m for m in _HEADING.finditer(text, start)]
        for i, heading in enumerate(headings):
            if not _SECTION_TITLE.search(heading.group(2)):
                continue
            level = len(heading.group(1))
            end = len(text)
            for later in headings[i + 1 :]:
                if len(later.group(1)) <= level:
                    end = later.start()
                    break
            yield heading.end(), end

    def _text_evidence(
        self, text: str, rel: str, first_line: int, origin: str, group: str
    ) -> list[Evidence]:
        found = []
        for m in self.names.mentions(text):
            line = first_line + text.count("\n", 0, m.start)
            found.append(
                Evidence(origin, rel, line, _clip(text[m.start : m.end]), m.license, group, m.note)
            )
        for tag in _SPDX_TAG.finditer(text):
            spdx, note = self.names.value(tag.group(1))
            line = first_line + text.count("\n", 0, tag.start())
            found.append(Evidence(origin, rel, line, _clip(tag.group(0)), spdx, group, note))
        return found

    # license files

    def license_file(self, path: Path, rel: str) -> list[Evidence]:
        return self.license_text(_read(path), rel)

    def license_text(self, text: str, rel: str) -> list[Evidence]:
        group = f"{rel}:file"
        first = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
        lowered = " ".join(text.lower().split())
        for rule in self.rules.licenses.values():
            if rule.identify and any(p.lower() in lowered for p in rule.identify):
                return [
                    Evidence(
                        "license-file",
                        rel,
                        1,
                        _clip(first),
                        rule.spdx,
                        group,
                        f"the text of the {rule.name}",
                    )
                ]
        matches = identify_text(text)
        if matches:
            return [
                Evidence(
                    "license-file",
                    rel,
                    1,
                    _clip(first),
                    m.spdx,
                    group,
                    f"{m.containment:.0%} of the {m.spdx} text is present"
                    + (
                        f"; the license is {m.coverage:.0%} of the file: read the rest for "
                        "additional terms"
                        if m.coverage < 0.75
                        else ""
                    ),
                )
                for m in matches
            ]
        items = self._text_evidence(text, rel, 1, "license-file", group)
        if items:
            return items
        return [
            Evidence(
                "license-file",
                rel,
                1,
                _clip(first),
                None,
                group,
                "a license file whose text is not a license provenance knows",
            )
        ]

    def metadata_file(self, path: Path, rel: str) -> list[Evidence]:
        """A card or a license file, by name; NOTICE files carry notices, not licenses."""
        name = path.name.lower()
        if name.startswith("notice"):
            return []
        if name.split(".")[0] in LICENSE_STEMS:
            return self.license_file(path, rel)
        return self.card(path, rel)

    # the manifest

    def manifest(self, source: Source, usage: Usage, depth: int = 0) -> list[Evidence]:
        where = str(usage.path.name) if usage.path else "provenance.yaml"
        line = _line_of(usage.path, source.glob)
        group = f"manifest:{source.glob}"
        found: list[Evidence] = []
        if source.license:
            spdx, note = self.names.value(source.license)
            found.append(
                Evidence(
                    "manifest",
                    where,
                    line,
                    _clip(f"{source.glob}: license: {source.license}"),
                    spdx,
                    group,
                    note or ("" if spdx else "not a license provenance knows"),
                )
            )
        if source.derived_from:
            found += self.derived(source.derived_from, usage, where, line, depth)
        for model in source.generated_by:
            found.append(self.generated(model, where, line))
        return found

    def generated(self, model: str, where: str, line: int | None) -> Evidence:
        terms, _ = self.names.generator(model)
        note = (
            f"generated by {model}: the data inherits its terms"
            if terms
            else f"generated by {model}, whose terms provenance does not know: check them"
        )
        return Evidence(
            "generated",
            where,
            line,
            _clip(f"generated_by: {model}"),
            terms,
            f"generated:{model}",
            note,
        )

    def derived(
        self, parent: str, usage: Usage, where: str, line: int | None, depth: int = 0
    ) -> list[Evidence]:
        group = f"derived:{parent}"
        text = _clip(f"derived_from: {parent}")
        local = (usage.base_dir / parent).resolve()
        if depth > 3:
            return [
                Evidence("derived", where, line, text, None, group, "derivation chain too deep")
            ]
        if local.exists():
            resolution = resolve_path(local, reader=self, depth=depth + 1)
            if resolution.unknown:
                return [
                    Evidence(
                        "derived",
                        where,
                        line,
                        text,
                        None,
                        group,
                        f"the license of {parent} is unknown",
                    )
                ]
            items = [
                Evidence("derived", where, line, text, spdx, group, f"inherited from {parent}")
                for spdx in resolution.licenses
            ]
            return items + [replace(e, origin="derived", group=group) for e in resolution.lineage]
        known = {k.lower(): v for k, v in self.rules.datasets.known_datasets.items()}.get(
            parent.lower()
        )
        if known is None:
            return [
                Evidence(
                    "derived",
                    where,
                    line,
                    text,
                    None,
                    group,
                    f"{parent} is neither a local folder nor a dataset provenance knows",
                )
            ]
        items = [
            Evidence(
                "derived",
                where,
                line,
                text,
                known.license,
                group,
                f"inherited from {parent} ({known.origin})",
            )
        ]
        return items + [self.generated(model, where, line) for model in known.generated_by]


def _line_of(path: Path | None, needle: str) -> int | None:
    if path is None:
        return None
    try:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if needle in line:
                return number
    except OSError:
        return None
    return None


# -- combining -------------------------------------------------------------------------------


def combine(evidence: Sequence[Evidence], rules: RuleSet | None = None) -> Resolution:
    """The resolution all this evidence supports (most restrictive wins)."""
    rules = rules or load_rules()
    table = rules.datasets.licenses
    lineage = tuple(e for e in evidence if e.origin == "generated" or "lineage" in e.group)
    named = [e for e in evidence if e.license]
    unknown = not named
    for marker in (e for e in evidence if e.license is None and e.origin != "generated"):
        own = {e.license for e in named if e.group == marker.group}
        if not any(e.license not in own for e in named if e.group != marker.group):
            unknown = True
    licenses = tuple(sorted({e.license for e in named if e.license}))
    per_license = [expression_properties(spdx, table) for spdx in licenses]
    properties = most_restrictive(per_license) if licenses else UNKNOWN_PROPERTIES
    if unknown:
        properties = replace(properties, commercial=None)
    notes = tuple(sorted({e.note for e in evidence if e.note and e.license}))
    spdx = None if unknown else " AND ".join(_wrap(s) for s in licenses)
    return Resolution(
        spdx=spdx,
        licenses=licenses,
        unknown=unknown,
        properties=properties,
        evidence=tuple(evidence),
        conflict=_conflict(named, table),
        lineage=lineage,
        notes=notes,
    )


def _wrap(expression: str) -> str:
    return f"({expression})" if " OR " in expression else expression


_ORIGIN_NAMES = {
    "card": "the card's metadata",
    "card-text": "the card's text",
    "license-file": "the license file",
    "record": "the record",
    "manifest": "provenance.yaml",
    "derived": "the parent dataset",
}


def _conflict(named: Sequence[Evidence], table: dict[str, LicenseProperties]) -> str | None:
    """A message when evidence from different origins disagrees on what the data allows."""
    by_origin: dict[str, set[str]] = {}
    for e in named:
        if e.origin in _ORIGIN_NAMES and "lineage" not in e.group and e.license:
            by_origin.setdefault(e.origin, set()).add(e.license)
    if len(by_origin) < 2:
        return None

    def terms(ids: set[str]) -> tuple[bool | None, ...]:
        p = most_restrictive(expression_properties(i, table) for i in ids)
        return (p.commercial, p.share_alike, p.derivatives, p.grant)

    if len({terms(ids) for ids in by_origin.values()}) < 2:
        return None
    said = "; ".join(
        f"{_ORIGIN_NAMES[origin]} says {' AND '.join(sorted(ids))}"
        for origin, ids in sorted(by_origin.items())
    )
    return f"conflicting license evidence: {said}; the most restrictive terms apply"


# -- paths -----------------------------------------------------------------------------------


def resolve_path(
    path: str | Path, *, reader: EvidenceReader | None = None, depth: int = 0
) -> Resolution:
    """The license of a dataset folder, a card or a license file (`provenance license`)."""
    reader = reader or EvidenceReader()
    target = Path(path)
    if not target.exists():
        raise InputError(f"no such file or directory: {path}")
    if target.is_dir():
        evidence: list[Evidence] = []
        for child in sorted(target.iterdir()):
            if child.is_file() and _is_metadata(child.name):
                evidence += reader.metadata_file(child, child.name)
        return combine(evidence, reader.rules)
    name = target.name
    if name.split(".")[0].lower() in LICENSE_STEMS or not name.lower().endswith(".md"):
        return combine(reader.license_file(target, name), reader.rules)
    return combine(reader.card(target, name), reader.rules)


def _is_metadata(name: str) -> bool:
    lower = name.lower()
    return lower in ("readme.md", "dataset_card.md") or lower.split(".")[0] in LICENSE_STEMS


# -- judging against the declared use --------------------------------------------------------


@dataclass(frozen=True)
class Assessment:
    """A license finding type with its explanation."""

    type: str
    message: str


def assess(resolution: Resolution, commercial: bool | None) -> list[Assessment]:
    """What the resolved license means for this use: the finding types to emit, in order."""
    found: list[Assessment] = []
    p = resolution.properties
    spdx = resolution.spdx or " AND ".join(resolution.licenses) or "no license"
    if resolution.unknown:
        named = f" (found: {', '.join(resolution.licenses)})" if resolution.licenses else ""
        found.append(
            Assessment(
                "LICENSE_UNKNOWN",
                f"the license is unknown{named}: not cleared until a license is established "
                "(add it under sources: in provenance.yaml)",
            )
        )
    elif not p.grant:
        found.append(
            Assessment(
                "LICENSE_UNKNOWN",
                f"{spdx} grants no rights without a separate agreement with the rights holder",
            )
        )
    else:
        if p.commercial is False and commercial is not False:
            why = "the use is commercial" if commercial else "usage.commercial is not declared"
            found.append(
                Assessment(
                    "LICENSE_NON_COMMERCIAL",
                    f"{spdx} does not permit commercial use and {why}",
                )
            )
        elif p.commercial is None and commercial is not False:
            found.append(
                Assessment("LICENSE_UNKNOWN", f"whether {spdx} permits commercial use is not known")
            )
        if p.share_alike is not False:
            found.append(
                Assessment(
                    "LICENSE_SHARE_ALIKE",
                    f"{spdx} requires adapted material to be shared under the same terms; whether "
                    "model weights are adapted material is unsettled: review before distributing"
                    if p.share_alike
                    else f"whether {spdx} is share-alike is not known: review",
                )
            )
        if p.derivatives is not True:
            found.append(
                Assessment(
                    "LICENSE_NO_DERIVATIVES",
                    f"{spdx} does not allow sharing adapted material; whether a model trained on "
                    "it is adapted material is unsettled: review before distributing"
                    if p.derivatives is False
                    else f"whether {spdx} allows derivatives is not known: review",
                )
            )
        if p.attribution is not False:
            found.append(
                Assessment(
                    "LICENSE_ATTRIBUTION",
                    f"{spdx} requires attribution: credit the source in the datasheet and NOTICE"
                    if p.attribution
                    else f"{spdx} does not say whether attribution is required: credit the source",
                )
            )
    if resolution.conflict:
        found.append(Assessment("LICENSE_CONFLICT", resolution.conflict))
    for item in resolution.lineage:
        found.append(Assessment("LICENSE_LINEAGE", item.note or f"lineage: {item.text}"))
    return found
