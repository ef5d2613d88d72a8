"""Single values changed from the command line (`--set train.epochs=2`) or a notebook (`overrides`)."""
from __future__ import annotations

import copy
from typing import Any

import yaml

from orca2_kit.errors import ConfigError


def parse_override(text: str) -> tuple[list[str], Any]:
    """'train.epochs=2' -> (['train', 'epochs'], 2); the value is read as YAML."""
    if "=" not in text:
        raise ConfigError(f"override '{text}' must look like key.path=value (e.g. train.epochs=2)")
    key, value = text.split("=", 1)
    if not key.strip():
        raise ConfigError(f"override '{text}' has no key")
    return key.strip().split("."), yaml.safe_load(value) if value.strip() else None


def apply_overrides(raw: dict, overrides: list[str] | dict | None) -> dict:
    """Overrides as ['train.epochs=2', ...] (command line) or {'train.epochs': 2} (notebooks)."""
    raw = copy.deepcopy(raw)  # never change the caller's dict (nested sections included)
    pairs = ([(k.split("."), v) for k, v in overrides.items()] if isinstance(overrides, dict)
             else [parse_override(t) for t in overrides or []])
    for keys, value in pairs:
        text = ".".join(keys)
        node = raw
        for k in keys[:-1]:
            node = node.setdefault(k, {})
            if not isinstance(node, dict):
                raise ConfigError(f"override '{text}': '{k}' is not a section")
        node[keys[-1]] = value
    return raw
