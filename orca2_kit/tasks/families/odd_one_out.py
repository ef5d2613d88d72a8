"""The odd_one_out family: four words, three from one group (fruits, animals, ...) and one from another."""
from __future__ import annotations

import random

from orca2_kit.tasks.base import Family, Solution, TaskItem
from orca2_kit.tasks.families.common import cap, deal, item, join_and
from orca2_kit.tasks.facts import WORD_GROUP_CLASHES, WORD_GROUPS

_GROUP = {g[0]: g for g in WORD_GROUPS}
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
    if rng.random() < 0.5:  # the group named (the base model scored below chance when it never was)
        question = rng.choice((f"Which of these words is not {_a(group)}: {listed}?",
                               f"Three of these words are {plural}: {listed}. Which word is not?"))
    else:
        question = rng.choice((f"Which word does not belong with the others: {listed}?",
                               f"Which of these words is the odd one out: {listed}?"))
    facts = tuple(f"{cap(w)} is {_a(group if w in three else odd_group)}." for w in shown)
    steps = tuple(f"{cap(w)} is {_a(group)}." if w in three else f"{cap(w)} is {_a(odd_group)}, not {_a(group)}."
                  for w in shown)
    steps += (f"{cap(join_and(three))} are {plural}; only {odd} is not.", f"So the answer is {odd}.")
    # hint "<word>" read as a question about the word "word" to the base model ("The answer is not a word.")
    return item("odd_one_out", question, "<the odd word>", odd, "choice", choices=shown, solution=Solution(
        facts=facts, evidence=(listed,), steps=steps,
        explanation=f"{cap(join_and(three))} are all {plural}, but {odd} is {_a(odd_group)}, so {odd} is the odd one out."))


FAMILY = Family("odd_one_out", "find the word that does not belong with the other three",
                "choice", "explain_then_answer",
                "Naming the group the three share is the whole insight; once it is said, the odd word follows, and a small model answering at a glance picks by surface likeness instead.",
                make_odd_one_out)
