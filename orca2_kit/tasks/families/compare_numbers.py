"""The compare_numbers family: who has more / less of a stated quantity."""
from __future__ import annotations

import random

from orca2_kit.tasks.base import Family, Solution, TaskItem
from orca2_kit.tasks.families.common import item, pool
from orca2_kit.tasks.facts import PEOPLE


# (value sentence, range, [(question, pick max?, result phrase)], general fact)

_QUANTITIES = (
    ("{n} is {v} years old", (6, 80),
     (("Who is older?", True, "is older"), ("Who is younger?", False, "is younger")),
     "The person with more years of age is older."),
    ("{n} is {v} cm tall", (120, 195),
     (("Who is taller?", True, "is taller"), ("Who is shorter?", False, "is shorter")),
     "The person with the larger height in centimetres is taller."),
    ("{n} has {v} dollars", (5, 150),
     (("Who has more money?", True, "has more money"), ("Who has less money?", False, "has less money")),
     "The larger number of dollars is more money."),
    ("{n} scored {v} points in the quiz", (10, 100),
     (("Who scored more points?", True, "scored more points"),
      ("Who scored fewer points?", False, "scored fewer points")),
     "The larger number of points is the higher score."),
    ("{n} read {v} books this year", (2, 40),
     (("Who read more books?", True, "read more books"), ("Who read fewer books?", False, "read fewer books")),
     "The larger number of books read means more books."),
)


def make_compare_numbers(rng: random.Random) -> TaskItem:
    (a, _), (b, _) = rng.sample(pool(PEOPLE, rng), 2)
    tmpl, (lo, hi), questions, fact = rng.choice(_QUANTITIES)
    x, y = rng.sample(range(lo, hi + 1), 2)
    question, pick_max, phrase = rng.choice(questions)
    winner = a if (x > y) == pick_max else b
    given = f"{tmpl.format(n=a, v=x)} and {tmpl.format(n=b, v=y)}."
    big, small = max(x, y), min(x, y)
    why = f"{big} is greater than {small}" if pick_max else f"{small} is less than {big}"
    steps = (f"{tmpl.format(n=a, v=x)}.", f"{tmpl.format(n=b, v=y)}.",
             f"{why}, so {winner} {phrase}.", f"So the answer is {winner}.")
    return item("compare_numbers", f"{given} {question}", f"<{a} or {b}>", winner, "choice", Solution(
        facts=(fact,), evidence=(given,), steps=steps,
        explanation=f"{given[:-1]}; since {why}, {winner} {phrase}."),
        choices=(a, b))


FAMILY = Family("compare_numbers", "decide which of two people has more or less of a quantity stated in the text",
                "choice", "explain_then_answer",
                "The answer hinges on one comparison, and naming the two numbers before answering keeps a small model from picking the wrong name.",
                make_compare_numbers)
