"""Generation budgets from data: how many new tokens a strategy needs, read off the teacher's answers.

A strategy whose answers are cut before their 'Answer:' line cannot win strategy selection (01),
and a student cut mid-reasoning is scored on an intermediate number (05). So the budget of a
strategy is a high percentile of the token lengths of answers written in it, plus a margin:

    budget = ceil(percentile(lengths, p) * (1 + margin)) + 16

computed from the reference teacher's renderings of the train items (01: before any teacher call,
exact for the built-in tasks) or from the teacher's accepted answers (05). The stop rule still ends
each generation at its 'Answer:' line, so a generous budget costs only the outputs that need it;
every stage reports the share of generations the limit cut.
"""
from __future__ import annotations

import math
from typing import Iterable, Optional, Sequence

SLACK_TOKENS = 16  # room for a longer-worded final line or a short preamble


def repeating(text: str, min_repeats: int = 3) -> bool:
    """A runaway generation: a line, or a run of six words, that comes back at least `min_repeats`
    times with only its numbers changed ("So 51 is 51 + 1.", "1, 2, 3, ..."). A small model in such a
    loop never ends on its own, so it hits any token limit: a cut runaway says nothing about the
    budget, a cut that is not one means the budget was too short."""
    import re
    from collections import Counter

    t = re.sub(r"\d+", "#", (text or "").lower())
    lines = [re.sub(r"^\s*(?:[-*•]\s*)?(?:step\s*)?#\s*[.):]\s*", "", line).strip() for line in t.splitlines()]
    lines = [line for line in lines if len(line) >= 8]
    if lines and Counter(lines).most_common(1)[0][1] >= min_repeats:
        return True
    words = re.findall(r"[\w#]+", t)
    grams = Counter(tuple(words[i:i + 6]) for i in range(len(words) - 5))
    return bool(grams) and grams.most_common(1)[0][1] >= min_repeats


def budget_from_lengths(lengths: Sequence[int], percentile: float = 95, margin: float = 0.25) -> int:
    import numpy as np

    if not len(lengths):
        raise ValueError("no answers to size a budget from")
    return int(math.ceil(float(np.percentile(lengths, percentile)) * (1 + margin))) + SLACK_TOKENS


def token_lengths(tokenizer, texts: Iterable[str]) -> list[int]:
    # +1: the end-of-turn token the model must also write
    return [len(tokenizer(t, add_special_tokens=False)["input_ids"]) + 1 for t in texts if isinstance(t, str)]


def strategy_budgets(tokenizer, items, strategies: Sequence[str], percentile: float = 95,
                     margin: float = 0.25) -> Optional[dict[str, int]]:
    """Per strategy: the budget the reference teacher's rendering of `items` in it needs; None when
    the items carry no worked solutions (a task file), so their answers' lengths are unknown."""
    from orca2_kit.tasks import solutions

    items = [it for it in items if it.solution.steps or it.solution.facts or it.solution.evidence]
    if not items:
        return None
    return {s: budget_from_lengths(token_lengths(tokenizer, (solutions.render(it, s) for it in items)),
                                   percentile, margin) for s in strategies}


def answer_budget(tokenizer, answers, percentile: float = 95, margin: float = 0.25) -> tuple[int, dict[str, int]]:
    """For evaluation (05): the student may answer in any strategy it was trained on, so the budget
    is the largest per-strategy need among the teacher's accepted answers; returns it and the table."""
    ok = answers[answers["accepted"]]
    per = {s: budget_from_lengths(token_lengths(tokenizer, g["answer"]), percentile, margin)
           for s, g in ok.groupby("strategy")}
    if not per:
        raise ValueError("no accepted teacher answers to size the evaluation budget from")
    return max(per.values()), per


FALLBACK = 256  # 'auto' without worked solutions to measure (a task file): a generous fixed budget


def resolve(setting, computed: Optional[dict[str, int]], strategies: Sequence[str]) -> dict[str, int]:
    """The budget per strategy a stage uses: `setting` 'auto' takes the computed ones (FALLBACK when
    nothing could be measured); an int is used for every strategy (see `shortfalls`)."""
    if setting == "auto":
        return dict(computed) if computed else {s: FALLBACK for s in strategies}
    return {s: int(setting) for s in strategies}


def shortfalls(used: dict[str, int], needed: Optional[dict[str, int]]) -> list[str]:
    """One line per strategy whose budget is below what its answers need."""
    if not needed:
        return []
    return [f"{s}: {used[s]} new tokens, but its answers need about {needed[s]} (p95 + margin)"
            for s in used if s in needed and used[s] < needed[s]]
