"""Training throughput of the embedded student on this CPU: the kit vs today's kit at another
commit vs a hand-configured TRL run, in one run.

    git worktree add /tmp/base d958be0        # the kit before issue 15 (any commit works)
    .venv/bin/python benchmarks/train_throughput.py --baseline-tree /tmp/base [--steps 12] [--repeats 2]

Every run trains the same LoRA adapter on the same erased dataset (built-in tasks, reference
teacher) for the same number of steps; the kit and the baseline tree each run as
`python -m orca2_kit.train` in a subprocess with PYTHONPATH pointing at their tree, alternately
(kit, baseline, kit, baseline ...: drift of a shared machine's speed hits both). Reported:
- tokens/s: real (non-padding) tokens trained on per second of train() wall time;
- fraction of measured matmul peak: tokens/s x FLOP per token / the best GEMM rate measured here
  in the dtype the base model's matmuls run in. FLOP per token: full fine-tuning 6N (N
  parameters); LoRA 4N + 6N_lora (forward 2N; backward 2N for activation gradients through the
  frozen weights, which get no weight gradient; adapters 6 per parameter); attention FLOPs ignored;
- padding fraction: padded positions / all positions of the batches trained on;
- ratios: kit tokens/s / baseline tree's (median of the repeats), and / the hand-written TRL run;
- the loss curves: per logged step, kit vs baseline tree, and the largest relative difference;
- the load average before and after (the figures are only comparable on a quiet machine).
The hand-written TRL run is what a careful user would write by hand for a CPU: fp32, no gradient
checkpointing, no bf16 autocast, random batches, same batch size and LoRA (in this process).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
import yaml

ROOT = Path(__file__).resolve().parent.parent


def gemm_peak(dtype, seconds: float = 2.0) -> float:
    """Best GFLOP/s over a few square and model-shaped matmuls."""
    best = 0.0
    for m, k, n in [(2048, 2048, 2048), (4096, 576, 1536), (4096, 1536, 576), (3072, 3072, 3072)]:
        a, b = torch.randn(m, k, dtype=dtype), torch.randn(k, n, dtype=dtype)
        for _ in range(2):
            a @ b
        reps, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < seconds / 4:
            a @ b
            reps += 1
        best = max(best, 2 * m * k * n * reps / (time.perf_counter() - t0) / 1e9)
    return best


def build_dataset(run_dir: Path, n_train: int, seed: int) -> None:
    from orca2_kit import erasure
    from orca2_kit import tasks
    from orca2_kit.config import TeacherConfig
    from orca2_kit.strategies import student_system_message
    from orca2_kit.teacher import run_teacher

    items = tasks.build_suite(seed, n_train=n_train, n_dev=1, n_test=1)["train"]
    smap = {f.name: f.expected_strategy for f in tasks.FAMILIES.values()}
    answers = run_teacher(TeacherConfig(), items, smap, run_dir / "02_teacher_prompting")
    rows = erasure.build_sft_rows(answers, student_system_message("generic"))
    erasure.save_sft_dataset(rows, run_dir / "03_prompt_erasure" / "sft_dataset", seed=seed)


def tree_run(tree: Path, data_dir: Path, work: Path, steps: int, dtype: str = "auto") -> dict:
    """`python -m orca2_kit.train` of the kit in `tree`, on the dataset in data_dir, in a subprocess."""
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(data_dir / "03_prompt_erasure", work / "03_prompt_erasure")
    params = work / "params.yaml"
    params.write_text(yaml.safe_dump({"extends": str(tree / "params" / "offline.yaml"), "profile": "bench",
                                      "student": {"dtype": dtype}, "train": {"max_steps": steps, "save_steps": 10_000, "report_to": [],
                                                "logging_steps": 1}}))
    env = dict(os.environ, PYTHONPATH=str(tree), PYTHONUNBUFFERED="1", TOKENIZERS_PARALLELISM="false")
    # cwd too: `python -m` puts the working directory first on sys.path, ahead of PYTHONPATH
    r = subprocess.run([sys.executable, "-m", "orca2_kit.train", "--params", str(params), "--run-dir", str(work)],
                       env=env, cwd=tree, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"training in {tree} failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}")
    return json.loads((work / "04_sft_training" / "train_metrics.json").read_text())


def losses(metrics: dict) -> list[float]:
    return [h["loss"] for h in metrics["log_history"] if "loss" in h and "train_runtime" not in h]


def baseline_run(run_dir: Path, steps: int, params) -> dict:
    from datasets import load_from_disk
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    from orca2_kit.models import student_path
    from orca2_kit.train.batches import PaddingMeter

    path = student_path(params.student)
    t = params.train
    ds = load_from_disk(str(run_dir / "03_prompt_erasure" / "sft_dataset")).select_columns(["prompt", "completion"])
    cfg = SFTConfig(output_dir=str(run_dir / "baseline"), max_steps=steps, per_device_train_batch_size=t.per_device_batch_size,
                    learning_rate=t.learning_rate, max_length=t.max_length, bf16=False, fp16=False, use_cpu=True,
                    gradient_checkpointing=False, report_to="none", save_strategy="no", logging_steps=1,
                    seed=params.seed, disable_tqdm=True)
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
    trainer = SFTTrainer(model=model, args=cfg, train_dataset=ds, processing_class=AutoTokenizer.from_pretrained(path),
                         peft_config=LoraConfig(r=t.lora_r, lora_alpha=t.lora_alpha, target_modules="all-linear",
                                                task_type="CAUSAL_LM"))
    meter = trainer.data_collator = PaddingMeter(trainer.data_collator)
    t0 = time.perf_counter()
    trainer.train()
    wall = time.perf_counter() - t0
    return {"tokens_per_s": meter.real / wall, "padding_fraction": meter.fraction, "train_runtime_s": wall,
            "base_dtype": "torch.float32", "trainable_params": sum(p.numel() for p in trainer.model.parameters() if p.requires_grad)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=12)
    ap.add_argument("--n-train", type=int, default=24, help="items per family")
    ap.add_argument("--baseline-tree", help="a checkout of the kit to compare with (git worktree add /tmp/base d958be0)")
    ap.add_argument("--repeats", type=int, default=1, help="alternating kit/baseline pairs; medians are reported")
    ap.add_argument("--no-trl", action="store_true", help="skip the hand-written TRL run")
    ap.add_argument("--dtype", default="auto", help="student.dtype of both kit runs (float32: a laptop without bf16)")
    ap.add_argument("--out", default=str(ROOT / "outputs" / "benchmarks" / "train_throughput.json"))
    args = ap.parse_args()

    from orca2_kit.config import load_params

    params = load_params("offline")
    n_params = 134_515_008  # SmolLM2-135M (tied embeddings counted once)
    load_before = os.getloadavg()
    peaks = {"torch.float32": gemm_peak(torch.float32), "torch.bfloat16": gemm_peak(torch.bfloat16)}
    runs: dict[str, list[dict]] = {"kit": [], "baseline_tree": []}
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        build_dataset(data, args.n_train, params.seed)
        for _ in range(args.repeats):
            runs["kit"].append(tree_run(ROOT, data, Path(tmp) / "kit", args.steps, args.dtype))
            if args.baseline_tree:
                runs["baseline_tree"].append(tree_run(Path(args.baseline_tree).resolve(), data, Path(tmp) / "base",
                                                      args.steps, args.dtype))
        trl = None if args.no_trl else baseline_run(data, args.steps, params)
    report = {"steps": args.steps, "batch_size": params.train.per_device_batch_size, "max_length": params.train.max_length,
              "repeats": args.repeats, "dtype": args.dtype, "threads": torch.get_num_threads(), "gemm_peak_gflops": peaks,
              "flop_per_token_rule": "LoRA: 4N + 6N_lora; full: 6N", "load_average_before": load_before,
              "baseline_tree": args.baseline_tree}

    def summary(rs: list[dict]) -> dict:
        tps = statistics.median(r["tokens_per_s"] for r in rs)
        flop_tok = 4 * n_params + 6 * rs[0]["trainable_params"]
        peak = peaks.get(rs[0]["base_dtype"], peaks["torch.float32"])
        return {"tokens_per_s": tps, "tokens_per_s_each": [r["tokens_per_s"] for r in rs],
                "padding_fraction": rs[0]["padding_fraction"], "base_dtype": rs[0]["base_dtype"],
                "tokens_seen": rs[0].get("tokens_seen"), "achieved_gflops": tps * flop_tok / 1e9,
                "fraction_of_peak": tps * flop_tok / 1e9 / peak, "losses": losses(rs[0]) if "log_history" in rs[0] else None}

    report["kit"] = summary(runs["kit"])
    if runs["baseline_tree"]:
        report["baseline_tree_run"] = summary(runs["baseline_tree"])
        report["ratio_kit_to_baseline_tree"] = report["kit"]["tokens_per_s"] / report["baseline_tree_run"]["tokens_per_s"]
        a, b = report["kit"]["losses"], report["baseline_tree_run"]["losses"]
        report["loss_max_relative_difference"] = max(abs(x - y) / abs(y) for x, y in zip(a, b))
    if trl is not None:
        report["hand_written_trl"] = summary([trl])
        report["ratio_kit_to_hand_written_trl"] = report["kit"]["tokens_per_s"] / trl["tokens_per_s"]
    report["load_average_after"] = os.getloadavg()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
