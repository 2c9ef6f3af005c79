"""`provenance train` end to end on the tiny Llama, then `provenance verify` on its bundle.

One training run per module (the expensive part), shared by the tests that read its bundle.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import torch

from provenance.bundle import MANIFEST, record_digest
from provenance.cli import main
from provenance.store import Store
from provenance.verify import verify_bundle
from tests.training.conftest import BLOCKED_SSN, MARKER, make_dataset, scan, write_usage

pytestmark = pytest.mark.slow

LLAMA2_NOTICE = (
    "Llama 2 is licensed under the LLAMA 2 Community License, Copyright (c) Meta Platforms, Inc. "
    "All Rights Reserved.\n"
)
TRAIN_ARGS = ["--max-steps", "24", "--batch-size", "4", "--learning-rate", "5e-3",
              "--max-length", "128", "--target-modules", "q_proj,v_proj,lm_head", "-q"]  # fmt: skip


@dataclass
class Trained:
    dataset: Path
    store: Path
    bundle: Path
    model: Path
    batches: list[torch.Tensor] = field(default_factory=list)

    @property
    def manifest(self) -> dict[str, Any]:
        return dict(json.loads((self.bundle / MANIFEST).read_text(encoding="utf-8")))


def run_cli(*args: str) -> int:
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    return int(exit_info.value.code or 0)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, tiny_model: Path) -> Iterator[Trained]:
    """Scan the test dataset, then train on it with --cleared-only, recording every batch.

    The license check is the real one: ./provenance.yaml declares a use that passes every
    Llama 2 clause, and the tiny model's card says `license: llama2`.
    """
    import provenance.training.lora as lora

    root = tmp_path_factory.mktemp("train")
    state = Trained(make_dataset(root / "ds"), root / "store", root / "bundle", tiny_model)
    collate = lora.collate

    def recording_collate(batch: Any, pad: int) -> tuple[torch.Tensor, ...]:
        tensors = collate(batch, pad)
        state.batches.append(tensors[0].clone())
        return tensors

    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(__import__("provenance.detectors").detectors.BUILTIN, "pii",
                      "tests.fakes:RegexPiiDetector")  # fmt: skip
        patch.setenv("PROVENANCE_STORE", str(state.store))
        patch.chdir(root)
        write_usage(root)
        patch.setattr(lora, "collate", recording_collate)
        scan(state.dataset, state.store)
        code = run_cli("train", str(state.dataset), "--cleared-only", "--base-model",
                       str(tiny_model), "-o", str(state.bundle), *TRAIN_ARGS)  # fmt: skip
        assert code == 0
        patch.setattr(lora, "collate", collate)
        yield state


def test_loss_goes_down(trained: Trained) -> None:
    losses = trained.manifest["training"]["result"]["losses"]
    assert len(losses) == 24
    assert sum(losses[-4:]) / 4 < sum(losses[:4]) / 4 - 0.1


def test_blocked_record_never_reaches_a_training_batch(trained: Trained, tokenizer: Any) -> None:
    assert trained.batches
    decoded = [tokenizer.decode(row) for batch in trained.batches for row in batch]
    assert decoded and not any(MARKER in text or BLOCKED_SSN in text for text in decoded)
    assert any("<EMAIL_ADDRESS>" in text for text in decoded)


def test_adapter_loads_back_with_peft_and_generates(trained: Trained, tokenizer: Any) -> None:
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(trained.model)
    model = PeftModel.from_pretrained(base, str(trained.bundle))
    lora_b = [p for name, p in model.named_parameters() if "lora_B" in name]
    assert lora_b and any(float(p.abs().sum()) > 0 for p in lora_b)  # trained, not the zero init
    inputs = tokenizer("The capital of France is", return_tensors="pt")
    out = model.generate(**inputs, min_new_tokens=5, max_new_tokens=5, do_sample=False)
    assert out.shape[1] == inputs["input_ids"].shape[1] + 5


def test_model_card_parses_with_the_required_keys(trained: Trained) -> None:
    from huggingface_hub import ModelCard

    card = ModelCard.load(trained.bundle / "README.md")
    data = card.data.to_dict()
    assert data["base_model"] == str(trained.model)
    assert data["library_name"] == "peft"
    assert data["license"] == "llama2"
    assert data["pipeline_tag"] == "text-generation"
    assert data["datasets"] == [str(trained.dataset)]
    assert "lora" in data["tags"]
    assert "## Training data" in card.text and "(DATASHEET.md)" in card.text


def test_record_digest_equals_the_cleared_records_of_the_scan(trained: Trained) -> None:
    with Store(trained.store, create=False, read_only=True) as store:
        ids = [r["id"] for r in store.records(store.scan().scan_id)
               if r["status"] in ("cleared", "redacted")]  # fmt: skip
    records = trained.manifest["records"]
    assert records["digest"] == record_digest(ids)
    assert records["count"] == len(ids) == 8
    assert records["by_status"] == {"cleared": 7, "redacted": 1}


def test_bundle_files(trained: Trained) -> None:
    from provenance.licensing.schema import load_rules

    names = {p.name for p in trained.bundle.iterdir()}
    assert names == {"adapter_config.json", "adapter_model.safetensors", "README.md",
                     "DATASHEET.md", "audit-report.json", "NOTICE", "LICENSE-llama2.txt",
                     "USE_POLICY-llama2.md", MANIFEST}  # fmt: skip
    assert (trained.bundle / "NOTICE").read_text() == LLAMA2_NOTICE
    texts = load_rules().texts
    agreement = (texts / "llama2.LICENSE.txt").read_bytes()
    assert (trained.bundle / "LICENSE-llama2.txt").read_bytes() == agreement
    assert (trained.bundle / "USE_POLICY-llama2.md").read_bytes() == (
        texts / "llama2.USE_POLICY.md"
    ).read_bytes()
    sheet = (trained.bundle / "DATASHEET.md").read_text()
    sections = ("Motivation", "Composition", "Collection process",
                "Preprocessing, cleaning, labeling", "Uses", "Distribution",
                "Maintenance")  # fmt: skip
    for section in sections:
        assert f"\n## {section}\n" in sheet
    assert "Not provided." in sheet and "2 EMAIL_ADDRESS" in sheet and "1 US_SSN" in sheet
    report = json.loads((trained.bundle / "audit-report.json").read_text())
    assert report["schema"] == "provenance.scan/v1"
    assert {r["status"] for r in report["records"]} == {"cleared", "redacted"}
    pii = [f["type"] for f in report["findings"] if f["detector"] == "pii"]
    assert pii == ["EMAIL_ADDRESS", "EMAIL_ADDRESS"]
    assert {f["type"] for f in report["findings"] if f["detector"] == "license"} == {
        "LICENSE_ATTRIBUTION"
    }
    assert report["training"]["excluded_by_status"] == {"blocked": 1}
    manifest = trained.manifest
    assert set(manifest["files"]) == names - {MANIFEST}
    assert manifest["scan"]["policy"]["source"] == "builtin:policy/default.yaml"
    assert manifest["base_model"]["license"]["hub_license"] == "llama2"
    assert manifest["check"]["verdict"] == "pass"
    assert {o["id"] for o in manifest["check"]["obligations"]} == {
        "llama2-agreement-copy", "llama2-notice", "llama2-acceptable-use",
    }  # fmt: skip
    assert manifest["training"]["arguments"]["target_modules"] == ["q_proj", "v_proj", "lm_head"]


def test_verify_passes_and_recomputes_the_digest_from_the_store(trained: Trained) -> None:
    result = verify_bundle(trained.bundle)
    assert result.ok, result.problems
    assert any("in the store" in c for c in result.checked)
    assert run_cli("verify", str(trained.bundle), "-q") == 0


def test_one_changed_byte_in_any_bundle_file_fails_verify(trained: Trained, tmp_path: Path) -> None:
    for path in sorted(trained.bundle.iterdir()):
        copy = tmp_path / path.name
        shutil.copytree(trained.bundle, copy)
        target = copy / path.name
        data = bytearray(target.read_bytes())
        data[len(data) // 2] ^= 0x01
        target.write_bytes(bytes(data))
        result = verify_bundle(copy)
        assert not result.ok, path.name
        assert any(p.startswith(path.name) for p in result.problems), result.problems


def test_added_or_missing_file_fails_verify(
    trained: Trained, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = tmp_path / "bundle"
    shutil.copytree(trained.bundle, copy)
    (copy / "NOTICE").unlink()
    (copy / "extra.txt").write_text("x")
    assert run_cli("verify", str(copy)) == 1
    out = capsys.readouterr().out.splitlines()
    assert out == ["mismatch: NOTICE: missing", f"mismatch: extra.txt: not listed in {MANIFEST}"]


def test_include_blocked_and_accepted_review_are_stated(
    trained: Trained, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROVENANCE_STORE", str(trained.store))
    monkeypatch.chdir(tmp_path)
    write_usage(tmp_path, monthly_active_users=None)  # the 700M-user clause needs review
    out = tmp_path / "with-blocked"
    code = run_cli("train", str(trained.dataset), "--include-blocked", "--accept-review",
                   "--base-model", str(trained.model), "-o", str(out), "--max-steps", "1",
                   "-q")  # fmt: skip
    assert code == 0
    card = (out / "README.md").read_text()
    assert "**WARNING: trained on 1 records the audit BLOCKED** (`--include-blocked`)" in card
    assert "**License clauses needing review were accepted** (`--accept-review`)" in card
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["gate"]["include_blocked"] is True
    assert manifest["check"]["accepted_review"] == ["llama2.mau-700m"]
    assert manifest["records"]["by_status"] == {"blocked": 1, "cleared": 7, "redacted": 1}
    assert verify_bundle(out).ok


def test_training_is_deterministic_on_cpu(trained: Trained, tokenizer: Any) -> None:
    from transformers import AutoModelForCausalLM

    from provenance.training.data import Example
    from provenance.training.lora import train_lora
    from provenance.training.options import TrainOptions

    ids = tokenizer("<s>### User:\nHi\n\n### Assistant:\nHello</s>", add_special_tokens=False)
    example = Example("id", "f", 0, ids["input_ids"], ids["input_ids"])
    options = TrainOptions(max_steps=3, batch_size=2, seed=7, learning_rate=1e-2)
    runs = []
    for _ in range(2):
        model = AutoModelForCausalLM.from_pretrained(trained.model)
        peft_model, result = train_lora(model, [example] * 4, options, pad_token_id=2)
        weights = {k: v.clone() for k, v in peft_model.state_dict().items() if "lora" in k}
        runs.append((result.losses, weights))
    assert runs[0][0] == runs[1][0]
    assert all(torch.equal(runs[0][1][k], runs[1][1][k]) for k in runs[0][1])
