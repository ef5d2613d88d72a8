"""Fingerprints: hashes of what a result was made from.

A stage's fingerprint is a hash of the params sections it reads and of the fingerprints of the
stages whose files it reads (orca2_kit/pipeline.py names both). So a stage's fingerprint changes
when its own params change or when anything upstream of it would be made differently. The map is
at the level of params *sections*: a key added to a section joins its stage's fingerprint without
a change there. Keys that cannot change a result (concurrency, timeouts, logging) are left out
(OPERATIONAL), so changing them reuses everything. Two things params only name are hashed as
what they are:

- **files**: the contents of every file or folder a stage's params name (a task file, a system
  message file, a local student's folder, a hallucination source, the support model, an accelerate
  config, the data directory), so a file edited in place is a change (caches are left out: what
  they hold is keyed by its own content);
- **machine**: the device and the dtype a stage runs the student in, as resolved here ('auto' is
  bf16 on one machine and fp32 on another): the scoring dtype for 01, 05 and 06, the training dtype
  for 04, both for the study (pipeline.MACHINE_STAGES).

The code is not fingerprinted (every commit would redo everything): each stage record, done.json
and stamp holds the kit's commit instead (`kit_commit`), and a resume says what it reuses from
which commit.

Results reused inside a stage (a finished harness folder, MT-Bench answers, training checkpoints)
carry a `stamp` and are reused only where it `matches`; the runner's resume decisions are in
orca2_kit/run/records.py. Files are hashed here too (`sha256_file`, `hash_tree`, `content_hash`).

    from orca2_kit import fingerprint
    fingerprint.fingerprints(params)["04_sft_training"]        # 'c0ffee...'
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import subprocess
from pathlib import Path

from orca2_kit.config.load import PATH_KEYS, _is_path
from orca2_kit.paths import REPO
from orca2_kit.pipeline import ALL_STAGES, MACHINE_STAGES, OPERATIONAL, STAGE_INPUTS, STAGE_SECTIONS

# path keys whose files are caches (their entries are keyed by content), not inputs
CACHE_KEYS = ("student.cache_dir", "teacher.cache_path", "hallucination.judge.cache_path")


def _drop(tree: dict, dotted: str) -> None:
    *parents, leaf = dotted.split(".")
    for p in parents:
        tree = tree.get(p) if isinstance(tree, dict) else None
        if not isinstance(tree, dict):
            return
    tree.pop(leaf, None)


def _values(tree: dict, dotted: str, prefix: str = ""):
    """(dotted name, value) of a path key in params ('*': every value of a mapping)."""
    head, _, rest = dotted.partition(".")
    names = list(tree) if head == "*" else [head] if head in tree else []
    for name in names:
        key, node = f"{prefix}{name}", tree[name]
        if rest:
            if isinstance(node, dict):
                yield from _values(node, rest, key + ".")
        else:
            yield key, node


def files(params, sections) -> dict[str, str]:
    """Content hashes of the files and folders the params `sections` name (see the module docstring)."""
    raw = params.model_dump(mode="json")
    out = {}
    for key in PATH_KEYS:
        if key in CACHE_KEYS or key == "data_dir" or key.split(".")[0] not in sections:
            continue
        for name, value in _values(raw, key):
            if isinstance(value, str) and value and _is_path(key, value, raw) and Path(value).expanduser().exists():
                out[name] = content_hash(Path(value).expanduser())
    if "data_dir" in sections:
        resolved = params.resolved_data_dir()
        if resolved:
            out["data_dir"] = content_hash(resolved)
    return out


def machine(params) -> dict:
    """The device and dtypes the params resolve to on this machine (models.dtype_record)."""
    from orca2_kit.models import dtype_record

    rec = dtype_record(params)
    return {"device": rec["device"], "scoring_dtype": rec["scoring"], "training_dtype": rec["training_base"]}


def stage_params(params, stage: str) -> dict:
    """The params a stage's results depend on: its sections (operational keys left out), the
    contents of the files they name, and, for a stage that runs the student, the machine."""
    dumped = params.model_dump(mode="json")
    resolved = params.resolved_data_dir()  # the folder actually read, whether params or the environment named it
    dumped["data_dir"] = str(resolved) if resolved else None
    out = {k: dumped.get(k) for k in STAGE_SECTIONS[stage]}
    for key in OPERATIONAL:
        _drop(out, key)
    hashed = files(params, STAGE_SECTIONS[stage])
    if hashed:
        out["files"] = hashed
    if stage in MACHINE_STAGES:
        resolved = machine(params)
        out["machine"] = {k: resolved[k] for k in MACHINE_STAGES[stage]}
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
    """Mark `path` (a file or folder) as made from `fp` (and by which commit of the kit)."""
    stamp_path(path).write_text(fp + "\n" + kit_commit() + "\n")


def matches(path: Path, fp: str) -> bool:
    """Does `path` exist and was it made from `fp`? (Unstamped results are never reused.)"""
    s = stamp_path(path)
    return Path(path).exists() and s.is_file() and (s.read_text().splitlines() or [""])[0].strip() == fp


@functools.lru_cache(maxsize=1)
def kit_commit() -> str:
    """The kit's code version: its git commit (with '+dirty' when tracked files differ from it), or
    the installed package's version outside a git checkout."""
    def git(*args):
        try:
            r = subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True, timeout=20)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return r.stdout.strip() if r.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    if commit:
        return commit + ("+dirty" if git("status", "--porcelain", "--untracked-files=no") else "")
    import importlib.metadata

    try:
        return "orca2-kit " + importlib.metadata.version("orca2-kit")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


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


_FILE_HASHES: dict[tuple, str] = {}
BIG = 16 << 20  # files this large (model weights) keep their hash across processes


def _memo_path() -> Path:
    from orca2_kit.models import cache_root

    return cache_root() / "file_hashes.json"


def _file_hash(p: Path) -> str:
    """sha256 of one file, read once while its size and modification time stay the same (in this
    process; for large files, across processes through a small memo in the kit's cache folder)."""
    st = p.stat()
    key = (str(p.resolve()), st.st_size, st.st_mtime_ns)
    if key in _FILE_HASHES:
        return _FILE_HASHES[key]
    memo = {}
    if st.st_size >= BIG:
        try:
            memo = json.loads(_memo_path().read_text())
        except (OSError, ValueError):
            memo = {}
        if memo.get(key[0], {}).get("stat") == list(key[1:]):
            _FILE_HASHES[key] = memo[key[0]]["sha256"]
            return _FILE_HASHES[key]
    _FILE_HASHES[key] = sha256_file(p)
    if st.st_size >= BIG:
        memo[key[0]] = {"stat": list(key[1:]), "sha256": _FILE_HASHES[key]}
        try:
            path = _memo_path()
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{os.getpid()}")
            tmp.write_text(json.dumps(memo))
            os.replace(tmp, path)
        except OSError:
            pass  # a read-only cache folder: hash again next time
    return _FILE_HASHES[key]


def content_hash(path: Path) -> str:
    """sha256 of a file, or of a folder's files (names and contents; dot-files and dot-folders left out)."""
    path = Path(path)
    if path.is_file():
        return _file_hash(path)
    found = {}
    for root, dirs, names in os.walk(path):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for n in sorted(names):
            if not n.startswith("."):
                p = Path(root) / n
                found[str(p.relative_to(path))] = _file_hash(p)
    return digest(found)


def model_hash(path: str) -> dict:
    """Hashes of a local model directory's weight files (hub ids are recorded as given)."""
    d = Path(path)
    if not d.is_dir():
        return {"hub_id": path}
    return {str(p.name): sha256_file(p) for p in sorted(d.glob("*.safetensors"))}
