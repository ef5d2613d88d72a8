"""The paper's benchmark suite on lm-evaluation-harness.

The benchmarks are task configs in `tasks/` (data, prompt, filters, metric), loaded through the
harness's include path; `benchmarks.py` turns each benchmark's upstream or mirror files into
documents; `backends.py` adds the kit's system-message protocol to the harness's model classes.
This file runs one (model, system message) over a set of benchmarks and writes the harness's
per-sample logs, which `analysis.py` reads.

    lm = harness.make_lm("hf", model=model, tokenizer=tok, system_mode="empty")
    harness.run(lm, ["gsm8k", "mmlu"], "empty", out_dir, data_dir="../shared/data", limit=20)

The command-line harness works on the same configs:
    lm_eval --include_path orca2_kit/evaluation/harness/tasks --tasks orca2_gsm8k --apply_chat_template \
            --model hf --model_args pretrained=<dir> --metadata '{"data_dir": "../shared/data"}'
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

from orca2_kit.evaluation.harness import benchmarks
from orca2_kit.evaluation.harness.benchmarks import BENCHMARKS, available

TASKS_DIR = Path(__file__).resolve().parent / "tasks"
SYSTEM_MODES = ("empty", "none", "generic", "cautious")


VARIANTS = {"generative": "", "loglikelihood": "_ll", "multiple_choice": "_mc"}  # task name suffixes


def task_name(benchmark: str, variant: str = "generative") -> str:
    if benchmark not in BENCHMARKS:
        raise KeyError(f"unknown benchmark '{benchmark}'; known: {', '.join(BENCHMARKS)}")
    if variant not in VARIANTS:
        raise ValueError(f"variant: '{variant}' is not one of {', '.join(VARIANTS)}")
    if variant == "loglikelihood" and not BENCHMARKS[benchmark].loglikelihood:
        raise KeyError(f"{benchmark} has no log-likelihood variant")
    if variant == "multiple_choice" and benchmark not in benchmarks.STANDARD_MC:
        raise KeyError(f"{benchmark} has no standard multiple-choice form; those with one: "
                       f"{', '.join(benchmarks.STANDARD_MC)}")
    return f"orca2_{benchmark}" + VARIANTS[variant]


def task_manager(data_dir: Optional[str | Path]):
    """The harness's TaskManager over the kit's configs only; `data_dir` reaches every loader."""
    from lm_eval.tasks import TaskManager

    return TaskManager(include_path=str(TASKS_DIR), include_defaults=False,
                       metadata={"data_dir": str(data_dir) if data_dir else None})


def make_lm(backend: str, system_mode: str = "empty", batch_size: int = 16, model=None, tokenizer=None,
            pretrained: Optional[str] = None, adapter: Optional[str] = None, dtype: str = "float32",
            device: str = "cpu", base_url: Optional[str] = None, api_model: Optional[str] = None,
            api_key_env: Optional[str] = "OPENAI_API_KEY", max_length: int = 2048, num_concurrent: int = 4,
            lora_rank: int = 16):
    """A harness model for one system-message variant.

    hf:   a loaded transformers model+tokenizer (`model`, `tokenizer`), or `pretrained` (+ `adapter`)
    vllm: `pretrained` served by vLLM, `adapter` as a LoRA request (no merging)
    chat: an OpenAI-compatible endpoint `base_url` (…/v1) serving `api_model`
    """
    from orca2_kit.evaluation.harness import backends

    if system_mode not in SYSTEM_MODES:
        raise ValueError(f"system_mode: '{system_mode}' is not one of {SYSTEM_MODES}")
    if backend == "hf":
        if model is None and pretrained is None:
            raise ValueError("backend 'hf' needs a loaded model or `pretrained`")
        kwargs = ({"pretrained": model, "tokenizer": tokenizer} if model is not None
                  else {"pretrained": pretrained, "peft": adapter, "dtype": dtype, "device": device})
        # quiet: HFLM warns that an already-loaded model was passed, which is what the kit means to do
        return _quiet(backends.Orca2HFLM)(system_mode=system_mode, batch_size=batch_size, max_length=max_length, **kwargs)
    if backend == "vllm":
        cls = backends.vllm_class()
        return cls(pretrained=pretrained, lora_local_path=adapter, max_lora_rank=lora_rank, dtype=dtype,
                   batch_size="auto", max_model_len=max_length, system_mode=system_mode)
    if backend == "chat":
        if not base_url or not api_model:
            raise ValueError("backend 'chat' needs base_url (…/v1) and api_model")
        return backends.Orca2ChatAPI(base_url=base_url.rstrip("/") + "/chat/completions", model=api_model,
                                     system_mode=system_mode, api_key_env=api_key_env, num_concurrent=num_concurrent,
                                     max_retries=3, timeout=300, max_length=max_length)
    raise ValueError(f"backend: '{backend}' is not one of hf, vllm, chat")


def run(lm, names: list[str], system_mode: str, out_dir: str | Path, data_dir: Optional[str | Path] = None,
        limit: Optional[int] = None, variant: str = "generative", system_message_file: Optional[str] = None,
        max_gen_toks: Optional[int] = None, seed: int = 1234, tm=None, fingerprint: Optional[str] = None) -> dict:
    """Evaluate `names` with the harness; write results.json and samples_<task>.jsonl to out_dir.

    A finished out_dir (results.json present) made with the same arguments is read back instead of
    recomputed, so a rerun after a crash redoes only what did not finish; one made with other
    arguments is recomputed. `fingerprint` names the model (and anything else the arguments do not
    show): the stage passes its own fingerprint. Returns the harness's results dict (without samples).
    """
    import lm_eval
    from lm_eval.utils import handle_non_serializable

    from orca2_kit import fingerprint as fp
    from orca2_kit.generation import system_text

    out = Path(out_dir)
    done = out / "results.json"
    made_from = fp.digest({"names": list(names), "system_mode": system_mode, "variant": variant, "limit": limit,
                           "max_gen_toks": max_gen_toks, "seed": seed, "data_dir": str(data_dir) if data_dir else None,
                           "system_message": system_text(system_mode, system_message_file) if system_message_file else None,
                           "model": fingerprint})
    if fp.matches(done, made_from):
        return json.loads(done.read_text())
    tasks = [task_name(n, variant) for n in names]
    chat = variant == "generative"
    system = system_text(system_mode, system_message_file) if chat else None
    results = _quiet(lm_eval.simple_evaluate)(
        model=lm, tasks=tasks, task_manager=tm or task_manager(data_dir), limit=limit, num_fewshot=0,
        apply_chat_template=chat, system_instruction=system or None, log_samples=True,
        gen_kwargs={"max_gen_toks": max_gen_toks} if (max_gen_toks and chat) else None,
        random_seed=seed, numpy_random_seed=seed, torch_random_seed=seed, fewshot_random_seed=seed,
        bootstrap_iters=0)
    out.mkdir(parents=True, exist_ok=True)
    samples = results.pop("samples", {})
    for task, rows in samples.items():
        with open(out / f"samples_{task}.jsonl", "w", encoding="utf-8") as f:
            for r in rows:
                f.write(json.dumps(r, default=handle_non_serializable, ensure_ascii=False) + "\n")
    keep = {k: results[k] for k in ("results", "configs", "versions", "n-samples") if k in results}
    keep["orca2"] = {"system_mode": system_mode, "variant": variant, "limit": limit, "benchmarks": names}
    tmp = done.with_suffix(".tmp")
    tmp.write_text(json.dumps(keep, indent=1, default=handle_non_serializable))
    tmp.replace(done)  # written last (then its stamp): its presence means the whole evaluation finished
    fp.stamp(done, made_from)
    return keep


def _quiet(fn):
    """Run a harness call with its INFO/WARNING chatter off (how to pass --metadata on its CLI, that
    an already-loaded model was passed, that gen_kwargs override the task's): it addresses the
    harness's command-line users and means nothing to a notebook reader. Errors still show."""
    import functools
    import logging

    @functools.wraps(fn)
    def run(*args, **kwargs):
        log = logging.getLogger("lm_eval")
        level = log.level
        log.setLevel(logging.ERROR)
        try:
            return fn(*args, **kwargs)
        finally:
            log.setLevel(level)

    return run


__all__ = ["BENCHMARKS", "available", "benchmarks", "make_lm", "run", "task_manager", "task_name"]
