"""Where the real benchmark data is, and what a run will do with it.

The data directory is the first of: the profile's `data_dir`, `$ORCA2_DATA_DIR`, the `data_dir` of
the user config file ($XDG_CONFIG_HOME/orca2-kit/config.yaml, written by `python -m orca2_kit data
use DIR`), and `data/` beside the repository (where `python -m orca2_kit data fetch` writes). So a
newcomer who fetched the data runs the real benchmarks with no setting at all.

`locate` says which one it found and where it came from; `use` records one in the user config.
What a run will do with the data it finds (`announce`, `python -m orca2_kit data status`) is in
orca2_kit/run/data.py.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import yaml

from orca2_kit.errors import ConfigError
from orca2_kit.paths import REPO

REPO_ROOT = REPO
ENV = "ORCA2_DATA_DIR"
FETCH = ".venv/bin/python -m orca2_kit data fetch"


# --------------------------------------------------------------------------- finding the directory


def user_config_path() -> Path:
    """$XDG_CONFIG_HOME/orca2-kit/config.yaml; ~/.config when unset (or relative, as the XDG spec says)."""
    base = os.environ.get("XDG_CONFIG_HOME", "")
    root = Path(base) if base and os.path.isabs(base) else Path.home() / ".config"
    return root / "orca2-kit" / "config.yaml"


def default_data_dir() -> Path:
    """`data/` beside the repository: where `data fetch` writes, and the last place runs look."""
    return REPO_ROOT / "data"


def _read_user_config(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as e:
        raise ConfigError(f"cannot read the user config {path} ({str(e).splitlines()[0]}); fix it, or rewrite it "
                          "with: .venv/bin/python -m orca2_kit data use DIR") from None
    if not isinstance(data, dict):
        raise ConfigError(f"the user config {path} must be a mapping such as 'data_dir: /path/to/data', "
                          f"got {type(data).__name__}; rewrite it with: .venv/bin/python -m orca2_kit data use DIR")
    return data


def locate(explicit: Optional[str] = None) -> tuple[Optional[Path], str]:
    """(data directory or None, where it came from, or why there is none). Never raises for a
    missing directory: runs then skip the real data and `announce` says why."""
    if explicit:
        p = Path(explicit).expanduser()
        return (p, "params data_dir") if p.is_dir() else (None, f"params data_dir '{explicit}' is not a directory")
    env = os.environ.get(ENV)
    if env:
        p = Path(env).expanduser()
        return (p, f"${ENV}") if p.is_dir() else (None, f"${ENV}='{env}' is not a directory (fix or unset it)")
    cfg = user_config_path()
    try:
        named = _read_user_config(cfg).get("data_dir") if cfg.is_file() else None
    except ConfigError as e:
        return None, str(e)
    if named:
        p = Path(str(named)).expanduser()
        return (p, f"data_dir in {cfg}") if p.is_dir() else \
            (None, f"data_dir '{named}' in {cfg} is not a directory (fix: .venv/bin/python -m orca2_kit data use DIR)")
    repo = default_data_dir()
    if repo.is_dir():
        return repo, "data/ beside the repository"
    return None, f"none found (looked at: params data_dir, ${ENV}, {cfg}, {repo})"


def use(directory: str) -> Path:
    """Record `directory` as the data directory in the user config file; returns the file."""
    d = Path(directory).expanduser().resolve()
    if not d.is_dir():
        raise ConfigError(f"data use: '{directory}' is not a directory; give an existing folder, or fetch into it "
                          f"first: {FETCH} --dest {directory}")
    cfg = user_config_path()
    data = _read_user_config(cfg) if cfg.is_file() else {}
    data["data_dir"] = str(d)
    cfg.parent.mkdir(parents=True, exist_ok=True)
    tmp = cfg.with_name(cfg.name + ".tmp")
    tmp.write_text(yaml.safe_dump(data, sort_keys=False))
    os.replace(tmp, cfg)
    return cfg
