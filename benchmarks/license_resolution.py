"""License resolution: accuracy on hand-labelled real cards and real license files, and speed.

    python benchmarks/license_resolution.py                  # everything
    python benchmarks/license_resolution.py --cards 10000    # how many card resolutions to time

1. Cards: ../shared/data/cards (340 real Hugging Face dataset cards chosen because they are
   awkward; `_CATEGORY.json` gives each card's category). The labels in
   benchmarks/data/license_card_labels.yaml (dev set, 25 per category) and
   license_card_labels_holdout.yaml (5 per category, labelled after the resolver was frozen)
   were written by reading each card. Two scores per category:
   - licenses: the set of licenses found equals the labelled set, and the data is unknown
     exactly when the label says a part is unresolved ("?") or names nothing;
   - use: the commercial-use class (commercial / non-commercial / unknown) agrees — what the
     scan acts on.
2. License files: every license file of every installed Python distribution that declares a
   PEP 639 `License-Expression` (an SPDX expression written by its maintainers), identified by
   text; correct when the ids found are exactly the ids of the expression.
3. Speed: resolving cards from disk, cycling through the 340 cards, N times (default 10,000).

The shared data is looked up beside the repository (../shared), or at $PROVENANCE_SHARED.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import time
from collections import defaultdict
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml

from provenance.licensing.datasets import EvidenceReader, Resolution, combine, resolve_path
from provenance.licensing.spdx import identify_text

HERE = Path(__file__).resolve().parent
SHARED = Path(os.environ.get("PROVENANCE_SHARED", HERE.parent.parent / "shared"))
CARDS = SHARED / "data" / "cards"
LABELS = {
    "dev": HERE / "data" / "license_card_labels.yaml",
    "holdout": HERE / "data" / "license_card_labels_holdout.yaml",
}


def use_class(resolution: Resolution) -> str:
    p = resolution.properties
    if resolution.unknown or not p.grant or p.commercial is None:
        return "unknown"
    return "commercial" if p.commercial else "non-commercial"


# Label vocabulary written before the resolver's ids were fixed: the same meaning, another name.
LABEL_ALIASES = {"LicenseRef-proprietary": "LicenseRef-all-rights-reserved"}


def _matches(label: str, found: str) -> bool:
    """A label id matches a found id; `X-*` labels a family whose version the card omits."""
    label = LABEL_ALIASES.get(label, label)
    if label.endswith("-*"):
        stem = label[:-2].lower()
        return fnmatch.fnmatch(found.lower(), f"{stem}-*") or found.lower().startswith(
            f"licenseref-{stem}"
        )
    return label == found


def licenses_agree(label: dict[str, Any], resolution: Resolution) -> bool:
    named = [x for x in label["licenses"] if x != "?"]
    label_unknown = "?" in label["licenses"] or not named
    found = set(resolution.licenses)
    if resolution.unknown != label_unknown:
        return False
    return all(any(_matches(n, f) for f in found) for n in named) and all(
        any(_matches(n, f) for n in named) for f in found
    )


def card_accuracy(labels_file: Path) -> dict[str, dict[str, int]]:
    labels = yaml.safe_load(labels_file.read_text(encoding="utf-8"))
    categories = json.loads((CARDS / "_CATEGORY.json").read_text(encoding="utf-8"))
    reader = EvidenceReader()
    scores: dict[str, dict[str, int]] = defaultdict(lambda: {"n": 0, "licenses": 0, "use": 0})
    misses = []
    for name, label in sorted(labels.items()):
        resolution = resolve_path(CARDS / name, reader=reader)
        row = scores[categories[name]]
        row["n"] += 1
        licenses_ok = licenses_agree(label, resolution)
        use_ok = use_class(resolution) == label["use"]
        row["licenses"] += licenses_ok
        row["use"] += use_ok
        if not (licenses_ok and use_ok):
            misses.append((name, label, resolution))
    for name, label, res in misses:
        found = f"{list(res.licenses)}{' + unknown' if res.unknown else ''} ({use_class(res)})"
        print(f"  miss {name}: label {label['licenses']} ({label['use']}); found {found}")
    return dict(scores)


def print_scores(title: str, scores: dict[str, dict[str, int]]) -> None:
    print(f"\n{title}\n")
    print("| category | cards | licenses exact | commercial-use class |")
    print("|---|---:|---:|---:|")
    total = {"n": 0, "licenses": 0, "use": 0}
    for category, row in sorted(scores.items()):
        for key in total:
            total[key] += row[key]
        n = row["n"]
        licenses = f"{row['licenses']}/{n} ({row['licenses'] / n:.0%})"
        print(f"| {category} | {n} | {licenses} | {row['use']}/{n} ({row['use'] / n:.0%}) |")
    n = total["n"]
    print(f"| **all** | {n} | {total['licenses']}/{n} ({total['licenses'] / n:.0%}) | "
          f"{total['use']}/{n} ({total['use'] / n:.0%}) |")  # fmt: skip


def license_files() -> None:
    """Installed distributions' license files against their declared License-Expression."""
    from license_expression import get_spdx_licensing

    licensing = get_spdx_licensing()
    reader = EvidenceReader()
    rows = []
    for dist in sorted(metadata.distributions(), key=lambda d: d.metadata["Name"] or ""):
        expression = dist.metadata.get("License-Expression")
        files = [
            f for f in dist.files or []
            if f.name.split(".")[0].upper().startswith(("LICENSE", "LICENCE", "COPYING"))
        ]  # fmt: skip
        if not expression or not files:
            continue
        try:
            expected = set(licensing.license_keys(licensing.parse(expression)))
        except Exception:  # a maintainer's expression license-expression cannot parse: skip it
            continue
        found: set[str] = set()
        for f in files:
            path = Path(str(dist.locate_file(f)))
            if not path.is_file():
                continue
            text = path.read_text(encoding="utf-8", errors="replace")
            matches = identify_text(text)
            if matches:
                found |= {m.spdx for m in matches}
            else:
                found |= {e.license for e in combine(reader.license_text(text, f.name)).evidence
                          if e.license}  # fmt: skip
        rows.append((dist.metadata["Name"], expected, found))
    exact = sum(e == f for _, e, f in rows)
    single = [(n, e, f) for n, e, f in rows if len(e) == 1]
    single_ok = sum(e == f for _, e, f in single)
    print("\nLicense files of installed distributions with a License-Expression\n")
    print(f"- distributions: {len(rows)}; ids found == ids declared: {exact}/{len(rows)} "
          f"({exact / max(len(rows), 1):.0%})")  # fmt: skip
    print(f"- single-license distributions: {single_ok}/{len(single)} "
          f"({single_ok / max(len(single), 1):.0%})")  # fmt: skip
    recall = sum(e <= f for _, e, f in rows)
    print(f"- every declared id found (extra ids are bundled third-party licenses): {recall}/"
          f"{len(rows)} ({recall / max(len(rows), 1):.0%})")  # fmt: skip
    for name, expected, found in rows:
        if expected != found:
            print(f"  miss {name}: declared {sorted(expected)}, found {sorted(found)}")


def damaged_spdx_texts() -> None:
    """The vendored SPDX texts after realistic damage, and the other SPDX texts as decoys."""
    import random
    import re
    import textwrap

    from provenance.licensing.spdx import VENDORED

    data = json.loads((SHARED / "data/licenses/spdx-full.json").read_text(encoding="utf-8"))
    right = total = 0
    for seed in range(3):
        rng = random.Random(seed)
        for spdx in VENDORED:
            text = re.sub(r"<year>", "2021", data[spdx]["licenseText"])
            text = re.sub(r"<(?:copyright holders?|owner)>", "ACME Data Labs", text)
            paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text)]
            text = "\n\n".join(textwrap.fill(p, rng.randint(50, 110)) for p in paragraphs if p)
            text = "# LICENSE\n\nThis dataset is released under these terms.\n\n" + text
            total += 1
            right += [m.spdx for m in identify_text(text)] == [spdx]
    others = [k for k in data if k not in VENDORED]
    claimed = {k: identify_text(data[k]["licenseText"]) for k in others}
    wrong = {k: [m.spdx for m in v] for k, v in claimed.items() if v}
    print("\nSPDX texts\n")
    print(f"- vendored texts, reflowed + real copyright line + added header, 3 seeds: "
          f"{right}/{total} identified exactly ({right / total:.0%})")  # fmt: skip
    print(f"- the other {len(others)} SPDX texts (not vendored): {len(others) - len(wrong)} "
          f"identified as nothing, {len(wrong)} as a vendored license (usually a variant: "
          f"GPL-3.0-or-later -> GPL-3.0-only, X11-style MIT variants -> MIT)")  # fmt: skip


def speed(count: int) -> None:
    paths = sorted(p for p in CARDS.glob("*.md"))
    started = time.perf_counter()
    reader = EvidenceReader()
    resolve_path(paths[0], reader=reader)
    cold = time.perf_counter() - started
    started = time.perf_counter()
    for i in range(count):
        resolve_path(paths[i % len(paths)], reader=reader)
    elapsed = time.perf_counter() - started
    size = sum(p.stat().st_size for p in paths) / len(paths)
    rate = f"{elapsed / count * 1000:.2f} ms/card, {count / elapsed:,.0f} cards/s on one core"
    print(f"\nSpeed: {count:,} card resolutions (cycling {len(paths)} cards, mean "
          f"{size / 1024:.1f} KiB) in {elapsed:.2f} s = {rate}; first {cold:.2f} s")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=10_000, help="card resolutions to time")
    args = parser.parse_args()
    if not CARDS.is_dir():
        raise SystemExit(f"cards not found at {CARDS} (set PROVENANCE_SHARED)")
    for name, path in LABELS.items():
        if path.is_file():
            print(f"\n## Cards, {name} labels ({path.name})")
            print_scores(f"Accuracy by category ({name})", card_accuracy(path))
    license_files()
    damaged_spdx_texts()
    speed(args.cards)


if __name__ == "__main__":
    main()
