"""What a notebook works with: `open_stage` validates params, seeds everything and makes the stage's
folder under the run directory; the stage's handle finds earlier stages' files and writes metrics."""
from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

from orca2_kit.pipeline import stage_name
from orca2_kit.run.lock import hold_for_notebook



@dataclass
class Stage:
    """What a notebook works with: validated params, its own output folder, the run's figures."""

    params: object
    run_dir: Path
    name: str

    @property
    def out(self) -> Path:
        return self.run_dir / self.name

    @property
    def figures(self) -> Path:
        return self.run_dir / "figures"

    def artifact(self, stage: str, *parts: str) -> Path:
        """A file of an earlier stage; a clear error if that stage has not run in this run dir."""
        path = self.run_dir.joinpath(stage_name(stage), *parts)
        if not path.exists():
            raise FileNotFoundError(f"{path} is missing: run stage {stage_name(stage)} first "
                                    f"(python -m orca2_kit run --profile {self.params.profile} --resume {self.run_dir})")
        return path

    def write_metrics(self, metrics: dict) -> None:
        """Each notebook ends by writing its headline numbers; tests and the report read them. Silent:
        the numbers are on the page above, and a file path is nothing a reader needs there."""
        (self.out / "metrics.json").write_text(json.dumps(metrics, indent=2, sort_keys=True, default=float))


def open_stage(name: str, params_path: str, run_dir: str, overrides: list[str] | None = None) -> Stage:
    """The first call of every notebook: validate params, take the run folder's lock (a notebook run
    by hand; under the runner, the runner holds it), seed everything, make the folders."""
    from orca2_kit.config import load_params

    params = load_params(params_path, overrides or [])
    stage = Stage(params=params, run_dir=Path(run_dir).resolve(), name=stage_name(name))
    stage.run_dir.mkdir(parents=True, exist_ok=True)
    hold_for_notebook(stage.run_dir)  # never beside a runner: they would share spend.json and the stage folders
    seed_everything(params.seed)
    stage.out.mkdir(parents=True, exist_ok=True)
    stage.figures.mkdir(parents=True, exist_ok=True)
    return stage


def seed_everything(seed: int) -> None:
    import numpy as np

    random.seed(seed)
    np.random.seed(seed)
    try:
        import torch

        torch.manual_seed(seed)
    except ImportError:
        pass
