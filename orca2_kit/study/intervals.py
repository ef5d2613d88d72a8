"""Paired differences between two training arms on the same items, with an interval that respects
the study's design: items of fixed task families, answered by a few training seeds per arm.

The data of one comparison is two matrices of 0/1 outcomes, items x seeds (the arm's and the
recipe's), and each item's family. The difference is the mean over items of (the arm's mean over
its seeds minus the recipe's). Its variance, for inference about *these* task families (new items
from them, new training seeds), has two parts:

- **items**: the spread of the per-item differences (answer-level noise included), computed
  within each family: families are fixed, not sampled, so the estimate is stratified by family;
- **seeds**: each arm's training seeds shift all its answers together; that part is the spread of
  the seeds' mean accuracy beyond what answer-level noise gives (a two-way items x seeds layout),
  estimated from S - 1 degrees of freedom per arm, which is what limits a study of three seeds.

The 95% interval is a t interval with Satterthwaite's degrees of freedom for that sum. Why not the
plain bootstrap that resamples items within families and seeds per arm: simulated at the study's
shapes (10 families x 40 items, 3 seeds, logit model), it covered the truth 88% of the time when
the seed-to-seed spread was large and 99.7% when there was none (resampling seed columns counts
answer-level noise twice, and three seeds resampled with replacement understate their spread by a
third). This one covered 93.6-97.2% over seed spreads from 0 to 0.5 on the logit scale
(tests/study/test_intervals.py checks 93-97% at two of them, and that it fails when the seed part
is left out).

The family-cluster view (`cluster_difference`) answers another question: would a *new family*
show it. With 4-10 families it is wide, and it is reported beside the headline, not instead.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class Difference:
    difference: float  # arm minus reference, as a fraction (0.05 = 5 points)
    lo: float
    hi: float
    se: float
    df: float
    items: int
    seeds: tuple[int, int]  # (arm, reference)
    families: int
    parts: dict  # the variance parts: items, seeds of each arm

    def verdict(self, margin: float) -> str:
        """'better'/'worse' when the interval excludes 0; 'equivalent within ±margin' when it lies
        inside (-margin, +margin); else 'not distinguishable'."""
        if self.lo > 0:
            return "better"
        if self.hi < 0:
            return "worse"
        if margin and -margin < self.lo and self.hi < margin:
            return f"equivalent within ±{100 * margin:.0f} points"
        return "not distinguishable"

    def as_row(self, margin: float) -> dict:
        row = asdict(self)
        row["verdict"] = self.verdict(margin)
        row["half_width"] = (self.hi - self.lo) / 2
        return row


def _seed_part(y: np.ndarray) -> float:
    """An arm's seed part of the variance: the spread of its training seeds' mean accuracy beyond
    what answer-level noise alone gives (two-way layout, items x seeds, without replication:
    (MS_seeds - MS_residual) / (n S), never below 0), as the mean over S seeds carries it."""
    n, s = y.shape
    if s < 2:
        return 0.0
    means = y.mean(axis=0)
    ms_seed = n * float(means.var(ddof=1))
    resid = y - y.mean(axis=1, keepdims=True) - means[None, :] + y.mean()
    ms_res = float((resid ** 2).sum() / max((n - 1) * (s - 1), 1))
    return max(ms_seed - ms_res, 0.0) / (n * s)


def paired_difference(arm: np.ndarray, ref: np.ndarray, strata, level: float = 0.95,
                      seeds: bool = True) -> Difference:
    """`arm`, `ref`: items x seeds outcome matrices on the same items (rows aligned); `strata`: each
    item's family. `seeds=False` drops the seed part (what a design with one seed per arm, or a
    broken analysis, would report)."""
    arm, ref = np.asarray(arm, float), np.asarray(ref, float)
    strata = np.asarray(strata)
    if arm.shape[0] != ref.shape[0] or arm.shape[0] != len(strata):
        raise ValueError(f"paired_difference: {arm.shape[0]} and {ref.shape[0]} items for {len(strata)} strata")
    d = arm.mean(axis=1) - ref.mean(axis=1)
    n = len(d)
    fams = np.unique(strata)
    v_items = 0.0
    for f in fams:
        df_ = d[strata == f]
        if len(df_) > 1:
            v_items += (len(df_) / n) ** 2 * df_.var(ddof=1) / len(df_)
    parts, dfs = {"items": v_items}, {"items": max(n - len(fams), 1)}
    if seeds:
        for name, y in (("arm", arm), ("ref", ref)):
            parts[f"seeds_{name}"], dfs[f"seeds_{name}"] = _seed_part(y), max(y.shape[1] - 1, 1)
    var = sum(parts.values())
    terms = sum(parts[k] ** 2 / dfs[k] for k in parts if parts[k] > 0)
    df = var ** 2 / terms if terms > 0 else np.inf
    se = float(np.sqrt(var))
    t = float(stats.t.ppf(0.5 + level / 2, df)) if np.isfinite(df) else float(stats.norm.ppf(0.5 + level / 2))
    diff = float(d.mean())
    return Difference(diff, diff - t * se, diff + t * se, se, float(df), n, (arm.shape[1], ref.shape[1]),
                      len(fams), {k: float(v) for k, v in parts.items()})


def cluster_difference(arm: np.ndarray, ref: np.ndarray, strata, level: float = 0.95) -> Difference:
    """The generalisation view: families as the sampled units (would a *new family* show it), the
    family-level differences' spread with families - 1 degrees of freedom, plus the seeds' part.
    Few families: wide."""
    arm, ref, strata = np.asarray(arm, float), np.asarray(ref, float), np.asarray(strata)
    d = arm.mean(axis=1) - ref.mean(axis=1)
    fams = np.unique(strata)
    per = np.array([d[strata == f].mean() for f in fams])
    k = len(per)
    parts = {"families": float(per.var(ddof=1) / k) if k > 1 else float("nan"),
             "seeds_arm": _seed_part(arm), "seeds_ref": _seed_part(ref)}
    dfs = {"families": max(k - 1, 1), "seeds_arm": max(arm.shape[1] - 1, 1), "seeds_ref": max(ref.shape[1] - 1, 1)}
    var = sum(parts.values())
    terms = sum(parts[x] ** 2 / dfs[x] for x in parts if parts[x] > 0)
    df = var ** 2 / terms if terms > 0 else float("nan")
    se = float(np.sqrt(var))
    t = float(stats.t.ppf(0.5 + level / 2, df)) if k > 1 else float("nan")
    diff = float(per.mean())
    return Difference(diff, diff - t * se, diff + t * se, se, float(df), len(d), (arm.shape[1], ref.shape[1]), k, parts)


def mean_interval(y: np.ndarray, strata, level: float = 0.95) -> tuple[float, float, float]:
    """One arm's mean accuracy over items x seeds, with the same variance parts (no reference)."""
    y, strata = np.asarray(y, float), np.asarray(strata)
    zero = np.zeros_like(y[:, :1])
    r = paired_difference(y, zero, strata, level)
    return r.difference, max(r.lo, 0.0), min(r.hi, 1.0)
