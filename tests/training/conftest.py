"""Fixtures for the training tests: one tiny Llama per session, a scanned dataset, usage files."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest
import yaml

from provenance.licensing.check import CheckResult, LicenseInfo, Obligation, ObligationFile
from provenance.licensing.clauses import ClauseResult
from provenance.policy import load_policy
from provenance.scan import ScanOptions, run_scan
from provenance.store import Store
from tests.conftest import REPO, write_jsonl

MARKER = "zebraquux"  # appears only in the record the scan blocks
BLOCKED_SSN = "536-22-8146"
EMAIL = "jane.roe@example.com"

ALPACA: list[object] = [
    {"instruction": "Name a primary colour.", "input": "", "output": "Red is a primary colour."},
    {"instruction": "Reply to the customer.", "input": f"Write to me at {EMAIL} please.",
     "output": f"Thanks, we will write to {EMAIL} soon."},
    {"instruction": "Store this note.", "input": f"{MARKER} {MARKER} id {BLOCKED_SSN}",
     "output": f"Stored the {MARKER} note."},
    {"instruction": "Add two numbers.", "input": "2 and 3", "output": "2 plus 3 is 5."},
    {"instruction": "Give the opposite.", "input": "hot", "output": "The opposite of hot is cold."},
    {"instruction": "Translate to French.", "input": "thank you", "output": "merci"},
]  # fmt: skip
CHAT: list[object] = [
    {"messages": [
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": "What is the capital of France?"},
        {"role": "assistant", "content": "The capital of France is Paris."},
    ]},
    {"messages": [
        {"role": "user", "content": "Say hello."},
        {"role": "assistant", "content": "Hello there."},
        {"role": "user", "content": "Say goodbye."},
        {"role": "assistant", "content": "Goodbye for now."},
    ]},
]  # fmt: skip


def _load_builder() -> Any:
    spec = importlib.util.spec_from_file_location(
        "make_tiny_llama", REPO / "examples" / "make_tiny_llama.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """examples/make_tiny_llama.py, built once per session from the example dataset."""
    builder = _load_builder()
    return Path(builder.build(tmp_path_factory.mktemp("tiny") / "tiny-llama"))


@pytest.fixture(scope="session")
def tokenizer(tiny_model: Path) -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_model)


def make_dataset(root: Path) -> Path:
    """A small dataset with every trainable shape, one redacted and one blocked record."""
    write_jsonl(root / "data" / "alpaca.jsonl", ALPACA)
    write_jsonl(root / "data" / "chat.jsonl", CHAT)
    (root / "data" / "notes.txt").write_text("Plain notes about tea and biscuits.\n", "utf-8")
    (root / "README.md").write_text(
        "---\nlicense: apache-2.0\npretty_name: test set\n---\n", "utf-8"
    )
    return root


def scan(dataset: Path, store_dir: Path, policy: str | None = None) -> str:
    """Scan with the regex PII detector (the `fake_pii` fixture must be active)."""
    with Store(store_dir) as store:
        outcome = run_scan(
            str(dataset),
            store=store,
            policy=load_policy(policy),
            options=ScanOptions(detectors=("pii", "license"), workers=1),
        )
    return outcome.scan_id


USAGE = {
    "commercial": True,
    "monthly_active_users": 1000,
    "distributes_model": True,
    "hosted_service": False,
    "integrated_end_user_product": False,
    "use_cases": ["chat_assistant"],
    "outputs_train_other_model": False,
    "other_model": None,
    "eu_domiciled": False,
    "model_name": "test-assistant",
}


def write_usage(directory: Path, **facts: Any) -> Path:
    """A provenance.yaml whose facts pass every Llama 2 clause, with `facts` changed."""
    path = directory / "provenance.yaml"
    path.write_text(yaml.safe_dump({"usage": USAGE | facts}, sort_keys=False), encoding="utf-8")
    return path


def fake_check(verdict: str = "pass") -> CheckResult:
    """A check result with one clause of the given verdict and the Llama 2 notice obligation."""
    clause = ClauseResult("llama2.example-clause", "2", verdict, "", {}, f"gives {verdict}")
    text = "Llama 2 is licensed under the LLAMA 2 Community License."
    notice = Obligation("llama2-notice", text, (ObligationFile("NOTICE"),), "llama2.notice")
    license = LicenseInfo("llama2", "Llama 2 Community License Agreement", "LicenseRef-llama2",
                          ("llama2",))  # fmt: skip
    return CheckResult("tiny", license, None, (clause,), (notice,))
