"""The local engine: a process pool over all cores, with a bounded number of batches in flight.

Each worker builds its detectors once (spaCy and presidio load once per process). Results come
back in submission order, so the output is the same for any number of workers; at most a few
batches per worker are in flight, so memory does not grow with the corpus.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor

from provenance.detectors.base import Detector, DetectorSpec
from provenance.engines.base import Batch, BatchResult, process_batch

_WORKER_DETECTORS: list[Detector] = []


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def run_local(
    specs: Sequence[DetectorSpec],
    batches: Iterable[Batch],
    *,
    workers: int,
    local_detectors: Sequence[Detector] | None = None,
) -> Iterator[BatchResult]:
    """Results for every batch, in order. One worker runs in this process, with no pool."""
    if workers <= 1:
        detectors = list(local_detectors) if local_detectors else [s.build() for s in specs]
        for batch in batches:
            yield process_batch(detectors, batch)
        return
    # spawn: workers start clean, with no inherited DuckDB handle or progress thread.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, context, initializer=_init, initargs=(list(specs),)) as pool:
        in_flight: deque[Future[BatchResult]] = deque()
        for batch in batches:
            in_flight.append(pool.submit(_work, batch))
            if len(in_flight) >= 2 * workers:
                yield in_flight.popleft().result()
        while in_flight:
            yield in_flight.popleft().result()


def _init(specs: list[DetectorSpec]) -> None:
    _WORKER_DETECTORS[:] = [spec.build() for spec in specs]


def _work(batch: Batch) -> BatchResult:
    return process_batch(_WORKER_DETECTORS, batch)
