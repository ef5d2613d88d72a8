"""The weekday family: n days after / before a weekday."""
from __future__ import annotations

import random

from orca2_kit.tasks.base import Family, Solution, TaskItem
from orca2_kit.tasks.families.common import cap, item
from orca2_kit.tasks.facts import WEEKDAYS


def make_weekday(rng: random.Random) -> TaskItem:
    start, n, forward = rng.randrange(7), rng.randint(2, 20), rng.random() < 0.5
    day = WEEKDAYS[start]
    target = WEEKDAYS[(start + n if forward else start - n) % 7]
    ask = f"what day of the week will it be in {n} days?" if forward else f"what day of the week was it {n} days ago?"
    body = f"If today is {day}, {ask}" if rng.random() < 0.5 else f"Today is {day}. {cap(ask)}"
    weeks, rem = divmod(n, 7)
    way = "forward" if forward else "back"
    steps = ["A week has 7 days, so the day of the week repeats every 7 days."]
    if weeks and rem == 0:
        steps.append(f"{n} days is exactly {weeks} week{'s' if weeks > 1 else ''}, so we land on {day} again.")
    elif weeks:
        steps.append(f"{n} days is {weeks} week{'s' if weeks > 1 else ''} and {rem} more day{'s' if rem > 1 else ''}.")
        steps.append(f"After {weeks} full week{'s' if weeks > 1 else ''} it is {day} again.")
    else:
        steps.append(f"{n} days is less than a week, so we count {n} days {way} from {day}.")
    if rem:
        seq = [WEEKDAYS[(start + i if forward else start - i) % 7] for i in range(1, rem + 1)]
        steps.append(f"Counting {rem} day{'s' if rem > 1 else ''} {way} from {day}: {', '.join(seq)}.")
    steps.append(f"So in {n} days it will be {target}." if forward else f"So {n} days ago it was {target}.")
    if not weeks:
        expl = f"Counting {n} days {way} from {day}, one day at a time, lands on {target}."
    elif rem:
        expl = (f"Every 7 days the weekday repeats, so moving {n} days {way} is the same as moving "
                f"{rem} day{'s' if rem > 1 else ''} {way}, and that lands on {target}.")
    else:
        expl = f"{n} is a multiple of 7 and the weekday repeats every 7 days, so it is {day} again."
    return item("weekday", body, "<weekday>", target, "text", Solution(
        facts=("A week has 7 days, in the order Monday, Tuesday, Wednesday, Thursday, Friday, "
               "Saturday, Sunday, and then Monday again.",),
        evidence=(body,), steps=tuple(steps), explanation=expl), candidates=WEEKDAYS)


FAMILY = Family("weekday", "work out the day of the week a given number of days after or before a given day",
                "text", "step_by_step",
                "Jumping many days at once is error-prone; splitting into whole weeks plus a few counted days makes each step trivial.",
                make_weekday)
