"""The study's power, stated before any arm trains: the smallest paired difference its design can
detect (80% power, two-sided 5%), from its shape and stated assumptions.

The variance of an arm-minus-recipe difference over n items of fixed families, S training seeds
per arm (orca2_kit/study/intervals.py computes the same parts from the data afterwards):

    items:  tau^2 / n                    tau: spread of the true per-item difference between two arms
    seeds:  2 x (sigma_s^2 + v / n) / S   sigma_s: seed-to-seed spread of an arm's accuracy;
                                          v: answer-level variance (p(1-p), at most 0.25)

    MDE = (t_0.975 + t_0.80) x sqrt(items + seeds), t with Satterthwaite's degrees of freedom

More items shrink the first part only; the second shrinks only with more seeds, and its few degrees
of freedom widen the t quantiles: with three seeds per arm, seed noise is what limits the study.
The assumptions come from the profile (`study.planning`, stated values) or from a pilot run's own
outcomes (`estimate_from_run`), and are recorded with the plan.
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
    return {"items": a.item_sd ** 2 / n, "seeds_each_arm": (a.seed_sd ** 2 + a.answer_var / n) / seeds}


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


def estimate_from_run(run_dir: Path, trained_only: bool = True) -> Assumptions:
    """Planning values from an offline run's own outcomes (notebook 05's per-item rows): tau from
    the per-item difference of the student and the base model on the same items (an upper bound
    for two trained arms, which differ less than a trained student and its base), v from the
    outcomes' mean. One seed: the seed spread is not in such a run; the profile's stated value stays."""
    import pandas as pd

    path = Path(run_dir) / "05_benchmark_eval" / "samples.jsonl"
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: a pilot needs a finished run of notebook 05")
    s = pd.read_json(path, lines=True)
    if trained_only and "trained" in s:
        s = s[s.trained.astype(bool)]
    wide = s.pivot_table(index="id", columns=["model", "system"], values="correct_lenient")
    student = wide["student"].mean(axis=1)
    base = wide["base"].mean(axis=1)
    d = (student - base).dropna()
    p = float(s.correct_lenient.mean())
    return Assumptions(item_sd=float(d.std(ddof=1)), answer_var=p * (1 - p), seed_sd=float("nan"),
                       source=f"pilot: {Path(run_dir).name} (05's base vs student on {len(d)} items)")


def plan(p, n_trained: int, n_never: int, families_trained: int, families_never: int, pilot=None) -> dict:
    """The design and its power, per question (trained families: the headline; never-trained:
    zero-shot generalisation), for the record (manifest, plan.json) and the printout."""
    cfg = p.study.planning
    a = Assumptions(cfg.item_sd, cfg.answer_var, cfg.seed_sd, "profile (study.planning, stated)")
    if pilot is not None:
        est = estimate_from_run(pilot)
        a = Assumptions(est.item_sd, est.answer_var, cfg.seed_sd, f"{est.source}; seed_sd stated in the profile")
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
             f"answer-level variance {a['answer_var']:.2f}, seed-to-seed spread of an arm's accuracy {100 * a['seed_sd']:.1f} points"]
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
