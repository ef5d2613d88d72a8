"""The study's power, stated before any arm trains: the smallest paired difference its design can
detect (80% power, two-sided 5%), from its shape and stated assumptions.

The variance of an arm-minus-recipe difference over n items of fixed families, S training seeds
per arm, has the parts orca2_kit/study/intervals.py estimates from the data afterwards:

    items:  (d^2 - 2 v (1 - 1/S)) / n     d: spread of the per-item difference of two arms with one
                                           seed each; v: answer-level variance within an item across
                                           seeds (S seeds average it down)
    seeds:  2 x sigma_s^2 / S              sigma_s: seed-to-seed spread of an arm's accuracy

    MDE = (t_0.975 + t_0.80) x sqrt(items + seeds), t with Satterthwaite's degrees of freedom

More items shrink the first part only; the second shrinks only with more seeds, and its few degrees
of freedom widen the t quantiles. The assumptions come from the profile (`study.planning`, stated
values) or from a pilot run's own outcomes (`estimate_from_run`), and are recorded with the plan.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class Assumptions:
    item_sd: float  # tau, as a fraction (0.3 = 30 points)
    answer_var: float  # v
    seed_sd: float  # sigma_s, as a fraction
    source: str


def variance_parts(n: int, seeds: int, a: Assumptions) -> dict[str, float]:
    item = max(a.item_sd ** 2 - 2 * a.answer_var * (1 - 1 / seeds), 2 * a.answer_var / seeds)
    return {"items": item / n, "seeds_each_arm": a.seed_sd ** 2 / seeds}


def mde(n: int, families: int, seeds: int, a: Assumptions, power: float = 0.8, level: float = 0.95) -> dict:
    """The minimum detectable paired difference of one arm against the recipe, and its parts."""
    p = variance_parts(n, seeds, a)
    var = p["items"] + 2 * p["seeds_each_arm"]
    terms = p["items"] ** 2 / max(n - families, 1) + (2 * p["seeds_each_arm"] ** 2 / (seeds - 1) if seeds > 1 else 0.0)
    df = var ** 2 / terms if terms > 0 else np.inf
    q = stats.t.ppf(0.5 + level / 2, df) + stats.t.ppf(power, df)
    se = float(np.sqrt(var))
    return {"mde": float(q * se), "se": se, "half_width": float(stats.t.ppf(0.5 + level / 2, df) * se),
            "df": float(df), "n_items": n, "families": families, "seeds": seeds, "parts": p}


def estimate_from_run(run_dir: Path, trained_only: bool = True) -> float:
    """The per-item spread `item_sd` from an offline run's own outcomes (notebook 05's per-item
    rows): the student minus the base model on the same items, one seed each (an upper bound for two
    trained arms, which differ less than a trained student and its base). The answer-level variance
    and the seed spread need several seeds of one arm: they stay the profile's (or the learning
    curve's) values."""
    import pandas as pd

    path = Path(run_dir) / "05_benchmark_eval" / "samples.jsonl"
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: a pilot needs a finished run of notebook 05")
    s = pd.read_json(path, lines=True)
    if trained_only and "trained" in s:
        s = s[s.trained.astype(bool)]
    wide = s.pivot_table(index="id", columns=["model", "system"], values="correct_lenient")
    d = (wide["student"].mean(axis=1) - wide["base"].mean(axis=1)).dropna()
    return float(d.std(ddof=1))


def from_pilot(run_dir: Path, stated: Assumptions) -> Assumptions:
    """Planning values from a pilot folder: an offline run (notebook 05: item_sd) and/or a learning
    curve (several seeds of the recipe: answer_var and seed_sd at the size its rule picked); what
    the folder cannot tell stays as stated."""
    item_sd, var, sd, said = stated.item_sd, stated.answer_var, stated.seed_sd, []
    if (run_dir / "05_benchmark_eval" / "samples.jsonl").is_file():
        item_sd = estimate_from_run(run_dir)
        said.append("item_sd from 05's student vs base")
    curve = run_dir / "learning_curve" / "curve.json"
    if curve.is_file():
        table = json.loads(curve.read_text())
        row = next(r for r in table["sizes"] if r["size"] == table["pick"])
        if np.isfinite(row.get("seed_sd", np.nan)):
            var, sd = row["answer_var"], row["seed_sd"]
            said.append(f"answer_var and seed_sd from the learning curve's seeds at {row['size']} per family")
    if not said:
        raise FileNotFoundError(f"--pilot {run_dir}: neither 05_benchmark_eval/samples.jsonl nor learning_curve/curve.json")
    return Assumptions(item_sd, var, sd, f"pilot {run_dir.name}: " + "; ".join(said) + "; the rest stated in study.planning")


def plan(p, n_trained: int, n_never: int, families_trained: int, families_never: int, pilot=None) -> dict:
    """The design and its power, per question (trained families: the headline; never-trained:
    zero-shot generalisation), for the record (manifest, plan.json) and the printout."""
    cfg = p.study.planning
    a = Assumptions(cfg.item_sd, cfg.answer_var, cfg.seed_sd, "profile (study.planning, stated)")
    if pilot is not None:
        a = from_pilot(Path(pilot), a)
    trained_arms = [n for n in p.study.arms]
    seeds = len(p.study.seeds)
    return {"assumptions": asdict(a), "arms": trained_arms, "seeds": list(p.study.seeds),
            "items_per_family": p.tasks.n_test, "training_per_family": p.tasks.n_train,
            "margin": cfg.margin,
            "questions": {"trained families": mde(n_trained, families_trained, seeds, a),
                          "never-trained families": mde(n_never, families_never, seeds, a)}}


def describe(plan_: dict) -> str:
    """The plan in words, printed before any arm trains."""
    a = plan_["assumptions"]
    lines = [f"study design: arms {', '.join(plan_['arms'])} (+ base), seeds {plan_['seeds']}, "
             f"{plan_['items_per_family']} test items per family, {plan_['training_per_family']} training items per family",
             f"assumptions ({a['source']}): per-item spread of an arm-minus-recipe difference {100 * a['item_sd']:.0f} points, "
             f"answer-level variance within an item across seeds {a['answer_var']:.2f}, seed-to-seed spread of an arm's "
             f"accuracy {100 * a['seed_sd']:.1f} points"]
    for q, m in plan_["questions"].items():
        lines.append(f"  {q}: {m['n_items']} items in {m['families']} families -> 95% interval about ±{100 * m['half_width']:.1f} "
                     f"points; minimum detectable difference (80% power, two-sided 5%) {100 * m['mde']:.1f} points")
    lines.append(f"  a difference whose interval lies inside ±{100 * plan_['margin']:.0f} points is reported as equivalent "
                 "within that margin; one whose interval holds 0 but reaches past it, as not distinguishable")
    return "\n".join(lines)


def write(plan_: dict, path: Path) -> Path:
    path.write_text(json.dumps(plan_, indent=2))
    return path


def design_counts(p) -> tuple[int, int, int, int]:
    """(trained items, never-trained items, trained families, never-trained families) of the profile's suite."""
    from orca2_kit.tasks import family_names

    fams = family_names(p.tasks.families) if p.tasks.source == "builtin" else []
    never = [f for f in fams if f in p.tasks.heldout_families]
    trained = [f for f in fams if f not in never]
    return len(trained) * p.tasks.n_test, len(never) * p.tasks.n_test, len(trained), len(never)


def for_profile(p, pilot=None) -> dict:
    n_t, n_n, f_t, f_n = design_counts(p)
    return plan(p, n_t, n_n, f_t, f_n, pilot)


def print_plan(p, pilot=None) -> int:
    """`python -m orca2_kit study --plan-only`: the design and its power, nothing trained."""
    print(describe(for_profile(p, pilot)))
    return 0
