"""The generation engines (generation/engine.py): OpenVINO GenAI and CTranslate2 give the reference
decoder's texts and verdicts on real prompts, keep its per-row limits and stop rules, convert a
student once per fingerprint (beside its adapter for a LoRA student), and a missing or unsupported
engine, or a failed export, falls back to the kit's decoder with one line."""
import sys

import pytest
import torch

from orca2_kit.config import StudentConfig
from orca2_kit.generation import convert_cache, engine, generate_detailed, messages, system_text
from orca2_kit.models import load_model, load_student, load_tokenizer


def _convs(n: int, seed: int = 1234) -> list[list[dict]]:
    from orca2_kit import tasks

    items = tasks.build_suite(seed, n_train=1, n_dev=1, n_test=2)["test"]
    modes = ["generic", "empty", "none"]
    return [messages(system_text(modes[i % 3]), it.prompt) for i, it in enumerate(items[:n])]


@pytest.mark.parametrize("eng", ["openvino", "ctranslate2"])
def test_tiny_model_same_tokens_limits_and_stops_as_the_reference(tiny_dir, tmp_path, eng):
    """Per-row limits across chunks (batch 3 < 9 prompts), three system prefixes, and a caller's
    stop rule: token for token what the continuous decoder writes, with the same end reasons."""
    model, tok = load_model(str(tiny_dir), "cpu", "float32", cache=tmp_path), load_tokenizer(str(tiny_dir))
    assert engine.problem(model, eng) is None
    convs = _convs(9)
    limits = [3, 17, 9, 17, 3, 12, 17, 5, 17]
    fast = generate_detailed(model, tok, convs, limits, batch_size=3, stop_after_answer=False, engine=eng)
    ref = generate_detailed(model, tok, convs, limits, batch_size=3, stop_after_answer=False, engine="continuous")
    assert fast == ref  # Generation records: text, new_tokens, hit_limit
    ids = tok([tok.apply_chat_template(c, tokenize=False, add_generation_prompt=True) for c in convs[:2]],
              add_special_tokens=False)["input_ids"]
    stop = lambda i, toks: i == 0 and len(toks) == 3  # noqa: E731
    out = engine.decode(model, tok, ids, [10, 10], 2, set(), 0, stop, engine=eng)
    assert [(len(r.tokens), r.reason) for r in out] == [(3, "stop"), (10, "limit")]
    eos = {out[1].tokens[4]}  # a token the row writes: as an end-of-turn token it ends the row there
    ended = engine.decode(model, tok, ids[1:], [10], 1, eos, 0, engine=eng)[0]
    assert (ended.tokens, ended.reason) == (out[1].tokens[:out[1].tokens.index(out[1].tokens[4]) + 1], "eos")


@pytest.mark.parametrize("eng", ["ctranslate2", pytest.param("openvino", marks=pytest.mark.slow)])
def test_conversion_is_made_once_per_fingerprint_and_kept_beside_the_adapter(tiny_dir, tmp_path, eng):
    """Count the conversions: a second call and a second load of the same weights reuse the first;
    changed weights are a new one; a LoRA student's conversion lands beside its adapter (openvino:
    only once it was changed after its load; as loaded, it runs as the base plus its adapter).
    (openvino is marked slow: each export starts optimum-intel in .venv-export, ~20 s.)"""
    from peft import LoraConfig, get_peft_model

    tok = load_tokenizer(str(tiny_dir))
    convs, before = _convs(3), len(convert_cache.CONVERSIONS)
    model = load_model(str(tiny_dir), "cpu", "float32", cache=tmp_path)
    a = generate_detailed(model, tok, convs, 6, engine=eng)
    generate_detailed(model, tok, convs, 6, engine=eng)
    again = load_model(str(tiny_dir), "cpu", "float32", cache=tmp_path)
    assert generate_detailed(again, tok, convs, 6, engine=eng) == a
    assert len(convert_cache.CONVERSIONS) == before + 1
    kind = "ct2" if eng == "ctranslate2" else eng
    assert (list((tmp_path / kind).iterdir())[0] / ("model.bin" if kind == "ct2" else "openvino_model.xml")).exists()
    with torch.no_grad():  # trained further in place: a new fingerprint, never the stale conversion
        again.model.norm.weight.add_(0.5)
    generate_detailed(again, tok, convs, 6, engine=eng)
    assert len(convert_cache.CONVERSIONS) == before + 2

    lora = get_peft_model(load_model(str(tiny_dir), "cpu", "float32"),
                          LoraConfig(r=4, target_modules=["q_proj", "v_proj"], init_lora_weights=False))
    adapter = tmp_path / "run" / "adapter"
    lora.save_pretrained(adapter)
    student = load_model(str(tiny_dir), "cpu", "float32", adapter=str(adapter), cache=tmp_path)
    got = generate_detailed(student, tok, convs, 6, engine=eng)
    assert got == generate_detailed(student, tok, convs, 6, engine="continuous")  # the merged student, as trained
    if eng == "openvino":  # served as the base's export plus the adapter fused at load: no export of its own
        assert len(convert_cache.CONVERSIONS) == before + 2
        with torch.no_grad():  # trained further in place: no longer base + adapter, so exported whole
            student.model.norm.weight.add_(0.5)
        got = generate_detailed(student, tok, convs, 6, engine=eng)
        assert got == generate_detailed(student, tok, convs, 6, engine="continuous")
    assert len(convert_cache.CONVERSIONS) == before + 3
    assert convert_cache.CONVERSIONS[-1]["dir"].startswith(str(tmp_path / "run" / ".engine" / f"adapter-{kind}-"))


def test_unsupported_model_falls_back_with_one_line(tiny_dir, tmp_path, capsys, monkeypatch):
    """A bf16 model (not the engine's fp32): auto (on a CPU where it picks the engine) and an explicit
    ctranslate2 both fall back to the continuous decoder, saying so once, and still generate."""
    monkeypatch.setenv("ORCA2_ENGINE_AUTO", "ctranslate2")
    model, tok = load_model(str(tiny_dir), "cpu", "bfloat16", cache=tmp_path), load_tokenizer(str(tiny_dir))
    engine._SAID.clear()
    capsys.readouterr()  # the load's progress bars
    assert engine.resolve(model, "auto") == "continuous"
    assert engine.resolve(model, "auto") == "continuous"
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["generation.engine: auto -> continuous decoder: the model is in bfloat16; the engine runs the "
                   "fp32 scoring dtype only"]
    before = len(convert_cache.CONVERSIONS)
    assert generate_detailed(model, tok, _convs(2), 4, engine="ctranslate2")[0].new_tokens > 0
    assert "ctranslate2 -> continuous decoder" in capsys.readouterr().err
    assert len(convert_cache.CONVERSIONS) == before
    assert engine.resolve(model, "openvino") == "continuous"
    assert "openvino -> continuous decoder: the model is in bfloat16" in capsys.readouterr().err
    with pytest.raises(ValueError, match="not one of auto, openvino, ctranslate2, continuous, hf"):
        engine.resolve(model, "vllm")


def test_missing_ctranslate2_falls_back_with_one_line(tiny_dir, tmp_path, capsys, monkeypatch):
    """Without the package (import fails), the default still runs, on the kit's decoder."""
    monkeypatch.setenv("ORCA2_ENGINE_AUTO", "ctranslate2")
    model, tok = load_model(str(tiny_dir), "cpu", "float32", cache=tmp_path), load_tokenizer(str(tiny_dir))
    engine._SAID.clear()
    capsys.readouterr()  # the load's progress bars
    monkeypatch.setitem(sys.modules, "ctranslate2", None)  # what `import ctranslate2` meets when it is not installed
    monkeypatch.delitem(sys.modules, "ctranslate2.converters.transformers", raising=False)
    monkeypatch.delitem(sys.modules, "ctranslate2.converters", raising=False)
    assert engine.resolve(model) == "continuous"
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("generation.engine: auto -> continuous decoder: ctranslate2 is not installed")


def test_missing_openvino_or_export_environment_falls_back_with_one_line(tiny_dir, tmp_path, capsys, monkeypatch):
    """Without openvino-genai, or without the export environment, auto says so once and decodes on
    the next engine (the kit's decoder on this Intel machine)."""
    from orca2_kit import machine

    monkeypatch.delenv("ORCA2_ENGINE_AUTO", raising=False)
    monkeypatch.setattr(machine, "cpu_vendor", lambda: "GenuineIntel")
    model, tok = load_model(str(tiny_dir), "cpu", "float32", cache=tmp_path), load_tokenizer(str(tiny_dir))
    engine._SAID.clear()
    capsys.readouterr()
    monkeypatch.setenv("ORCA2_EXPORT_PYTHON", str(tmp_path / "no-such-python"))
    assert engine.resolve(model) == "continuous"
    assert engine.resolve(model) == "continuous"
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["generation.engine: auto -> continuous decoder: no export environment (.venv-export: "
                   "`bash scripts/setup.sh` makes it; ORCA2_EXPORT_PYTHON names another)"]
    monkeypatch.delenv("ORCA2_EXPORT_PYTHON")
    monkeypatch.setitem(sys.modules, "openvino_genai", None)  # what `import openvino_genai` meets when it is not installed
    assert engine.resolve(model) == "continuous"
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("generation.engine: auto -> continuous decoder: openvino-genai is not installed")


def test_failed_export_falls_back_with_one_line_and_is_not_retried(tiny_dir, tmp_path, capsys, monkeypatch):
    """An export environment that cannot export (here: an interpreter without optimum-intel) costs one
    try per model: one line with the exporter's own last error line, then the kit's decoder, the same texts."""
    model, tok = load_model(str(tiny_dir), "cpu", "float32", cache=tmp_path), load_tokenizer(str(tiny_dir))
    monkeypatch.setenv("ORCA2_EXPORT_PYTHON", sys.executable)  # the kit's own .venv: no optimum
    engine._SAID.clear()
    capsys.readouterr()
    before = len(convert_cache.CONVERSIONS)
    convs = _convs(3)
    got = generate_detailed(model, tok, convs, 6, engine="openvino")
    err = [ln[ln.index("generation.engine"):] for ln in capsys.readouterr().err.splitlines() if "generation.engine" in ln]
    assert len(err) == 1 and err[0].startswith("generation.engine: openvino -> continuous decoder: optimum-cli export "
                                               "openvino failed (exit 1): ") and "optimum" in err[0], err
    assert got == generate_detailed(model, tok, convs, 6, engine="continuous")
    import time

    t0 = time.perf_counter()
    generate_detailed(model, tok, convs, 6, engine="openvino")  # the failure is remembered: no second export
    assert time.perf_counter() - t0 < 5 and len(convert_cache.CONVERSIONS) == before
    assert not [ln for ln in capsys.readouterr().err.splitlines() if "generation.engine" in ln]
    assert not list((tmp_path / "openvino").glob("*")) or not any((d / ".complete").exists()
                                                                   for d in (tmp_path / "openvino").iterdir())


def test_auto_picks_the_engine_measured_faster_on_this_kind_of_cpu(tiny_dir, tmp_path, monkeypatch, capsys):
    """auto: OpenVINO wherever it can run, without a fallback line (it is a choice, not a failure);
    without the export environment, CTranslate2 on AMD CPUs (silently) and the kit's decoder on
    others (with the line); ORCA2_ENGINE_AUTO overrides the choice."""
    from orca2_kit import machine

    model, _ = load_student(StudentConfig(source="tiny-random", dtype="float32"), "cpu")
    monkeypatch.delenv("ORCA2_ENGINE_AUTO", raising=False)
    engine._SAID.clear()
    capsys.readouterr()
    for vendor in ("AuthenticAMD", "GenuineIntel"):
        monkeypatch.setattr(machine, "cpu_vendor", lambda v=vendor: v)
        assert engine.resolve(model, "auto") == "openvino"
    assert capsys.readouterr().err == ""
    monkeypatch.setenv("ORCA2_EXPORT_PYTHON", str(tmp_path / "no-such-python"))
    monkeypatch.setattr(machine, "cpu_vendor", lambda: "AuthenticAMD")
    assert engine.resolve(model, "auto") == "ctranslate2" and capsys.readouterr().err == ""
    monkeypatch.setattr(machine, "cpu_vendor", lambda: "GenuineIntel")
    assert engine.resolve(model, "auto") == "continuous" and "no export environment" in capsys.readouterr().err
    monkeypatch.setenv("ORCA2_ENGINE_AUTO", "ctranslate2")
    assert engine.resolve(model, "auto") == "ctranslate2"


def test_generation_engine_setting_reaches_the_model(tiny_dir, monkeypatch):
    """generation.engine from the params is kept on the loaded model; every greedy call on it obeys."""
    from orca2_kit.config import load_params

    monkeypatch.setenv("ORCA2_ENGINE_AUTO", "ctranslate2")

    assert load_params("offline").generation.engine == "auto"
    model, _ = load_student(StudentConfig(source="tiny-random", dtype="float32"), "cpu", engine="continuous")
    assert model.orca2_engine == "continuous" and engine.resolve(model) == "continuous"
    model, _ = load_student(StudentConfig(source="tiny-random", dtype="float32"), "cpu")
    assert engine.resolve(model) == "ctranslate2"


@pytest.mark.slow
@pytest.mark.parametrize("eng", ["openvino", "ctranslate2"])
def test_real_student_same_texts_and_verdicts_as_the_reference(smollm2_dir, eng):
    """The embedded SmolLM2 in the offline profile's scoring dtype (fp32) on 24 real prompts of its
    task families under three system messages, scored as 05 scores them: at least 99% of the
    texts and verdicts equal the continuous decoder's (at this n: all of them)."""
    from orca2_kit import scoring, tasks
    from orca2_kit.config import load_params

    p = load_params("offline")
    model, tok = load_student(StudentConfig(source="local", name_or_path=str(smollm2_dir)), "cpu",
                              scoring=p.generation.dtype)
    assert model.dtype == torch.float32
    items = tasks.build_suite(p.seed, n_train=1, n_dev=1, n_test=2, families=p.tasks.families)["test"]
    items = items[::2][:8]  # one item of each of eight families
    assert len({it.family for it in items}) == 8
    modes = ["generic", "empty", "none"]
    got, _ = scoring.evaluate_model(model, tok, items, modes, "base", 80, batch_size=8, engine=eng)
    ref, _ = scoring.evaluate_model(model, tok, items, modes, "base", 80, batch_size=8, engine="continuous")
    n = len(ref)
    assert n == 24
    same_text = sum(a == b for a, b in zip(got.output, ref.output)) / n
    same_verdict = sum(a == b for a, b in zip(got.correct_lenient, ref.correct_lenient)) / n
    assert same_text >= 0.99 and same_verdict >= 0.99, (same_text, same_verdict)
    assert got.hit_limit.tolist() == ref.hit_limit.tolist()
