"""Which engine decodes greedily (`generation.engine`), and the one call every greedy generation goes
through: `decode` (generate.generate_detailed for 01, 05, 06, the study and the probe; the harness's
orca2-hf `generate_until`).

    openvino     OpenVINO GenAI's continuous-batching pipeline (openvino-genai, in the lock): the
                 model exported to OpenVINO IR fp32 once per fingerprint (ov_convert.py, by
                 optimum-intel in .venv-export), a LoRA student as the base's export plus its
                 adapter fused at load (ov_adapter.py), decoded on the CPU (ov_decode.py). The
                 fastest measured on 05's workload (benchmarks/scoring_engine.py), identical texts.
    ctranslate2  CTranslate2 (in the lock): the student converted to fp32 once per fingerprint
                 (ct2_convert.py), decoded on the CPU (ct2_decode.py).
    continuous   the kit's continuous-batching decoder (greedy.py), the reference.
    hf           plain `model.generate` (hf.py).
    auto         openvino where it can run (installed, an export environment, an fp32 model on the
                 CPU); else ctranslate2 on AMD CPUs (where torch's MKL sgemm runs at half the cores'
                 speed, the issue's AVX2 EPYC decoded 05's prompts 1.61x faster with it, while on
                 the devs' Intel Xeon it was slower than the kit's decoder); else the continuous
                 decoder. An engine that cannot run the model falls back with one line saying why;
                 ORCA2_ENGINE_AUTO=openvino|ctranslate2|continuous forces auto's choice.

Log-likelihood scoring (the harness's multiple-choice and log-likelihood variants) stays on the
HF model: only greedy generation goes through an engine.

The engine a model uses is set where it is loaded (models.load_student(engine=...) from
`generation.engine`, kept on the model as `orca2_engine`); a call may still name one.
"""
from __future__ import annotations

import os
import sys
from typing import Callable, Optional, Sequence

from orca2_kit.generation import greedy
from orca2_kit.generation.greedy import Finished

ENGINES = ("auto", "openvino", "ctranslate2", "continuous", "hf")
_SAID: set[str] = set()  # fallback lines already printed in this process (one line, not one per call)


def _say(line: str) -> None:
    if line not in _SAID:
        _SAID.add(line)
        _log(line)


def _log(line: str) -> None:
    """A line on stderr of its own, also when a progress bar is drawn there."""
    from tqdm.auto import tqdm

    tqdm.write(line, file=sys.stderr)


def auto_order() -> list[str]:
    """The engines auto tries, in order (see the module docstring). ORCA2_ENGINE_AUTO forces one."""
    from orca2_kit.machine import cpu_vendor

    forced = os.environ.get("ORCA2_ENGINE_AUTO", "").strip().lower()
    if forced in ("openvino", "ctranslate2", "continuous"):
        return [forced]
    return ["openvino"] + (["ctranslate2"] if cpu_vendor() == "AuthenticAMD" else []) + ["continuous"]


def _cpu_problem(model) -> Optional[str]:
    """None when the model is what both engines run (fp32, on the CPU, decoder-only); else why not."""
    import torch

    p = next(model.parameters())
    if p.device.type != "cpu":
        return f"the model is on {p.device.type}; the engine runs fp32 models on the CPU"
    if p.dtype != torch.float32:
        return f"the model is in {str(p.dtype).removeprefix('torch.')}; the engine runs the fp32 scoring dtype only"
    if getattr(getattr(model, "config", None), "is_encoder_decoder", False):
        return "encoder-decoder models are not decoded through the engine"
    return None


def problem(model, engine: str) -> Optional[str]:
    """None when `engine` (openvino or ctranslate2) can decode this model as the kit scores it; else why not."""
    if engine == "openvino":
        from orca2_kit.generation.ov_convert import problem as ov_problem

        return _cpu_problem(model) or ov_problem()
    from orca2_kit.generation.ct2_convert import supported_architecture

    return supported_architecture(model) or _cpu_problem(model)


def resolve(model, engine: str = "auto") -> str:
    """The engine that will decode this model: 'openvino', 'ctranslate2', 'continuous' or 'hf'.
    'auto' (or no choice) takes the model's `orca2_engine` from its load; an engine that cannot run
    it falls back, with one line naming the reason and the fallback."""
    if engine not in ENGINES:
        raise ValueError(f"generation.engine: '{engine}' is not one of {', '.join(ENGINES)}")
    if engine == "auto":
        engine = getattr(model, "orca2_engine", None) or "auto"
    if engine == "hf":
        return "hf"
    fallback = "continuous" if greedy.supported(model) else "hf"
    tries = auto_order() if engine == "auto" else [engine]
    first_why = None
    for e in tries:
        if e == "continuous":
            break
        why = problem(model, e)
        if why is None:
            return e
        first_why = first_why or why
    if first_why:
        _say(f"generation.engine: {engine} -> {fallback} decoder: {first_why}")
    return fallback


def decode(model, tokenizer, prompts: Sequence[Sequence[int]], limits: Sequence[int], slots: int, eos_ids: set[int],
           pad_id: int, stop: Optional[Callable[[int, list[int]], bool]] = None,
           on_finish: Optional[Callable[[int], None]] = None, groups: Optional[Sequence] = None,
           engine: str = "openvino") -> list[Finished]:
    """Greedy completions of tokenised prompts (greedy.greedy's contract) on `engine`, a resolved
    name ('openvino', 'ctranslate2' or 'continuous'; see `resolve`). An export that fails falls
    back to the continuous decoder with one line."""
    if not len(prompts):
        return []
    import torch

    if engine == "openvino":
        from orca2_kit.generation.ov_adapter import served
        from orca2_kit.generation.ov_convert import ExportFailed, converted
        from orca2_kit.generation.ov_decode import AdapterNotFused, greedy_ov

        threads = torch.get_num_threads()
        try:
            route = served(model, tokenizer, log=_log)
            if route is not None:
                base, weights, scale, digest = route
                try:
                    out = greedy_ov(str(base), threads, prompts, limits, slots, eos_ids, stop, on_finish,
                                    adapter=(weights, scale, digest))
                    _say(f"generation.engine: the student runs on openvino as the base model's export plus its LoRA "
                         f"adapter fused at load ({weights}); no export of its own")
                    return out
                except AdapterNotFused as e:
                    _say(f"generation.engine: openvino could not fuse the adapter ({e}); exporting the student whole")
            folder = converted(model, tokenizer, log=_log)
        except ExportFailed as e:
            _say(f"generation.engine: openvino -> continuous decoder: {e}")
            engine = "continuous"
        else:
            return greedy_ov(str(folder), threads, prompts, limits, slots, eos_ids, stop, on_finish)
    if engine == "ctranslate2":
        from orca2_kit.generation.ct2_convert import converted
        from orca2_kit.generation.ct2_decode import generator, greedy_ct2

        folder = converted(model, tokenizer, log=_log)
        gen = generator(str(folder), torch.get_num_threads())
        return greedy_ct2(gen, tokenizer, prompts, limits, slots, eos_ids, stop, on_finish)
    if engine != "continuous":
        raise ValueError(f"decode: engine '{engine}' is not openvino, ctranslate2 or continuous (resolve it first)")
    return greedy.greedy(model, prompts, limits, slots, eos_ids, pad_id, stop, on_finish, groups)


def prepare(model, tokenizer, log=_log) -> Optional[str]:
    """Convert `model` for the engine auto picks here, now (setup does it for the embedded student,
    so a first run does not wait on the export); returns the engine's name, or None when auto picks
    the kit's own decoder (nothing to convert). An engine that cannot run it falls back as `resolve` says."""
    engine = resolve(model, "auto")
    if engine == "openvino":
        from orca2_kit.generation.ov_convert import ExportFailed, converted

        try:
            converted(model, tokenizer, log=log)
        except ExportFailed as e:
            _say(f"generation.engine: openvino -> continuous decoder: {e}")
            return None
    elif engine == "ctranslate2":
        from orca2_kit.generation.ct2_convert import converted as ct2_converted

        ct2_converted(model, tokenizer, log=log)
    return engine if engine in ("openvino", "ctranslate2") else None
