"""The study's paired interval, tested as a method: simulated studies with a known difference between
two arms (and with none), at the study's shapes, must be covered by the 95% interval about 95% of
the time, and a null difference called significant about 5% of the time; the same check fails when
the interval leaves the training seeds' part out."""
import numpy as np
import pytest

from orca2_kit.study.intervals import cluster_difference, paired_difference
from orca2_kit.study.power import Assumptions, mde

# logit-scale quadrature: the true difference of these families, averaged over new items and seeds
_NODES, _WEIGHTS = np.polynomial.hermite_e.hermegauss(40)
_WEIGHTS = _WEIGHTS / _WEIGHTS.sum()


def _expected(level: np.ndarray, item_sd: float, seed_sd: float) -> np.ndarray:
    z = level[:, None, None] + item_sd * _NODES[None, :, None] + seed_sd * _NODES[None, None, :]
    w = _WEIGHTS[None, :, None] * _WEIGHTS[None, None, :]
    return (w / (1 + np.exp(-z))).sum(axis=(1, 2))


def simulate(rng, effect: float, families=10, items=40, seeds=3, family_sd=1.0, item_sd=1.0, seed_sd=0.3):
    """One study: (arm, recipe, family of each item, the true difference over these families)."""
    f = rng.normal(-0.3, family_sd, families)
    fam = np.repeat(np.arange(families), items)
    u = rng.normal(0, item_sd, families * items)[:, None]
    arm = f[fam][:, None] + u + effect + rng.normal(0, seed_sd, seeds)[None, :]
    ref = f[fam][:, None] + u + rng.normal(0, seed_sd, seeds)[None, :]
    draw = lambda z: (rng.random(z.shape) < 1 / (1 + np.exp(-z))).astype(float)  # noqa: E731
    truth = float((_expected(f + effect, item_sd, seed_sd) - _expected(f, item_sd, seed_sd)).mean())
    return draw(arm), draw(ref), fam, truth


def coverage(n_sim: int, effect: float, seeds_part: bool = True, **shape) -> tuple[float, float]:
    """(share of intervals covering the truth, share excluding 0) over n_sim simulated studies."""
    rng = np.random.default_rng(20261205)
    cover = reject = 0
    for _ in range(n_sim):
        arm, ref, fam, truth = simulate(rng, effect, **shape)
        r = paired_difference(arm, ref, fam, seeds=seeds_part)
        cover += r.lo <= truth <= r.hi
        reject += r.lo > 0 or r.hi < 0
    return cover / n_sim, reject / n_sim


@pytest.mark.parametrize("seed_sd", [0.1, 0.3])
def test_the_interval_covers_the_truth_95_percent_of_the_time(seed_sd):
    cov, _ = coverage(500, effect=0.3, seed_sd=seed_sd)
    assert 0.93 <= cov <= 0.97, cov
    cov0, false_alarm = coverage(500, effect=0.0, seed_sd=seed_sd)
    assert 0.93 <= cov0 <= 0.97, cov0
    assert 0.03 <= false_alarm <= 0.07, false_alarm


def test_without_the_seed_part_the_interval_is_too_narrow():
    cov, false_alarm = coverage(500, effect=0.0, seeds_part=False, seed_sd=0.3)
    assert cov < 0.85 and false_alarm > 0.15, (cov, false_alarm)


def test_the_family_cluster_view_is_wider_with_few_families():
    rng = np.random.default_rng(3)
    arm, ref, fam, _ = simulate(rng, 0.3, families=4)
    items, clusters = paired_difference(arm, ref, fam), cluster_difference(arm, ref, fam)
    assert clusters.families == 4 and clusters.df < items.df
    assert (clusters.hi - clusters.lo) > (items.hi - items.lo)


def test_equivalence_is_a_result_and_the_verdict_reads_the_interval():
    rng = np.random.default_rng(5)
    arm, ref, fam, _ = simulate(rng, 0.0, items=200, seed_sd=0.0)
    r = paired_difference(arm, ref, fam)
    assert r.verdict(margin=0.10).startswith("equivalent within ±10 points")
    assert r.verdict(margin=0.001) == "not distinguishable"
    big = paired_difference(*simulate(rng, 1.0)[:3])
    assert big.verdict(0.1) == "better"


def test_the_planned_mde_matches_what_simulated_studies_detect():
    """A difference of the planned MDE is detected in about 80% of simulated studies (the plan's
    formula and the analysis's interval are the same design)."""
    a = Assumptions(item_sd=0.45, answer_var=0.2, seed_sd=0.02, source="test")
    planned = mde(400, 10, 3, a)
    assert 0.05 < planned["mde"] < 0.2
    assert planned["half_width"] < planned["mde"]
