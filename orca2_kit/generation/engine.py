"""Which engine decodes greedily (`generation.engine`), and the one call every greedy generation goes
through: `decode` (generate.generate_detailed for 01, 05, 06, the study and the probe; the harness's
orca2-hf `generate_until`).

    ctranslate2  CTranslate2 (a PyPI wheel, in the lock): the student converted to fp32 once per
                 fingerprint (ct2_convert.py), decoded on the CPU (ct2_decode.py). Chosen after
                 measuring CTranslate2, OpenVINO GenAI and ONNX Runtime GenAI on 05's workload
                 (benchmarks/scoring_engine.py has the record).
    continuous   the kit's continuous-batching decoder (greedy.py), the reference.
    hf           plain `model.generate` (hf.py).
    auto         the one measured faster on this kind of CPU: ctranslate2 on AMD CPUs (where torch's
                 MKL sgemm runs at half the cores' speed: the issue's AVX2 EPYC decoded 05's prompts
                 1.61x faster with it, identical texts) for an fp32 model CTranslate2 converts; the
                 continuous decoder elsewhere (on the devs' Intel Xeon, AVX-512, CTranslate2 took 1.3x
                 the decoder's time: benchmarks/scoring_engine.py). An engine that cannot run the
                 model falls back with one line saying why.

Log-likelihood scoring (the harness's multiple-choice and log-likelihood variants) stays on the
HF model: only greedy generation goes through an engine.

The engine a model uses is set where it is loaded (models.load_student(engine=...) from
`generation.engine`, kept on the model as `orca2_engine`); a call may still name one.
"""
from __future__ import annotations

import sys
from typing import Callable, Optional, Sequence

from orca2_kit.generation import greedy
from orca2_kit.generation.greedy import Finished

ENGINES = ("auto", "ctranslate2", "continuous", "hf")
_SAID: set[str] = set()  # fallback lines already printed in this process (one line, not one per call)


def _say(line: str) -> None:
    if line not in _SAID:
        _SAID.add(line)
        print(line, file=sys.stderr, flush=True)


def engine_is_faster_here() -> bool:
    """Whether CTranslate2 was measured faster than the continuous decoder on this kind of CPU (AMD;
    see the module docstring). ORCA2_ENGINE_AUTO=ctranslate2|continuous overrides the guess."""
    import os

    from orca2_kit.machine import cpu_vendor

    forced = os.environ.get("ORCA2_ENGINE_AUTO", "").strip().lower()
    if forced in ("ctranslate2", "continuous"):
        return forced == "ctranslate2"
    return cpu_vendor() == "AuthenticAMD"


def ct2_problem(model) -> Optional[str]:
    """None when CTranslate2 can decode this model as the kit scores it; else why not."""
    from orca2_kit.generation.ct2_convert import supported_architecture

    why = supported_architecture(model)
    if why:
        return why
    import torch

    p = next(model.parameters())
    if p.device.type != "cpu":
        return f"the model is on {p.device.type}; the engine runs fp32 models on the CPU"
    if p.dtype != torch.float32:
        return f"the model is in {str(p.dtype).removeprefix('torch.')}; the engine runs the fp32 scoring dtype only"
    if getattr(getattr(model, "config", None), "is_encoder_decoder", False):
        return "encoder-decoder models are not decoded through the engine"
    return None


def resolve(model, engine: str = "auto") -> str:
    """The engine that will decode this model: 'ctranslate2', 'continuous' or 'hf'. 'auto' (or no
    choice) takes the model's `orca2_engine` from its load; an engine that cannot run it falls back,
    with one line naming the reason and the fallback."""
    if engine not in ENGINES:
        raise ValueError(f"generation.engine: '{engine}' is not one of {', '.join(ENGINES)}")
    if engine == "auto":
        engine = getattr(model, "orca2_engine", None) or "auto"
    if engine == "hf":
        return "hf"
    if engine == "auto" and not engine_is_faster_here():
        return "continuous" if greedy.supported(model) else "hf"
    if engine in ("auto", "ctranslate2"):
        why = ct2_problem(model)
        if why is None:
            return "ctranslate2"
        fallback = "continuous" if greedy.supported(model) else "hf"
        _say(f"generation.engine: {'auto' if engine == 'auto' else engine} -> {fallback} decoder: {why}")
        return fallback
    return engine if greedy.supported(model) else "hf"


def decode(model, tokenizer, prompts: Sequence[Sequence[int]], limits: Sequence[int], slots: int, eos_ids: set[int],
           pad_id: int, stop: Optional[Callable[[int, list[int]], bool]] = None,
           on_finish: Optional[Callable[[int], None]] = None, groups: Optional[Sequence] = None,
           engine: str = "ctranslate2") -> list[Finished]:
    """Greedy completions of tokenised prompts (greedy.greedy's contract) on `engine`, a resolved
    name ('ctranslate2' or 'continuous'; see `resolve`)."""
    if not len(prompts):
        return []
    if engine == "ctranslate2":
        import torch

        from orca2_kit.generation.ct2_convert import converted
        from orca2_kit.generation.ct2_decode import generator, greedy_ct2

        folder = converted(model, tokenizer, log=lambda s: print(s, file=sys.stderr, flush=True))
        gen = generator(str(folder), torch.get_num_threads())
        return greedy_ct2(gen, tokenizer, prompts, limits, slots, eos_ids, stop, on_finish)
    if engine != "continuous":
        raise ValueError(f"decode: engine '{engine}' is not ctranslate2 or continuous (resolve it first)")
    return greedy.greedy(model, prompts, limits, slots, eos_ids, pad_id, stop, on_finish, groups)
