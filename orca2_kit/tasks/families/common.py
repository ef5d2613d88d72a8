"""What every family's generator shares: the item constructor, the split-aware fact pools, small text helpers."""
from __future__ import annotations

import random

from orca2_kit.tasks.base import ANSWER_FORMAT, Solution, TaskItem
from orca2_kit.tasks.facts import TOWN_PREFIXES, TOWN_SUFFIXES, split_pool

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")
TOWNS = tuple(p + s for p in TOWN_PREFIXES for s in TOWN_SUFFIXES)  # invented, 140 of them


def pool(table: tuple, rng: random.Random) -> tuple:
    """The part of a fact table the item's split may draw from: build_suite sets `rng.split`, so a
    test item's people, places, capitals and elements never appear in a training item."""
    return split_pool(table, getattr(rng, "split", None))


def deal(table: tuple, rng: random.Random, k: int = 1, partitioned: bool = True) -> list:
    """`k` different entries of the split's pool (of the whole table if not `partitioned`), dealt like
    cards from a deck shuffled by `rng`: no entry comes again before the whole pool has been dealt, so
    40 test items name 40 different countries (where the pool has 40) instead of the ~26 that 40
    independent draws would give."""
    entries = pool(table, rng) if partitioned else table
    decks = rng.__dict__.setdefault("_orca2_decks", {})  # on the rng: one suite, one family, one split
    deck = decks.get(entries)
    if deck is None or len(deck) < k:  # a fresh deck; what was left of the old one is dropped
        deck = decks[entries] = list(entries)
        rng.shuffle(deck)
    return [deck.pop() for _ in range(k)]


def cap(s: str) -> str:
    return s[:1].upper() + s[1:]


def item(family: str, body: str, hint: str, reference, answer_type: str, solution: Solution,
          choices=(), candidates=()) -> TaskItem:
    # Every prompt ends with a newline and the answer-format line (see base.ANSWER_FORMAT).
    return TaskItem(id="", family=family, split="", prompt=body + "\n" + ANSWER_FORMAT.format(hint=hint),
                    reference=str(reference), answer_type=answer_type, choices=tuple(choices),
                    solution=solution, candidates=tuple(candidates))


def join_and(xs) -> str:
    xs = list(xs)
    return xs[0] if len(xs) == 1 else ", ".join(xs[:-1]) + " and " + xs[-1]
