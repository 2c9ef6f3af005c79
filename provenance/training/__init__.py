"""Gated LoRA training: the gate, the training data, the LoRA run (`provenance train`).

- `gate`: refuses unless the dataset's latest complete scan still matches the files, the policy
  and the license check; returns what may be trained on.
- `data`: re-reads, redacts, formats and tokenises exactly those records.
- `lora`: loads the base model (QLoRA when possible) and trains a LoRA adapter with peft.
- `run`: the whole `provenance train` flow, ending with the release bundle (`provenance.bundle`).

Names are imported on first use, so `provenance --help` does not pay for the store or torch.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "Clearance": "provenance.training.gate",
    "GateOptions": "provenance.training.gate",
    "open_gate": "provenance.training.gate",
    "TrainOptions": "provenance.training.options",
    "TrainOutcome": "provenance.training.run",
    "TrainRequest": "provenance.training.run",
    "train": "provenance.training.run",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'provenance.training' has no attribute {name!r}")
    return getattr(import_module(_EXPORTS[name]), name)
