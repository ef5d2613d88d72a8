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
# * **built-in items**: generated documents whose facts are known as *(slot, value)* pairs
#   (patient, age, drug, dose, duration, date, ...). The offline checker reads every fact a
#   summary states, binds it to a slot from the words around it ("aged 21", "400 mg", "for 5
#   days", "on Wednesday 12 July") and checks the pair: a right value in the wrong slot ("5 mg for
#   400 days" when the note says 400 mg for 5 days) counts as a **wrong fact**. The checker was
#   developed on built-in items 0-19 (its agreement with people is measured there, below), so this
#   notebook scores items from 20 on: documents it never read while it was built;
# * **real data**, the sets `hallucination.datasets` selects, where the data directory (or a
#   `sources` entry) has them: the offline profile selects QMSum and ACI-Bench (MS MARCO, the paper's
#   third, is read from the hub by the gpu profile); the line below says which this run uses. On them
#   the checker flags numbers and names absent from the source (plus, if a support model is set,
#   sentences no part of the source backs), and an optional **LLM judge** through any
#   OpenAI-compatible endpoint.
#
# A rate alone rewards saying nothing, so beside it stand **fact recall** (how much of what the
# reference summary states the summary kept), **wrong facts per fact stated**, length and ROUGE-L.

# %% tags=["parameters"]
params_path = "offline"  # a profile in params/ or a YAML path; the runner passes the run's params.yaml
run_dir = "../outputs/interactive"  # the same folder notebooks 01-05 wrote to
overrides = {}  # e.g. {"hallucination.n_items": 32}

# %%
import pandas as pd
from IPython.display import display

from orca2_kit import plots
from orca2_kit.hallucination import grounded, judge, summarise
from orca2_kit.hallucination import conclusion as hconclusion
from orca2_kit.hallucination import metrics as hm
from orca2_kit.hallucination.items import SCORED_FROM, scored_items
from orca2_kit.models import load_student, load_tokenizer, student_path
from orca2_kit.run.stage import open_stage

stage = open_stage("06", params_path, run_dir, overrides)
p, h = stage.params, stage.params.hallucination
print(judge.preflight(h.judge))  # a missing key fails here, before any generation
print(f"datasets (hallucination.datasets): {', '.join(h.datasets)}")
items = scored_items(h.n_items, p.seed) if "builtin" in h.datasets else []
if items:
    print(f"built-in documents {items[0].id} to {items[-1].id}: from item {SCORED_FROM} on, none of the documents "
          "the checker was developed or checked on (items 0-19; see 'How far to trust the checker')\n")
print(items[0].query if items else "", "\n\nthe facts the checker knows:",
      ", ".join(f"{slot}={value}" for slot, value in items[0].facts) if items else "")

# %% [markdown]
# ## Real data
# Each real dataset comes from its `sources` entry (a local folder in the upstream format, or
# `hf:<hub id>`), else from its folder in the data directory; one with neither is skipped, and one
# line says which and how to fetch them (then this notebook shows the built-in items only). Sources
# longer than `max_source_tokens` are cut, and the judges check against what the model saw.

# %%
from orca2_kit.run import data

missing = data.skipped_line(data.plan(p, [data.GROUNDED_STAGE]), data.GROUNDED_STAGE)
if missing:
    print(missing)
tokenizer = load_tokenizer(student_path(p.student), p.student.revision)
budget = grounded.source_budget(student_path(p.student), tokenizer, h.max_source_tokens, h.max_new_tokens)
coverage = []
for name in [d for d in h.datasets if d != "builtin"]:
    src = grounded.resolve_source(name, h.sources.get(name), p.resolved_data_dir())
    if src is None:
        if not missing:  # said above, once, for every missing set
            print(f"{name}: skipped (no source: set hallucination.sources.{name} or ORCA2_DATA_DIR)")
        continue
    real, n_cut = grounded.fit_sources(
        grounded.load_grounded(name, src, h.splits.get(name), h.n_real_items, p.seed), tokenizer, budget)
    items += real
    coverage.append({"dataset": name, "source": src, "items": len(real), "truncated": n_cut, "budget_tokens": budget})
pd.DataFrame(coverage) if coverage else None

# %% [markdown]
# ## Summaries: base and student, under every system message
# Besides the profile's system messages, each model also summarises under the one the student
# was **trained with** (`erasure.system_message`): it is the message the student knows best, and
# the paper's comparison is made under the messages the models were built for.

# %%
support = None
if h.support_model:
    from orca2_kit.hallucination.support import SupportModel, resolve_model_dir

    support = SupportModel(resolve_model_dir(h.support_model))
    print(f"support check: {support.kind} model {support.name}, threshold {h.support_threshold} (how it was chosen: "
          f"orca2_kit/data/support_calibration.json, benchmarks/support_threshold.py)")
modes = summarise.system_modes(h.system_messages, p.erasure.system_message)
print(f"system messages: {modes}; the student was trained with '{p.erasure.system_message}'")
adapter = stage.artifact("04", "adapter" if p.train.method == "lora" else "model")
rows = summarise.reference_baseline([it for it in items if it.dataset != "builtin"], support, h.support_threshold)
for name, weights in [("base", None), ("student", adapter)]:
    model, tokenizer = load_student(p.student, p.device, adapter=str(weights) if weights else None,
                                    scoring=p.generation.dtype, engine=p.generation.engine)
    rows += summarise.summarise_items(model, tokenizer, items, modes, name, h.max_new_tokens, p.generation.batch_size,
                                          budget + 256, support, h.support_threshold, p.erasure.system_message_file)
samples = pd.DataFrame(rows)

# %% [markdown]
# ## The LLM judge (optional)
# Skipped unless `hallucination.judge` names an endpoint (OpenAI, Azure, vLLM, or `transformers serve`
# on your machine). A verdict that does not parse is counted as **malformed**, never as "not
# hallucinated"; a failed request as **error**. Both judges see the same summaries.

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

# %% [markdown]
# ## Which strategy did each summary use?
# The student was trained on answers written with a strategy (step by step, recall first, quote
# first, ...). A summary needs none of that; what the student does anyway shows here, with the
# remarks the rows call for (a shared opener, a layout, length and ROUGE-L against the base model).

# %%
print("\n".join(hm.remarks(models_only)))
pd.crosstab([samples.model, samples.system], samples.strategy)

# %% [markdown]
# ## Rates and the other metrics, per dataset, model and system message (95% intervals)
# `rate`: summaries with at least one wrong fact (Wilson interval: at 0 of 12 it is [0, 0.24], not a
# point). `n_wrong`: distinct wrong facts per summary (a wrong fact repeated in a loop counts once).
# `precision`: share of the fact *mentions* a summary states that are right (repeats included, so a
# loop of right lines raises it; it is not 1 - `wrong_per_fact`, which counts distinct facts). `recall`: share of the reference's facts it
# kept. `wrong_per_fact`: all wrong facts over all facts stated (length-matched: saying less does
# not lower it).

# %%
rates = pd.DataFrame(hm.rates_table(models_only, seed=p.seed)
                     + (hm.rates_table(models_only, seed=p.seed, judge="llm") if judge_info else []))
baseline = pd.DataFrame(hm.rates_table(samples[samples.model == "reference"].to_dict(orient="records"), seed=p.seed))
cols = ["dataset", "model", "system", "judge", "n", "rate", "lo", "hi", "n_wrong", "precision", "recall", "wrong_per_fact",
        "wrong_per_fact_lo", "wrong_per_fact_hi", "n_words", "rouge_l"]
made = (samples[samples.model != "reference"].astype({"hit_limit": bool, "cut_in_loop": bool})
        .assign(cut_not_in_loop=lambda d: d.hit_limit & ~d.cut_in_loop))
cut = made.groupby(["dataset", "model", "system"])[["hit_limit", "cut_not_in_loop"]].mean()
rates = rates.merge(cut.rename(columns={"hit_limit": "cut_by_limit"}).reset_index(), on=["dataset", "model", "system"], how="left")
for name, g in made.groupby("model"):
    print(f"{name}: {g.hit_limit.sum()} of {len(g)} summaries cut: by the {h.max_new_tokens}-token limit "
          f"(hallucination.max_new_tokens) or stopped by the kit once the same line came six times in a row "
          f"({int(g.get('stopped_in_loop', pd.Series(dtype=bool)).fillna(False).astype(bool).sum())} of them); "
          f"{g.cut_in_loop.sum()} while repeating themselves, {g.cut_not_in_loop.sum()} while still going")
print("A cut summary's length, recall and ROUGE-L are the limit's as much as the model's.")
rates[[c for c in cols + ["cut_by_limit", "cut_not_in_loop"] if c in rates]].round(3)

# %% [markdown]
# The checker on the datasets' own reference summaries: people wrote these from the whole source
# (and sometimes from more, e.g. a name from the visit's metadata), while the checker sees only the
# part that fits `max_source_tokens` (the coverage table above says how many sources were cut). A
# high flag rate here measures that cut: read the models' real-data rates against this floor, and
# not at all when the sources were cut.

# %%
baseline[["dataset", "rate", "lo", "hi", "n", "n_wrong"]].round(3) if len(baseline) else None

# %% [markdown]
# ## Student minus base, on the same items
# Each difference pairs the two models' summaries of the same document under the same system
# message, so item difficulty cancels out; the interval is a paired bootstrap, and the number of
# pairs is in brackets. An interval that contains 0 is no evidence of a difference at this n. The
# last column gives each model's share of those summaries that were cut (the token limit, or the
# kit's loop stop: the same line six times in a row): a cut summary's length, recall and ROUGE-L
# are the cut's as much as the model's.

# %%
diffs = pd.DataFrame(hm.paired_differences(models_only, baseline="base", seed=p.seed)
                     + (hm.paired_differences(models_only, "base", p.seed, judge="llm") if judge_info else []))
fig, _ = plots.paired_differences(diffs[diffs.judge == "offline"], stage.figures / "06_paired_differences")
hm.differences_table(diffs.to_dict(orient="records"))

# %% [markdown]
# ## Length-matched: the rate within bins of summary length
# The bins are shared by all models on a dataset, so a model that scores better only because it
# writes less shows the same rate as the others inside each bin. Each cell is the rate and, in
# brackets, how many summaries fell in that bin: where the two models share no bin, lengths differ
# too much to compare this way.

# %%
bins = pd.DataFrame(hm.length_bins(models_only)).assign(
    cell=lambda d: [f"{r:.2f} ({n})" if n else "-" for r, n in zip(d.rate.fillna(0), d.n)])
bins.pivot_table(index=["dataset", "bin"], columns=["model", "system"], values="cell", aggfunc="first").fillna("-")

# %% [markdown]
# ## What this run says
# The paired differences in words, with how the summaries ended: a summary cut while it loops may
# repeat what it already said (fewer chances to state a wrong fact) or cycle through new values
# ("the review is on Wednesday ... Thursday ... Friday": a new wrong fact each line), so a model
# whose summaries mostly loop can show a lower or a higher rate for the loop's sake, not its
# faithfulness. The distinct facts stated per summary and the wrong facts per fact stated
# (length-matched) are set beside the rate for that.

# %%
conclusion = hconclusion.conclusion(models_only, diffs.to_dict(orient="records"), h.max_new_tokens, seed=p.seed)
print(conclusion)

# %% [markdown]
# ## Beside the paper
# The published values (Figure 6; only those that could be read in a citable source, each with
# its tag) against ours. The paper's models have 7-13 billion parameters and GPT-4 judged them;
# ours has 135 million and the offline checker judges: the paper's bars are context, not a target.
# The paper's values are rates on real data: a run without any shows its built-in rates alone.

# %%
paper = summarise.paper_fig6()
real_rates = rates[(rates.judge == "offline") & (rates.dataset != "builtin")]
paper_values = pd.DataFrame(paper["values"]) if len(real_rates) else None
if len(real_rates):
    print("\n".join([paper["source"], *[f"[{k}] {v}" for k, v in paper["sources"].items()], *paper["notes"]]))
else:
    print("No comparison with the paper: its Figure 6 rates are on QMSum, ACI-Bench and MS MARCO, and this run "
          "has none of them (see 'Real data skipped' above). The figure shows the built-in rates alone.")
fig, _ = plots.hallucination_rates(rates[rates.judge == "offline"], stage.figures / "06_hallucination",
                                   paper_values, trained_with=p.erasure.system_message)
if judge_info:
    plots.hallucination_rates(rates[rates.judge == "llm"], stage.figures / "06_hallucination_llm_judge",
                              paper_values, f"LLM judge {h.judge.model}", p.erasure.system_message)
(pd.DataFrame(hm.paper_beside_ours(real_rates.to_dict(orient="records"), paper["values"])).round(3)
 if len(real_rates) else None)

# %% [markdown]
# ## The worst examples, wrong facts marked **[like this]**, with the checker's reason

# %%
gen = samples[samples.model != "reference"].assign(spans=lambda d: d.offline_unsupported + d.support_unsupported)
worst = gen[gen.offline_hallucinated].sort_values("n_wrong", ascending=False).head(6)
if len(worst):
    with pd.option_context("display.max_colwidth", None):  # the whole summary, so every mark shows
        display(pd.DataFrame({"dataset": worst.dataset, "model": worst.model, "system": worst.system,
                              "summary": [summarise.highlight(s, u) for s, u in zip(worst.summary, worst.spans)],
                              "why": worst.offline_reasons.map(lambda r: "; ".join(dict.fromkeys(r))),
                              **({"LLM judge": worst.judge_verdict} if judge_info else {})}))
else:
    print("No summary has a wrong fact the offline checker reads.")

# %% [markdown]
# Where the offline checker and the LLM judge disagree (nothing without a judge):

# %%
disagreement if len(disagreement) else None

# %% [markdown]
# ## How far to trust the checker: agreement with people
# Two fixed sets of 48 summaries (they do not change with this run) by the base SmolLM2 and an
# offline-profile student were labelled by reading each against its document, before the checker
# ran on them. `dev`: built-in items 0-7 at 80 new tokens, labelled by the checker's author, who
# then changed the checker after reading its misses there (so its agreement on `dev` flatters it).
# `heldout`: items 12-19, summaries by another offline-profile
# student and the base model at 256 new tokens, labelled by someone who never ran or read the
# checker: **quote the held-out figures**. Neither set is among this notebook's items (from 20 on),
# nor are items 8-11, which an earlier version of this notebook scored while the checker was built. Two labels per summary: any unsupported claim, and a wrong fact of a kind the checker
# reads (numbers, names, places, dates, drugs, symptoms, jobs, facilities, who reported or
# prescribed a figure). Read the agreement against the floor printed beside it: a checker that
# never flags anything agrees with every clean summary.

# %%
from orca2_kit.hallucination import agreement as ha

agreement = {name: ha.agreement(ha.load_labels(name)) for name in ha.SETS}
print("\n".join(ha.summary_line(name, a) for name, a in agreement.items()))
# Where the checker and the in-scope label differ: a miss, or a flag on a claim the person counted
# as outside the checker's kinds (it is then a catch on the any-kind label).
pd.DataFrame([{"set": name, "summary": k, "what": "flagged; the person marked it out of scope" if c else "missed",
               "person's reason": why, "checker": "; ".join(dict.fromkeys(c)) or "nothing flagged"}
              for name, a in agreement.items() for k, why, c in a["missed_in_scope"]])

# %% [markdown]
# ## What these numbers can and cannot show
# * **n is small.** Each bar is one model under one system message on `hallucination.n_items`
#   built-in documents and `n_real_items` of each real set; the intervals above are wide, and a
#   difference whose paired interval contains 0 is not evidence of anything. With a handful of pairs
#   (`n_real_items` per real set) a bootstrap interval looks precise but is not: read real-data
#   differences at that n not at all.
#   06.2 below doubles the documents.
# * **Summaries are cut.** The `cut_by_limit` column gives the share cut, by `max_new_tokens` or by
#   the kit's loop stop (the same line six times in a row), and
#   `cut_not_in_loop` the share cut while not repeating a line (by the loop rule of
#   `budgets.repeating`, which misses loops that re-list the facts with small changes); a cut
#   summary's length and ROUGE-L measure the limit (for a loop: how long it was allowed to run).
#   The limit is 200 tokens, set from an earlier run of this profile in which a limit of 80 cut
#   most summaries, the base model's too; this run's cut shares per model are in the tables
#   above. The trained student mostly does not end: it repeats its lines until
#   the limit or the loop stop ends it, which is why its summaries are longer and its ROUGE-L lower whatever the limit.
# * **The built-in checker sees only what it reads.** It binds numbers, names, places, dates,
#   drugs, symptoms, jobs, facilities, a stated sex, and who reported or prescribed a figure to
#   slots; it does not see claims written in open words ("diagnosed as a rare kidney stone",
#   "the neighbours were left out", "the cough was cured"), negations, or facts spread over two
#   sentences. The agreement section above counts what it catches: on the held-out set most
#   summaries with a wrong fact of the kinds it reads (it misses a year or date put on another
#   event, a wrong recipient), but under half of those with any unsupported claim, and no clean
#   summary flagged. So **its built-in rates are lower bounds**, and the base model's fluent
#   inventions are what it misses most.
#   It can raise false alarms, on real data and on built-in documents it was not developed on (a
#   salutation such as "Ladies and gentlemen", or initials, read as an invented name): read the
#   worst examples' reasons before trusting a flag, and quote the held-out agreement, not a count of
#   flags, as its false-alarm rate.
# * **Real data is approximate.** Numbers and names only, plus the support model's sentence
#   scores if enabled; the reference summaries themselves get flagged (table above), so read the
#   models' real-data rates against that floor, and at `n_real_items` items per dataset not at all: the
#   real-data bars and the paper's markers beside them are there to show the method, not a
#   comparison (the paired-difference figure leaves out rows with fewer than 5 pairs).
# * **A low rate can mean little was said.** Read it with recall and wrong facts per fact stated:
#   the student's trained habits (a "Relevant facts:" list, a step-by-step opener, an "Answer:"
#   line, repeated lines) change length, recall and ROUGE-L whatever they do to the facts; the
#   remarks above say which habits this run's student shows.

# %%
stage.write_metrics({"rates": rates.to_dict(orient="records"), "reference_baseline": baseline.to_dict(orient="records"),
                     "paired_differences": diffs.to_dict(orient="records"), "n_items": len(items), "coverage": coverage,
                     "conclusion": conclusion,
                     "system_messages": modes, "training_system_message": p.erasure.system_message,
                     "strategies": samples.groupby(["model", "system", "strategy"]).size().reset_index(name="n")
                     .to_dict(orient="records"),
                     "judge": judge_info, "support_model": support.name if support else None,
                     "max_new_tokens": h.max_new_tokens,  # cut shares per model: pooled, they hid the gap
                     "cut_by_limit": made.groupby("model", sort=False).hit_limit.mean().to_dict(),
                     "cut_not_in_loop": made.groupby("model", sort=False).cut_not_in_loop.mean().to_dict(),
                     "checker_agreement": {k: {m: a[m] for m in ("n", "in_scope", "overall", "floor_in_scope", "floor_overall",
                                                             "n_in_scope", "caught_in_scope", "n_hallucinated", "caught",
                                                             "n_clean")} | {"false_alarms": len(a["false_alarms"])}
                                           for k, a in agreement.items()},
                     "paper_values": len(paper["values"])})

# %% [markdown]
# ## Try it
# Change one thing, predict, then rerun. Each exercise runs into its own folder and keeps this run's
# results: `python -m orca2_kit run --resume <run dir> --exercise <id>` (its report sets the numbers
# side by side). Or set `overrides` in the parameters cell above and rerun the notebooks named.
#
# **06.1 · Shorter summaries** (reruns 06): `overrides = {"hallucination.max_new_tokens": 80}`
# - *Predict:* Less room to write; what happens to the hallucination rate, to recall and to wrong
#   facts per fact stated?
# - *Expected:* Most summaries are cut; shorter summaries state fewer facts, so the share of summaries
#   with a wrong fact falls or stays the same, never because the model got better; recall falls; wrong
#   facts per fact stated (the length-matched number) moves much less than the rate. The stage is
#   faster (generation dominates).
#
# **06.2 · Twice the documents** (reruns 06): `overrides = {"hallucination.n_items": 24}`
# - *Predict:* Do the rates change, or only their intervals?
# - *Expected:* About twice the time; the rates stay in the same range while their confidence
#   intervals narrow (by about 1/sqrt(2)). A paired difference whose interval excluded 0 at 12
#   documents may not survive at 24, and one whose interval included 0 may come to exclude it.
