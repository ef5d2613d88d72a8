"""Resuming a run: which recorded stage results can be reused, and why a stage must run again.

The runner records each stage's fingerprint (orca2_kit/fingerprint.py), params and the kit commit
that made it in the manifest; `plan(params, manifest)` says, per stage, whether its results can be
reused or why it must run, and `made_by` which commit made a result a resume reuses.
"""
from __future__ import annotations

import json
from typing import Optional

from orca2_kit.fingerprint import fingerprints, kit_commit, stage_params
from orca2_kit.pipeline import STAGE_INPUTS, STAGES


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
    """What the manifest keeps per stage: its fingerprint, the params it ran with, the kit's commit."""
    return {"fingerprint": fingerprints(params)[stage], "params": stage_params(params, stage), "commit": kit_commit()}


def made_by(manifest: dict, stage: str) -> str:
    """'' when a reused stage was made by this commit of the kit, else which commit made it: the code
    is not in the fingerprint, so a resume across commits says what it reuses from where."""
    made = (manifest.get("stages", {}).get(stage) or {}).get("commit")
    now = kit_commit()
    if made == now:
        return ""
    return f"made by commit {short_commit(made) if made else '(not recorded)'}, this is {short_commit(now)}"


def short_commit(commit: str) -> str:
    return commit[:10] + ("+dirty" if commit.endswith("+dirty") else "") if len(commit) >= 40 else commit
