"""Which params each stage depends on, and a fingerprint of what its results were made from.

A stage's fingerprint is a hash of the params sections it reads (STAGE_SECTIONS) and of the
fingerprints of the stages whose files it reads (STAGE_INPUTS). So a stage's fingerprint changes
when its own params change or when anything upstream of it would be made differently. The map is
at the level of params *sections*: a key added to a section joins its stage's fingerprint without
a change here. Keys that cannot change a result (concurrency, timeouts, logging) are left out
(OPERATIONAL), so changing them reuses everything.

The runner records each stage's fingerprint and params in the manifest; `plan(params, manifest)`
says, per stage, whether its results can be reused or why it must run. Results reused inside a
stage (a finished harness folder, MT-Bench answers, training checkpoints) carry a `stamp` and are
reused only where it `matches`.

    from orca2_kit import fingerprint
    fingerprint.fingerprints(params)["04_sft_training"]        # 'c0ffee...'
    fingerprint.plan(params, manifest.read_manifest(run_dir))   # {'01_...': None, '02_...': 'teacher.model: a -> b', ...}
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Optional

from orca2_kit.run.stage import ALL_STAGES, STAGES

STAGE_SECTIONS = {
    "01_strategy_selection": ("seed", "data_dir", "student", "tasks", "generation", "strategy_selection"),
    "02_teacher_prompting": ("teacher",),
    "03_prompt_erasure": ("erasure",),
    "04_sft_training": ("train",),
    "05_benchmark_eval": ("eval",),
    "06_hallucination": ("hallucination",),
    # The study trains and scores every arm itself, each reused by its own fingerprint (study.py).
    "07_ablation": ("study", "teacher", "erasure", "train", "eval", "hallucination"),
}
# The stages whose files a stage reads (05 and 06 read the suite and the student of 01 through 04).
STAGE_INPUTS = {
    "01_strategy_selection": (),
    "02_teacher_prompting": ("01_strategy_selection",),
    "03_prompt_erasure": ("02_teacher_prompting",),
    "04_sft_training": ("03_prompt_erasure",),
    "05_benchmark_eval": ("04_sft_training",),
    "06_hallucination": ("04_sft_training",),
    "07_ablation": ("01_strategy_selection",),
}
# Top-level params no stage's results depend on: names and where it runs.
NO_STAGE = ("profile", "description", "device")
# Keys that change how fast or how loudly a stage runs, never what it produces.
OPERATIONAL = ("teacher.max_concurrency", "teacher.timeout_s", "teacher.max_retries", "teacher.requests_per_minute",
               "teacher.tokens_per_minute", "teacher.batch_poll_s", "teacher.dry_run",
               "teacher.price_input_per_mtok", "teacher.price_output_per_mtok", "teacher.free",
               "train.logging_steps", "train.report_to", "train.save_steps",
               "hallucination.judge.max_concurrency", "hallucination.judge.timeout_s", "hallucination.judge.max_retries")


def _drop(tree: dict, dotted: str) -> None:
    *parents, leaf = dotted.split(".")
    for p in parents:
        tree = tree.get(p) if isinstance(tree, dict) else None
        if not isinstance(tree, dict):
            return
    tree.pop(leaf, None)


def stage_params(params, stage: str) -> dict:
    """The params a stage's results depend on: its sections, operational keys left out."""
    dumped = params.model_dump(mode="json")
    resolved = params.resolved_data_dir()  # the folder actually read, whether params or the environment named it
    dumped["data_dir"] = str(resolved) if resolved else None
    out = {k: dumped.get(k) for k in STAGE_SECTIONS[stage]}
    for key in OPERATIONAL:
        _drop(out, key)
    return out


def digest(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()


def fingerprints(params) -> dict[str, str]:
    """{stage: fingerprint} for every stage, upstream first."""
    out: dict[str, str] = {}
    for s in ALL_STAGES:
        out[s] = digest({"stage": s, "params": stage_params(params, s),
                         "inputs": {i: out[i] for i in STAGE_INPUTS[s]}})
    return out


def changes(before: dict, after: dict, prefix: str = "") -> list[str]:
    """'key: old -> new' for every dotted key that differs."""
    out = []
    for k in sorted(set(before) | set(after), key=str):
        a, b, key = before.get(k), after.get(k), f"{prefix}{k}"
        if isinstance(a, dict) and isinstance(b, dict):
            out += changes(a, b, key + ".")
        elif a != b:
            out.append(f"{key}: {json.dumps(a)} -> {json.dumps(b)}")
    return out


def plan(params, manifest: dict, stages=STAGES) -> dict[str, Optional[str]]:
    """Per stage: None when its recorded results can be reused, else why it must run. A stage
    runs when it did not finish, when its params changed, or when a stage it reads runs."""
    fps = fingerprints(params)
    recorded = manifest.get("stages", {})
    out: dict[str, Optional[str]] = {}
    for s in stages:
        rec = recorded.get(s) or {}
        upstream = [i for i in STAGE_INPUTS[s] if out.get(i)]
        if not rec:
            out[s] = "not run yet"
        elif rec.get("status") != "ok":
            out[s] = f"it did not finish (status: {rec.get('status')})"
        elif upstream:
            out[s] = f"its input {upstream[0]} runs again"
        elif rec.get("fingerprint") is None:
            old = _legacy_params(manifest, s)
            diff = changes(old, stage_params(params, s)) if old is not None else ["no fingerprint recorded"]
            out[s] = ("params changed: " + "; ".join(diff[:4])) if diff else None
        elif rec["fingerprint"] != fps[s]:
            diff = changes(rec.get("params") or {}, stage_params(params, s))
            out[s] = "params changed: " + ("; ".join(diff[:4]) + (f"; and {len(diff) - 4} more" if len(diff) > 4 else "")
                                           if diff else "upstream params changed")
        else:
            out[s] = None
    return out


def _legacy_params(manifest: dict, stage: str) -> Optional[dict]:
    """A run made before fingerprints: the stage's params as recorded in the manifest's params."""
    from orca2_kit.config import Params

    try:
        return stage_params(Params.model_validate(manifest["params"]), stage)
    except Exception:  # noqa: BLE001 — params of another kit version: treat as unknown
        return None


def record(params, stage: str) -> dict:
    """What the manifest keeps per stage: its fingerprint and the params it ran with."""
    return {"fingerprint": fingerprints(params)[stage], "params": stage_params(params, stage)}


# --------------------------------------------------------------------------- reuse inside a stage


def stamp_path(path: Path) -> Path:
    path = Path(path)
    return path.with_name(path.name + ".fingerprint")


def stamp(path: Path, fp: str) -> None:
    """Mark `path` (a file or folder) as made from `fp`."""
    stamp_path(path).write_text(fp + "\n")


def matches(path: Path, fp: str) -> bool:
    """Does `path` exist and was it made from `fp`? (Unstamped results are never reused.)"""
    s = stamp_path(path)
    return Path(path).exists() and s.is_file() and s.read_text().strip() == fp
