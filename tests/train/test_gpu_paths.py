"""What a GPU run of stage 04 goes through, checked on a CPU: packed rows without cross-example
attention (sdpa), LoRA with activation checkpointing, fp32 master weights for full fine-tuning, and
the transformers the kit's APIs need (issue 28)."""
import random
from pathlib import Path

import pytest
import torch

from orca2_kit.config import load_params
from orca2_kit.models import load_tokenizer


def _token_dataset(n: int, seed: int = 0):
    """Pre-tokenized prompt-completion rows (ids inside the tiny student's vocabulary)."""
    from datasets import Dataset

    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        p, c = rng.randint(5, 30), rng.randint(3, 20)
        rows.append({"input_ids": [rng.randrange(100, 40000) for _ in range(p + c)], "completion_mask": [0] * p + [1] * c})
    return Dataset.from_list(rows)


def test_packed_rows_give_each_example_the_logits_it_has_alone(tiny_dir, tmp_path):
    """packing: true with sdpa (no flash attention, as on a GPU without flash-attn): several examples
    per row, and every token's logits equal those of its example computed alone. Fails if the rows
    carry an attention mask (then examples attend to each other: logits differ by ~0.7)."""
    from transformers import AutoModelForCausalLM

    from orca2_kit.train.trainer import build_trainer

    p = load_params("smoke", ["train.packing=true", "train.max_length=64", "train.per_device_batch_size=4",
                              "train.report_to=[]"])
    model = AutoModelForCausalLM.from_pretrained(tiny_dir, dtype=torch.float32).eval()
    trainer, meter, cfg = build_trainer(p, model, _token_dataset(12), load_tokenizer(str(tiny_dir)), tmp_path, "cpu")
    assert cfg.packing
    batch = next(iter(trainer.get_train_dataloader()))
    assert "attention_mask" not in batch and batch["input_ids"].shape[1] <= 64
    packed = 0
    with torch.no_grad():
        out = model(**{k: v for k, v in batch.items() if k != "labels"}).logits
        for b in range(batch["input_ids"].shape[0]):
            pos = batch["position_ids"][b].tolist()
            starts = [i for i, q in enumerate(pos) if q == 0]
            examples = [(s, e) for s, e in zip(starts, starts[1:] + [len(pos)]) if e - s > 1]
            packed += len(examples) > 1
            for s, e in examples:
                alone = model(input_ids=batch["input_ids"][b, s:e][None]).logits[0]
                assert torch.allclose(alone, out[b, s:e], atol=1e-4), (b, s, e)
    assert packed >= 2  # rows really hold several examples
    assert meter.batches[0]["real"] == sum(meter.batches[0]["lengths"]) < meter.batches[0]["slots"]


def test_gpu_training_config_checkpoints_activations_for_lora_and_full(tmp_path):
    """On a GPU both methods checkpoint activations (a LoRA step of a 1.5B model keeps ~4.7 MB per
    token otherwise); on a CPU neither does. sft_config('cuda') builds here: bf16 is off without a GPU."""
    from orca2_kit.train.trainer import sft_config

    for method in ("lora", "full"):
        p = load_params("gpu", [f"train.method={method}", "train.report_to=[]"])
        assert sft_config(p, tmp_path, "cuda").activation_checkpointing is True
        assert sft_config(p, tmp_path, "cpu").activation_checkpointing is False


def test_full_fine_tuning_trains_fp32_master_weights_everywhere():
    from orca2_kit.models import dtype_record, training_dtype

    for device in ("cpu", "cuda"):
        assert training_dtype("bfloat16", "full", device) == torch.float32
    assert training_dtype("bfloat16", "lora", "cuda") == torch.bfloat16  # the frozen base: the inference dtype
    assert dtype_record(load_params("smoke", ["train.method=full"]))["training_base"] == "float32"


def test_lora_with_activation_checkpointing_trains_the_adapters(tiny_dir, tmp_path):
    """The GPU's LoRA configuration (checkpointing on), run on this CPU through the kit's trainer:
    checkpointed blocks still pass gradients to the adapters (PEFT needs the embeddings' outputs to
    require grad), and the loss is finite."""
    from transformers import AutoModelForCausalLM, set_seed

    from orca2_kit.train.trainer import build_trainer

    p = load_params("smoke", ["train.max_steps=2", "train.per_device_batch_size=4", "train.report_to=[]",
                              "train.learning_rate=1e-2", "train.logging_steps=1"])
    set_seed(0)
    model = AutoModelForCausalLM.from_pretrained(tiny_dir, dtype=torch.float32)
    trainer, _, cfg = build_trainer(p, model, _token_dataset(8), load_tokenizer(str(tiny_dir)), tmp_path, "cuda",
                                    save_strategy="no", disable_tqdm=True)
    assert cfg.activation_checkpointing and not cfg.bf16  # checkpointing as on a GPU; no bf16 without one
    before = {n: q.detach().clone() for n, q in trainer.model.named_parameters() if "lora_B" in n}
    trainer.train()
    after = dict(trainer.model.named_parameters())
    assert before and all(not torch.equal(before[n], after[n].detach()) for n in before)
    assert all(torch.isfinite(torch.tensor(h["loss"])) for h in trainer.state.log_history if "loss" in h)


def test_an_older_transformers_is_refused_in_one_line(monkeypatch):
    """transformers 5.17 (a CUDA image's own) takes the KV cache as past_key_values and would ignore
    the decoder's `cache=` silently."""
    import transformers

    from orca2_kit.models import check_transformers

    check_transformers()
    monkeypatch.setattr(transformers, "__version__", "5.17.0")
    with pytest.raises(RuntimeError, match=r"transformers 5.17.0 is installed; the kit needs 5.24"):
        check_transformers()
