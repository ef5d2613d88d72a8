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
# not support. Here the documents are generated with a **known set of facts**: every name, place,
# number, weekday and month a summary mentions is checked exactly against the document, so an
# unsupported mention is found with certainty. ROUGE-L against a reference summary sits beside the
# rate, so a model cannot look good by saying nothing.

# %% tags=["parameters"]
params_path = "offline"  # a profile in params/ or a YAML path; the runner passes the run's params.yaml
run_dir = "../outputs/interactive"  # the same folder notebooks 01-05 wrote to
overrides = {}  # e.g. {"hallucination.n_items": 32}

# %%
import pandas as pd

from orca2_kit import hallucination, plots
from orca2_kit.models import load_student
from orca2_kit.stages import open_stage

stage = open_stage("06", params_path, run_dir, overrides)
p = stage.params
items = hallucination.make_grounded_items(p.hallucination.n_items, p.seed)
print(items[0].query, "\n\nknown facts:", items[0].facts)

# %%
adapter = stage.artifact("04", "adapter" if p.train.method == "lora" else "model")
rows = []
for name, weights in [("base", None), ("student", adapter)]:
    model, tokenizer = load_student(p.student, p.device, adapter=str(weights) if weights else None)
    rows += hallucination.summarise_items(model, tokenizer, items, p.hallucination.system_messages, name,
                                          p.hallucination.max_new_tokens, p.generation.batch_size)
samples = pd.DataFrame(rows)
samples.to_json(stage.out / "samples.jsonl", orient="records", lines=True)
rates = pd.DataFrame(hallucination.rates_table(rows, seed=p.seed))
rates.round(3)

# %%
fig, _ = plots.hallucination_rates(rates, stage.figures / "06_hallucination")

# %% [markdown]
# ## The worst examples, unsupported spans marked **[like this]**

# %%
worst = samples[samples.hallucinated].assign(n=lambda d: d.unsupported.map(len)).sort_values("n", ascending=False).head(5)
pd.DataFrame({"model": worst.model, "system": worst.system,
              "summary": [hallucination.highlight(s, u) for s, u in zip(worst.summary, worst.unsupported)]})

# %%
stage.write_metrics({"rates": rates.to_dict(orient="records"), "n_items": len(items)})

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
