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
# # 02 · Teacher prompting: a strong model answers, told exactly how
#
# For every training task the **teacher** gets the detailed instruction of the strategy chosen
# for its family in notebook 01 (Orca 2 sec. 3). Each answer is **verified** against the task's
# reference: only correct answers, in the requested format, are kept for training; rejected ones
# stay on disk with their reason.
#
# In the offline profile the teacher is the *reference teacher*: a template that lays out each
# task's known solution in the requested strategy, so the data is correct without any API. With
# `teacher.kind: openai` the same stage calls any OpenAI-compatible endpoint, through a response
# cache that makes reruns free.
#
# **What that means for the offline run.** The reference teacher never reasons and never errs: its
# accept rate is 1.0 by construction, and its answers in one strategy all share one layout. So the
# offline run tests the *pipeline* (selection, prompting, verification, erasure, training,
# evaluation) and whether a small student learns the *layouts* of the strategies — not what Orca 2
# claims a student gains from a strong teacher's reasoning, nor how much verification filters out.
# To test those, run the GPU profile with a real teacher: `python -m orca2_kit run --profile gpu`
# (`params/gpu.yaml`: a 1.5B student and an OpenAI-compatible teacher; README, "Moving to a GPU").

# %% tags=["parameters"]
params_path = "offline"  # a profile in params/ or a YAML path; the runner passes the run's params.yaml
run_dir = "../outputs/interactive"  # the same folder notebook 01 wrote to
overrides = {}  # e.g. {"teacher.replay_only": True}

# %%
import json

import pandas as pd

from orca2_kit import plots, tasks, teacher
from orca2_kit.models import load_tokenizer, student_path
from orca2_kit.run.stage import open_stage
from orca2_kit.strategies import strategy_map as strategy_map_for

stage = open_stage("02", params_path, run_dir, overrides)
p = stage.params
train_items = tasks.load_items(stage.artifact("01", "suite", "train.jsonl"))
selected = json.loads(stage.artifact("01", "strategy_map.json").read_text())
strategy_map = strategy_map_for(p.teacher.strategy_map, selected)  # measured (01's), expected, or one for all
print(f"teacher.strategy_map: {p.teacher.strategy_map}; the teacher answers each family in: "
      + ", ".join(f"{f}: {s}" for f, s in strategy_map.items()))

# %% [markdown]
# ## What the teacher sees, and what the student will see
# The teacher's system message spells out the strategy. After erasure (notebook 03) the student
# sees only a generic system message — it must learn the strategy from the answers alone.

# %%
request = teacher.teacher_requests(train_items[:1], strategy_map)[0]
print("TEACHER SYSTEM MESSAGE:\n" + request["instruction"] + "\n\nUSER:\n" + request["item"].prompt)

# %% [markdown]
# ## Ask the teacher, verify every answer
# With an LLM teacher this first prints the plan — requests not yet cached, estimated tokens and
# the most it can cost at the params' prices (`teacher.dry_run: true` stops there). Answers go
# through a response cache: a rerun, or a rerun after a crash, pays only for what is missing, and
# `teacher.budget_usd` stops the stage cleanly, keeping every answer already received.

# %%
answers, _ = teacher.answer_train_items(p, stage.run_dir)  # the same function the study (07) runs per arm
stats = json.loads((stage.out / "teacher_stats.json").read_text())
print(f"teacher {stats['teacher']}: {stats['accepted']} of {stats['n']} answers accepted, {stats['failed']} requests "
      f"failed; {stats['requests_sent']} requests sent, {stats['cache_hits']} answered from the cache, "
      f"${stats['spent_usd']:.2f} spent"
      + (" (the reference teacher writes each answer from the task's known solution: no requests, nothing to cache)"
         if p.teacher.kind == "reference" else ""))
answers.groupby(["family", "strategy"])["accepted"].agg(["mean", "count"]).rename(columns={"mean": "accept rate"})

# %%
print(answers.answer.iloc[0])

# %%
fig, _ = plots.accept_rates(answers, stage.figures / "02_accept_rates")

# %% [markdown]
# ## How long are the answers the student will learn to write?

# %%
tok = load_tokenizer(student_path(p.student))
lengths = pd.DataFrame({"strategy": answers.strategy,
                        "tokens": [len(tok(a if isinstance(a, str) else "")["input_ids"]) for a in answers.answer]})  # failed requests: no answer
fig, _ = plots.token_lengths(lengths, stage.figures / "02_answer_lengths")
rejected = answers[~answers.accepted][["id", "strategy", "reason"]]
print(f"rejected: {len(rejected)} of {len(answers)}" + (", the first ten below" if len(rejected) else " (none rejected)"))
rejected.head(10) if len(rejected) else None

# %%
stage.write_metrics({"accept_rate": float(answers.accepted.mean()), "n_answers": len(answers),
                     "n_rejected": int((~answers.accepted).sum()), "requests_sent": stats["requests_sent"],
                     "cache_hits": stats["cache_hits"], "spent_usd": stats["spent_usd"],
                     "mean_answer_tokens": float(lengths.tokens.mean())})

# %% [markdown]
# ## Try it
# Change one thing, predict, then rerun. Each exercise runs into its own folder and keeps this run's
# results: `python -m orca2_kit run --resume <run dir> --exercise <id>` (its report sets the numbers
# side by side). Or set `overrides` in the parameters cell above and rerun the notebooks named.
#
# **02.1 · Half the teacher's answers** (reruns 02-05): `overrides = {"tasks.n_train": 12}`
# - *Predict:* With half the training conversations, how much of the student's gain over the base
#   model is left?
# - *Expected:* Half the answers and half the optimizer steps (the train split is drawn last from the
#   seed, so the 12 items are the first 12 of the run's 24 and a replayed teacher still answers them
#   all from its cache; dev and test items do not change). The loss ends higher and the student's
#   accuracy moves back towards the base model's.
#
# **02.2 · The reference teacher beside a real one** (reruns 02): `overrides = {"teacher.kind":
# "reference"}`
# - *Predict:* In a workshop bundle (a real LLM teacher replayed), how does the accept rate compare?
# - *Expected:* The reference teacher writes each task's verified solution, so its accept rate is 1.0
#   by construction. A real teacher's rate, in the run, is lower: its rejected answers (see the
#   rejected table in notebook 02) never reach the student. In the offline profile the run already
#   uses the reference teacher and nothing changes.
