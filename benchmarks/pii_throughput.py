"""PII throughput: provenance's `pii` detector vs presidio's default AnalyzerEngine, side by side.

One process, one run, the same spaCy model for both (presidio's engine built with
NlpEngineProvider on it), each side single-process. Two corpora: the texts of presidio-research's
synthetic dev set, and an alpaca-style corpus (instruction, input, output fields) built from
/work/shared/data/instruct. Characters per second over every text field, after both sides have
loaded their models and analysed the same warm-up texts; start-up time is reported apart.
presidio analyses one text per call (its API); provenance gets records in batches of 256, as the
scan engine gives them. Side order alternates between repeats.

    python benchmarks/pii_throughput.py [--model NAME] [--repeat N] [--json OUT]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

# Neither side may touch the network (see pii_accuracy.py); read at tldextract import time.
os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from pii_accuracy import DEFAULT_DATA, DEFAULT_MODEL, default_analyzer, load_synth

from provenance.detectors.pii import PiiDetector
from provenance.model import Record, TextField

INSTRUCT_DIR = Path("/work/shared/data/instruct")
BATCH = 256
WARM_UP = [
    "Hello, I am Maria Lopez from Lisbon; mail maria.lopez@example.org or call +351 21 123 4567.",
    "Write a function that returns the sum of a list of numbers in Python.",
]


def alpaca_records(directory: Path = INSTRUCT_DIR) -> list[Record]:
    """instruction/input/output records from the alpaca-style files in `directory`."""
    rows: list[tuple[str, str, str]] = []
    for path in sorted(directory.glob("*.json")):
        for r in json.loads(path.read_text(encoding="utf-8")):
            rows.append((r["instruction"], r.get("input", ""), r["output"]))
    for path in sorted(directory.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            task = json.loads(line)
            for inst in task["instances"]:
                rows.append((task["instruction"], inst.get("input", ""), inst["output"]))
    names = ("instruction", "input", "output")
    return [
        Record(
            id=str(i),
            file="instruct",
            row=i,
            shape="alpaca",
            fields=tuple(TextField(n, t) for n, t in zip(names, row, strict=True) if t),
        )
        for i, row in enumerate(rows)
    ]


def synth_records(path: str) -> list[Record]:
    return [
        Record(
            id=str(i),
            file="synth",
            row=i,
            shape="text",
            fields=(TextField("text", s["full_text"]),),
        )
        for i, s in enumerate(load_synth(path))
    ]


def run_presidio(engine: Any, records: Sequence[Record]) -> int:
    found = 0
    for rec in records:
        for f in rec.fields:
            found += len(engine.analyze(text=f.text, language="en"))
    return found


def run_provenance(detector: PiiDetector, records: Sequence[Record]) -> int:
    found = 0
    for i in range(0, len(records), BATCH):
        found += sum(1 for _ in detector.detect_batch(records[i : i + BATCH]))
    return found


def start_up(side: str, model: str) -> float:
    """Seconds for a fresh Python process to import, load the model and analyse the warm-up
    texts (interpreter start included), for one side."""
    root, here = Path(__file__).resolve().parents[1], Path(__file__).resolve().parent
    code = (
        f"import sys, os; sys.path[:0] = [{str(root)!r}, {str(here)!r}]; "
        "os.environ.setdefault('TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS', ''); "
        f"import pii_throughput as b; b.warm_up({side!r}, {model!r})"
    )
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - t0


def warm_up(side: str, model: str) -> None:
    if side == "presidio":
        engine = default_analyzer(model)
        for text in WARM_UP:
            engine.analyze(text=text, language="en")
    else:
        warm = [Record("w", "w", 0, "text", (TextField("t", t),)) for t in WARM_UP]
        run_provenance(PiiDetector(spacy_model=model), warm)


def timed(fn: Callable[[], int]) -> tuple[float, int]:
    gc.collect()
    t0 = time.perf_counter()
    n = fn()
    return time.perf_counter() - t0, n


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--data", default=DEFAULT_DATA)
    parser.add_argument("--repeat", type=int, default=1, help="timed runs per side and corpus")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args(argv)

    corpora = {"presidio synth dev": synth_records(args.data), "alpaca-style": alpaca_records()}

    presidio_start = start_up("presidio", args.model)
    provenance_start = start_up("provenance", args.model)
    engine = default_analyzer(args.model)
    for text in WARM_UP:
        engine.analyze(text=text, language="en")
    warm = [
        Record(id="w", file="w", row=0, shape="text", fields=(TextField("t", t),)) for t in WARM_UP
    ]

    results: dict[str, Any] = {
        "model": args.model,
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "start_seconds": {"presidio": presidio_start, "provenance": provenance_start},
        "corpora": {},
    }
    for name, records in corpora.items():
        chars = sum(len(f.text) for r in records for f in r.fields)
        fields = sum(len(r.fields) for r in records)
        best = {"presidio": float("inf"), "provenance": float("inf")}
        counts = {}
        for i in range(args.repeat):
            # A fresh detector each time: its text and window caches start empty.
            detector = PiiDetector(spacy_model=args.model)
            run_provenance(detector, warm)
            sides: list[tuple[str, Callable[[], int]]] = [
                ("presidio", lambda rs=records: run_presidio(engine, rs)),  # type: ignore[misc]
                ("provenance", lambda d=detector, rs=records: run_provenance(d, rs)),  # type: ignore[misc]
            ]
            for side, fn in sides if i % 2 == 0 else sides[::-1]:
                seconds, counts[side] = timed(fn)
                best[side] = min(best[side], seconds)
                print(f"{name}: {side} {seconds:.2f}s", file=sys.stderr)
        results["corpora"][name] = {
            "records": len(records),
            "fields": fields,
            "chars": chars,
            "seconds": best,
            "chars_per_second": {k: chars / v for k, v in best.items()},
            "speedup": best["presidio"] / best["provenance"],
            "findings": counts,
        }

    print(
        f"model {args.model}; Python {results['python']}; {results['machine']}; "
        f"both sides single-process, same run; best of {args.repeat}\n"
    )
    print("| corpus | fields | chars | presidio AnalyzerEngine | provenance pii | speed-up |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, r in results["corpora"].items():
        cps = r["chars_per_second"]
        print(
            f"| {name} | {r['fields']} | {r['chars']:,} | {cps['presidio']:,.0f} chars/s "
            f"({r['seconds']['presidio']:.1f} s) | {cps['provenance']:,.0f} chars/s "
            f"({r['seconds']['provenance']:.1f} s) | {r['speedup']:.1f}x |"
        )
    start = results["start_seconds"]
    print(
        f"\nstart-up, a fresh process each (interpreter, imports, model load, warm-up): "
        f"presidio {start['presidio']:.1f} s, provenance {start['provenance']:.1f} s"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
