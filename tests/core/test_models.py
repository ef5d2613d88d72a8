import pytest

from orca2_kit.config import StudentConfig
from orca2_kit.generation import empty_system_check, generate, messages
from orca2_kit.models import load_student, load_tokenizer

pytestmark = pytest.mark.slow


def test_embedded_student_converts_once_and_loads_from_safetensors(smollm2_dir):
    assert (smollm2_dir / "model.safetensors").is_file() and (smollm2_dir / ".complete").is_file()
    model, tok = load_student(StudentConfig(source="local", name_or_path=str(smollm2_dir)), "cpu")
    assert model.config.model_type == "llama" and model.num_parameters() == 134_515_008
    assert not hasattr(model.config, "quantization_config")


def test_smollm2_template_injects_a_default_system_message_and_empty_bypasses_it(smollm2_dir):
    tok = load_tokenizer(str(smollm2_dir))
    check = empty_system_check(tok)
    assert check["possible"] and "SmolLM" in check["injected_default"]
    rendered = tok.apply_chat_template(messages("", "hi"), tokenize=False, add_generation_prompt=True)
    assert "SmolLM" not in rendered and rendered.startswith("<|im_start|>system\n<|im_end|>")


def test_template_without_system_slot_is_reported(smollm2_dir):
    tok = load_tokenizer(str(smollm2_dir))
    tok.chat_template = ("{% for m in messages %}{% if m['role'] == 'system' %}{{ raise_exception('no system') }}"
                         "{% endif %}{{ m['content'] }}{% endfor %}")
    assert empty_system_check(tok)["possible"] is False


def test_real_model_greedy_generation_is_ordered_and_batch_invariant(smollm2_dir):
    # fp32: left padding changes matmul shapes, and bf16 rounding can then flip a greedy token;
    # in fp32 the same prompts give the same text whatever the batch size.
    model, tok = load_student(StudentConfig(source="local", name_or_path=str(smollm2_dir), dtype="float32"), "cpu")
    convs = [messages("", f"What is {a} plus {a}? End with 'Answer: <number>'.") for a in (2, 30, 7)]
    one = generate(model, tok, convs, 24, batch_size=1)
    three = generate(model, tok, convs, 24, batch_size=3)
    assert one == three and len(set(one)) == 3


def test_tiny_random_model(tiny_dir):
    model, tok = load_student(StudentConfig(source="tiny-random"), "cpu")
    assert model.num_parameters() < 5_000_000 and tok.chat_template


def test_one_scoring_dtype_for_builtin_evaluation_and_harness():
    """Issue 13: the harness may only repeat generation.dtype; auto scores in float32 on CPUs."""
    import pytest
    import torch

    from orca2_kit.config import ConfigError, load_params
    from orca2_kit.models import dtype_record, scoring_dtype

    p = load_params("offline")
    assert scoring_dtype(p.generation.dtype, "cpu") == torch.float32 and p.eval.harness.dtype is None
    assert load_params("offline", ["eval.harness.dtype=auto"]).eval.harness.dtype == "auto"  # repeating it is fine
    with pytest.raises(ConfigError, match="eval.harness.dtype: 'bfloat16' differs from generation.dtype 'auto'"):
        load_params("offline", ["eval.harness.dtype=bfloat16"])
    assert scoring_dtype("bfloat16", "cpu") == torch.bfloat16
    record = dtype_record(load_params("offline", ["generation.dtype=bfloat16"]))
    assert record["scoring"] == "bfloat16" and record["device"] == "cpu" and "training_base" in record
