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


def test_a_seed_part_of_zero_is_explained_with_its_numbers_not_printed_bare():
    """Issue 27: the curve's seed part read 0 at 16 items per family (seeds 40.0% and 42.5% on 80
    items, answer variance 0.088): the page says the estimate came out below zero and was clipped."""
    from orca2_kit.study.learning_curve import seed_part_words

    row = {"size": 16, "items": 80, "seed_accuracy": {1: 0.4, 2: 0.425}, "answer_var": 0.08829, "seed_sd": 0.0}
    words = seed_part_words(row)
    assert "clipped at zero" in words and "40.0%, 42.5%" in words and "0.00031" in words and "0.00110" in words
    assert "-0.00079" in words and "too small to measure" in words
    assert seed_part_words({**row, "seed_sd": 0.03}) is None  # a measured spread needs no excuse


def test_seeds_that_differ_less_than_item_noise_give_a_clipped_zero_and_the_words_for_it():
    """The estimator is left as it is (a variance component clipped at 0); summarise's rows carry
    what the words need, and they agree with it."""
    from orca2_kit.study.learning_curve import seed_part_words

    rng = np.random.default_rng(3)
    y = (rng.random((80, 1)) < 0.4).astype(float)
    rows = [{"size": 16, "seed": s, "family": "a", "id": f"a/{i}", "correct_lenient": y[i, 0], "train_s": 1.0}
            for s in (1, 2) for i in range(80)]  # two seeds, the same answers: no seed spread at all
    r = summarise(pd.DataFrame(rows + [{**x, "size": 32} for x in rows]), min_gain=0.02)["sizes"][0]
    assert r["seed_sd"] == 0.0 and "below zero, so it is set to 0" in seed_part_words(r)


def test_the_curves_dev_budget_follows_the_studys_rule():
    """Issue 27: the curve scored dev answers with a fixed 160 new tokens while the study sized its
    budget from the teacher's answers (199). Now both follow one rule: 'auto' sizes it from the
    teacher answers the recipe trains on; a number in eval.max_new_tokens (the study's) or in the
    curve's own setting wins."""
    from orca2_kit.config import load_params
    from orca2_kit.generation import budgets
    from orca2_kit.models import load_tokenizer, student_path
    from orca2_kit.study.learning_curve import dev_budget

    p = load_params("offline-study")
    assert p.study.learning_curve.max_new_tokens == "auto"
    tok = load_tokenizer(student_path(p.student), p.student.revision)
    answers = pd.DataFrame({"accepted": True, "strategy": ["step_by_step"] * 20 + ["direct"] * 20,
                            "answer": [("Step %d. add the two numbers. " % i) * (1 + i % 7) + "\nAnswer: 4" for i in range(20)]
                            + ["Answer: 4"] * 20})
    need = budgets.answer_budget(tok, answers, p.generation.budget_percentile, p.generation.budget_margin)[0]
    assert dev_budget(p, tok, answers) == need and need != 160
    assert dev_budget(load_params("offline-study", ["eval.max_new_tokens=199"]), tok, answers) == 199
    assert dev_budget(load_params("offline-study", ["study.learning_curve.max_new_tokens=64"]), tok, answers) == 64


def test_dev_answers_scored_under_another_budget_are_scored_again(tmp_path):
    from orca2_kit.study.learning_curve import _scored_budget

    path = tmp_path / "dev_scores.jsonl"
    assert _scored_budget(path) is None
    pd.DataFrame([{"id": "a/0", "correct_lenient": 1.0}]).to_json(path, orient="records", lines=True)
    assert _scored_budget(path) is None  # scored before the budget was recorded: score again
    pd.DataFrame([{"id": "a/0", "correct_lenient": 1.0, "budget": 199}]).to_json(path, orient="records", lines=True)
    assert _scored_budget(path) == 199
