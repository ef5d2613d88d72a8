"""`python -m orca2_kit learning-curve`: notebook 01 (the suite, with as many training items as the
largest size needs, and the strategy map), then the recipe's learning curve (orca2_kit/study/learning_curve.py),
its figure, and the size the profile's rule picks for the study."""
from __future__ import annotations

import json
import time

from orca2_kit.config import load_params
from orca2_kit.study import figures, learning_curve


def learning_curve_command(args, kw: dict) -> int:
    from orca2_kit.run.runner import run

    p = load_params(args.profile, args.overrides)
    overrides = list(args.overrides) + [f"tasks.n_train={max(p.study.learning_curve.sizes)}"]
    run_id = args.run_id or time.strftime("curve-%Y%m%d-%H%M%S")
    run_dir = run(args.profile, overrides, only="01", resume=args.resume, run_id=run_id, **kw)
    params = load_params(run_dir / "params.yaml")
    table = learning_curve.curve(params, run_dir)
    figures.learning_curve(table, run_dir / "figures" / "learning_curve")
    for row in table["sizes"]:
        seeds = ", ".join(f"{100 * v:.1f}" for v in row["seed_accuracy"].values())
        print(f"  {row['size']:4d} per family: dev accuracy {100 * row['accuracy']:.1f}% [{100 * row['lo']:.1f}, "
              f"{100 * row['hi']:.1f}] over {row['items']} items (seeds: {seeds}); training {row['train_s']:.0f} s")
    print(f"rule: {table['rule']}\npicked: {table['pick']} training items per family "
          f"(write it as tasks.n_train in the study profile)")
    for words in [learning_curve.seed_part_words(r) for r in table["sizes"]] + [learning_curve.budget_words(table)]:
        if words:
            print(words)
    (run_dir / "learning_curve" / "command.json").write_text(json.dumps({"profile": args.profile,
                                                                        "overrides": overrides}, indent=2))
    from orca2_kit.run.report import write_report

    print(f"report: {write_report(run_dir)}")  # the run's report, written after 01, now shows the curve too
    return 0
