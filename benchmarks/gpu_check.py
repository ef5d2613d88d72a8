"""The kit's GPU path, run for real on a CUDA machine in one prepared command (issue 28).

    bash scripts/gpu_check.sh                          # on a CUDA machine: installs .whl/, runs this
    .venv/bin/python benchmarks/gpu_check.py --dry     # the same code on this CPU, tiny, minutes (tested)

Phases, in the order of benchmarks/configs/gpu_check.json, each in its own process and time box; the
JSON (--out) is rewritten after every phase, so one that fails or runs out of time leaves the others'
figures, and what no longer fits the budget is recorded as skipped:
- env: package versions, the GPU, the attention kernels importable, and the measured matmul peak
  (bf16 8192^3 on a GPU), the denominator of every MFU here;
- train:<run>: the kit's trainer at the gpu profile's scale on a ~1.5B Qwen2.5-shaped model
  initialised randomly (gpu_train.py): full fine-tuning and LoRA, packed and unpacked;
- generate: the kit's scoring path against plain model.generate, same prompts (gpu_generate.py);
- smoke: the smoke profile's six notebooks end to end on the device (`python -m orca2_kit run`), the
  harness on the repository's benchmark fixtures; --dry only validates the profile;
- tests: the CUDA tests (tests/core/test_cuda.py; they skip on a CPU), beside the smoke run (neither
  is timed, so they share the machine);
- extra train runs, if time is left.
`--phases smoke,tests` (say) reruns a part.
Prints a short table at the end.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PACKAGES = ("torch", "transformers", "trl", "peft", "accelerate", "datasets", "tokenizers", "huggingface-hub",
            "pydantic", "papermill", "ipykernel", "lm-eval", "triton", "flash-attn", "kernels")


def load_plan(dry: bool) -> dict:
    return json.loads((HERE / "configs" / "gpu_check.json").read_text())["dry" if dry else "gpu"]


def matmul_peak(n: int, dtype_name: str, reps: int, device: str) -> float:
    """TFLOP/s of an n x n x n matmul in `dtype`, mean of `reps` after three warm-ups, random data."""
    import torch

    dtype = getattr(torch, dtype_name)
    a, b = torch.randn(n, n, device=device, dtype=dtype), torch.randn(n, n, device=device, dtype=dtype)
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    for _ in range(3):
        a @ b
    sync()
    t0 = time.perf_counter()
    for _ in range(reps):
        a @ b
    sync()
    return 2 * n ** 3 * reps / (time.perf_counter() - t0) / 1e12


def phase_env(plan: dict, dry: bool) -> dict:
    import importlib.metadata as md
    import importlib.util

    import torch

    device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cpu" and not dry:
        raise SystemExit("no CUDA device is visible: on a CPU run benchmarks/gpu_check.py --dry")
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = md.version(name)
        except md.PackageNotFoundError:
            versions[name] = None
    out = {"status": "ok", "device": device, "python": sys.version.split()[0], "versions": versions,
           "importable": {m: importlib.util.find_spec(m) is not None for m in ("flash_attn", "kernels", "vllm")}}
    if device == "cuda":
        p = torch.cuda.get_device_properties(0)
        out["gpu"] = {"name": p.name, "memory_gib": round(p.total_memory / 2**30, 1), "multiprocessors": p.multi_processor_count,
                      "capability": f"{p.major}.{p.minor}", "bf16_supported": torch.cuda.is_bf16_supported(),
                      "cuda": torch.version.cuda}
    else:
        out["threads"] = torch.get_num_threads()
    pk = plan["peak"]
    out["peak"] = {"n": pk["n"], "dtype": pk["dtype"], "reps": pk["reps"],
                   "tflops": round(matmul_peak(pk["n"], pk["dtype"], pk["reps"], device), 4)}
    return out


def phase_smoke(plan: dict, dry: bool) -> dict:
    s = plan["smoke"]
    sets = [a for kv in s["set"] for a in ("--set", kv)]
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "orca2_kit"] + (["validate", "smoke"] + sets if s.get("validate_only") else
                                                      ["run", "--profile", "smoke", "--out", tmp, "--run-id", "gpu-check"] + sets)
        t0 = time.time()
        r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        out = {"command": " ".join(cmd[1:]).replace(tmp, "<tmp>"), "rc": r.returncode, "wall_s": round(time.time() - t0, 1)}
        run_dir = Path(tmp) / "smoke" / "gpu-check"
        if (run_dir / "manifest.json").is_file():
            m = json.loads((run_dir / "manifest.json").read_text())
            out.update(run_status=m.get("status"), dtypes=m.get("dtypes"), data=m.get("data"),
                       stages={k: {"status": v.get("status"), "wall_s": v.get("wall_s"), "error": (v.get("error") or "")[-600:] or None}
                               for k, v in m.get("stages", {}).items()})
        tm = run_dir / "04_sft_training" / "train_metrics.json"
        if tm.is_file():
            t = json.loads(tm.read_text())
            out["train"] = {k: t.get(k) for k in ("device", "base_dtype", "global_step", "train_loss", "tokens_per_s",
                                                  "padding_fraction", "packing")}
        for stage in ("05_benchmark_eval", "06_hallucination"):
            f = run_dir / stage / "metrics.json"
            if f.is_file():
                out.setdefault("metrics_written", []).append(stage)
    ok = r.returncode == 0 and (s.get("validate_only") or out.get("run_status") == "ok")
    out["status"] = "ok" if ok else "failed"
    if not ok:
        out["log_tail"] = (r.stdout + r.stderr)[-3000:]
    return out


def phase_tests(plan: dict, dry: bool) -> dict:
    files = plan["tests"]["files"]
    t0 = time.time()
    r = subprocess.run([sys.executable, "-m", "pytest", *files, "-q", "-rs", "-p", "no:cacheprovider"], cwd=ROOT,
                       capture_output=True, text=True)
    lines = [ln for ln in r.stdout.splitlines() if ln.strip()]
    summary = next((ln.strip("= ") for ln in reversed(lines) if " in " in ln and ("passed" in ln or "failed" in ln
                                                                                 or "skipped" in ln or "error" in ln)), "")
    out = {"files": files, "rc": r.returncode, "summary": summary, "wall_s": round(time.time() - t0, 1),
           "status": "ok" if r.returncode == 0 else "failed"}
    if r.returncode != 0:
        out["log_tail"] = (r.stdout + r.stderr)[-3000:]
    return out


def run_phase(phase: str, run: str | None, dry: bool) -> dict:
    plan = load_plan(dry)
    if phase == "env":
        return phase_env(plan, dry)
    if phase == "train":
        import gpu_train

        return gpu_train.run(plan, run)
    if phase == "generate":
        import gpu_generate

        return gpu_generate.run(plan)
    if phase == "smoke":
        return phase_smoke(plan, dry)
    if phase == "tests":
        return phase_tests(plan, dry)
    raise SystemExit(f"--phase: unknown phase '{phase}'")


def start(phase: str, run: str | None, dry: bool, tmp: str):
    """One phase in its own process (a crash, an OOM or a hung kernel stays there)."""
    part = Path(tmp) / f"{phase}-{run or ''}.json"
    log = open(Path(tmp) / f"{phase}-{run or ''}.log", "w+")
    cmd = [sys.executable, str(Path(__file__).resolve()), "--phase", phase, "--part", str(part)]
    cmd += (["--run", run] if run else []) + (["--dry"] if dry else [])
    return subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, text=True), part, log, time.time()


def finish(started, timeout: float) -> dict:
    """Wait for a started phase up to `timeout` seconds from its start; its result, or why none."""
    proc, part, log, t0 = started
    try:
        proc.wait(timeout=max(1.0, timeout - (time.time() - t0)))
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    log.seek(0)
    tail = log.read()[-3000:]
    log.close()
    if proc.returncode != 0 or not part.is_file():
        timed_out = time.time() - t0 >= timeout - 1
        return {"status": "timeout" if timed_out else "failed", "rc": proc.returncode,
                "wall_s": round(time.time() - t0, 1), "log_tail": tail}
    res = json.loads(part.read_text())
    res["wall_s"] = round(time.time() - t0, 1)
    return res


def add_mfu(report: dict) -> None:
    peak = (report["phases"].get("env") or {}).get("peak", {}).get("tflops")
    for key, res in report["phases"].items():
        if key.startswith("train:") and res.get("status") == "ok" and peak:
            res["mfu"] = round(res["model_tflops"] / peak, 4)
            res["mfu_without_attention"] = round(res["model_tflops_without_attention"] / peak, 4)


def table(report: dict) -> str:
    env = report["phases"].get("env", {})
    where = (env.get("gpu") or {}).get("name") or f"CPU ({env.get('threads', '?')} threads)"
    peak = env.get("peak", {})
    lines = [f"gpu check ({report['mode']}) on {where}: matmul peak {peak.get('tflops', '?')} TFLOP/s "
             f"({peak.get('dtype', '?')} {peak.get('n', '?')}^3); {report.get('wall_s', '?')} s",
             f"{'phase':<36}{'status':<9}{'tokens/s':>10}{'MFU':>7}{'mem GiB':>9}  notes"]
    for key, r in report["phases"].items():
        if key == "env":
            continue
        st = r.get("status", "?")
        if key.startswith("train:"):
            note = f"{r.get('weights_dtype', '')} weights, {'ckpt' if r.get('activation_checkpointing') else 'no ckpt'}, " \
                   f"{r.get('batches', '')}, {r.get('tokens_per_step', '?')} tok/step" if st == "ok" else r.get("error", "")
            lines.append(f"{key:<36}{st:<9}{r.get('tokens_per_s', ''):>10}{r.get('mfu', ''):>7}"
                         f"{r.get('peak_memory_gib') or '':>9}  {note}")
        elif key == "generate" and st == "ok":
            lines.append(f"{key:<36}{st:<9}{r['kit']['tokens_per_s']:>10}{'':>7}{'':>9}  kit; plain generate "
                         f"{r['plain']['tokens_per_s']} tok/s ({r['tokens_per_s_ratio_kit_to_plain']}x); identical texts "
                         f"{r['identical_texts']}/{r['prompts']} ({r['dtype']})")
        elif key == "smoke" and st == "ok":
            lines.append(f"{key:<36}{st:<9}{'':>10}{'':>7}{'':>9}  {len(r.get('stages', {}))} stages in {r.get('wall_s')} s; "
                         f"training on {(r.get('train') or {}).get('device', '-')}")
        elif key == "tests":
            lines.append(f"{key:<36}{st:<9}{'':>10}{'':>7}{'':>9}  {r.get('summary', '')}")
        else:
            lines.append(f"{key:<36}{st:<9}{'':>10}{'':>7}{'':>9}  {r.get('why') or (r.get('log_tail') or '')[-160:]!r}")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dry", action="store_true", help="the tiny plan on this CPU (the suite's test)")
    ap.add_argument("--out", default=str(ROOT / "outputs" / "benchmarks" / "gpu_check.json"))
    ap.add_argument("--budget-s", type=float, default=None, help="overall time box (default: the plan's)")
    ap.add_argument("--phases", help="only these, comma-separated (env always runs): e.g. smoke,tests or "
                                     "train:full_packed,generate; a rerun of what failed")
    ap.add_argument("--phase", help=argparse.SUPPRESS)
    ap.add_argument("--run", help=argparse.SUPPRESS)
    ap.add_argument("--part", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.phase:  # inside a child: one phase, its result to --part
        sys.path.insert(0, str(HERE))
        Path(a.part).write_text(json.dumps(run_phase(a.phase, a.run, a.dry), indent=1, default=str))
        return
    plan = load_plan(a.dry)
    budget = a.budget_s or plan["budget_s"]
    t0 = time.time()
    train = plan["train"]
    # (keys run together, time box each): timed phases alone; the smoke run and the tests, which
    # time nothing, side by side
    steps = [[("env", None, 90)]] + [[("train", r["name"], train["timeout_s"])] for r in train["runs"]]
    steps += [[("generate", None, plan["generate"]["timeout_s"])],
              [("smoke", None, plan["smoke"]["timeout_s"]), ("tests", None, plan["tests"]["timeout_s"])]]
    steps += [[("train", r["name"], train["timeout_s"])] for r in train["extra_runs"]]
    wanted = set(a.phases.split(",")) | {"env"} if a.phases else None
    report = {"mode": "dry" if a.dry else "gpu", "budget_s": budget, "plan": plan, "phases": {}}
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for group in steps:
            group = [(p, r, c) for p, r, c in group if wanted is None or p in wanted or f"{p}:{r}" in wanted]
            left = budget - (time.time() - t0)
            running = {}
            for phase, run, cap in group:
                key = f"{phase}:{run}" if run else phase
                if left < 15:
                    report["phases"][key] = {"status": "skipped", "why": f"the {budget:.0f} s budget was spent"}
                else:
                    running[key] = (start(phase, run, a.dry, tmp), min(cap, left))
            for key, (started, box) in running.items():
                report["phases"][key] = finish(started, box)
            for key in [f"{p}:{r}" if r else p for p, r, _ in group]:
                r = report["phases"][key]
                print(f"[{time.time() - t0:5.0f} s] {key}: {r.get('status')}"
                      + (f" {r.get('tokens_per_s')} tokens/s" if "tokens_per_s" in r else ""), flush=True)
            report["wall_s"] = round(time.time() - t0, 1)
            add_mfu(report)
            out.write_text(json.dumps(report, indent=1, default=str))
    print(table(report))
    print(f"-> {out}")


if __name__ == "__main__":
    main()
