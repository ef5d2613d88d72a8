"""Stage 01 (notebook 01_strategy_selection): which solution strategy suits the student, per task family.

    choose.py  the strategy grid (the base student answers the dev split once per strategy) and the
               rule that keeps a family's expected strategy unless another beats it with a paired interval
    probe.py   rule 'probe': what the student can *learn* in each strategy (a short LoRA per strategy)
"""
from orca2_kit.selection.choose import (  # noqa: F401
    METRIC, accuracy_table, cell_table, choose_expected, choose_strategies, grid_budgets, paired_gain,
    run_strategy_grid, select, selection_budgets, summary)
