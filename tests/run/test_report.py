"""The run report in a real headless Chromium, and the "Try it" exercises: the notebooks' last
cells agree with notebooks/exercises.yaml, and an exercise runs into its own sub-run."""
import json
import re
from pathlib import Path

import nbformat
import pytest

from orca2_kit.config import load_params
from orca2_kit.run.exercises import load_exercises
from orca2_kit.pipeline import ALL_STAGES, STAGES
from tests.browser import open_page
from tests.conftest import run_cli

NB = Path(__file__).resolve().parents[2] / "notebooks"


def _words(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("stage", ALL_STAGES)
def test_try_it_cell_states_each_exercise_of_its_notebook(stage):
    exercises = [e for e in load_exercises().values() if e.id.startswith(stage[:2])]
    assert 2 <= len(exercises) <= 3, f"{stage}: {len(exercises)} exercises"
    cell = _words(nbformat.read(NB / f"{stage}.ipynb", as_version=4).cells[-1].source)
    assert cell.startswith("## Try it") and "--exercise" in cell
    assert len(re.findall(r"\*\*\d\d\.\d ·", cell)) == len(exercises)  # no exercise only in the notebook
    for e in exercises:
        assert f"**{e.id} · {e.title}**" in cell
        assert f"`overrides = {json.dumps(e.overrides)}`" in cell, e.id
        assert f"*Predict:* {_words(e.predict)}" in cell and f"*Expected:* {_words(e.expect)}" in cell, e.id
        assert e.stages[0] >= stage and e.watch and e.expect


@pytest.mark.parametrize("profile", ["offline", "smoke"])
def test_every_exercise_is_valid_params(profile):
    for e in load_exercises().values():
        load_params(profile, e.overrides)  # raises ConfigError naming a bad key


@pytest.fixture(scope="module")
def partial_run(tmp_path_factory):
    """A real smoke run of stages 01-03 only: the report must cope with the stages not yet run."""
    out = tmp_path_factory.mktemp("outputs")
    r = run_cli("run", "--profile", "smoke", "--out", str(out), "--run-id", "r", "--only", "01")
    assert r.returncode == 0, r.stderr[-3000:]
    run = out / "smoke" / "r"
    for s in ("02", "03"):
        r = run_cli("run", "--resume", str(run), "--only", s)
        assert r.returncode == 0, r.stderr[-3000:]
    return run


@pytest.mark.slow
def test_report_of_a_partial_run_renders_every_figure(partial_run, tmp_path):
    page = open_page(partial_run / "report.html", tmp_path / "shot.png")
    pngs = sorted(p.name for p in (partial_run / "figures").glob("*.png"))
    assert {"01_strategy_heatmap.png", "02_accept_rates.png"} <= set(pngs)
    assert sorted(Path(i["src"]).name for i in page["images"]) == pngs
    assert all(i["complete"] and i["width"] > 0 for i in page["images"]), page["images"]
    text = page["text"]
    assert "accept_rate" in text and "instruction_leaks" in text and "strategy map" in text  # metrics tables
    assert text.count("not run") >= 3  # 04-06, shown as such
    assert "notebooks/01_strategy_selection.html" in page["links"] and "manifest.json" in page["links"]


@pytest.mark.slow
def test_exercise_runs_in_its_own_sub_run_and_keeps_the_run(partial_run, tmp_path):
    before = (partial_run / "03_prompt_erasure" / "metrics.json").read_bytes()
    r = run_cli("run", "--resume", str(partial_run), "--exercise", "03.1")
    assert r.returncode == 0, r.stderr[-3000:]
    sub = partial_run / "exercises" / "03.1"
    assert (partial_run / "03_prompt_erasure" / "metrics.json").read_bytes() == before
    assert (sub / "01_strategy_selection").is_symlink() and not (sub / "03_prompt_erasure").is_symlink()
    m3 = json.loads((sub / "03_prompt_erasure" / "metrics.json").read_text())
    assert m3["system_message"] == "cautious" and m3["rows"] == json.loads(before)["rows"] and m3["instruction_leaks"] == 0
    m = json.loads((sub / "manifest.json").read_text())
    assert list(m["stages"]) == list(STAGES[:3]) and m["exercise"]["id"] == "03.1"
    assert m["stages"]["01_strategy_selection"]["linked_from_parent"]

    page = open_page(sub / "report.html", tmp_path / "ex.png")
    assert {Path(i["src"]).name for i in page["images"]} >= {"01_strategy_heatmap.png", "02_accept_rates.png"}
    assert all(i["complete"] and i["width"] > 0 for i in page["images"]), page["images"]
    assert "Exercise 03.1" in page["text"] and "Expected:" in page["text"]
    assert re.search(r"03 system_message\s+generic\s+cautious", page["text"])  # run beside exercise
    r = run_cli("report", str(partial_run))
    assert r.returncode == 0 and "exercises/03.1/report.html" in open_page(partial_run / "report.html")["links"]


def test_bad_exercise_requests_are_refused_clearly(tmp_path):
    r = run_cli("run", "--profile", "smoke", "--exercise", "03.1", "--out", str(tmp_path))
    assert r.returncode == 2 and "--exercise needs --resume RUN_DIR" in r.stderr
    run = tmp_path / "smoke" / "x"
    run.mkdir(parents=True)
    (run / "params.yaml").write_text(f"extends: {NB.parent / 'params' / 'smoke.yaml'}\n")
    r = run_cli("run", "--resume", str(run), "--exercise", "9.9")
    assert r.returncode == 2 and "unknown exercise '9.9'; exercises are 01.1" in r.stderr
    r = run_cli("run", "--resume", str(run), "--exercise", "04.1")
    assert r.returncode == 2 and "run 01_strategy_selection, 02_teacher_prompting, 03_prompt_erasure in" in r.stderr
    assert not (run / "exercises").exists()


def test_the_overview_states_paired_differences_not_raw_rates():
    """The 06 box: student minus base on the same documents with its interval, never a list of rates
    that invites comparing one model's best message with the other's worst."""
    from orca2_kit.run.report import glance

    pairs = [{"dataset": "builtin", "judge": "offline", "metric": "hallucinated", "system": s, "diff": d, "lo": lo,
              "hi": hi, "n_pairs": 12} for s, d, lo, hi in [("empty", 0.0, -0.25, 0.25), ("generic", -0.08, -0.42, 0.25)]]
    text = glance("06_hallucination", {"paired_differences": pairs, "rates": [{"model": "base", "rate": 0.42}]})
    assert text == ("summaries with a wrong fact, student - base (built-in, n=12 pairs): empty +0 points (95% CI "
                    "-25..+25): not distinguishable, generic -8 points (95% CI -42..+25): not distinguishable")
    # with recall and the checker's hand-labelled catches, both go beside the rate, each interval
    # with its own verdict (issue 27: "-13 [-26, -1]" was listed after "not distinguishable" without one)
    recall = [dict(pairs[0], metric="recall", diff=-0.13, lo=-0.26, hi=-0.01),
              dict(pairs[1], metric="recall", diff=0.02, lo=-0.1, hi=0.12)]
    held = {"heldout": {"caught_in_scope": 11, "n_in_scope": 15, "caught": 13, "n_hallucinated": 29}}
    text = glance("06_hallucination", {"paired_differences": pairs + recall, "checker_agreement": held})
    assert text.endswith("; fact recall empty -13 points (-26..-1): keeps fewer facts, generic +2 points (-10..+12): "
                         "not distinguishable. The checker flags 11/15 hand-labelled summaries with a "
                         "wrong fact of its kinds, 13/29 with any unsupported claim: a lower bound")
    worse = [dict(pairs[0], diff=0.3, lo=0.1, hi=0.5)]
    assert "+30 points (95% CI +10..+50): more often wrong" in glance("06_hallucination", {"paired_differences": worse})


def test_report_tables_read_as_tables_not_json(tmp_path):
    """Nested metrics become tables or plain words, never a JSON dump; columns say which row first,
    then n, then each value beside its interval and verdict, not in alphabetical order."""
    from orca2_kit.run.report import metric_tables, order_columns

    rates = {"cut_by_limit": 0.0, "dataset": "builtin", "hi": 0.45, "judge": "offline", "lo": 0.05, "model": "base",
             "n": 12, "n_wrong": 0.5, "n_wrong_hi": 1.0, "n_wrong_lo": 0.1, "rate": 0.2, "system": "empty"}
    assert order_columns(list(rates)) == ["dataset", "model", "system", "judge", "n", "rate", "lo", "hi",
                                          "cut_by_limit", "n_wrong", "n_wrong_lo", "n_wrong_hi"]
    metrics = {"max_new_tokens": 200, "rates": [rates],
               "paired_differences": [{"diff": -0.13, "hi": -0.01, "lo": -0.26, "metric": "recall", "n_pairs": 12}],
               "harness": {"summary": [{"benchmark": "gsm8k", "lenient": 0.5, "n": 2}], "skipped": [],
                           "paired": [{"benchmark": "gsm8k", "ci_high": 0.5, "ci_low": -0.5, "difference": 0.0}]},
               "checker_agreement": {"dev": {"caught": 9, "n": 48}, "heldout": {"caught": 13, "n": 48}},
               "budgets": {"direct": 216}, "system_messages": ["empty", "generic"]}
    tables = metric_tables(metrics)
    html = "\n".join(t["html"] for t in tables)
    assert not re.search(r'[\[{]\s*(?:&#34;|&quot;|")', html), "JSON inline"
    titles = [t["title"] for t in tables]
    assert {"rates", "paired_differences", "harness · summary", "harness · paired", "checker_agreement"} <= set(titles)
    paired = next(t["html"] for t in tables if t["title"] == "paired_differences")
    assert "<th>verdict</th>" in paired and "<td>lower</td>" in paired
    assert "<td>not distinguishable</td>" in next(t["html"] for t in tables if t["title"] == "harness · paired")
    assert "empty, generic" in html


def test_the_overview_says_when_real_data_was_skipped(tmp_path):
    """A run without data: the overview says once what was skipped, why and the command that gets it
    all; the 05/06 sections each name their sets once; 05's harness skip list adds no table (issue
    27: the no-data line came 4 times, and a 14-row 'hub not reachable' table after it)."""
    from orca2_kit.run.report import collect

    plan = {"data_dir": None, "found": "none found (looked at: params data_dir, $ORCA2_DATA_DIR)",
            "05_benchmark_eval": {"run": [], "skip": {"gsm8k": "no data directory", "mmlu": "no data directory"}},
            "06_hallucination": {"run": [], "skip": {"qmsum": "no data directory"}}}
    (tmp_path / "manifest.json").write_text(json.dumps({"run_id": "x", "data": plan, "stages": {}}))
    (tmp_path / "05_benchmark_eval").mkdir()
    reason = "no data directory (get them: .venv/bin/python -m orca2_kit data fetch; or set data_dir or $ORCA2_DATA_DIR)"
    (tmp_path / "05_benchmark_eval" / "metrics.json").write_text(json.dumps(
        {"harness": {"summary": [], "skipped": [{"benchmark": b, "reason": reason} for b in ("gsm8k", "mmlu")]}}))
    ctx = collect(tmp_path)
    assert ctx["data_notes"] == ["Real data skipped: 2 benchmarks (stage 05) and 1 grounded set (stage 06): no data "
                                 "directory found (looked at: params data_dir, $ORCA2_DATA_DIR). Get them all: "
                                 ".venv/bin/python -m orca2_kit data fetch (or point runs at a copy: .venv/bin/python "
                                 "-m orca2_kit data use DIR)."]
    by = {s["name"]: s for s in ctx["stages"]}
    assert by["01_strategy_selection"]["data_note"] is None
    assert by["05_benchmark_eval"]["data_note"] == ("Real data skipped: 2 benchmarks (gsm8k, mmlu): no data directory "
                                                    "(see the overview). Get them: .venv/bin/python -m orca2_kit data "
                                                    "fetch --only gsm8k,mmlu.")
    assert "--only qmsum." in by["06_hallucination"]["data_note"]
    page = "\n".join(t["html"] for s in ctx["stages"] for t in s["tables"])
    assert "gsm8k" not in page and "not reachable" not in page  # said once, in the section's note
    # with every set present, nothing is said
    plan["05_benchmark_eval"] = {"run": ["gsm8k"], "skip": {}}
    plan["06_hallucination"] = {"run": ["qmsum"], "skip": {}}
    (tmp_path / "manifest.json").write_text(json.dumps({"run_id": "x", "data": plan, "stages": {}}))
    assert collect(tmp_path)["data_notes"] == []


def test_a_skip_list_the_page_has_not_said_is_one_line():
    from orca2_kit.run.report import metric_tables

    skipped = [{"benchmark": "gsm8k", "reason": "no gsm8k/test.jsonl under /d"},
               {"benchmark": "mmlu", "reason": "no mmlu/ under /d"}, {"benchmark": "bbh", "reason": "no mmlu/ under /d"},
               {"benchmark": "all", "model": "base", "system": "empty", "reason": "template cannot render it"}]
    tables = metric_tables({"harness": {"summary": [{"benchmark": "x", "lenient": 0.5}], "skipped": skipped}})
    html = "\n".join(t["html"] for t in tables)
    assert html.count("</tr>") == 2 + 1  # the summary's header and row, and one line for the skips
    assert ("gsm8k: no gsm8k/test.jsonl under /d; mmlu, bbh: no mmlu/ under /d; all (base / empty): template cannot "
            "render it") in html


def test_cells_without_a_value_say_why_not_blank():
    """Issue 27: None and NaN showed as empty cells; acc_given_format_ok is NaN where no answer was format-OK."""
    from orca2_kit.run.report import metric_tables

    rows = [{"model": "base", "format_ok": 0.0, "acc_given_format_ok": float("nan"), "chance": None},
            {"model": "student", "format_ok": 0.5, "acc_given_format_ok": 0.25, "chance": 0.1}]
    tables = metric_tables({"judge": None, "summary": rows})
    html = "\n".join(t["html"] for t in tables)
    assert "<td></td>" not in html and "None" not in html and "nan" not in html
    assert "<td>—, no format-OK answers</td>" in html and "<td>—</td>" in html and "<td>none</td>" in html


def test_the_05_and_06_boxes_give_each_models_cut_share():
    """Issue 27: the cut-off share per model beside the comparison, not pooled over both models."""
    from orca2_kit.run.report import glance

    row = {"items": "all", "comparison": "student (generic) vs base at its best (none, chosen on dev)", "difference": -0.037,
           "ci_low": -0.13, "ci_high": 0.037, "n": 108, "verdict": "not distinguishable", "a": "student / generic",
           "b": "base / none", "a_cut_by_limit": 0.519, "b_cut_by_limit": 0.056}
    assert glance("05_benchmark_eval", {"comparisons": [row]}).endswith(
        "not distinguishable; answers cut (token budget or loop stop), on all items: student / generic 52%, base / none 6%")
    # newcomer read: the headline dropped the only distinguishable verdict (never-trained families)
    never = row | {"items": "never-trained families", "difference": -0.167, "ci_low": -0.306, "ci_high": -0.028, "n": 36,
                   "verdict": "behind"}
    assert "; on never-trained families: -17 points (95% CI -31..-3, n=36): behind;" in glance(
        "05_benchmark_eval", {"comparisons": [row, never]})
    never |= {"a_mean": 0.11, "b_mean": 0.28, "chance": 0.38}
    assert ("behind (both scores below chance: student 0.11, base 0.28, guessing 0.38);" in glance(
        "05_benchmark_eval", {"comparisons": [row, never]}))
    pairs = [{"dataset": "builtin", "judge": "offline", "metric": "hallucinated", "system": "empty", "diff": 0.0,
              "lo": -0.25, "hi": 0.25, "n_pairs": 12}]
    text = glance("06_hallucination", {"paired_differences": pairs, "cut_by_limit": {"base": 0.028, "student": 0.861}})
    assert text.endswith("; summaries cut (token limit or loop stop): base 3%, student 86%")


def test_the_01_box_says_kept_by_default_not_as_the_authors_expected():
    """Issue 27: "100% as the authors expected" at n=8 per cell is near-guaranteed by the
    keep-by-default rule; the box says what the rule did and flags a family where nothing scored."""
    from orca2_kit.run.report import glance

    why = "kept the authors' strategy by default: no challenger's lower bound is above +0.00 (...)"
    choice = [{"family": f, "expected": "step_by_step", "chosen": "step_by_step", "why": why} for f in ("arithmetic", "sort_list")]
    cells = [{"family": f, "strategy": s, "n": 8, "accuracy": a} for f, a0 in (("arithmetic", 0.25), ("sort_list", 0.0))
             for s, a in (("direct", a0), ("step_by_step", 0.0))]
    m = {"agreement_with_expected": 1.0, "strategy_map": {"arithmetic": "step_by_step", "sort_list": "step_by_step"},
         "choice": choice, "cells": cells}
    text = glance("01_strategy_selection", m)
    assert "as the authors expected" not in text and "100%" not in text
    assert text == ("2 families: kept the authors' strategy by default for 2 (no challenger's lower bound beat it); "
                    "of the 2 kept, nothing could be decided for sort_list (every strategy scored 0)")


def test_a_learning_curve_run_shows_its_curve_table_and_why_a_seed_part_is_zero(tmp_path):
    """Issue 27: the learning-curve run's report.html showed 01 and five stages 'not run', never the
    curve. A run folder holding learning_curve/curve.json shows its figure, its table a size a row,
    the rule and the pick, the words for a clipped seed part and the dev budget; and only the
    stages that ran."""
    from html import unescape

    import numpy as np
    import pandas as pd
    import yaml

    from orca2_kit.run.report import write_report
    from orca2_kit.study import figures, learning_curve

    rng = np.random.default_rng(0)
    rows = []
    for size, acc in ((8, 0.3), (16, 0.45), (32, 0.46)):
        y = rng.random(40) < acc
        for seed in (1, 2):  # at 8 and 16 both seeds answer alike: a seed part clipped at 0
            ys = y if size < 32 else rng.random(40) < acc
            rows += [{"size": size, "seed": seed, "family": "arithmetic", "id": f"arithmetic/dev/{i}",
                      "correct_lenient": float(ys[i]), "train_s": 2.0 * size, "budget": 199,
                      "hit_limit": i < 2, "cut_in_loop": i < 1} for i in range(40)]
    table = learning_curve.summarise(pd.DataFrame(rows), min_gain=0.02, max_size=16)
    run = tmp_path / "curve-run"
    (run / "learning_curve").mkdir(parents=True)
    (run / "learning_curve" / "curve.json").write_text(json.dumps(table))
    figures.learning_curve(table, run / "figures" / "learning_curve")
    (run / "params.yaml").write_text(yaml.safe_dump(load_params("offline-study").model_dump(mode="json")))
    (run / "manifest.json").write_text(json.dumps({"run_id": "curve-run", "profile": "offline-study",
                                                   "stages": {"01_strategy_selection": {"status": "ok"}}}))
    html = write_report(run).read_text()
    words = _words(unescape(re.sub(r"<[^>]+>", " ", html)))
    assert 'src="figures/learning_curve.png"' in html and "Other figures" not in html
    assert f"Picked: {table['pick']} training items per family" in words and table["rule"] in words
    assert "<th>training items per family</th>" in html and "<td>0.000 (clipped at 0, see below)</td>" in html
    assert "16 per family: the seed part of the spread reads 0 because its estimate is clipped at zero" in words
    assert "Dev answers had 199 new tokens at 8, 199 new tokens at 16, 199 new tokens at 32" in words
    assert "12 of 240 dev answers reached it, 6 of them inside a loop" in words
    assert 'id="05_benchmark_eval"' not in html  # a curve run ran 01 only: no five 'not run' sections
