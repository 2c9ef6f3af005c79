"""Identifying a license file by its text, against SPDX license texts.

Owns the text normalisation, the shingle sketches of the license texts that matter for
fine-tuning data (`rules/licenses/spdx/fingerprints.yaml`, generated from the SPDX license list
by `python -m provenance.licensing.spdx build SPDX_JSON`), and the matcher.

The matcher compares word 4-grams. Normalisation drops what real license files change —
line breaks, markdown, punctuation and quotes, copyright lines and template placeholders,
"licence"/"license" — so a reflowed file with its own copyright line still matches. Each license
is stored as a bottom-k sketch (its k smallest shingle hashes) plus its shingle count; the share
of the sketch found in a file estimates how much of the license the file contains, which added
headers or a README section around it do not lower. Among licenses whose text is mostly present,
the one that also explains most of the file wins, so BSD-3-Clause beats BSD-2-Clause on a
3-clause file and CC-BY-NC-SA-4.0 beats CC-BY-NC-4.0 on an NC-SA file.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib.abc import Traversable
from pathlib import Path
from typing import Any

import yaml

from provenance.errors import RuleError

SHINGLE = 4
SKETCH = 128
THRESHOLD = 0.88  # share of a license's sketch a file must contain to be that license
SIMILAR = 0.5  # two license texts sharing this much are variants, not a dual license

# The licenses a dataset or model LICENSE file is identified against: the Creative Commons
# families (4.0 and 3.0), public-domain and data licenses, and the software licenses that
# code and instruction datasets carry. Anything else is found by name, not by text.
VENDORED = (  # noqa: SIM905 - a list of ids reads better as text
    "CC-BY-4.0 CC-BY-SA-4.0 CC-BY-NC-4.0 CC-BY-NC-SA-4.0 CC-BY-ND-4.0 CC-BY-NC-ND-4.0 "
    "CC-BY-3.0 CC-BY-SA-3.0 CC-BY-NC-3.0 CC-BY-NC-SA-3.0 CC-BY-ND-3.0 CC-BY-NC-ND-3.0 "
    "CC0-1.0 CC-PDM-1.0 ODC-By-1.0 ODbL-1.0 PDDL-1.0 CDLA-Permissive-1.0 CDLA-Permissive-2.0 "
    "CDLA-Sharing-1.0 C-UDA-1.0 MIT MIT-0 Apache-2.0 BSD-2-Clause BSD-3-Clause 0BSD ISC Zlib "
    "BSL-1.0 Unlicense WTFPL AFL-3.0 Artistic-2.0 PSF-2.0 MPL-2.0 EPL-2.0 GPL-2.0-only "
    "GPL-3.0-only LGPL-2.1-only LGPL-3.0-only AGPL-3.0-only GFDL-1.3-only OGL-UK-3.0 etalab-2.0 "
    "CC-BY-2.0 CC-BY-SA-2.0 CC-BY-NC-2.0 CC-BY-NC-SA-2.0 CC-BY-ND-2.0 CC-BY-NC-ND-2.0 "
    "CC-BY-2.5 CC-BY-SA-2.5 CC-BY-NC-2.5 CC-BY-NC-SA-2.5 CC-BY-ND-2.5 CC-BY-NC-ND-2.5 "
    "GFDL-1.2-only "
    # variants that contain most of a license above: without them, an X11 or BSD-4-Clause file
    # would be reported as MIT or BSD-3-Clause
    "X11 BSD-4-Clause BSD-3-Clause-Clear OSL-3.0 ECL-2.0 Apache-1.1 NCSA"
).split()

_COPYRIGHT_LINE = re.compile(
    r"^\W*(?:copyright\b|\(c\)|©|all rights reserved\W*$).*$", re.IGNORECASE | re.MULTILINE
)
_PLACEHOLDER = re.compile(
    r"<[^<>\n]{1,60}>|\[(?:yyyy|year|name of copyright owner|fullname)\]", re.IGNORECASE
)
# List markers are not part of a license's words (SPDX matching guidelines: bullets and
# numbering are ignored): "1.", "(a)", "iii)" as tokens of their own, wherever reflowing has
# put them. Bullets such as "*" and "-" are punctuation and go with it.
_LIST_MARKER = re.compile(r"(?<!\S)\(?(?:\d{1,2}|[a-z]|[ivx]{1,4})[.)](?=\s|$)", re.IGNORECASE)
_URL_SCHEME = re.compile(r"https?://(?:www\.)?", re.IGNORECASE)
_JOINED_HYPHEN = re.compile(r"(?<=[a-z])[-‐‑](?=[a-z])")
_NON_WORD = re.compile(r"[^a-z0-9]+")
# Spellings that vary between copies of one license (SPDX equivalent words, and the
# "copyright owner"/"copyright holder" variants of the BSD and MIT families).
_EQUIVALENT = {"licence": "license", "licences": "licenses", "owner": "holder", "owners": "holders"}


def normalise(text: str, *, template: bool = False) -> list[str]:
    """The words of a license text, with what varies between copies removed.

    A template (an SPDX text) also loses its copyright lines. A file keeps them: once reflowed,
    a copyright line may share a line with license text, and its extra words do not lower how
    much of the license the file contains.
    """
    if template:
        text = _COPYRIGHT_LINE.sub(" ", text)
    text = _PLACEHOLDER.sub(" ", text)
    text = _LIST_MARKER.sub(" ", text)
    text = _URL_SCHEME.sub(" ", text.lower())
    text = _JOINED_HYPHEN.sub("", text)  # non-commercial / noncommercial, sub-license
    return [_EQUIVALENT.get(w, w) for w in _NON_WORD.split(text) if w]


def shingles(words: Sequence[str], size: int = SHINGLE) -> set[int]:
    """Hashes of the word n-grams (64-bit, stable across runs and machines)."""
    if len(words) < size:
        return {_hash(" ".join(words))} if words else set()
    return {_hash(" ".join(words[i : i + size])) for i in range(len(words) - size + 1)}


def _hash(shingle: str) -> int:
    return int.from_bytes(hashlib.blake2b(shingle.encode(), digest_size=8).digest(), "big")


@dataclass(frozen=True)
class Fingerprint:
    spdx: str
    name: str
    size: int  # distinct shingles in the license text
    sketch: frozenset[int]
    similar: frozenset[str]  # licenses whose text shares most of this one


@dataclass(frozen=True)
class TextMatch:
    """A license found in a file: how much of its text is there, and of the file it explains."""

    spdx: str
    name: str
    containment: float
    coverage: float

    @property
    def score(self) -> float:
        return self.containment + self.coverage


def identify_text(text: str, fingerprints: Sequence[Fingerprint] | None = None) -> list[TextMatch]:
    """The licenses whose text this is, best first; several for a file holding more than one."""
    prints = fingerprints if fingerprints is not None else load_fingerprints()
    present = shingles(normalise(text))
    if not present:
        return []
    candidates = []
    for fp in prints:
        found = len(fp.sketch & present) / len(fp.sketch)
        if found >= THRESHOLD:
            coverage = min(1.0, found * fp.size / len(present))
            candidates.append(TextMatch(fp.spdx, fp.name, round(found, 3), round(coverage, 3)))
    candidates.sort(key=lambda m: (-m.score, m.spdx))
    similar = {fp.spdx: fp.similar for fp in prints}
    chosen: list[TextMatch] = []
    for match in candidates:
        # a variant of a license already chosen is explained by it, not a second license
        if all(
            match.spdx not in similar[c.spdx] and c.spdx not in similar[match.spdx] for c in chosen
        ):
            chosen.append(match)
    return chosen


@lru_cache(maxsize=2)
def load_fingerprints(path: str | None = None) -> tuple[Fingerprint, ...]:
    """The vendored sketches (or those in `path`)."""
    from provenance.licensing.schema import builtin_rules_dir

    source: Traversable = Path(path) if path else builtin_rules_dir() / "spdx" / "fingerprints.yaml"
    try:
        raw = yaml.load(source.read_bytes(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        return tuple(
            Fingerprint(
                spdx=spdx,
                name=entry["name"],
                size=int(entry["shingles"]),
                sketch=frozenset(int(h, 16) for h in entry["sketch"].split()),
                similar=frozenset(entry.get("similar", ())),
            )
            for spdx, entry in raw["licenses"].items()
        )
    except (OSError, KeyError, TypeError, ValueError, yaml.YAMLError) as exc:
        raise RuleError(f"{source}: cannot read license fingerprints: {exc}") from None


def build_fingerprints(texts: dict[str, tuple[str, str]], k: int = SKETCH) -> dict[str, Any]:
    """Sketches of `texts` (spdx -> (name, text)) in the layout of fingerprints.yaml."""
    full = {
        spdx: shingles(normalise(_core(text), template=True)) for spdx, (_, text) in texts.items()
    }
    licenses: dict[str, Any] = {}
    for spdx, (name, _) in texts.items():
        mine = full[spdx]
        similar = sorted(
            other
            for other, theirs in full.items()
            if other != spdx and len(mine & theirs) >= SIMILAR * min(len(mine), len(theirs))
        )
        licenses[spdx] = {
            "name": name,
            "shingles": len(mine),
            "similar": similar,
            "sketch": " ".join(f"{h:016x}" for h in sorted(mine)[:k]),
        }
    return licenses


def _core(text: str) -> str:
    """The terms without the "How to apply" appendix (Apache, GPL family), which copies omit."""
    return re.split(r"END OF TERMS AND CONDITIONS", text, maxsplit=1, flags=re.IGNORECASE)[0]


def _build(spdx_json: Path, out: Path, ids: Iterable[str] = VENDORED) -> None:
    data = json.loads(spdx_json.read_text(encoding="utf-8"))
    texts = {i: (data[i]["name"], data[i]["licenseText"]) for i in ids}
    header = (
        "# Generated by `python -m provenance.licensing.spdx build <spdx-full.json>`: bottom-"
        f"{SKETCH} sketches of\n# word {SHINGLE}-grams of SPDX license texts (npm "
        "spdx-license-list, text from SPDX license-list-data;\n# CC0-1.0). Regenerate after "
        "changing normalise() or VENDORED; do not edit by hand.\n"
    )
    body = {"shingle": SHINGLE, "sketch": SKETCH, "licenses": build_fingerprints(texts)}
    out.write_text(header + yaml.safe_dump(body, sort_keys=False, width=100), encoding="utf-8")


if __name__ == "__main__":  # pragma: no cover - maintenance command
    if len(sys.argv) != 3 or sys.argv[1] != "build":
        sys.exit("usage: python -m provenance.licensing.spdx build SPDX_FULL_JSON")
    target = Path(__file__).resolve().parents[2] / "rules/licenses/spdx/fingerprints.yaml"
    target.parent.mkdir(parents=True, exist_ok=True)
    _build(Path(sys.argv[2]), target)
    print(f"wrote {target}")
