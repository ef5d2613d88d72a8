"""The kit's generation layer against lm-evaluation-harness, on the same real documents.

Same model (the embedded SmolLM2-135M-Instruct, in the scoring dtype: float32 on CPUs), same
prompts, same system message, same answer filters. Three timed runs over the same documents:
- harness (plain HFLM): lm-evaluation-harness with HFLM's own `model.generate` loop (engine "hf");
- harness (orca2-hf): the same harness run with the kit's backend as notebook 05 uses it, whose
  greedy `generate_until` is the kit's continuous-batching decoder (must log the same responses);
- kit layer: `generation.generate` with its stop after the 'Answer:' line.
Reports each side's accuracy per benchmark and overall, how many documents get a different
verdict, identical responses, wall times and speedups (goal: kit layer >= 2x the plain harness),
batch, limits, threads and the load average.

    ORCA2_DATA_DIR=../shared/data .venv/bin/python benchmarks/harness_vs_kit.py --limit 12
Writes outputs/benchmarks/harness_vs_kit.json.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import torch

from orca2_kit.evaluation import harness
from orca2_kit.config import load_params
from orca2_kit.evaluation.harness import agreement
from orca2_kit.evaluation.harness import benchmarks as B
from orca2_kit.evaluation.harness import answers as A
from orca2_kit.evaluation.harness.backends import Orca2HFLM
from orca2_kit.run.manifest import git_state
from orca2_kit.models import load_model, load_tokenizer, scoring_dtype, student_path

ROOT = Path(__file__).resolve().parent.parent


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--benchmarks", default="gsm8k,mmlu,bbh,agieval,truthfulqa,drop,lambada")
    ap.add_argument("--limit", type=int, default=12, help="documents per benchmark")
    ap.add_argument("--system", default="empty")
    ap.add_argument("--max-new-tokens", type=int, default=128)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--dtype", default=None, help="default: the offline profile's scoring dtype (float32 on CPUs)")
    ap.add_argument("--out", default=str(ROOT / "outputs" / "benchmarks" / "harness_vs_kit.json"))
    a = ap.parse_args()
    p = load_params("offline")
    data_dir = p.resolved_data_dir()
    if data_dir is None:
        raise SystemExit("no benchmark data: set ORCA2_DATA_DIR (e.g. ../shared/data)")
    names = a.benchmarks.split(",")
    torch.manual_seed(0)
    path = student_path(p.student)
    dtype = getattr(torch, a.dtype) if a.dtype else scoring_dtype(p.generation.dtype, "cpu")
    model, tok = load_model(path, "cpu", dtype), load_tokenizer(path)
    load_before = os.getloadavg()

    timed, responses = {}, {}
    for engine in ("hf", "continuous"):  # plain HFLM loop, then the kit's backend for the harness
        lm = Orca2HFLM(pretrained=model, tokenizer=tok, system_mode=a.system, batch_size=a.batch_size, max_length=2048,
                       engine=engine)
        tmp = Path(tempfile.mkdtemp())
        t0 = time.perf_counter()
        harness.run(lm, names, a.system, tmp, data_dir=data_dir, limit=a.limit, max_gen_toks=a.max_new_tokens)
        timed[engine] = time.perf_counter() - t0
        responses[engine] = agreement.harness_responses(tmp, names)
        shutil.rmtree(tmp)
    t_harness, by_id = timed["hf"], responses["hf"]

    t0 = time.perf_counter()  # the kit's side also loads its documents inside the timed part
    docs = [d for n in names for d in B.load_docs(n, data_dir)[:a.limit]]
    resp = agreement.kit_responses(model, tok, docs, a.system, a.max_new_tokens, a.batch_size)
    t_kit = time.perf_counter() - t0
    k = agreement.score(resp, docs, "kit")
    h = agreement.score([by_id[d["id"]] for d in docs], docs, "harness")

    per = []
    for n in names:
        hn, kn = h[h.benchmark == n], k[k.benchmark == n]
        per.append({"benchmark": n, "n": len(hn), "harness_lenient": hn.acc_lenient.mean(), "kit_lenient": kn.acc_lenient.mean(),
                    "harness_strict": hn.acc_strict.mean(), "kit_strict": kn.acc_strict.mean()})
    differ = int((h.acc_lenient.values != k.acc_lenient.values).sum())
    same_answer = int(sum(A.lenient_answer(x, d) == A.lenient_answer(y, d)
                          for x, y, d in zip(h.response, k.response, docs)))
    result = {
        "code": git_state(ROOT), "model": f"SmolLM2-135M-Instruct (embedded), {dtype}, CPU", "system": a.system, "limit": a.limit,
        "n_documents": len(docs), "max_new_tokens": a.max_new_tokens, "batch_size": a.batch_size,
        "threads": torch.get_num_threads(),
        "accuracy_lenient": {"harness": h.acc_lenient.mean(), "kit": k.acc_lenient.mean()},
        "accuracy_strict": {"harness": h.acc_strict.mean(), "kit": k.acc_strict.mean()},
        "difference_points": 100 * abs(h.acc_lenient.mean() - k.acc_lenient.mean()),
        "documents_with_different_verdict": differ, "documents_with_same_extracted_answer": same_answer,
        "seconds": {"harness": round(t_harness, 1), "harness_orca2_hf": round(timed["continuous"], 1), "kit": round(t_kit, 1)},
        "documents_per_s": {"harness": round(len(docs) / t_harness, 3), "harness_orca2_hf": round(len(docs) / timed["continuous"], 3),
                            "kit": round(len(docs) / t_kit, 3)},
        "speedup_kit_over_harness": round(t_harness / t_kit, 2),
        "speedup_orca2_hf_over_plain_hflm": round(t_harness / timed["continuous"], 2),
        "harness_responses_identical_orca2_hf_vs_plain_hflm": sum(responses["continuous"][d["id"]] == by_id[d["id"]] for d in docs),
        "load_average": {"before": load_before, "after": os.getloadavg()}, "per_benchmark": per,
    }
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1))
    print(json.dumps({k_: v for k_, v in result.items() if k_ != "per_benchmark"}, indent=1))
    for r in per:
        print(f"{r['benchmark']:>11}  n={r['n']:3d}  harness {r['harness_lenient']:.3f}  kit {r['kit_lenient']:.3f}")


if __name__ == "__main__":
    main()
