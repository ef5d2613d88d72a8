"""The kit's analysis on the harness's per-sample logs.

Layout written by notebook 05 (one harness run per model, system message and variant):
    <root>/<model>/<system>/<variant>/results.json, samples_orca2_<benchmark>[_ll|_mc].jsonl

From those logs: accuracy under both readings side by side (strict and lenient), the format-OK
rate (an 'Answer:' line was found), which strategy the answers used, bootstrap confidence
intervals, the multiple-choice sets scored in both forms (option letter, option text) with chance,
and the paper's published numbers beside ours.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import pandas as pd
import yaml

from orca2_kit.stats import bootstrap_ci
from orca2_kit.strategies import classify_strategy
from orca2_kit.evaluation.builtin import verdict
from orca2_kit.evaluation.harness.benchmarks import BENCHMARKS
from orca2_kit.paths import PACKAGE_DATA

PAPER_FILE = PACKAGE_DATA / "paper_results.yaml"
REASONING = [b for b, x in BENCHMARKS.items() if x.group == "reasoning"]
SAMPLE_COLUMNS = ["model", "system", "variant", "benchmark", "subset", "id", "filter", "acc", "answered", "f1",
                  "response", "strategy", "chance", "hit_limit"]
STRICT, LENIENT = "strict-match", "lenient-extract"


def load_samples(root: str | Path, tokenizer=None, max_gen_toks: Optional[int] = None) -> pd.DataFrame:
    """One row per (model, system, variant, benchmark, document, filter) from every finished run under root.

    With a tokenizer and the generation limit, `hit_limit` marks responses that used the whole
    budget (the harness logs only the text); else it is NaN."""
    rows = []
    for res in sorted(Path(root).glob("*/*/*/results.json")):
        variant_dir = res.parent
        system, model = variant_dir.parent.name, variant_dir.parent.parent.name
        variant = json.loads(res.read_text()).get("orca2", {}).get("variant", variant_dir.name)
        for f in sorted(variant_dir.glob("samples_*.jsonl")):
            for line in f.open(encoding="utf-8"):
                s = json.loads(line)
                doc = s["doc"]
                resp = s["resps"][0][0] if variant == "generative" else None
                cut = float("nan")
                if resp is not None and tokenizer is not None and max_gen_toks:
                    cut = float(len(tokenizer(resp, add_special_tokens=False)["input_ids"]) >= max_gen_toks - 1)
                rows.append({"model": model, "system": system, "variant": variant, "benchmark": doc["benchmark"],
                             "subset": doc["subset"], "id": doc["id"], "filter": s["filter"],
                             "acc": float(s["acc"]), "answered": float(s.get("answered", 1.0)),
                             "f1": float(s.get("f1", s["acc"])), "response": resp,
                             "strategy": classify_strategy(resp) if resp is not None else None,
                             "chance": 1.0 / len(doc["choices"]) if doc.get("choices") else 0.0, "hit_limit": cut})
    return pd.DataFrame(rows, columns=SAMPLE_COLUMNS)  # the columns even when nothing ran (no data here)


def summarize(samples: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """Per model, system message and benchmark, as notebook 05's built-in table: lenient and strict
    accuracy with 95% CIs (documents redrawn within their subsets: MMLU's subjects, BBH's tasks),
    format-OK, accuracy among format-OK answers, the share cut, chance."""
    out = []
    gen = samples[samples.variant == "generative"]
    for (m, s, b), g in gen.groupby(["model", "system", "benchmark"], sort=False):
        flex, strict = g[g["filter"] == LENIENT], g[g["filter"] == STRICT]
        lo, hi = bootstrap_ci(flex["acc"], seed=seed, strata=flex["subset"].to_numpy())
        slo, shi = bootstrap_ci(strict["acc"], seed=seed, strata=strict["subset"].to_numpy())
        ok = strict[strict["answered"] > 0]
        out.append({"model": m, "system": s, "benchmark": b, "variant": "generative", "n": len(flex),
                    "lenient": flex["acc"].mean(), "lenient_lo": lo, "lenient_hi": hi,
                    "strict": strict["acc"].mean(), "strict_lo": slo, "strict_hi": shi,
                    "format_ok": strict["answered"].mean(),
                    "acc_given_format_ok": ok["acc"].mean() if len(ok) else float("nan"),
                    "cut_by_limit": strict["hit_limit"].mean(), "chance": flex["chance"].mean(),
                    **({"f1": flex["f1"].mean()} if b == "drop" else {})})
    ll = samples[samples.variant == "loglikelihood"]
    for (m, s, b), g in ll.groupby(["model", "system", "benchmark"], sort=False):
        lo, hi = bootstrap_ci(g["acc"], seed=seed, strata=g["subset"].to_numpy())
        out.append({"model": m, "system": s, "benchmark": b, "variant": "loglikelihood", "n": len(g),
                    "lenient": g["acc"].mean(), "lenient_lo": lo, "lenient_hi": hi, "chance": g["chance"].mean()})
    return pd.DataFrame(out)


MC_COLUMNS = ["model", "benchmark", "form", "subset", "id", "n_options", "acc", "acc_norm"]
MC_SUMMARY_COLUMNS = ["model", "benchmark", "form", "n", "acc", "acc_ci_low", "acc_ci_high", "acc_norm",
                      "acc_norm_ci_low", "acc_norm_ci_high", "chance"]


def load_mc_samples(root: str | Path) -> pd.DataFrame:
    """The multiple-choice sets scored by log-likelihood, one row per (model, benchmark, form, document).

    form `letter`:       the `_ll` variant, which option LETTER is most likely after the lettered question
    form `continuation`: the field's standard form (`_mc`, lm-evaluation-harness's own prompts), which
                         option TEXT is most likely as the continuation; acc_norm divides by its length
    HellaSwag's and LAMBADA's `_ll` tasks are neither (they already score the text) and are left out.
    """
    rows = []
    for res in sorted(Path(root).glob("*/*/*/results.json")):
        info = json.loads(res.read_text())
        variant = info.get("orca2", {}).get("variant", res.parent.name)
        if variant not in ("loglikelihood", "multiple_choice"):
            continue
        form = "letter" if variant == "loglikelihood" else "continuation"
        for task, cfg in sorted(info.get("configs", {}).items()):
            f = res.parent / f"samples_{task}.jsonl"
            if (form == "letter" and cfg.get("doc_to_choice") != "labels") or not f.is_file():
                continue
            for line in f.open(encoding="utf-8"):
                s = json.loads(line)
                doc = s["doc"]
                rows.append({"model": res.parent.parent.parent.name, "benchmark": doc["benchmark"], "form": form,
                             "subset": doc["subset"], "id": doc["id"], "n_options": len(doc["choices"]),
                             "acc": float(s["acc"]), "acc_norm": float(s.get("acc_norm", "nan"))})
    return pd.DataFrame(rows, columns=MC_COLUMNS)


def summarize_mc(mc: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """Per model, benchmark and form: n, acc and acc_norm with 95% bootstrap intervals, and chance
    (the mean over the documents of 1 / their number of options). The letter form has no acc_norm
    (every option is one letter long). RACE's standard form scores one question per article, so its
    two forms are not the same documents."""
    out = []
    for (m, b, f), g in mc.groupby(["model", "benchmark", "form"], sort=False):
        lo, hi = bootstrap_ci(g["acc"], seed=seed)
        nlo, nhi = bootstrap_ci(g["acc_norm"].dropna(), seed=seed)
        out.append({"model": m, "benchmark": b, "form": f, "n": len(g), "acc": g["acc"].mean(), "acc_ci_low": lo,
                    "acc_ci_high": hi, "acc_norm": g["acc_norm"].mean(), "acc_norm_ci_low": nlo,
                    "acc_norm_ci_high": nhi, "chance": float((1 / g["n_options"]).mean())})
    return pd.DataFrame(out, columns=MC_SUMMARY_COLUMNS)


def strategy_mix(samples: pd.DataFrame) -> pd.DataFrame:
    """Share of each strategy the answers used, per model, system message and benchmark."""
    g = samples[(samples.variant == "generative") & (samples["filter"] == STRICT)]
    if g.empty:
        return pd.DataFrame()
    return (g.groupby(["model", "system", "benchmark"])["strategy"].value_counts(normalize=True)
            .rename("share").reset_index())


DEMONSTRATION = 100  # documents under this: a demonstration that the pipeline runs on real data, never a comparison


def reading(n: int, lo: float, hi: float) -> str:
    """What a paired row can be read as: under DEMONSTRATION documents, a demonstration only;
    else the interval's verdict, in the built-in evaluation's words (builtin.verdict: 'ahead',
    'behind', 'not distinguishable'), so 05's two tables and the report say one thing one way."""
    if n < DEMONSTRATION:
        return f"demonstration only ({n} < {DEMONSTRATION} documents: not a comparison)"
    return verdict({"ci_low": lo, "ci_high": hi})


def paired(samples: pd.DataFrame, benchmark: str, system: str, a: str = "student", b: str = "base",
           seed: int = 0) -> dict:
    """Student minus base (lenient accuracy) on the same documents, with a paired bootstrap CI
    (documents redrawn within their subsets), each model's share of those answers the token limit
    cut, and how the row may be read (`reading`)."""
    g = samples[(samples.variant == "generative") & (samples["filter"] == LENIENT)
                & (samples.benchmark == benchmark) & (samples.system == system)]
    p = g.pivot_table(index="id", columns="model", values="acc")
    if a not in p or b not in p:
        return {}
    d = (p[a] - p[b]).dropna()
    subset = g.drop_duplicates("id").set_index("id")["subset"]
    lo, hi = bootstrap_ci(d, seed=seed, strata=subset.loc[d.index].to_numpy())
    # each model's share of these documents' answers the token limit cut (NaN where it was not measured)
    cut = g.pivot_table(index="id", columns="model", values="hit_limit", dropna=False).reindex(d.index) \
        if "hit_limit" in g and g["hit_limit"].notna().any() else None
    cuts = {f"{m}_cut_by_limit": float(cut[m].mean()) if cut is not None and m in cut else float("nan") for m in (a, b)}
    return {"benchmark": benchmark, "system": system, "difference": float(d.mean()), "ci_low": lo, "ci_high": hi,
            "n": int(len(d)), "reading": reading(int(len(d)), lo, hi), **cuts}


def paper_results(path: Optional[str | Path] = None) -> pd.DataFrame:
    """The paper's published numbers (percent), with the source each was read from."""
    path = Path(path or PAPER_FILE)
    data = yaml.safe_load(path.read_text())
    df = pd.DataFrame(data.get("results", []))
    if not df.empty:
        df["source_note"] = data.get("source", {}).get("title", "")
    return df


def with_paper(summary: pd.DataFrame, paper: pd.DataFrame, system: str = "empty") -> pd.DataFrame:
    """Table 2 style: benchmarks as rows, our models (percent, generative, lenient) and the paper's as columns."""
    ours = summary[(summary.variant == "generative") & (summary.system == system)]
    table = ours.pivot_table(index="benchmark", columns="model", values="lenient") * 100
    if not paper.empty:
        p = paper[paper.benchmark.isin(table.index) | paper.benchmark.isin(BENCHMARKS)]
        p = p[p.get("system", "empty").fillna("empty") == "empty"] if "system" in p else p
        table = table.join(p.pivot_table(index="benchmark", columns="model", values="value"), how="outer")
    order = [b for b in BENCHMARKS if b in table.index] + [b for b in table.index if b not in BENCHMARKS]
    return table.loc[order]


def with_reasoning_average(table: pd.DataFrame, ours: tuple[str, ...] = ("base", "student")) -> pd.DataFrame:
    """Add Figure 4's number: the mean over reasoning benchmarks. Averaged over the benchmarks every
    column reports (so ours and the paper's average the same set); if there are none, over the ones
    our models report, with the paper's columns left blank rather than averaged unfairly."""
    mine = [c for c in ours if c in table]
    reasoning = [b for b in REASONING if b in table.index]
    common = [b for b in reasoning if table.loc[b].notna().all()]
    if not common:
        common = [b for b in reasoning if mine and table.loc[b, mine].notna().all()]
    if not common:
        return table
    rows = table.loc[common]
    avg = rows.mean().where(rows.notna().all())
    avg.name = f"reasoning avg ({', '.join(common)})"
    return pd.concat([table, avg.to_frame().T])
