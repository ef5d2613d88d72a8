"""Per-summary rows -> the tables notebook 06 (and the ablation study) report.

A row is one summary (see `hallucination.summarise_items`): dataset, model, system, id, and the
checker's numbers: `offline_hallucinated` (any wrong fact), `n_wrong` (distinct hallucinated
facts: one repeated in a loop counts once), `n_facts` (distinct checkable facts stated),
`precision` (per mention: the share of stated fact mentions that are right; None when none is
stated), `recall` (share of the reference summary's facts the summary kept), `n_words`
and `rouge_l`. An LLM judge adds `judge_verdict`.

* `rates_table`: per dataset, model and system message, the hallucination rate and every other
  metric with a 95% bootstrap interval, and `wrong_per_fact` (hallucinated facts per fact stated,
  a length-matched view: a model that says less states fewer facts, so brevity alone cannot
  lower it).
* `paired_differences`: each model minus a baseline on the same items, per metric, with a paired
  bootstrap interval.
* `length_bins`: the rate within bins of summary length shared by all models.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

import numpy as np

from orca2_kit.stats import wilson

if TYPE_CHECKING:
    import pandas as pd

try:
    from rouge_score import rouge_scorer as _rouge_scorer

    _SCORER = _rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
except ImportError:  # pragma: no cover - rouge_score ships with lm-eval in this project
    _SCORER = None

N_BOOT = 1000
# Per-summary metrics, and whether a row may lack one (None: the summary states no checkable fact).
METRICS = ("hallucinated", "n_wrong", "precision", "recall", "n_words", "rouge_l")


def rouge_l(prediction: str, reference: str) -> float:
    """ROUGE-L F1 (rouge_score with stemming when installed, else plain-token LCS)."""
    if _SCORER is not None:
        return _SCORER.score(reference, prediction)["rougeL"].fmeasure
    a = re.findall(r"[a-z0-9]+", prediction.lower())
    b = re.findall(r"[a-z0-9]+", reference.lower())
    if not a or not b:
        return 0.0
    row = [0] * (len(b) + 1)  # one-row LCS table
    for x in a:
        diag = 0
        for j, y in enumerate(b, 1):
            diag, row[j] = row[j], diag + 1 if x == y else max(row[j], row[j - 1])
    lcs = row[-1]
    if lcs == 0:
        return 0.0
    p, r = lcs / len(a), lcs / len(b)
    return 2 * p * r / (p + r)


def word_count(text: str) -> int:
    return len(re.findall(r"\w+", text or ""))


def _boot_index(n: int, n_boot: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, n, size=(n_boot, n))


def _num(x):
    """A metric value, or None where there is none (None, or NaN once rows went through pandas)."""
    return None if x is None or (isinstance(x, float) and x != x) else x


def mean_with_ci(values, n_boot: int = N_BOOT, seed: int = 0) -> dict:
    """Mean of the values that exist (not None/NaN) with a percentile-bootstrap 95% interval (seeded)."""
    v = np.asarray([x for x in values if _num(x) is not None], dtype=float)
    if len(v) == 0:
        return {"mean": None, "lo": None, "hi": None, "n": 0}
    m = float(v.mean())
    means = v[_boot_index(len(v), n_boot, seed)].mean(axis=1)
    lo, hi = np.percentile(means, [2.5, 97.5])
    # Percentiles can miss the point estimate by a hair on tiny samples; keep lo <= mean <= hi.
    return {"mean": m, "lo": min(float(lo), m), "hi": max(float(hi), m), "n": int(len(v))}


def rate_with_ci(flags: list[bool], n_boot: int = N_BOOT, seed: int = 0) -> dict:
    """Share of True flags with a Wilson score 95% interval (`n_boot` and `seed` are kept for the
    callers' signature: the interval needs no resampling)."""
    v = [bool(f) for f in flags if _num(f) is not None]
    if not v:
        return {"rate": None, "lo": None, "hi": None, "n": 0}
    lo, hi = wilson(sum(v), len(v))
    return {"rate": sum(v) / len(v), "lo": lo, "hi": hi, "n": len(v)}


def ratio_with_ci(num, den, n_boot: int = N_BOOT, seed: int = 0) -> dict:
    """sum(num) / sum(den) over summaries (e.g. wrong facts per fact stated), bootstrapped by summary."""
    num, den = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
    if len(num) == 0 or den.sum() == 0:
        return {"mean": None, "lo": None, "hi": None, "n": int(den.sum()) if len(den) else 0}
    idx = _boot_index(len(num), n_boot, seed)
    d = den[idx].sum(axis=1)
    ratios = num[idx].sum(axis=1)[d > 0] / d[d > 0]
    m = float(num.sum() / den.sum())
    lo, hi = np.percentile(ratios, [2.5, 97.5])
    return {"mean": m, "lo": min(float(lo), m), "hi": max(float(hi), m), "n": int(den.sum())}


def _flag(row: dict, judge: str):
    """The row's hallucination verdict as True/False, or None when the judge gave none."""
    if judge == "offline":
        return bool(row["offline_hallucinated"])
    if judge == "llm":
        v = row.get("judge_verdict")
        return {"hallucinated": True, "supported": False}.get(v)
    raise ValueError(f"judge must be 'offline' or 'llm', not {judge!r}")


def _metric(row: dict, metric: str, judge: str):
    if metric == "hallucinated":
        f = _flag(row, judge)
        return None if f is None else float(f)
    return _num(row.get(metric))


def _groups(rows: list[dict], keys: tuple[str, ...]) -> dict[tuple, list[dict]]:
    out: dict[tuple, list[dict]] = {}
    for r in rows:
        out.setdefault(tuple(r.get(k, "builtin" if k == "dataset" else None) for k in keys), []).append(r)
    return out


def rates_table(rows: list[dict], seed: int = 0, judge: str = "offline") -> list[dict]:
    """Per dataset, model and system message: the hallucination rate (95% CI) and the other metrics.

    judge="offline": the offline checker's flag; judge="llm": the LLM judge's verdict, where only
    valid verdicts count and malformed / failed ones are reported apart (never as not
    hallucinated). Metric columns: `<metric>` (mean) with `<metric>_lo`/`_hi`; `precision` is
    averaged over the summaries that state a checkable fact (`n_with_facts`)."""
    out = []
    for (ds, m, s), rs in _groups(rows, ("dataset", "model", "system")).items():
        flags = [f for f in (_flag(r, judge) for r in rs) if f is not None]
        verdicts = [r.get("judge_verdict") for r in rs] if judge == "llm" else []
        row = {"dataset": ds, "model": m, "system": s, "judge": judge, **rate_with_ci(flags, seed=seed),
               "n_malformed": verdicts.count("malformed"), "n_error": verdicts.count("error"),
               "empty_summaries": sum(bool(r.get("empty")) for r in rs),
               "truncated_sources": sum(bool(r.get("truncated")) for r in rs)}
        for metric in METRICS[1:]:
            ci = mean_with_ci([r.get(metric) for r in rs], seed=seed)
            row.update({metric: ci["mean"], f"{metric}_lo": ci["lo"], f"{metric}_hi": ci["hi"]})
        row["n_with_facts"] = sum(_num(r.get("precision")) is not None for r in rs)
        if all("n_facts" in r for r in rs):
            ci = ratio_with_ci([r["n_wrong"] for r in rs], [r["n_facts"] for r in rs], seed=seed)
            row.update({"wrong_per_fact": ci["mean"], "wrong_per_fact_lo": ci["lo"], "wrong_per_fact_hi": ci["hi"],
                        "facts_stated": ci["n"]})
        out.append(row)
    return out


def paired_differences(rows: list[dict], baseline: str = "base", seed: int = 0, judge: str = "offline",
                       metrics: tuple[str, ...] = METRICS) -> list[dict]:
    """Each model minus `baseline` on the same items (same dataset, system message and id), per
    metric: the mean difference and a paired bootstrap 95% interval (pairs resampled together).

    A pair counts for a metric only where both summaries have a value (a precision needs a fact
    stated on both sides, an LLM verdict a valid verdict on both)."""
    by_key = {(r.get("dataset", "builtin"), r["system"], r["id"], r["model"]): r for r in rows}
    out = []
    for (ds, s, m), rs in _groups(rows, ("dataset", "system", "model")).items():
        if m == baseline:
            continue
        pairs = [(r, by_key[(ds, s, r["id"], baseline)]) for r in rs if (ds, s, r["id"], baseline) in by_key]
        cut = _cut_shares(pairs)
        for metric in metrics:
            diffs = []
            for r in rs:
                b = by_key.get((ds, s, r["id"], baseline))
                x, y = _metric(r, metric, judge), _metric(b, metric, judge) if b else None
                if x is not None and y is not None:
                    diffs.append(float(x) - float(y))
            ci = mean_with_ci(diffs, seed=seed)
            out.append({"dataset": ds, "system": s, "model": m, "baseline": baseline, "judge": judge,
                        "metric": metric, "n_pairs": ci["n"], "diff": ci["mean"], "lo": ci["lo"], "hi": ci["hi"], **cut})
    return out


def _cut_shares(pairs: list[tuple[dict, dict]]) -> dict:
    """On the paired documents, each side's share of summaries the token limit cut (`cut_by_limit`:
    the model's, `baseline_cut_by_limit`: the baseline's); a cut summary's length, recall and
    ROUGE-L are the limit's as much as the model's. None where the rows do not say."""
    if not pairs or any(r.get("hit_limit") is None or b.get("hit_limit") is None for r, b in pairs):
        return {"cut_by_limit": None, "baseline_cut_by_limit": None}
    return {"cut_by_limit": sum(bool(r["hit_limit"]) for r, _ in pairs) / len(pairs),
            "baseline_cut_by_limit": sum(bool(b["hit_limit"]) for _, b in pairs) / len(pairs)}


def length_bins(rows: list[dict], n_bins: int = 3, judge: str = "offline") -> list[dict]:
    """The hallucination rate within bins of summary length (words), per dataset, model and system.

    The bin edges are quantiles of all models' lengths on the dataset, so every model is compared
    with the others at the same length: a model that is right only because it writes less shows
    the same rate as the others inside each bin."""
    out = []
    for (ds,), rs in _groups(rows, ("dataset",)).items():
        lengths = np.asarray([r["n_words"] for r in rs], dtype=float)
        edges = np.unique(np.quantile(lengths, np.linspace(0, 1, n_bins + 1)))
        for (m, s), g in _groups(rs, ("model", "system")).items():
            for b in range(max(1, len(edges) - 1)):
                lo, hi = (edges[b], edges[b + 1]) if len(edges) > 1 else (edges[0], edges[0])
                last = b == len(edges) - 2 or len(edges) == 1
                inside = [r for r in g if lo <= r["n_words"] < hi or (last and r["n_words"] == hi)]
                flags = [f for f in (_flag(r, judge) for r in inside) if f is not None]
                out.append({"dataset": ds, "model": m, "system": s, "bin": f"{int(lo):>4}-{int(hi)} words",
                            "n": len(flags), "rate": float(np.mean(flags)) if flags else None,
                            "recall": mean_with_ci([r.get("recall") for r in inside], n_boot=1)["mean"]})
    return out


MIN_PAIRS = 5  # below this a paired bootstrap interval looks precise and is not: the table shows no interval


def differences_table(diffs: list[dict]) -> "pd.DataFrame":
    """Paired differences as one readable table: a row per dataset and system message, a column per
    metric, each cell "difference [95% interval] (n pairs)"; with fewer than `MIN_PAIRS` pairs the
    difference alone, marked as too few for an interval. The last column: each side's share of
    summaries cut by the token limit, on those pairs."""
    import pandas as pd

    rows, cut = {}, {}
    for d in diffs:
        key = (d["dataset"], d["system"], d["model"], d["judge"])
        cell = ("-" if _num(d["diff"]) is None else f"{d['diff']:+.2f} (n={d['n_pairs']}: too few pairs for an interval)"
                if d["n_pairs"] < MIN_PAIRS else f"{d['diff']:+.2f} [{d['lo']:+.2f}, {d['hi']:+.2f}] ({d['n_pairs']})")
        rows.setdefault(key, {})[d["metric"]] = cell
        if _num(d.get("cut_by_limit")) is not None and _num(d.get("baseline_cut_by_limit")) is not None:
            cut[key] = f"{d['model']} {d['cut_by_limit']:.2f}, {d['baseline']} {d['baseline_cut_by_limit']:.2f}"
    index = pd.MultiIndex.from_tuples(list(rows), names=["dataset", "system", "model", "judge"])
    table = pd.DataFrame(list(rows.values()), index=index)
    return table.assign(**{"cut (token limit or loop stop)": [cut.get(k, "-") for k in rows]}) if cut else table


def _opener(summary: str) -> str:
    first = re.split(r"(?<=[.!?:])\s|\n", (summary or "").strip(), maxsplit=1)[0]
    return first.strip()


def remarks(rows: list[dict], baseline: str = "base", min_share: float = 0.5) -> list[str]:
    """Plain-language observations a reader should not miss, read off the rows: an opener that
    most of a model's summaries share ("Let's solve this step by step."), a strategy most of them
    use, empty summaries, and each model's ROUGE-L, length and fact recall beside the baseline's."""
    out = []
    for (m, s), rs in _groups(rows, ("model", "system")).items():
        openers = [_opener(r["summary"]) for r in rs if (r.get("summary") or "").strip()]
        if openers:
            top = max(set(openers), key=openers.count)
            share = openers.count(top) / len(rs)
            if share >= min_share and len(rs) >= 3 and len(set(openers)) < len(openers):
                out.append(f"{m} / {s}: {share:.0%} of its {len(rs)} summaries open with \u201c{top[:80]}\u201d.")
        strategies = [r.get("strategy") for r in rs if r.get("strategy")]
        if strategies:
            top = max(set(strategies), key=strategies.count)
            share = strategies.count(top) / len(rs)
            if top not in ("direct", "no_answer") and share >= min_share:  # empty ones are counted below
                out.append(f"{m} / {s}: {share:.0%} of its summaries are laid out as '{top}', not as plain prose.")
        empty = sum(bool(r.get("empty")) for r in rs)
        if empty:
            out.append(f"{m} / {s}: {empty} of {len(rs)} summaries are empty.")
    for (ds, s), rs in _groups(rows, ("dataset", "system")).items():
        by_model = _groups(rs, ("model",))
        base = by_model.get((baseline,))
        if not base:
            continue
        for (m,), g in by_model.items():
            if m == baseline:
                continue
            def mean(xs, k):
                m = mean_with_ci([x.get(k) for x in xs], n_boot=1)["mean"]
                return float("nan") if m is None else m
            out.append(f"{ds} / {s}: {m} vs {baseline}: ROUGE-L {mean(g, 'rouge_l'):.2f} vs {mean(base, 'rouge_l'):.2f}, "
                       f"{mean(g, 'n_words'):.0f} vs {mean(base, 'n_words'):.0f} words, fact recall "
                       f"{mean(g, 'recall'):.2f} vs {mean(base, 'recall'):.2f} (n={len(g)}).")
    return out


def _role(paper_model: str) -> str | None:
    """Which of our models plays the paper model's part: Orca 2 is the student, the paper's
    LLaMA-2-Chat / other open baselines the base model; GPT-4 (the teacher) has no counterpart."""
    name = paper_model.lower()
    return "student" if name.startswith("orca") else None if name.startswith("gpt") else "base"


def paper_beside_ours(rates: list[dict], paper_values: list[dict]) -> list[dict]:
    """Each published value next to ours for the same role and system message: Orca 2 beside our
    student, the paper's baselines beside our base model, GPT-4 alone. The paper's 'average' (over
    ACI-Bench, MS MARCO, QMSum) stands beside the mean of our real datasets' rates (which ones is
    said), a per-dataset value beside ours on that dataset; where we have no comparable number, ours
    is empty and `our n` is 0."""
    real = [r for r in rates if r["dataset"] != "builtin" and r.get("rate") is not None]
    out = []
    for p in paper_values:
        m = _role(p["model"])
        mine = [r for r in real if r["model"] == m and r["system"] == p["system"]
                and (p["dataset"] == "average" or r["dataset"] == p["dataset"])]
        out.append({"paper model": p["model"], "system": p["system"], "dataset": p["dataset"],
                    "paper rate": p["rate"], "paper source": f"{p['where']} [{p['source']}]", "our model": m or "-",
                    "our rate": float(np.mean([r["rate"] for r in mine])) if mine else None,
                    "our datasets": ", ".join(sorted(r["dataset"] for r in mine)),
                    "our n": sum(r["n"] for r in mine)})
    return out
