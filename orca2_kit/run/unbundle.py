"""Receiving a workshop bundle: `unbundle(archive, dest)` trusts nothing in the archive.

It checks the archive's sha256 (when given) and every file's, refuses links, paths outside `dest`
and an index whose name is not a plain file name, unpacks, and writes a profile (`<name>.yaml`)
whose student is the unpacked model and whose teacher answers from the unpacked cache only:

1. the archive's params are resolved into ONE flat mapping first: an `extends:` chain is followed
   only through files inside the bundle (anything else is refused), so no profile of the chain
   escapes the scrub, and the profile written has no `extends:` at all;
2. the scrub (`replay_params`) drops every endpoint, key name, outside path and judge, wherever it
   sits (study arms included), and forces the teacher to replay-only;
3. the written profile is loaded, with its study arms, and checked (`check_replay`): replay-only
   or reference teacher, no endpoint, no key name, no judge, every path inside `dest`. Anything
   left is refused, and what was unpacked is removed.

So a bundle cannot make a laptop send anything anywhere, nor write outside the folder it names.
"""
from __future__ import annotations

import json
import re
import shutil
import tarfile
from pathlib import Path
from typing import Optional

import yaml
from tqdm.auto import tqdm

from orca2_kit.config import ACCELERATE_CONFIGS, ConfigError, deep_merge, load_params
from orca2_kit.fingerprint import sha256_file

FORMAT = 1
INDEX = "bundle.json"
# The bundle's name names the profile file written into dest: a plain file name, nothing else
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
# Keys that reach the network or name a credential, wherever they sit in the params.
NETWORK_KEYS = ("base_url", "api_key_env", "cache_path", "hub_id", "sources", "endpoint", "judge")
# Teacher keys an arm may not change in a replay: the teacher is the bundle's cache, replayed.
REPLAY_TEACHER = ("kind", "replay_only", "mode", "dry_run", "budget_usd", "free")
PATH_ARM_KEYS = ("system_message_file", "accelerate_config", "path")


def check_name(name, what: str = "unbundle") -> str:
    """The bundle's name, if it is a plain name; else one ConfigError line."""
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise ConfigError(f"{what}: the bundle's name {str(name)[:80]!r} is not a plain name (letters, digits, - and _, "
                          "at most 64; it names the profile file written)"
                          + ("; refused, nothing was unpacked" if what == "unbundle" else ""))
    return name


def unbundle(archive: str | Path, dest: str | Path, profile_out: str | Path | None = None, log=print,
             sha256: Optional[str] = None) -> Path:
    """Check, unpack and write a replay-only profile; return the profile's path."""
    archive, dest = Path(archive).resolve(), Path(dest).resolve()
    if not archive.is_file():
        raise FileNotFoundError(f"unbundle: no such bundle '{archive}'")
    existed = dest.exists()
    if existed and any(dest.iterdir()):
        raise FileExistsError(f"unbundle: '{dest}' is not empty; pick a new folder")
    digest = sha256_file(archive)
    if sha256 is not None and digest != sha256.strip().lower():
        raise ConfigError(f"unbundle: the sha256 of '{archive.name}' is {digest}, not the {sha256.strip()} you were given: "
                          "it is not the bundle that was made (tampered with, or damaged); nothing was unpacked")
    if sha256 is None:
        log(f"unbundle: sha256 {digest}; compare it with the one printed when the bundle was made "
            "(or pass --sha256 to check it)")
    tmp = dest.with_name(f".{dest.name}.unpacking")
    made = next((p for p in reversed(dest.parents) if not p.exists()), None)  # folders this call creates
    try:
        index = _unpack(archive, tmp)
        params = replay_params(flat_params(tmp), dest, tmp, index["name"])
    except (ConfigError, tarfile.TarError, EOFError, OSError, ValueError, AttributeError, TypeError) as e:
        shutil.rmtree(tmp, ignore_errors=True)
        if made is not None:  # refused: no trace, not even the folders on the way to dest
            shutil.rmtree(made, ignore_errors=True)
        if isinstance(e, ConfigError):
            raise
        if isinstance(e, (AttributeError, TypeError)):  # a section that is not a mapping, say
            raise ConfigError(f"unbundle: the params in '{archive.name}' are malformed ({type(e).__name__}: "
                              f"{str(e)[:200]}); refused, nothing was unpacked") from None
        raise ConfigError(f"unbundle: '{archive.name}' is damaged or not a .tar.gz ({e})") from None
    dest.parent.mkdir(parents=True, exist_ok=True)
    if existed:
        dest.rmdir()
    tmp.replace(dest)

    out = Path(profile_out).resolve() if profile_out else dest / f"{index['name']}.yaml"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(f"# written by `python -m orca2_kit unbundle {archive.name}`: replay-only, no network\n"
                   + yaml.safe_dump(params, sort_keys=False))
    try:  # the profile must validate here and now, not in a notebook
        problems = check_replay(load_params(out), dest, index["name"])
    except ConfigError as e:
        _remove(dest, out, existed)
        raise ConfigError(f"unbundle: the params of '{archive.name}' do not load here "
                          f"({' '.join(str(e).split())[:300]}); refused, and what was unpacked is removed (the bundle "
                          f"was made by orca2-kit commit {index.get('kit_commit')}: a newer commit may read it)") from None
    if problems:  # what the scrub missed: refused, and nothing of the bundle stays
        _remove(dest, out, existed)
        raise ConfigError(f"unbundle: the bundle's params, made safe, would still {problems[0]}"
                          + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else "")
                          + "; refused, and what was unpacked is removed")
    source = (index.get("source_run") or {}).get("run_id")
    log(f"unbundle: {len(index['files'])} files checked into {dest}; source run {source}, "
        f"{(index.get('teacher') or {}).get('cached_answers', 0)} cached teacher answers\nrun it with:\n"
        f"  python -m orca2_kit run --profile {out}")
    return out


def _remove(dest: Path, out: Path, existed: bool) -> None:
    """A refusal after unpacking: nothing of the bundle stays (an empty dest the user made, if any)."""
    shutil.rmtree(dest, ignore_errors=True)
    out.unlink(missing_ok=True)
    if existed:
        dest.mkdir()


def _unpack(archive: Path, tmp: Path) -> dict:
    """Check the index and every member, extract into `tmp`, check every file's sha256; the index."""
    with tarfile.open(archive, "r:gz") as tar:
        first = tar.next()
        if first is None or first.name != INDEX:
            raise ConfigError(f"unbundle: '{archive.name}' is not an orca2-kit bundle (no {INDEX} first)")
        index = json.load(tar.extractfile(first))
        if not isinstance(index, dict) or index.get("format") != FORMAT:
            raise ConfigError(f"unbundle: bundle format {index.get('format') if isinstance(index, dict) else None} "
                              f"is not {FORMAT}; unbundle it with the orca2-kit version that made it")
        check_name(index.get("name"))
        if not isinstance(index.get("files"), dict) or "params.yaml" not in index["files"]:
            raise ConfigError(f"unbundle: the index of '{archive.name}' lists no params.yaml; not a bundle")
        for m in tar.getmembers():  # plain files and folders inside dest, nothing else
            kind = "a symlink" if m.issym() else "a hard link" if m.islnk() else None if m.isfile() or m.isdir() \
                else "a special file"
            if kind or Path(m.name).is_absolute() or ".." in Path(m.name).parts:
                raise ConfigError(f"unbundle: '{m.name}' in '{archive.name}' is "
                                  f"{kind or 'a path outside the folder'}; a bundle holds only plain files "
                                  "inside it. Refused; nothing was unpacked")
        shutil.rmtree(tmp, ignore_errors=True)
        tar.extractall(tmp, filter="data")  # a second guard: absolute paths, '..', links out of tmp
    found = {str(p.relative_to(tmp)) for p in tmp.rglob("*") if p.is_file()} - {INDEX}
    if found != set(index["files"]):
        raise ConfigError(f"unbundle: files differ from the bundle's index: {sorted(found ^ set(index['files']))}")
    for rel, want in tqdm(index["files"].items(), desc="checking"):
        if sha256_file(tmp / rel) != want:
            raise ConfigError(f"unbundle: '{rel}' does not match its sha256 in the bundle; the bundle is damaged")
    return index


def flat_params(unpacked: Path, rel: str = "params.yaml", seen: tuple = ()) -> dict:
    """The bundle's params as one mapping: its `extends:` chain followed through files inside the
    bundle only (a name or path outside it is refused), merged, with no `extends:` left."""
    root = unpacked.resolve()
    path = (root / rel).resolve()
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
        raise ConfigError(f"unbundle: the bundle's {rel} cannot be read as YAML ({type(e).__name__}); refused") from None
    if not isinstance(data, dict):
        raise ConfigError(f"unbundle: the bundle's {rel} is not a mapping")
    parent = data.pop("extends", None)
    if parent is None:
        return data
    target = (path.parent / str(parent)).resolve()
    if Path(str(parent)).expanduser().is_absolute() or not target.is_relative_to(root) or not target.is_file():
        raise ConfigError(f"unbundle: {rel} in the bundle extends '{str(parent)[:200]}', which is not a file inside "
                          "the bundle (a bundle's params are self-contained); refused, nothing was unpacked")
    if target in seen:
        raise ConfigError(f"unbundle: {rel} in the bundle extends itself (a cycle); refused, nothing was unpacked")
    return deep_merge(flat_params(unpacked, str(target.relative_to(root)), seen + (path,)), data)


def replay_params(params: dict, dest: Path, unpacked: Optional[Path] = None, name: str = "workshop") -> dict:
    """The archive's params (flat: see flat_params), made safe to run on this machine: replay-only
    teacher, no endpoint, no key name, no judge, no path outside `dest` (checked against `unpacked`,
    where the files are now), in the profile and in every study arm."""
    if not isinstance(params, dict):
        raise ConfigError("unbundle: the bundle's params.yaml is not a mapping")
    unpacked = unpacked or dest
    for key in ("student", "teacher", "tasks", "erasure", "train", "eval", "hallucination", "study"):
        if params.get(key) is not None and not isinstance(params[key], dict):
            raise ConfigError(f"unbundle: the bundle's params section '{key}' is {type(params[key]).__name__}, "
                              "not a mapping; refused, nothing was unpacked")

    _scrub(params)
    params.pop("extends", None)
    params["profile"] = name  # the run folder is outputs/<profile>/: a plain name, the bundle's own
    params.pop("data_dir", None)  # this machine's data, if any, comes from its own environment
    dtype = (params.get("student") or {}).get("dtype")
    params["student"] = {"source": "local", "name_or_path": str(dest / "model"), **({"dtype": dtype} if dtype else {})}
    t = params.setdefault("teacher", {})
    if not isinstance(t, dict):
        raise ConfigError("unbundle: the bundle's teacher section is not a mapping")
    for k in ("mode", "dry_run", "budget_usd", "free"):
        t.pop(k, None)
    t["api_key_env"] = None  # a reference teacher has no use for one either
    if t.get("kind") == "openai":
        t.update(replay_only=True, cache_path=str(dest / "teacher_cache.sqlite"))
    elif t.get("kind") not in (None, "reference"):
        raise ConfigError(f"unbundle: teacher.kind '{t.get('kind')}' in the bundle is not one a replay can run")
    tasks = params.get("tasks") or {}
    if tasks.get("source") == "hub":
        raise ConfigError("unbundle: the bundle's tasks come from the hub; a bundle carries its tasks as files")
    h = params.get("hallucination") or {}
    if h.get("support_model") not in (None, "package"):
        h.pop("support_model")
    ev = params.setdefault("eval", {})
    harness = ev.setdefault("harness", {}) if isinstance(ev, dict) else None
    if isinstance(harness, dict):
        if harness.get("backend") == "chat":
            harness.pop("backend")
        # the schema's default judge and endpoint name OPENAI_API_KEY: no key name at all in a replay
        harness.update(endpoint={"api_key_env": None}, judge={"api_key_env": None})
    train = params.get("train") or {}
    if train.get("accelerate_config") and not _shipped(train["accelerate_config"]):
        train.pop("accelerate_config")  # only a shipped config's name travels
    for key, sub in (("tasks", "path"), ("erasure", "system_message_file")):
        section = params.get(key) or {}
        if section.get(sub):
            section[sub] = str(dest / _inside(unpacked, str(section[sub]), f"{key}.{sub}"))
    for arm, overrides in ((params.get("study") or {}).get("arms") or {}).items():
        if isinstance(overrides, dict):
            _scrub_arm(arm, overrides, dest, unpacked)
    return params


def _scrub(node) -> None:
    """Drop every NETWORK_KEYS key, at any depth."""
    if isinstance(node, dict):
        for k in list(node):
            if k in NETWORK_KEYS:
                node.pop(k)
            else:
                _scrub(node[k])
    elif isinstance(node, list):
        for x in node:
            _scrub(x)


def _shipped(name) -> bool:
    return isinstance(name, str) and re.fullmatch(r"[A-Za-z0-9_-]+", name) is not None \
        and (ACCELERATE_CONFIGS / f"{name}.yaml").is_file()


def _inside(unpacked: Path, value: str, what: str) -> Path:
    """`value` as a path relative to the bundle, if it names a file or folder inside it; else refused."""
    rel = Path(value)
    inside = (unpacked / rel).resolve()
    if rel.is_absolute() or not inside.is_relative_to(unpacked.resolve()) or not inside.exists():
        raise ConfigError(f"unbundle: {what} '{value[:200]}' in the bundle's params is not a file inside the "
                          "bundle; refused, nothing was unpacked")
    return inside.relative_to(unpacked.resolve())


def _scrub_arm(arm: str, overrides: dict, dest: Path, unpacked: Path) -> None:
    """A study arm's overrides (dotted keys), made safe like the profile: no endpoint, key name or
    judge, the teacher left as the profile's (replayed), paths inside the bundle."""
    for key in list(overrides):
        parts = str(key).split(".")
        if any(p in NETWORK_KEYS for p in parts) or (parts[0] == "teacher" and parts[-1] in REPLAY_TEACHER):
            overrides.pop(key)
        elif parts[-1] == "accelerate_config" and not _shipped(overrides[key]):
            overrides.pop(key)
        elif parts[-1] in PATH_ARM_KEYS and overrides[key] is not None:
            overrides[key] = str(dest / _inside(unpacked, str(overrides[key]), f"study.arms.{arm}.{key}"))
        else:
            _scrub(overrides[key])  # a whole section as one value: no endpoint or key name inside it either


def check_replay(p, dest: Path, name: str) -> list[str]:
    """What in loaded params (and each of their study arms) could reach the network, name a key or a
    path outside `dest`: empty when the profile is a safe replay."""
    from orca2_kit.study.arms import plan

    problems: list[str] = []
    try:
        runs = [("", p)] + [(f"study arm '{a.name}': ", a.params) for a in plan(p) if a.trained]
    except ConfigError as e:
        return [f"fail to plan its study arms ({e})"]
    for where, q in runs:
        t = q.teacher
        if t.kind != "reference" and not (t.replay_only and t.mode == "online"
                                          and t.cache_path == str(dest / "teacher_cache.sqlite")):
            problems.append(f"{where}have a teacher that is not replay-only from the bundle's cache")
        if q.hallucination.judge is not None or q.eval.harness.backend == "chat":
            problems.append(f"{where}call a judge or an endpoint")
        if q.hallucination.sources or q.hallucination.support_model not in (None, "package"):
            problems.append(f"{where}read hallucination data or a model from outside the bundle")
        for key, value in _walk(q.model_dump(mode="json")):
            leaf = key.rsplit(".", 1)[-1]
            if leaf in ("base_url", "api_key_env", "hub_id") and value is not None:
                problems.append(f"{where}set {key} ({'a key name' if leaf == 'api_key_env' else 'the network'})")
        paths = {"tasks.path": q.tasks.path, "erasure.system_message_file": q.erasure.system_message_file,
                 "student.name_or_path": q.student.name_or_path, "student.cache_dir": q.student.cache_dir,
                 "data_dir": q.data_dir}
        for key, value in paths.items():
            if value is not None and not Path(value).resolve().is_relative_to(dest.resolve()):
                problems.append(f"{where}use {key} '{value}', outside {dest}")
        if q.train.accelerate_config is not None and not _shipped(q.train.accelerate_config):
            problems.append(f"{where}use train.accelerate_config '{q.train.accelerate_config}', not a shipped one")
        if q.tasks.source == "hub" or q.student.source != "local":
            problems.append(f"{where}load its tasks or student from the hub")
        if q.profile != name:
            problems.append(f"{where}name its run folder '{q.profile}'")
    return problems


def _walk(node, prefix=""):
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _walk(v, f"{prefix}{k}.")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _walk(v, f"{prefix}{i}.")
    else:
        yield prefix.rstrip("."), node


def check_suite(bundle_dir: str | Path, run_dir: str | Path) -> list[str]:
    """Suite files of a run that differ from the bundle's (empty: the seed drew the same items)."""
    bundle_dir, run_dir = Path(bundle_dir), Path(run_dir)
    names = sorted(p.name for p in (bundle_dir / "suite").glob("*.jsonl"))
    return [n for n in names if sha256_file(bundle_dir / "suite" / n)
            != sha256_file(run_dir / "01_strategy_selection" / "suite" / n)]
