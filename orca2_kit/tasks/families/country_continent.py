"""The country_continent family: name the continent a country is in."""
from __future__ import annotations

import random

from orca2_kit.tasks.base import Family, Solution, TaskItem
from orca2_kit.tasks.families.common import cap, deal, item
from orca2_kit.tasks.families.continents import CONTINENT_COUNTRIES, continent_fact

# what a response could name instead: any continent (the two no question here is about included)
_CANDIDATES = ("Africa", "Asia", "Europe", "North America", "South America", "Oceania", "Antarctica")


def make_country_continent(rng: random.Random) -> TaskItem:
    country, continent, capital = deal(CONTINENT_COUNTRIES, rng)[0]  # a different country each item
    question = rng.choice((f"On which continent is {country}?", f"Which continent is {country} in?",
                           f"{cap(country)} is a country on which continent?",
                           f"On which continent would you find {country}?"))
    lead = rng.choice(("", "Here is a geography question. ", "I am studying world geography. ", "Quick question. "))
    fact = continent_fact(country, continent, capital)
    return item("country_continent", lead + question, "<continent>", continent, "text", candidates=_CANDIDATES,
                solution=Solution(
                    facts=(fact,), evidence=(question,),
                    steps=(f"The question asks where {country} is.", fact, f"So the answer is {continent}."),
                    explanation=f"{cap(country)} lies in {continent}, so that is its continent."))


FAMILY = Family("country_continent", "name the continent a country is in",
                "text", "recall_then_generate",
                "Saying first what it knows about the country (where it is, its capital) brings up the right memory, and the continent is then copied from that fact.",
                make_country_continent)
