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
# # 05 · Evaluation: is the student ahead of where it started?
#
# Zero-shot, greedy, on the **held-out test split** of the built-in tasks, the base model and the
# fine-tuned student answer under each system message of the profile: **empty** (the paper's
# zero-shot setting — an explicit empty system turn, so SmolLM2's template cannot slip in its
# default) and **generic** (the one the student was trained with). Answers are read by two
# filters, *strict* (only the `Answer:` line) and *flexible* (with fallbacks); the main number is
# flexible accuracy, with the format-OK rate beside it.

# %% tags=["parameters"]
params_path = "offline"  # a profile in params/ or a YAML path; the runner passes the run's params.yaml
run_dir = "../outputs/interactive"  # the same folder notebooks 01-04 wrote to
overrides = {}  # e.g. {"eval.split": "dev"}

# %%
import pandas as pd

from orca2_kit import evaluate, plots, tasks
from orca2_kit.models import load_student
from orca2_kit.stages import open_stage

stage = open_stage("05", params_path, run_dir, overrides)
p = stage.params
items = tasks.load_items(stage.artifact("01", "suite", f"{p.eval.split}.jsonl"))
adapter = stage.artifact("04", "adapter" if p.train.method == "lora" else "model")
print(f"{len(items)} held-out items; student adapter: {adapter}")

# %%
results, skipped = [], []
for name, weights in [("base", None), ("student", adapter)]:
    model, tokenizer = load_student(p.student, p.device, adapter=str(weights) if weights else None,
                                    scoring=p.generation.dtype)
    evaluate.assert_same_template(tokenizer, stage.artifact("04", "train_metrics.json"))
    samples, skip = evaluate.evaluate_model(model, tokenizer, items, p.eval.system_messages, name,
                                            p.eval.max_new_tokens, p.generation.batch_size, p.generation.max_prompt_tokens,
                                            p.erasure.system_message_file)
    results.append(samples)
    skipped.extend(skip)
samples = pd.concat(results, ignore_index=True)
samples.to_json(stage.out / "samples.jsonl", orient="records", lines=True)
pd.DataFrame(skipped)

# %%
summary = evaluate.summarize(samples, seed=p.seed)
summary.to_csv(stage.out / "scores.csv", index=False)
summary.round(3)

# %%
fam = evaluate.per_family(samples)
fig, _ = plots.base_vs_student(fam, stage.figures / "05_base_vs_student")

# %% [markdown]
# ## Is the student ahead? Paired on the same items, with a bootstrap interval

# %%
diffs = pd.DataFrame([evaluate.paired_difference(samples, s, seed=p.seed) for s in summary.system.unique()])
for d in diffs.itertuples():
    verdict = "ahead" if d.ci_low > 0 else "behind" if d.ci_high < 0 else "not distinguishable from the base model"
    print(f"{d.system:>8} system message: student - base = {d.difference:+.3f} "
          f"(95% CI {d.ci_low:+.3f} to {d.ci_high:+.3f}, n={d.n}) -> the student is {verdict}")
diffs.round(3)

# %% [markdown]
# Where the student is ahead, look at *why* in the per-family plot: families whose teacher answers
# reason step by step or quote the text first are where a 135M model gains most; the format-OK
# column shows how much of the gain is simply answering in the requested format.

# %%
print(samples[(samples.model == "student")].output.iloc[0])

# %% [markdown]
# ## The paper's benchmarks, through lm-evaluation-harness
#
# The same question on real data: the benchmarks of the paper's Table 2 and Figures 4-5, run by
# [lm-evaluation-harness](https://github.com/EleutherAI/lm-evaluation-harness) from the task configs in
# `orca2_kit/harness/tasks/` (each one is data: dataset loader, zero-shot prompt, the *strict* and
# *flexible* answer filters, metric). Data comes from the local directory in params (`data_dir` or
# `$ORCA2_DATA_DIR`); a benchmark without local files is skipped with the reason. Scores are computed
# in float32, so they do not depend on the batch size. `eval.harness.limit` documents per benchmark
# keep this chapter to minutes on a laptop: read the intervals, not just the bars.

# %%
from orca2_kit.harness import analysis, suite

data_dir = p.resolved_data_dir()
benchmarks, skipped_benchmarks = suite.plan(p, data_dir)
print(f"running: {', '.join(benchmarks) or 'nothing'} (limit {p.eval.harness.limit} documents each)")
for s in skipped_benchmarks:
    print(f"skipped {s['benchmark']}: {s['reason']}")

# %%
harness_run = suite.evaluate(p, [("base", None), ("student", str(adapter))], stage.out / "harness", data_dir)
harness_samples = analysis.load_samples(stage.out / "harness")
harness_summary = analysis.summarize(harness_samples, seed=p.seed) if len(harness_samples) else pd.DataFrame()
harness_summary.to_csv(stage.out / "harness_scores.csv", index=False)
harness_summary.round(3)

# %% [markdown]
# Accuracy per benchmark under each system message, with 95% bootstrap intervals; *format_ok* is
# the share of answers with an `Answer:` line (the strict filter's reading). The log-likelihood
# rows (`raw` system) score the multiple-choice sets without generation or chat template.

# %%
if len(harness_summary):
    fig, _ = plots.benchmark_scores(harness_summary, stage.figures / "05_benchmarks")

# %%
harness_paired = pd.DataFrame([d for b in benchmarks if b != "mt_bench" for s in p.eval.system_messages
                               if (d := analysis.paired(harness_samples, b, s, seed=p.seed))])
harness_paired.round(3)

# %% [markdown]
# **Which strategy did the answers use?** Read from each answer's shape: numbered steps, a
# *Relevant facts:* list, a quoted *Relevant text:*, a sentence of explanation, or just the answer.
# The student was never told a strategy at test time; this is what it learned to do on its own.

# %%
mix = analysis.strategy_mix(harness_samples)
(mix.pivot_table(index=["model", "system"], columns="strategy", values="share", aggfunc="mean").round(2)
 if len(mix) else mix)

# %% [markdown]
# ### Beside the paper
# The paper's published zero-shot numbers for Orca-2-7B/13B (`orca2_kit/data/paper_results.yaml`,
# each with its source) next to ours. Different scale — 7B/13B against ~100M — so read the gap
# between base and student, not the gap to the paper.

# %%
paper = analysis.paper_results()
table = analysis.with_reasoning_average(analysis.with_paper(harness_summary, paper)) if len(harness_summary) else pd.DataFrame()
if len(table):
    fig, _ = plots.paper_side_by_side(table, stage.figures / "05_paper_side_by_side")
table.round(1)

# %%
if harness_run["mt_bench"]:
    mt = pd.DataFrame(harness_run["mt_bench"])
    print(mt.groupby(["model", "system"]).agg(score=("rating", "mean"), malformed=("malformed", "mean")))

# %%
stage.write_metrics({"summary": summary.to_dict(orient="records"), "paired": diffs.to_dict(orient="records"),
                     "skipped": skipped,
                     "harness": {"summary": harness_summary.to_dict(orient="records"),
                                 "paired": harness_paired.to_dict(orient="records"),
                                 "skipped": harness_run["skipped"],
                                 "mt_bench": harness_run["mt_bench"]}})

# %% [markdown]
# ## Try it
# Change one thing, predict, then rerun. Each exercise runs into its own folder and keeps this run's
# results: `python -m orca2_kit run --resume <run dir> --exercise <id>` (its report sets the numbers
# side by side). Or set `overrides` in the parameters cell above and rerun the notebooks named.
#
# **05.1 · Evaluate under the cautious system message too** (reruns 05): `overrides =
# {"eval.system_messages": ["empty", "generic", "cautious"]}`
# - *Predict:* The student was trained under the generic message; does the cautious one help or hurt
#   it?
# - *Expected:* A third row per model and about 50% more evaluation time. The empty and generic rows
#   are unchanged (greedy decoding, same items); the student under "cautious", a message it never saw
#   in training, is usually no better than under "generic".
#
# **05.2 · The dev split instead of the test split** (reruns 05): `overrides = {"eval.split": "dev"}`
# - *Predict:* Strategy selection chose strategies on these items; is the student's gap over the base
#   larger here?
# - *Expected:* Half as many items per family (n_dev instead of n_test), so wider intervals. Neither
#   model was trained on dev items (only strategy selection looked at them, through the base model),
#   so the gap should be about the same as on the test split, within the intervals.
