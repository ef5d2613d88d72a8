"""The ablation study's numbers: accuracy per arm and paired differences against the recipe, with
intervals for *these* task families (items redrawn within families, each arm's training seeds as
a random part: orca2_kit/study/intervals.py), the family-cluster view beside them, strategy use
with Wilson intervals, and the conclusion in words, null and equivalence results included.

The questions are item groups: new items of the **trained families** (the headline), the
**never-trained families** (zero-shot), and the **real benchmarks** of the data directory, which
under `DEMONSTRATION` documents per arm show the pipeline working, not a comparison.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from orca2_kit.evaluation.harness.analysis import DEMONSTRATION  # one threshold for 05 and 07
from orca2_kit.stats import wilson
from orca2_kit.strategies import classify_strategy
from orca2_kit.study.intervals import cluster_difference, mean_interval, paired_difference

HEADLINE = "trained families"

# the part of the paper's claim each built-in arm takes away (the recipe minus that part)
CLAIMS = {
    "not_erased": "prompt erasure (training without the teacher's instruction) helps",
    "direct_only": "teaching reasoning strategies beats teaching direct answers",
    "one_strategy": "a strategy chosen per task beats one style for every task",
    "expected_map": "the measured strategy choice beats the authors' expected map",
}


def _matrix(df: pd.DataFrame, metric: str) -> pd.DataFrame:
    """items x seeds of one arm (items missing for a seed are dropped), indexed by (cluster, id)."""
    return df.pivot_table(index=["cluster", "id"], columns="seed", values=metric, aggfunc="mean").dropna()


def arm_scores(samples: pd.DataFrame, metric: str = "correct_lenient") -> pd.DataFrame:
    """Per arm (and system message): the mean over seeds and items with its interval."""
    rows = []
    for (arm, system), g in samples.groupby(["arm", "system"], sort=False):
        m = _matrix(g, metric)
        clusters = m.index.get_level_values("cluster").to_numpy()
        mean, lo, hi = mean_interval(m.to_numpy(float), clusters)
        rows.append({"arm": arm, "system": system, "metric": metric, "mean": mean, "lo": lo, "hi": hi,
                     "seeds": m.shape[1], "items": m.shape[0], "clusters": len(np.unique(clusters)),
                     "seed_means": [round(float(x), 4) for x in m.mean(axis=0)],
                     "chance": float(g["chance"].mean()) if "chance" in g else np.nan})
    return pd.DataFrame(rows)


def paired_vs(samples: pd.DataFrame, reference: str = "recipe", metric: str = "correct_lenient",
              margin: float = 0.10) -> pd.DataFrame:
    """Every arm minus `reference` on the same items (per system message): the difference, its
    headline interval (these families) and the family-cluster interval (a new family), and a verdict."""
    rows = []
    for system, g in samples.groupby("system", sort=False):
        if reference not in set(g.arm):
            continue
        ref = _matrix(g[g.arm == reference], metric)
        for arm in dict.fromkeys(g.arm):
            if arm == reference:
                continue
            other = _matrix(g[g.arm == arm], metric)
            both = ref.index.intersection(other.index)
            a, r = other.loc[both].to_numpy(float), ref.loc[both].to_numpy(float)
            clusters = both.get_level_values("cluster").to_numpy()
            d, c = paired_difference(a, r, clusters), cluster_difference(a, r, clusters)
            rows.append({"arm": arm, "vs": reference, "system": system, "metric": metric,
                         "difference": d.difference, "lo": d.lo, "hi": d.hi, "half_width": (d.hi - d.lo) / 2,
                         "df": d.df, "items": d.items, "seeds": f"{d.seeds[0]} vs {d.seeds[1]}", "clusters": d.families,
                         "verdict": d.verdict(margin), "cluster_lo": c.lo, "cluster_hi": c.hi,
                         "cluster_verdict": c.verdict(margin)})
    return pd.DataFrame(rows)


# classify_strategy's 'no_answer': the output has no 'Answer:' line to read a layout before. It is
# not "no answer": the lenient reading may still find one in the text (the base model's, mostly).
NO_LAYOUT = "no layout"


def used_strategy(text: str, classify=classify_strategy) -> str:
    """The strategy an output's shape shows, or NO_LAYOUT where there is no recognisable layout."""
    s = classify(text)
    return NO_LAYOUT if s == "no_answer" else s


def strategy_use(samples: pd.DataFrame, maps: dict[str, dict[str, str]], expected: dict[str, str],
                 classify=classify_strategy) -> pd.DataFrame:
    """Per arm, family and strategy used (read from each output's shape by `classify`; NO_LAYOUT for
    none): the share of outputs, and the strategy the family's map asked the teacher for (`asked`;
    the expected one for families the arm never trained on)."""
    df = samples.assign(used=[used_strategy(t, classify) for t in samples["output"]])
    out = (df.groupby(["arm", "family", "used"]).size() / df.groupby(["arm", "family"]).size()).rename("share")
    out = out.reset_index()
    out["asked"] = [maps.get(a, {}).get(f, expected.get(f)) for a, f in zip(out.arm, out.family)]
    return out


def uses_asked(use: pd.DataFrame) -> pd.DataFrame:
    """Per arm and family: the share of answers in the strategy the map asked for."""
    hit = use[use.used == use.asked].groupby(["arm", "family"])["share"].sum()
    return hit.reindex(use.groupby(["arm", "family"]).size().index, fill_value=0.0).rename("uses_asked").reset_index()


def strategy_use_rates(samples: pd.DataFrame, maps: dict[str, dict[str, str]], expected: dict[str, str],
                       classify=classify_strategy) -> pd.DataFrame:
    """Per arm: the share of its answers (seeds pooled) in the strategy its map asked for, with a
    Wilson 95% interval over answers, and the n it rests on. Seeds pooled: answers of one seed are not
    independent, so read the interval as a lower bound on the uncertainty."""
    df = samples.assign(used=[used_strategy(t, classify) for t in samples["output"]])
    df["asked"] = [maps.get(a, {}).get(f, expected.get(f)) for a, f in zip(df.arm, df.family)]
    rows = []
    for arm, g in df.groupby("arm", sort=False):
        k, n = int((g.used == g.asked).sum()), len(g)
        lo, hi = wilson(k, n)
        rows.append({"arm": arm, "uses_asked": k / n if n else float("nan"), "lo": lo, "hi": hi, "k": k, "n": n,
                     "seeds": g.seed.nunique(), "families": g.family.nunique()})
    return pd.DataFrame(rows)


def item_groups(pooled: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The study's questions as item groups, each with a `cluster` column (family, or benchmark)."""
    out = {}
    items = pooled.get("items", pd.DataFrame())
    if len(items):
        items = items.assign(cluster=items.family)
        out[HEADLINE] = items[items.trained]
        out["never-trained families"] = items[~items.trained]
    bench = pooled.get("benchmarks", pd.DataFrame())
    if len(bench):
        out["real benchmarks"] = bench.rename(columns={"acc_lenient": "correct_lenient", "acc_strict": "correct_strict"}) \
            .assign(cluster=bench.benchmark, family=bench.benchmark)
    return {k: v for k, v in out.items() if len(v)}


def summary_tables(pooled: dict[str, pd.DataFrame], margin: float = 0.10) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(scores, paired): per group and arm the lenient accuracy with its interval, strict accuracy and
    format-OK (means over seeds and items); and every arm minus the recipe. Real-benchmark rows under
    DEMONSTRATION documents are marked, and get no verdict."""
    scores, paired = [], []
    for name, df in item_groups(pooled).items():
        s = arm_scores(df, "correct_lenient")
        means = df.groupby(["arm", "system"], sort=False)[["correct_strict", "format_ok"]].mean().reset_index()
        demo = name == "real benchmarks" and int(s["items"].max()) < DEMONSTRATION
        scores.append(s.merge(means, on=["arm", "system"]).rename(columns={"correct_strict": "strict"})
                      .assign(group=name, lenient=s["mean"], demonstration=demo))
        p = paired_vs(df, "recipe", "correct_lenient", margin).assign(group=name, demonstration=demo)
        if demo and len(p):
            p["verdict"] = f"demonstration only (< {DEMONSTRATION} documents)"
        paired.append(p)
    cat = lambda xs: pd.concat(xs, ignore_index=True) if xs else pd.DataFrame()  # noqa: E731
    return cat(scores), cat(paired)


def conclusion(paired: pd.DataFrame, planned: dict | None = None, twins: dict[str, str] | None = None,
               scores: pd.DataFrame | None = None) -> str:
    """What the study found, in words, from the paired table: per question the arms that differ
    from the recipe, those equivalent within the margin, those it cannot decide, and the achieved
    resolution beside the planned one; with `scores`, a question where no arm's mean reaches chance
    is said to be one (a difference between arms there is between guesses)."""
    if not len(paired):
        return "The study has no paired comparison to report (no recipe arm, or no items)."
    lines = []
    for grp, g in paired.groupby("group", sort=False):
        if g["demonstration"].any():
            lines.append(f"{grp}: {int(g['items'].max())} documents per arm, a demonstration that the pipeline runs "
                         "on real data; too few to compare arms (no verdict).")
            continue
        plan_q = ((planned or {}).get("questions") or {}).get(grp)
        achieved = float(g["half_width"].median())
        res = f"achieved resolution ±{100 * achieved:.1f} points (95% interval half-width, median over arms)"
        if plan_q:
            res += f"; planned ±{100 * plan_q['half_width']:.1f} (minimum detectable difference {100 * plan_q['mde']:.1f})"
        parts = []
        for r in g.itertuples():
            pts = f"{100 * r.difference:+.1f} points [{100 * r.lo:+.1f}, {100 * r.hi:+.1f}]"
            parts.append(f"{r.arm} {pts}: {r.verdict}" + _claim(r.arm, r.verdict, r.half_width, int(r.items),
                                                                 (planned or {}).get("margin", 0.10)))
        lines.append(f"{grp} ({int(g['items'].max())} items, seeds {g['seeds'].iloc[0]}): " + "; ".join(parts) + f". {res}.")
        s = scores[scores["group"] == grp] if scores is not None and len(scores) and "group" in scores else None
        if s is not None and len(s) and s["chance"].notna().all() and (s["lenient"] < s["chance"]).all():
            lines.append(f"{grp}: no arm's accuracy reaches chance ({s['lenient'].min():.2f}-{s['lenient'].max():.2f} "
                         f"against a chance level of {s['chance'].mean():.2f}): the arms differ among answers no "
                         "better than guessing, so these differences say nothing of learning the tasks.")
    lines += [f"{a}: not tested; it would train exactly like {b} (same strategy map, erasure and training)."
              for a, b in (twins or {}).items()]
    return "\n".join(lines)


def _claim(arm: str, verdict: str, half_width: float, items: int, margin: float) -> str:
    """What a verdict says of the claim the arm tests (arm = recipe minus one part), and for an
    undecided one, about how many items would decide it at the achieved spread (item part only:
    the seed part does not shrink with items, so this is a lower bound)."""
    claim = CLAIMS.get(arm)
    if not claim:
        return ""
    if verdict.startswith("worse"):
        return f" (supports: {claim})"
    if verdict.startswith("better"):
        return f" (contradicts: {claim})"
    if verdict.startswith("equivalent"):
        return f" (no effect larger than {100 * margin:.0f} points: does not support '{claim}' at this scale)"
    need = int(np.ceil(items * (half_width / (margin / 2)) ** 2))
    return (f" (cannot decide '{claim}'; an interval of ±{50 * margin:.0f} points, enough to tell a {100 * margin:.0f}-point "
            f"difference from none, needs about {need} items or more, counting the items alone: the spread between "
            "training seeds does not shrink with items, so more seeds may be needed too)")
