"""The license check as training uses it: a thin adapter over `provenance.licensing`.

The gate needs the check's verdict and clauses; the bundle needs the base model's license (for
the card's `license:`), the clause verdicts, and the obligations with the exact bytes of the files
they require (NOTICE lines, license copies). This module is the one place that knows the
licensing package's result types.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from provenance.bundle import CheckSummary, LicenseInfo, Obligation

if TYPE_CHECKING:
    from provenance.licensing.check import CheckResult
    from provenance.licensing.usage import Usage

PROJECT_FILE = "provenance.yaml"
# License ids the Hugging Face Hub accepts in a card's `license:` (hub-docs
# repositories-licenses.md); any other license is written as `other` + `license_name`.
_HUB_LICENSES = """
    apache-2.0 mit openrail bigscience-openrail-m creativeml-openrail-m bigscience-bloom-rail-1.0
    bigcode-openrail-m afl-3.0 artistic-2.0 bsl-1.0 bsd bsd-2-clause bsd-3-clause
    bsd-3-clause-clear c-uda cc cc0-1.0 cc-by-2.0 cc-by-2.5 cc-by-3.0 cc-by-4.0 cc-by-sa-3.0
    cc-by-sa-4.0 cc-by-nc-2.0 cc-by-nc-3.0 cc-by-nc-4.0 cc-by-nd-4.0 cc-by-nc-nd-3.0
    cc-by-nc-nd-4.0 cc-by-nc-sa-2.0 cc-by-nc-sa-3.0 cc-by-nc-sa-4.0 cdla-sharing-1.0
    cdla-permissive-1.0 cdla-permissive-2.0 wtfpl ecl-2.0 epl-1.0 epl-2.0 etalab-2.0 eupl-1.1
    eupl-1.2 agpl-3.0 gfdl gpl gpl-2.0 gpl-3.0 lgpl lgpl-2.1 lgpl-3.0 isc h-research
    intel-research lppl-1.3c ms-pl apple-ascl mpl-2.0 odc-by odbl openrail++ osl-3.0 postgresql
    ofl-1.1 ncsa unlicense zlib pddl lgpl-lr deepfloyd-if-license
    fair-noncommercial-research-license llama2 llama3 llama3.1 llama3.2 llama3.3 llama4 gemma
"""
HUB_LICENSE_IDS = frozenset(_HUB_LICENSES.split())
BASE_LICENSE_PREFIX = "base-model-"  # copies of the base model folder's own license files
_LICENSE_STEMS = ("license", "licence", "copying", "notice")


def load_declaration(path: Path | None) -> Usage | None:
    """The usage declaration at `path`, else ./provenance.yaml when present, else None."""
    from provenance.licensing.usage import load_usage

    if path is None and Path(PROJECT_FILE).is_file():
        path = Path(PROJECT_FILE)
    return load_usage(path) if path else None


def run(usage: Usage | None, base_model: str) -> CheckResult:
    """The base model's license checked against the declared use, clause by clause.

    Without a declaration every clause that needs a fact is `review`, so the gate refuses unless
    the review is accepted.
    """
    from provenance.licensing.check import run_check
    from provenance.licensing.usage import Usage

    return run_check(usage or Usage(), base_model)


def summary(check: CheckResult, accepted_review: list[str]) -> CheckSummary:
    """What the bundle records of a check: license, verdicts, obligations with file contents."""
    copies = base_license_files(check)
    found = check.license
    if found is None:
        info = LicenseInfo(id=None, name="unknown", spdx=None, hub_license="unknown")
    else:
        hub = (found.hub_license or (found.id.lower(),))[0]
        known = hub in HUB_LICENSE_IDS
        link = next(iter(copies), None) or (
            f"https://{found.license_links[0]}" if found.license_links else None
        )
        info = LicenseInfo(
            id=found.id,
            name=found.name,
            spdx=found.spdx,
            hub_license=hub if known else "other",
            license_name=None if known else hub,
            license_link=None if known else link,
        )
    obligations = [
        Obligation(
            o.id,
            o.text,
            tuple((f.name, f.read() or (o.text.rstrip() + "\n").encode("utf-8")) for f in o.files),
        )
        for o in check.obligations
    ]
    if copies:
        obligations.append(
            Obligation(
                "base-model-license-copy",
                f"The base model's own license files, copied from {check.model}.",
                tuple(copies.items()),
            )
        )
    return CheckSummary(
        verdict=check.verdict,
        license=info,
        clauses=tuple(
            {k: c[k] for k in ("id", "section", "verdict", "message")}
            for c in check.to_dict()["clauses"]
        ),
        obligations=tuple(obligations),
        accepted_review=tuple(accepted_review),
    )


def base_license_files(check: CheckResult) -> dict[str, bytes]:
    """License files of a local base model folder, when the rules ship no text of its license.

    Licenses whose text is not vendored under rules/licenses/texts (Gemma, Mistral, OpenRAIL)
    still travel with the adapter when the base model folder has its own copy.
    """
    found = check.model_license
    folder = found.local if found is not None else None
    if folder is None or not folder.is_dir():
        return {}
    if check.license is None:
        return {}
    prefix = f"{check.license.id}."
    vendored = any(
        f.source is not None
        for o in check.obligations
        if o.clause.startswith(prefix)
        for f in o.files
    )
    if vendored:
        return {}
    return {
        f"{BASE_LICENSE_PREFIX}{path.name}": path.read_bytes()
        for path in sorted(folder.iterdir())
        if path.is_file() and path.name.lower().split(".")[0] in _LICENSE_STEMS
    }
