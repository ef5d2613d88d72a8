"""Stage 02's work on a run folder, one function for its two callers: notebook 02 and the study (07).

The train items and the strategy map come from stage 01's folder; the teacher's verified answers go
to `out` (the stage's own folder by default). The response cache is the profile's
(`outputs/<profile>/teacher_cache.sqlite` unless `teacher.cache_path` says otherwise), so the study
never pays again for an answer stage 02 bought, and the spend ledger is the run's, so one
`teacher.budget_usd` caps the whole run, study included.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import pandas as pd

from orca2_kit.strategies import strategy_map as resolve_map
from orca2_kit.tasks import load_items
from orca2_kit.teacher.answers import run_teacher

STAGE_DIR = "02_teacher_prompting"


def selected_map(run_dir: Path) -> dict[str, str]:
    """The strategy map notebook 01 chose in this run folder."""
    return json.loads((Path(run_dir) / "01_strategy_selection" / "strategy_map.json").read_text())


def cache_path(cfg, run_dir: Path) -> Path:
    """The teacher's response cache: `teacher.cache_path`, else one per profile beside its runs."""
    return Path(cfg.cache_path) if cfg.cache_path else Path(run_dir).resolve().parent / "teacher_cache.sqlite"


def ledger_path(run_dir: Path) -> Path:
    """The run's spend ledger: every teacher call of the run (stage 02, the study's arms) books here."""
    return Path(run_dir) / STAGE_DIR / "spend.json"


def answer_train_items(params, run_dir: Path, out: Optional[Path] = None) -> tuple[pd.DataFrame, dict[str, str]]:
    """The teacher's answers to the run's train items under the strategy map `params.teacher`
    asks for (measured: 01's; expected; or one strategy for all); returns (answers, map)."""
    run_dir = Path(run_dir)
    train_items = load_items(run_dir / "01_strategy_selection" / "suite" / "train.jsonl")
    smap = resolve_map(params.teacher.strategy_map, selected_map(run_dir))
    ledger_path(run_dir).parent.mkdir(parents=True, exist_ok=True)
    answers = run_teacher(params.teacher, train_items, smap, out or run_dir / STAGE_DIR,
                          cache=cache_path(params.teacher, run_dir), ledger=ledger_path(run_dir))
    return answers, smap
