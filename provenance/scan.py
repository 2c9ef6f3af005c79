"""Running a scan: dataset → detectors → policy → store. The CLI's `scan` calls `run_scan`."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from provenance import __version__
from provenance.detectors import (
    BUILTIN,
    DEFAULT_DETECTORS,
    Detector,
    DetectorSpec,
    ScanContext,
    detector_class,
)
from provenance.engines.base import batches
from provenance.engines.local import default_workers, run_local
from provenance.errors import InputError, RuleError
from provenance.model import DataFile, Finding
from provenance.policy import Policy
from provenance.sources.base import open_dataset
from provenance.store import Store

ProgressHook = Callable[[int, int, int], None]  # (records done, files done, files in all)
ENGINES = ("local", "ray")


@dataclass(frozen=True)
class ScanOptions:
    """Everything besides the dataset, the policy and the store that shapes a scan."""

    detectors: Sequence[str] = DEFAULT_DETECTORS
    workers: int | None = None  # None: all cores
    text_field: Sequence[str] | None = None
    allow_network: bool = False
    project_file: Path | None = None
    # per-detector constructor options, on top of the policy's `options:`
    detector_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    usage: dict[str, Any] | None = None
    engine: str = "local"  # "local" (process pool) or "ray"
    ray_address: str | None = None  # None: $RAY_ADDRESS, else a local Ray instance


@dataclass(frozen=True)
class ScanOutcome:
    scan_id: str
    summary: dict[str, Any]
    resumed_files: int = 0


def run_scan(
    source: str,
    *,
    store: Store,
    policy: Policy,
    options: ScanOptions = ScanOptions(),
    progress: ProgressHook | None = None,
) -> ScanOutcome:
    """Scan `source`, write the results to `store`, and return the scan's id and summary.

    An interrupted scan stays `incomplete` in the store and never serves as clearance; running
    the same scan again resumes it, keeping the results of files that were finished.
    """
    unknown = [d for d in options.detectors if d not in BUILTIN]
    if unknown:
        raise InputError(
            f"unknown detector: {', '.join(unknown)} (choose from {', '.join(sorted(BUILTIN))})"
        )
    if options.engine not in ENGINES:
        raise InputError(f"unknown engine: {options.engine} (choose from {', '.join(ENGINES)})")
    if options.engine == "ray":
        from provenance.engines import ray as ray_engine

        ray_engine.connect(options.ray_address, options.workers)  # fail fast, before hashing
    dataset = open_dataset(
        source, text_field=options.text_field, allow_network=options.allow_network
    )
    files = dataset.files()
    context = ScanContext(dataset=dataset, store=store, project_file=options.project_file)
    requested = [
        DetectorSpec(name, policy.detector_options(name) | options.detector_options.get(name, {}))
        for name in options.detectors
    ]
    config = _config_sha256(policy, requested, options)
    specs, driver = _build_detectors(policy, requested, context)
    tool = {
        "name": "provenance",
        "version": __version__,
        "detectors": {d.name: d.describe() for d in driver},
    }
    scan_id, done = store.begin_scan(
        source=source,
        root=str(dataset.root) if dataset.root else None,
        config_sha256=config,
        policy_source=policy.source,
        policy_sha256=policy.sha256,
        tool=tool,
        usage=options.usage,
        options=_stored_options(options),
        files=files,
        fingerprint=dataset_fingerprint(files),
    )
    workers = options.workers or _auto_workers(files)
    # the whole scan, its final statements included, runs under the store's small memory bound
    with store.streaming():
        try:
            if options.engine == "ray":
                ray_engine.run_ray(
                    dataset, specs, driver, store=store, scan_id=scan_id, policy=policy,
                    done=frozenset(done), workers=options.workers, progress=progress,
                    total_files=len(files),
                )  # fmt: skip
            else:
                records_done = files_done = 0
                record_batches = batches(dataset.records(), frozenset(done))
                results = run_local(specs, record_batches, workers=workers, local_detectors=driver)
                for result in results:
                    findings = _apply(policy, result.findings)
                    store.add_results(scan_id, result.records, findings, result.completed)
                    for detector in driver:
                        if detector.name in result.sketches:
                            detector.absorb(result.sketches[detector.name])
                    records_done += len(result.records)
                    files_done += len(result.completed)
                    if progress:
                        progress(records_done, files_done, len(files))
                if progress:
                    progress(records_done, len(files), len(files))
            corpus_findings = [f for d in driver for f in d.finish()]
            store.add_findings(scan_id, _apply(policy, corpus_findings))
            store.finish_scan(scan_id, _dataset_licenses(specs))
        except BaseException:
            store.mark_incomplete(scan_id)
            raise
    return ScanOutcome(scan_id, store.summary(scan_id), resumed_files=len(done))


# Below this much data, starting workers (each loading its models) costs more than it saves.
SMALL_DATASET_BYTES = 2_000_000


def _auto_workers(files: Sequence[DataFile]) -> int:
    return 1 if sum(f.size for f in files) < SMALL_DATASET_BYTES else default_workers()


def dataset_fingerprint(files: Sequence[DataFile]) -> str:
    """sha256 over the sorted (path, sha256) pairs: it changes when any file changes."""
    digest = hashlib.sha256()
    for f in sorted(files, key=lambda f: f.path):
        digest.update(f"{f.path}\0{f.sha256}\n".encode())
    return digest.hexdigest()


def _build_detectors(
    policy: Policy, requested: Sequence[DetectorSpec], context: ScanContext
) -> tuple[list[DetectorSpec], list[Detector]]:
    """Prepared specs and driver-side detectors, once the policy is known to cover them.

    Fail closed: a policy must say what every detector that runs does, and may name only the
    finding types that detector reports; a bad detector option is the policy's error.
    """
    specs, built = [], []
    for spec in requested:
        rules = policy.rules.detectors.get(spec.name)
        where = f"{policy.source}: detectors.{spec.name}"
        if rules is None:
            raise RuleError(f"{where}: missing; the policy must say what these findings do")
        try:
            known = detector_class(spec.name).known_types(spec.options)
            unknown = sorted(set(rules.types) - known)
            if unknown:
                raise RuleError(
                    f"{where}.types.{unknown[0]}: unknown finding type "
                    f"(known: {', '.join(sorted(known))})"
                )
            prepared = spec.prepared(context)
            built.append(prepared.build())
        except (TypeError, ValueError) as exc:
            raise RuleError(f"{where}.options: {str(exc).splitlines()[0]}") from None
        specs.append(prepared)
    return specs, built


def _apply(policy: Policy, findings: Sequence[Finding]) -> list[Finding]:
    return [kept for f in findings if (kept := policy.apply(f)) is not None]


def _config_sha256(policy: Policy, specs: Sequence[DetectorSpec], options: ScanOptions) -> str:
    config = {
        "version": __version__,
        "policy": policy.sha256,
        "detectors": [[s.name, s.options] for s in specs],
        "text_field": list(options.text_field or []),
    }
    return hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()


def _stored_options(options: ScanOptions) -> dict[str, Any]:
    return {
        "detectors": list(options.detectors),
        "text_field": list(options.text_field) if options.text_field else None,
        "detector_options": options.detector_options,
    }


def _dataset_licenses(specs: Sequence[DetectorSpec]) -> list[dict[str, Any]] | None:
    for spec in specs:
        if spec.name == "license":
            from provenance.detectors.license import dataset_licenses

            return dataset_licenses(spec.options)
    return None
