"""provenance: audit fine-tuning data, check model licenses, gate training.

The small public API, loaded on first use so `import provenance` stays cheap:

    from provenance import Store, ScanOptions, load_policy, load_report, run_scan

    with Store(".provenance") as store:
        outcome = run_scan("data/", store=store, policy=load_policy(), options=ScanOptions())
        report = load_report(store, outcome.scan_id)
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "Store": "provenance.store",
    "ScanOptions": "provenance.scan",
    "ScanOutcome": "provenance.scan",
    "run_scan": "provenance.scan",
    "load_policy": "provenance.policy",
    "load_report": "provenance.report",
    "open_dataset": "provenance.sources.base",
    "run_check": "provenance.licensing.check",
    "load_usage": "provenance.licensing.usage",
}
__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'provenance' has no attribute {name!r}")
