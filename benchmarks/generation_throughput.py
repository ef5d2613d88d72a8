"""Batched greedy generation on this CPU: the kit's layer against plain `model.generate`, in one run.

    .venv/bin/python benchmarks/generation_throughput.py [--dtype float32] [--max-new-tokens 80,160] [--repeats 2]

The prompts are what notebook 05 generates on the offline profile: the held-out built-in items
(params/offline.yaml: 12 per family) under each evaluation system message, through the student's
chat template. Three ways to answer them, alternately (drift of a shared machine hits all):
- plain: `model.generate` on left-padded batches of `--batch-size` prompts in input order, greedy,
  stopping at end of turn (what one writes by hand);
- kit (same work): `generation.generate_detailed(..., stop_after_answer=False)`, the continuous-
  batching decoder (orca2_kit/generation/greedy.py) — the same stopping rule as plain, so the same tokens;
- kit: the same with its stop after a finished 'Answer:' line (what the notebooks run).
Reported per limit: wall seconds, new tokens, tokens/s and documents/s of each (median over the
repeats), the ratios to plain, how many completions are identical to plain's text (in fp32 they
must all be), the dtype, batch, limits, threads and the load average before and after.
Writes outputs/benchmarks/generation_throughput.json.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent


def prompts(params) -> list[list[dict]]:
    from orca2_kit import tasks
    from orca2_kit.generation import messages, system_text

    t = params.tasks
    items = tasks.build_suite(params.seed, n_train=t.n_train, n_dev=t.n_dev, n_test=t.n_test)["test"]
    return [messages(system_text(mode), it.prompt) for mode in params.eval.system_messages for it in items]


def plain_generate(model, tok, convs, limit: int, batch_size: int) -> list[tuple[str, int]]:
    """Left-padded batches in input order through `model.generate`; (text, new tokens) per prompt."""
    texts = [tok.apply_chat_template(c, tokenize=False, add_generation_prompt=True) for c in convs]
    eos = set(tok.convert_tokens_to_ids([tok.eos_token])) | {model.generation_config.eos_token_id}
    tok.padding_side = "left"
    out = []
    for i in range(0, len(texts), batch_size):
        enc = tok(texts[i:i + batch_size], return_tensors="pt", padding=True, add_special_tokens=False)
        with torch.inference_mode():
            gen = model.generate(**enc, max_new_tokens=limit, do_sample=False, temperature=None, top_p=None,
                                 top_k=None, pad_token_id=tok.pad_token_id)
        for row in gen[:, enc["input_ids"].shape[1]:].tolist():
            n = next((j + 1 for j, t in enumerate(row) if t in eos), len(row))
            out.append((tok.decode(row[:n], skip_special_tokens=True).strip(), n))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dtype", default=None, help="float32 or bfloat16 (default: the offline profile's scoring dtype)")
    ap.add_argument("--batch-size", type=int, default=None, help="default: generation.batch_size of the offline profile")
    ap.add_argument("--max-new-tokens", default="80,160")
    ap.add_argument("--limit", type=int, default=None, help="only the first N prompts")
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--out", default=str(ROOT / "outputs" / "benchmarks" / "generation_throughput.json"))
    a = ap.parse_args()

    from orca2_kit.config import load_params
    from orca2_kit.generation import generate_detailed
    from orca2_kit.models import load_model, load_tokenizer, scoring_dtype, student_path

    p = load_params("offline")
    dtype = getattr(torch, a.dtype) if a.dtype else scoring_dtype(p.generation.dtype, "cpu")
    batch = a.batch_size or p.generation.batch_size
    path = student_path(p.student)
    model, tok = load_model(path, "cpu", dtype), load_tokenizer(path)
    convs = prompts(p)[:a.limit]
    report = {"model": "SmolLM2-135M-Instruct (embedded)", "dtype": str(dtype), "batch_size": batch,
              "documents": len(convs), "threads": torch.get_num_threads(), "repeats": a.repeats,
              "load_average_before": os.getloadavg(), "limits": {}}
    for limit in [int(x) for x in a.max_new_tokens.split(",")]:
        times = {"plain": [], "kit_same_work": [], "kit": []}
        for _ in range(a.repeats):
            t0 = time.perf_counter()
            plain = plain_generate(model, tok, convs, limit, batch)
            times["plain"].append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            same = generate_detailed(model, tok, convs, limit, batch, stop_after_answer=False)
            times["kit_same_work"].append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            kit = generate_detailed(model, tok, convs, limit, batch)
            times["kit"].append(time.perf_counter() - t0)
        tokens = {"plain": sum(n for _, n in plain), "kit_same_work": sum(g.new_tokens for g in same),
                  "kit": sum(g.new_tokens for g in kit)}
        r = {}
        for k, ts in times.items():
            s = statistics.median(ts)
            r[k] = {"seconds": round(s, 2), "seconds_each": [round(x, 2) for x in ts], "new_tokens": tokens[k],
                    "tokens_per_s": round(tokens[k] / s, 1), "documents_per_s": round(len(convs) / s, 3)}
        r["tokens_per_s_ratio_kit_same_work_to_plain"] = round(r["kit_same_work"]["tokens_per_s"] / r["plain"]["tokens_per_s"], 2)
        r["documents_per_s_ratio_kit_to_plain"] = round(r["kit"]["documents_per_s"] / r["plain"]["documents_per_s"], 2)
        r["identical_texts_kit_same_work_vs_plain"] = sum(g.text == t for g, (t, _) in zip(same, plain))
        r["hit_limit_share_kit"] = round(sum(g.hit_limit for g in kit) / len(kit), 3)
        report["limits"][limit] = r
        print(f"max_new_tokens {limit}: plain {r['plain']['tokens_per_s']} tok/s, kit (same work) "
              f"{r['kit_same_work']['tokens_per_s']} tok/s ({r['tokens_per_s_ratio_kit_same_work_to_plain']}x), "
              f"kit {r['kit']['documents_per_s']} docs/s ({r['documents_per_s_ratio_kit_to_plain']}x docs/s); identical "
              f"texts {r['identical_texts_kit_same_work_vs_plain']}/{len(convs)}", flush=True)
    report["load_average_after"] = os.getloadavg()
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(report, indent=1))
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
