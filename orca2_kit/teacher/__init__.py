"""Stage 02: the teacher answers every training task under its strategy's detailed instruction.

Each answer is verified against the task's reference and kept, accepted or rejected with its
reason, in `answers.jsonl` beside the response cache.
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from ..config import TeacherConfig
from ..extract import extract_answer, check_answer
from ..strategies import teacher_instruction, text_hash
from ..tasks import family_info
from ..tasks.base import TaskItem
from . import reference
from .cache import ResponseCache
from .client import TeacherClient


def verify(item: TaskItem, answer: str | None) -> tuple[bool, str]:
    """Accept an answer only if its 'Answer:' line is right; else say why not."""
    if answer is None:
        return False, "no answer"
    ex = extract_answer(answer, item.answer_type, item.choices)
    if ex.strict is None:
        return False, "no 'Answer:' line"
    if not check_answer(ex.strict, item.reference, item.answer_type, item.choices):
        return False, f"wrong answer: {ex.strict!r} (reference {item.reference!r})"
    return True, "ok"


def teacher_requests(items: list[TaskItem], strategy_map: dict[str, str]) -> list[dict]:
    """One request per item: the strategy's instruction as system message, the task as user turn."""
    reqs = []
    for it in items:
        strategy = strategy_map[it.family]
        instruction = teacher_instruction(strategy, family_info(it.family)["description"])
        reqs.append({"item": it, "strategy": strategy, "instruction": instruction,
                     "messages": [{"role": "system", "content": instruction}, {"role": "user", "content": it.prompt}]})
    return reqs


def run_teacher(cfg: TeacherConfig, items: list[TaskItem], strategy_map: dict[str, str], out_dir: Path) -> pd.DataFrame:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    reqs = teacher_requests(items, strategy_map)
    stats = {"requests_sent": 0, "cache_hits": 0, "teacher": reference.NAME}
    if cfg.kind == "reference":
        answers = [reference.render(r["item"], r["strategy"]) for r in reqs]
        errors = [None] * len(reqs)
    else:
        cache = ResponseCache(cfg.cache_path or out_dir / "cache.sqlite")
        client = TeacherClient(cfg, cache)
        replies = [r[0] for r in client.complete([r["messages"] for r in reqs])]
        answers, errors = [r.text for r in replies], [r.error for r in replies]
        stats = {"requests_sent": client.requests_sent, "cache_hits": cache.hits, "teacher": cfg.model}
        cache.close()
    rows = []
    for r, ans, err in zip(reqs, answers, errors):
        ok, why = verify(r["item"], ans) if err is None else (False, err)
        it = r["item"]
        rows.append({"id": it.id, "family": it.family, "strategy": r["strategy"], "prompt": it.prompt,
                     "instruction": r["instruction"], "instruction_hash": text_hash(r["instruction"]),
                     "answer": ans, "reference": it.reference, "teacher": stats["teacher"],
                     "accepted": ok, "reason": why})
    df = pd.DataFrame(rows)
    df.to_json(out_dir / "answers.jsonl", orient="records", lines=True, force_ascii=False)
    (out_dir / "teacher_stats.json").write_text(json.dumps({**stats, "n": len(df), "accepted": int(df.accepted.sum())}, indent=2))
    return df
