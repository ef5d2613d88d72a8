"""MT-Bench: two-turn answers from any harness backend, graded 1-10 by an LLM judge.

The questions, reference answers and judge prompts are FastChat's own files (`mt_bench/question.jsonl`,
`reference_answer/gpt-4.jsonl`, `judge_prompts.jsonl`): single-answer grading, with the reference
answer shown for math, reasoning and coding, and the rating read from "[[X]]". The judge is any
OpenAI-compatible endpoint named in params; without one, the answers are still written and the
grading is skipped with a message. A judge reply without a readable rating is counted as
malformed, not as a score.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Optional

from tqdm.auto import tqdm

NEED_REFERENCE = ("math", "reasoning", "coding")
_RATING = re.compile(r"\[\[(\d+(?:\.\d+)?)\]\]")


def load_questions(data_dir: str | Path, limit: Optional[int] = None) -> list[dict]:
    d = Path(data_dir) / "mt_bench"
    qs = [json.loads(ln) for ln in open(d / "question.jsonl", encoding="utf-8") if ln.strip()]
    refs = {}
    ref_file = d / "reference_answer" / "gpt-4.jsonl"
    if ref_file.is_file():
        for ln in open(ref_file, encoding="utf-8"):
            r = json.loads(ln)
            refs[r["question_id"]] = r["choices"][0]["turns"]
    for q in qs:
        if len(q.get("turns", [])) != 2:
            raise ValueError(f"mt_bench question {q.get('question_id')}: expected two turns")
        q["reference"] = refs.get(q["question_id"])
    # round-robin over categories, so a small `limit` still covers writing, math, coding, ...
    cats: dict[str, list[dict]] = {}
    for q in qs:
        cats.setdefault(q["category"], []).append(q)
    order = [q for k in range(max(map(len, cats.values()))) for c in cats.values() if k < len(c) for q in [c[k]]]
    return order[:limit] if limit else order


def answer(lm, questions: list[dict], system: Optional[str] = None, max_gen_toks: int = 256) -> list[dict]:
    """Both turns for every question through the harness model (its chat template and system protocol).

    `system` is the system message text (generic, cautious); None leaves it to the backend's
    system_mode (an explicit empty turn for "empty")."""
    from lm_eval.api.instance import Instance

    gen = {"until": ["<|im_end|>", "</s>", "<|endoftext|>"], "max_gen_toks": max_gen_toks, "do_sample": False}
    histories = [([{"role": "system", "content": system}] if system else []) for _ in questions]
    turns: list[list[str]] = [[] for _ in questions]
    for t in range(2):
        reqs = []
        for i, q in enumerate(questions):
            histories[i].append({"role": "user", "content": q["turns"][t]})
            ctx = lm.apply_chat_template(histories[i], add_generation_prompt=True)
            reqs.append(Instance("generate_until", q, (ctx, dict(gen)), idx=0, metadata=("mt_bench", i, 1)))
        outs = lm.generate_until(reqs)
        for i, o in enumerate(outs):
            turns[i].append(o.strip())
            histories[i].append({"role": "assistant", "content": o.strip()})
    return [{"question_id": q["question_id"], "category": q["category"], "turns": q["turns"], "answers": a,
             "reference": q.get("reference")} for q, a in zip(questions, turns)]


def load_judge_prompts(data_dir: str | Path) -> dict[str, dict]:
    path = Path(data_dir) / "mt_bench" / "judge_prompts.jsonl"
    if not path.is_file():
        raise FileNotFoundError(f"MT-Bench judge prompts not found: {path} (FastChat's judge_prompts.jsonl)")
    return {p["name"]: p for p in map(json.loads, open(path, encoding="utf-8"))}


def judge_messages(row: dict, turn: int, prompts: dict[str, dict]) -> list[dict]:
    ref = row["category"] in NEED_REFERENCE and row.get("reference")
    name = ("single-math-v1" if ref else "single-v1") + ("-multi-turn" if turn == 2 else "")
    p = prompts[name]
    fields = {"question": row["turns"][0], "answer": row["answers"][0],
              "question_1": row["turns"][0], "question_2": row["turns"][1],
              "answer_1": row["answers"][0], "answer_2": row["answers"][1]}
    if ref:
        fields.update(ref_answer_1=row["reference"][0], ref_answer_2=row["reference"][1])
    return [{"role": "system", "content": p["system_prompt"]},
            {"role": "user", "content": p["prompt_template"].format(**fields)}]


def read_rating(text: str) -> Optional[float]:
    """The judge's '[[X]]' rating (1-10), or None when the reply has no readable one."""
    m = _RATING.findall(text or "")
    if not m:
        return None
    v = float(m[-1])
    return v if 1 <= v <= 10 else None


def judge(rows: list[dict], base_url: str, model: str, data_dir: str | Path, api_key_env: Optional[str] = None,
          max_tokens: int = 512, timeout_s: float = 300) -> list[dict]:
    """Grade both turns of every row: {question_id, turn, rating (or None), malformed, judgment}."""
    from openai import OpenAI

    key = os.environ.get(api_key_env or "", "") or "EMPTY"
    client = OpenAI(base_url=base_url, api_key=key, max_retries=4, timeout=timeout_s)
    prompts = load_judge_prompts(data_dir)
    out = []
    for row in tqdm(rows, desc="MT-Bench judge"):
        for turn in (1, 2):
            r = client.chat.completions.create(model=model, messages=judge_messages(row, turn, prompts),
                                               temperature=0, max_tokens=max_tokens)
            text = r.choices[0].message.content or ""
            rating = read_rating(text)
            out.append({"question_id": row["question_id"], "category": row["category"], "turn": turn,
                        "rating": rating, "malformed": rating is None, "judgment": text})
    return out
