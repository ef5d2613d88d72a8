"""Fingerprints: hashes of what a result was made from.

A stage's fingerprint is a hash of the params sections it reads and of the fingerprints of the
stages whose files it reads (orca2_kit/pipeline.py names both). So a stage's fingerprint changes
when its own params change or when anything upstream of it would be made differently. The map is
at the level of params *sections*: a key added to a section joins its stage's fingerprint without
a change there. Keys that cannot change a result (concurrency, timeouts, logging) are left out
(OPERATIONAL), so changing them reuses everything.

Results reused inside a stage (a finished harness folder, MT-Bench answers, training checkpoints)
carry a `stamp` and are reused only where it `matches`; the runner's resume decisions are in
orca2_kit/run/records.py. Files are hashed here too (`sha256_file`, `hash_tree`).

    from orca2_kit import fingerprint
    fingerprint.fingerprints(params)["04_sft_training"]        # 'c0ffee...'
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from orca2_kit.pipeline import ALL_STAGES, OPERATIONAL, STAGE_INPUTS, STAGE_SECTIONS


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


# --------------------------------------------------------------------------- files


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def hash_tree(root: Path, skip: tuple[str, ...] = ()) -> dict[str, str]:
    """sha256 of every file under root (relative paths), skipping top-level names in `skip`."""
    out = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root)
        if p.is_file() and rel.parts[0] not in skip and not p.name.startswith("."):
            out[str(rel)] = sha256_file(p)
    return out


def model_hash(path: str) -> dict:
    """Hashes of a local model directory's weight files (hub ids are recorded as given)."""
    d = Path(path)
    if not d.is_dir():
        return {"hub_id": path}
    return {str(p.name): sha256_file(p) for p in sorted(d.glob("*.safetensors"))}
