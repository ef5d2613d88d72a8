"""Stage 01: which strategy suits the *student*? Measure it, and let only a clear difference count.

For every task family and candidate strategy, the base student answers the dev split with that
strategy's detailed instruction as its system message (rule `measured`), or a short LoRA trained on
teacher answers in that strategy answers it (rule `probe`: what the student can *learn*, the
paper's question, rather than what the untrained base does when told; Orca 2 sec. 3). Answers are
read leniently (orca2_kit.extract), so a strategy is not judged on the answer format.

A handful of dev items per cell is noise: one item moves a cell by 1/n. So every cell carries a
95% Wilson interval (0 of 8 is [0.00, 0.32], not the point a bootstrap of eight zeros gives), and a family keeps the strategy its authors expected unless another strategy beats it
on the *same* dev items by more than `margin` (the paired bootstrap interval's lower bound): the
map changes only where the data says so. When the expected strategy is not a candidate, the best
point estimate is taken (ties in catalogue order) and the row says so.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from orca2_kit.scoring import cut_not_in_loop, score_rows
from orca2_kit.stats import bootstrap_ci, wilson
from orca2_kit.generation import budgets as token_budgets
from orca2_kit.generation import generate_detailed, messages
from orca2_kit.strategies import teacher_instruction
from orca2_kit.tasks import family_info
from orca2_kit.tasks.base import TaskItem

METRIC = "correct_lenient"


def grid_budgets(used: dict[str, int]) -> dict[str, int]:
    """The new-token budget of every strategy in the grid: the largest any candidate needs.

    A strategy's own need is read off the reference teacher's answers in it, and a reference
    `direct` answer is one line ("Answer: 8", a budget of ~40 tokens). But the *base* student told
    to answer directly still shows its working on a word problem, and an answer cut
    before it ends is scored wrong: direct would lose for our budget, not for its instruction
    (one offline run: 7 of 8 arithmetic/direct answers cut while not looping). Giving every strategy the
    same room also makes the paired comparison compare instructions only. The stop rule still ends
    every answer at its 'Answer:' line, so only answers that keep going use the extra room."""
    room = max(used.values())
    return {s: room for s in used}


def selection_budgets(p, tokenizer, train_items) -> tuple[dict[str, int] | None, dict[str, int]]:
    """Notebook 01's budgets: (what each strategy's reference answers need, what the grid uses)."""
    cand = p.strategy_selection.candidates
    needed = token_budgets.strategy_budgets(tokenizer, train_items, cand, p.generation.budget_percentile,
                                            p.generation.budget_margin)
    return needed, grid_budgets(token_budgets.resolve(p.generation.max_new_tokens, needed, cand))


def run_strategy_grid(model, tokenizer, items: list[TaskItem], candidates: list[str], budgets: dict[str, int],
                      batch_size: int, max_prompt_tokens: int = 1024) -> pd.DataFrame:
    """One greedy answer per (item, strategy) with the strategy's instruction, scored; a row each."""
    jobs = [(it, s) for it in items for s in candidates]
    convs = [messages(teacher_instruction(s, family_info(it.family)["description"]), it.prompt) for it, s in jobs]
    gens = generate_detailed(model, tokenizer, convs, [budgets[s] for _, s in jobs], batch_size, max_prompt_tokens,
                             desc="strategy grid")
    rows = []
    for (it, s), g in zip(jobs, gens):
        rows += score_rows([it], [g], strategy=s)
    return pd.DataFrame(rows)


def cell_table(grid: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """Per (family, strategy): n, lenient accuracy with its 95% Wilson interval, format-OK, cut share.

    Wilson, not a bootstrap: a cell is a rate of k right out of n, and a bootstrap of n equal values
    is a point ([0, 0] at 0 of 8), which would claim a certainty eight items cannot give. `seed` is
    kept for callers; the Wilson interval needs none."""
    rows = []
    for (fam, s), g in grid.groupby(["family", "strategy"], sort=False):
        lo, hi = wilson(int(g[METRIC].astype(bool).sum()), len(g))
        rows.append({"family": fam, "strategy": s, "n": len(g), "accuracy": g[METRIC].mean(), "lo": lo, "hi": hi,
                     "format_ok": g["format_ok"].mean(), "cut_by_limit": g["hit_limit"].mean(),
                     "cut_not_in_loop": cut_not_in_loop(g)})
    return pd.DataFrame(rows)


def accuracy_table(grid: pd.DataFrame) -> pd.DataFrame:
    """family x strategy lenient accuracy (rows and columns in first-seen order)."""
    return grid.pivot_table(index="family", columns="strategy", values=METRIC, aggfunc="mean", sort=False)


def paired_gain(grid: pd.DataFrame, family: str, s: str, ref: str, seed: int = 0) -> tuple[float, float, float]:
    """Strategy `s` minus `ref` on the same dev items of `family`: mean and 95% paired interval."""
    g = grid[grid.family == family].pivot_table(index="id", columns="strategy", values=METRIC)
    d = (g[s] - g[ref]).dropna().to_numpy(dtype=float)
    lo, hi = bootstrap_ci(d, seed=seed)
    return float(d.mean()), lo, hi


def choose_strategies(grid: pd.DataFrame, candidates: list[str], margin: float = 0.0, seed: int = 0) -> pd.DataFrame:
    """A row per family: the expected strategy, the best challenger and its paired gain over the
    expected one, and the chosen strategy (the challenger only if its gain's lower bound > margin)."""
    acc = accuracy_table(grid)
    rows = []
    for fam in dict.fromkeys(grid["family"]):
        expected = family_info(fam)["expected_strategy"]
        scores = {s: float(acc.loc[fam, s]) for s in candidates}
        if expected not in candidates:
            best = max(candidates, key=lambda s: (scores[s], -candidates.index(s)))
            rows.append({"family": fam, "expected": expected, "chosen": best, "challenger": best,
                         "gain": np.nan, "gain_lo": np.nan, "gain_hi": np.nan, "why": "expected strategy is not a "
                         "candidate: best point estimate", "chosen_accuracy": scores[best],
                         "expected_accuracy": None, "agrees": False})
            continue
        others = [s for s in candidates if s != expected]
        gains = {s: paired_gain(grid, fam, s, expected, seed) for s in others}
        challenger = max(others, key=lambda s: (gains[s][1], gains[s][0], -candidates.index(s))) if others else expected
        gain, lo, hi = gains.get(challenger, (0.0, 0.0, 0.0))
        switch = challenger != expected and lo > margin
        chosen = challenger if switch else expected
        n = int(grid.loc[grid.family == fam, "id"].nunique())
        rows.append({"family": fam, "expected": expected, "chosen": chosen, "challenger": challenger, "gain": gain,
                     "gain_lo": lo, "gain_hi": hi, "why": _why(switch, challenger, gain, lo, hi, margin,
                                                               _undecided(scores.values(), n)),
                     "chosen_accuracy": scores[chosen], "expected_accuracy": scores[expected], "agrees": chosen == expected})
    return pd.DataFrame(rows)


def _undecided(accuracies, n: int) -> str | None:
    """Why nothing could be decided for a family, or None: every strategy scored 0 (or every one all
    n), so no pairing can tell them apart and the authors' strategy stays only because it is the default."""
    acc = set(float(a) for a in accuracies)
    if acc == {0.0}:
        return f"every strategy scored 0 of {n}"
    if acc == {1.0}:
        return f"every strategy scored {n} of {n}"
    return None


def _why(switch: bool, challenger: str, gain: float, lo: float, hi: float, margin: float, undecided: str | None) -> str:
    """A family's row in words: what happened, under the rule (a challenger replaces the expected
    strategy only if its paired 95% lower bound is above `margin`), with the challenger that came
    closest: the one with the highest lower bound, not the best strategy."""
    closest = f"{challenger}, lower bound {lo:+.2f} ({gain:+.2f} over the expected one, 95% CI {lo:+.2f}..{hi:+.2f})"
    if switch:
        return (f"changed: {challenger} beats it on the same items, its lower bound above {margin:+.2f} "
                f"(highest lower bound among challengers: {closest})")
    if undecided:
        return f"nothing could be decided: {undecided}; kept the authors' strategy by default"
    return (f"kept the authors' strategy by default: no challenger's lower bound is above {margin:+.2f} "
            f"(highest lower bound among challengers: {closest})")


def summary(choice: list[dict], cells: list[dict] = ()) -> str:
    """What the map did, in words, from notebook 01's `choice` and `cells` records (also the
    report's, from metrics.json): how many families kept the authors' strategy by default, which
    changed, and where nothing could be decided (every strategy scored 0). With 8 dev items a
    challenger rarely clears the bar, so "kept" says the rule held, not that the authors were right."""
    if not choice:
        return "no family mapped"
    if all(str(r.get("why", "")).startswith("rule: expected") for r in choice):
        return f"{len(choice)} families: the authors' strategy for each (rule: expected, not measured)"
    changed = [f"{r['family']} -> {r['chosen']}" for r in choice if r["chosen"] != r["expected"]]
    acc: dict = {}
    for c in cells:
        acc.setdefault(c["family"], []).append(c["accuracy"])
    n = {c["family"]: c["n"] for c in cells}
    undecided = [f for f, a in acc.items() if _undecided(a, n[f])]
    kept = len(choice) - len(changed)
    out = (f"{len(choice)} families: kept the authors' strategy by default for {kept} (no challenger's lower bound "
           f"beat it)" + (f"; changed {len(changed)}: {', '.join(changed)}" if changed else ""))
    if undecided:
        zero = all(set(acc[f]) == {0.0} for f in undecided)
        out += (f"; of the {kept} kept, nothing could be decided for {', '.join(undecided)} (every strategy scored "
                + ("0)" if zero else "the same, all or none right)"))
    return out


def choose_expected(families: list[str], candidates: list[str]) -> pd.DataFrame:
    """The authors' expectation, unmeasured (strategy_selection.rule: expected)."""
    rows = []
    for fam in families:
        exp = family_info(fam)["expected_strategy"]
        chosen = exp if exp in candidates else candidates[0]
        rows.append({"family": fam, "expected": exp, "chosen": chosen, "challenger": None, "gain": np.nan,
                     "gain_lo": np.nan, "gain_hi": np.nan, "why": "rule: expected (not measured)",
                     "chosen_accuracy": None, "expected_accuracy": None, "agrees": chosen == exp})
    return pd.DataFrame(rows)


def select(p, model, tokenizer, suite: dict, budgets: dict[str, int], out) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Notebook 01 in one call: (grid, cells, choice) under the profile's rule (measured, probe or
    expected); the grid is also saved as out/grid.jsonl."""
    from pathlib import Path

    from orca2_kit.selection import probe

    cfg = p.strategy_selection
    if cfg.rule == "expected":
        families = list(dict.fromkeys(it.family for it in suite["dev"] or suite["train"]))
        return pd.DataFrame(), pd.DataFrame(), choose_expected(families, cfg.candidates)
    if cfg.rule == "probe":
        grid = probe.run_probe_grid(p, suite["train"], suite["dev"], cfg.candidates, budgets, Path(out) / "probe")
    else:
        grid = run_strategy_grid(model, tokenizer, suite["dev"], cfg.candidates, budgets, p.generation.batch_size,
                                 p.generation.max_prompt_tokens)
    grid.to_json(Path(out) / "grid.jsonl", orient="records", lines=True)
    return grid, cell_table(grid, seed=p.seed), choose_strategies(grid, cfg.candidates, cfg.margin, p.seed)
