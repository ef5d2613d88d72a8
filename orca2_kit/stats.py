"""Intervals the kit reports beside every number: bootstrap intervals of means, Wilson intervals of rates."""
from __future__ import annotations

import numpy as np


def bootstrap_ci(values, n_boot: int = 1000, seed: int = 0, strata=None) -> tuple[float, float]:
    """95% percentile bootstrap interval of a mean (seeded: same data, same interval).

    With `strata` (one label per value, e.g. each item's task family) items are redrawn *within*
    each stratum, as the suite was built: a fixed number of items per family. The interval then
    says how far the mean could move on other items of the same families — not on other families,
    and not under another training run, which no resampling of items can show."""
    v = np.asarray(values, dtype=float)
    if len(v) == 0:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    if strata is None:
        means = v[rng.integers(0, len(v), size=(n_boot, len(v)))].mean(axis=1)
    else:
        labels = np.asarray(strata)
        totals = np.zeros(n_boot)
        for s in dict.fromkeys(labels.tolist()):  # in order of appearance: the same draws every time
            idx = np.flatnonzero(labels == s)
            totals += v[idx][rng.integers(0, len(idx), size=(n_boot, len(idx)))].sum(axis=1)
        means = totals / len(v)
    return float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score 95% interval of k successes in n: unlike a bootstrap it does not collapse to a
    point at 0/n or n/n (0 of 2 is [0, 0.66], not [0, 0])."""
    if n == 0:
        return (float("nan"), float("nan"))
    p, d = k / n, 1 + z * z / n
    centre, half = (p + z * z / (2 * n)) / d, z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return (max(0.0, float(centre - half)), min(1.0, float(centre + half)))
