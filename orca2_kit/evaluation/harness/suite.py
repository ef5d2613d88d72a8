"""Notebook 05's harness step: every model x system message x available benchmark, then MT-Bench.

    <out>/<model>/<system>/generative/   the chat protocol, one run per system message
    <out>/<model>/raw/loglikelihood/     the log-likelihood variant (no chat template, no system turn)
    <out>/<model>/raw/multiple_choice/   the field's standard multiple-choice form (option text as continuation)
    <out>/<model>/<system>/mt_bench.jsonl, mt_bench_judge.jsonl

A finished run directory is reused when it was made from the same params (the stage's fingerprint,
see orca2_kit/fingerprint.py), so a rerun after a crash redoes only what did not finish, and a
rerun with other params redoes what they change.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Optional

from orca2_kit import fingerprint as fp
from orca2_kit.config import Params
from orca2_kit.generation import system_text
from orca2_kit.evaluation.harness import BENCHMARKS, available, make_lm, mt_bench, run, task_manager
from orca2_kit.evaluation.harness.benchmarks import STANDARD_MC
from orca2_kit.evaluation.harness.backends import EmptySystemNotPossible


def plan(p: Params, data_dir: Optional[Path]) -> tuple[list[str], list[dict]]:
    """The benchmarks to run, and a one-line reason for each one skipped."""
    status = available(data_dir)
    wanted = list(status) if p.eval.harness.benchmarks == "available" else list(p.eval.harness.benchmarks)
    run_these = [b for b in wanted if status.get(b) == "ok"]
    skipped = [{"benchmark": b, "reason": status[b]} for b in wanted if status.get(b) != "ok"]
    return run_these, skipped


def loglikelihood_plan(p: Params, bench: list[str]) -> tuple[list[str], list[str], list[dict]]:
    """The benchmarks for the letter form (`_ll`) and the standard form (`_mc`), and any skipped, why."""
    h = p.eval.harness
    ll = [b for b in bench if BENCHMARKS[b].loglikelihood] if h.loglikelihood else []
    mc = [b for b in bench if b in STANDARD_MC] if h.standard_mc else []
    if h.backend != "chat":
        return ll, mc, []
    reason = ("the chat backend cannot score log-likelihoods (chat APIs return no prompt log-probabilities); "
              "use backend hf or vllm, or set eval.harness.loglikelihood and eval.harness.standard_mc to false")
    return [], [], [{"benchmark": b, "variant": v, "reason": reason}
                    for v, names in (("loglikelihood", ll), ("multiple_choice", mc)) for b in names]


def evaluate(p: Params, models: list[tuple[str, Optional[str]]], out: Path, data_dir: Optional[Path],
             log=print) -> dict:
    """Run the suite for [(name, adapter_or_None), ...]; returns {'skipped': [...], 'mt_bench': ...}."""
    from orca2_kit.models import load_tokenizer, student_path

    h = p.eval.harness
    if h.max_new_tokens == "auto":
        raise ValueError("eval.harness.max_new_tokens is 'auto': resolve it first (suite.with_budget)")
    names, skipped = plan(p, data_dir)
    bench = [b for b in names if b in BENCHMARKS]
    ll, mc, not_scored = loglikelihood_plan(p, bench)
    skipped += not_scored
    if not_scored:
        log(f"log-likelihood variants skipped: {not_scored[0]['reason']}")
    tm = task_manager(data_dir)
    from orca2_kit.models import resolve_device, scoring_dtype

    # the built-in evaluation's scoring dtype (generation.dtype): one student, one set of numbers
    dtype = str(scoring_dtype(p.generation.dtype, resolve_device(p.device))).removeprefix("torch.")
    stage_fp = fp.fingerprints(p)["05_benchmark_eval"]
    if out.exists() and not fp.matches(out, stage_fp):  # results of other params: analysis must not read them
        aside = out.with_name(out.name + ".superseded")
        shutil.rmtree(aside, ignore_errors=True)
        out.rename(aside)
        log(f"harness: {out} was made with other params; moved to {aside.name}, evaluating again")
    out.mkdir(parents=True, exist_ok=True)
    fp.stamp(out, stage_fp)
    mt_rows: list[dict] = []
    if not (bench or ll or mc or "mt_bench" in names):  # nothing to score (no data): load no model for it
        return {"skipped": skipped, "mt_bench": mt_rows}
    for name, adapter in models:
        made_from = fp.digest([stage_fp, name, str(adapter)])  # the model: its params upstream, and its files' path
        model = tok = None
        path = student_path(p.student)
        if adapter and not (Path(adapter) / "adapter_config.json").is_file():  # a fully fine-tuned model
            path, adapter = adapter, None
        if h.backend == "hf":
            from orca2_kit.models import cache_root, load_model

            model = load_model(path, p.device, dtype, adapter, p.student.revision, p.generation.engine,
                               cache_root(p.student))
            tok = load_tokenizer(path, p.student.revision)

        for mode in p.eval.system_messages:
            try:
                lm = _lm(p, mode, model, tok, path, adapter, dtype)
            except EmptySystemNotPossible as e:
                skipped.append({"benchmark": "all", "model": name, "system": mode, "reason": str(e)})
                log(f"{name} / {mode}: skipped — {e}")
                continue
            if bench:
                run(lm, bench, mode, out / name / mode / "generative", data_dir=data_dir, limit=h.limit,
                    system_message_file=p.erasure.system_message_file, max_gen_toks=h.max_new_tokens, seed=p.seed, tm=tm,
                    fingerprint=made_from)
            if "mt_bench" in names:
                mt_rows += _mt_bench(lm, p, name, mode, out / name / mode, data_dir, log, made_from)
        if ll or mc:
            lm = _lm(p, "none", model, tok, path, adapter, dtype)
        if ll:
            run(lm, ll, "none", out / name / "raw" / "loglikelihood", data_dir=data_dir, limit=h.limit,
                variant="loglikelihood", seed=p.seed, tm=tm, fingerprint=made_from)
        if mc:
            run(lm, mc, "none", out / name / "raw" / "multiple_choice", data_dir=data_dir, limit=h.limit,
                variant="multiple_choice", seed=p.seed, tm=tm, fingerprint=made_from)
        del model
    return {"skipped": skipped, "mt_bench": mt_rows}


def with_budget(p: Params, auto_tokens: int) -> Params:
    """The params with `eval.harness.max_new_tokens: auto` resolved to `auto_tokens` (05's budget
    for the built-in items, from the teacher's accepted answers)."""
    h = p.eval.harness
    if h.max_new_tokens != "auto":
        return p
    return p.model_copy(update={"eval": p.eval.model_copy(update={"harness": h.model_copy(
        update={"max_new_tokens": int(auto_tokens)})})})


def _lm(p: Params, mode: str, model, tok, path: str, adapter: Optional[str], dtype: str):
    h = p.eval.harness
    kw = dict(system_mode=mode, batch_size=h.batch_size, max_length=p.generation.max_prompt_tokens + h.max_new_tokens)
    if h.backend == "hf":
        return make_lm("hf", model=model, tokenizer=tok, **kw)
    if h.backend == "vllm":
        return make_lm("vllm", pretrained=path, adapter=adapter, dtype=dtype, lora_rank=p.train.lora_r, **kw)
    return make_lm("chat", base_url=h.endpoint.base_url, api_model=h.endpoint.model,
                   api_key_env=h.endpoint.api_key_env, **kw)


def _mt_bench(lm, p: Params, name: str, mode: str, out: Path, data_dir: Path, log,
              made_from: Optional[str] = None) -> list[dict]:
    h = p.eval.harness
    if not h.judge.base_url:
        log(f"MT-Bench {name} / {mode}: skipped — no judge configured (set eval.harness.judge.base_url and .model)")
        return []
    answers_file, judge_file = out / "mt_bench.jsonl", out / "mt_bench_judge.jsonl"
    answers_fp = fp.digest([made_from or fp.fingerprints(p)["05_benchmark_eval"], name, mode, "answers"])
    grades_fp = fp.digest([answers_fp, h.judge.base_url, h.judge.model, "grades"])
    if fp.matches(answers_file, answers_fp):  # answers (and grades) of other params are made again
        rows = [json.loads(x) for x in answers_file.open()]
    else:
        qs = mt_bench.load_questions(data_dir, h.mt_bench_limit)
        system = system_text(mode, p.erasure.system_message_file) if mode in ("generic", "cautious") else None
        rows = mt_bench.answer(lm, qs, system=system, max_gen_toks=h.max_new_tokens)
        _write_jsonl(answers_file, rows)
        fp.stamp(answers_file, answers_fp)
    if fp.matches(judge_file, grades_fp):
        grades = [json.loads(x) for x in judge_file.open()]
    else:
        grades = mt_bench.judge(rows, h.judge.base_url, h.judge.model, data_dir, h.judge.api_key_env)
        _write_jsonl(judge_file, grades)
        fp.stamp(judge_file, grades_fp)
    return [{"model": name, "system": mode, **g} for g in grades]


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    tmp.replace(path)
