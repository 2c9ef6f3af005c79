"""The `license` detector: dataset- and record-level license evidence, judged against the use.

On the driver, `prepare` reads the dataset's cards and LICENSE/COPYING files (each applies to
the files under its folder) and the `sources:` of provenance.yaml (each applies to the files its
glob matches), and passes that evidence, as plain data, to the workers. A worker resolves each
file's license once (cached) and adds a record's own license field when it has one; every record
then gets the findings its license implies for the declared use. A record whose license is
cleared for the use gets none, so a clean corpus adds no rows.

Finding types (actions come from the policy): LICENSE_UNKNOWN, LICENSE_NON_COMMERCIAL,
LICENSE_SHARE_ALIKE, LICENSE_NO_DERIVATIVES, LICENSE_ATTRIBUTION, LICENSE_CONFLICT,
LICENSE_LINEAGE. All are record-level (`field`/`start`/`end` None), score 1.0, `preview` the
SPDX expression, and `detail` = {spdx, evidence[file, line, text, ...], properties, message}.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any, ClassVar

from provenance.detectors.base import Detector, ScanContext
from provenance.licensing.datasets import (
    Evidence,
    EvidenceReader,
    Resolution,
    assess,
    combine,
)
from provenance.licensing.schema import load_rules
from provenance.licensing.usage import Usage, glob_matches, load_usage
from provenance.model import Finding, Record

MAX_EVIDENCE = 10  # evidence items kept in each finding's detail


class LicenseDetector(Detector):
    name: ClassVar[str] = "license"
    version: ClassVar[str] = "1"
    finding_types: ClassVar[frozenset[str]] = frozenset(
        {
            "LICENSE_UNKNOWN", "LICENSE_NON_COMMERCIAL", "LICENSE_SHARE_ALIKE",
            "LICENSE_NO_DERIVATIVES", "LICENSE_CONFLICT", "LICENSE_LINEAGE", "LICENSE_ATTRIBUTION",
        }
    )  # fmt: skip

    def __init__(
        self,
        *,
        scopes: Sequence[dict[str, Any]] = (),
        sources: Sequence[dict[str, Any]] = (),
        files: Sequence[str] = (),
        commercial: bool | None = None,
        rules_dir: str | None = None,
    ) -> None:
        self.rules = load_rules(rules_dir)
        self.rules_dir = rules_dir
        self.scopes = [(s["scope"], _evidence(s["evidence"])) for s in scopes]
        self.sources = [(s["glob"], _evidence(s["evidence"])) for s in sources]
        self.files = list(files)
        self.commercial = commercial
        self._names = EvidenceReader(self.rules).names
        self._by_file: dict[str, tuple[int, ...]] = {}
        self._findings: dict[
            tuple[tuple[int, ...], str | None], list[tuple[str, str, dict[str, Any]]]
        ] = {}

    @classmethod
    def prepare(cls, context: ScanContext, options: dict[str, Any]) -> dict[str, Any]:
        """Driver side: the evidence of the dataset and the manifest, as picklable data."""
        dataset = context.dataset
        usage = load_usage(context.project_file) if context.project_file else Usage()
        reader = EvidenceReader(load_rules(options.get("rules_dir")))
        root = dataset.root
        scopes = []
        for path in dataset.metadata:
            rel = _relative(path, root)
            scope = rel.rpartition("/")[0]
            items = reader.metadata_file(path, rel)
            if items:
                scopes.append({"scope": scope, "evidence": [asdict(e) for e in items]})
        sources = [
            {"glob": s.glob, "evidence": [asdict(e) for e in reader.manifest(s, usage)]}
            for s in usage.sources
        ]
        return {
            **options,
            "scopes": scopes,
            "sources": sources,
            "files": [entry.path for entry in dataset.entries],
            "commercial": usage.facts.commercial,
        }

    def describe(self) -> dict[str, Any]:
        return {"version": self.version, "rules": self.rules_dir or "builtin:licenses"}

    # -- resolution ---------------------------------------------------------------------------

    def key(self, file: str) -> tuple[int, ...]:
        """Which pieces of evidence apply to `file`: indexes into scopes, then sources."""
        cached = self._by_file.get(file)
        if cached is None:
            cached = tuple(
                i
                for i, (scope, _) in enumerate(self.scopes)
                if not scope or file.startswith(scope + "/")
            ) + tuple(
                len(self.scopes) + i
                for i, (glob, _) in enumerate(self.sources)
                if glob_matches(glob, file)
            )
            self._by_file[file] = cached
        return cached

    def resolution(self, key: tuple[int, ...], record_license: str | None = None) -> Resolution:
        evidence: list[Evidence] = []
        groups = [items for _, items in self.scopes] + [items for _, items in self.sources]
        for i in key:
            evidence += groups[i]
        if record_license:
            spdx, note = self._names.value(record_license)
            evidence.append(
                Evidence(
                    "record",
                    "(record field)",
                    None,
                    f"license: {record_license}"[:200],
                    spdx,
                    "record",
                    note or ("" if spdx else "not a license provenance knows"),
                )
            )
        return combine(evidence, self.rules)

    def _assessed(
        self, file: str, record_license: str | None
    ) -> list[tuple[str, str, dict[str, Any]]]:
        key = self.key(file)
        cache_key = (key, record_license)
        found = self._findings.get(cache_key)
        if found is None:
            resolution = self.resolution(key, record_license)
            spdx = resolution.spdx or "unknown"
            evidence = [e.to_dict() for e in resolution.evidence[:MAX_EVIDENCE]]
            found = [
                (
                    a.type,
                    spdx,
                    {
                        "spdx": resolution.spdx,
                        "evidence": evidence,
                        "properties": resolution.properties.to_dict(),
                        "message": a.message,
                    },
                )
                for a in assess(resolution, self.commercial)
            ]
            self._findings[cache_key] = found
        return found

    def detect_batch(self, records: Sequence[Record]) -> Iterator[Finding]:
        for record in records:
            if record.error is not None:
                continue  # never cleared anyway; its error finding says why
            for type_, preview, detail in self._assessed(record.file, record.license):
                yield Finding(
                    record_id=record.id,
                    file=record.file,
                    row=record.row,
                    detector=self.name,
                    type=type_,
                    score=1.0,
                    preview=preview,
                    detail=detail,
                )


def dataset_licenses(options: dict[str, Any]) -> list[dict[str, Any]]:
    """The report's `dataset.licenses`: each distinct license with its evidence and files.

    Takes the detector's prepared options (the scanner has them on the driver). `applies_to` is
    ["**"] when one license covers every file, else the files it covers.
    """
    detector = LicenseDetector(**options)
    files = detector.files or [""]
    by_key: dict[tuple[int, ...], list[str]] = {}
    for file in files:
        by_key.setdefault(detector.key(file), []).append(file)
    entries = []
    for key, paths in sorted(by_key.items(), key=lambda item: item[1][0]):
        resolution = detector.resolution(key)
        entries.append(
            {
                "spdx": resolution.spdx,
                "evidence": [e.to_dict() for e in resolution.evidence],
                "applies_to": ["**"] if len(by_key) == 1 else sorted(paths),
                "properties": resolution.properties.to_dict(),
            }
        )
    return entries


def _evidence(items: Sequence[dict[str, Any]]) -> list[Evidence]:
    return [Evidence(**item) for item in items]


def _relative(path: Path, root: Path | None) -> str:
    if root is not None:
        try:
            return path.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            pass
    return path.name
