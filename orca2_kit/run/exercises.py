"""The notebooks' "Try it" exercises, as data: `notebooks/exercises.yaml`.

Each exercise changes a few params, names the stages to rerun and states the expected effect.
`python -m orca2_kit run --resume RUN --exercise 04.1` runs it into `RUN/exercises/04.1/`: the
stages before the exercise's first stage are linked from RUN (not rerun, not copied), so RUN's own
results stay as they were and the sub-run's report sets the two side by side.
"""
from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from orca2_kit.config import ConfigError, dump_params, load_params
from orca2_kit.run.manifest import read_manifest, write_manifest
from orca2_kit.pipeline import STAGES, STUDY, stage_name
from orca2_kit.paths import NOTEBOOKS_DIR

EXERCISES = NOTEBOOKS_DIR / "exercises.yaml"


@dataclass
class Exercise:
    id: str  # "<notebook number>.<n>", e.g. "04.1"
    title: str
    stages: list[str]  # what to rerun, in order (contiguous)
    overrides: dict = field(default_factory=dict)  # dotted keys, as in a notebook: {"train.lora_r": 4}
    predict: str = ""  # the question asked before rerunning
    expect: str = ""  # the expected effect, stated
    watch: list[str] = field(default_factory=list)  # metrics to compare, "stage:key" (e.g. "05:summary")


def load_exercises(path: Path = EXERCISES) -> dict[str, Exercise]:
    out = {}
    for row in yaml.safe_load(Path(path).read_text()):
        ex = Exercise(**row)
        ex.stages = [stage_name(s) for s in ex.stages]
        idx = [pipeline_of(ex).index(s) for s in ex.stages]
        if idx != list(range(idx[0], idx[0] + len(idx))):
            raise ConfigError(f"exercise {ex.id}: stages must be consecutive, got {ex.stages}")
        out[ex.id] = ex
    return out


def pipeline_of(ex: Exercise) -> tuple:
    """The stages an exercise's run has: the study's (01, 07) for a study exercise, else the six."""
    return STUDY if "07_ablation" in ex.stages else STAGES


def get_exercise(ex_id: str) -> Exercise:
    exercises = load_exercises()
    if ex_id not in exercises:
        raise ConfigError(f"unknown exercise '{ex_id}'; exercises are {', '.join(exercises)}")
    return exercises[ex_id]


def prepare_subrun(run_dir: str | Path, ex_id: str, overrides: list[str]) -> tuple[Path, list[str]]:
    """Make RUN/exercises/ID: the earlier stages linked, params with the exercise's overrides
    (then the command line's). Returns the sub-run directory and the stages to run."""
    ex = get_exercise(ex_id)
    run_dir = Path(run_dir).resolve()
    if not (run_dir / "params.yaml").is_file():
        raise ConfigError(f"--exercise: '{run_dir}' is not a run directory (no params.yaml)")
    parent = read_manifest(run_dir)
    pipeline = pipeline_of(ex)
    before = pipeline[:pipeline.index(ex.stages[0])]
    missing = [s for s in before if parent.get("stages", {}).get(s, {}).get("status") != "ok"]
    if missing:
        raise ConfigError(f"exercise {ex.id} starts at {ex.stages[0]}; run {', '.join(missing)} in {run_dir} first")
    # validate before touching anything: the exercise's overrides, then the command line's
    params = load_params(run_dir / "params.yaml", [f"{k}={json.dumps(v)}" for k, v in ex.overrides.items()] + overrides)
    if params.teacher.cache_path is None:  # keep answering from the run's cache, not a new one
        from orca2_kit.run.bundle import teacher_cache_file

        params.teacher.cache_path = str(teacher_cache_file(params, run_dir))
    sub = run_dir / "exercises" / ex.id
    shutil.rmtree(sub, ignore_errors=True)  # an exercise is rerun from scratch
    (sub / "figures").mkdir(parents=True)
    for s in before:
        (sub / s).symlink_to(run_dir / s, target_is_directory=True)
        for fig in (run_dir / "figures").glob(f"{s[:2]}_*"):
            shutil.copy2(fig, sub / "figures" / fig.name)
    dump_params(params, sub / "params.yaml")
    write_manifest(sub, {
        "run_id": f"{run_dir.name}/exercises/{ex.id}", "profile": params.profile,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "exercise": {"id": ex.id, "title": ex.title, "overrides": ex.overrides, "extra_overrides": overrides,
                     "expect": ex.expect, "predict": ex.predict, "watch": ex.watch, "parent": str(run_dir)},
        "stages": {s: {**parent["stages"][s], "linked_from_parent": True} for s in before}})
    return sub, ex.stages


def compare(sub_dir: str | Path) -> list[dict]:
    """The watched metrics of an exercise sub-run beside its parent run's."""
    sub_dir = Path(sub_dir)
    info = read_manifest(sub_dir).get("exercise") or {}
    parent = Path(info.get("parent", ""))
    rows = []
    for w in info.get("watch", []):
        stage, key = w.split(":", 1)
        s = stage_name(stage)
        before, after = (_metric(d / s / "metrics.json", key) for d in (parent, sub_dir))
        rows.append({"metric": f"{s[:2]} {key}", "run": before, "exercise": after})
    return rows


def _metric(path: Path, key: str):
    if not path.is_file():
        return None
    value = json.loads(path.read_text())
    for k in key.split("."):
        value = value.get(k) if isinstance(value, dict) else None
    return value
