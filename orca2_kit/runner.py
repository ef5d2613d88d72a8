"""The runner: validate a profile, then execute the six notebooks in order with papermill.

Everything a run makes goes to outputs/<profile>/<run-id>/: executed notebooks, each stage's
artifacts, figures, params.yaml (the resolved profile) and manifest.json. Notebooks receive only
two paths as parameters — never a secret; keys stay in the environment.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Optional

from .config import ConfigError, Params, dump_params, load_params
from .manifest import git_state, hash_tree, model_hash, read_manifest, secret_values, versions, write_manifest
from .stages import STAGES, stage_name

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"


class StageFailed(RuntimeError):
    pass


def preflight(params: Params, overrides: list[str]) -> None:
    """Cheap checks that would otherwise fail deep inside a notebook."""
    import os

    leaked = [o for o in overrides for s in secret_values() if s in o]
    if leaked:
        raise ConfigError("an override contains the value of a credential environment variable; pass the "
                          "variable's NAME (teacher.api_key_env), never the key itself")
    t = params.teacher
    if t.kind == "openai" and not t.replay_only and t.api_key_env and not os.environ.get(t.api_key_env):
        raise ConfigError(f"teacher.api_key_env: environment variable {t.api_key_env} is not set "
                          "(export it, or use teacher.replay_only: true with a cache file)")
    if t.replay_only and t.kind == "openai" and t.cache_path and not Path(t.cache_path).expanduser().is_file():
        raise ConfigError(f"teacher.cache_path: replay-only mode needs an existing cache file, got '{t.cache_path}'")


def select_stages(only: Optional[str], start: Optional[str]) -> list[str]:
    if only:
        return [stage_name(only)]
    first = STAGES.index(stage_name(start)) if start else 0
    return list(STAGES[first:])


def run(profile: str, overrides: Optional[list[str]] = None, only: Optional[str] = None, start: Optional[str] = None,
        resume: Optional[str] = None, run_id: Optional[str] = None, out_root: str | Path = ROOT / "outputs",
        log=print, exercise: Optional[str] = None) -> Path:
    """Run stages; return the run directory. Raises StageFailed naming the executed notebook."""
    import papermill as pm

    overrides = list(overrides or [])
    if exercise:  # a "Try it" exercise: its own sub-run inside the run it starts from
        if not resume:
            raise ConfigError("--exercise needs --resume RUN_DIR: the run whose results the exercise starts from")
        from .exercises import prepare_subrun

        resume, exercise_stages = prepare_subrun(resume, exercise, overrides)
    if resume:
        run_dir = Path(resume).resolve()
        if not (run_dir / "params.yaml").is_file():
            raise ConfigError(f"--resume: '{run_dir}' is not a run directory (no params.yaml)")
        params = load_params(run_dir / "params.yaml", overrides)
        if start is None and only is None:  # continue after the last stage that finished
            done = [s for s, v in read_manifest(run_dir).get("stages", {}).items() if v.get("status") == "ok"]
            start = STAGES[min(len(STAGES) - 1, max([STAGES.index(s) + 1 for s in done], default=0))]
    else:
        params = load_params(profile, overrides)
        run_id = run_id or time.strftime("%Y%m%d-%H%M%S")
        run_dir = (Path(out_root) / params.profile / run_id).resolve()
        run_dir.mkdir(parents=True, exist_ok=False)
    preflight(params, overrides)
    stages = exercise_stages if exercise else select_stages(only, start)
    params_path = dump_params(params, run_dir / "params.yaml")
    (run_dir / "notebooks").mkdir(exist_ok=True)
    manifest = read_manifest(run_dir) or {
        "run_id": run_dir.name, "profile": params.profile, "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "stages": {}}
    manifest.update({"params": params.model_dump(mode="json"), "seed": params.seed, "versions": versions(),
                     "git": git_state(ROOT)})
    write_manifest(run_dir, manifest)
    log(f"orca2-kit: profile '{params.profile}', run dir {run_dir}")
    for i, stage in enumerate(stages, 1):
        src, dst = NOTEBOOKS / f"{stage}.ipynb", run_dir / "notebooks" / f"{stage}.ipynb"
        log(f"[{i}/{len(stages)}] {stage} ...")
        t0 = time.time()
        manifest["stages"][stage] = {"status": "running", "notebook": str(dst.relative_to(run_dir))}
        write_manifest(run_dir, manifest)
        try:
            pm.execute_notebook(str(src), str(dst), parameters={"params_path": str(params_path), "run_dir": str(run_dir)},
                                cwd=str(NOTEBOOKS), kernel_name="python3", progress_bar=True, log_output=False)
        except Exception as e:
            manifest["stages"][stage].update(status="failed", wall_s=round(time.time() - t0, 1), error=str(e)[-2000:])
            write_manifest(run_dir, manifest)
            _report(run_dir, log)
            raise StageFailed(f"stage {stage} failed; the executed notebook with the error is {dst}\n"
                              f"{_last_error(e)}\nfix it, then resume: python -m orca2_kit run --resume {run_dir}") from None
        wall = round(time.time() - t0, 1)
        manifest["stages"][stage].update(status="ok", wall_s=wall)
        write_manifest(run_dir, manifest)
        log(f"[{i}/{len(stages)}] {stage} done in {wall:.0f} s")
    manifest["artifacts"] = hash_tree(run_dir, skip=("notebooks", "manifest.json", "report.html", "exercises"))
    train_metrics = run_dir / "04_sft_training" / "train_metrics.json"
    if train_metrics.is_file():  # the one chat template used to train and to evaluate
        import json

        manifest["chat_template_hash"] = json.loads(train_metrics.read_text()).get("template_hash")
    from .models import student_path

    student = student_path(params.student)
    manifest["student_model"] = {"path": student, "hashes": model_hash(student)}
    write_manifest(run_dir, manifest)
    total = sum(v.get("wall_s", 0) for v in manifest["stages"].values())
    log(f"orca2-kit: finished in {total:.0f} s of notebook time; manifest {run_dir / 'manifest.json'}")
    _report(run_dir, log)
    return run_dir


def _report(run_dir: Path, log=print) -> None:
    """report.html beside the manifest; a broken report never fails a finished run."""
    from .report import write_report

    try:
        log(f"orca2-kit: report {write_report(run_dir)}")
    except Exception as e:  # noqa: BLE001
        log(f"orca2-kit: warning: the report could not be written ({type(e).__name__}: {e}); "
            f"retry with: python -m orca2_kit report {run_dir}")


def _last_error(e: Exception) -> str:
    lines = [ln for ln in str(e).splitlines() if ln.strip()]
    return "\n".join(lines[-3:])
