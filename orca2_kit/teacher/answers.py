"""Stage 02: the teacher answers every training task under its strategy's detailed instruction.

Each answer is verified against the task's reference and kept, accepted or rejected with its
reason, in `answers.jsonl` beside the response cache.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import pandas as pd

from orca2_kit.config import TeacherConfig
from orca2_kit.extract import extract_answer, check_answer
from orca2_kit.strategies import teacher_instruction, text_hash
from orca2_kit.tasks import family_info
from orca2_kit.tasks.base import TaskItem
from orca2_kit.teacher import reference
from orca2_kit.client.batch import run_batch
from orca2_kit.client.cache import ResponseCache
from orca2_kit.client.chat_client import TeacherClient


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


REFINE_PROMPT = ("Check your answer above step by step against the instructions and the task. Then write the "
                 "complete answer again, corrected if needed, in the same format, ending with the 'Answer:' line.")


class DryRun(RuntimeError):
    """teacher.dry_run: the plan was printed and no request was sent."""


def _llm_answers(cfg: TeacherConfig, reqs: list[dict], out_dir: Path, cache_file: Path, ledger: Path) -> tuple[list[dict], dict]:
    """Ask the endpoint (through the cache); one record per (task, sample)."""
    # One cache per profile, shared by its runs (outputs/<profile>/teacher_cache.sqlite): keys are
    # content hashes, so a new run pays only for requests no earlier run made.
    cache = ResponseCache(cache_file)
    # the ledger keeps the run's spend across reruns in this run folder: the cap holds for them all
    client = TeacherClient(cfg, cache, ledger=ledger)
    convs = [r["messages"] for r in reqs]
    plan = client.plan(convs, cfg.samples, REFINE_PROMPT if cfg.workflow == "draft_refine" else None)
    (out_dir / "plan.json").write_text(json.dumps(plan, indent=2))
    print(f"teacher plan: {plan['requests']} requests to send ({plan['cached']} cached"
          + (f"; {plan['refine_requests']} of them draft_refine's second round" if plan["refine_requests"] else "")
          + f"), ~{plan['est_input_tokens']} input tokens (at most {plan['max_input_tokens']}), "
          f"<= {plan['max_output_tokens']} output tokens, <= ${plan['est_cost_usd_max']} at the params' prices"
          + (f" (budget ${cfg.budget_usd}, ${client.budget.total:.4f} already spent by this stage)"
             if cfg.budget_usd is not None else ""))
    if cfg.dry_run:
        cache.close()
        raise DryRun("teacher.dry_run is true: nothing was sent. Set teacher.dry_run: false to send "
                     f"{plan['requests']} requests (<= ${plan['est_cost_usd_max']}).")
    if cfg.mode == "batch" and not cfg.replay_only:  # answers land in the cache; what is missing is recorded as failed
        batch_errors = run_batch(client, convs, cfg.samples, out_dir)
        client.send, client.batch_errors = False, batch_errors
        if batch_errors:
            (out_dir / "batch_errors.json").write_text(json.dumps(batch_errors, indent=2))
    replies = client.complete(convs, samples=cfg.samples)
    records = [{"req": r, "sample": k, "answer": rep.text, "error": rep.error, "draft": None}
               for r, reps in zip(reqs, replies) for k, rep in enumerate(reps)]
    if cfg.workflow == "draft_refine":  # second call: the teacher checks and rewrites its own draft
        todo = [x for x in records if x["answer"] is not None]
        refine = [x["req"]["messages"] + [{"role": "assistant", "content": x["answer"]},
                                          {"role": "user", "content": REFINE_PROMPT}] for x in todo]
        for x, rep in zip(todo, client.complete(refine, desc="refine")):
            x.update(draft=x["answer"], answer=rep[0].text, error=rep[0].error)
    stats = {"requests_sent": client.requests_sent, "attempts": client.attempts, "cache_hits": cache.hits,
             "teacher": cfg.model, "endpoint": client.endpoint, "spent_usd": round(client.budget.spent, 6),
             "stage_spent_usd": round(client.budget.total, 6), "plan": plan}
    # the cache rows this run answered from: a workshop bundle carries these and no other run's
    (out_dir / "cache_keys.json").write_text(json.dumps(sorted(client.used_keys)))
    cache.close()
    return records, stats


def run_teacher(cfg: TeacherConfig, items: list[TaskItem], strategy_map: dict[str, str], out_dir: Path,
                cache: Optional[Path] = None, ledger: Optional[Path] = None) -> pd.DataFrame:
    """Answer every task, verify, and save `answers.jsonl` (accepted and rejected, with reasons).
    `cache`: the response cache (default `teacher.cache_path`, else the profile's beside the run
    folder two levels up); `ledger`: the spend ledger (default `out_dir/spend.json`)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    cache = Path(cache or cfg.cache_path or out_dir.resolve().parent.parent / "teacher_cache.sqlite")
    ledger = Path(ledger or out_dir / "spend.json")
    reqs = teacher_requests(items, strategy_map)
    if cfg.kind == "reference":
        records = [{"req": r, "sample": 0, "answer": reference.render(r["item"], r["strategy"]), "error": None,
                    "draft": None} for r in reqs]
        stats = {"requests_sent": 0, "cache_hits": 0, "teacher": reference.NAME, "spent_usd": 0.0}
    else:
        records, stats = _llm_answers(cfg, reqs, out_dir, cache, ledger)
    rows = []
    for x in records:
        it, r = x["req"]["item"], x["req"]
        ok, why = verify(it, x["answer"]) if x["error"] is None else (False, x["error"])
        correct = ok
        if cfg.verify == "none" and x["error"] is None and isinstance(x["answer"], str) and x["answer"].strip():
            ok, why = True, "kept unverified" + ("" if correct else f" (check: {why})")
        rows.append({"id": it.id, "sample": x["sample"], "family": it.family, "strategy": r["strategy"],
                     "prompt": it.prompt, "instruction": r["instruction"], "instruction_hash": text_hash(r["instruction"]),
                     "answer": x["answer"], "draft": x["draft"], "reference": it.reference, "teacher": stats["teacher"],
                     "accepted": ok, "correct": correct, "reason": why})
    df = pd.DataFrame(rows)
    df.to_json(out_dir / "answers.jsonl", orient="records", lines=True, force_ascii=False)
    stats.update(n=len(df), accepted=int(df.accepted.sum()), failed=int(df.answer.isna().sum()))
    (out_dir / "teacher_stats.json").write_text(json.dumps(stats, indent=2))
    return df
