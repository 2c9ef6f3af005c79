"""Build a tiny Llama-architecture causal LM in OUT_DIR, locally, so the gated training demo and the
tests run with no downloads.

    python examples/make_tiny_llama.py build/tiny-llama [--data examples/dataset] [--seed 0]

What it writes (the layout of a Hugging Face model repository, so `AutoModelForCausalLM` and
`AutoTokenizer.from_pretrained(OUT_DIR)` load it exactly as they load `meta-llama/Llama-2-7b-hf`):

- `config.json`, `model.safetensors`, `generation_config.json`: a `LlamaForCausalLM` with random
  weights (2 layers, hidden size 64), seeded, so the same command gives the same weights;
- `tokenizer.json`, `tokenizer_config.json`: a byte-level BPE tokenizer (`<unk>`, `<s>`, `</s>`)
  trained with `tokenizers` on the text of the example dataset, with the Llama 2 chat template;
- `README.md`: a model card declaring `license: llama2`, so `provenance check` applies the Llama 2
  Community License to it exactly as it would to a real Llama 2 base.

The model knows nothing; it exists so every code path of `provenance train` (loading, chat
template, LoRA, saving, reloading with peft) runs on a laptop CPU in seconds.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

DEFAULT_DATA = Path(__file__).resolve().parent / "dataset"
SPECIAL_TOKENS = ["<unk>", "<s>", "</s>"]
VOCAB_SIZE = 2048

# The Llama 2 chat format ([INST] ... [/INST], <<SYS>> block in the first user turn), as the
# Llama 2 chat models ship it; user and assistant turns must alternate.
LLAMA2_CHAT_TEMPLATE = (
    "{% if messages[0]['role'] == 'system' %}"
    "{% set loop_messages = messages[1:] %}"
    "{% set system_message = messages[0]['content'] %}"
    "{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}"
    "{% for message in loop_messages %}"
    "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}"
    "{% endif %}"
    "{% if loop.index0 == 0 and system_message != false %}"
    "{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}"
    "{% else %}{% set content = message['content'] %}{% endif %}"
    "{% if message['role'] == 'user' %}"
    "{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}"
    "{% elif message['role'] == 'assistant' %}"
    "{{ ' ' + content.strip() + ' ' + eos_token }}"
    "{% endif %}"
    "{% endfor %}"
)

MODEL_CARD = """---
license: llama2
library_name: transformers
pipeline_tag: text-generation
language:
- en
tags:
- llama
- tiny
- random-weights
- provenance-example
---

# tiny-llama (provenance example base model)

A `LlamaForCausalLM` with random weights ({parameters:,} parameters: {layers} layers, hidden size
{hidden}) and a {vocab}-token byte-level BPE tokenizer trained on the text of `examples/dataset`,
built locally by `examples/make_tiny_llama.py` (seed {seed}). It generates noise.

It stands in for `meta-llama/Llama-2-7b-hf` in the `provenance` demo and tests: same architecture
family, same chat format, and this card declares `license: llama2`, so the license check applies
the Llama 2 Community License Agreement and its Acceptable Use Policy to it as it would to the
real base model. No Meta weights are included.
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA,
                        help="folder or file of jsonl text to train the tokenizer on")  # fmt: skip
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    from transformers.utils import logging

    logging.disable_progress_bar()  # one line of output is enough for a tiny model
    build(args.out_dir, args.data, seed=args.seed)
    print(f"wrote a tiny Llama model to {args.out_dir}", file=sys.stderr)
    return 0


def build(out_dir: Path, data: Path = DEFAULT_DATA, *, seed: int = 0) -> Path:
    """Write the tokenizer, the random-weight model and the card to `out_dir`; return it."""
    out_dir.mkdir(parents=True, exist_ok=True)
    tokenizer = train_tokenizer(corpus(data))
    tokenizer.save_pretrained(out_dir)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=176,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=1024,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=False,
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(out_dir)
    parameters = sum(p.numel() for p in model.parameters())
    card = MODEL_CARD.format(
        parameters=parameters,
        layers=config.num_hidden_layers,
        hidden=config.hidden_size,
        vocab=len(tokenizer),
        seed=seed,
    )
    (out_dir / "README.md").write_text(card, encoding="utf-8")
    return out_dir


def train_tokenizer(texts: Iterator[str]) -> PreTrainedTokenizerFast:
    """A byte-level BPE tokenizer (no unknown characters) that adds `<s>` like Llama's does."""
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer)
    bos = tok.token_to_id("<s>")
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A", pair="<s> $A <s> $B", special_tokens=[("<s>", bos)]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<s>",
        eos_token="</s>",
        unk_token="<unk>",
        pad_token="</s>",  # Llama 2 has no pad token; padding is masked out anyway
        chat_template=LLAMA2_CHAT_TEMPLATE,
        model_max_length=1024,
    )


def corpus(data: Path) -> Iterator[str]:
    """Every string value in the jsonl files under `data`, in sorted file order."""
    files = [data] if data.is_file() else sorted(data.rglob("*.jsonl"))
    if not files:
        raise SystemExit(f"no .jsonl files under {data}")
    for path in files:
        with path.open(encoding="utf-8") as stream:
            for line in stream:
                if line.strip():
                    yield from _strings(json.loads(line))


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


if __name__ == "__main__":
    sys.exit(main())
