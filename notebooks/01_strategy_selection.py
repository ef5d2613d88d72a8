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
# Here we measure it. The base student answers the **dev** split of every task family once per
# strategy, with that strategy's detailed instruction as its system message. The best strategy per
# family becomes the **strategy map** that the teacher follows in notebook 02.

# %% tags=["parameters"]
params_path = "offline"  # a profile in params/ (offline, smoke, gpu, gpu-multi) or a YAML path; the runner passes the run's params.yaml
run_dir = "../outputs/interactive"  # where this run's artifacts go; notebooks 02-06 read from the same folder
overrides = {}  # single values to change, e.g. {"tasks.n_dev": 4}

# %%
import json

import pandas as pd

from orca2_kit import plots, selection, tasks
from orca2_kit.generation import empty_system_check
from orca2_kit.models import load_student
from orca2_kit.stages import open_stage

stage = open_stage("01", params_path, run_dir, overrides)
p = stage.params

# %% [markdown]
# ## The task suite
# Every built-in family is generated from the seed, with exact references and a worked solution
# per item. The test split is drawn first, so it never changes when you change the train size.

# %%
suite = tasks.load_suite(p.tasks, p.seed)
for split, items in suite.items():
    tasks.save_items(items, stage.out / "suite" / f"{split}.jsonl")
families = list(dict.fromkeys(it.family for it in suite["dev"]))
tasks.overview(suite)

# %%
example = suite["dev"][0]
print(example.prompt, "\n\nreference:", example.reference)

# %% [markdown]
# ## The student, and what "empty system message" means for it
# SmolLM2's chat template injects its own system message when none is given. An explicit empty
# system turn avoids that; we check the template really renders it as empty.

# %%
model, tokenizer = load_student(p.student, p.device, scoring=p.generation.dtype)
empty_system_check(tokenizer)

# %% [markdown]
# ## Measure every strategy on the dev split

# %%
if p.strategy_selection.rule == "measured":
    grid = selection.run_strategy_grid(model, tokenizer, suite["dev"], p.strategy_selection.candidates, p.generation)
    choice = selection.choose_strategies(grid, p.strategy_selection.candidates)
else:
    grid = pd.DataFrame(columns=["id", "family", "strategy", "output", "correct_flexible", "format_ok"])
    choice = selection.choose_expected(families, p.strategy_selection.candidates)
grid.to_json(stage.out / "grid.jsonl", orient="records", lines=True)
choice

# %%
if len(grid):
    fig, _ = plots.strategy_heatmap(selection.accuracy_table(grid), choice, stage.figures / "01_strategy_heatmap")

# %% [markdown]
# Read the heatmap row by row: the red box is the strategy we will ask the teacher to use for that
# family, the star is what the family's authors expected. Where a 135M model gets almost nothing
# right, ties are broken by the expectation. How often does the student even produce the
# requested `Answer:` line under each strategy (the format-OK rate)?

# %%
grid.groupby("strategy", sort=False)[["format_ok", "correct_flexible"]].mean() if len(grid) else None

# %%
strategy_map = dict(zip(choice.family, choice.chosen))
(stage.out / "strategy_map.json").write_text(json.dumps(strategy_map, indent=2))
stage.write_metrics({"agreement_with_expected": float(choice.agrees.mean()), "strategy_map": strategy_map,
                     "dev_format_ok": float(grid.format_ok.mean()) if len(grid) else None,
                     "n_dev_generations": len(grid)})
strategy_map

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
#   becomes the expected strategy of every family, so agreement_with_expected is 1.0. The families
#   that change are those whose red box and star were in different cells of the run's heatmap.
#
# **01.2 · Only two strategies to choose from** (reruns 01): `overrides =
# {"strategy_selection.candidates": ["direct", "step_by_step"]}`
# - *Predict:* How much faster is the stage, and what happens to families that chose a recall or
#   extract strategy?
# - *Expected:* A third of the generations (2 of 6 strategies), so the stage takes about a third of
#   the time; every family now maps to direct or step_by_step, and families whose expected strategy is
#   neither can no longer agree with the authors, so agreement_with_expected falls.
