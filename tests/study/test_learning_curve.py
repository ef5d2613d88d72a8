"""The learning curve's rule and its pilot values (orca2_kit/study/learning_curve.py)."""
import numpy as np
import pandas as pd
import pytest

from orca2_kit.study.learning_curve import pick_size, summarise, variance_components


def _sizes(*accuracies):
    return [{"size": s, "accuracy": a} for s, a in zip((8, 16, 32), accuracies)]


def test_the_rule_picks_the_size_after_which_the_next_gains_less_than_min_gain():
    pick, why = pick_size(_sizes(0.30, 0.40, 0.41), min_gain=0.02)
    assert pick == 16 and "16 -> 32" in why and "+1.0 points" in why


def test_a_curve_still_rising_takes_the_largest_size_and_the_cap_says_so():
    assert pick_size(_sizes(0.30, 0.40, 0.50), min_gain=0.02)[0] == 32
    pick, why = pick_size(_sizes(0.30, 0.40, 0.50), min_gain=0.02, max_size=16)
    assert pick == 16 and "capped at 16" in why


def test_a_dip_counts_as_no_gain():
    assert pick_size(_sizes(0.40, 0.35, 0.60), min_gain=0.02)[0] == 8


@pytest.mark.parametrize("seed_sd", [0.0, 0.08])
def test_variance_components_recover_a_known_seed_spread_and_answer_variance(seed_sd):
    rng = np.random.default_rng(0)
    n, k = 4000, 4
    item = rng.uniform(0.2, 0.8, size=(n, 1))
    p = np.clip(item + rng.normal(0, seed_sd, size=(1, k)), 0, 1)
    y = (rng.random((n, k)) < p).astype(float)
    v = variance_components(y)
    expected_var = float((p * (1 - p)).mean())
    assert v["answer_var"] == pytest.approx(expected_var, abs=0.01)
    # the seeds' spread is estimated from k=4 seeds: within a wide band of the truth, and ~0 when none
    assert v["seed_sd"] == pytest.approx(float(p.mean(axis=0).std(ddof=1)), abs=0.02)


def test_summarise_gives_each_size_its_interval_seeds_and_the_pick():
    rng = np.random.default_rng(1)
    rows = []
    for size, acc in ((8, 0.2), (16, 0.5), (32, 0.505)):
        for seed in (1, 2):
            for fam in ("a", "b", "c"):
                for i in range(40):
                    rows.append({"size": size, "seed": seed, "family": fam, "id": f"{fam}/{i}",
                                 "correct_lenient": float(rng.random() < acc), "train_s": 10.0 * size})
    t = summarise(pd.DataFrame(rows), min_gain=0.05)
    assert [r["size"] for r in t["sizes"]] == [8, 16, 32] and t["pick"] == 16
    for r in t["sizes"]:
        assert r["lo"] <= r["accuracy"] <= r["hi"] and r["items"] == 120 and set(r["seed_accuracy"]) == {1, 2}
