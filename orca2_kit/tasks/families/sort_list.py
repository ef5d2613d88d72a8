"""The sort_list family: 3-5 words (distinct first letters) or numbers."""
from __future__ import annotations

import random

from orca2_kit.tasks.base import Family, Solution, TaskItem
from orca2_kit.tasks.families.common import item
from orca2_kit.tasks.facts import SORT_WORDS


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
    return item("sort_list", f"{ask}: {shown}.", "<comma-separated list>", ref, "list",
                 Solution(facts=(fact,), evidence=(shown,), steps=tuple(steps), explanation=expl))


FAMILY = Family("sort_list", "sort a short list of words alphabetically or of numbers by size",
                "list", "step_by_step",
                "Picking one item at a time turns sorting into a chain of single comparisons a small model can follow.",
                make_sort_list)
