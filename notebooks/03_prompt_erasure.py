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
# # 03 · Prompt erasure: the student never sees the teacher's instructions
#
# The heart of Orca 2 (sec. 3, "prompt erasing"): each training example is
# (generic system message, task, teacher's answer). The detailed strategy instruction that shaped
# the answer is **erased**, so the student has to learn *when* to reason step by step, recall or
# quote — from the answers alone. The paper calls this *cautious reasoning*: choosing the strategy
# for a task by itself. (The kit also has **the cautious system message**, `cautious`, which asks the
# model in words to choose a strategy; in this kit "cautious" alone always means that message.)
#
# The dataset keeps each row's provenance (task, strategy, a hash of the instruction, teacher), so
# the un-erased view can always be rebuilt and audited.

# %% tags=["parameters"]
params_path = "offline"  # a profile in params/ or a YAML path; the runner passes the run's params.yaml
run_dir = "../outputs/interactive"  # the same folder notebooks 01-02 wrote to
overrides = {}  # e.g. {"erasure.system_message": "cautious"}

# %%
import pandas as pd

from orca2_kit import erasure, tasks
from orca2_kit.run.stage import open_stage
from orca2_kit.strategies import student_system_message

stage = open_stage("03", params_path, run_dir, overrides)
p = stage.params
answers = pd.read_json(stage.artifact("02", "answers.jsonl"), lines=True)
system = student_system_message(p.erasure.system_message, p.erasure.system_message_file)
print(f"student system message ({p.erasure.system_message}): {system!r}")

# %%
print(f"variant: {p.erasure.variant}")  # erased (the recipe), not_erased or direct_only (ablations, notebook 07)
dataset = erasure.erase(p, answers, stage.out, seed=p.train_seed())  # the same function the study (07) runs per arm
print(f"{len(dataset)} training rows saved to {stage.out / 'sft_dataset'}, each with the columns "
      f"{', '.join(dataset.column_names)}")

# %% [markdown]
# ## Side by side: what the teacher saw, what the student sees

# %%
print(erasure.side_by_side(dataset[0]))

# %% [markdown]
# ## Checks: nothing of the instructions is left, provenance rebuilds them, and nothing held out leaks
# The last check: no fact a test (or dev) item rests on — a capital, an element, a person,
# an invented town — appears anywhere in the training conversations, so notebook 05 measures what the
# student can do, not what it memorised. A leak stops the run here.

# %%
instructions = set(answers.instruction)
leaks = [r["id"] for r in dataset if any(i in r["prompt"][0]["content"] or i in r["prompt"][1]["content"] for i in instructions)]
rebuilt = sum(erasure.unerased_instruction(r) in instructions for r in dataset)
print(f"rows with instruction text: {len(leaks)}; rows whose instruction is rebuilt from provenance: {rebuilt}/{len(dataset)}")
leakage = tasks.check_leakage(tasks.load_items(stage.artifact("01", "suite", "test.jsonl"))
                              + tasks.load_items(stage.artifact("01", "suite", "dev.jsonl")),
                              [m["content"] for r in dataset for m in r["prompt"][1:] + r["completion"]])
print(f"leakage check: {leakage['keys']} test and dev facts, none in {leakage['checked_texts']} training texts")
mix = pd.Series(dataset["strategy"]).value_counts()
mix.rename_axis("strategy the teacher's answer used").to_frame("training rows")

# %%
stage.write_metrics({"rows": len(dataset), "instruction_leaks": len(leaks), "rebuilt": rebuilt,
                     "strategy_mix": mix.to_dict(), "system_message": p.erasure.system_message,
                     "variant": p.erasure.variant, "leakage_check": leakage})

# %% [markdown]
# ## Try it
# Change one thing, predict, then rerun. Each exercise runs into its own folder and keeps this run's
# results: `python -m orca2_kit run --resume <run dir> --exercise <id>` (its report sets the numbers
# side by side). Or set `overrides` in the parameters cell above and rerun the notebooks named.
#
# **03.1 · Train under the cautious system message** (reruns 03): `overrides =
# {"erasure.system_message": "cautious"}`
# - *Predict:* Which columns of the dataset change?
# - *Expected:* Only the system turn of every row changes: the same number of rows, the same strategy
#   mix and still no instruction leaks. (Rerun 04 and 05 as well to see whether the student cares.)
#
# **03.2 · Train with an empty system message** (reruns 03-05): `overrides =
# {"erasure.system_message": "empty"}`
# - *Predict:* Notebook 05 evaluates under an empty and a generic system message; which one suits this
#   student now?
# - *Expected:* The student now trains under the empty system message that notebook 05 also tests
#   with, so its accuracy under "empty" should be at least as high as the run's, while "generic"
#   becomes the unfamiliar message. Differences of a few points are within the bootstrap intervals.
