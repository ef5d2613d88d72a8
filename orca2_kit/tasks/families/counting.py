"""The counting family: members of a category, or occurrences of a word."""
from __future__ import annotations

import random

from orca2_kit.tasks.base import Family, Solution, TaskItem
from orca2_kit.tasks.families.common import cap, item, join_and
from orca2_kit.tasks.facts import CATEGORIES, CATEGORY_PLURALS, OTHER_THINGS


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
                steps.append(f"{cap(w)} is {_ARTICLE[cat]} {cat}, so the count is now {n}.")
            else:
                steps.append(f"{cap(w)} is not {_ARTICLE[cat]} {cat}.")
        hits = [w for w in items if w in CATEGORIES[cat]]
        misses = [w for w in items if w not in CATEGORIES[cat]]
        facts = tuple(f"{cap(w)} is {_ARTICLE[cat]} {cat}." for w in hits)
        facts += (f"{cap(join_and(misses))} is not {_ARTICLE[cat]} {cat}." if len(misses) == 1
                  else f"{cap(join_and(misses))} are not {plural}.",)
        expl = (f"The {plural} in the list are {join_and(hits)}, which makes {count}." if hits
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
        expl = f"The word \"{word}\" is item number {join_and(where)} in the list, so it appears {count} time{'s' if count != 1 else ''}."
    assert n == count
    steps.append(f"So the answer is {count}.")
    return item("counting", body, "<number>", count, "number", Solution(
        facts=facts, evidence=(shown,), steps=tuple(steps), explanation=expl))


FAMILY = Family("counting", "count how many items in a short list belong to a category or match a given word",
                "number", "step_by_step",
                "A running count, item by item, avoids the miscounts a small model makes when answering at a glance.",
                make_counting)
