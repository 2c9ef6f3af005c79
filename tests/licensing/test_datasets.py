"""Dataset license resolution: card YAML and text, license files, records, manifest, combining."""

from __future__ import annotations

from pathlib import Path

import pytest

from provenance.licensing.datasets import (
    Evidence,
    EvidenceReader,
    assess,
    combine,
    resolve_path,
)
from provenance.licensing.usage import parse_usage

CARDS = Path(__file__).resolve().parent.parent / "data" / "cards"
READER = EvidenceReader()


def card(text: str):
    return combine(READER.card_text(text, "README.md"))


# -- license values ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "spdx"),
    [
        ("cc-by-nc-4.0", "CC-BY-NC-4.0"),
        ("MIT", "MIT"),
        ("apache-2.0", "Apache-2.0"),
        ("Apache License 2.0", "Apache-2.0"),
        ("apache-2.0 OR mit", "Apache-2.0 OR MIT"),
        ("gpl-3.0", "GPL-3.0-only"),
        ("gfdl", "GFDL-1.3-or-later"),
        ("odc-by", "ODC-By-1.0"),
        ("openrail", "LicenseRef-openrail"),
        ("creativeml-openrail-m", "LicenseRef-creativeml-openrail-m"),
        ("llama2", "LicenseRef-scancode-llama-2-license-2023"),
        ("CC_BY_4p0", "CC-BY-4.0"),  # bigbio_license_shortname
        ("Creative Commons Attribution 2.5 South Africa License", "CC-BY-2.5"),
        ("CC BY-NC-SA 4.0", "CC-BY-NC-SA-4.0"),
        ("https://creativecommons.org/licenses/by-nd/3.0/", "CC-BY-ND-3.0"),
    ],
)
def test_license_values(value: str, spdx: str) -> None:
    assert READER.names.value(value)[0] == spdx


@pytest.mark.parametrize("value", ["other", "unknown", "cc", "other-my-license", "", "MIXED"])
def test_values_that_name_no_license(value: str) -> None:
    assert READER.names.value(value)[0] is None


def test_mit_lincoln_laboratory_is_not_the_mit_license() -> None:
    assert READER.names.mentions("At MIT Lincoln Laboratory we built a translator.") == []


# -- cards -------------------------------------------------------------------------------------


def test_license_list_is_and_most_restrictive() -> None:
    res = card("---\nlicense:\n- cc-by-sa-4.0\n- cc-by-nc-4.0\n---\n# Data\n")
    assert res.spdx == "CC-BY-NC-4.0 AND CC-BY-SA-4.0"
    assert res.properties.commercial is False and res.properties.share_alike is True
    assert res.conflict is None  # one list declaring two licenses is not a conflict
    assert res.evidence[0].line == 3 and res.evidence[0].text == "license: cc-by-sa-4.0"


def test_misspelt_licence_key() -> None:
    assert card("---\nlicence: mit\n---\n").spdx == "MIT"


def test_other_with_license_name() -> None:
    res = card("---\nlicense: other\nlicense_name: llama2\n---\n")
    assert res.spdx == "LicenseRef-scancode-llama-2-license-2023" and not res.unknown


def test_other_alone_is_unknown() -> None:
    res = card("---\nlicense: other\n---\n## Licensing Information\n\n[More Information Needed]\n")
    assert res.unknown and res.spdx is None


def test_other_is_resolved_by_a_license_named_elsewhere() -> None:
    res = card("---\nlicense: other\n---\n### Licensing Information\n\nReleased under CC BY 4.0.\n")
    assert res.spdx == "CC-BY-4.0"


def test_no_front_matter_and_free_text_section() -> None:
    text = (
        "# Corpus\n\nSome words.\n\n## License\n\n"
        "The Creative Commons Attribution-NonCommercial 4.0 International License.\n"
    )
    res = card(text)
    assert res.spdx == "CC-BY-NC-4.0"
    assert res.evidence[0].origin == "card-text" and res.evidence[0].line == 7


def test_sentence_outside_a_section() -> None:
    res = card("It is available under the Creative Commons Attribution-ShareAlike License.\n")
    assert res.spdx == "CC-BY-SA-4.0"
    assert "version not stated" in res.evidence[0].note


def test_field_descriptions_are_not_license_statements() -> None:
    text = "## Data Fields\n\n- `license`: A field, one of 'cc0', 'cc-by-nc', 'cc-by'.\n"
    assert card(text).unknown


def test_all_rights_reserved_only_when_nothing_else_is_named() -> None:
    nintendo = card("## License\n\nAll the creative right are property of Nintendo\n")
    assert nintendo.properties.grant is False
    mit = card("## License\n\nMIT License. Copyright (c) 2020 X. All rights reserved.\n")
    assert mit.spdx == "MIT" and mit.properties.grant


def test_card_and_license_file_conflict_takes_the_most_restrictive() -> None:
    evidence = READER.card_text("---\nlicense: mit\n---\n", "README.md") + READER.license_text(
        "Attribution-NonCommercial 4.0 International\n\nsee https://creativecommons.org/licenses/by-nc/4.0/",
        "LICENSE",
    )
    res = combine(evidence)
    assert res.spdx == "CC-BY-NC-4.0 AND MIT"
    assert res.properties.commercial is False
    assert res.conflict is not None and "the license file says CC-BY-NC-4.0" in res.conflict
    types = [a.type for a in assess(res, commercial=True)]
    assert "LICENSE_CONFLICT" in types and "LICENSE_NON_COMMERCIAL" in types


def test_generated_by_statement_in_a_card_is_lineage() -> None:
    res = card("---\nlicense: cc-by-4.0\n---\nThe answers were generated with GPT-4.\n")
    assert [e.license for e in res.lineage] == ["LicenseRef-openai-terms"]
    assert res.properties.commercial is False  # the Data Provenance Initiative's reading
    assert "LICENSE_LINEAGE" in [a.type for a in assess(res, commercial=False)]


# -- real cards (tests/data/cards; see its README for where they come from) --------------------


@pytest.mark.parametrize(
    ("name", "spdx", "unknown"),
    [
        ("BramVanroy_ud_dutch_alpino.md", "CC-BY-SA-4.0", False),
        ("asaxena1990_NSME-COM.md", "CC-BY-NC-SA-4.0", False),
        ("bigbio_an_em.md", "CC-BY-SA-3.0", False),
        ("afrikaans_ner_corpus.md", "CC-BY-2.5", False),
        ("Datatang_3D_Face_Anti_Spoofing_Data.md", "LicenseRef-all-rights-reserved", False),
        ("HuggingFaceM4_TGIF.md", "LicenseRef-research-only", False),
        ("Amir13_ncbi-persian.md", None, True),
        ("Bingsu_national_library_of_korea_book_info.md", "LicenseRef-KOGL-Type-1", False),
        ("NazaGara_wikiner-es.md", "CC0-1.0", False),
        ("Rocinante2000_Day-of-the-Dead.md", "MIT", False),
        ("TonyKYLim_CysPresso.md", "MIT", False),
        ("facebook_voxpopuli.md", None, True),  # `other` is the EP legal notice, not named
        ("olivierdehaene_xkcd.md", "CC-BY-NC-2.5 AND CC-BY-SA-3.0", False),
        ("tushar117_xalign.md", "CC-BY-NC-SA-4.0 AND MIT", False),
    ],
)
def test_real_cards(name: str, spdx: str | None, unknown: bool) -> None:
    res = resolve_path(CARDS / name)
    assert (res.spdx, res.unknown) == (spdx, unknown)
    assert all(e.file == name and e.text for e in res.evidence)


def test_commercial_license_card_grants_nothing() -> None:
    res = resolve_path(CARDS / "Datatang_3D_Face_Anti_Spoofing_Data.md")
    assert [a.type for a in assess(res, commercial=False)] == ["LICENSE_UNKNOWN"]


# -- folders, manifests, records ---------------------------------------------------------------


def test_folder_with_card_and_license_file(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("---\nlicense: apache-2.0\n---\n", encoding="utf-8")
    (tmp_path / "LICENSE").write_text(
        (Path(__file__).resolve().parents[2] / "rules/licenses/texts/apache-2.0.txt").read_text(),
        encoding="utf-8",
    )
    res = resolve_path(tmp_path)
    assert res.spdx == "Apache-2.0" and res.conflict is None
    assert {e.origin for e in res.evidence} == {"card", "license-file"}


def test_missing_path_is_an_input_error(tmp_path: Path) -> None:
    from provenance.errors import InputError

    with pytest.raises(InputError, match="no such file or directory"):
        resolve_path(tmp_path / "nope")


def test_manifest_generated_and_derived(tmp_path: Path) -> None:
    usage = parse_usage(
        b'sources:\n  "gen/*.jsonl":\n    generated_by: meta-llama/Llama-2-70b-chat-hf\n'
        b'  "alp/*":\n    derived_from: tatsu-lab/alpaca\n',
        "provenance.yaml",
    )
    gen, alp = usage.sources
    gen_res = combine(READER.manifest(gen, usage))
    assert gen_res.spdx == "LicenseRef-scancode-llama-2-license-2023"
    assert gen_res.lineage and gen_res.lineage[0].origin == "generated"
    alp_res = combine(READER.manifest(alp, usage))
    assert alp_res.spdx == "CC-BY-NC-4.0 AND LicenseRef-openai-terms"


def test_derived_from_a_local_folder(tmp_path: Path) -> None:
    parent = tmp_path / "parent"
    parent.mkdir()
    (parent / "README.md").write_text("---\nlicense: cc-by-sa-4.0\n---\n", encoding="utf-8")
    (tmp_path / "provenance.yaml").write_text("sources:\n  '*': {derived_from: parent}\n")
    from provenance.licensing.usage import load_usage

    usage = load_usage(tmp_path / "provenance.yaml")
    res = combine(READER.manifest(usage.sources[0], usage))
    assert res.spdx == "CC-BY-SA-4.0" and res.evidence[0].origin == "derived"


def test_unknown_marker_is_resolved_by_a_record_license() -> None:
    evidence = READER.card_text("---\nlicense: unknown\n---\n", "README.md")
    spdx, _ = READER.names.value("mit")
    record = Evidence("record", "(record field)", None, "license: mit", spdx, "record")
    assert combine(evidence).unknown
    assert combine([*evidence, record]).spdx == "MIT"


@pytest.mark.parametrize(
    ("card_text", "commercial", "types"),
    [
        ("license: cc0-1.0", True, []),
        ("license: cc-by-4.0", True, ["LICENSE_ATTRIBUTION"]),
        ("license: cc-by-nc-4.0", True, ["LICENSE_NON_COMMERCIAL", "LICENSE_ATTRIBUTION"]),
        ("license: cc-by-nc-4.0", False, ["LICENSE_ATTRIBUTION"]),
        ("license: cc-by-nc-4.0", None, ["LICENSE_NON_COMMERCIAL", "LICENSE_ATTRIBUTION"]),
        ("license: cc-by-sa-4.0", True, ["LICENSE_SHARE_ALIKE", "LICENSE_ATTRIBUTION"]),
        ("license: cc-by-nd-4.0", True, ["LICENSE_NO_DERIVATIVES", "LICENSE_ATTRIBUTION"]),
        ("license: unknown", False, ["LICENSE_UNKNOWN"]),
    ],
)
def test_assessment_against_use(card_text: str, commercial: bool | None, types: list[str]) -> None:
    res = card(f"---\n{card_text}\n---\n")
    assert [a.type for a in assess(res, commercial)] == types
