"""The sentiment family: short reviews with unmistakable wording."""
from __future__ import annotations

import random

from orca2_kit.tasks.base import Family, Solution, TaskItem
from orca2_kit.tasks.families.common import item
from orca2_kit.tasks.facts import MOVIE_NEGATIVE, MOVIE_POSITIVE, MOVIES, NEGATIVE_ADJ, POSITIVE_ADJ, PRODUCT_NEGATIVE, PRODUCT_POSITIVE, PRODUCTS


def make_sentiment(rng: random.Random) -> TaskItem:
    positive = rng.random() < 0.5
    label = "positive" if positive else "negative"
    adj = rng.choice(POSITIVE_ADJ if positive else NEGATIVE_ADJ)
    if rng.random() < 0.5:
        kind, thing = "product", rng.choice(PRODUCTS)
        opener = rng.choice((f"I bought this {thing} last week and it is {adj}.", f"This {thing} is {adj}.",
                             f"The {thing} I ordered turned out to be {adj}."))
        follows = PRODUCT_POSITIVE if positive else PRODUCT_NEGATIVE
    else:
        kind, thing = "movie", rng.choice(MOVIES)
        opener = rng.choice((f"I watched this {thing} last night and it was {adj}.", f"This {thing} is {adj}.",
                             f"The new {thing} I saw at the cinema was {adj}."))
        follows = MOVIE_POSITIVE if positive else MOVIE_NEGATIVE
    sents = [opener] + ([rng.choice(follows)] if rng.random() < 0.75 else [])  # 1 or 2 sentences
    review = " ".join(sents)
    ask = rng.choice((f"Is the sentiment of this {kind} review positive or negative?",
                      f"Classify the sentiment of this {kind} review as positive or negative."))
    steps = [f"The review calls the {thing} \"{adj}\", which is a {label} word."]
    if len(sents) > 1:
        steps.append(f"It also says: \"{sents[1]}\" This is {label} too.")
    steps.append(f"So the sentiment of the review is {label}.")
    mood = "pleased with" if positive else "unhappy with"
    return item("sentiment", f"{ask}\n\nReview: \"{review}\"", "<positive or negative>", label, "choice",
                 Solution(facts=("Words like \"excellent\", \"love\" and \"highly recommend\" show a positive "
                                 "opinion; words like \"terrible\", \"regret\" and \"waste\" show a negative one.",),
                          evidence=tuple(sents), steps=tuple(steps),
                          explanation=f"The wording (\"{adj}\") shows the writer is {mood} the {thing}, "
                                      f"so the sentiment is {label}."),
                 choices=("positive", "negative"))


FAMILY = Family("sentiment", "classify the sentiment of a short review as positive or negative",
                "choice", "direct",
                "The polarity is carried by obvious words, so extra reasoning text only gives a small model more chances to drift.",
                make_sentiment)
