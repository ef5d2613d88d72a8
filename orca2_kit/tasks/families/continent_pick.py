"""The continent_pick family: which of two countries is on a given continent."""
from __future__ import annotations

import random

from orca2_kit.tasks.base import Family, Solution, TaskItem
from orca2_kit.tasks.families.common import cap, deal, item, pool
from orca2_kit.tasks.families.continents import CONTINENT_COUNTRIES, continent_fact


def make_continent_pick(rng: random.Random) -> TaskItem:
    answer = deal(CONTINENT_COUNTRIES, rng)[0]  # the country asked for: a different one each item
    continent = answer[1]
    other = rng.choice([c for c in pool(CONTINENT_COUNTRIES, rng) if c[1] != continent])  # same split, elsewhere
    first, second = (answer, other) if rng.random() < 0.5 else (other, answer)
    a, b = first[0], second[0]
    question = rng.choice((f"Which of these two countries is in {continent}: {a} or {b}?",
                           f"Which country lies in {continent}: {a} or {b}?",
                           f"Between {a} and {b}, which country is in {continent}?"))
    facts = (continent_fact(*first), continent_fact(*second))
    steps = (f"{cap(a)} is in {first[1]}.", f"{cap(b)} is in {second[1]}.",
             f"Only {answer[0]} is in {continent}.",
             f"So the answer is {answer[0]}.")
    # (three options, with the hint "<A, B or C>", left the base model copying all of them into its answer)
    return item("continent_pick", question, f"<{a} or {b}>", answer[0], "choice", choices=(a, b), solution=Solution(
        facts=facts, evidence=(question,), steps=steps,
        explanation=f"{cap(answer[0])} is in {continent}, while {other[0]} is in {other[1]}."))


FAMILY = Family("continent_pick", "pick which of two countries is on a given continent",
                "choice", "recall_reason_generate",
                "The model must recall where each country is and then match them against the question; recalling and matching in one jump is where a small model guesses.",
                make_continent_pick)
