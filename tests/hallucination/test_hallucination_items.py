"""Built-in grounded items (orca2_kit.hallucination_items): documents, (slot, value) facts, vocabularies."""
import re

from orca2_kit.hallucination.items import _FILLERS, ALIASES, CLOSED_VOCABULARIES, GENRE_SLOTS, GENRES, NUMBER_KINDS, SLOT_KINDS, GroundedItem, make_grounded_items, number_words
from orca2_kit.hallucination.read import read_mentions
from orca2_kit.hallucination.tokens import STOPWORDS, number_value

ITEMS = make_grounded_items(200, seed=7)


def test_deterministic_and_seed_dependent():
    assert make_grounded_items(30, seed=7) == ITEMS[:30]
    assert make_grounded_items(30, seed=8) != ITEMS[:30]
    assert len({i.id for i in ITEMS}) == len(ITEMS)


def test_shape_of_items():
    assert {i.genre for i in ITEMS} == set(GENRES)
    for item in ITEMS:
        words = len([w for w in item.document.split() if any(c.isalnum() for c in w)])
        assert 60 <= words <= 120, (item.id, words)
        assert 4 <= len(item.sentences) <= 6
        assert item.query.endswith("\n\n" + item.document) and item.instruction + item.document == item.query
        assert "two or three sentences" in item.query
        assert all(s in item.document for s in item.sentences)
        assert 2 <= item.reference_summary.count(". ") + 1 <= 3
        assert GroundedItem.from_row(item.to_row()) == item


def test_every_fact_is_a_slot_of_its_genre_written_in_the_document():
    for item in ITEMS:
        slots = GENRE_SLOTS[item.genre]
        assert len({s for s, _ in item.facts}) == len(item.facts)
        for slot, value in item.facts:
            assert slot in slots, (item.id, slot)
            assert re.search(rf"(?<!\w){re.escape(value)}(?!\w)", item.document), (item.id, slot, value)
            kind = slots[slot]
            if kind in CLOSED_VOCABULARIES:
                assert value in CLOSED_VOCABULARIES[kind], (slot, value)
            else:
                assert kind in NUMBER_KINDS and number_value(value) is not None, (slot, value)
        assert set(item.reference_slots) <= set(dict(item.facts)), item.id


def test_every_slot_kind_is_a_vocabulary_or_a_number_kind():
    assert set(SLOT_KINDS.values()) <= set(CLOSED_VOCABULARIES) | set(NUMBER_KINDS)
    # Symptoms, jobs and facilities are written by the generator: they have vocabularies now.
    assert {"symptom", "job", "facility"} <= set(SLOT_KINDS.values())


def test_vocabularies_are_disjoint_and_not_stopwords():
    seen = {}
    for kind, terms in CLOSED_VOCABULARIES.items():
        for term in terms:
            assert seen.setdefault(term.lower(), kind) == kind, (term, kind, seen[term.lower()])
            if kind not in ("symptom", "job", "facility", "drug"):  # phrases such as "pain in the left knee"
                assert not set(term.lower().split()) & STOPWORDS, term
    for alias, term in ALIASES.items():
        assert alias not in seen and term.lower() in seen, alias


def test_fillers_state_nothing_checkable():
    for genre, fillers in _FILLERS.items():
        for f in fillers:
            assert [m.surface for m in read_mentions(f) if m.parts[0].kind != "name"] == [], f


def test_number_words_round_trip():
    for n in range(1000):
        assert number_value(number_words(n)) == n


def test_06_scores_no_document_the_checker_was_developed_or_checked_on():
    """Issue 27: 06 scored built-in items 0-11 (seed 1234), and items 0-7 are the checker's dev set
    (it was changed after reading its misses there): its 0 false alarms there were partly by
    construction. The scored items start after every labelled item, whatever n_items."""
    import json
    import re
    from pathlib import Path

    import jupytext

    from orca2_kit.hallucination.agreement import LABELS_DIR
    from orca2_kit.hallucination.items import SCORED_FROM, scored_items

    labelled = [json.loads(line)["item"] for f in LABELS_DIR.glob("*.jsonl") for line in f.read_text().splitlines()
                if line.strip()]
    seen = {r["document"] for r in labelled} | {it.document for it in make_grounded_items(SCORED_FROM, 1234)}
    assert max(int(r["id"].rsplit("-", 1)[1]) for r in labelled) < SCORED_FROM
    for n in (12, 24, 60):
        scored = scored_items(n, 1234)
        assert len(scored) == n and not {it.document for it in scored} & seen
        assert scored == make_grounded_items(SCORED_FROM + n, 1234)[SCORED_FROM:]  # item i is one document
    assert scored_items(12, 1234)[0].id == f"grounded-1234-{SCORED_FROM:04d}"
    code = "\n".join(c.source for c in jupytext.read(Path(__file__).resolve().parents[2] / "notebooks"
                                                      / "06_hallucination.py").cells if c.cell_type == "code")
    assert "scored_items(h.n_items, p.seed)" in code and not re.search(r"make_grounded_items\(h\.n_items", code)
