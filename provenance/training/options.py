"""Training settings, kept free of torch so the command line can show their defaults cheaply."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from provenance.errors import InputError


@dataclass(frozen=True)
class TrainOptions:
    """LoRA and optimisation settings; the defaults follow llama-recipes' LoRA defaults."""

    lora_r: int = 8
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    target_modules: tuple[str, ...] = ("q_proj", "v_proj")
    epochs: int = 1
    max_steps: int | None = None  # overrides epochs when set
    learning_rate: float = 2e-4
    batch_size: int = 4
    grad_accum: int = 1
    max_length: int = 512
    seed: int = 42
    qlora: bool | None = None  # None: when a GPU and bitsandbytes are present

    def __post_init__(self) -> None:
        checks = {
            "lora_r": self.lora_r >= 1,
            "lora_alpha": self.lora_alpha >= 1,
            "lora_dropout": 0.0 <= self.lora_dropout < 1.0,
            "target_modules": bool(self.target_modules),
            "epochs": self.epochs >= 1,
            "max_steps": self.max_steps is None or self.max_steps >= 1,
            "learning_rate": self.learning_rate > 0,
            "batch_size": self.batch_size >= 1,
            "grad_accum": self.grad_accum >= 1,
            "max_length": self.max_length >= 8,
        }
        bad = [name for name, ok in checks.items() if not ok]
        if bad:
            raise InputError(f"invalid training option: {', '.join(bad)}")

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["target_modules"] = list(self.target_modules)
        return data
