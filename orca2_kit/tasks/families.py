"""The nine procedurally generated task families.

Each `make(rng)` draws one item using only the `random.Random` it is given, so a suite is fully
determined by its seed. Every item carries a complete `Solution` (facts, evidence, steps,
explanation) so the reference teacher can render it in any of the six strategies, and all of those
pieces are computed from the same numbers as the reference, so they cannot disagree with it.
Problems are kept deliberately easy: the student is a 135M-parameter model.
"""
from __future__ import annotations

import random

from orca2_kit.tasks.base import ANSWER_FORMAT, Family, Solution, TaskItem
from orca2_kit.tasks.facts import CATEGORIES, CATEGORY_PLURALS, COMPANY_KINDS, COMPANY_STEMS, COUNTRIES, ELEMENTS, FESTIVALS, FIRST_NAMES, MOVIE_NEGATIVE, MOVIE_POSITIVE, MOVIES, NEGATIVE_ADJ, OBJECTS, OTHER_THINGS, PEOPLE, POSITIVE_ADJ, PRODUCT_NEGATIVE, PRODUCT_POSITIVE, PRODUCTS, PRODUCTS_MADE, RIVERS, SHOPS, SORT_WORDS, SUBJECTS, SURNAMES, TOWN_PREFIXES, TOWN_SUFFIXES, WEEKDAYS, split_pool

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")
TOWNS = tuple(p + s for p in TOWN_PREFIXES for s in TOWN_SUFFIXES)  # invented, 140 of them


# --- helpers ------------------------------------------------------------------------------------

def _pool(table: tuple, rng: random.Random) -> tuple:
    """The part of a fact table the item's split may draw from: build_suite sets `rng.split`, so a
    test item's people, places, capitals and elements never appear in a training item."""
    return split_pool(table, getattr(rng, "split", None))


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:]


def _item(family: str, body: str, hint: str, reference, answer_type: str, solution: Solution,
          choices=(), candidates=()) -> TaskItem:
    # Every prompt ends with a newline and the answer-format line (see base.ANSWER_FORMAT).
    return TaskItem(id="", family=family, split="", prompt=body + "\n" + ANSWER_FORMAT.format(hint=hint),
                    reference=str(reference), answer_type=answer_type, choices=tuple(choices),
                    solution=solution, candidates=tuple(candidates))


def _join_and(xs) -> str:
    xs = list(xs)
    return xs[0] if len(xs) == 1 else ", ".join(xs[:-1]) + " and " + xs[-1]


# --- 1. arithmetic: 2-3 operations, small non-negative integers --------------------------------
# Each template returns (given sentences, question, answer, steps, general fact, explanation).

def _arith_buy_give(rng):
    (name, pron), (friend, _) = rng.sample(_pool(PEOPLE, rng), 2)
    obj = rng.choice(OBJECTS)
    a, b = rng.randint(3, 30), rng.randint(2, 20)
    c = rng.randint(1, a + b - 1)
    s, r = a + b, a + b - c
    given = [f"{name} has {a} {obj}.", f"{_cap(pron)} buys {b} more and then gives {c} to {friend}."]
    steps = (f"{name} starts with {a} {obj}.",
             f"After buying {b} more, {name} has {a} + {b} = {s} {obj}.",
             f"After giving {c} to {friend}, {name} has {s} - {c} = {r} {obj}.",
             f"So {name} has {r} {obj} now.")
    return (given, f"How many {obj} does {name} have now?", r, steps,
            "Buying more adds to what you have, and giving some away subtracts from it.",
            f"{name} gains {b} {obj} and then loses {c}, so {a} + {b} - {c} = {r}.")


def _arith_packs_use(rng):
    name, pron = rng.choice(_pool(PEOPLE, rng))
    obj = rng.choice(OBJECTS)
    n, k = rng.randint(2, 6), rng.randint(2, 10)
    t = n * k
    u = rng.randint(1, t - 1)
    r = t - u
    given = [f"{name} buys {n} packs of {obj}.", f"Each pack has {k} {obj}.",
             f"{_cap(pron)} uses {u} of them."]
    steps = (f"{name} buys {n} packs with {k} {obj} in each pack.",
             f"In total that is {n} × {k} = {t} {obj}.",
             f"After using {u}, there are {t} - {u} = {r} {obj} left.",
             f"So {r} {obj} are left.")
    return (given, f"How many {obj} are left?", r, steps,
            "Equal packs are counted with multiplication, and using some up is a subtraction.",
            f"{n} packs of {k} make {t} {obj}, and taking away the {u} used leaves {r}.")


def _arith_boxes_extra(rng):
    name, _ = rng.choice(_pool(PEOPLE, rng))
    obj = rng.choice(OBJECTS)
    box = rng.choice(("box", "bag", "jar", "basket"))
    k, n, b = rng.randint(2, 12), rng.randint(2, 6), rng.randint(1, 10)
    t = n * k
    r = t + b
    given = [f"A {box} holds {k} {obj}.",
             f"{name} fills {n} {box}{'e' if box == 'box' else ''}s and has {b} extra {obj} left over."]
    steps = (f"Each full {box} holds {k} {obj}, and there are {n} full ones.",
             f"The full ones hold {n} × {k} = {t} {obj}.",
             f"Adding the {b} extra {obj} gives {t} + {b} = {r}.",
             f"So {name} has {r} {obj} in total.")
    return (given, f"How many {obj} does {name} have in total?", r, steps,
            "Equal groups are counted with multiplication, and extra items are added on.",
            f"{n} groups of {k} make {t}, and the {b} extra {obj} bring the total to {r}.")


def _arith_share_more(rng):
    name, _ = rng.choice(_pool(PEOPLE, rng))
    obj = rng.choice(OBJECTS)
    k, q, b = rng.randint(2, 6), rng.randint(2, 10), rng.randint(1, 10)
    t = k * q  # exact division by construction
    r = q + b
    given = [f"{name} has {t} {obj} and shares them equally among {k} friends, keeping none.",
             f"Then each friend gets {b} more {obj}."]
    steps = (f"{name} shares {t} {obj} equally among {k} friends.",
             f"Each friend gets {t} ÷ {k} = {q} {obj}.",
             f"Then each friend gets {b} more, so each has {q} + {b} = {r} {obj}.",
             f"So each friend has {r} {obj}.")
    return (given, f"How many {obj} does each friend have now?", r, steps,
            "Sharing equally is a division, and getting more is an addition.",
            f"Sharing {t} among {k} gives {q} each, and {b} more makes {r}.")


def _arith_money(rng):
    name, pron = rng.choice(_pool(PEOPLE, rng))
    d1, d2 = rng.sample(WEEKDAYS[:5], 2)
    a, b = rng.randint(5, 60), rng.randint(5, 60)
    c = rng.randint(1, a + b - 1)
    s, r = a + b, a + b - c
    thing = rng.choice(("lunch", "a book", "a ticket", "groceries", "a present"))
    given = [f"{name} earns {a} dollars on {d1} and {b} dollars on {d2}.",
             f"{_cap(pron)} spends {c} dollars of it on {thing}."]
    steps = (f"{name} earns {a} dollars and then {b} dollars.",
             f"Together that is {a} + {b} = {s} dollars.",
             f"After spending {c} dollars, {s} - {c} = {r} dollars are left.",
             f"So {name} has {r} dollars left.")
    return (given, f"How many of the dollars {name} earned are left?", r, steps,
            "Money earned is added, and money spent is subtracted.",
            f"{name} earned {a} + {b} = {s} dollars and spent {c}, which leaves {r}.")


def _arith_start_bags_give(rng):
    name, pron = rng.choice(_pool(PEOPLE, rng))
    obj = rng.choice(OBJECTS)
    a, n, k = rng.randint(2, 20), rng.randint(2, 5), rng.randint(2, 8)
    t = n * k
    s = a + t
    c = rng.randint(1, s - 1)
    r = s - c
    given = [f"{name} has {a} {obj}.",
             f"{_cap(pron)} buys {n} bags with {k} {obj} in each bag, then gives away {c} {obj}."]
    steps = (f"The {n} bags hold {n} × {k} = {t} {obj}.",
             f"With the {a} {obj} {name} already had, that makes {a} + {t} = {s}.",
             f"After giving away {c}, {name} has {s} - {c} = {r} {obj}.",
             f"So {name} has {r} {obj} now.")
    return (given, f"How many {obj} does {name} have now?", r, steps,
            "Equal bags are counted with multiplication; buying adds and giving away subtracts.",
            f"The bags add {n} × {k} = {t} to the {a} {obj}, and giving away {c} leaves {r}.")


def _arith_class_groups(rng):
    k, q = rng.randint(2, 5), rng.randint(3, 8)
    t = k * q  # exact division by construction
    a = rng.randint(t // 2, t - 2)  # at least 2 join, so "students" stays plural
    b = t - a
    given = [f"There are {a} students in a class.", f"Then {b} more students join the class.",
             f"The teacher splits all the students into {k} equal groups."]
    steps = (f"The class starts with {a} students.",
             f"After {b} more join, there are {a} + {b} = {t} students.",
             f"Splitting them into {k} equal groups gives {t} ÷ {k} = {q} students per group.",
             f"So there are {q} students in each group.")
    return (given, "How many students are in each group?", q, steps,
            "Joining adds students, and splitting into equal groups is a division.",
            f"The class grows to {a} + {b} = {t}, and {t} shared among {k} groups is {q} each.")


_ARITH_TEMPLATES = (_arith_buy_give, _arith_packs_use, _arith_boxes_extra, _arith_share_more,
                    _arith_money, _arith_start_bags_give, _arith_class_groups)


def make_arithmetic(rng: random.Random) -> TaskItem:
    given, question, r, steps, fact, expl = rng.choice(_ARITH_TEMPLATES)(rng)
    assert 0 <= r <= 200
    return _item("arithmetic", " ".join(given) + " " + question, "<number>", r, "number",
                 Solution(facts=(fact,), evidence=tuple(given), steps=steps, explanation=expl))


# --- 2. weekday: n days after / before a weekday -----------------------------------------------

def make_weekday(rng: random.Random) -> TaskItem:
    start, n, forward = rng.randrange(7), rng.randint(2, 20), rng.random() < 0.5
    day = WEEKDAYS[start]
    target = WEEKDAYS[(start + n if forward else start - n) % 7]
    ask = f"what day of the week will it be in {n} days?" if forward else f"what day of the week was it {n} days ago?"
    body = f"If today is {day}, {ask}" if rng.random() < 0.5 else f"Today is {day}. {_cap(ask)}"
    weeks, rem = divmod(n, 7)
    way = "forward" if forward else "back"
    steps = ["A week has 7 days, so the day of the week repeats every 7 days."]
    if weeks and rem == 0:
        steps.append(f"{n} days is exactly {weeks} week{'s' if weeks > 1 else ''}, so we land on {day} again.")
    elif weeks:
        steps.append(f"{n} days is {weeks} week{'s' if weeks > 1 else ''} and {rem} more day{'s' if rem > 1 else ''}.")
        steps.append(f"After {weeks} full week{'s' if weeks > 1 else ''} it is {day} again.")
    else:
        steps.append(f"{n} days is less than a week, so we count {n} days {way} from {day}.")
    if rem:
        seq = [WEEKDAYS[(start + i if forward else start - i) % 7] for i in range(1, rem + 1)]
        steps.append(f"Counting {rem} day{'s' if rem > 1 else ''} {way} from {day}: {', '.join(seq)}.")
    steps.append(f"So in {n} days it will be {target}." if forward else f"So {n} days ago it was {target}.")
    if not weeks:
        expl = f"Counting {n} days {way} from {day}, one day at a time, lands on {target}."
    elif rem:
        expl = (f"Every 7 days the weekday repeats, so moving {n} days {way} is the same as moving "
                f"{rem} day{'s' if rem > 1 else ''} {way}, and that lands on {target}.")
    else:
        expl = f"{n} is a multiple of 7 and the weekday repeats every 7 days, so it is {day} again."
    return _item("weekday", body, "<weekday>", target, "text", Solution(
        facts=("A week has 7 days, in the order Monday, Tuesday, Wednesday, Thursday, Friday, "
               "Saturday, Sunday, and then Monday again.",),
        evidence=(body,), steps=tuple(steps), explanation=expl), candidates=WEEKDAYS)


# --- 3. passage_fact: invented people, companies and towns --------------------------------------
# Each builder returns (sentences, [(question, answer, answer_type, hint, index of the sentence)]).

def _full_name(rng):
    return f"{rng.choice(_pool(FIRST_NAMES, rng))} {rng.choice(_pool(SURNAMES, rng))}"


def _passage_person(rng):
    full = _full_name(rng)
    last = full.split()[1]
    t1, t2, t3 = rng.sample(_pool(TOWNS, rng), 3)
    y1 = rng.randint(1900, 1975)
    y2 = y1 + rng.randint(22, 40)
    y3 = y2 + rng.randint(3, 15)
    subject, shop, n = rng.choice(SUBJECTS), rng.choice(SHOPS), rng.randint(3, 40)
    sents = [f"{full} was born in {y1} in the town of {t1}.",
             f"{last} later studied {subject} in {t2}.",
             f"In {y2}, {last} opened a {shop} in {t3}.",
             f"By {y3}, the {shop} had {n} employees."]
    qs = [(f"In what year was {full} born?", y1, "number", "<year>", 0),
          (f"In which town was {full} born?", t1, "text", "<town>", 0),
          (f"What subject did {full} study?", subject, "text", "<subject>", 1),
          (f"In which town did {full} open a {shop}?", t3, "text", "<town>", 2),
          (f"In what year did {full} open a {shop}?", y2, "number", "<year>", 2),
          (f"How many employees did the {shop} have by {y3}?", n, "number", "<number>", 3)]
    return sents, qs


def _passage_company(rng):
    company = f"{rng.choice(COMPANY_STEMS)} {rng.choice(COMPANY_KINDS)}"
    founder = _full_name(rng)
    t1, t2 = rng.sample(_pool(TOWNS, rng), 2)
    y1 = rng.randint(1890, 2000)
    y2 = y1 + rng.randint(5, 20)
    product, n = rng.choice(PRODUCTS_MADE), rng.randint(12, 250)
    sents = [f"{company} is a small company that makes {product}.",
             f"It was founded in {y1} by {founder}.",
             f"Its main workshop is in the town of {t1}.",
             f"In {y2}, it opened a second shop in {t2}.",
             f"Today the company has {n} workers."]
    qs = [(f"What does {company} make?", product, "text", "<product>", 0),
          (f"In what year was {company} founded?", y1, "number", "<year>", 1),
          (f"Who founded {company}?", founder, "text", "<full name>", 1),
          (f"In which town is the main workshop of {company}?", t1, "text", "<town>", 2),
          (f"In which town did {company} open its second shop?", t2, "text", "<town>", 3),
          (f"How many workers does {company} have today?", n, "number", "<number>", 4)]
    return sents, qs


def _passage_town(rng):
    town = rng.choice(_pool(TOWNS, rng))
    mayor = _full_name(rng)
    y1 = rng.randint(1200, 1900)
    pop, bridges = 100 * rng.randint(8, 98), rng.randint(2, 9)
    festival, month, river = rng.choice(FESTIVALS), rng.choice(MONTHS), rng.choice(RIVERS)
    sents = [f"{town} is a small town on the {river} River.",
             f"It was founded in {y1}.",
             f"About {pop} people live there today.",
             f"The town is famous for its {festival} festival, which is held every {month}.",
             f"The mayor of {town} is {mayor}.",
             f"There are {bridges} bridges over the river in the town."]
    qs = [(f"In what year was {town} founded?", y1, "number", "<year>", 1),
          (f"About how many people live in {town}?", pop, "number", "<number>", 2),
          (f"In which month is the {festival} festival of {town} held?", month, "text", "<month>", 3),
          (f"Who is the mayor of {town}?", mayor, "text", "<full name>", 4),
          (f"How many bridges are there over the river in {town}?", bridges, "number", "<number>", 5)]
    return sents, qs


def make_passage_fact(rng: random.Random) -> TaskItem:
    sents, qs = rng.choice((_passage_person, _passage_company, _passage_town))(rng)
    question, ans, atype, hint, idx = rng.choice(qs)
    ev = sents[idx]
    body = f"Read the passage and answer the question.\n\nPassage: {' '.join(sents)}\n\nQuestion: {question}"
    steps = (f"The question is: {question}",
             f"The sentence of the passage that answers it is: \"{ev}\"",
             f"That sentence gives the answer: {ans}.")
    # what else a response could name instead of a text answer: the same kind of thing
    alternatives = {"<town>": TOWNS, "<subject>": SUBJECTS, "<product>": PRODUCTS_MADE, "<month>": MONTHS}
    return _item("passage_fact", body, hint, ans, atype, candidates=alternatives.get(hint, ()) if atype == "text" else (),
                 solution=Solution(
        facts=(f"According to the passage: {ev}",), evidence=(ev,), steps=steps,
        explanation=f"The passage says: \"{ev}\" So the answer is {ans}."))


# --- 4. sentiment: short reviews with unmistakable wording -------------------------------------

def make_sentiment(rng: random.Random) -> TaskItem:
    positive = rng.random() < 0.5
    label = "positive" if positive else "negative"
    adj = rng.choice(POSITIVE_ADJ if positive else NEGATIVE_ADJ)
    if rng.random() < 0.5:
        kind, thing = "product", rng.choice(PRODUCTS)
        opener = rng.choice((f"I bought this {thing} last week and it is {adj}.", f"This {thing} is {adj}.",
                             f"The {thing} I ordered turned out to be {adj}."))
        follows = PRODUCT_POSITIVE if positive else PRODUCT_NEGATIVE
    else:
        kind, thing = "movie", rng.choice(MOVIES)
        opener = rng.choice((f"I watched this {thing} last night and it was {adj}.", f"This {thing} is {adj}.",
                             f"The new {thing} I saw at the cinema was {adj}."))
        follows = MOVIE_POSITIVE if positive else MOVIE_NEGATIVE
    sents = [opener] + ([rng.choice(follows)] if rng.random() < 0.75 else [])  # 1 or 2 sentences
    review = " ".join(sents)
    ask = rng.choice((f"Is the sentiment of this {kind} review positive or negative?",
                      f"Classify the sentiment of this {kind} review as positive or negative."))
    steps = [f"The review calls the {thing} \"{adj}\", which is a {label} word."]
    if len(sents) > 1:
        steps.append(f"It also says: \"{sents[1]}\" This is {label} too.")
    steps.append(f"So the sentiment of the review is {label}.")
    mood = "pleased with" if positive else "unhappy with"
    return _item("sentiment", f"{ask}\n\nReview: \"{review}\"", "<positive or negative>", label, "choice",
                 Solution(facts=("Words like \"excellent\", \"love\" and \"highly recommend\" show a positive "
                                 "opinion; words like \"terrible\", \"regret\" and \"waste\" show a negative one.",),
                          evidence=tuple(sents), steps=tuple(steps),
                          explanation=f"The wording (\"{adj}\") shows the writer is {mood} the {thing}, "
                                      f"so the sentiment is {label}."),
                 choices=("positive", "negative"))


# --- 5. sort_list: 3-5 words (distinct first letters) or numbers -------------------------------

_WORDS_BY_LETTER: dict[str, tuple[str, ...]] = {}
for _w in SORT_WORDS:
    _WORDS_BY_LETTER[_w[0]] = _WORDS_BY_LETTER.get(_w[0], ()) + (_w,)
_LETTERS = tuple(sorted(_WORDS_BY_LETTER))


def make_sort_list(rng: random.Random) -> TaskItem:
    k = rng.randint(3, 5)
    mode = rng.choice(("alpha", "asc", "desc"))
    if mode == "alpha":  # distinct first letters keep it easy: one letter comparison per word
        items = [rng.choice(_WORDS_BY_LETTER[c]) for c in rng.sample(_LETTERS, k)]
        ordered = sorted(items)
    else:
        items = [str(x) for x in rng.sample(range(1, 100), k)]
        ordered = [str(x) for x in sorted((int(x) for x in items), reverse=mode == "desc")]
    while items == ordered:  # never hand out an already sorted list
        rng.shuffle(items)
    shown = ", ".join(items)
    ref = ", ".join(ordered)
    if mode == "alpha":
        ask = rng.choice(("Sort these words in alphabetical order", "Put these words in alphabetical order"))
        steps = [f"The first letters are: {', '.join(f'{w} ({w[0]})' for w in items)}.",
                 f"The word that comes first in the alphabet is {ordered[0]}."]
        steps += [f"Next comes {w}." for w in ordered[1:]]
        fact = "Alphabetical order compares words by their first letter, in the order a, b, c, ..., z."
        expl = f"The first letters {', '.join(w[0] for w in ordered)} are in alphabetical order, so the list is {ref}."
    else:
        asc = mode == "asc"
        ask = rng.choice(("Sort these numbers from smallest to largest", "Arrange these numbers in ascending order")
                         if asc else ("Sort these numbers from largest to smallest",
                                      "Arrange these numbers in descending order"))
        big = "smallest" if asc else "largest"
        steps = [f"The {big} number is {ordered[0]}."]
        steps += [f"The next {big} is {x}." for x in ordered[1:-1]]
        steps.append(f"The {'largest' if asc else 'smallest'} number is {ordered[-1]}.")
        fact = ("Ascending order goes from the smallest number to the largest." if asc
                else "Descending order goes from the largest number to the smallest.")
        expl = f"{(' < ' if asc else ' > ').join(ordered)}, so the sorted list is {ref}."
    steps.append(f"So the sorted list is {ref}.")
    return _item("sort_list", f"{ask}: {shown}.", "<comma-separated list>", ref, "list",
                 Solution(facts=(fact,), evidence=(shown,), steps=tuple(steps), explanation=expl))


# --- 6. capital_recall -------------------------------------------------------------------------
_CAPITALS = tuple(c for _, c, _ in COUNTRIES)  # every capital a response could name (any split)


def make_capital_recall(rng: random.Random) -> TaskItem:
    country, capital, continent = rng.choice(_pool(COUNTRIES, rng))
    question = rng.choice((f"What is the capital of {country}?", f"Which city is the capital of {country}?",
                           f"Name the capital city of {country}.", f"What city is the capital of {country}?"))
    lead = rng.choice(("", "Here is a geography question. ", "I am studying world geography. ",
                       "Quick question. "))
    facts = (f"{_cap(country)} is a country in {continent}.", f"The capital of {country} is {capital}.")
    return _item("capital_recall", lead + question, "<city>", capital, "text", candidates=_CAPITALS, solution=Solution(
        facts=facts, evidence=(question,),
        steps=(facts[0], f"The capital city of {country} is {capital}.", f"So the answer is {capital}."),
        explanation=f"{capital} is the capital city of {country}, a well-known fact about this country in {continent}."))


# --- 7. counting: members of a category, or occurrences of a word ------------------------------

_ARTICLE = {"fruit": "a", "animal": "an", "vehicle": "a", "color": "a"}


def make_counting(rng: random.Random) -> TaskItem:
    if rng.random() < 0.7:
        cat = rng.choice(tuple(CATEGORIES))
        plural = CATEGORY_PLURALS[cat]
        k = rng.randint(4, 7)
        count = rng.randint(0, min(5, k - 1))
        others = [w for c, ws in CATEGORIES.items() if c != cat for w in ws] + list(OTHER_THINGS)
        items = rng.sample(CATEGORIES[cat], count) + rng.sample(others, k - count)
        rng.shuffle(items)
        shown = ", ".join(items)
        body = rng.choice((f"How many {plural} are in this list: {shown}?", f"Count the {plural} in this list: {shown}."))
        steps, n = [], 0
        for w in items:
            if w in CATEGORIES[cat]:
                n += 1
                steps.append(f"{_cap(w)} is {_ARTICLE[cat]} {cat}, so the count is now {n}.")
            else:
                steps.append(f"{_cap(w)} is not {_ARTICLE[cat]} {cat}.")
        hits = [w for w in items if w in CATEGORIES[cat]]
        misses = [w for w in items if w not in CATEGORIES[cat]]
        facts = tuple(f"{_cap(w)} is {_ARTICLE[cat]} {cat}." for w in hits)
        facts += (f"{_cap(_join_and(misses))} is not {_ARTICLE[cat]} {cat}." if len(misses) == 1
                  else f"{_cap(_join_and(misses))} are not {plural}.",)
        expl = (f"The {plural} in the list are {_join_and(hits)}, which makes {count}." if hits
                else f"None of the items in the list is {_ARTICLE[cat]} {cat}, so the count is 0.")
    else:
        pool = rng.choice((CATEGORIES["color"], CATEGORIES["animal"], CATEGORIES["fruit"]))
        word, *rest = rng.sample(pool, 3)
        k = rng.randint(5, 8)
        count = rng.randint(1, min(5, k - 1))
        items = [word] * count + [rng.choice(rest) for _ in range(k - count)]
        rng.shuffle(items)
        shown = ", ".join(items)
        body = f"How many times does the word \"{word}\" appear in this list: {shown}?"
        steps, n = [], 0
        for i, w in enumerate(items, 1):
            if w == word:
                n += 1
                steps.append(f"Item {i}, \"{w}\", is \"{word}\", so the count is now {n}.")
            else:
                steps.append(f"Item {i}, \"{w}\", is not \"{word}\".")
        plural = "times"
        facts = ("Counting occurrences means going through the list and adding one for every exact match.",)
        where = [str(i) for i, w in enumerate(items, 1) if w == word]
        expl = f"The word \"{word}\" is item number {_join_and(where)} in the list, so it appears {count} time{'s' if count != 1 else ''}."
    assert n == count
    steps.append(f"So the answer is {count}.")
    return _item("counting", body, "<number>", count, "number", Solution(
        facts=facts, evidence=(shown,), steps=tuple(steps), explanation=expl))


# --- 8. compare_numbers: who has more / less of a stated quantity ------------------------------
# (value sentence, range, [(question, pick max?, result phrase)], general fact)

_QUANTITIES = (
    ("{n} is {v} years old", (6, 80),
     (("Who is older?", True, "is older"), ("Who is younger?", False, "is younger")),
     "The person with more years of age is older."),
    ("{n} is {v} cm tall", (120, 195),
     (("Who is taller?", True, "is taller"), ("Who is shorter?", False, "is shorter")),
     "The person with the larger height in centimetres is taller."),
    ("{n} has {v} dollars", (5, 150),
     (("Who has more money?", True, "has more money"), ("Who has less money?", False, "has less money")),
     "The larger number of dollars is more money."),
    ("{n} scored {v} points in the quiz", (10, 100),
     (("Who scored more points?", True, "scored more points"),
      ("Who scored fewer points?", False, "scored fewer points")),
     "The larger number of points is the higher score."),
    ("{n} read {v} books this year", (2, 40),
     (("Who read more books?", True, "read more books"), ("Who read fewer books?", False, "read fewer books")),
     "The larger number of books read means more books."),
)


def make_compare_numbers(rng: random.Random) -> TaskItem:
    (a, _), (b, _) = rng.sample(_pool(PEOPLE, rng), 2)
    tmpl, (lo, hi), questions, fact = rng.choice(_QUANTITIES)
    x, y = rng.sample(range(lo, hi + 1), 2)
    question, pick_max, phrase = rng.choice(questions)
    winner = a if (x > y) == pick_max else b
    given = f"{tmpl.format(n=a, v=x)} and {tmpl.format(n=b, v=y)}."
    big, small = max(x, y), min(x, y)
    why = f"{big} is greater than {small}" if pick_max else f"{small} is less than {big}"
    steps = (f"{tmpl.format(n=a, v=x)}.", f"{tmpl.format(n=b, v=y)}.",
             f"{why}, so {winner} {phrase}.", f"So the answer is {winner}.")
    return _item("compare_numbers", f"{given} {question}", f"<{a} or {b}>", winner, "choice", Solution(
        facts=(fact,), evidence=(given,), steps=steps,
        explanation=f"{given[:-1]}; since {why}, {winner} {phrase}."),
        choices=(a, b))


# --- 9. element_compare: recall two atomic numbers, then compare -------------------------------

def make_element_compare(rng: random.Random) -> TaskItem:
    (n1, s1, z1), (n2, s2, z2) = rng.sample(_pool(ELEMENTS, rng), 2)
    want_max = rng.random() < 0.5
    if rng.random() < 0.7:
        word = "larger" if want_max else "smaller"
        question = rng.choice((f"Which element has the {word} atomic number: {n1} or {n2}?",
                               f"Between {n1} and {n2}, which element has the {word} atomic number?"))
        phrase = f"has the {word} atomic number"
        extra = ()
    else:
        word = "more" if want_max else "fewer"
        question = f"Which element has {word} protons in its nucleus: {n1} or {n2}?"
        phrase = f"has {word} protons"
        extra = ("The atomic number of an element is the number of protons in its nucleus.",)
    winner = n1 if (z1 > z2) == want_max else n2
    big, small = max(z1, z2), min(z1, z2)
    why = f"{big} is greater than {small}" if want_max else f"{small} is less than {big}"
    facts = (f"{_cap(n1)} (symbol {s1}) has atomic number {z1}.",
             f"{_cap(n2)} (symbol {s2}) has atomic number {z2}.") + extra
    steps = (f"{_cap(n1)} has atomic number {z1}.", f"{_cap(n2)} has atomic number {z2}.",
             f"{why}, so {winner} {phrase}.", f"So the answer is {winner}.")
    return _item("element_compare", question, f"<{n1} or {n2}>", winner, "choice", Solution(
        facts=facts, evidence=(question,), steps=steps,
        explanation=f"{_cap(n1)} has atomic number {z1} and {n2} has {z2}; since {why}, {winner} {phrase}."),
        choices=(n1, n2))


# --- the registry (insertion order = display order) --------------------------------------------

FAMILIES: dict[str, Family] = {f.name: f for f in [
    Family("arithmetic", "solve a short multi-step arithmetic word problem with small whole numbers",
           "number", "step_by_step",
           "A small model cannot chain several operations in one jump, but it can do one operation per written step.",
           make_arithmetic),
    Family("weekday", "work out the day of the week a given number of days after or before a given day",
           "text", "step_by_step",
           "Jumping many days at once is error-prone; splitting into whole weeks plus a few counted days makes each step trivial.",
           make_weekday),
    # passage_fact items are "text" or "number" per question (the item's answer_type decides).
    Family("passage_fact", "answer a question about a short passage using only the information in the passage",
           "text", "extract_generate",
           "Quoting the sentence that holds the answer keeps a small model grounded in the text instead of inventing facts about unfamiliar names.",
           make_passage_fact),
    Family("sentiment", "classify the sentiment of a short review as positive or negative",
           "choice", "direct",
           "The polarity is carried by obvious words, so extra reasoning text only gives a small model more chances to drift.",
           make_sentiment),
    Family("sort_list", "sort a short list of words alphabetically or of numbers by size",
           "list", "step_by_step",
           "Picking one item at a time turns sorting into a chain of single comparisons a small model can follow.",
           make_sort_list),
    Family("capital_recall", "name the capital city of a country",
           "text", "recall_then_generate",
           "Stating what it knows about the country first primes the right memory, and the answer is then a copy.",
           make_capital_recall),
    Family("counting", "count how many items in a short list belong to a category or match a given word",
           "number", "step_by_step",
           "A running count, item by item, avoids the miscounts a small model makes when answering at a glance.",
           make_counting),
    Family("compare_numbers", "decide which of two people has more or less of a quantity stated in the text",
           "choice", "explain_then_answer",
           "The answer hinges on one comparison, and naming the two numbers before answering keeps a small model from picking the wrong name.",
           make_compare_numbers),
    Family("element_compare", "compare two chemical elements by atomic number",
           "choice", "recall_reason_generate",
           "The model must first retrieve two atomic numbers and then compare them; doing both in one jump is where small models fail.",
           make_element_compare),
]}
