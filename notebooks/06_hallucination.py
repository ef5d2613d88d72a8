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
# # 06 · Hallucination: does the student stick to the source?
#
# The paper's Figure 6 measures how often summaries of a given text state things the text does
# not support, on QMSum (meeting queries), ACI-Bench (doctor-patient notes) and MS MARCO (answers
# from passages), with GPT-4 as the judge. Here two kinds of source are used:
#
# * **built-in items**: generated documents with a **known set of facts**. Every name, place,
#   number, weekday and month a summary mentions is checked exactly against the document, so an
#   unsupported mention is found with certainty;
# * **real data** (QMSum, ACI-Bench, MS MARCO) where available: the offline checker flags numbers,
#   names and dates absent from the source (plus, if a support model is set, sentences no part of
#   the source backs), and an **LLM judge** can be added through any OpenAI-compatible endpoint.
#
# ROUGE-L against the reference sits beside every rate, so a model cannot look good by saying
# nothing.

# %% tags=["parameters"]
params_path = "offline"  # a profile in params/ or a YAML path; the runner passes the run's params.yaml
run_dir = "../outputs/interactive"  # the same folder notebooks 01-05 wrote to
overrides = {}  # e.g. {"hallucination.n_items": 32}

# %%
import pandas as pd

from orca2_kit import grounded_data, hallucination, judge, plots
from orca2_kit.models import load_student, load_tokenizer, student_path
from orca2_kit.stages import open_stage

stage = open_stage("06", params_path, run_dir, overrides)
p, h = stage.params, stage.params.hallucination
print(judge.preflight(h.judge))  # a missing key fails here, before any generation
items = hallucination.make_grounded_items(h.n_items, p.seed) if "builtin" in h.datasets else []
print(items[0].query if items else "", "\n\nknown facts:", items[0].facts if items else "")

# %% [markdown]
# ## Real data
# Each real dataset comes from its `sources` entry (a local folder in the upstream format, or
# `hf:<hub id>`), else from its folder in the data directory; one with neither is skipped. Sources
# longer than `max_source_tokens` are cut, and the judges check against what the model saw.

# %%
tokenizer = load_tokenizer(student_path(p.student), p.student.revision)
budget = grounded_data.source_budget(student_path(p.student), tokenizer, h.max_source_tokens, h.max_new_tokens)
coverage = []
for name in [d for d in h.datasets if d != "builtin"]:
    src = grounded_data.resolve_source(name, h.sources.get(name), p.resolved_data_dir())
    if src is None:
        print(f"{name}: skipped (no source: set hallucination.sources.{name} or ORCA2_DATA_DIR)")
        continue
    real, n_cut = grounded_data.fit_sources(
        grounded_data.load_grounded(name, src, h.splits.get(name), h.n_real_items, p.seed), tokenizer, budget)
    items += real
    coverage.append({"dataset": name, "source": src, "items": len(real), "truncated": n_cut, "budget_tokens": budget})
pd.DataFrame(coverage)

# %%
support = None
if h.support_model:
    from orca2_kit.support import SupportModel, resolve_model_dir

    support = SupportModel(resolve_model_dir(h.support_model))
    print(f"support check: {support.kind} model {support.name}, threshold {h.support_threshold}")
adapter = stage.artifact("04", "adapter" if p.train.method == "lora" else "model")
rows = hallucination.reference_baseline([it for it in items if it.dataset != "builtin"], support, h.support_threshold)
for name, weights in [("base", None), ("student", adapter)]:
    model, tokenizer = load_student(p.student, p.device, adapter=str(weights) if weights else None,
                                    scoring=p.generation.dtype)
    rows += hallucination.summarise_items(model, tokenizer, items, h.system_messages, name, h.max_new_tokens,
                                          p.generation.batch_size, budget + 256, support, h.support_threshold)
samples = pd.DataFrame(rows)

# %% [markdown]
# ## The LLM judge (optional)
# Skipped unless `hallucination.judge` names an endpoint (OpenAI, Azure, vLLM, or `transformers serve`
# on your machine). A verdict that does not parse is counted as **malformed**, never as "not
# hallucinated"; a failed request as **error**.

# %%
by_id = {it.id: it for it in items}
judge_info, disagreement = None, pd.DataFrame()
if h.judge is not None:
    verdicts, judge_info = judge.judge_summaries(h.judge, rows, by_id, stage.run_dir.parent / "judge_cache.sqlite")
    samples = pd.concat([samples, pd.DataFrame(verdicts)], axis=1)
    counts, disagreement = judge.disagreements(samples[samples.model != "reference"])
    print(judge_info, counts)
samples.to_json(stage.out / "samples.jsonl", orient="records", lines=True)
models_only = samples[samples.model != "reference"].to_dict(orient="records")
rates = pd.DataFrame(hallucination.rates_table(models_only, seed=p.seed)
                     + (hallucination.rates_table(models_only, seed=p.seed, judge="llm") if judge_info else []))
baseline = pd.DataFrame(hallucination.rates_table(samples[samples.model == "reference"].to_dict(orient="records")))
rates.round(3)

# %% [markdown]
# The checker on the datasets' own reference summaries: people wrote these (sometimes from more
# than the source, e.g. a name from the visit's metadata), so this is the flag rate to read the
# models' real-data rates against.

# %%
baseline[["dataset", "rate", "lo", "hi", "n"]].round(3) if len(baseline) else "no real data"

# %%
paper = hallucination.paper_fig6()
fig, _ = plots.hallucination_rates(rates[rates.judge == "offline"], stage.figures / "06_hallucination",
                                   pd.DataFrame(paper["values"]))
if judge_info:
    plots.hallucination_rates(rates[rates.judge == "llm"], stage.figures / "06_hallucination_llm_judge",
                              pd.DataFrame(paper["values"]), judge=f"LLM judge {h.judge.model}")

# %% [markdown]
# ## The worst examples, unsupported spans marked **[like this]**

# %%
gen = samples[samples.model != "reference"].assign(spans=lambda d: d.offline_unsupported + d.support_unsupported)
worst = gen[gen.offline_hallucinated].assign(n=lambda d: d.spans.map(len)).sort_values("n", ascending=False).head(6)
pd.DataFrame({"dataset": worst.dataset, "model": worst.model, "system": worst.system,
              "summary": [hallucination.highlight(s, u) for s, u in zip(worst.summary, worst.spans)],
              **({"LLM judge": worst.judge_verdict} if judge_info else {})})

# %% [markdown]
# Where the offline checker and the LLM judge disagree (empty without a judge):

# %%
disagreement

# %%
stage.write_metrics({"rates": rates.to_dict(orient="records"), "reference_baseline": baseline.to_dict(orient="records"),
                     "n_items": len(items), "coverage": coverage, "judge": judge_info,
                     "support_model": support.name if support else None,
                     "paper_values": len(paper["values"])})

# %% [markdown]
# ## Try it
# Change one thing, predict, then rerun. Each exercise runs into its own folder and keeps this run's
# results: `python -m orca2_kit run --resume <run dir> --exercise <id>` (its report sets the numbers
# side by side). Or set `overrides` in the parameters cell above and rerun the notebooks named.
#
# **06.1 · Longer summaries** (reruns 06): `overrides = {"hallucination.max_new_tokens": 200}`
# - *Predict:* More room to write; what happens to the hallucination rate and to ROUGE-L?
# - *Expected:* Longer summaries have more room for content that is not in the source, so the
#   hallucination rates rise or stay the same, never because the model got worse; ROUGE-L moves
#   little. The stage takes longer (generation dominates).
#
# **06.2 · Twice the documents** (reruns 06): `overrides = {"hallucination.n_items": 24}`
# - *Predict:* Do the rates change, or only their intervals?
# - *Expected:* About twice the time; the rates stay in the same range while their confidence
#   intervals narrow (by about 1/sqrt(2)). Differences that were inside the intervals may not survive.
