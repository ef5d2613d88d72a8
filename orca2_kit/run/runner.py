"""The runner: validate a profile, then execute the six notebooks in order with papermill.

Everything a run makes goes to outputs/<profile>/<run-id>/: executed notebooks, each stage's
artifacts, figures, params.yaml (the resolved profile) and manifest.json. Notebooks receive only
two paths as parameters — never a secret; keys stay in the environment.
"""
from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import Optional

from orca2_kit.config import ConfigError, Params, dump_params, load_params
from orca2_kit.run.data import announce as announce_data
from orca2_kit.fingerprint import hash_tree, model_hash
from orca2_kit.run.manifest import git_state, read_manifest, secret_values, versions
from orca2_kit.run.manifest import write_manifest as _write_manifest
from orca2_kit.run.interrupts import stop_on_signals
from orca2_kit import machine
from orca2_kit.run import kernels
from orca2_kit.run import records, tidy
from orca2_kit.run.lock import RunLock
from orca2_kit.pipeline import STAGES, stage_name
from orca2_kit.paths import REPO

ROOT = REPO
NOTEBOOKS = ROOT / "notebooks"


class StageFailed(RuntimeError):
    pass


def preflight(params: Params, overrides: list[str], stages=STAGES, run_dir: Optional[Path] = None) -> None:
    """Cheap checks that would otherwise fail deep inside a notebook, before any folder or kernel."""
    import os

    leaked = [o for o in overrides for s in secret_values() if s in o]
    if leaked:
        raise ConfigError("an override contains the value of a credential environment variable; pass the "
                          "variable's NAME (teacher.api_key_env), never the key itself")
    refuse_secrets(params, {"run_dir": str(run_dir), "params_path": str(run_dir / "params.yaml")} if run_dir else {})
    t = params.teacher
    if "02_teacher_prompting" in stages and t.kind == "openai" and not t.replay_only and t.api_key_env \
            and not os.environ.get(t.api_key_env):
        raise ConfigError(f"teacher.api_key_env: environment variable {t.api_key_env} is not set "
                          "(export it, or use teacher.replay_only: true with a cache file)")
    for key, env in needed_keys(params, stages):  # found now, not after hours of earlier stages
        if not os.environ.get(env):
            raise ConfigError(f"{key}.api_key_env: environment variable {env} is not set (export it; for a server on "
                              f"this machine set {key}.api_key_env: null; or leave {key} out)")
    if t.replay_only and t.kind == "openai" and t.cache_path and not Path(t.cache_path).expanduser().is_file():
        raise ConfigError(f"teacher.cache_path: replay-only mode needs an existing cache file, got '{t.cache_path}'")
    if "02_teacher_prompting" in stages and t.kind == "openai" and not (t.replay_only or t.dry_run):
        check_endpoint("teacher.base_url", t.base_url)
    if params.device == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise ConfigError("device: 'cuda' was asked for but no CUDA GPU is visible; use device: auto or cpu")
    if params.tasks.source == "file":  # a bad task file fails here, not in notebook 01
        import datasets

        from orca2_kit.tasks import load_suite

        datasets.disable_progress_bars()  # only the one line, if it fails
        try:
            suite = load_suite(params.tasks, params.seed)
        except (ValueError, KeyError, FileNotFoundError) as e:
            raise ConfigError(str(e) if str(e).startswith("tasks.") else f"tasks.path: {e}") from None
        finally:
            datasets.enable_progress_bars()
        if not suite["train"] or not suite["dev"]:  # 01 picks strategies on dev, 02 answers train
            raise ConfigError(f"tasks.path: the collection has {len(suite['train'])} train and {len(suite['dev'])} "
                              "dev rows; both splits need rows (give rows a split column, or add rows)")
    check_chat_template(params)
    if run_dir is not None and run_dir.exists():
        check_writable(run_dir)


def needed_keys(params: Params, stages=STAGES) -> list[tuple[str, str]]:
    """(params key, environment variable) for every API key the stages will read, besides the
    teacher's: the hallucination judge (06), the harness's chat endpoint and MT-Bench judge (05;
    a server on this machine gets a dummy key, so only remote ones need a real one)."""
    from orca2_kit.config import is_loopback

    out = []
    j = params.hallucination.judge
    if "06_hallucination" in stages and j is not None and j.api_key_env:
        out.append(("hallucination.judge", j.api_key_env))
    h = params.eval.harness
    if "05_benchmark_eval" in stages:
        if h.backend == "chat" and h.endpoint.api_key_env and not is_loopback(h.endpoint.base_url):
            out.append(("eval.harness.endpoint", h.endpoint.api_key_env))
        mt_bench = h.benchmarks == "available" or "mt_bench" in h.benchmarks
        if mt_bench and h.judge.base_url and h.judge.api_key_env and not is_loopback(h.judge.base_url):
            out.append(("eval.harness.judge", h.judge.api_key_env))
    return out


# Shapes of well-known credentials (OpenAI, Anthropic, Hugging Face, GitHub, AWS, Slack, Google, JWT)
# and passwords inside URLs. Params never need one: keys come from the variable `*.api_key_env` names.
SECRET_SHAPES = re.compile(r"\b(sk-[A-Za-z0-9_-]{16,}|hf_[A-Za-z0-9]{20,}|gh[pousr]_[A-Za-z0-9]{20,}|"
                           r"github_pat_\w{20,}|AKIA[0-9A-Z]{16}|xox[abprs]-[A-Za-z0-9-]{10,}|AIza[\w-]{35}|"
                           r"eyJ[\w-]{10,}\.[\w-]{10,}\.[\w-]+)|://[^/\s:@]+:[^/\s@]+@")


def refuse_secrets(params: Params, notebook_parameters: dict) -> None:
    """Keys live only in environment variables named in params: refuse a secret anywhere in the
    resolved params (they are written to params.yaml, the manifest and every executed notebook) or
    in the notebooks' papermill parameters."""
    import os

    def walk(node, key=""):
        if isinstance(node, dict):
            for k, v in node.items():
                yield from walk(v, f"{key}.{k}" if key else str(k))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                yield from walk(v, f"{key}[{i}]")
        elif isinstance(node, str):
            yield key, node

    dumped = params.model_dump(mode="json")
    named = {v for k, v in walk(dumped) if k.endswith("api_key_env")}
    values = secret_values() | {os.environ[n] for n in named if len(os.environ.get(n) or "") >= 8}
    found = [(f"papermill parameter '{k}'", v) for k, v in notebook_parameters.items()] + list(walk(dumped))
    for key, value in found:
        if any(s in value for s in values) or SECRET_SHAPES.search(value):
            raise ConfigError(f"{key} holds what looks like a secret (an API key or password); secrets are "
                              "read only from the environment variable named by *.api_key_env, never passed "
                              "as params or notebook parameters — remove it")


def check_endpoint(key: str, base_url: Optional[str], timeout: float = 5.0) -> None:
    """Can we open a connection to the endpoint at all? (Nothing is sent.)"""
    import socket
    from urllib.parse import urlsplit

    url = base_url or "https://api.openai.com/v1"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{key}: '{url}' is not an http(s) URL (e.g. http://127.0.0.1:8000/v1)")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        socket.create_connection((parts.hostname, port), timeout=timeout).close()
    except OSError as e:
        why = "connection refused" if isinstance(e, ConnectionRefusedError) else \
            f"no answer in {timeout:.0f} s" if isinstance(e, TimeoutError) else (e.strerror or str(e))
        raise ConfigError(f"{key}: cannot connect to {url} ({why}); start the server or fix the URL "
                          "(or set teacher.replay_only: true to answer from a cache file)") from None


def check_chat_template(params: Params) -> None:
    """The recipe gives the student system messages (strategy instructions, erasure, evaluation):
    its chat template must have a system slot. Loads the tokenizer only, never the model."""
    from orca2_kit.generation import system_slot_problem
    from orca2_kit.models import load_tokenizer, student_path

    path = student_path(params.student)
    try:
        tok = load_tokenizer(path, params.student.revision)
    except Exception as e:  # noqa: BLE001 (missing files, no template, hub errors: all one line)
        why = str(e).splitlines()[0] if str(e) else type(e).__name__
        if Path(path).is_dir() and not any(Path(path).glob("tokenizer*")):
            why = "the folder has no tokenizer files (tokenizer.json, tokenizer_config.json)"
        raise ConfigError(f"student: cannot load the tokenizer of '{path}': {why}") from None
    why = system_slot_problem(tok)
    if why:
        raise ConfigError(f"student: the chat template of '{path}' has no system slot ({why}); the recipe needs "
                          "system messages — use a chat model whose template has a system role")


class OutputNotWritable(StageFailed):
    """The run directory cannot be written (read-only, disk full): nothing already there is touched."""


def write_manifest(run_dir: Path, manifest: dict) -> Path:
    """manifest.write_manifest (atomic), with the clear error when the disk is read-only or full."""
    try:
        return _write_manifest(run_dir, manifest)
    except OSError as e:
        check_writable(run_dir, e.strerror or "")
        raise


def check_writable(run_dir: Path, cause: str = "", probe_bytes: int = 1 << 16) -> None:
    """Raise OutputNotWritable if a probe file cannot be written, or if `cause` (a stage's error)
    is a full disk — the stage's own traceback is then only a symptom."""
    import os

    probe = run_dir / ".orca2-write-probe"
    try:
        for full in ("No space left on device", "Disk quota exceeded"):
            if full in cause:
                raise OSError(full, full)
        with open(probe, "wb") as f:
            f.write(b"\0" * probe_bytes)
            f.flush()
            os.fsync(f.fileno())
    except OSError as e:
        raise OutputNotWritable(f"cannot write to the run directory {run_dir} ({e.strerror}); what earlier stages "
                                "wrote is kept — free disk space or make it writable, then resume: "
                                f"python -m orca2_kit run --resume {run_dir} (a study: study --resume)") from None
    finally:
        try:
            probe.unlink()
        except OSError:
            pass


def select_stages(only: Optional[str], start: Optional[str], pipeline: tuple = STAGES) -> list[str]:
    try:
        if only:
            return [stage_name(only)]
        first = pipeline.index(stage_name(start)) if start else 0
    except ValueError as e:
        raise ConfigError(f"--{'only' if only else 'from'}: {e} (this command runs {', '.join(pipeline)})") from None
    return list(pipeline[first:])


class Interrupted(StageFailed):
    """SIGINT or SIGTERM: the running stage was stopped, the manifest says so, the report is written."""


def run(profile: str, overrides: Optional[list[str]] = None, only: Optional[str] = None, start: Optional[str] = None,
        resume: Optional[str] = None, run_id: Optional[str] = None, out_root: str | Path = ROOT / "outputs",
        log=print, exercise: Optional[str] = None, pipeline: tuple = STAGES) -> Path:
    """Run stages; return the run directory. Raises StageFailed naming the executed notebook.

    With `resume` (and neither `only` nor `start`), each stage's recorded results are reused when
    its fingerprint (the params it depends on, and its inputs') matches, and it runs again when it
    did not finish or its fingerprint changed, with everything downstream; the log says why. A
    rerun of a finished run with unchanged params runs nothing. `only`/`start` run the stages named.
    """
    overrides = list(overrides or [])
    if exercise:  # a "Try it" exercise: its own sub-run inside the run it starts from
        if not resume:
            raise ConfigError("--exercise needs --resume RUN_DIR: the run whose results the exercise starts from")
        from orca2_kit.run.exercises import prepare_subrun

        resume, exercise_stages = prepare_subrun(resume, exercise, overrides)
    why: dict[str, Optional[str]] = {}
    if resume:
        run_dir = Path(resume).resolve()
        if not (run_dir / "params.yaml").is_file():
            raise ConfigError(f"--resume: '{run_dir}' is not a run directory (no params.yaml)")
        params = load_params(run_dir / "params.yaml", overrides)
        why = records.plan(params, read_manifest(run_dir))
        if exercise:
            stages = exercise_stages
        elif start is None and only is None:  # every stage whose recorded results cannot be reused
            stages = [s for s in pipeline if why.get(s, True)]  # 07 (the study) always: it reuses its arms itself
        else:
            stages = select_stages(only, start, pipeline)
    else:
        params = load_params(profile, overrides)
        run_id = run_id or time.strftime("%Y%m%d-%H%M%S")
        run_dir = (Path(out_root) / params.profile / run_id).resolve()
        stages = select_stages(only, start, pipeline)
    preflight(params, overrides, stages, run_dir)  # before any folder is made or kernel started
    if not resume:
        try:
            run_dir.mkdir(parents=True, exist_ok=False)
        except FileExistsError:
            raise ConfigError(f"--run-id: the run directory {run_dir} already exists; choose another run id, "
                              f"or continue it with --resume {run_dir}") from None
        except OSError as e:
            raise OutputNotWritable(f"cannot create the run directory {run_dir} ({e.strerror}); choose another --out") from None
    lock = RunLock(run_dir).acquire(log)  # one runner per run folder
    try:  # the notebooks' kernels inherit the lock's token: they hold this folder through the runner
        with lock.lent_to_children(), stop_on_signals(log) as interrupted:
            return _run_stages(params, run_dir, stages, why, bool(resume), log, interrupted, pipeline)
    finally:
        lock.release()


def _run_stages(params: Params, run_dir: Path, stages: list[str], why: dict, resumed: bool, log, interrupted: dict,
                pipeline: tuple = STAGES) -> Path:
    import papermill as pm

    command = "study" if "07_ablation" in pipeline else "run"
    if resumed:
        for s in pipeline:
            if s in stages:
                log(f"orca2-kit: {s}: runs" + (f" ({why[s]})" if why.get(s) else ""))
            elif not why.get(s):
                other = records.made_by(read_manifest(run_dir), s)
                log(f"orca2-kit: {s}: reused (fingerprint matches" + (f"; {other})" if other else ")"))
            elif stages and stages[0] in pipeline and pipeline.index(s) < pipeline.index(stages[0]):
                log(f"orca2-kit: warning: {s} is not rerun although {why[s]}; the stages after it read its old results")
        if not stages:
            log("orca2-kit: every stage is up to date; nothing to run")
    params_path = dump_params(params, run_dir / "params.yaml")  # what the notebooks read; per stage: the manifest
    (run_dir / "notebooks").mkdir(exist_ok=True)
    manifest = read_manifest(run_dir) or {
        "run_id": run_dir.name, "profile": params.profile, "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "stages": {}}
    manifest.update({"params": params.model_dump(mode="json"), "seed": params.seed, "versions": versions(),
                     "git": git_state(ROOT), "status": "running"})
    from orca2_kit.models import dtype_record

    manifest["dtypes"] = dtype_record(params)  # what 'auto' resolved to on this machine
    manifest["machine"] = machine.announce(params.profile, log)  # its class, and what the profile took on one
    if "07_ablation" in stages:  # the study's design and power, recorded before any arm trains
        from orca2_kit.study import power

        manifest["study_plan"] = power.for_profile(params)
        log(power.describe(manifest["study_plan"]))
    write_manifest(run_dir, manifest)
    log(f"orca2-kit: profile '{params.profile}', run dir {run_dir}")
    manifest["data"] = announce_data(params, stages, log)  # which real benchmarks run, which are skipped and why
    for i, stage in enumerate(stages, 1):
        if interrupted["signal"]:  # the signal came between two stages
            manifest["status"] = "interrupted"
            write_manifest(run_dir, manifest)
            _report(run_dir, log)
            raise Interrupted(f"stopped by {interrupted['signal']} before stage {stage}; resume: "
                              f"python -m orca2_kit {command} --resume {run_dir}")
        check_writable(run_dir)
        src, dst = NOTEBOOKS / f"{stage}.ipynb", run_dir / "notebooks" / f"{stage}.ipynb"
        log(f"[{i}/{len(stages)}] {stage} ...")
        t0 = time.time()
        manifest["stages"][stage] = {"status": "running", "notebook": str(dst.relative_to(run_dir)),
                                     **records.record(params, stage)}
        write_manifest(run_dir, manifest)
        try:
            pm.execute_notebook(str(src), str(dst), parameters={"params_path": str(params_path), "run_dir": str(run_dir)},
                                cwd=str(NOTEBOOKS), kernel_name="python3", progress_bar=True, log_output=False,
                                kernel_manager_class=kernels.ipc_kernel_manager())
        except (Exception, KeyboardInterrupt) as e:
            if interrupted["signal"] or isinstance(e, KeyboardInterrupt):
                signame = interrupted["signal"] or "SIGINT"
                manifest["stages"][stage].update(status="interrupted", wall_s=round(time.time() - t0, 1),
                                                 error=f"stopped by {signame}")
                manifest["status"] = "interrupted"
                write_manifest(run_dir, manifest)
                _report(run_dir, log)
                raise Interrupted(f"stage {stage} was stopped by {signame}; what earlier stages made is kept, and the "
                                  f"teacher's answers so far are in its cache. Resume: python -m orca2_kit {command} "
                                  f"--resume {run_dir}") from None
            check_writable(run_dir, str(e))  # a read-only or full disk is the cause, whatever the notebook said
            manifest["stages"][stage].update(status="failed", wall_s=round(time.time() - t0, 1), error=str(e)[-2000:])
            manifest["status"] = "failed"
            write_manifest(run_dir, manifest)
            _report(run_dir, log)
            raise StageFailed(f"stage {stage} failed; the executed notebook with the error is {dst}\n"
                              f"{_last_error(e)}\nfix it, then resume: python -m orca2_kit {command} --resume {run_dir}") from None
        wall, _ = round(time.time() - t0, 1), tidy.progress_bars(dst)  # a bar is its final line, not every redraw
        manifest["stages"][stage].update(status="ok", wall_s=wall)
        write_manifest(run_dir, manifest)
        log(f"[{i}/{len(stages)}] {stage} done in {wall:.0f} s")
    manifest["artifacts"] = hash_tree(run_dir, skip=("notebooks", "manifest.json", "report.html", "exercises"))
    train_metrics = run_dir / "04_sft_training" / "train_metrics.json"
    if train_metrics.is_file():  # the one chat template used to train and to evaluate
        import json

        manifest["chat_template_hash"] = json.loads(train_metrics.read_text()).get("template_hash")
    from orca2_kit.models import student_path

    student = student_path(params.student)
    manifest["student_model"] = {"path": student, "hashes": model_hash(student)}
    manifest["status"] = "ok" if all(v.get("status") == "ok" for v in manifest["stages"].values()) else "partial"
    write_manifest(run_dir, manifest)
    total = sum(v.get("wall_s", 0) for v in manifest["stages"].values())
    log(f"orca2-kit: finished in {total:.0f} s of notebook time; manifest {run_dir / 'manifest.json'}")
    _report(run_dir, log)
    return run_dir


def _report(run_dir: Path, log=print) -> None:
    """report.html beside the manifest; a broken report never fails a finished run."""
    from orca2_kit.run.report import write_report

    try:
        log(f"orca2-kit: report {write_report(run_dir)}")
    except Exception as e:  # noqa: BLE001
        log(f"orca2-kit: warning: the report could not be written ({type(e).__name__}: {e}); "
            f"retry with: python -m orca2_kit report {run_dir}")


def _last_error(e: Exception) -> str:
    lines = [ln for ln in str(e).splitlines() if ln.strip()]
    return "\n".join(lines[-3:])
