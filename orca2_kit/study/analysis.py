"""The ablation study's numbers: accuracy per arm and paired differences against the recipe, with
intervals that resample items *and* training seeds, clustered by family.

Three seeds of one arm differ by training noise alone; items of one family are not independent
(a student that learned a family's layout gets most of its items right). So the bootstrap draws,
in each replicate, families with replacement (clusters), items within each drawn family, and
training seeds with replacement for each arm separately (seeds of two arms are not paired), and
averages over what it drew. A difference whose 95% interval includes 0 is reported as not
distinguishable: three seeds of noise are never sold as an effect.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from orca2_kit.strategies import classify_strategy


def _matrix(df: pd.DataFrame, metric: str) -> tuple[np.ndarray, np.ndarray]:
    """items x seeds of one arm (NaN where a seed lacks an item), and each item's cluster."""
    m = df.pivot_table(index=["cluster", "id"], columns="seed", values=metric, aggfunc="mean")
    return m.to_numpy(dtype=float), m.index.get_level_values("cluster").to_numpy()


def _draws(clusters: np.ndarray, n_boot: int, rng) -> list[np.ndarray]:
    """n_boot index arrays: clusters drawn with replacement, then items within each drawn cluster."""
    names = np.unique(clusters)
    members = {c: np.flatnonzero(clusters == c) for c in names}
    out = []
    for _ in range(n_boot):
        picked = rng.choice(names, size=len(names), replace=True)
        out.append(np.concatenate([rng.choice(members[c], size=len(members[c]), replace=True) for c in picked]))
    return out


def _mean_over_seeds(m: np.ndarray, rng) -> np.ndarray:
    cols = rng.integers(0, m.shape[1], size=m.shape[1])
    return np.nanmean(m[:, cols], axis=1)


def arm_scores(samples: pd.DataFrame, metric: str = "correct_lenient", cluster: str = "family",
               n_boot: int = 2000, seed: int = 0) -> pd.DataFrame:
    """Per arm (and system message): mean over seeds and items, with the clustered interval."""
    rng = np.random.default_rng(seed)
    rows = []
    for (arm, system), g in samples.groupby(["arm", "system"], sort=False):
        m, clusters = _matrix(g.assign(cluster=g[cluster]), metric)
        boots = [np.nanmean(_mean_over_seeds(m[idx], rng)) for idx in _draws(clusters, n_boot, rng)]
        rows.append({"arm": arm, "system": system, "metric": metric, "mean": float(np.nanmean(m)),
                     "lo": float(np.percentile(boots, 2.5)), "hi": float(np.percentile(boots, 97.5)),
                     "seeds": m.shape[1], "items": m.shape[0], "clusters": len(np.unique(clusters)),
                     "seed_means": [round(float(x), 4) for x in np.nanmean(m, axis=0)],
                     "chance": float(g["chance"].mean()) if "chance" in g else np.nan})
    return pd.DataFrame(rows)


def paired_vs(samples: pd.DataFrame, reference: str = "recipe", metric: str = "correct_lenient",
              cluster: str = "family", n_boot: int = 2000, seed: int = 0) -> pd.DataFrame:
    """Every arm minus `reference` on the same items (per system message): the mean difference and
    its 95% interval from the clustered bootstrap over items and both arms' seeds."""
    rng = np.random.default_rng(seed)
    rows = []
    for system, g in samples.groupby("system", sort=False):
        g = g.assign(cluster=g[cluster])
        if reference not in set(g.arm):
            continue
        ref = g[g.arm == reference].pivot_table(index=["cluster", "id"], columns="seed", values=metric)
        for arm in dict.fromkeys(g.arm):
            if arm == reference:
                continue
            other = g[g.arm == arm].pivot_table(index=["cluster", "id"], columns="seed", values=metric)
            both = ref.index.intersection(other.index)
            a, r = other.loc[both].to_numpy(float), ref.loc[both].to_numpy(float)
            clusters = both.get_level_values("cluster").to_numpy()
            boots = [np.nanmean(_mean_over_seeds(a[idx], rng) - _mean_over_seeds(r[idx], rng))
                     for idx in _draws(clusters, n_boot, rng)]
            d = float(np.nanmean(np.nanmean(a, 1) - np.nanmean(r, 1)))
            lo, hi = float(np.percentile(boots, 2.5)), float(np.percentile(boots, 97.5))
            rows.append({"arm": arm, "vs": reference, "system": system, "metric": metric, "difference": d,
                         "lo": lo, "hi": hi, "items": len(both), "clusters": len(np.unique(clusters)),
                         "verdict": "better" if lo > 0 else "worse" if hi < 0 else "not distinguishable"})
    return pd.DataFrame(rows)


def resolvable(paired: pd.DataFrame) -> float:
    """The smallest difference this design resolves: the median half-width of the paired intervals."""
    return float(((paired.hi - paired.lo) / 2).median()) if len(paired) else float("nan")


def strategy_use(samples: pd.DataFrame, maps: dict[str, dict[str, str]], expected: dict[str, str],
                 classify=classify_strategy) -> pd.DataFrame:
    """Per arm, family and strategy used (read from each output's shape by `classify`): the share of
    outputs, and the strategy the family's map asked the teacher for (`asked`; the expected one for
    families the arm never trained on)."""
    df = samples.assign(used=[classify(t) for t in samples["output"]])
    out = (df.groupby(["arm", "family", "used"]).size() / df.groupby(["arm", "family"]).size()).rename("share")
    out = out.reset_index()
    out["asked"] = [maps.get(a, {}).get(f, expected.get(f)) for a, f in zip(out.arm, out.family)]
    return out


def uses_asked(use: pd.DataFrame) -> pd.DataFrame:
    """Per arm and family: the share of answers in the strategy the map asked for."""
    hit = use[use.used == use.asked].groupby(["arm", "family"])["share"].sum()
    return hit.reindex(use.groupby(["arm", "family"]).size().index, fill_value=0.0).rename("uses_asked").reset_index()


def item_groups(pooled: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The study's three questions as item groups, each with a `cluster` column for the bootstrap:
    held-out items of the trained families, the never-trained families (clustered by family), and
    the real benchmarks (clustered by benchmark)."""
    out = {}
    items = pooled.get("items", pd.DataFrame())
    if len(items):
        items = items.assign(cluster=items.family)
        out["trained families"] = items[items.trained]
        out["never-trained families"] = items[~items.trained]
    bench = pooled.get("benchmarks", pd.DataFrame())
    if len(bench):
        out["real benchmarks"] = bench.rename(columns={"acc_lenient": "correct_lenient", "acc_strict": "correct_strict"}) \
            .assign(cluster=bench.benchmark, family=bench.benchmark)
    return {k: v for k, v in out.items() if len(v)}


def summary_tables(pooled: dict[str, pd.DataFrame], n_boot: int = 2000, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(scores, paired): per group and arm the lenient accuracy with its clustered interval, strict
    accuracy and format-OK (means over seeds and items); and every arm minus the recipe."""
    scores, paired = [], []
    for name, df in item_groups(pooled).items():
        s = arm_scores(df, "correct_lenient", "cluster", n_boot, seed)
        means = df.groupby(["arm", "system"], sort=False)[["correct_strict", "format_ok"]].mean().reset_index()
        scores.append(s.merge(means, on=["arm", "system"]).rename(columns={"correct_strict": "strict"})
                      .assign(group=name, lenient=s["mean"]))
        paired.append(paired_vs(df, "recipe", "correct_lenient", "cluster", n_boot, seed).assign(group=name))
    cat = lambda xs: pd.concat(xs, ignore_index=True) if xs else pd.DataFrame()  # noqa: E731
    return cat(scores), cat(paired)


def conclusion(paired: pd.DataFrame, scores: pd.DataFrame, twins: dict[str, str] | None = None) -> str:
    """What the study found, in words, from the paired table alone (null results included)."""
    if not len(paired):
        return "The study has no paired comparison to report (no recipe arm, or no items)."
    lines = []
    for grp, g in paired.groupby("group", sort=False):
        found = g[g.verdict != "not distinguishable"]
        half = resolvable(g)
        seeds = int(scores[scores.group == grp]["seeds"].max()) if len(scores) else 0
        items = int(g["items"].max())
        if len(found):
            parts = [f"{r.arm} is {r.verdict} than the recipe by {100 * abs(r.difference):.1f} points "
                     f"(95% CI {100 * r.lo:+.1f}..{100 * r.hi:+.1f})" for r in found.itertuples()]
            lines.append(f"{grp}: " + "; ".join(parts) + ".")
        else:
            lines.append(f"{grp}: no arm differs from the recipe outside the 95% intervals ({items} items, {seeds} "
                         f"seeds per arm); differences smaller than about ±{100 * half:.0f} points cannot be "
                         "resolved at this size.")
    lines += [f"{a}: not tested; it would train exactly like {b} (same strategy map, erasure and training)."
              for a, b in (twins or {}).items()]
    return "\n".join(lines)
