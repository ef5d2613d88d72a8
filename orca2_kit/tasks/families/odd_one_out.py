"""The odd_one_out family: four words, three from one group (fruits, animals, ...) and one from another."""
from __future__ import annotations

import random

from orca2_kit.tasks.base import Family, Solution, TaskItem
from orca2_kit.tasks.families.common import cap, deal, item, join_and
from orca2_kit.tasks.facts import WORD_GROUP_CLASHES, WORD_GROUPS

_WORDS = tuple((w, g[0]) for g in WORD_GROUPS for w in g[2])  # (word, group): what the odd word is dealt from


def _a(noun: str) -> str:
    return ("an " if noun[0] in "aeiou" else "a ") + noun


def make_odd_one_out(rng: random.Random) -> TaskItem:
    # a different odd word each item, until all are used; word groups are common knowledge, not facts
    # a split must keep to itself (as in counting), so every split draws from all of them
    odd, odd_group = deal(_WORDS, rng, partitioned=False)[0]
    group, plural, words = rng.choice([g for g in WORD_GROUPS if g[0] != odd_group
                                       and {g[0], odd_group} not in WORD_GROUP_CLASHES])
    three = rng.sample(words, 3)
    shown = three + [odd]
    rng.shuffle(shown)
    listed = ", ".join(shown)
    # For half the items the group is named. No "word" in the questions: asked "which word ...", the
    # base model answered "The answer is not a word." (Neither change, nor the hint below, lifted the
    # untrained SmolLM2-135M off 3-7% right, against 25% chance: this family starts at the floor.)
    if rng.random() < 0.5:
        question = rng.choice((f"Which of these is not {_a(group)}: {listed}?",
                               f"Three of these are {plural}: {listed}. Which one is not?"))
    else:
        question = rng.choice((f"Which one does not belong with the others: {listed}?",
                               f"Which of these is the odd one out: {listed}?"))
    facts = tuple(f"{cap(w)} is {_a(group if w in three else odd_group)}." for w in shown)
    steps = tuple(f"{cap(w)} is {_a(group)}." if w in three else f"{cap(w)} is {_a(odd_group)}, not {_a(group)}."
                  for w in shown)
    steps += (f"{cap(join_and(three))} are {plural}; only {odd} is not.", f"So the answer is {odd}.")
    # the hint lists the four, as the other choice families' hints do
    hint = f"<{shown[0]}, {shown[1]}, {shown[2]} or {shown[3]}>"
    return item("odd_one_out", question, hint, odd, "choice", choices=shown, solution=Solution(
        facts=facts, evidence=(listed,), steps=steps,
        explanation=f"{cap(join_and(three))} are all {plural}, but {odd} is {_a(odd_group)}, so {odd} is the odd one out."))


FAMILY = Family("odd_one_out", "find the word that does not belong with the other three",
                "choice", "explain_then_answer",
                "Saying which group three of the words share, and which group the fourth is in, settles it; a small model answering at a glance picks by surface likeness instead.",
                make_odd_one_out)
