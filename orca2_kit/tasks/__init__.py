"""The task suite: built-in generated families, or a real collection from files or the hub.

`build_suite` returns {"train": [...], "dev": [...], "test": [...]} of `TaskItem`s, deterministic
from the seed. The test split is drawn first, so changing the train size never changes the
held-out items.
"""
from __future__ import annotations

import functools
import hashlib
import json
import random
from dataclasses import replace
from pathlib import Path
from typing import Iterable, Optional

from orca2_kit.tasks.base import ANSWER_FORMAT, ANSWER_TYPES, Family, Solution, TaskItem  # noqa: F401
from orca2_kit.tasks.families import FAMILIES

SPLITS = ("train", "dev", "test")
REQUIRED_COLUMNS = ("task", "prompt", "reference")


def family_names(families: Optional[Iterable[str]] = None) -> list[str]:
    names = list(families) if families else list(FAMILIES)
    unknown = [f for f in names if f not in FAMILIES]
    if unknown:
        raise ValueError(f"tasks.families: unknown famil{'y' if len(unknown) == 1 else 'ies'} {unknown}; "
                         f"built-in families are {list(FAMILIES)}")
    return names


def build_suite(seed: int, families: Optional[Iterable[str]] = None, n_train: int = 60, n_dev: int = 8,
                n_test: int = 16, heldout: Iterable[str] = ()) -> dict[str, list[TaskItem]]:
    """Draw distinct items per family and deal them into test, dev, then train.

    Each split draws its people, places, capitals and elements from its own part of the fact tables
    (facts.split_pool), so no test item shares a fact with a training item. `heldout` families get
    test items only: the student never trains on them, and notebook 05 scores them zero-shot."""
    suite: dict[str, list[TaskItem]] = {s: [] for s in SPLITS}
    heldout = set(heldout)
    for name in family_names(families):
        sizes = {"test": n_test, "dev": 0 if name in heldout else n_dev, "train": 0 if name in heldout else n_train}
        rng = random.Random(f"orca2-kit:{seed}:{name}")  # str seeds are stable across runs
        seen: set[str] = set()
        for split in ("test", "dev", "train"):
            rng.split = split  # read by the family's generator (families.common.pool)
            count, tries = 0, 0
            while count < sizes[split]:
                tries += 1
                if tries > 50 * sizes[split] + 1000:
                    raise RuntimeError(f"family '{name}' could not produce {sizes[split]} distinct {split} items")
                item = FAMILIES[name].make(rng)
                if item.prompt in seen:
                    continue
                seen.add(item.prompt)
                suite[split].append(replace(item, id=f"{name}/{split}/{count}", split=split))
                count += 1
    return suite


class LeakageError(RuntimeError):
    """A held-out item's fact appears in the training data."""


def leak_keys(item: TaskItem) -> set[str]:
    """The partitioned facts an item rests on (people, invented names and towns, countries, capitals,
    elements, verbs), named in its prompt or reference: none of them may appear in a training answer."""
    text = f"{item.prompt}\n{item.reference}"
    return {v for v, pattern in _leak_vocab() if pattern.search(text)}


@functools.lru_cache(maxsize=1)
def _leak_vocab() -> tuple:
    """(name, its whole-word pattern) for every entry of the partitioned tables, compiled once: there
    are more than the re module's cache holds, and recompiling them per item took most of a check."""
    import re

    from orca2_kit.tasks.facts import COUNTRIES, ELEMENTS, FIRST_NAMES, OTHER_COUNTRIES, PEOPLE, SURNAMES, VERBS
    from orca2_kit.tasks.families import TOWNS

    vocab = [c for row in COUNTRIES for c in row[:2]] + [e[0] for e in ELEMENTS] + [p[0] for p in PEOPLE]
    vocab += list(FIRST_NAMES) + list(SURNAMES) + list(TOWNS) + [c for c, _ in OTHER_COUNTRIES]
    vocab += [v for v, _ in VERBS]  # a verb's base form (past_tense): no other family's text names one
    return tuple((v, re.compile(rf"(?<!\w){re.escape(v)}(?!\w)", re.IGNORECASE)) for v in dict.fromkeys(vocab))


def check_leakage(heldout_items: Iterable[TaskItem], training_texts: Iterable[str]) -> dict:
    """Fail if any fact of a held-out (test or dev) item appears in any training text (the teacher's
    answers and the training prompts). Returns {"checked_items", "checked_texts", "keys"}."""
    import re

    texts = list(training_texts)
    items = list(heldout_items)
    keys: dict[str, str] = {}
    for it in items:
        for k in leak_keys(it):
            keys.setdefault(k.lower(), it.id)
    if keys and texts:
        pattern = re.compile(r"(?<!\w)(" + "|".join(re.escape(k) for k in sorted(keys, key=len, reverse=True)) + r")(?!\w)",
                             re.IGNORECASE)
        for n, t in enumerate(texts):
            m = pattern.search(t or "")
            if m:
                raise LeakageError(f"held-out item {keys[m.group(1).lower()]} rests on '{m.group(1)}', which also appears "
                                   f"in training text {n}: {t[:120]!r}; the splits must not share facts "
                                   "(see orca2_kit/tasks/facts.py, split_pool)")
    return {"checked_items": len(items), "checked_texts": len(texts), "keys": len(keys)}


def save_items(items: Iterable[TaskItem], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as f:
        for it in items:
            f.write(json.dumps(it.to_row()) + "\n")
    return path


def load_items(path: Path) -> list[TaskItem]:
    with open(path) as f:
        return [TaskItem.from_row(json.loads(line)) for line in f if line.strip()]


# --------------------------------------------------------------------------- real collections


def _split_of(prompt: str) -> str:
    """Rows without a split column are dealt 80/10/10 by a hash of the prompt (stable, seedless)."""
    h = int(hashlib.sha256(prompt.encode()).hexdigest()[:8], 16) % 10
    return "test" if h == 0 else "dev" if h == 1 else "train"


def items_from_rows(rows: Iterable[dict], source: str) -> dict[str, list[TaskItem]]:
    """Rows with task, prompt, reference columns (optional: split, answer_type, choices, id)."""
    suite: dict[str, list[TaskItem]] = {s: [] for s in SPLITS}
    for n, row in enumerate(rows):
        # a key absent from some JSON lines is read as None: missing too, never the string 'None'
        missing = [c for c in REQUIRED_COLUMNS if row.get(c) is None]
        if missing:
            raise ValueError(f"{source}: row {n} lacks column(s) {missing}; task files need columns "
                             f"{list(REQUIRED_COLUMNS)} (optional: split, answer_type, choices)")
        for col in ("prompt", "reference"):
            if not str(row[col]).strip():
                raise ValueError(f"{source}: row {n} has an empty {col}")
        atype = row.get("answer_type") or "text"
        if atype not in ANSWER_TYPES:
            raise ValueError(f"{source}: row {n} has answer_type '{atype}'; allowed: {list(ANSWER_TYPES)}")
        split = row.get("split") or _split_of(row["prompt"])
        if split not in SPLITS:
            raise ValueError(f"{source}: row {n} has split '{split}'; allowed: {list(SPLITS)}")
        choices = row.get("choices") or ()
        suite[split].append(TaskItem(
            id=str(row.get("id") or f"{row['task']}/{split}/{len(suite[split])}"), family=str(row["task"]),
            split=split, prompt=str(row["prompt"]), reference=str(row["reference"]), answer_type=atype,
            choices=tuple(choices), solution=Solution()))
    return suite


def load_task_files(path: str | Path) -> dict[str, list[TaskItem]]:
    """A JSONL or parquet file, or a directory of them."""
    import datasets

    path = Path(path).expanduser()
    files = sorted(p for p in (path.rglob("*") if path.is_dir() else [path])
                   if p.suffix in (".jsonl", ".json", ".parquet"))
    if not files:
        raise FileNotFoundError(f"tasks.path: no .jsonl/.json/.parquet files at '{path}'")
    kind = "parquet" if files[0].suffix == ".parquet" else "json"
    for f in files:
        if f.suffix != ".parquet":
            _check_json_text(f)
    ds = datasets.load_dataset(kind, data_files=[str(f) for f in files], split="train")
    return items_from_rows(ds, str(path))


def _check_json_text(path: Path) -> None:
    """One clear line for a task file that is not UTF-8 or not JSON (the loader's own errors are
    pages of Arrow traceback)."""
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as e:
        raise ValueError(f"tasks.path: '{path}' is not UTF-8 text (byte {e.object[e.start]:#04x} at offset {e.start}); "
                         "save it as UTF-8") from None
    if path.suffix == ".json" and text.lstrip().startswith("["):
        try:
            json.loads(text)
            return
        except json.JSONDecodeError as e:
            raise ValueError(f"tasks.path: '{path}' is not valid JSON (line {e.lineno}: {e.msg})") from None
    for n, line in enumerate(text.splitlines(), 1):
        if line.strip():
            try:
                json.loads(line)
            except json.JSONDecodeError as e:
                raise ValueError(f"tasks.path: '{path}' line {n} is not valid JSON ({e.msg}); "
                                 "task files hold one JSON object per line") from None


def load_task_hub(hub_id: str) -> dict[str, list[TaskItem]]:
    import datasets

    dsd = datasets.load_dataset(hub_id)
    rows = [dict(r, split=r.get("split") or (s if s in SPLITS else None)) for s in dsd for r in dsd[s]]
    return items_from_rows(rows, hub_id)


def load_suite(cfg, seed: int) -> dict[str, list[TaskItem]]:
    """The suite a profile asks for (`cfg` is the profile's TasksConfig)."""
    if cfg.source == "builtin":
        return build_suite(seed, cfg.families, cfg.n_train, cfg.n_dev, cfg.n_test, cfg.heldout_families)
    suite = load_task_files(cfg.path) if cfg.source == "file" else load_task_hub(cfg.hub_id)
    if cfg.families:
        have = sorted({it.family for items in suite.values() for it in items})
        absent = [f for f in cfg.families if f not in have]
        if absent:
            raise ValueError(f"tasks.families: {absent} not among the collection's tasks {have}")
        suite = {s: [it for it in items if it.family in cfg.families] for s, items in suite.items()}
    return suite


def family_info(name: str) -> dict:
    """Description and expected strategy of a family (None for families from real collections)."""
    f = FAMILIES.get(name)
    if f is None:
        return {"family": name, "description": f"the task '{name}'", "expected_strategy": None, "why": ""}
    return {"family": name, "description": f.description, "expected_strategy": f.expected_strategy, "why": f.why}


def overview(suite: dict[str, list[TaskItem]]):
    """A table: one row per family with its expected strategy and split sizes."""
    import pandas as pd

    families = list(dict.fromkeys(it.family for items in suite.values() for it in items))
    rows = []
    for f in families:
        info = family_info(f)
        rows.append({"family": f, "description": info["description"], "expected_strategy": info["expected_strategy"],
                     **{s: sum(it.family == f for it in suite[s]) for s in suite}})
    return pd.DataFrame(rows)
