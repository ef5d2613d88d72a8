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
# quote — from the answers alone. We call this *cautious reasoning*.
#
# The dataset keeps each row's provenance (task, strategy, a hash of the instruction, teacher), so
# the un-erased view can always be rebuilt and audited.

# %% tags=["parameters"]
params_path = "offline"  # a profile in params/ or a YAML path; the runner passes the run's params.yaml
run_dir = "../outputs/interactive"  # the same folder notebooks 01-02 wrote to
overrides = {}  # e.g. {"erasure.system_message": "cautious"}

# %%
import pandas as pd

from orca2_kit import erasure
from orca2_kit.stages import open_stage
from orca2_kit.strategies import student_system_message

stage = open_stage("03", params_path, run_dir, overrides)
p = stage.params
answers = pd.read_json(stage.artifact("02", "answers.jsonl"), lines=True)
system = student_system_message(p.erasure.system_message, p.erasure.system_message_file)
print(f"student system message ({p.erasure.system_message}): {system!r}")

# %%
rows = erasure.build_sft_rows(answers, system, variant="erased")
dataset = erasure.save_sft_dataset(rows, stage.out / "sft_dataset", seed=p.seed)
dataset

# %% [markdown]
# ## Side by side: what the teacher saw, what the student sees

# %%
row = dataset[0]
pd.DataFrame({"teacher saw (system)": [erasure.unerased_instruction(row)],
              "student sees (system)": [row["prompt"][0]["content"]],
              "user": [row["prompt"][1]["content"]], "assistant (trained on)": [row["completion"][0]["content"]]}).T

# %% [markdown]
# ## Checks: nothing of the instructions is left, and provenance rebuilds them

# %%
instructions = set(answers.instruction)
leaks = [r["id"] for r in dataset if any(i in r["prompt"][0]["content"] or i in r["prompt"][1]["content"] for i in instructions)]
rebuilt = sum(erasure.unerased_instruction(r) in instructions for r in dataset)
print(f"rows with instruction text: {len(leaks)}; rows whose instruction is rebuilt from provenance: {rebuilt}/{len(dataset)}")
mix = pd.Series(dataset["strategy"]).value_counts()
mix

# %%
stage.write_metrics({"rows": len(dataset), "instruction_leaks": len(leaks), "rebuilt": rebuilt,
                     "strategy_mix": mix.to_dict(), "system_message": p.erasure.system_message})

# %% [markdown]
# ## Try it
# 1. Rerun with `overrides = {"erasure.system_message": "cautious"}`: only the system column changes.
# 2. Build the *not erased* ablation: `erasure.build_sft_rows(answers, system, variant="not_erased")`
#    keeps the teacher's instruction; train on it in 04 and compare in 05 (expect the student to
#    depend on instructions it will not get at test time).
