"""Loading a profile: a name or a file, its `extends:` chain, overrides, paths made absolute, validation."""
from __future__ import annotations

import copy
import difflib
import os
from pathlib import Path
from typing import Any, Optional

import yaml
from pydantic import ValidationError

from orca2_kit.config.messages import format_errors
from orca2_kit.config.overrides import apply_overrides
from orca2_kit.config.params import Params
from orca2_kit.config.train import ACCELERATE_CONFIGS
from orca2_kit.errors import ConfigError
from orca2_kit.paths import PARAMS_DIR


def resolve_profile_path(profile: str | os.PathLike) -> Path:
    """A profile name ('offline') or a path to a YAML file."""
    p = Path(profile)
    if p.suffix in (".yaml", ".yml") or p.exists():
        if not p.is_file():
            raise ConfigError(f"profile file '{p}' does not exist")
        return p.resolve()
    cand = PARAMS_DIR / f"{profile}.yaml"
    if not cand.is_file():
        names = sorted(x.stem for x in PARAMS_DIR.glob("*.yaml"))
        close = difflib.get_close_matches(str(profile), names, n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        raise ConfigError(f"unknown profile '{profile}'; available: {', '.join(names)}.{hint}")
    return cand


def deep_merge(base: dict, over: dict) -> dict:
    """`over` on top of `base`, section by section (a profile on top of the one it extends)."""
    out = dict(base)
    for k, v in over.items():
        out[k] = deep_merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def _read_yaml(path: Path, what: str) -> Any:
    """A YAML file's content; anything unreadable is one ConfigError line naming the file."""
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as e:
        raise ConfigError(f"{what} '{path}' is not UTF-8 text (byte {e.object[e.start]:#04x} at offset {e.start}); "
                          "save it as UTF-8") from None
    except OSError as e:
        raise ConfigError(f"{what} '{path}' cannot be read ({e.strerror})") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)  # one line: where, and what the parser expected
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(f"{what} '{path}' is not valid YAML{where}: {getattr(e, 'problem', None) or e}") from None


def _parent_profile(path: Path, parent: str) -> Path:
    """`extends:` target: a path relative to the extending file, else a kit profile by name
    ('offline' or 'offline.yaml'), so a profile copied out of params/ still finds its parent."""
    p = Path(parent).expanduser()
    candidates = [p] if p.is_absolute() else [path.parent / p, PARAMS_DIR / p.name, PARAMS_DIR / f"{p.name}.yaml"]
    for c in candidates:
        if c.is_file():
            return c.resolve()
    names = sorted(x.stem for x in PARAMS_DIR.glob("*.yaml"))
    raise ConfigError(f"profile '{path}': extends: '{parent}' is neither a file beside it nor a kit profile "
                      f"({', '.join(names)}); give a path or one of these names")


def load_raw(path: Path, _seen: tuple = ()) -> dict:
    """Read a profile, following `extends:` chains (relative to the extending file, or a kit profile)."""
    if path in _seen:
        raise ConfigError(f"profile '{path}' extends itself (cycle: {' -> '.join(map(str, _seen + (path,)))})")
    data = _read_yaml(path, "profile") or {}
    if not isinstance(data, dict):
        raise ConfigError(f"profile '{path}' must be a mapping of keys to values")
    parent = data.pop("extends", None)
    if parent is None:
        return data
    return deep_merge(load_raw(_parent_profile(path, str(parent)), _seen + (path,)), data)


# Every params key that holds a path (dotted; '*' is every value of a mapping). Paths are made
# absolute once, when params are loaded, relative to the folder the command was run from: the
# notebooks run with notebooks/ as their folder and must see the same files.
PATH_KEYS = ("data_dir", "student.name_or_path", "student.cache_dir", "tasks.path", "teacher.cache_path",
             "erasure.system_message_file", "train.accelerate_config", "hallucination.sources.*",
             "hallucination.support_model", "hallucination.judge.cache_path")


def _is_path(key: str, value: str, raw: dict) -> bool:
    if key == "student.name_or_path":
        return (raw.get("student") or {}).get("source") == "local"  # else a hub id
    if key == "train.accelerate_config":
        return not (ACCELERATE_CONFIGS / f"{value}.yaml").is_file()  # else a shipped config's name
    if key == "hallucination.sources.*":
        return not value.startswith("hf:")
    if key == "hallucination.support_model":
        return value != "package"
    return True


def absolute_paths(raw: dict, base: Optional[Path] = None) -> dict:
    """Make every path in `raw` (see PATH_KEYS) absolute, relative to `base` (default: the cwd)."""
    base = Path(base or os.getcwd())
    out = copy.deepcopy(raw)

    def fix(node: dict, parts: list[str], key: str):
        if not isinstance(node, dict):
            return
        head, rest = parts[0], parts[1:]
        names = list(node) if head == "*" else [head] if head in node else []
        for name in names:
            if rest:
                fix(node[name], rest, key)
            elif isinstance(node[name], str) and node[name] and _is_path(key, node[name], out):
                p = Path(node[name]).expanduser()
                node[name] = str(p if p.is_absolute() else Path(os.path.normpath(base / p)))

    for key in PATH_KEYS:
        fix(out, key.split("."), key)
    return out


def load_params(profile: str | os.PathLike, overrides: Optional[list[str] | dict] = None) -> Params:
    """Load, extend, override and validate a profile. Raises ConfigError naming every bad key."""
    path = resolve_profile_path(profile)
    raw = absolute_paths(apply_overrides(load_raw(path), overrides or []))
    raw.setdefault("profile", path.stem)
    try:
        return Params.model_validate(raw)
    except ValidationError as e:
        raise ConfigError(format_errors(e, f"'{path.name}'", Params)) from None


def dump_params(params: Params, path: Path) -> Path:
    path.write_text(yaml.safe_dump(params.model_dump(mode="json"), sort_keys=False))
    return path
