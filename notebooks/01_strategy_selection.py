# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: tags,-all
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 01 · Strategy selection: which way of answering suits the student?
#
# Orca 2's first idea: a small model should not imitate *how* a big model answers everything.
# For each kind of task we pick the **solution strategy** that works for the *student* — answer
# directly, reason step by step, explain then answer, recall facts first, recall and reason, or
# quote the text first (Mitra et al. 2023, sec. 3).
#
# Here we measure it. The base student answers the **dev** split of every trained task family once
# per strategy, with that strategy's detailed instruction as its system message. Each family keeps
# the strategy its authors expected **unless another one beats it on the same dev items by more than
# the noise** — the map that comes out decides what the teacher writes in notebook 02, so a choice
# made by one lucky item would mislead everything after it.

# %% tags=["parameters"]
params_path = "offline"  # a profile in params/ (offline, smoke, gpu, gpu-multi) or a YAML path; the runner passes the run's params.yaml
run_dir = "../outputs/interactive"  # where this run's artifacts go; notebooks 02-06 read from the same folder
overrides = {}  # single values to change, e.g. {"tasks.n_dev": 4}

# %%
import json

import pandas as pd
from IPython.display import display

from orca2_kit import plots, selection, tasks
from orca2_kit.generation import budgets, empty_system_check
from orca2_kit.models import load_student
from orca2_kit.run.stage import open_stage
from orca2_kit.scoring import chance_by_family

stage = open_stage("01", params_path, run_dir, overrides)
p = stage.params

# %% [markdown]
# ## The task suite
# Every built-in family is generated from the seed, with exact references and a worked solution
# per item. The test split is drawn first, so it never changes when you change the train size. Each
# split draws its people, places, capitals and elements from its own part of the fact tables, so no
# test answer can be memorised from training. **Never-trained families** (`tasks.heldout_families`)
# get test items only: the student never trains on them, and notebook 05 scores them zero-shot — the paper's claim is about unseen tasks.

# %%
suite = tasks.load_suite(p.tasks, p.seed)
for split, items in suite.items():
    tasks.save_items(items, stage.out / "suite" / f"{split}.jsonl")
families = list(dict.fromkeys(it.family for it in suite["dev"]))
print("never-trained families (tasks.heldout_families):", p.tasks.heldout_families or "none")
tasks.overview(suite)

# %%
example = suite["dev"][0]
print(example.prompt, "\n\nreference:", example.reference)

# %% [markdown]
# ## The student, and what "empty system message" means for it
# SmolLM2's chat template injects its own system message when none is given. An explicit empty
# system turn avoids that; we check the template really renders it as empty.

# %%
model, tokenizer = load_student(p.student, p.device, scoring=p.generation.dtype, engine=p.generation.engine)
check = empty_system_check(tokenizer)
print(f"empty system message possible: {'yes' if check['possible'] else 'no'} ({check['reason']}); without a system "
      f"turn the template would insert: {check['injected_default']!r}")

# %% [markdown]
# ## Token budgets from data
# A strategy cut off before its `Answer:` line cannot win. Each strategy's *need* is a high
# percentile of the length of answers written in it (the reference teacher's, on the train items),
# plus a margin. But the base student told to "answer directly" still shows its working on a word
# problem, far past a one-line reference answer: so every strategy gets the **largest** need as its
# budget — the grid then compares instructions, not budgets. The stop rule still ends every answer
# at its `Answer:` line, so only answers that keep going use the room.

# %%
needed, budget = selection.selection_budgets(p, tokenizer, suite["train"])
for line in budgets.shortfalls(budget, needed):
    print("WARNING: budget below what the answers need:", line)
pd.DataFrame({"needed (p95 + margin)": needed or {}, "used": budget})

# %% [markdown]
# ## Measure every strategy on the dev split
# With rule `measured` the base model follows each instruction; with `probe` a short LoRA per
# strategy, trained on teacher answers in it, answers under the student's own system message (what
# the student can *learn*). Answers are read **leniently** (the committed answer in any clear form),
# so a strategy is not judged on whether the model wrote the `Answer:` line.

# %% [markdown]
# The rule, per family: the expected strategy is kept unless a challenger beats it on the same dev
# items, its paired 95% lower bound above `strategy_selection.margin`. Each row names the challenger
# that came closest — the one with the **highest lower bound** (not the highest score) — so a kept
# row says by how much it missed. With 8 dev items a cell, a lower bound above 0 needs a clear win:
# keeping the authors' strategy is what the rule does by default, not evidence that they were right.
# A family where every strategy scored 0 decides nothing at all.

# %%
grid, cells, choice = selection.select(p, model, tokenizer, suite, budget, stage.out)
with pd.option_context("display.max_colwidth", None):  # the whole reason, not its first 50 characters
    display(choice[["family", "expected", "chosen", "why"]])
print(selection.summary(choice.to_dict("records"), cells.to_dict("records")))

# %%
if len(grid):
    fig, _ = plots.strategy_heatmap(cells, choice, stage.figures / "01_strategy_heatmap",
                                    "Probe students" if p.strategy_selection.rule == "probe" else "Base student")

# %% [markdown]
# Read the heatmap row by row: the red box is the strategy the teacher will use for that family,
# the star the one its authors expected. Each cell holds the accuracy and its 95% (Wilson) interval — 0 of 8 is [0.00, 0.32], not a point: with
# n dev items a cell moves by 1/n per item, so two cells whose intervals overlap widely are not
# told apart — that is why a challenger must beat the expected strategy on the *same* items
# (paired), by more than the noise. Chance (what guessing scores) is printed per family below. How
# often does each strategy write its answer in the asked format (*format-OK*: a line that begins with
# `Answer:` and has the answer after it (in any case; `Final answer:` counts too, and markdown marks
# such as `**` or `-` may come before it); it need not be the last line, but an `Answer: 8` inside a
# sentence does not count), and how often did the token budget cut an answer? A small model
# sometimes runs away ("1, 2, 3, 4, ...", the same step again and again) and never stops by itself:
# any budget cuts those. *cut_not_in_loop* is the share cut while still making progress — the
# answers a larger budget could have let finish.
# Two rules, two words: *cut_in_loop* marks a cut answer that repeats a line or a six-word run three
# or more times (numbers aside); the kit itself **stops** a generation once the same line has come
# six times in a row (*stopped_in_loop*, counted as cut: a model in such a loop writes that line
# until any budget ends it; replayed on earlier runs, no stopped answer would have gone on to
# anything else, README: Measured), so a cut answer may be short.

# %%
if len(grid):
    print("chance per family:", chance_by_family(grid))
(grid.assign(cut_not_in_loop=grid.hit_limit & ~grid.cut_in_loop)
 .groupby("strategy", sort=False)[["correct_lenient", "correct_strict", "format_ok", "hit_limit", "cut_not_in_loop"]]
 .mean().rename(columns={"hit_limit": "cut_by_limit"}).round(3) if len(grid) else None)

# %%
strategy_map = dict(zip(choice.family, choice.chosen))
(stage.out / "strategy_map.json").write_text(json.dumps(strategy_map, indent=2))
(stage.out / "budgets.json").write_text(json.dumps({"needed": needed, "used": budget}, indent=2))
stage.write_metrics({"agreement_with_expected": float(choice.agrees.mean()), "strategy_map": strategy_map,
                     "rule": p.strategy_selection.rule, "dev_format_ok": float(grid.format_ok.mean()) if len(grid) else None,
                     "dev_cut_by_limit": float(grid.hit_limit.mean()) if len(grid) else None,
                     "dev_cut_not_in_loop": float((grid.hit_limit & ~grid.cut_in_loop).mean()) if len(grid) else None,
                     "n_dev_generations": len(grid), "budgets": budget,
                     "cells": cells.to_dict(orient="records"), "choice": choice.to_dict(orient="records")})
print("strategy map (what the teacher uses in 02): " + ", ".join(f"{f}: {s}" for f, s in strategy_map.items()))

# %% [markdown]
# ## Try it
# Change one thing, predict, then rerun. Each exercise runs into its own folder and keeps this run's
# results: `python -m orca2_kit run --resume <run dir> --exercise <id>` (its report sets the numbers
# side by side). Or set `overrides` in the parameters cell above and rerun the notebooks named.
#
# **01.1 · The authors' expectation instead of a measurement** (reruns 01): `overrides =
# {"strategy_selection.rule": "expected"}`
# - *Predict:* Which families get a different strategy than the measured map?
# - *Expected:* Nothing is generated (seconds instead of a minute) and there is no heatmap; the map
#   becomes the expected strategy of every family, so agreement_with_expected is 1.0. The measured map
#   already keeps the expected strategy unless another one won clearly on the same dev items, so only
#   the families whose red box and star were in different cells of the run's heatmap change.
#
# **01.2 · Only two strategies to choose from** (reruns 01): `overrides =
# {"strategy_selection.candidates": ["direct", "step_by_step"]}`
# - *Predict:* How much faster is the stage, and what happens to families that chose a recall or
#   extract strategy?
# - *Expected:* A third of the generations (2 of 6 strategies), so the stage takes about a third of
#   the time; every family now maps to direct or step_by_step, and families whose expected strategy is
#   neither can no longer agree with the authors, so agreement_with_expected falls.
#
# **01.3 · What the student can learn, not what it does when told** (reruns 01): `overrides =
# {"strategy_selection.rule": "probe"}`
# - *Predict:* Which families change strategy when each strategy is judged by a short LoRA trained on
#   answers in it?
# - *Expected:* One short training per candidate strategy makes the stage several minutes longer (a
#   second run reuses the probes). The probe students answer in their strategy's layout even without
#   being told, so their dev accuracies differ from the base model's; the map still keeps a family's
#   expected strategy unless a probe beats it clearly, so few families, or none, change.
