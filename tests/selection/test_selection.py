"""Strategy selection (stage 01): the expected strategy kept unless clearly beaten, every cell with its interval, and the probe rule."""
import pandas as pd
import pytest
from orca2_kit import selection
from orca2_kit.config import load_params
from orca2_kit.strategies import STRATEGIES

ALL = list(STRATEGIES)


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
    # 10 of 10 is not a certainty: a Wilson interval, not the point a bootstrap of ten ones gives
    assert 0.6 < cells.set_index("strategy").loc["direct", "lo"] < 1.0


def test_a_cell_of_zero_right_is_not_a_point():
    """0 of 8 right reads [0.00, 0.32] (Wilson), as in 06, not [0.00, 0.00]."""
    cells = selection.cell_table(_grid({"step_by_step": [0] * 8, "direct": [1] * 8})).set_index("strategy")
    zero, full = cells.loc["step_by_step"], cells.loc["direct"]
    assert zero.lo == 0.0 and 0.3 < zero.hi < 0.35
    assert full.hi == 1.0 and 0.65 < full.lo < 0.7


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


@pytest.mark.slow
def test_a_direct_answer_fits_its_budget_in_the_grid(smollm2_dir):
    """01's budgets let the base student's direct answers finish: on the offline profile's arithmetic
    dev items, told to answer directly, it still shows its working, and a budget read off one-line
    reference answers cut 7 of 8 of them while not looping (main before issue 27)."""
    from orca2_kit import tasks
    from orca2_kit.config import StudentConfig
    from orca2_kit.models import load_student

    p = load_params("offline")
    suite = tasks.load_suite(p.tasks, p.seed)
    model, tok = load_student(StudentConfig(source="local", name_or_path=str(smollm2_dir)), "cpu")
    needed, used = selection.selection_budgets(p, tok, suite["train"])
    assert used["direct"] >= needed["step_by_step"]  # the room of the longest layout, for every strategy
    dev = [it for it in suite["dev"] if it.family == "arithmetic"]
    grid = selection.run_strategy_grid(model, tok, dev, ["direct"], used, batch_size=8)
    cut = (grid.hit_limit & ~grid.cut_in_loop).mean()
    assert cut <= 1 / 8, f"{cut:.0%} of direct answers cut while not looping under {used['direct']} tokens:\n" \
                         + "\n---\n".join(grid.output)



def test_the_reason_names_the_closest_challenger_as_what_it_is_and_the_rule():
    """Issue 27: the row called the challenger with the highest lower bound "best" (arithmetic's
    "best: direct, -0.12" scored below the expected strategy); it is the closest to replacing it."""
    noisy = _grid({"step_by_step": [1, 0, 0, 1, 0, 0], "direct": [1, 1, 0, 1, 0, 1], "explain_then_answer": [0] * 6})
    row = selection.choose_strategies(noisy, ["step_by_step", "direct", "explain_then_answer"]).iloc[0]
    assert "best" not in row.why
    assert row.why.startswith("kept the authors' strategy by default: no challenger's lower bound is above +0.00")
    assert "(highest lower bound among challengers: direct, lower bound" in row.why
    assert "(+0.33 over the expected one, 95% CI" in row.why
    clear = _grid({"step_by_step": [0] * 30, "direct": [1] * 24 + [0] * 6})
    row = selection.choose_strategies(clear, ["step_by_step", "direct"]).iloc[0]
    assert row.why.startswith("changed: direct beats it on the same items, its lower bound above +0.00")


def test_a_family_where_every_strategy_scored_0_is_flagged_as_undecided():
    """Issue 27: "100% as the authors expected" at n=8 per cell is what keep-by-default gives; a
    family where nothing was right (sort_list in the offline run) decided nothing at all."""
    grid = pd.concat([_grid({"step_by_step": [0] * 8, "direct": [0] * 8}),
                      _grid({"direct": [1, 0] * 4, "step_by_step": [1, 0, 0, 0] * 2}, family="sentiment")])
    choice = selection.choose_strategies(grid, ["step_by_step", "direct"])
    why = choice.set_index("family").why
    assert why["arithmetic"] == ("nothing could be decided: every strategy scored 0 of 8; kept the authors' "
                                 "strategy by default")
    assert why["sentiment"].startswith("kept the authors' strategy by default")
    text = selection.summary(choice.to_dict("records"), selection.cell_table(grid).to_dict("records"))
    assert text == ("2 families: kept the authors' strategy by default for 2 (no challenger's lower bound beat it); "
                    "of the 2 kept, nothing could be decided for arithmetic (every strategy scored 0)")
    assert "expected" not in text.split("(")[0] and "%" not in text
    clear = _grid({"step_by_step": [0] * 30, "direct": [1] * 24 + [0] * 6})
    text = selection.summary(selection.choose_strategies(clear, ["step_by_step", "direct"]).to_dict("records"),
                             selection.cell_table(clear).to_dict("records"))
    assert text == ("1 families: kept the authors' strategy by default for 0 (no challenger's lower bound beat it); "
                    "changed 1: arithmetic -> direct")
