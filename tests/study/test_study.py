"""The ablation study: arms as validated overrides, the clustered bootstrap over items and seeds,
and the whole study on the smoke profile against a real teacher server (every arm with paired
intervals; a rerun sends no request and trains nothing)."""
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import yaml

from orca2_kit import study
from orca2_kit.study import analysis as study_analysis
from orca2_kit.config import PARAMS_DIR, ConfigError, load_params
from tests.conftest import ROOT
from tests.faultproxy import FaultProxy


def test_arms_are_validated_overrides_of_the_profile():
    arms = {a.name: a for a in study.plan(load_params("offline"))}
    assert list(arms) == ["base", "recipe", "not_erased", "direct_only", "one_strategy", "expected_map"]
    assert arms["direct_only"].params.teacher.strategy_map == "direct"
    assert arms["not_erased"].params.erasure.variant == "not_erased"
    assert arms["recipe"].params.erasure.variant == "erased" and not arms["base"].trained
    with pytest.raises(ConfigError, match="arm 'x': train.lora_rr: unknown key. Did you mean 'train.lora_r'"):
        load_params("offline", {"study.arms": {"recipe": {}, "x": {"train.lora_rr": 4}}})
    with pytest.raises(ConfigError, match="arms may change only teacher., erasure., train."):
        load_params("offline", {"study.arms": {"recipe": {}, "x": {"tasks.n_test": 4}}})
    with pytest.raises(ConfigError, match="needs a 'recipe' arm"):
        load_params("offline", {"study.arms": {"x": {}}})


def test_an_arm_that_would_train_like_another_is_not_trained_again():
    """expected_map is recipe's twin when notebook 01 keeps every expected strategy, not otherwise."""
    from orca2_kit.tasks import family_info, family_names

    p = load_params("offline")
    trained = [f for f in family_names(p.tasks.families) if f not in p.tasks.heldout_families]
    expected = {f: family_info(f)["expected_strategy"] for f in trained}
    assert study.twins(p, expected) == {"expected_map": "recipe"}
    changed = {**expected, trained[0]: "direct" if expected[trained[0]] != "direct" else "step_by_step"}
    assert study.twins(p, changed) == {}
    paired = study_analysis.paired_vs(_pooled(0.0, 0.05).assign(cluster=lambda d: d.family)).assign(
        group="g", demonstration=False)
    text = study_analysis.conclusion(paired, None, {"expected_map": "recipe"})
    assert text.splitlines()[-1].startswith("expected_map: not tested; it would train exactly like recipe")


def _pooled(effect: float, seed_noise: float, n_fam=6, n_items=20, seeds=(1, 2, 3), rng_seed=0):
    """Synthetic per-item correctness for a recipe and an arm that is `effect` better on average."""
    rng = np.random.default_rng(rng_seed)
    rows = []
    for f in range(n_fam):
        fam_level = rng.uniform(0.2, 0.8)
        for i in range(n_items):
            item_level = np.clip(fam_level + rng.normal(0, 0.15), 0.02, 0.98)
            for arm, shift in (("recipe", 0.0), ("arm", effect)):
                for s in seeds:
                    p = np.clip(item_level + shift + rng.normal(0, seed_noise), 0, 1)
                    rows.append({"arm": arm, "seed": s, "system": "generic", "family": f"f{f}", "id": f"f{f}/{i}",
                                 "correct_lenient": float(rng.random() < p), "chance": 0.0})
    return pd.DataFrame(rows)


def test_the_paired_table_separates_an_effect_from_noise_and_says_what_it_resolved():
    pair = lambda *a, **k: study_analysis.paired_vs(_pooled(*a, **k).assign(cluster=lambda d: d.family), margin=0.1)  # noqa: E731
    none = pair(0.0, 0.05).iloc[0]
    assert none.lo < 0 < none.hi and none.verdict in ("not distinguishable", "equivalent within ±10 points")
    big = pair(0.3, 0.05).iloc[0]
    assert big.lo > 0.15 and big.verdict == "better"
    assert big.cluster_hi - big.cluster_lo > big.hi - big.lo  # a new family: 6 families, wider
    # training-seed noise widens the interval of the same effect
    quiet, loud = pair(0.1, 0.0, rng_seed=1).iloc[0], pair(0.1, 0.3, rng_seed=1).iloc[0]
    assert (loud.hi - loud.lo) > (quiet.hi - quiet.lo)
    text = study_analysis.conclusion(pair(0.0, 0.05).assign(group="g", demonstration=False),
                                     {"questions": {"g": {"half_width": 0.05, "mde": 0.07}}})
    assert "achieved resolution ±" in text and "planned ±5.0 (minimum detectable difference 7.0)" in text


def test_real_benchmarks_under_100_documents_are_a_demonstration_not_a_comparison():
    bench = _pooled(0.3, 0.0, n_fam=3, n_items=10).rename(columns={"correct_lenient": "acc_lenient", "family": "benchmark"})
    bench = bench.assign(acc_strict=0.0, format_ok=0.0)
    scores, paired = study_analysis.summary_tables({"benchmarks": bench})
    assert paired.verdict.str.startswith("demonstration only").all() and scores.demonstration.all()
    assert "too few to compare arms" in study_analysis.conclusion(paired)


def test_strategy_use_has_wilson_intervals_and_its_n():
    df = pd.DataFrame({"arm": ["recipe"] * 4, "family": ["f"] * 4, "seed": [1, 1, 2, 2],
                       "output": ["Let's solve this step by step.\n1. a\nAnswer: 1", "Answer: 2", "Answer: 3", "Answer: 4"]})
    rates = study_analysis.strategy_use_rates(df, {"recipe": {"f": "direct"}}, {}).iloc[0]
    assert (rates.k, rates.n) == (3, 4) and 0 < rates.lo < 0.75 < rates.hi <= 1


def test_strategy_use_shows_never_used_strategies_and_calls_no_layout_by_its_name(tmp_path):
    """Issue 27: every strategy of the catalogue is a column of 07's figure, a never-used one as zeros
    (so its red box is drawn too), and an answer without a recognisable layout is 'no layout' in the
    table and the figure alike, not 'no_answer' (its lenient score may still find an answer)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.patches import Rectangle

    from orca2_kit.study import figures
    from orca2_kit.strategies import STRATEGIES

    df = pd.DataFrame({"arm": ["recipe"] * 3, "family": ["passage_fact"] * 3,
                       "output": ["Answer: Lyon", "Lyon, I think", "1. read\n2. find\nAnswer: Lyon"]})
    use = study_analysis.strategy_use(df, {"recipe": {"passage_fact": "extract_generate"}}, {})
    assert set(use.used) == {"direct", "no layout", "step_by_step"} and "no_answer" not in set(use.used)
    fig, _ = figures.strategy_use_matrices(use, tmp_path / "use")
    ax = fig.axes[0]
    columns = [t.get_text() for t in ax.get_xticklabels()]
    assert set(STRATEGIES) <= set(columns) and "no layout" in columns and "no_answer" not in columns
    boxes = [p for p in ax.patches if isinstance(p, Rectangle) and p.get_edgecolor()[:3] == (1.0, 0.0, 0.0)]
    assert [b.get_x() for b in boxes] == [columns.index("extract_generate")]  # asked, never used: still boxed


@pytest.mark.slow
def test_the_smoke_study_against_a_real_teacher_then_a_rerun_sends_nothing(server, tmp_path):
    """Every arm of the smoke study, its teacher a real `transformers serve` behind a counting proxy:
    the teacher answers each distinct conversation once across all arms, every arm gets paired
    intervals, and a rerun of the finished study sends 0 requests and trains nothing."""
    with FaultProxy(server["url"], fault_rate=0.0) as proxy:
        profile = tmp_path / "smoke-study.yaml"
        profile.write_text(yaml.safe_dump({
            "extends": str(PARAMS_DIR / "smoke.yaml"), "profile": "smoke-study",
            "teacher": {"kind": "openai", "base_url": proxy.url + "/v1", "model": server["model"],
                        "api_key_env": None, "max_tokens": 24, "max_concurrency": 4, "verify": "none"}}))
        args = [sys.executable, "-m", "orca2_kit", "study", "--profile", str(profile), "--out", str(tmp_path / "out"),
                "--run-id", "st"]
        first = subprocess.run(args, capture_output=True, text=True, cwd=ROOT, timeout=3000)
        assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
        run_dir = tmp_path / "out" / "smoke-study" / "st"
        out = run_dir / "07_ablation"

        # one request per distinct conversation, across arms (recipe and not_erased share a map)
        convs = set()
        for f in (out / "teacher").glob("*/answers.jsonl"):
            convs |= {(r["instruction"], r["prompt"]) for r in map(json.loads, f.open())}
        assert sum(proxy.forwarded.values()) == len(convs) and max(proxy.forwarded.values()) == 1
        assert len(list((out / "teacher").glob("*/answers.jsonl"))) == 3  # selected (= expected), direct, step_by_step

        metrics = json.loads((out / "metrics.json").read_text())
        # 01 kept every expected strategy, so expected_map would train exactly like recipe: not trained again
        assert metrics["twins"] == {"expected_map": "recipe"}
        trained = ["not_erased", "direct_only", "one_strategy"]
        for group in ("trained families", "never-trained families"):
            paired = {r["arm"]: r for r in metrics["paired"] if r["group"] == group}
            assert set(paired) == {"base", *trained}
            assert all(r["lo"] <= r["difference"] <= r["hi"] for r in paired.values())
            scored = {r["arm"]: r for r in metrics["scores"] if r["group"] == group}
            assert scored["recipe"]["seeds"] == 2 and scored["base"]["seeds"] == 1
        trained_at = {p: p.stat().st_mtime for p in out.glob("arms/*/seed-*/04_sft_training/train_metrics.json")}
        assert len(trained_at) == 4 * 2 and not (out / "arms" / "expected_map").exists()

        forwarded = sum(proxy.forwarded.values())
        again = subprocess.run([sys.executable, "-m", "orca2_kit", "study", "--resume", str(run_dir)],
                               capture_output=True, text=True, cwd=ROOT, timeout=1200)
        assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
        assert sum(proxy.forwarded.values()) == forwarded and proxy.counts["forward"] == forwarded  # 0 new requests
        assert {p: p.stat().st_mtime for p in trained_at} == trained_at  # nothing retrained
        nb = (run_dir / "notebooks" / "07_ablation.ipynb").read_text()
        assert "trained already, reused" in nb and "training on" not in nb


def test_the_conclusion_names_the_claim_each_verdict_bears_on():
    """arm = recipe minus one part: an arm worse than the recipe supports that part's claim, a better
    one contradicts it, and an undecided one says how many items would decide it."""
    def one(arm, effect, noise=0.05, n_items=20):
        p = study_analysis.paired_vs(_pooled(effect, noise, n_items=n_items).replace({"arm": {"arm": arm}})
                                     .assign(cluster=lambda d: d.family), margin=0.1)
        return study_analysis.conclusion(p.assign(group="g", demonstration=False), {"margin": 0.1})

    assert "(contradicts: prompt erasure" in one("not_erased", 0.3)
    assert "(supports: teaching reasoning strategies" in one("direct_only", -0.3)
    undecided = one("one_strategy", 0.0, n_items=5)
    assert "not distinguishable" in undecided and "(cannot decide 'a strategy chosen per task" in undecided
    assert "needs about" in undecided and "items or more" in undecided
