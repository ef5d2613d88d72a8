"""The passage_fact family: invented people, companies and towns."""
from __future__ import annotations

import random

from orca2_kit.tasks.base import Family, Solution, TaskItem
from orca2_kit.tasks.families.common import MONTHS, TOWNS, item, pool
from orca2_kit.tasks.facts import COMPANY_KINDS, COMPANY_STEMS, FESTIVALS, FIRST_NAMES, PRODUCTS_MADE, RIVERS, SHOPS, SUBJECTS, SURNAMES


# Each builder returns (sentences, [(question, answer, answer_type, hint, index of the sentence)]).

def _full_name(rng):
    return f"{rng.choice(pool(FIRST_NAMES, rng))} {rng.choice(pool(SURNAMES, rng))}"


def _passage_person(rng):
    full = _full_name(rng)
    last = full.split()[1]
    t1, t2, t3 = rng.sample(pool(TOWNS, rng), 3)
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
    t1, t2 = rng.sample(pool(TOWNS, rng), 2)
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
    town = rng.choice(pool(TOWNS, rng))
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
    return item("passage_fact", body, hint, ans, atype, candidates=alternatives.get(hint, ()) if atype == "text" else (),
                 solution=Solution(
        facts=(f"According to the passage: {ev}",), evidence=(ev,), steps=steps,
        explanation=f"The passage says: \"{ev}\" So the answer is {ans}."))


# passage_fact items are "text" or "number" per question (the item's answer_type decides).
FAMILY = Family("passage_fact", "answer a question about a short passage using only the information in the passage",
                "text", "extract_generate",
                "Quoting the sentence that holds the answer keeps a small model grounded in the text instead of inventing facts about unfamiliar names.",
                make_passage_fact)
