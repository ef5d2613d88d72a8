"""Stage 01: which strategy suits the *student*? Measure it.

For every task family and candidate strategy, the base student answers the dev split with that
strategy's detailed instruction as its system message. The strategy with the best dev accuracy is
chosen per family (Orca 2 sec. 3: the choice depends on the task *and* on the student); ties go to
the strategy the family's authors expected, then to catalogue order.
"""
from __future__ import annotations

import pandas as pd

from .config import GenerationConfig
from .extract import score
from .generation import generate, messages
from .strategies import teacher_instruction
from .tasks import family_info
from .tasks.base import TaskItem


def run_strategy_grid(model, tokenizer, items: list[TaskItem], candidates: list[str], gen: GenerationConfig) -> pd.DataFrame:
    """One greedy answer per (item, strategy), scored; a row each."""
    jobs = [(it, s) for it in items for s in candidates]
    convs = [messages(teacher_instruction(s, family_info(it.family)["description"]), it.prompt) for it, s in jobs]
    limits = [gen.max_new_tokens_direct if s == "direct" else gen.max_new_tokens for _, s in jobs]
    outs = generate(model, tokenizer, convs, limits, gen.batch_size, gen.max_prompt_tokens, desc="strategy grid")
    rows = []
    for (it, s), out in zip(jobs, outs):
        rows.append({"id": it.id, "family": it.family, "strategy": s, "output": out, "reference": it.reference,
                     **score(out, it.reference, it.answer_type, it.choices)})
    return pd.DataFrame(rows)


def accuracy_table(grid: pd.DataFrame, metric: str = "correct_flexible") -> pd.DataFrame:
    """family x strategy accuracy (rows and columns in first-seen order)."""
    t = grid.pivot_table(index="family", columns="strategy", values=metric, aggfunc="mean", sort=False)
    return t


def choose_strategies(grid: pd.DataFrame, candidates: list[str], rule: str = "measured",
                      metric: str = "correct_flexible") -> pd.DataFrame:
    """A row per family: measured accuracies, the expected and the chosen strategy."""
    acc = accuracy_table(grid, metric) if len(grid) else None
    rows = []
    families = list(dict.fromkeys(grid["family"])) if len(grid) else []
    for fam in families:
        info = family_info(fam)
        expected = info["expected_strategy"]
        scores = {s: float(acc.loc[fam, s]) for s in candidates}
        best = max(scores.values())
        tied = [s for s in candidates if scores[s] == best]
        if rule == "expected" and expected in candidates:
            chosen = expected
        else:
            chosen = expected if expected in tied else tied[0]
        rows.append({"family": fam, "expected": expected, "chosen": chosen, "chosen_accuracy": scores[chosen],
                     "expected_accuracy": scores.get(expected), "tied": len(tied), "agrees": chosen == expected})
    return pd.DataFrame(rows)


def choose_expected(families: list[str], candidates: list[str]) -> pd.DataFrame:
    """The authors' expectation, unmeasured (strategy_selection.rule: expected)."""
    rows = []
    for fam in families:
        exp = family_info(fam)["expected_strategy"]
        chosen = exp if exp in candidates else candidates[0]
        rows.append({"family": fam, "expected": exp, "chosen": chosen, "chosen_accuracy": None,
                     "expected_accuracy": None, "tied": 0, "agrees": chosen == exp})
    return pd.DataFrame(rows)
