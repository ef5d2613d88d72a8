"""The built-in evaluation's tables and verdicts (stage 05), chance levels, and the direct-only arm's check."""
import numpy as np
import pandas as pd
import pytest
from orca2_kit import scoring
from orca2_kit.evaluation import builtin
from orca2_kit import tasks
from orca2_kit.config import ConfigError, load_params
from orca2_kit.strategies import STRATEGIES

ALL = list(STRATEGIES)


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
    best = c.loc["student (generic) vs base at its best (none, chosen on these items)"]
    assert best.difference == pytest.approx(0.25) and best.n == 20
    gain = c.loc["format gain: format-OK rate, student (generic) - base (none)"]
    assert gain.difference == 1.0 and gain.verdict == "-"
    assert builtin.verdict({"ci_low": 0.1, "ci_high": 0.3}) == "ahead"
    assert builtin.verdict({"ci_low": -0.1, "ci_high": 0.3}) == "not distinguishable"


def test_the_base_at_its_best_is_chosen_on_dev_items_not_on_the_test_items():
    """On the test items the base does best under 'none'; on dev, under 'empty': the comparison uses
    the dev choice (choosing on the test items would favour the base on exactly those items)."""
    test = _samples()
    dev = test[test.model == "base"].copy()
    dev["correct_lenient"] = [(r.system == "empty") for r in dev.itertuples()]
    best = builtin.best_base_message(dev)
    assert best == {"system": "empty", "lenient": {"empty": 1.0, "none": 0.0}, "n": 20}
    c = builtin.comparisons(test, "generic", best=best["system"]).set_index("comparison")
    row = c.loc["student (generic) vs base at its best (empty, chosen on dev)"]
    assert row.difference == pytest.approx(0.75 - 0.25) and row.b == "base / empty"


def test_intervals_redraw_items_within_their_families():
    """Two families of 10 items, one all right and one all wrong: the mean is 0.5 on any redraw of
    items within the families, so the interval has no width; redrawing items across families (as
    if the suite had no families) would give about 0.5 +- 0.22."""
    rows = [{"model": "student", "system": "generic", "id": f"{f}/test/{i}", "family": f, "trained": True,
             "correct_lenient": f == "a", "correct_strict": f == "a", "format_ok": True, "hit_limit": False,
             "chance": 0.0} for f in ("a", "b") for i in range(10)]
    rows += [{**r, "model": "base", "correct_lenient": False, "correct_strict": False} for r in rows]
    s = builtin.summarize(pd.DataFrame(rows)).set_index(["model", "system"]).loc[("student", "generic")]
    assert s.lenient == 0.5 and s.lenient_lo == s.lenient_hi == 0.5
    d = builtin.paired_difference(pd.DataFrame(rows), "generic")
    assert d["difference"] == 0.5 and d["ci_low"] == d["ci_high"] == 0.5


def test_a_direct_only_arm_needs_direct_answers():
    with pytest.raises(ConfigError, match="set teacher.strategy_map: direct"):
        load_params("offline", ["erasure.variant=direct_only"])
    p = load_params("offline", ["erasure.variant=direct_only", "teacher.strategy_map=direct"])
    assert p.erasure.variant == "direct_only"


def test_chance_counts_known_candidates_and_the_conclusion_follows_the_intervals():
    import pandas as pd


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
    assert builtin.conclusion(pd.DataFrame(rows)).startswith("Against the base model at its best message") and "the student is ahead on all" in builtin.conclusion(pd.DataFrame(rows))


def test_each_comparison_carries_both_sides_cut_shares():
    """Issue 27: beside each paired comparison, the share of each model's answers the budget cut (on
    the paired items); the stage's cut share is recorded per model, not pooled."""
    s = _samples()
    s["hit_limit"] = [(r.model == "student" and i % 2 == 0) or (r.model == "base" and i % 10 == 0)
                      for i, r in zip(s.index // 4, s.itertuples())]
    c = builtin.comparisons(s, "generic").set_index("comparison")
    row = c.loc["student (generic) vs base at its best (none, chosen on these items)"]
    assert row.a_cut_by_limit == 0.5 and row.b_cut_by_limit == 0.1
    assert builtin.cut_line(row.to_dict() | {"a": row.a, "b": row.b}) == "cut (budget or loop stop): student 0.50, base 0.10"
    assert builtin.cut_by_model(s)["cut_by_limit"] == {"base": 0.1, "student": 0.5}


def test_the_shown_table_says_why_a_value_is_missing_and_chance_is_per_family():
    """Issue 27: NaN acc_given_format_ok where no answer was format-OK; 05's words said chance is
    '0 on open answers' while the weekday family's is 1/7 (the code's own value)."""
    shown = builtin.readable(builtin.summarize(_samples())).set_index(["model", "system"])
    assert shown.loc[("base", "empty"), "acc_given_format_ok"] == "—, no format-OK answers"
    assert shown.loc[("student", "generic"), "acc_given_format_ok"] == 0.75
    suite = tasks.build_suite(1234, ["weekday", "sentiment", "arithmetic"], n_train=1, n_dev=1, n_test=2)["test"]
    from orca2_kit.generation.stops import Generation

    rows = pd.DataFrame(scoring.score_rows(suite, [Generation("", 0, hit_limit=False)] * len(suite)))
    assert scoring.chance_by_family(rows) == "weekday 0.14, sentiment 0.5, arithmetic 0"


def test_a_row_that_generated_nothing_is_not_said_to_have_no_format_ok_answers():
    """The harness's log-likelihood rows have no format at all (format_ok NaN)."""
    t = pd.DataFrame([{"variant": "generative", "format_ok": 0.0, "acc_given_format_ok": float("nan")},
                      {"variant": "loglikelihood", "format_ok": float("nan"), "acc_given_format_ok": float("nan")}])
    assert builtin.readable(t).acc_given_format_ok.tolist() == ["—, no format-OK answers", "—, not generated"]


def test_the_conclusion_names_a_model_that_loops_in_its_own_words():
    """Issue 27: a run in which 52% of the student's answers were cut in a runaway loop concluded on
    accuracy alone; the loop share belongs in the conclusion's words, on all items and per group."""
    s = _samples()
    s["cut_in_loop"] = False
    loops = (s.model == "student") & (s.id.str.split("/").str[-1].astype(int) % 5 < 3)  # 12 of 20 items
    s.loc[loops, ["hit_limit", "cut_in_loop"]] = True
    c = pd.concat([builtin.comparisons(g, "generic").assign(items=name) for name, g in
                   [("all", s), ("trained families", s[s.trained])]], ignore_index=True)
    row = c[c.comparison.str.contains("at its best")].iloc[0]
    assert row.a_cut_by_limit == 0.6 and row.a_cut_in_loop == 0.6 and row.b_cut_in_loop == 0.0
    text = builtin.conclusion(c)
    assert ("The student's answers were cut in 60% of cases (by the token budget, or stopped" in text
            and "row), 60% in a runaway loop" in text
            and "trained families 60%" in text and "mostly never reached an Answer line" in text), text
    assert "The base's answers were cut" not in text  # 5%: below LARGE_CUT, not said
    quiet = builtin.conclusion(pd.concat([builtin.comparisons(_samples(), "generic").assign(items="all")]))
    assert "answers were cut in" not in quiet  # nobody loops: no such sentence


def test_a_verdict_between_two_scores_below_chance_says_so():
    """Newcomer read: 05's only clear verdict ('behind' on never-trained families, student 0.11 vs
    base 0.28) compared two scores below what guessing gets there (0.38), and the conclusion never
    said so. The comparison rows carry each side's score and the items' chance; the conclusion names it."""
    s = _samples()
    s["chance"] = 0.5
    row = builtin.comparisons(s, "generic").iloc[-2]
    assert {"a_mean", "b_mean", "chance"} <= set(row.index) and row.chance == 0.5
    rows = [{"comparison": "student (generic) vs base at its best (none)", "items": "never-trained families",
             "difference": -0.17, "ci_low": -0.31, "ci_high": -0.03, "n": 36, "verdict": "behind", "a": "student / generic",
             "b": "base / none", "a_mean": 0.11, "b_mean": 0.28, "chance": 0.38}]
    text = builtin.conclusion(pd.DataFrame(rows))
    assert "both scores are below chance (student 0.11, base 0.28; guessing scores 0.38 on these items)" in text, text
    rows[0].update(b_mean=0.45)
    assert "below chance" not in builtin.conclusion(pd.DataFrame(rows))


def test_05_says_why_its_budget_is_one_where_01_shows_one_per_strategy():
    """Issue 27: 01 shows a 39-token need for direct, 05 one budget of 199 for every answer, with no
    word on why; and 05 printed the per-strategy needs as a raw dict."""
    per = {"direct": 21, "extract_generate": 61, "step_by_step": 199}
    sel = {"needed": {"direct": 39, "step_by_step": 172, "recall_reason_generate": 216},
           "used": {"direct": 216, "step_by_step": 216, "recall_reason_generate": 216}}
    text = builtin.budget_words(199, "auto", 199, per, sel)
    assert text.startswith("budget: 199 new tokens for every answer") and "{" not in text
    assert "per strategy: direct 21, extract_generate 61, step_by_step 199" in text
    assert "the student chooses its strategy itself" in text and "Notebook 01's needs are other figures (direct 39" in text
    assert "its largest need (216)" in text
    assert "set by eval.max_new_tokens" in builtin.budget_words(120, 120, 199, per) and "Notebook 01" not in \
        builtin.budget_words(120, 120, 199, per)
