"""Tests for the nine task families: registry, determinism, item shape, and answer correctness.

The correctness checks recompute each answer from the prompt alone (parsing it and using datetime,
sorted(), independent fact tables, ...), so a generator that produces a wrong reference fails.
"""
import datetime
import random
import re

import pytest

from orca2_kit.extract import score
from orca2_kit.strategies import STRATEGIES
from orca2_kit.tasks import facts
from orca2_kit.tasks.base import ANSWER_FORMAT, ANSWER_TYPES, TaskItem
from orca2_kit.tasks.families import FAMILIES

EXPECTED = {  # name -> expected strategy, in display order
    "arithmetic": "step_by_step",
    "weekday": "step_by_step",
    "passage_fact": "extract_generate",
    "sentiment": "direct",
    "sort_list": "step_by_step",
    "capital_recall": "recall_then_generate",
    "counting": "step_by_step",
    "compare_numbers": "explain_then_answer",
    "element_compare": "recall_reason_generate",
}
N = 300
_pre, _post = ANSWER_FORMAT.split("{hint}")
FORMAT_LINE = re.compile(re.escape(_pre) + r"(.+)" + re.escape(_post) + r"$")


def draw(name, seed=0, n=N):
    rng = random.Random(seed)
    return [FAMILIES[name].make(rng) for _ in range(n)]


@pytest.fixture(scope="module")
def items():
    return {name: draw(name) for name in FAMILIES}


def body(item):  # the prompt without its answer-format line
    return item.prompt.rsplit("\n", 1)[0]


def has_word(text, word):
    return re.search(rf"(?<![\w]){re.escape(word)}(?![\w])", text, re.IGNORECASE) is not None


# --- registry and determinism ------------------------------------------------------------------

def test_registry():
    assert list(FAMILIES) == list(EXPECTED)
    for name, fam in FAMILIES.items():
        assert fam.name == name
        assert fam.expected_strategy == EXPECTED[name] and fam.expected_strategy in STRATEGIES
        assert fam.answer_type in ANSWER_TYPES
        assert fam.description and fam.why


@pytest.mark.parametrize("name", list(EXPECTED))
def test_determinism(name):
    random.seed(1)  # the global rng must not matter
    a = draw(name, seed=7, n=30)
    random.seed(2)
    assert draw(name, seed=7, n=30) == a
    assert draw(name, seed=8, n=30) != a


# --- shape of every item -----------------------------------------------------------------------

@pytest.mark.parametrize("name", list(EXPECTED))
def test_item_shape(items, name):
    fam = FAMILIES[name]
    for it in items[name]:
        assert it.family == name and it.id == "" and it.split == ""
        head, last = it.prompt.rsplit("\n", 1)
        assert FORMAT_LINE.fullmatch(last) and head.strip() == head
        assert len(it.prompt.split()) <= (130 if name == "passage_fact" else 90)
        assert it.reference and it.reference == it.reference.strip()
        assert it.answer_type in ANSWER_TYPES
        assert it.answer_type == fam.answer_type or (name == "passage_fact" and it.answer_type == "number")
        if it.answer_type == "choice":
            assert len(it.choices) == 2 and it.reference in it.choices
            assert all(has_word(head, c) for c in it.choices)
        else:
            assert it.choices == ()
        if it.answer_type == "number":
            assert re.fullmatch(r"\d+", it.reference)
        sol = it.solution
        assert sol.steps and all(s.strip() for s in sol.steps) and sol.explanation.strip()
        assert has_word(sol.steps[-1], it.reference)  # the last step states the result
        assert sol.facts and all(f.strip() for f in sol.facts)
        assert sol.evidence and all(e in head for e in sol.evidence)  # quoted verbatim
        assert TaskItem.from_row(it.to_row()) == it
        # the extractor accepts the reference as a correct answer line
        assert score(f"Some working.\nAnswer: {it.reference}", it.reference, it.answer_type, it.choices)["correct_strict"]
    assert len({it.prompt for it in items[name]}) >= 150


# --- independent correctness checks ------------------------------------------------------------

_EQ = re.compile(r"(\d+) ([-+×÷]) (\d+) = (\d+)")
_OPS = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "×": lambda a, b: a * b,
        "÷": lambda a, b: a / b}


def test_arithmetic(items):
    for it in items["arithmetic"]:
        given = {int(x) for x in re.findall(r"\d+", body(it))}
        known, used, result = set(given), set(), None
        for step in it.solution.steps:
            for a, op, b, c in _EQ.findall(step):
                a, b, c = int(a), int(b), int(c)
                assert _OPS[op](a, b) == c, step  # each equation is true (division exact)
                assert a in known and b in known, step  # operands come from the prompt or earlier steps
                used |= {a, b}
                known.add(c)
                result = c
        assert result is not None and str(result) == it.reference, it.prompt
        assert given <= used, it.prompt  # every given number is used
        assert 0 <= int(it.reference) <= 200


def test_weekday(items):
    monday = datetime.date(2024, 1, 1)  # a Monday
    names = [(monday + datetime.timedelta(d)).strftime("%A") for d in range(7)]
    for it in items["weekday"]:
        day = re.search(r"[Tt]oday is (\w+)", it.prompt).group(1)
        m = re.search(r"in (\d+) days\?|(\d+) days ago\?", it.prompt)
        n = int(m.group(1) or m.group(2))
        delta = datetime.timedelta(days=n if m.group(1) else -n)
        assert (monday + datetime.timedelta(names.index(day)) + delta).strftime("%A") == it.reference


def test_passage_fact(items):
    for it in items["passage_fact"]:
        passage = re.search(r"^Passage: (.+)$", it.prompt, re.MULTILINE).group(1)
        sents = re.split(r"(?<=\.) ", passage)
        assert 3 <= len(sents) <= 6
        (ev,) = it.solution.evidence
        assert ev in sents and has_word(ev, it.reference)
        assert sum(has_word(s, it.reference) for s in sents) == 1  # answerable from one sentence only
        assert (it.answer_type == "number") == it.reference.isdigit()


_POS = ("excellent", "wonderful", "fantastic", "great", "amazing", "superb", "love", "highly recommend",
        "happily", "best", "brilliant", "laugh")
_NEG = ("terrible", "awful", "disappointing", "horrible", "dreadful", "poor", "broke", "money back",
        "regret", "waste", "not recommend", "dull", "asleep", "walked out")


def test_sentiment(items):
    labels = set()
    for it in items["sentiment"]:
        review = re.search(r'Review: "(.+)"', it.prompt).group(1).lower()
        pos, neg = sum(w in review for w in _POS), sum(w in review for w in _NEG)
        assert (pos > 0 and neg == 0) or (neg > 0 and pos == 0), review
        assert it.reference == ("positive" if pos else "negative"), review
        labels.add(it.reference)
    assert labels == {"positive", "negative"}


def test_sort_list(items):
    modes = set()
    for it in items["sort_list"]:
        q = body(it)
        xs = re.search(r": (.+)\.$", q).group(1).split(", ")
        assert 3 <= len(xs) <= 5
        if "alphabetical" in q:
            want, mode = sorted(xs), "alpha"
        else:
            desc = "largest to smallest" in q or "descending" in q
            want, mode = [str(v) for v in sorted(map(int, xs), reverse=desc)], desc
        assert xs != want  # not already sorted
        assert it.reference == ", ".join(want), q
        modes.add(mode)
    assert modes == {"alpha", True, False}


_SOME_CAPITALS = {"France": "Paris", "Japan": "Tokyo", "Germany": "Berlin", "Egypt": "Cairo",
                  "Canada": "Ottawa", "Australia": "Canberra", "India": "New Delhi", "Peru": "Lima",
                  "Kenya": "Nairobi", "the United Kingdom": "London", "Spain": "Madrid"}


def test_capital_recall(items):
    table = {c: cap for c, cap, _ in facts.COUNTRIES}
    assert len(table) >= 35 and all(table[c] == cap for c, cap in _SOME_CAPITALS.items())
    for it in items["capital_recall"]:
        country = re.search(r"capital (?:city )?of (.+?)[?.]\n", it.prompt).group(1)
        assert it.reference == table[country]
        assert f"The capital of {country} is {table[country]}." in it.solution.facts


def test_counting(items):
    cats = facts.CATEGORIES
    words = [w for ws in cats.values() for w in ws]
    assert len(words) == len(set(words)) and not set(words) & set(facts.OTHER_THINGS)  # disjoint
    plural_to_cat = {p: c for c, p in facts.CATEGORY_PLURALS.items()}
    seen = set()
    for it in items["counting"]:
        q = body(it)
        m = re.fullmatch(r'How many times does the word "(\w+)" appear in this list: (.+)\?', q)
        if m:
            want = m.group(2).split(", ").count(m.group(1))
        else:
            m = re.fullmatch(r"(?:How many (\w+) are|Count the (\w+)) in this list: (.+)[?.]", q)
            cat = plural_to_cat[m.group(1) or m.group(2)]
            want = sum(x in cats[cat] for x in m.group(3).split(", "))
        assert it.reference == str(want) and 0 <= want <= 9, q
        seen.add(want)
    assert {0, 1, 2, 3} <= seen


_BIGGER = ("older", "taller", "more", "larger")
_SMALLER = ("younger", "shorter", "less", "fewer", "smaller")


def _want_max(question):
    word = next(w for w in re.findall(r"\w+", question) if w in _BIGGER + _SMALLER)
    return word in _BIGGER


def test_compare_numbers(items):
    for it in items["compare_numbers"]:
        q = body(it)
        a, b = it.choices
        x, y = (int(v) for v in re.findall(r"\d+", q)[:2])
        assert x != y and q.index(a) < q.index(b)
        question = q.rsplit(". ", 1)[1]
        assert it.reference == (a if (x > y) == _want_max(question) else b), q


# Written out independently of facts.ELEMENTS, so a wrong atomic number in the table fails here.
_ATOMIC = {"hydrogen": 1, "helium": 2, "lithium": 3, "carbon": 6, "nitrogen": 7, "oxygen": 8,
           "fluorine": 9, "neon": 10, "sodium": 11, "magnesium": 12, "aluminium": 13, "silicon": 14,
           "phosphorus": 15, "sulfur": 16, "chlorine": 17, "argon": 18, "potassium": 19,
           "calcium": 20, "iron": 26, "copper": 29, "zinc": 30, "silver": 47, "tin": 50,
           "iodine": 53, "gold": 79, "mercury": 80, "lead": 82, "uranium": 92, "beryllium": 4, "boron": 5,
           "titanium": 22, "chromium": 24, "manganese": 25, "cobalt": 27, "nickel": 28, "bromine": 35,
           "krypton": 36, "xenon": 54, "barium": 56, "tungsten": 74, "platinum": 78, "radon": 86}


def test_element_compare(items):
    assert len(facts.ELEMENTS) >= 20
    assert all(_ATOMIC[name] == z for name, _, z in facts.ELEMENTS)
    for it in items["element_compare"]:
        a, b = it.choices
        assert a != b and (f"{a} or {b}" in it.prompt or f"{a} and {b}" in it.prompt)
        za, zb = _ATOMIC[a], _ATOMIC[b]
        assert it.reference == (a if (za > zb) == _want_max(body(it)) else b), it.prompt
        assert any(str(za) in f for f in it.solution.facts) and any(str(zb) in f for f in it.solution.facts)
