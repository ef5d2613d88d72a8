"""The capital_recall family: name the capital city of a country (a fact the base model may have memorised)."""
from __future__ import annotations

import random

from orca2_kit.tasks.base import Family, Solution, TaskItem
from orca2_kit.tasks.families.common import cap, deal, item
from orca2_kit.tasks.facts import COUNTRIES


_CAPITALS = tuple(c for _, c, _ in COUNTRIES)  # every capital a response could name (any split)


def make_capital_recall(rng: random.Random) -> TaskItem:
    country, capital, continent = deal(COUNTRIES, rng)[0]  # a different country each item, until all are used
    question = rng.choice((f"What is the capital of {country}?", f"Which city is the capital of {country}?",
                           f"Name the capital city of {country}.", f"What city is the capital of {country}?"))
    lead = rng.choice(("", "Here is a geography question. ", "I am studying world geography. ",
                       "Quick question. "))
    facts = (f"{cap(country)} is a country in {continent}.", f"The capital of {country} is {capital}.")
    return item("capital_recall", lead + question, "<city>", capital, "text", candidates=_CAPITALS, solution=Solution(
        facts=facts, evidence=(question,),
        steps=(facts[0], f"The capital city of {country} is {capital}.", f"So the answer is {capital}."),
        explanation=f"{capital} is the capital city of {country}, a well-known fact about this country in {continent}."))


FAMILY = Family("capital_recall", "name the capital city of a country",
                "text", "recall_then_generate",
                "Stating what it knows about the country first primes the right memory, and the answer is then a copy.",
                make_capital_recall)
