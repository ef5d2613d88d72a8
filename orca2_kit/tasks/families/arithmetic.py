"""The arithmetic family: 2-3 operations, small non-negative integers."""
from __future__ import annotations

import random

from orca2_kit.tasks.base import Family, Solution, TaskItem
from orca2_kit.tasks.families.common import cap, item, pool
from orca2_kit.tasks.facts import OBJECTS, PEOPLE, WEEKDAYS


# Each template returns (given sentences, question, answer, steps, general fact, explanation).

def _arith_buy_give(rng):
    (name, pron), (friend, _) = rng.sample(pool(PEOPLE, rng), 2)
    obj = rng.choice(OBJECTS)
    a, b = rng.randint(3, 30), rng.randint(2, 20)
    c = rng.randint(1, a + b - 1)
    s, r = a + b, a + b - c
    given = [f"{name} has {a} {obj}.", f"{cap(pron)} buys {b} more and then gives {c} to {friend}."]
    steps = (f"{name} starts with {a} {obj}.",
             f"After buying {b} more, {name} has {a} + {b} = {s} {obj}.",
             f"After giving {c} to {friend}, {name} has {s} - {c} = {r} {obj}.",
             f"So {name} has {r} {obj} now.")
    return (given, f"How many {obj} does {name} have now?", r, steps,
            "Buying more adds to what you have, and giving some away subtracts from it.",
            f"{name} gains {b} {obj} and then loses {c}, so {a} + {b} - {c} = {r}.")


def _arith_packs_use(rng):
    name, pron = rng.choice(pool(PEOPLE, rng))
    obj = rng.choice(OBJECTS)
    n, k = rng.randint(2, 6), rng.randint(2, 10)
    t = n * k
    u = rng.randint(1, t - 1)
    r = t - u
    given = [f"{name} buys {n} packs of {obj}.", f"Each pack has {k} {obj}.",
             f"{cap(pron)} uses {u} of them."]
    steps = (f"{name} buys {n} packs with {k} {obj} in each pack.",
             f"In total that is {n} × {k} = {t} {obj}.",
             f"After using {u}, there are {t} - {u} = {r} {obj} left.",
             f"So {r} {obj} are left.")
    return (given, f"How many {obj} are left?", r, steps,
            "Equal packs are counted with multiplication, and using some up is a subtraction.",
            f"{n} packs of {k} make {t} {obj}, and taking away the {u} used leaves {r}.")


def _arith_boxes_extra(rng):
    name, _ = rng.choice(pool(PEOPLE, rng))
    obj = rng.choice(OBJECTS)
    box = rng.choice(("box", "bag", "jar", "basket"))
    k, n, b = rng.randint(2, 12), rng.randint(2, 6), rng.randint(1, 10)
    t = n * k
    r = t + b
    given = [f"A {box} holds {k} {obj}.",
             f"{name} fills {n} {box}{'e' if box == 'box' else ''}s and has {b} extra {obj} left over."]
    steps = (f"Each full {box} holds {k} {obj}, and there are {n} full ones.",
             f"The full ones hold {n} × {k} = {t} {obj}.",
             f"Adding the {b} extra {obj} gives {t} + {b} = {r}.",
             f"So {name} has {r} {obj} in total.")
    return (given, f"How many {obj} does {name} have in total?", r, steps,
            "Equal groups are counted with multiplication, and extra items are added on.",
            f"{n} groups of {k} make {t}, and the {b} extra {obj} bring the total to {r}.")


def _arith_share_more(rng):
    name, _ = rng.choice(pool(PEOPLE, rng))
    obj = rng.choice(OBJECTS)
    k, q, b = rng.randint(2, 6), rng.randint(2, 10), rng.randint(1, 10)
    t = k * q  # exact division by construction
    r = q + b
    given = [f"{name} has {t} {obj} and shares them equally among {k} friends, keeping none.",
             f"Then each friend gets {b} more {obj}."]
    steps = (f"{name} shares {t} {obj} equally among {k} friends.",
             f"Each friend gets {t} ÷ {k} = {q} {obj}.",
             f"Then each friend gets {b} more, so each has {q} + {b} = {r} {obj}.",
             f"So each friend has {r} {obj}.")
    return (given, f"How many {obj} does each friend have now?", r, steps,
            "Sharing equally is a division, and getting more is an addition.",
            f"Sharing {t} among {k} gives {q} each, and {b} more makes {r}.")


def _arith_money(rng):
    name, pron = rng.choice(pool(PEOPLE, rng))
    d1, d2 = rng.sample(WEEKDAYS[:5], 2)
    a, b = rng.randint(5, 60), rng.randint(5, 60)
    c = rng.randint(1, a + b - 1)
    s, r = a + b, a + b - c
    thing = rng.choice(("lunch", "a book", "a ticket", "groceries", "a present"))
    given = [f"{name} earns {a} dollars on {d1} and {b} dollars on {d2}.",
             f"{cap(pron)} spends {c} dollars of it on {thing}."]
    steps = (f"{name} earns {a} dollars and then {b} dollars.",
             f"Together that is {a} + {b} = {s} dollars.",
             f"After spending {c} dollars, {s} - {c} = {r} dollars are left.",
             f"So {name} has {r} dollars left.")
    return (given, f"How many of the dollars {name} earned are left?", r, steps,
            "Money earned is added, and money spent is subtracted.",
            f"{name} earned {a} + {b} = {s} dollars and spent {c}, which leaves {r}.")


def _arith_start_bags_give(rng):
    name, pron = rng.choice(pool(PEOPLE, rng))
    obj = rng.choice(OBJECTS)
    a, n, k = rng.randint(2, 20), rng.randint(2, 5), rng.randint(2, 8)
    t = n * k
    s = a + t
    c = rng.randint(1, s - 1)
    r = s - c
    given = [f"{name} has {a} {obj}.",
             f"{cap(pron)} buys {n} bags with {k} {obj} in each bag, then gives away {c} {obj}."]
    steps = (f"The {n} bags hold {n} × {k} = {t} {obj}.",
             f"With the {a} {obj} {name} already had, that makes {a} + {t} = {s}.",
             f"After giving away {c}, {name} has {s} - {c} = {r} {obj}.",
             f"So {name} has {r} {obj} now.")
    return (given, f"How many {obj} does {name} have now?", r, steps,
            "Equal bags are counted with multiplication; buying adds and giving away subtracts.",
            f"The bags add {n} × {k} = {t} to the {a} {obj}, and giving away {c} leaves {r}.")


def _arith_class_groups(rng):
    k, q = rng.randint(2, 5), rng.randint(3, 8)
    t = k * q  # exact division by construction
    a = rng.randint(t // 2, t - 2)  # at least 2 join, so "students" stays plural
    b = t - a
    given = [f"There are {a} students in a class.", f"Then {b} more students join the class.",
             f"The teacher splits all the students into {k} equal groups."]
    steps = (f"The class starts with {a} students.",
             f"After {b} more join, there are {a} + {b} = {t} students.",
             f"Splitting them into {k} equal groups gives {t} ÷ {k} = {q} students per group.",
             f"So there are {q} students in each group.")
    return (given, "How many students are in each group?", q, steps,
            "Joining adds students, and splitting into equal groups is a division.",
            f"The class grows to {a} + {b} = {t}, and {t} shared among {k} groups is {q} each.")


_ARITH_TEMPLATES = (_arith_buy_give, _arith_packs_use, _arith_boxes_extra, _arith_share_more,
                    _arith_money, _arith_start_bags_give, _arith_class_groups)


def make_arithmetic(rng: random.Random) -> TaskItem:
    given, question, r, steps, fact, expl = rng.choice(_ARITH_TEMPLATES)(rng)
    assert 0 <= r <= 200
    return item("arithmetic", " ".join(given) + " " + question, "<number>", r, "number",
                 Solution(facts=(fact,), evidence=tuple(given), steps=steps, explanation=expl))


FAMILY = Family("arithmetic", "solve a short multi-step arithmetic word problem with small whole numbers",
                "number", "step_by_step",
                "A small model cannot chain several operations in one jump, but it can do one operation per written step.",
                make_arithmetic)
