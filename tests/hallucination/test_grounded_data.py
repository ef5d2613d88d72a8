"""Loaders for QMSum, ACI-Bench and MS MARCO (orca2_kit.grounded_data): the real files in
shared/data, an MS MARCO fixture in both upstream layouts, the `datasets` path, and truncation."""
import json
import shutil
from pathlib import Path

import pytest

from orca2_kit.config import ConfigError, load_params
from orca2_kit.hallucination.grounded import fit_sources, load_grounded, resolve_source, source_budget

FIXTURES = Path(__file__).parent.parent / "fixtures" / "ms_marco"


# --- MS MARCO (fixture, both layouts) --------------------------------------------------------

@pytest.mark.parametrize("split", ["dev", "dev_v2.1"])
def test_ms_marco_both_upstream_layouts(split):
    items = load_grounded("ms_marco", str(FIXTURES), split)
    assert [i.id for i in items] == [f"msmarco-{split}-9001", f"msmarco-{split}-9003"]  # 9002 is unanswerable
    egg, bridge = items
    assert egg.reference_summary == "It takes 9 to 12 minutes to hard-boil an egg."  # wellFormedAnswers first
    assert bridge.reference_summary == "4 June 1987"  # else answers[0]
    assert egg.document.startswith("[1] Eggs are a good source") and "[3] A soft-boiled egg" in egg.document
    assert "Question: how long does it take to boil an egg" in egg.query and egg.query.endswith(egg.document)
    assert {i.dataset for i in items} == {"ms_marco"} and not any(i.truncated for i in items)


def test_ms_marco_through_the_datasets_library(tmp_path):
    """The 'hf:' path reads with datasets.load_dataset; a local dataset folder stands in for the hub."""
    shutil.copy(FIXTURES / "dev.jsonl", tmp_path / "validation.jsonl")
    items = load_grounded("ms_marco", f"hf:{tmp_path}", "validation")
    assert [i.reference_summary for i in items] == [i.reference_summary for i in
                                                     load_grounded("ms_marco", str(FIXTURES), "dev")]


def test_missing_columns_and_files_are_clear_errors(tmp_path):
    (tmp_path / "dev.jsonl").write_text(json.dumps({"question": "q", "passages": []}) + "\n")
    with pytest.raises(ValueError, match=r"MS MARCO row 0 of dev: missing \['answers', 'query'\]"):
        load_grounded("ms_marco", str(tmp_path), "dev")
    with pytest.raises(FileNotFoundError, match="neither test.jsonl nor test.json"):
        load_grounded("ms_marco", str(tmp_path), "test")
    (tmp_path / "aci.csv").write_text("dataset,encounter_id,text\nx,D1,hello\n")
    with pytest.raises(ValueError, match="needs dialogue\\+note"):
        load_grounded("aci_bench", str(tmp_path / "aci.csv"))
    with pytest.raises(ValueError, match="unknown grounded dataset 'cnn'"):
        load_grounded("cnn", str(tmp_path))


def test_params_reject_a_missing_source(tmp_path):
    with pytest.raises(ConfigError, match="hallucination.sources: ms_marco: '/no/such' is neither"):
        load_params("offline", ["hallucination.sources={ms_marco: /no/such}"])
    with pytest.raises(ConfigError, match="hallucination.datasets.1: Input should be"):
        load_params("offline", ["hallucination.datasets=[builtin, cnn]"])
    p = load_params("offline", [f"hallucination.sources={{ms_marco: {FIXTURES}}}", "hallucination.judge=null"])
    assert resolve_source("ms_marco", p.hallucination.sources.get("ms_marco"), None) == str(FIXTURES)
    assert resolve_source("ms_marco", None, tmp_path) is None  # no folder, no source: skipped


# --- QMSum and ACI-Bench (the real files) ------------------------------------------------------

@pytest.mark.data
def test_qmsum_jsonl_and_per_meeting_files_agree(real_data):
    from_jsonl = load_grounded("qmsum", str(real_data / "qmsum"), "test")
    from_files = load_grounded("qmsum", str(real_data / "qmsum" / "test"))
    assert len(from_jsonl) == len(from_files) == 281  # MANIFEST: 281 test queries
    assert sorted(i.document for i in from_jsonl) == sorted(i.document for i in from_files)
    meeting = json.loads((real_data / "qmsum" / "test.jsonl").read_text().splitlines()[0])
    q = meeting["specific_query_list"][0]
    item = next(i for i in from_jsonl if i.id == "qmsum-test000-s0")
    (start, end), = q["relevant_text_span"][:1]
    first = meeting["meeting_transcripts"][int(start)]
    assert item.document.startswith(f"{first['speaker']}: {' '.join(first['content'].split())}")
    assert item.reference_summary == q["answer"] and q["query"] in item.query and item.query.endswith(item.document)
    general = next(i for i in from_jsonl if i.id == "qmsum-test000-g0")
    assert len(general.document.splitlines()) == len(meeting["meeting_transcripts"])


@pytest.mark.data
def test_aci_bench_csv_and_json_agree(real_data):
    csv_items = load_grounded("aci_bench", str(real_data / "aci_bench"), "clinicalnlp_taskB_test1")
    json_items = load_grounded("aci_bench", str(real_data / "aci_bench" / "challenge_data_json" /
                                                "clinicalnlp_taskB_test1.json"), "clinicalnlp_taskB_test1")
    assert len(csv_items) == len(json_items) == 40
    assert [i.document for i in csv_items] == [i.document for i in json_items]
    assert csv_items[0].id == "aci-clinicalnlp_taskB_test1-D2N088" and csv_items[0].document.startswith("[doctor]")
    assert csv_items[0].reference_summary.startswith("CHIEF COMPLAINT")


@pytest.mark.data
def test_sampling_is_seeded(real_data):
    a = load_grounded("qmsum", str(real_data / "qmsum"), n=4, seed=1)
    assert [i.id for i in a] == [i.id for i in load_grounded("qmsum", str(real_data / "qmsum"), n=4, seed=1)]
    assert [i.id for i in a] != [i.id for i in load_grounded("qmsum", str(real_data / "qmsum"), n=4, seed=2)]


# --- truncation ------------------------------------------------------------------------------

@pytest.mark.data
def test_long_sources_are_cut_to_the_budget_and_counted(real_data, smollm2_dir):
    from orca2_kit.models import load_tokenizer

    tok = load_tokenizer(str(smollm2_dir))
    items = load_grounded("aci_bench", str(real_data / "aci_bench"), n=3, seed=0) + \
        load_grounded("ms_marco", str(FIXTURES), "dev")
    lengths = [len(tok(i.document, add_special_tokens=False)["input_ids"]) for i in items]
    budget = 96
    cut, n_cut = fit_sources(items, tok, budget)
    assert n_cut == sum(n > budget for n in lengths) == 3  # the three visits, not the short MS MARCO passages
    for before, after, n in zip(items, cut, lengths):
        assert after.truncated == (n > budget)
        if after.truncated:
            assert before.document.startswith(after.document[:200]) and len(after.document) < len(before.document)
            assert len(tok(after.document, add_special_tokens=False)["input_ids"]) <= budget + 2
            assert after.query.endswith(after.document) and after.query.startswith(before.query[:60])
        else:
            assert after == before
    # The model's context caps the params' budget (SmolLM2: 8192 positions).
    assert source_budget(str(smollm2_dir), tok, 100_000, 80) == 8192 - 80 - 256
    assert source_budget(str(smollm2_dir), tok, 512, 80) == 512
