"""The past_tense family: the simple past of an English verb, regular or irregular."""
from __future__ import annotations

import random

from orca2_kit.tasks.base import Family, Solution, TaskItem
from orca2_kit.tasks.families.common import deal, item
from orca2_kit.tasks.facts import IRREGULAR_VERBS, VERBS

_IRREGULAR = dict(IRREGULAR_VERBS)
# What a response could commit to instead: any verb's past form. Not the base forms: "the past
# tense of swim is swam" names both, and the lenient reading would take it for no commitment.
_PASTS = tuple(p for _, p in VERBS)


def _rule(verb: str, past: str) -> tuple[str, str]:
    """How a regular past is spelled: (the rule, the rule applied to this verb)."""
    if past == verb + "d":
        return "a verb ending in e adds only -d", f"{verb} + d = {past}"
    if past == verb[:-1] + "ied":
        return ("a verb ending in a consonant and y changes the y to i and adds -ed",
                f"{verb[:-1]} + ied = {past}")
    if past == verb + verb[-1] + "ed":
        return ("a short verb ending in one vowel and one consonant doubles the consonant and adds -ed",
                f"{verb} + {verb[-1]}ed = {past}")
    assert past == verb + "ed", (verb, past)
    return "a regular verb adds -ed", f"{verb} + ed = {past}"


def make_past_tense(rng: random.Random) -> TaskItem:
    verb, past = deal(VERBS, rng)[0]  # a different verb each item, until the split's verbs are used
    question = rng.choice((f"What is the past tense of the verb \"{verb}\"?",
                           f"Give the simple past form of the verb \"{verb}\".",
                           f"What is the simple past tense of \"{verb}\"?",
                           f"Write the past tense of the verb \"{verb}\"."))
    # (a first-person lead, "I am learning English verbs.", was echoed back as the answer by the base model)
    lead = rng.choice(("", "Here is an English grammar question. ", "Quick question. "))
    if verb in _IRREGULAR:
        facts = (f"The verb \"{verb}\" is irregular: its past tense is not formed with -ed.",
                 f"The simple past of \"{verb}\" is \"{past}\".")
        steps = (f"The verb is \"{verb}\".", "It is irregular, so its past tense is not formed with -ed.",
                 f"The past tense of \"{verb}\" is \"{past}\".", f"So the answer is {past}.")
        expl = f"The verb \"{verb}\" is irregular, and its simple past is \"{past}\"."
    else:
        rule, applied = _rule(verb, past)
        facts = (f"The verb \"{verb}\" is regular.", f"In the simple past, {rule}.")
        steps = (f"The verb is \"{verb}\".", f"It is regular, and {rule}.", f"So {applied}.",
                 f"So the answer is {past}.")
        expl = f"The verb \"{verb}\" is regular and {rule}, so its past tense is \"{past}\"."
    return item("past_tense", lead + question, "<past tense>", past, "text", candidates=_PASTS, solution=Solution(
        facts=facts, evidence=(question,), steps=steps, explanation=expl))


FAMILY = Family("past_tense", "give the simple past tense of an English verb",
                "text", "direct",
                "The past form is one remembered word (or one spelling rule); writing reasons around it adds nothing a small model can check and gives it room to drift.",
                make_past_tense)
