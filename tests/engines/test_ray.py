"""The Ray engine gives the report the local engine gives: same verdicts, same findings.

A local Ray instance with 2 CPUs runs the scans. Reports are compared as JSON without the
scan id and creation time, which are the only fields allowed to differ between engines.
"""

from __future__ import annotations

import json
import logging
import os
import random
import subprocess
import sys
from collections.abc import Iterable, Iterator, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar

import pytest

from provenance.detectors import BUILTIN
from provenance.detectors.base import Detector
from provenance.engines.base import Batch
from provenance.errors import InputError
from provenance.model import Finding, Record
from provenance.policy import Policy, load_policy, parse_policy
from provenance.refs import add_reference_set
from provenance.report import load_report
from provenance.scan import ScanOptions, run_scan
from provenance.store import Store
from tests.conftest import REPO, write_jsonl

ray = pytest.importorskip("ray", reason="Ray is not installed: pip install 'provenance-audit[ray]'")

pytestmark = pytest.mark.slow

WORDS = [
    "river", "stone", "lantern", "orchard", "harbour", "meadow", "copper", "violet", "engine",
    "ledger", "canvas", "summit", "quartz", "willow", "signal", "timber", "marble", "falcon",
    "prairie", "beacon", "amber", "thistle", "glacier", "saddle",
]  # fmt: skip
PASSAGE = (
    "The archive committee meets on the first Tuesday of every month to review the donated "
    "letters, decide which of them are fragile enough to be scanned before anyone reads them, "
    "and record in the ledger who handled each box, where it was stored overnight and which "
    "volunteer checked the catalogue numbers against the shelf labels before closing the room."
)


def words(seed: int, n: int = 120) -> str:
    rng = random.Random(seed)
    return " ".join(rng.choice(WORDS) for _ in range(n))


def edit(text: str, *positions: int) -> str:
    split = text.split()
    for p in positions:
        split[p] = "CHANGED"
    return " ".join(split)


def corpus(root: Path) -> Path:
    """Files that exercise every path: errors, PII, references, exact, near and chained
    duplicates across files, and one LSH bucket larger than the all-pairs limit."""
    base, chain = words(1), words(2)
    write_jsonl(root / "a.jsonl", [
        {"text": base},
        {"instruction": "Summarise.", "input": words(3), "output": "write to ada@example.com"},
        {"text": f"Minutes. {PASSAGE} Nothing else was decided."},
        {"text": edit(chain, 5)},
        {"text": "my ssn is 536-22-8146, Maria Gonzalez said in Springfield"},
    ])  # fmt: skip
    with open(root / "a.jsonl", "a", encoding="utf-8") as out:
        out.write("\n{not json\n")  # a blank line (rows count it) and an unreadable row
    write_jsonl(root / "b" / "b.jsonl", [
        {"text": base.upper().replace(" ", ",  ")},  # the same text once normalised
        {"text": edit(chain, 5, 40)},  # a chain a[3] - b[1] - b[2] - d[0] whose ends are
        {"text": edit(chain, 5, 40, 80)},  # not near each other, one word changed per step
        {"messages": [{"role": "user", "content": words(4)}, {"role": "assistant",
                      "content": words(5)}]},
    ])  # fmt: skip
    write_jsonl(root / "d.jsonl", [{"text": edit(chain, 5, 40, 80, 110)}])
    crowd = words(6, 200)
    write_jsonl(root / "c.jsonl", [{"text": edit(crowd, i)} for i in range(70)])
    (root / "empty.jsonl").write_text("", encoding="utf-8")
    (root / "notes.bin").write_bytes(b"\x00\x01")
    (root / "README.md").write_text("---\nlicense: mit\n---\n# test corpus\n", encoding="utf-8")
    return root


def report(store: Store, scan_id: str) -> dict[str, Any]:
    data = load_report(store, scan_id).to_dict()
    del data["scan_id"], data["created_at"]
    return data


def policy_for_tests() -> Policy:
    """The default policy, plus rules for the test-only detectors registered at the moment."""
    default = (resources.files("provenance.rules") / "policy" / "default.yaml").read_bytes()
    extra = "".join(
        f"  {name}: {{default: {{action: flag}}}}\n"
        for name in ("shapes", "exploding")
        if name in BUILTIN
    )
    return parse_policy(default + extra.encode(), "test-policy.yaml") if extra else load_policy()


def scan(source: Path, store: Store, **options: Any) -> str:
    opts = ScanOptions(**options)
    return run_scan(str(source), store=store, policy=policy_for_tests(), options=opts).scan_id


@pytest.fixture(scope="module")
def ray_instance() -> Iterator[None]:
    saved = dict(os.environ)
    # The local instance's workers inherit this environment: they import the fakes below as
    # tests.engines.test_ray from any working directory.
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), saved.get("PYTHONPATH")]))
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    try:
        ray.init(num_cpus=2, include_dashboard=False, logging_level=logging.WARNING,
                 log_to_driver=False)  # fmt: skip
    finally:
        os.environ.clear()
        os.environ.update(saved)
    yield
    ray.shutdown()


def test_cli_scan_on_ray_gives_the_local_report(tmp_path: Path) -> None:
    """The real detectors through `provenance scan --engine ray`, in a process of its own that
    starts and stops its Ray instance: the same JSON report, and nothing but the summary on
    stderr."""
    data = corpus(tmp_path / "data")
    (tmp_path / "refs").mkdir()
    (tmp_path / "refs" / "minutes.txt").write_text(PASSAGE, encoding="utf-8")
    env = {**os.environ, "PROVENANCE_STORE": str(tmp_path / "store")}
    env.pop("RAY_ADDRESS", None)
    with Store(tmp_path / "store") as store:
        add_reference_set(
            store, "minutes", [tmp_path / "refs"], license="LicenseRef-all-rights-reserved"
        )
        expected = report(store, scan(data, store, workers=1))

    command = [sys.executable, "-m", "provenance", "scan", str(data), "--engine", "ray",
               "--workers", "2", "-f", "json"]  # fmt: skip
    done = subprocess.run(
        command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300
    )

    assert done.returncode == 1, done.stderr  # blocked records: exit 1, as with the local engine
    assert done.stderr.splitlines() == [done.stderr.splitlines()[0]], done.stderr
    assert done.stderr.startswith(f"{expected['summary']['records']} records: ")
    actual = json.loads(done.stdout)
    del actual["scan_id"], actual["created_at"]
    assert actual == expected
    types = expected["summary"]["findings_by_type"]
    for kind in ("EXACT_DUPLICATE", "NEAR_DUPLICATE", "REFERENCE_MATCH", "EMAIL_ADDRESS",
                 "US_SSN", "INVALID_JSON", "EMPTY_FILE", "UNSUPPORTED_FORMAT"):  # fmt: skip
        assert types.get(kind), f"the corpus should produce {kind}"
    largest = max(f["detail"].get("cluster_size", 0) for f in expected["findings"])
    assert largest > 64  # the chain-and-star path of large buckets ran
    (chained,) = [
        f for f in expected["findings"]
        if (f["detector"], f["file"], f["row"]) == ("duplicate", "d.jsonl", 0)
    ]  # fmt: skip
    assert (chained["detail"]["file"], chained["detail"]["row"]) == ("a.jsonl", 3)
    assert chained["score"] < 0.8  # in a[3]'s cluster only through b[1] and b[2]


class ShapeOrderDetector(Detector):
    """A corpus-level detector with no distributed path: it flags the first record of each shape
    in the order its sketches arrive, so sketches absorbed out of corpus order would show."""

    name: ClassVar[str] = "shapes"

    def __init__(self, **options: object) -> None:
        self.first: dict[str, tuple[Any, ...]] = {}

    def detect_batch(self, records: Sequence[Record]) -> Iterator[Finding]:
        return iter(())

    def sketch_batch(self, records: Sequence[Record]) -> list[Any]:
        return [(r.shape, r.id, r.file, r.row) for r in records]

    def absorb(self, sketches: list[Any]) -> None:
        for shape, *where in sketches:
            self.first.setdefault(shape, tuple(where))

    def finish(self) -> Iterator[Finding]:
        for shape, (record_id, file, row) in sorted(self.first.items()):
            yield Finding(record_id, file, row, self.name, f"FIRST_{shape.upper()}", preview="")


class ExplodingDetector(Detector):
    """Refuses its input on the worker, as a detector does with bad options or data."""

    name: ClassVar[str] = "exploding"

    def __init__(self, **options: object) -> None:
        pass

    def detect_batch(self, records: Sequence[Record]) -> Iterator[Finding]:
        raise InputError("exploding: this detector refuses every record")


@pytest.mark.usefixtures("ray_instance", "fake_pii")
def test_ray_resumes_an_interrupted_local_scan_with_the_same_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Files the interrupted scan finished are kept and only sketched again; corpus-level
    detectors, distributed (duplicate) or not (shapes), still see the whole corpus in order."""
    monkeypatch.setitem(BUILTIN, "shapes", "tests.engines.test_ray:ShapeOrderDetector")
    data = corpus(tmp_path / "data")
    detectors = ("pii", "duplicate", "shapes")
    with Store(tmp_path / "whole") as store:
        expected = report(store, scan(data, store, workers=1, detectors=detectors))

    from provenance import scan as scan_module

    real = scan_module.batches

    def interrupted(
        records: Iterable[Record], sketch_only: frozenset[str] = frozenset(), **kw: Any
    ) -> Iterator[Batch]:
        for batch in real(records, sketch_only, max_records=5):
            if batch.index == 2:  # batch 1 completed a.jsonl and b/b.jsonl; c.jsonl is cut
                raise KeyboardInterrupt
            yield batch

    with Store(tmp_path / "store") as store:
        monkeypatch.setattr(scan_module, "batches", interrupted)
        with pytest.raises(KeyboardInterrupt):
            scan(data, store, workers=1, detectors=detectors)
        monkeypatch.setattr(scan_module, "batches", real)
        # small chunks: files span several actor calls and Parquet parts
        monkeypatch.setattr("provenance.engines.ray.CHUNK_RECORDS", 7)
        outcome = run_scan(
            str(data), store=store, policy=policy_for_tests(),
            options=ScanOptions(workers=2, detectors=detectors, engine="ray"),
        )  # fmt: skip
        assert outcome.resumed_files == 2
        assert report(store, outcome.scan_id) == expected
    assert expected["summary"]["findings_by_detector"]["shapes"] == 3  # text, alpaca, messages
    assert not list((tmp_path / "store" / "ray").iterdir())  # the Parquet parts are gone


@pytest.mark.usefixtures("ray_instance", "fake_pii")
def test_a_saved_hugging_face_dataset_gives_the_local_report(tmp_path: Path) -> None:
    """Each split is read by a task of its own, through the same `datasets` loading code."""
    datasets = pytest.importorskip("datasets")
    rows = [f"row {i}: write to user{i}@example.com" if i % 7 == 0 else words(i % 40, 60)
            for i in range(120)]  # fmt: skip
    splits = {"train": rows[:100], "test": rows[100:] + rows[:5]}
    saved = tmp_path / "saved"
    datasets.DatasetDict(
        {name: datasets.Dataset.from_dict({"text": texts}) for name, texts in splits.items()}
    ).save_to_disk(str(saved))
    with Store(tmp_path / "store") as store:
        detectors = ("pii", "duplicate")
        expected = report(store, scan(saved, store, workers=1, detectors=detectors))
        actual = report(store, scan(saved, store, workers=2, detectors=detectors, engine="ray"))
    assert actual == expected
    assert {"EMAIL_ADDRESS", "EXACT_DUPLICATE"} <= set(expected["summary"]["findings_by_type"])


@pytest.mark.usefixtures("ray_instance")
def test_a_detector_error_on_a_worker_is_the_users_one_line_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(BUILTIN, "exploding", "tests.engines.test_ray:ExplodingDetector")
    data = write_jsonl(tmp_path / "d.jsonl", [{"text": "hello"}])
    with Store(tmp_path / "store") as store:
        with pytest.raises(InputError, match=r"^exploding: this detector refuses every record$"):
            scan(data, store, detectors=("exploding",), engine="ray")
        (status,) = store.execute("SELECT status FROM scans").fetchone()  # type: ignore[misc]
        assert status == "incomplete"


def test_unknown_engine_and_missing_ray_are_usage_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = write_jsonl(tmp_path / "d.jsonl", [{"text": "hello"}])
    with Store(tmp_path / "store") as store:
        with pytest.raises(InputError, match=r"^unknown engine: spark"):
            scan(data, store, engine="spark")
        monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now fails
        with pytest.raises(InputError, match=r"pip install 'provenance-audit\[ray\]'"):
            scan(data, store, engine="ray")
        assert store.execute("SELECT count(*) FROM scans").fetchone() == (0,)


def test_an_address_nothing_listens_at_fails_in_seconds_with_one_line(tmp_path: Path) -> None:
    """Ray itself would retry for minutes, printing warnings; the scan stops at once."""
    data = write_jsonl(tmp_path / "d.jsonl", [{"text": "hello"}])
    command = [sys.executable, "-m", "provenance", "scan", str(data), "--engine", "ray",
               "--ray-address", "127.0.0.1:1", "--store", str(tmp_path / "store")]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "Error: cannot reach Ray at 127.0.0.1:1: Connection refused"
    ]
