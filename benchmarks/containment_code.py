"""Code containment benchmark: copied functions, reformatted and renamed, inside coding answers.

Usage: python benchmarks/containment_code.py [--cases 400] [--seed 0]

Nothing third-party is committed: at run time the reference set is built from the source files
of standard-library modules installed with this Python (registered as code, as a user would
register a GPL repository), and test functions are read from them with `ast`. A positive is a
function from those files, disguised: reformatted by `ast.unparse` (layout, quotes and comments
change), about half of its parameters and local variables renamed, then pasted into a coding
answer between prose and a Markdown fence. A negative is a function from other installed
packages (click, yaml, rich, datasketch, numpy's pure-Python modules), disguised the same way.
Functions shorter than 60 code tokens are left out (too short to call a copy).

A positive counts as found when a finding at or above the default threshold names the module
file it came from; any other finding is a false positive.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import random
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from provenance.detectors.reference import ReferenceDetector  # noqa: E402
from provenance.detectors.shingles import code_tokens  # noqa: E402
from provenance.model import Record, TextField  # noqa: E402
from provenance.refs import add_reference_set, load_index  # noqa: E402
from provenance.store import Store  # noqa: E402

REFERENCE_MODULES = [
    "textwrap",
    "difflib",
    "argparse",
    "csv",
    "json.decoder",
    "json.encoder",
    "shutil",
    "tarfile",
    "zipfile",
    "configparser",
    "calendar",
    "fractions",
    "statistics",
    "heapq",
    "tokenize",
    "pprint",
    "string",
    "smtplib",
    "gettext",
    "optparse",
]
OTHER_MODULES = [
    "click.core",
    "click.types",
    "click.parser",
    "yaml.scanner",
    "yaml.emitter",
    "rich.text",
    "rich.table",
    "rich.console",
    "datasketch.lsh",
    "datasketch.minhash",
    "numpy.lib._npyio_impl",
    "numpy.lib._function_base_impl",
]
MIN_TOKENS = 60


@dataclass(frozen=True)
class Case:
    answer: str
    source: str | None  # the reference document a positive was copied from


def functions(module_name: str) -> list[tuple[str, str]]:
    """(file name, source) of every long enough function of an installed module."""
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return []
    path = Path(getattr(module, "__file__", "") or "")
    if path.suffix != ".py":
        return []
    source = path.read_text(encoding="utf-8")
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            segment = ast.get_source_segment(source, node)
            if segment and len(code_tokens(segment)) >= MIN_TOKENS:
                found.append((path.name, segment))
    return found


class _Rename(ast.NodeTransformer):
    def __init__(self, names: dict[str, str]) -> None:
        self.names = names

    def visit_Name(self, node: ast.Name) -> ast.Name:
        node.id = self.names.get(node.id, node.id)
        return node

    def visit_arg(self, node: ast.arg) -> ast.arg:
        node.arg = self.names.get(node.arg, node.arg)
        return node


def disguise(source: str, rng: random.Random) -> str:
    """Reformatted by ast.unparse, about half the parameters and locals renamed."""
    import textwrap

    tree = ast.parse(textwrap.dedent(source))
    local = sorted(
        {n.arg for n in ast.walk(tree) if isinstance(n, ast.arg)}
        | {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    )
    chosen = [name for name in local if name != "self" and rng.random() < 0.5]
    names = {
        name: f"{rng.choice(['val', 'item', 'tmp', 'arg', 'res'])}_{i}"
        for i, name in enumerate(chosen)
    }
    return ast.unparse(_Rename(names).visit(tree))


def answer(code: str, rng: random.Random) -> str:
    intro = rng.choice((
        "Sure! Here is a function that does what you asked:",
        "You can implement it like this:",
        "The following Python code solves the problem.",
    ))  # fmt: skip
    outro = rng.choice((
        "It runs in linear time and handles the edge cases.",
        "Let me know if you need an explanation of any step.",
        "",
    ))  # fmt: skip
    return f"{intro}\n\n```python\n{code}\n```\n\n{outro}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=400, help="records (half positives)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    inside = [f for m in REFERENCE_MODULES for f in functions(m)]
    outside = [f for m in OTHER_MODULES for f in functions(m)]
    cases = []
    for i in range(args.cases):
        pool, positive = (inside, True) if i % 2 == 0 else (outside, False)
        name, source = pool[rng.randrange(len(pool))]
        cases.append(Case(answer(disguise(source, rng), rng), f"code/{name}" if positive else None))
    with tempfile.TemporaryDirectory() as tmp:
        code_dir = Path(tmp) / "code"
        code_dir.mkdir()
        for module_name in REFERENCE_MODULES:
            module = importlib.import_module(module_name)
            path = Path(module.__file__ or "")
            (code_dir / path.name).write_bytes(path.read_bytes())
        with Store(Path(tmp) / "store") as store:
            started = time.perf_counter()
            add_reference_set(store, "stdlib", [code_dir], license="GPL-3.0-only")
            indexed = time.perf_counter() - started
            index = load_index(store)
    detector = ReferenceDetector(index=index)
    records = [
        Record(id=str(i), file="answers.jsonl", row=i, shape="alpaca",
               fields=(TextField("output", c.answer),))
        for i, c in enumerate(cases)
    ]  # fmt: skip
    started = time.perf_counter()
    findings = list(detector.detect_batch(records))
    scanned = time.perf_counter() - started
    by_row: dict[int, list[object]] = {}
    for f in findings:
        by_row.setdefault(f.row, []).append(f)
    tp = fp = fn = 0
    for row, case in enumerate(cases):
        hits = [f for f in by_row.get(row, []) if f.score >= 0.5]  # type: ignore[attr-defined]
        good = [f for f in hits if f.detail["reference_doc"] == case.source]  # type: ignore[attr-defined]
        if case.source:
            tp += bool(good)
            fn += not good
        fp += len(hits) - len(good)
    recall = tp / (tp + fn) if tp + fn else 1.0
    precision = tp / (tp + fp) if tp + fp else 1.0
    print(f"code containment: {len(REFERENCE_MODULES)} reference modules "
          f"({len(inside)} functions), {len(outside)} functions from other packages")  # fmt: skip
    print(f"  indexed in {indexed:.2f} s, scanned {len(records)} answers in {scanned:.2f} s")
    print(f"overall: recall {recall:.3f}  precision {precision:.3f}  (tp {tp}, fp {fp}, fn {fn})")
    ok = recall >= 0.95 and precision >= 0.99
    print("target (recall >= 0.95 at precision >= 0.99):", "met" if ok else "NOT met")


if __name__ == "__main__":
    main()
