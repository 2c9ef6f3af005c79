"""Which license a base model is under, and whether it is multimodal.

Owns base-model license discovery: a local model folder is identified by its card's YAML
(`license:`, `license_name:`, `license_link:`), else by its LICENSE file's text; a hub id by the
`models:` tables of the rule files (known ids and id patterns). Nothing is downloaded. A model
that cannot be identified has no license rule, and `provenance check` then says `review`.
"""

from __future__ import annotations

import fnmatch
import json
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from provenance.errors import InputError
from provenance.licensing.datasets import LicenseNames, _yaml_blocks
from provenance.licensing.schema import LicenseRule, RuleSet, load_rules
from provenance.licensing.spdx import identify_text

GENERIC_RULE = "data-license"  # judges licenses without a clause file by their properties
_VISION = re.compile(r"vision|mllama|llava|paligemma|idefics|qwen2_?vl|pixtral|blip|clip", re.I)


@dataclass(frozen=True)
class ModelLicense:
    """The license found for a base model, and how it was found."""

    model: str
    rule: str | None  # id of the rule file that applies, None when unknown
    spdx: str | None
    multimodal: bool | None
    evidence: str
    local: Path | None = None


_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")


def resolve_model(
    model: str, *, rules: RuleSet | None = None, base_dir: Path | None = None
) -> ModelLicense:
    """The license of `model`: a local folder or a Hugging Face id."""
    rules = rules or load_rules()
    local = _local_dir(model, base_dir)
    if local is not None:
        return _from_folder(model, local, rules)
    if model.startswith(("/", "./", "../", "~")):
        raise InputError(f"model folder does not exist: {model}")
    name = model.removeprefix("hf://").strip()
    if not _HUB_ID.match(name):
        raise InputError(f"not a model folder or a Hugging Face model id: {model}")
    for rule in rules.licenses.values():
        for pattern in rule.models:
            if fnmatch.fnmatchcase(name.lower(), pattern.match.lower()):
                return ModelLicense(
                    model,
                    rule.id,
                    rule.spdx,
                    pattern.multimodal,
                    f"known model id (matches {pattern.match} in rules/licenses/{rule.id}.yaml)",
                )
    return ModelLicense(
        model,
        None,
        None,
        None,
        "not a local folder and not a model id provenance knows: its license is unknown",
    )


def _local_dir(model: str, base_dir: Path | None) -> Path | None:
    for candidate in (Path(model), (base_dir / model) if base_dir else None):
        if candidate is not None and candidate.is_dir():
            return candidate.resolve()
    return None


def _from_folder(model: str, folder: Path, rules: RuleSet) -> ModelLicense:
    multimodal = _multimodal(folder)
    names = LicenseNames(rules)
    card = next((folder / n for n in ("README.md", "readme.md") if (folder / n).is_file()), None)
    if card is not None:
        found = _from_card(card, rules, names)
        if found is not None:
            rule_id, spdx, how = found
            return ModelLicense(model, rule_id, spdx, multimodal, how, folder)
    for path in sorted(folder.iterdir()):
        if path.is_file() and path.name.lower().split(".")[0] in ("license", "licence", "copying"):
            text = path.read_text(encoding="utf-8", errors="replace")
            lowered = " ".join(text.lower().split())
            for rule in rules.licenses.values():
                if rule.identify and any(p.lower() in lowered for p in rule.identify):
                    return ModelLicense(
                        model,
                        rule.id,
                        rule.spdx,
                        multimodal,
                        f"{path.name} is the {rule.name}",
                        folder,
                    )
            matches = identify_text(text)
            if matches:
                spdx = matches[0].spdx
                rule_id = _rule_for_spdx(spdx, rules)
                return ModelLicense(
                    model,
                    rule_id,
                    spdx,
                    multimodal,
                    f"{path.name} is the {matches[0].name} text",
                    folder,
                )
    return ModelLicense(
        model,
        None,
        None,
        multimodal,
        "no license in the folder's README.md or LICENSE file",
        folder,
    )


def _from_card(
    card: Path, rules: RuleSet, names: LicenseNames
) -> tuple[str | None, str, str] | None:
    text = card.read_text(encoding="utf-8", errors="replace")
    for block in _yaml_blocks(text):
        try:
            meta = yaml.safe_load(block.text)
        except (yaml.YAMLError, RecursionError):
            continue
        if not isinstance(meta, dict):
            continue
        values = [meta.get("license"), meta.get("license_name")]
        link = meta.get("license_link")
        for rule in rules.licenses.values():
            for value in values:
                items = value if isinstance(value, list) else [value]
                if any(isinstance(v, str) and v.lower() in rule.hub_license for v in items):
                    return rule.id, rule.spdx, f"{card.name}: license: {value}"
            if isinstance(link, str) and any(part in link for part in rule.license_links):
                return rule.id, rule.spdx, f"{card.name}: license_link: {link}"
        for value in values:
            if isinstance(value, str) and value.lower() not in ("other", "unknown"):
                spdx, _ = names.value(value)
                if spdx:
                    return _rule_for_spdx(spdx, rules), spdx, f"{card.name}: license: {value}"
    return None


def _rule_for_spdx(spdx: str, rules: RuleSet) -> str | None:
    """The clause file for an SPDX id, else the properties rule when the table knows it."""
    for rule in rules.licenses.values():
        if rule.kind == "model" and rule.spdx == spdx:
            return rule.id
    names = LicenseNames(rules)
    return GENERIC_RULE if names.known(spdx) else None


def _multimodal(folder: Path) -> bool | None:
    config = folder / "config.json"
    if config.is_file():
        try:
            data = json.loads(config.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict):
            return None
        if "vision_config" in data or _VISION.search(str(data.get("model_type", ""))):
            return True
        return any(_VISION.search(str(a)) for a in data.get("architectures") or [])
    return None


def rule_of(model: ModelLicense, rules: RuleSet) -> LicenseRule | None:
    return rules.licenses.get(model.rule) if model.rule else None
