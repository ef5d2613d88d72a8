"""A model's answers to task items, scored: the rows every stage that answers tasks keeps (01, 05, 07).

Each row holds the output, both readings (lenient and strict, orca2_kit/extract.py), format-OK,
whether the token limit cut it (and whether it was in a runaway loop, which no budget ends), and
the item's chance level.
"""
from __future__ import annotations

import pandas as pd

from orca2_kit.extract import score
from orca2_kit.generation import empty_system_check, generate_detailed, messages, system_text
from orca2_kit.generation.budgets import repeating
from orca2_kit.tasks.base import TaskItem

METRICS = ("correct_lenient", "correct_strict", "format_ok", "hit_limit")


def chance_level(item: TaskItem) -> float:
    """What guessing scores on an item: 1/k for a choice between k options or an answer from k known
    candidates (weekday: 1/7, a capital: 1/96), 0 for an open answer."""
    if item.answer_type == "choice" and item.choices:
        return 1.0 / len(item.choices)
    return 1.0 / len(item.candidates) if item.candidates else 0.0


def chance_by_family(rows: pd.DataFrame) -> str:
    """What guessing scores, per family (the mean of chance_level over its items), in one line:
    'arithmetic 0, weekday 0.14, sentiment 0.5, ...' — the values the tables' chance column averages."""
    means = rows.groupby("family", sort=False)["chance"].mean()
    return ", ".join(f"{f} {c:.2g}" for f, c in means.items())


def score_rows(items: list[TaskItem], generations, **extra) -> list[dict]:
    """Per-sample rows: the output, both readings (the lenient one ignoring what the output copied
    from the item's prompt), format-OK, whether the limit cut it (and whether it was cut in a
    runaway loop, which no budget ends: budgets.repeating; `stopped_in_loop`: ended early by the
    loop stop, stops.runaway, so its new_tokens are fewer than the limit), chance."""
    rows = []
    for it, g in zip(items, generations):
        rows.append({**extra, "id": it.id, "family": it.family, "output": g.text, "reference": it.reference,
                     "new_tokens": g.new_tokens, "hit_limit": g.hit_limit,
                     "cut_in_loop": bool(g.hit_limit and repeating(g.text)), "stopped_in_loop": g.in_loop,
                     "chance": chance_level(it),
                     **score(g.text, it.reference, it.answer_type, it.choices, it.candidates, it.prompt)})
    return rows


def evaluate_model(model, tokenizer, items: list[TaskItem], system_modes: list[str], model_name: str,
                   max_new_tokens: int, batch_size: int, max_prompt_tokens: int = 1024,
                   system_message_file: str | None = None, engine: str = "auto") -> tuple[pd.DataFrame, list[dict]]:
    """Per-sample rows for every system message this template supports, and the skipped ones.
    `engine`: generation.generate's ("hf": plain model.generate, to check the fast decoder).

    All messages' prompts go to the engine in one call: a call ends with its slowest row, and a
    long answer alone in the batch runs at a fraction of the machine (measured on 05's base model:
    48 dev items under 3 messages took 31 s in three calls)."""
    skipped = []
    check = empty_system_check(tokenizer)
    modes = []
    for mode in system_modes:
        if mode == "empty" and not check["possible"]:
            skipped.append({"model": model_name, "system": mode, "reason": check["reason"]})
        else:
            modes.append(mode)
    convs = [messages(system_text(mode, system_message_file), it.prompt) for mode in modes for it in items]
    gens = generate_detailed(model, tokenizer, convs, max_new_tokens, batch_size, max_prompt_tokens,
                             desc=f"{model_name} / {', '.join(modes)} system", engine=engine) if convs else []
    rows = []
    for k, mode in enumerate(modes):
        rows += score_rows(items, gens[k * len(items):(k + 1) * len(items)], model=model_name, system=mode)
    return pd.DataFrame(rows), skipped


def cut_not_in_loop(g: pd.DataFrame) -> float:
    """The share of generations the token limit cut while they were still going somewhere (not in a
    runaway loop): the ones a larger budget could have let finish."""
    if "cut_in_loop" not in g:
        return float("nan")
    return float((g["hit_limit"].astype(bool) & ~g["cut_in_loop"].astype(bool)).mean())
