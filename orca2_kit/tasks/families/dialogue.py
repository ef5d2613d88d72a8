"""The dialogue family: who will do what, read from a short conversation between invented people."""
from __future__ import annotations

import random

from orca2_kit.tasks.base import Family, Solution, TaskItem
from orca2_kit.tasks.families.common import TOWNS, item, pool
from orca2_kit.tasks.facts import FIRST_NAMES, PICNIC_THINGS, TRAVEL_MODES, WEEKDAYS

# Each scene: (opening line, what each speaker says, the question about a thing -> the speaker, the
# question about a speaker -> the thing, the answer hint, the things to draw from). A speaker's line
# names exactly one thing, and no two speakers name the same one.
_SCENES = (
    ("Some friends are planning a picnic.",
     ("I will bring the {x}.", "I can bring the {x}.", "Then I will bring the {x}."),
     "Who will bring the {x}?", "What will {n} bring?", "<thing>", lambda rng: PICNIC_THINGS),
    ("Some friends are talking about their trips this weekend.",
     ("I am going to {x} to see my aunt.", "I will visit {x} with my brother.", "I am driving to {x}."),
     "Who is going to {x}?", "Which town is {n} going to?", "<town>", lambda rng: pool(TOWNS, rng)),
    ("Some friends are trying to find a day to meet.",
     ("I am only free on {x}.", "{x} is the only day I can come.", "I can meet on {x}."),
     "Who can meet on {x}?", "On which day can {n} meet?", "<weekday>", lambda rng: WEEKDAYS),
    ("Some friends are talking about how they get to school.",
     ("I go to school by {x}.", "I always take the {x} to school.", "I travel to school by {x} every day."),
     "Who goes to school by {x}?", "How does {n} get to school?", "<means of transport>", lambda rng: TRAVEL_MODES),
)


def make_dialogue(rng: random.Random) -> TaskItem:
    opening, says, ask_who, ask_what, hint, things = rng.choice(_SCENES)
    k = rng.randint(3, 4)
    names = rng.sample(pool(FIRST_NAMES, rng), k)
    xs = rng.sample(things(rng), k)
    lines = [f"{n}: {rng.choice(says).format(x=x)}" for n, x in zip(names, xs)]
    i = rng.randrange(k)
    # the alternatives a response could commit to are the others of the same kind in the conversation
    if rng.random() < 0.5:  # a thing is named, the speaker is asked for
        question, answer, alternatives, hint = ask_who.format(x=xs[i]), names[i], names, "<name>"
    else:
        question, answer, alternatives = ask_what.format(n=names[i]), xs[i], xs
    body = f"Read the conversation and answer the question.\n\n{opening}\n" + "\n".join(lines) + f"\n\nQuestion: {question}"
    ev = lines[i]
    steps = (f"The question is: {question}", f"The line of the conversation that answers it is: \"{ev}\"",
             f"So the answer is {answer}.")
    return item("dialogue", body, hint, answer, "text", candidates=alternatives, solution=Solution(
        facts=(f"In the conversation, {names[i]} says: \"{ev.split(': ', 1)[1]}\"",), evidence=(ev,), steps=steps,
        explanation=f"{names[i]} is the one who says \"{ev.split(': ', 1)[1]}\", so the answer is {answer}."))


FAMILY = Family("dialogue", "answer a question about who says what in a short conversation, using only the conversation",
                "text", "extract_generate",
                "Quoting the one line that holds the answer ties the answer to the right speaker; a small model answering from the whole conversation mixes up who said what.",
                make_dialogue)
