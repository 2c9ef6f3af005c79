"""`provenance train`: the gate, the data, the LoRA run and the release bundle, in that order.

Everything that can refuse runs before anything expensive: the usage declaration, the output
folder, the policy, the license check and the gate come first; the base model loads only once
the data is cleared. The bundle is written to a hidden folder beside the output and renamed into
place at the end, so an interrupted or failed run never leaves half a bundle.
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from provenance.errors import GateRefused, InputError
from provenance.training.gate import Clearance, GateOptions, open_gate
from provenance.training.options import TrainOptions

if TYPE_CHECKING:  # torch is imported only when training starts
    from provenance.training.lora import TrainProgress, TrainResult

Note = Callable[[str], None]


@dataclass(frozen=True)
class TrainRequest:
    """What the user asked for."""

    output: Path
    dataset: str | None = None  # None: the dataset of the latest complete scan
    base_model: str | None = None  # None: `base_model` of the usage declaration
    gate: GateOptions = field(default_factory=GateOptions)
    options: TrainOptions = field(default_factory=TrainOptions)
    policy_path: str | None = None
    usage_path: Path | None = None
    store_dir: str | None = None
    overwrite: bool = False
    allow_network: bool = False  # for a hub dataset; a hub model id may always be downloaded


@dataclass(frozen=True)
class TrainOutcome:
    output: Path
    manifest: dict[str, Any]
    clearance: Clearance
    result: TrainResult
    timings: dict[str, float] = field(default_factory=dict)


def train(
    request: TrainRequest,
    *,
    progress: TrainProgress | None = None,
    note: Note | None = None,
) -> TrainOutcome:
    """Gate, prepare, train and bundle; raises `GateRefused` (exit 1) when the gate refuses."""
    from provenance.bundle import BundleFacts, environment, write_bundle
    from provenance.policy import load_policy
    from provenance.report import load_report
    from provenance.store import DB_NAME, Store, store_dir
    from provenance.training import check as license_check
    from provenance.training.data import prepare
    from provenance.training.lora import (
        load_model,
        load_tokenizer,
        save_adapter,
        train_lora,
        use_qlora,
    )

    say = note or (lambda message: None)
    timings: dict[str, float] = {}
    usage = license_check.load_declaration(request.usage_path)
    base_model = resolve_base_model(request.base_model, usage)
    _check_output(request.output, request.overwrite)
    policy = load_policy(request.policy_path)
    location = store_dir(request.store_dir)
    if not (location / DB_NAME).is_file():
        raise GateRefused(f"no audit store at {location}; run `provenance scan DATASET` first")
    started = time.perf_counter()
    with Store(location, create=False, read_only=True) as store:
        check = license_check.run(usage, base_model)
        clearance = open_gate(
            store, request.dataset, policy, check, request.gate, allow_network=request.allow_network
        )
        report = load_report(store, clearance.scan.scan_id)
    timings["gate"] = time.perf_counter() - started
    timings.update(clearance.timings)
    say(
        f"gate: scan {clearance.scan.scan_id} verified; {len(clearance.records)} records cleared "
        f"for training ({_status_line(clearance)})"
    )

    tokenizer = load_tokenizer(base_model)
    started = time.perf_counter()
    data = prepare(clearance, tokenizer, request.options.max_length)
    timings["data"] = time.perf_counter() - started
    quantize = use_qlora(request.options.qlora)
    model = load_model(base_model, qlora=quantize)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    peft_model, result = train_lora(
        model, data.examples, request.options, pad_token_id=int(pad), progress=progress
    )
    timings["training"] = result.seconds

    staging = request.output.parent / f".{request.output.name}.partial-{uuid.uuid4().hex[:8]}"
    staging.mkdir(parents=True)
    try:
        save_adapter(peft_model, staging)
        facts = BundleFacts(
            base_model=base_model,
            report=report,
            trained=[(ex.record_id, ex.file, ex.row) for ex in data.examples],
            status_of={(r.file, r.row): r.status.value for r in clearance.records},
            statuses=[s.value for s in clearance.allowed_statuses],
            check=license_check.summary(check, clearance.accepted_review),
            gate={
                "cleared_only": request.gate.cleared_only,
                "include_blocked": request.gate.include_blocked,
                "accept_review": request.gate.accept_review,
                "excluded": clearance.excluded,
                "seconds": {k: round(v, 4) for k, v in clearance.timings.items()},
            },
            training={
                "arguments": {
                    "base_model": base_model,
                    **request.options.to_dict(),
                    "qlora": quantize,
                },
                "data": data.stats.to_dict(),
                "result": result.to_dict(),
                "versions": environment(),
            },
            usage=usage.to_dict() if usage else None,
            dataset_card=dataset_card(clearance),
        )
        manifest = write_bundle(staging, facts)
        _move_into_place(staging, request.output, request.overwrite)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return TrainOutcome(request.output, manifest, clearance, result, timings)


def resolve_base_model(given: str | None, usage: Any) -> str:
    """--base-model, else the declaration's `base_model` (a relative path is from its folder)."""
    if given:
        return given
    declared = getattr(usage, "base_model", None)
    if not declared:
        raise InputError("no base model: pass --base-model or set base_model in provenance.yaml")
    local = usage.base_dir / declared
    return str(local) if local.exists() else str(declared)


def dataset_card(clearance: Clearance) -> dict[str, Any]:
    """The YAML front matter of the dataset's card (README.md), or {}."""
    for path in clearance.dataset.metadata:
        if path.name.lower() not in ("readme.md", "dataset_card.md"):
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if text.startswith("---"):
            block = text.split("---", 2)[1] if text.count("---") >= 2 else ""
            try:
                data = yaml.safe_load(block)
            except (yaml.YAMLError, RecursionError):
                return {}
            return data if isinstance(data, dict) else {}
    return {}


def _status_line(clearance: Clearance) -> str:
    counts = clearance.status_counts
    line = ", ".join(f"{counts[s]} {s}" for s in ("cleared", "redacted", "blocked", "error"))
    if clearance.options.include_blocked and counts["blocked"]:
        line += "; BLOCKED RECORDS INCLUDED (--include-blocked)"
    return line


def _check_output(output: Path, overwrite: bool) -> None:
    if output.exists() and not output.is_dir():
        raise InputError(f"output {output} exists and is not a directory")
    if output.is_dir() and any(output.iterdir()) and not overwrite:
        raise InputError(f"output directory {output} is not empty (pass --overwrite to replace it)")


def _move_into_place(staging: Path, output: Path, overwrite: bool) -> None:
    if output.exists():
        if any(output.iterdir()) and not overwrite:
            raise InputError(f"output directory {output} is not empty")
        shutil.rmtree(output)
    os.replace(staging, output)
