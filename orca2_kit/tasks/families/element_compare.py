"""The element_compare family: recall two atomic numbers, then compare."""
from __future__ import annotations

import random

from orca2_kit.tasks.base import Family, Solution, TaskItem
from orca2_kit.tasks.families.common import cap, deal, item
from orca2_kit.tasks.facts import ELEMENTS


def make_element_compare(rng: random.Random) -> TaskItem:
    (n1, s1, z1), (n2, s2, z2) = deal(ELEMENTS, rng, 2)  # every element of the split before any comes again
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
    facts = (f"{cap(n1)} (symbol {s1}) has atomic number {z1}.",
             f"{cap(n2)} (symbol {s2}) has atomic number {z2}.") + extra
    steps = (f"{cap(n1)} has atomic number {z1}.", f"{cap(n2)} has atomic number {z2}.",
             f"{why}, so {winner} {phrase}.", f"So the answer is {winner}.")
    return item("element_compare", question, f"<{n1} or {n2}>", winner, "choice", Solution(
        facts=facts, evidence=(question,), steps=steps,
        explanation=f"{cap(n1)} has atomic number {z1} and {n2} has {z2}; since {why}, {winner} {phrase}."),
        choices=(n1, n2))


FAMILY = Family("element_compare", "compare two chemical elements by atomic number",
                "choice", "recall_reason_generate",
                "The model must first retrieve two atomic numbers and then compare them; doing both in one jump is where small models fail.",
                make_element_compare)
