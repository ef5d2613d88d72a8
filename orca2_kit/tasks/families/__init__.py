"""The procedurally generated task families, one file each.

Each `make(rng)` draws one item using only the `random.Random` it is given, so a suite is fully
determined by its seed. Every item carries a complete `Solution` (facts, evidence, steps,
explanation) so the reference teacher can render it in any of the six strategies, and all of those
pieces are computed from the same numbers as the reference, so they cannot disagree with it.
Problems are kept deliberately easy: the student is a 135M-parameter model.

A new family: a file here with `make_<name>(rng)` and `FAMILY = Family(...)`, listed below.
"""
from __future__ import annotations

from orca2_kit.tasks.base import Family
from orca2_kit.tasks.families import arithmetic
from orca2_kit.tasks.families import capital_recall
from orca2_kit.tasks.families import compare_numbers
from orca2_kit.tasks.families import continent_pick
from orca2_kit.tasks.families import country_continent
from orca2_kit.tasks.families import counting
from orca2_kit.tasks.families import dialogue
from orca2_kit.tasks.families import element_compare
from orca2_kit.tasks.families import odd_one_out
from orca2_kit.tasks.families import passage_fact
from orca2_kit.tasks.families import past_tense
from orca2_kit.tasks.families import sentiment
from orca2_kit.tasks.families import sort_list
from orca2_kit.tasks.families import weekday

from orca2_kit.tasks.families.common import MONTHS, TOWNS  # noqa: F401

# insertion order = display order
FAMILIES: dict[str, Family] = {m.FAMILY.name: m.FAMILY for m in (
    arithmetic,
    weekday,
    passage_fact,
    sentiment,
    sort_list,
    capital_recall,
    counting,
    compare_numbers,
    element_compare,
    # added for the ablation study (more families, expected strategies spread over all six)
    past_tense,
    dialogue,
    country_continent,
    odd_one_out,
    continent_pick,
)}
