"""Validation errors as one line per key: the key, what is wrong, the value (never a secret's), and
the closest known key for a typo ("did you mean")."""
from __future__ import annotations

import difflib
import re

from pydantic import BaseModel, ValidationError


def _known_keys(model: type[BaseModel], loc: tuple) -> list[str]:
    for part in loc[:-1]:
        field = model.model_fields.get(str(part))
        ann = getattr(field, "annotation", None) if field else None
        if not (isinstance(ann, type) and issubclass(ann, BaseModel)):
            return []
        model = ann
    return list(model.model_fields)


KEY_LIKE = re.compile(r"(^|_)(key|key_env|secret|password|token|credentials?)$")  # fields whose value is never echoed


def format_errors(err: ValidationError, source: str, root: type[BaseModel]) -> str:
    """`root`: the schema the errors were raised against (Params), for the known keys of a typo's section."""
    lines = []
    for e in err.errors():
        loc = tuple(e["loc"])
        key = ".".join(str(x) for x in loc) or "(top level)"
        if e["type"] == "extra_forbidden":
            close = difflib.get_close_matches(str(loc[-1]), _known_keys(root, loc), n=1)
            hint = f" Did you mean '{'.'.join(map(str, loc[:-1] + (close[0],)))}'?" if close else ""
            lines.append(f"{key}: unknown key.{hint}")
        else:
            msg = e["msg"].removeprefix("Value error, ")
            field, sep, rest = msg.partition(": ")  # section-level checks name their field first
            if sep and field.isidentifier() and field in _known_keys(root, loc + (field,)):
                key, msg = (f"{key}.{field}" if loc else field), rest
            got = e.get("input")
            # never echo what may be a secret: a key pasted where its variable's NAME goes
            hidden = bool(loc) and bool(KEY_LIKE.search(str(loc[-1]).lower()))
            lines.append(f"{key}: {msg}" + ("" if isinstance(got, dict) else " (value not shown)" if hidden
                                             else f" (got {got!r})"))
    if len(lines) == 1:  # the usual case: one line that names the key
        return f"invalid profile {source}: {lines[0]}"
    return f"invalid profile {source}:\n  " + "\n  ".join(lines)
