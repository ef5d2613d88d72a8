"""Scores that measure ability: clean splits, held-out families, budgets from data, strategy
selection that only moves on evidence, and the evaluation tables."""
import numpy as np
import pandas as pd
import pytest

from orca2_kit.generation import budgets
from orca2_kit import scoring
from orca2_kit.evaluation import builtin
from orca2_kit import selection
from orca2_kit import tasks
from orca2_kit.config import ConfigError, load_params
from orca2_kit.strategies import STRATEGIES
from orca2_kit.tasks import facts
from orca2_kit.teacher import reference

ALL = list(STRATEGIES)


def _training_texts(suite):
    """Every text a student could train on: the training prompts and the teacher's answers in every strategy."""
    return [it.prompt for it in suite["train"]] + [reference.render(it, s) for it in suite["train"] for s in ALL]


def test_no_test_or_dev_fact_appears_in_any_training_text():
    suite = tasks.build_suite(seed=11, n_train=40, n_dev=10, n_test=30)
    report = tasks.check_leakage(suite["test"] + suite["dev"], _training_texts(suite))
    assert report["keys"] > 50 and report["checked_texts"] > 1000
    capitals = {it.reference for it in suite["test"] if it.family == "capital_recall"}
    train_capitals = {it.reference for it in suite["train"] if it.family == "capital_recall"}
    assert capitals and train_capitals and not capitals & train_capitals


def test_the_leakage_check_fails_when_the_splits_share_facts(monkeypatch):
    """Without the partition (every split draws from the whole tables) the check stops the run."""
    monkeypatch.setattr(facts, "split_pool", lambda table, split: table)
    from orca2_kit.tasks.families import common

    monkeypatch.setattr(common, "split_pool", lambda table, split: table)
    suite = tasks.build_suite(seed=11, n_train=40, n_dev=10, n_test=30)
    with pytest.raises(tasks.LeakageError, match="held-out item .* rests on"):
        tasks.check_leakage(suite["test"], _training_texts(suite))


def test_a_planted_capital_is_caught():
    suite = tasks.build_suite(seed=3, families=["capital_recall"], n_train=5, n_dev=2, n_test=5)
    test_capital = suite["test"][0].reference
    with pytest.raises(tasks.LeakageError, match=test_capital):
        tasks.check_leakage(suite["test"], ["Relevant facts:\n- The capital is " + test_capital + ".\nAnswer: x"])


def test_heldout_families_get_test_items_only():
    suite = tasks.build_suite(seed=5, n_train=6, n_dev=3, n_test=4, heldout=["weekday", "counting"])
    for split, n in (("train", 0), ("dev", 0), ("test", 4)):
        assert sum(it.family == "weekday" for it in suite[split]) == n
    assert sum(it.family == "arithmetic" for it in suite["train"]) == 6
    with pytest.raises(ConfigError, match="heldout_families: 'wekday'.*did you mean 'weekday'"):
        load_params("offline", ["tasks.heldout_families=[wekday]"])
    with pytest.raises(ConfigError, match="every family is held out"):
        load_params("smoke", ["tasks.heldout_families=[arithmetic,sentiment,capital_recall]"])


def test_budgets_cover_the_answers_they_are_sized_from(smollm2_dir):
    from orca2_kit.models import load_tokenizer

    tok = load_tokenizer(str(smollm2_dir))
    items = tasks.build_suite(seed=2, n_train=20, n_dev=1, n_test=1)["train"]
    got = budgets.strategy_budgets(tok, items, ALL)
    for s in ALL:
        lengths = budgets.token_lengths(tok, [reference.render(it, s) for it in items])
        assert np.mean(np.array(lengths) <= got[s]) >= 0.95, s  # p95 + margin covers at least 95%
    assert got["step_by_step"] > got["direct"]
    assert budgets.resolve(40, got, ALL) == {s: 40 for s in ALL}
    assert any("step_by_step: 40 new tokens" in line for line in budgets.shortfalls(budgets.resolve(40, got, ALL), got))
    # a task file without worked solutions: nothing to measure, a generous fallback
    plain = [it.__class__(**{**it.__dict__, "solution": tasks.Solution()}) for it in items]
    assert budgets.strategy_budgets(tok, plain, ALL) is None
    assert budgets.resolve("auto", None, ["direct"]) == {"direct": budgets.FALLBACK}


def _grid(scores: dict[str, list[int]], family="arithmetic"):
    rows = []
    for s, col in scores.items():
        for i, ok in enumerate(col):
            rows.append({"id": f"{family}/dev/{i}", "family": family, "strategy": s, "correct_lenient": ok,
                         "correct_strict": ok, "format_ok": True, "hit_limit": False})
    return pd.DataFrame(rows)


def test_selection_keeps_the_expected_strategy_unless_clearly_beaten():
    # arithmetic's expected strategy is step_by_step
    noisy = _grid({"step_by_step": [1, 0, 0, 1, 0, 0], "direct": [1, 1, 0, 1, 0, 1]})  # +0.33, within the noise
    row = selection.choose_strategies(noisy, ["step_by_step", "direct"]).iloc[0]
    assert row.chosen == "step_by_step" and row.challenger == "direct" and row.gain_lo <= 0 < row.gain
    clear = _grid({"step_by_step": [0] * 30, "direct": [1] * 24 + [0] * 6})
    row = selection.choose_strategies(clear, ["step_by_step", "direct"]).iloc[0]
    assert row.chosen == "direct" and row.gain_lo > 0 and "beats it" in row.why
    # a margin raises the bar
    assert selection.choose_strategies(clear, ["step_by_step", "direct"], margin=0.9).iloc[0].chosen == "step_by_step"


def test_cells_carry_intervals():
    cells = selection.cell_table(_grid({"step_by_step": [1, 0] * 5, "direct": [1] * 10}))
    r = cells.set_index("strategy").loc["step_by_step"]
    assert r.n == 10 and r.accuracy == 0.5 and r.lo < 0.5 < r.hi
    assert cells.set_index("strategy").loc["direct", "lo"] == 1.0


def _samples():
    rows = []
    for i in range(20):
        for model, system, ok, fmt in (("base", "empty", i % 4 == 0, False), ("base", "none", i % 2 == 0, False),
                                       ("student", "empty", i % 2 == 0, True), ("student", "generic", i < 15, True)):
            rows.append({"model": model, "system": system, "id": f"f/test/{i}", "family": "f", "trained": True,
                         "correct_lenient": ok, "correct_strict": ok and fmt, "format_ok": fmt, "hit_limit": i == 0,
                         "chance": 0.5})
    return pd.DataFrame(rows)


def test_the_evaluation_table_and_the_verdicts():
    s = builtin.summarize(_samples()).set_index(["model", "system"])
    r = s.loc[("student", "generic")]
    assert r.lenient == 0.75 and r.strict == 0.75 and r.format_ok == 1.0 and r.acc_given_format_ok == 0.75
    assert r.cut_by_limit == 0.05 and r.chance == 0.5 and r.lenient_lo < 0.75 < r.lenient_hi
    assert np.isnan(s.loc[("base", "empty"), "acc_given_format_ok"])  # no format-OK answers at all
    c = builtin.comparisons(_samples(), "generic").set_index("comparison")
    best = c.loc["student (generic) vs base at its best (none)"]
    assert best.difference == pytest.approx(0.25) and best.n == 20
    gain = c.loc["format gain: format-OK rate, student (generic) - base (none)"]
    assert gain.difference == 1.0 and gain.verdict == "-"
    assert builtin.verdict({"ci_low": 0.1, "ci_high": 0.3}) == "ahead"
    assert builtin.verdict({"ci_low": -0.1, "ci_high": 0.3}) == "not distinguishable"


def test_a_direct_only_arm_needs_direct_answers():
    with pytest.raises(ConfigError, match="set teacher.strategy_map: direct"):
        load_params("offline", ["erasure.variant=direct_only"])
    p = load_params("offline", ["erasure.variant=direct_only", "teacher.strategy_map=direct"])
    assert p.erasure.variant == "direct_only"


@pytest.mark.slow
def test_probe_rule_on_the_smoke_profile(tmp_path):
    """rule: probe trains a short LoRA per candidate strategy on teacher answers and scores each on
    the dev split; a rerun of 01 reuses the probes."""
    import json
    import subprocess
    import sys

    from tests.conftest import ROOT

    args = [sys.executable, "-m", "orca2_kit", "run", "--profile", "smoke", "--only", "01", "--out", str(tmp_path),
            "--run-id", "probe", "--set", "strategy_selection.rule=probe", "--set", "strategy_selection.probe_steps=2"]
    r = subprocess.run(args, capture_output=True, text=True, cwd=ROOT, timeout=1800)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    out = tmp_path / "smoke" / "probe" / "01_strategy_selection"
    grid = pd.read_json(out / "grid.jsonl", lines=True)
    candidates = load_params("smoke").strategy_selection.candidates
    assert set(grid.strategy) == set(candidates) and len(grid) == len(candidates) * 4  # 2 trained families x 2 dev
    for s in candidates:
        assert (out / "probe" / s / "04_sft_training" / "train_metrics.json").is_file()
        answers = pd.read_json(out / "probe" / s / "02_teacher_prompting" / "answers.jsonl", lines=True)
        assert set(answers.strategy) == {s}
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["rule"] == "probe" and len(metrics["cells"]) == 2 * len(candidates)
    assert all(c["lo"] <= c["accuracy"] <= c["hi"] for c in metrics["cells"])


def test_a_runaway_loop_is_told_from_an_answer_still_going():
    """Issue 13: a cut generation is a budget problem only when it was still making progress; the
    runaways below are real outputs of the offline run (cut at the budget), the others are not."""
    from orca2_kit.generation.budgets import repeating

    runaways = [
        "Let's solve this step by step.\n1. The first animal is a truck.\n2. The next animal is a window.\n"
        "6. So the count is 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22",
        "1. 51 is 51 + 1.\n2. 49 is 49 + 1.\n3. So 51 is 51 + 1, which is 52.\n4. So 52 is 52 + 1, which is 53.\n"
        "5. So 52 is 53 + 1, which is 54.\n6. So 54 is 54 + 1, which is 55.",
        "Relevant facts:\n- In 1978, the company opened a second shop in Mirritzerland.\n- In 1979, the company opened"
        " a fifth shop in Mirritzerland.\n- In 1980, the company opened a sixth shop in Mirritzerland.",
    ]
    progressing = [
        "Let's solve this step by step.\n1. Leo earns 11 + 25 = 36 dollars.\n2. He spends 35 dollars on a book.\n"
        "3. So 36 - 35 = 1 dollar is left.\nAnswer: 1",
        "Relevant facts:\n- Ghana is a country in Africa.\n- The capital of Ghana is Accra.\nAnswer: Accra",
        "The review praises the acting, the music and the story, and the ending made the writer cry in a good way. "
        "So the overall tone of the review is clearly positive, although one scene is called slow",
    ]
    assert all(repeating(t) for t in runaways) and not any(repeating(t) for t in progressing)


def test_chance_counts_known_candidates_and_the_conclusion_follows_the_intervals():
    import pandas as pd

    from orca2_kit import tasks

    suite = tasks.build_suite(1234, ["weekday", "sentiment", "arithmetic"], n_train=1, n_dev=1, n_test=1)["test"]
    chance = {it.family: scoring.chance_level(it) for it in suite}
    assert chance == {"weekday": 1 / 7, "sentiment": 0.5, "arithmetic": 0.0}
    rows = [{"comparison": "student (generic) vs base at its best (none)", "items": "all", "difference": 0.06,
             "ci_low": -0.05, "ci_high": 0.16, "n": 108, "verdict": "not distinguishable"},
            {"comparison": "format gain: format-OK rate, student (generic) - base (none)", "items": "all",
             "difference": 0.9, "ci_low": 0.85, "ci_high": 0.95, "n": 108, "verdict": "-"}]
    text = builtin.conclusion(pd.DataFrame(rows))
    assert text.startswith("In this run the student cannot be told apart") and "a format gain, not an ability" in text
    rows[0].update(ci_low=0.02, verdict="ahead")
    assert builtin.conclusion(pd.DataFrame(rows)).startswith("The student is ahead on all")
