"""Training: the loud data checks, 2-process CPU DDP through accelerate, and resume after a kill."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from orca2_kit import erasure
from orca2_kit import tasks
from orca2_kit.config import PARAMS_DIR, TeacherConfig, load_params
from orca2_kit.models import load_tokenizer
from orca2_kit.strategies import student_system_message
from orca2_kit.teacher import run_teacher
from orca2_kit.train import TrainDataError, check_examples, launch


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, tiny_dir):
    """A run dir holding a small erased SFT dataset (stage 03's output), as training expects."""
    d = tmp_path_factory.mktemp("run")
    items = tasks.build_suite(0, ["arithmetic", "sentiment"], n_train=12, n_dev=1, n_test=1)["train"]
    answers = run_teacher(TeacherConfig(), items, {"arithmetic": "step_by_step", "sentiment": "direct"}, d / "02")
    rows = erasure.build_sft_rows(answers, student_system_message("generic"))
    erasure.save_sft_dataset(rows, d / "03_prompt_erasure" / "sft_dataset", seed=0)
    return d


def _params(run_dir: Path, name: str, **train) -> Path:
    raw = {"extends": str(PARAMS_DIR / "smoke.yaml"), "profile": name, "train": train}
    path = run_dir / f"{name}.yaml"
    path.write_text(yaml.safe_dump(raw))
    load_params(path)  # valid
    return path


def _rows():
    return [{"id": "x", "prompt": [{"role": "system", "content": "hi"}, {"role": "user", "content": "What is 2+2?"}],
             "completion": [{"role": "assistant", "content": "Answer: 4"}]}]


def test_checks_pass_on_good_data(tiny_dir):
    stats = check_examples(load_tokenizer(str(tiny_dir)), _rows(), 256)
    assert stats["completion_tokens"] > 0 and stats["examples"] == 1


def test_truncated_answer_is_loud(tiny_dir):
    with pytest.raises(TrainDataError, match="no assistant tokens left"):
        check_examples(load_tokenizer(str(tiny_dir)), _rows(), 10)


def test_end_of_turn_never_trained_is_loud(tiny_dir):
    tok = load_tokenizer(str(tiny_dir))
    # a broken template: the assistant turn is never closed with <|im_end|>
    tok.chat_template = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}"
                         "{% if m['role'] != 'assistant' %}<|im_end|>\n{% endif %}{% endfor %}"
                         "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
    with pytest.raises(TrainDataError, match="end-of-turn"):
        check_examples(tok, _rows(), 256)


def test_template_that_rewrites_the_prompt_is_loud(tiny_dir):
    tok = load_tokenizer(str(tiny_dir))
    tok.chat_template = ("{% for m in messages %}{% if loop.last and m['role'] == 'assistant' %}[final]{% endif %}"
                         "<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
                         "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
    with pytest.raises(TrainDataError, match="renders the prompt differently"):
        check_examples(tok, _rows(), 256)


def test_injected_default_system_message_is_loud(tiny_dir):
    rows = _rows()
    rows[0]["prompt"] = rows[0]["prompt"][1:]  # no system turn: SmolLM2's template injects its default
    with pytest.raises(TrainDataError, match="injected its default system message"):
        check_examples(load_tokenizer(str(tiny_dir)), rows, 256)


def test_empty_answer_is_loud(tiny_dir):
    rows = _rows()
    rows[0]["completion"][0]["content"] = " "
    with pytest.raises(TrainDataError, match="empty assistant answer"):
        check_examples(load_tokenizer(str(tiny_dir)), rows, 256)


@pytest.mark.slow
@pytest.mark.parametrize("config", [None, "cpu_ddp"])
def test_two_process_cpu_ddp_through_accelerate(run_dir, config, tmp_path):
    import shutil

    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    shutil.copytree(run_dir / "03_prompt_erasure", tmp_path / "03_prompt_erasure")
    run_dir = tmp_path
    params = _params(run_dir, "ddp", max_steps=3, per_device_batch_size=2, launcher="accelerate", num_processes=2,
                     accelerate_config=config)
    out = launch(params, run_dir, "accelerate", 2, config)
    metrics = json.loads((out / "train_metrics.json").read_text())
    assert metrics["world_size"] == 2 and metrics["global_step"] == 3
    assert 0 <= metrics["padding_fraction"] < 1
    base = AutoModelForCausalLM.from_pretrained(_tiny())
    model = PeftModel.from_pretrained(base, str(out / "adapter"))
    lora_b = [p for n, p in model.named_parameters() if "lora_B" in n]
    assert lora_b and any(float(p.abs().sum()) > 0 for p in lora_b)  # trained: B starts at zero


def _tiny():
    from orca2_kit.models import ensure_tiny_random

    return str(ensure_tiny_random())


@pytest.mark.slow
def test_killed_training_resumes_from_its_checkpoint(run_dir, tmp_path):
    import shutil

    d = tmp_path / "run"
    shutil.copytree(run_dir / "03_prompt_erasure", d / "03_prompt_erasure")
    params = _params(d, "resume", max_steps=40, per_device_batch_size=1, save_steps=2, logging_steps=1,
                     save_merged=True)
    cmd = [sys.executable, "-m", "orca2_kit.train", "--params", str(params), "--run-dir", str(d)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    ckpts = d / "04_sft_training" / "checkpoints"
    deadline = time.time() + 300
    # any checkpoint: save_total_limit keeps the last two, so a given one may be gone before a poll sees it
    while time.time() < deadline and not list(ckpts.glob("checkpoint-*/trainer_state.json")) and proc.poll() is None:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert list(ckpts.glob("checkpoint-*")), "no checkpoint was written before the kill"
    assert not (d / "04_sft_training" / "train_metrics.json").exists()  # it really died midway
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    m = json.loads((d / "04_sft_training" / "train_metrics.json").read_text())
    assert m["resumed_from"] and "checkpoint-" in m["resumed_from"] and m["global_step"] == 40
    assert m["tokens"]["examples"] > 0
    assert (d / "04_sft_training" / "merged" / "model.safetensors").is_file()  # save_merged


def test_evaluation_refuses_a_changed_chat_template(tiny_dir, tmp_path):
    from orca2_kit.evaluation.builtin import assert_same_template
    from orca2_kit.generation import template_hash

    tok = load_tokenizer(str(tiny_dir))
    m = tmp_path / "train_metrics.json"
    m.write_text(json.dumps({"template_hash": template_hash(tok)}))
    assert assert_same_template(tok, m) == template_hash(tok)
    tok.chat_template = tok.chat_template.replace("<|im_start|>", "<|im_start|> ")
    with pytest.raises(RuntimeError, match="chat template changed"):
        assert_same_template(tok, m)


def test_packing_needs_a_kernel_that_keeps_examples_apart():
    from orca2_kit.train.trainer import use_packing

    p = load_params("smoke", ["train.packing=true", "train.attn_implementation=flex_attention"])
    with pytest.raises(ValueError, match="train.packing: true needs an attention kernel"):
        use_packing(p, "cpu")
    assert use_packing(load_params("smoke", ["train.packing=true"]), "cpu") is True  # sdpa: PackedRows
    assert use_packing(load_params("smoke"), "cpu") is False
    assert use_packing(load_params("smoke"), "cuda") is False  # auto packs only where it is fast
    assert use_packing(load_params("smoke", ["train.attn_implementation=flash_attention_2"]), "cuda") is True


def test_cpu_training_config_has_checkpointing_off_and_says_nothing_deprecated(tmp_path):
    """Issue 12: the README says activation checkpointing is off on CPUs; the config must not warn either."""
    import warnings

    from orca2_kit.train.trainer import sft_config

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cfg = sft_config(load_params("smoke"), tmp_path, "cpu")
    assert cfg.activation_checkpointing is False and cfg.gradient_checkpointing is False
    assert not [w for w in caught if "deprecated" in str(w.message)], [str(w.message) for w in caught]


def test_length_bucket_sampler_is_a_seeded_permutation_with_homogeneous_batches():
    from orca2_kit.train.batches import LengthBucketSampler

    lengths = [(i * 37) % 101 + 5 for i in range(48)]
    s = LengthBucketSampler(lengths, 8, seed=1)
    a = list(s)
    assert sorted(a) == list(range(48)) and a == list(LengthBucketSampler(lengths, 8, seed=1))
    s.set_epoch(1)
    assert list(s) != a  # a new order each epoch

    def padding(order):
        batches = [order[i:i + 8] for i in range(0, 48, 8)]
        return sum(max(lengths[j] for j in b) - lengths[j] for b in batches for j in b) / sum(
            max(lengths[j] for j in b) for b in batches for _ in b)

    import random

    shuffled = list(range(48))
    random.Random(0).shuffle(shuffled)
    assert padding(a) < padding(shuffled) / 3


def test_a_checkpoint_cut_off_while_saving_is_set_aside(tmp_path):
    from orca2_kit.train import last_checkpoint

    for step, complete in ((2, True), (4, True), (6, False)):
        d = tmp_path / f"checkpoint-{step}"
        d.mkdir()
        if complete:
            (d / "trainer_state.json").write_text("{}")
    assert last_checkpoint(tmp_path).endswith("checkpoint-4")
    assert not (tmp_path / "checkpoint-6").exists() and list(tmp_path.glob("incomplete-checkpoint-6-*"))
    assert last_checkpoint(tmp_path / "none") is None


def _train_in_process(run_dir: Path, tmp: Path, compact: bool, steps: int = 3,
                      dtype: str = "float32") -> tuple[list[dict], list[int]]:
    """Three LoRA steps of the tiny student through the kit's trainer; the log history and the
    number of rows the output layer computed on each forward."""
    from datasets import load_from_disk
    from transformers import AutoModelForCausalLM, set_seed

    from orca2_kit.train.trainer import lora_config, sft_config, trainer_class

    p = load_params(_params(tmp, f"loss-{compact}-{dtype}", max_steps=steps, per_device_batch_size=4, logging_steps=1,
                            report_to=[]))
    set_seed(p.seed)
    model = AutoModelForCausalLM.from_pretrained(_tiny(), dtype=dtype)
    rows: list[int] = []
    model.lm_head.register_forward_hook(lambda m, a, out: rows.append(a[0].reshape(-1, a[0].shape[-1]).shape[0]))
    ds = load_from_disk(str(run_dir / "03_prompt_erasure" / "sft_dataset")).select_columns(["prompt", "completion"])
    cfg = sft_config(p, tmp / f"out-{compact}-{dtype}", "cpu")
    cfg.save_strategy, cfg.disable_tqdm = "no", True
    trainer = trainer_class(compact_loss=compact)(model=model, args=cfg, train_dataset=ds,
                                                  processing_class=load_tokenizer(_tiny()), peft_config=lora_config(p))
    trainer.train()
    return [h for h in trainer.state.log_history if "loss" in h and "train_runtime" not in h], rows


@pytest.mark.slow
def test_compact_loss_is_trls_loss_on_labelled_positions_only(run_dir, tmp_path):
    """The output layer runs only where the next token is trained, and the loss curve, entropy and
    token accuracy are TRL's own (fp32: equal to 1e-5 relative)."""
    trl_log, trl_rows = _train_in_process(run_dir, tmp_path, compact=False)
    kit_log, kit_rows = _train_in_process(run_dir, tmp_path, compact=True)
    assert len(kit_log) == len(trl_log) == 3
    for a, b in zip(kit_log, trl_log):
        for key in ("loss", "entropy", "mean_token_accuracy", "num_tokens"):
            assert a[key] == pytest.approx(b[key], rel=1e-5), (key, a, b)
    # TRL's CPU head projects every position (prompt and padding too); the kit's only the trained ones
    assert trl_rows == [] and kit_rows and sum(kit_rows) < sum(a["num_tokens"] for a in kit_log[-1:])

