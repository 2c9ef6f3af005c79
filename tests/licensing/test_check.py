"""`run_check`: the base model's license found and checked, lineage, data licenses, obligations."""

from __future__ import annotations

from pathlib import Path

import pytest

from provenance.errors import InputError
from provenance.licensing.check import run_check
from provenance.licensing.models import resolve_model
from provenance.licensing.usage import Usage, parse_usage

REPO = Path(__file__).resolve().parents[2]
LLAMA2_NOTICE = (
    "Llama 2 is licensed under the LLAMA 2 Community License, "
    "Copyright (c) Meta Platforms, Inc. All Rights Reserved."
)

DECLARED = """
base_model: {model}
usage:
  commercial: {commercial}
  monthly_active_users: {mau}
  distributes_model: {distributes}
  hosted_service: false
  integrated_end_user_product: false
  use_cases: [customer_support]
  outputs_train_other_model: {outputs}
  other_model: {other}
  eu_domiciled: {eu}
  model_name: {name}
"""


def declared(**overrides: object) -> Usage:
    values: dict[str, object] = {
        "model": "meta-llama/Llama-2-7b-hf", "commercial": "true", "mau": 1000,
        "distributes": "true", "outputs": "false", "other": "null", "eu": "false",
        "name": "Llama-Acme-7B",
    }  # fmt: skip
    values.update(overrides)
    return parse_usage(DECLARED.format(**values), "provenance.yaml")


def verdicts(result: object) -> dict[str, str]:
    return {c.id: c.verdict for c in result.clauses}  # type: ignore[attr-defined]


def test_llama2_notice_and_agreement_copy_are_obligations() -> None:
    result = run_check(declared())
    assert result.verdict == "pass" and result.license is not None and result.license.id == "llama2"
    notice = next(o for o in result.obligations if o.id == "llama2-notice")
    assert notice.text == LLAMA2_NOTICE
    assert [(f.name, f.source) for f in notice.files] == [("NOTICE", None)]
    copy = next(o for o in result.obligations if o.id == "llama2-agreement-copy")
    assert [f.name for f in copy.files] == ["LICENSE-llama2.txt", "USE_POLICY-llama2.md"]
    agreement = copy.files[0].read()
    assert agreement is not None and agreement.startswith(b"LLAMA 2 COMMUNITY LICENSE AGREEMENT")


@pytest.mark.parametrize(("mau", "verdict"), [(700_000_000, "pass"), (700_000_001, "fail")])
def test_700m_boundary(mau: int, verdict: str) -> None:
    result = run_check(declared(mau=mau))
    assert verdicts(result)["llama2.mau-700m"] == verdict
    assert result.verdict == verdict


def test_outputs_training_another_llm_llama2_fails_llama31_does_not() -> None:
    llama2 = run_check(declared(outputs="true", other="mistralai/Mistral-7B-v0.1"))
    assert verdicts(llama2)["llama2.no-improve-other-llm"] == "fail"
    assert llama2.verdict == "fail"
    llama31 = run_check(
        declared(model="meta-llama/Llama-3.1-8B", outputs="true", other="mistralai/Mistral-7B-v0.1")
    )
    assert "llama3.1.no-improve-other-llm" not in verdicts(llama31)
    assert verdicts(llama31)["llama3.1.outputs-name-prefix"] == "obligation"
    assert llama31.verdict == "pass"


def test_llama32_vision_model_in_the_eu_fails() -> None:
    vision = run_check(declared(model="meta-llama/Llama-3.2-11B-Vision-Instruct", eu="true"))
    assert verdicts(vision)["llama3.2.eu-multimodal"] == "fail"
    text = run_check(declared(model="meta-llama/Llama-3.2-3B-Instruct", eu="true"))
    assert verdicts(text)["llama3.2.eu-multimodal"] == "not-applicable"


def test_mistral_research_license_with_commercial_use_fails() -> None:
    result = run_check(declared(model="mistralai/Ministral-8B-Instruct-2410"))
    assert result.license is not None and result.license.id == "mistral-research"
    assert verdicts(result)["mistral-research.research-only"] == "fail"
    research = run_check(declared(model="mistralai/Ministral-8B-Instruct-2410", commercial="false"))
    assert verdicts(research)["mistral-research.research-only"] == "review"


def test_missing_fact_is_review_not_pass() -> None:
    result = run_check(Usage(), "meta-llama/Llama-2-7b-hf")
    assert result.verdict == "review"
    assert verdicts(result)["llama2.mau-700m"] == "review"
    assert "pass" not in {c.verdict for c in result.clauses if c.facts}


def test_unknown_model_is_review() -> None:
    result = run_check(declared(model="some-org/some-model"))
    assert result.license is None and result.verdict == "review"
    assert [c.id for c in result.clauses] == ["model.license-known"]


def test_no_base_model_is_an_input_error() -> None:
    with pytest.raises(InputError, match=r"^no base model"):
        run_check(Usage())


def test_local_model_folder_by_card(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("---\nlicense: llama2\n---\n# My Llama\n", encoding="utf-8")
    (tmp_path / "config.json").write_text('{"architectures": ["LlamaForCausalLM"]}')
    found = resolve_model(str(tmp_path))
    assert (found.rule, found.multimodal) == ("llama2", False)


def test_local_model_folder_by_license_text(tmp_path: Path) -> None:
    text = (REPO / "rules/licenses/texts/apache-2.0.txt").read_text(encoding="utf-8")
    (tmp_path / "LICENSE").write_text(text, encoding="utf-8")
    assert resolve_model(str(tmp_path)).rule == "apache-2.0"
    (tmp_path / "LICENSE").write_text(
        (REPO / "rules/licenses/texts/llama3_1.LICENSE.txt").read_text(encoding="utf-8")
    )
    assert resolve_model(str(tmp_path)).rule == "llama3.1"


def test_non_commercial_model_is_judged_by_its_properties(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("---\nlicense: cc-by-nc-4.0\n---\n", encoding="utf-8")
    result = run_check(declared(model=str(tmp_path)))
    assert result.license is not None and result.license.id == "CC-BY-NC-4.0"
    assert verdicts(result)["data-license[CC-BY-NC-4.0].commercial-use"] == "fail"


def test_data_generated_by_llama2_fine_tuning_mistral_fails() -> None:
    usage = parse_usage(
        b"base_model: mistralai/Mistral-7B-v0.1\n"
        b"usage: {commercial: false, distributes_model: false, hosted_service: false}\n"
        b"sources:\n  'gen/*': {generated_by: meta-llama/Llama-2-70b-chat-hf}\n",
        "provenance.yaml",
    )
    result = run_check(usage)
    assert verdicts(result)["llama2.no-improve-other-llm@gen/*"] == "fail"
    assert result.verdict == "fail"


def test_non_commercial_source_in_commercial_use_fails_and_attribution_is_listed() -> None:
    usage = parse_usage(
        b"base_model: meta-llama/Llama-2-7b-hf\nusage: {commercial: true}\nsources:\n"
        b"  'a/*': {license: CC-BY-NC-4.0, origin: Example corpus}\n"
        b"  'b/*': {license: CC-BY-4.0}\n",
        "provenance.yaml",
    )
    result = run_check(usage)
    got = verdicts(result)
    assert got["data-license.commercial-use@a/*"] == "fail"
    assert got["data-license.commercial-use@b/*"] == "pass"
    attributions = [o for o in result.obligations if o.id.startswith("attribution@")]
    assert attributions[0].text.startswith("Credit Example corpus (CC-BY-NC-4.0) in the datasheet")
    # the NOTICE file carries a credit line, not the instruction
    (notice,) = attributions[0].files
    assert notice.name == "NOTICE"
    assert notice.read() == (
        b"This model was trained on data from Example corpus, licensed under CC-BY-NC-4.0; "
        b"the data was modified (filtered and redacted) for training.\n"
    )


def test_json_has_exactly_the_contract_keys() -> None:
    data = run_check(declared()).to_dict()
    assert list(data) == ["schema", "model", "license", "verdict", "clauses", "obligations"]
    assert data["schema"] == "provenance.check/v1" and data["license"] == "llama2"
    assert list(data["clauses"][0]) == ["id", "section", "verdict", "quote", "facts", "message"]
    assert list(data["obligations"][0]) == ["id", "text", "files"]
    notice = {"id": "llama2-notice", "text": LLAMA2_NOTICE, "files": ["NOTICE"]}
    assert notice in data["obligations"]
