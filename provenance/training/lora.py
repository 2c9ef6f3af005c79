"""The LoRA run: load the base model, wrap it with peft, train on the prepared examples, save.

The loop is a plain torch loop rather than `transformers.Trainer`: it is short enough to read in
one sitting, it has no dataloader worker processes, callbacks or reporting integrations that
could reorder batches or reach the network, and every source of randomness (LoRA init, dropout,
shuffling) comes from one seed, so a CPU run is repeatable bit for bit. The loss is the sum over
learned tokens divided by the learned tokens of the whole accumulation window, which makes
gradient accumulation exactly equivalent to a larger batch, and tolerates examples whose labels
are all masked.

QLoRA (4-bit NF4 base weights) is used when a CUDA GPU and bitsandbytes are both present, unless
turned off; elsewhere the base model is loaded in float32 on the CPU (bfloat16 on a GPU).
"""

from __future__ import annotations

import importlib.util
import math
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from provenance.errors import InputError
from provenance.training.data import IGNORE_INDEX, Example
from provenance.training.options import TrainOptions

# (optimizer steps done, steps in all, loss of the last step)
TrainProgress = Callable[[int, int, float], None]


@dataclass
class TrainResult:
    """What the run did, for the manifest and the model card."""

    steps: int
    examples_seen: int
    epochs: float
    losses: list[float] = field(default_factory=list)  # one per optimizer step
    seconds: float = 0.0
    device: str = "cpu"
    quantized: bool = False
    trainable_parameters: int = 0
    total_parameters: int = 0

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["first_loss"] = self.losses[0] if self.losses else None
        data["final_loss"] = self.losses[-1] if self.losses else None
        return data


def quiet_libraries() -> None:
    """Silence transformers' and the hub's progress bars and advice: the command has its own."""
    from huggingface_hub.utils import disable_progress_bars
    from transformers.utils import logging

    warnings.filterwarnings("ignore", category=FutureWarning, module=r"(transformers|peft)\b")
    logging.set_verbosity_error()
    logging.disable_progress_bar()
    disable_progress_bars()


def use_qlora(requested: bool | None) -> bool:
    """Whether to load the base in 4 bits: asked for, or by default when it can be done."""
    available = torch.cuda.is_available() and importlib.util.find_spec("bitsandbytes") is not None
    if requested and not available:
        raise InputError("--qlora needs a CUDA GPU and the bitsandbytes package")
    return available if requested is None else requested


def load_tokenizer(base_model: str) -> Any:
    """The base model's tokenizer, from a hub id (online or from the cache) or a local folder."""
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(base_model)
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot load the tokenizer of {base_model}: {_first_line(exc)}") from None


def load_model(base_model: str, *, qlora: bool) -> Any:
    """The base causal LM, as `AutoModelForCausalLM.from_pretrained` loads it for this device."""
    from transformers import AutoModelForCausalLM

    kwargs: dict[str, Any] = {}
    if qlora:
        from transformers import BitsAndBytesConfig

        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=torch.bfloat16,
        )
        kwargs["device_map"] = {"": 0}
    elif torch.cuda.is_available():
        kwargs["dtype"] = torch.bfloat16
    else:
        kwargs["dtype"] = torch.float32
    try:
        model = AutoModelForCausalLM.from_pretrained(base_model, **kwargs)
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot load base model {base_model}: {_first_line(exc)}") from None
    if qlora:
        from peft import prepare_model_for_kbit_training

        model = prepare_model_for_kbit_training(model)
    elif torch.cuda.is_available():
        model.to("cuda")  # type: ignore[arg-type]
    return model


def train_lora(
    model: Any,
    examples: Sequence[Example],
    options: TrainOptions,
    *,
    pad_token_id: int,
    progress: TrainProgress | None = None,
) -> tuple[Any, TrainResult]:
    """Wrap `model` with a LoRA adapter and train it; returns the peft model and the result."""
    from peft import LoraConfig, get_peft_model

    if not examples:
        raise InputError("no training examples")
    torch.manual_seed(options.seed)
    config = LoraConfig(
        r=options.lora_r,
        lora_alpha=options.lora_alpha,
        lora_dropout=options.lora_dropout,
        # "all-linear" is peft's shorthand for every linear layer but the output head
        target_modules=(
            "all-linear"
            if options.target_modules == ("all-linear",)
            else list(options.target_modules)
        ),
        bias="none",
        task_type="CAUSAL_LM",
    )
    try:
        peft_model = get_peft_model(model, config)
    except ValueError as exc:  # e.g. target modules the model does not have
        raise InputError(f"cannot add LoRA to the base model: {_first_line(exc)}") from None
    device = next(peft_model.parameters()).device
    trainable = [p for p in peft_model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=options.learning_rate, weight_decay=0.0)
    windows_per_epoch = math.ceil(len(examples) / (options.batch_size * options.grad_accum))
    total = options.max_steps or options.epochs * windows_per_epoch
    # linear decay to zero over the run: the common LoRA recipe, and no warm-up to tune
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0 - step / total)
    generator = torch.Generator().manual_seed(options.seed)
    result = TrainResult(
        steps=0,
        examples_seen=0,
        epochs=0.0,
        device=str(device),
        quantized=bool(getattr(model, "is_loaded_in_4bit", False)),
        trainable_parameters=sum(p.numel() for p in trainable),
        total_parameters=sum(p.numel() for p in peft_model.parameters()),
    )
    started = time.perf_counter()
    peft_model.train()
    while result.steps < total:
        order = torch.randperm(len(examples), generator=generator).tolist()
        batches = [
            order[i : i + options.batch_size] for i in range(0, len(order), options.batch_size)
        ]
        for w in range(0, len(batches), options.grad_accum):
            window = [[examples[i] for i in batch] for batch in batches[w : w + options.grad_accum]]
            loss = _step(peft_model, window, pad_token_id, device)
            torch.nn.utils.clip_grad_norm_(trainable, 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            result.steps += 1
            result.examples_seen += sum(len(b) for b in window)
            result.losses.append(loss)
            if progress:
                progress(result.steps, total, loss)
            if result.steps >= total:
                break
    result.epochs = round(result.examples_seen / len(examples), 4)
    result.seconds = time.perf_counter() - started
    peft_model.eval()
    return peft_model, result


def _step(model: Any, window: list[list[Example]], pad_token_id: int, device: Any) -> float:
    """Forward and backward over one accumulation window; returns its mean token loss."""
    learned = sum(
        1 for batch in window for ex in batch for label in ex.labels[1:] if label != IGNORE_INDEX
    )
    denominator = max(learned, 1)
    total = 0.0
    for batch in window:
        input_ids, attention, labels = collate(batch, pad_token_id)
        logits = model(
            input_ids=input_ids.to(device), attention_mask=attention.to(device)
        ).logits.float()
        # position t predicts token t + 1
        loss_sum = torch.nn.functional.cross_entropy(
            logits[:, :-1].reshape(-1, logits.size(-1)),
            labels[:, 1:].reshape(-1).to(device),
            ignore_index=IGNORE_INDEX,
            reduction="sum",
        )
        (loss_sum / denominator).backward()
        total += float(loss_sum.detach())
    return total / denominator


def collate(batch: Sequence[Example], pad_token_id: int) -> tuple[torch.Tensor, ...]:
    """Right-padded input ids, attention mask and labels (padding is never learned)."""
    width = max(len(ex.input_ids) for ex in batch)
    input_ids = torch.full((len(batch), width), pad_token_id, dtype=torch.long)
    attention = torch.zeros((len(batch), width), dtype=torch.long)
    labels = torch.full((len(batch), width), IGNORE_INDEX, dtype=torch.long)
    for i, ex in enumerate(batch):
        n = len(ex.input_ids)
        input_ids[i, :n] = torch.tensor(ex.input_ids, dtype=torch.long)
        attention[i, :n] = 1
        labels[i, :n] = torch.tensor(ex.labels, dtype=torch.long)
    return input_ids, attention, labels


def save_adapter(peft_model: Any, directory: Path) -> list[Path]:
    """Write the adapter (config + safetensors weights) and return the files peft wrote."""
    before = set(directory.rglob("*")) if directory.exists() else set()
    # the LoRA matrices only: never a copy of the base model's (licensed) embedding or head weights
    peft_model.save_pretrained(str(directory), safe_serialization=True, save_embedding_layers=False)
    return sorted(p for p in directory.rglob("*") if p.is_file() and p not in before)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
