"""The grounded items and the exact hallucination checker (orca2_kit.hallucination)."""
import random
import re

import pytest

from orca2_kit.hallucination import (
    CLOSED_VOCABULARIES, FIRST_NAMES, GENRES, MONTHS, PLACES, STOPWORDS, WEEKDAYS, GroundedItem,
    check_real, check_summary, make_grounded_items, number_value, number_words, rate_with_ci,
    rouge_l,
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
