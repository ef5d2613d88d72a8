"""One training run of stage 04: supervised fine-tuning of the student on the erased dataset, thin over TRL + PEFT.

Run as a module so that `accelerate launch` can start it on several processes or GPUs, and so the
notebook's kernel never initialises CUDA:

    python -m orca2_kit.train --params outputs/offline/<run>/params.yaml --run-dir outputs/offline/<run>
    accelerate launch --multi_gpu --num_processes 2 -m orca2_kit.train --params ... --run-dir ...

The loss covers the teacher's tokens only: the dataset is conversational prompt-completion, and
TRL's `completion_only_loss` masks the prompt (system + user turns). Before any step we check
that every example keeps some completion tokens after truncation and that the end-of-turn token
is among them (otherwise the student never learns to stop).
"""
from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from orca2_kit.train.batches import LengthBucketSampler, PackedRows, PaddingMeter
from orca2_kit.train.checks import check_examples
from orca2_kit.train.launch import STAGE_DIR, last_checkpoint


def trainer_class(compact_loss: bool = True):
    """TRL's SFTTrainer with the length-bucketed sampler where batches are padded, and (on a CPU)
    the output layer computed only where the loss is (`compact_loss`, see `loss_on_labelled_positions`)."""
    from trl import SFTTrainer

    class KitSFTTrainer(SFTTrainer):
        def _get_train_sampler(self, train_dataset=None):
            ds = train_dataset if train_dataset is not None else self.train_dataset
            if self.args.train_sampling_strategy != "group_by_length" or "input_ids" not in getattr(ds, "column_names", []):
                return super()._get_train_sampler(train_dataset)
            return LengthBucketSampler([len(x) for x in ds["input_ids"]], self.args.per_device_train_batch_size,
                                       self.args.seed)

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            if return_outputs or not (compact_loss and compact_loss_applies(self, inputs)):
                return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
            return loss_on_labelled_positions(self, model, inputs, num_items_in_batch)

    return KitSFTTrainer


def compact_loss_applies(trainer, inputs) -> bool:
    """The cases `loss_on_labelled_positions` reproduces exactly; every other one stays TRL's.

    On GPUs TRL's fused head already scores only the labelled positions (with Triton kernels); on
    a CPU it scores every position, prompt and padding included, and casts each vocabulary tile to
    fp32 for its gradient GEMMs: about half of a LoRA step of SmolLM2-135M (profiled).
    """
    from trl.kernels.chunked_logprob import _use_triton

    args = trainer.args
    device = inputs["input_ids"].device
    return ("labels" in inputs and "attention_mask" in inputs and not _use_triton(device)
            and getattr(args, "loss_type", "nll") == "nll" and trainer.label_smoother is None
            and trainer.compute_loss_func is None and not trainer.aux_loss_enabled
            and not getattr(args, "use_liger_kernel", False))


def loss_on_labelled_positions(trainer, model, inputs, num_items_in_batch=None):
    """TRL's SFT loss and metrics (mean next-token NLL over the completion, entropy, top-1
    accuracy), with the output layer computed only at the positions whose next token is trained
    (transformers' boolean `logits_to_keep`): on the offline data that skips the ~40% of positions
    that are prompt, and TRL's per-position fp32 tile casts. The logits are fp32 for the softmax,
    as in TRL's kernel; the model's forward still goes through DDP/PEFT as usual."""
    import torch

    mode = "train" if trainer.model.training else "eval"
    labels = inputs["labels"]
    valid = labels[:, 1:] != -100
    keep = torch.zeros_like(labels, dtype=torch.bool)
    keep[:, :-1] = valid
    model_inputs = {k: v for k, v in inputs.items() if k != "labels"}
    logits = model(**model_inputs, use_cache=False, logits_to_keep=keep).logits.float()  # [labelled, vocab]
    targets = labels[:, 1:][valid]
    logp = torch.log_softmax(logits, dim=-1)
    log_probs = logp.gather(1, targets[:, None]).squeeze(1)
    num_tokens = valid.sum() if num_items_in_batch is None else num_items_in_batch
    loss = -log_probs.sum() / torch.as_tensor(num_tokens).clamp(min=1)
    if trainer.args.average_tokens_across_devices and num_items_in_batch is not None:
        loss = loss * (trainer.accelerator.num_processes // trainer.get_tp_size())

    with torch.no_grad():  # TRL's metrics, from the same logits
        acc = trainer.accelerator
        num_valid = acc.gather_for_metrics(valid.sum()).sum()
        entropy_sum = acc.gather_for_metrics(-(logp.exp() * logp).sum()).sum()
        num_correct = acc.gather_for_metrics((logits.argmax(-1) == targets).sum()).sum()
        trainer._metrics[mode]["entropy"].append((entropy_sum / num_valid).item() if num_valid > 0 else 0.0)
        trainer._metrics[mode]["mean_token_accuracy"].append((num_correct / num_valid).item() if num_valid > 0 else 0.0)
        if mode == "train":
            trainer._total_train_tokens += acc.gather_for_metrics(inputs["attention_mask"].sum()).sum().item() // trainer._tp_size
        trainer._metrics[mode]["num_tokens"] = [trainer._total_train_tokens]
    return loss


# Attention kernels that keep packed examples apart: flash attention reads the boundaries of TRL's
# flattened batch (varlen); sdpa and eager get transformers' per-example masks from position ids in
# rows kept as rows (batches.PackedRows). None: transformers' default, sdpa.
VARLEN = ("flash_attention", "kernels-community/flash")
MASKED = (None, "sdpa", "eager")


def flash_attention(params) -> bool:
    return (params.train.attn_implementation or "").startswith(VARLEN)


def use_packing(params, device: str) -> bool:
    """Packing is exact (no attention across examples) with flash attention (TRL's padding-free
    batches) and with sdpa/eager (PackedRows). auto packs where it is also fast: flash attention on
    a GPU; `packing: true` packs with any of them, on any device."""
    mode = params.train.packing
    attn = params.train.attn_implementation
    if mode is True and not (flash_attention(params) or attn in MASKED):
        raise ValueError(f"train.packing: true needs an attention kernel that keeps packed examples apart: "
                         f"flash_attention_2 (or _3), sdpa or eager, not train.attn_implementation: '{attn}'; "
                         "use packing: auto or false, or one of those kernels")
    return mode is True or (mode == "auto" and device == "cuda" and flash_attention(params))


def sft_config(params, out_dir: Path, device: str, **overrides):
    """TRL's own SFTConfig, with device-aware defaults (`overrides`: SFTConfig fields to change, for
    benchmarks and tests).

    TRL's defaults (bf16 autocast on, gradient checkpointing on) make a step ~26x slower on a CPU;
    there we turn both off (a bf16 *base* is loaded directly where the CPU has native bf16). On GPUs
    activations are checkpointed, LoRA included: without it a LoRA step of a 1.5B model keeps about
    4.7 MB per token (measured with saved-tensor hooks on Qwen2.5-1.5B's shape, bf16 autocast), and
    the gpu profile's 16 rows of up to 2048 tokens would need over 100 GB.
    """
    import torch
    from trl import SFTConfig

    t = params.train
    on_gpu = device == "cuda"
    packing = use_packing(params, device)
    return SFTConfig(**{**dict(
        output_dir=str(out_dir / "checkpoints"),
        num_train_epochs=t.epochs, max_steps=t.max_steps, learning_rate=t.learning_rate,
        per_device_train_batch_size=t.per_device_batch_size, gradient_accumulation_steps=t.gradient_accumulation_steps,
        warmup_steps=t.warmup_ratio, lr_scheduler_type="cosine", max_length=t.max_length,
        completion_only_loss=True, bf16=on_gpu and torch.cuda.is_bf16_supported(), fp16=False, use_cpu=not on_gpu,
        activation_checkpointing=on_gpu,  # (transformers 5.23 renamed gradient_checkpointing)
        packing=packing, padding_free=packing,
        # length-bucketed batches (LengthBucketSampler): far less padding than random ones
        train_sampling_strategy="random" if packing else "group_by_length",
        logging_steps=t.logging_steps, save_strategy="steps", save_steps=t.save_steps, save_total_limit=2,
        report_to=list(t.report_to) or "none",
        seed=params.train_seed(), data_seed=params.train_seed(), dataloader_num_workers=0, disable_tqdm=False,
    ), **overrides})


def build_trainer(params, model, dataset, tokenizer, out_dir: Path, device: str, **overrides):
    """The kit's trainer over `dataset` (prompt-completion conversations, or token ids with a
    completion mask): (trainer, its PaddingMeter, its SFTConfig). Packed rows are kept as rows where
    the attention kernel needs them to be (PackedRows). `overrides`: SFTConfig fields (sft_config)."""
    cfg = sft_config(params, out_dir, device, **overrides)
    trainer = trainer_class()(model=model, args=cfg, train_dataset=dataset, processing_class=tokenizer,
                              peft_config=lora_config(params) if params.train.method == "lora" else None)
    collator = trainer.data_collator
    if cfg.packing and not flash_attention(params):
        collator = PackedRows(tokenizer.pad_token_id, cfg.pad_to_multiple_of)
    meter = trainer.data_collator = PaddingMeter(collator)
    return trainer, meter, cfg


def lora_config(params):
    from peft import LoraConfig

    t = params.train
    return LoraConfig(r=t.lora_r, lora_alpha=t.lora_alpha, lora_dropout=t.lora_dropout, task_type="CAUSAL_LM",
                      target_modules=t.lora_target_modules or "all-linear")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m orca2_kit.train")
    ap.add_argument("--params", required=True, help="resolved params.yaml of the run")
    ap.add_argument("--run-dir", required=True)
    args = ap.parse_args(argv)
    import warnings

    # peft 0.21 asks transformers 5 a deprecated question (is_gradient_checkpointing) on every PEFT
    # model: a library's business, not the reader's (the kit sets activation_checkpointing itself)
    warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)

    from datasets import load_from_disk
    from transformers import AutoModelForCausalLM, set_seed
    from orca2_kit.config import load_params
    from orca2_kit.generation import template_hash
    from orca2_kit.models import check_transformers, load_tokenizer, resolve_device, student_path, training_dtype

    check_transformers()
    params = load_params(args.params)
    run_dir = Path(args.run_dir)
    out = run_dir / STAGE_DIR
    out.mkdir(parents=True, exist_ok=True)
    set_seed(params.train_seed())
    device = resolve_device(params.device)
    path = student_path(params.student)
    tok = load_tokenizer(path, params.student.revision)
    ds = load_from_disk(str(run_dir / "03_prompt_erasure" / "sft_dataset"))
    stats = check_examples(tok, ds, params.train.max_length)
    ds = ds.select_columns(["prompt", "completion"])

    dtype = training_dtype(params.student.dtype, params.train.method, device)  # full: fp32 master weights
    extra = {"attn_implementation": params.train.attn_implementation} if params.train.attn_implementation else {}
    if params.train.load_in_4bit:  # QLoRA
        if device != "cuda":
            raise RuntimeError("train.load_in_4bit: QLoRA needs a CUDA GPU (bitsandbytes); set it to false on a CPU")
        from transformers import BitsAndBytesConfig

        extra["quantization_config"] = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4",
                                                          bnb_4bit_compute_dtype=dtype, bnb_4bit_use_double_quant=True)
    model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype, revision=params.student.revision, **extra)
    os.environ.setdefault("TENSORBOARD_LOGGING_DIR", str(out / "tensorboard"))
    trainer, meter, cfg = build_trainer(params, model, ds, tok, out, device)
    from orca2_kit.fingerprint import fingerprints

    if trainer.is_world_process_zero():  # checkpoints of other params are set aside, once, before anyone reads them
        last_checkpoint(out / "checkpoints", fingerprints(params)["04_sft_training"])
    trainer.accelerator.wait_for_everyone()
    resume = last_checkpoint(out / "checkpoints")
    t0 = time.time()
    result = trainer.train(resume_from_checkpoint=resume)
    wall = time.time() - t0
    final = out / ("adapter" if params.train.method == "lora" else "model")
    trainer.save_model(str(final))  # collective under DeepSpeed/FSDP: every process calls it
    if trainer.is_world_process_zero():
        tok.save_pretrained(str(final))
        if params.train.save_merged and params.train.method == "lora":
            trainer.model.merge_and_unload().save_pretrained(str(out / "merged"))
            tok.save_pretrained(str(out / "merged"))
        metrics = {
            "method": params.train.method, "device": device, "base_dtype": str(dtype), "world_size": trainer.args.world_size,
            "resumed_from": resume, "train_runtime_s": wall, "global_step": trainer.state.global_step,
            "train_loss": result.training_loss, "tokens": stats, "epochs_done": trainer.state.epoch,
            # tokens the model processed per second (prompt + completion, padding excluded)
            # real (non-padding) tokens this process trained on per second, times the processes
            "tokens_seen": meter.real, "tokens_per_s": meter.real * trainer.args.world_size / wall if wall > 0 else None,
            "padding_fraction": meter.fraction, "packing": cfg.packing, "template_hash": template_hash(tok),
            "trainable_params": sum(p.numel() for p in trainer.model.parameters() if p.requires_grad),
            "log_history": trainer.state.log_history,
        }
        (out / "train_metrics.json").write_text(json.dumps(metrics, indent=2, default=str))
    return 0
