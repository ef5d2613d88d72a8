"""Model backends for lm-evaluation-harness that keep the kit's system-message protocol.

The harness adds a system turn only when the system instruction is non-empty, so "empty" would
otherwise leave the system slot to the chat template, and SmolLM2's template fills it with its
own default ("You are a helpful AI assistant named SmolLM..."). Each backend here takes
`system_mode`: with "empty" it sends an explicit empty system turn, after checking that the
template renders it as empty (`generation.empty_system_check`); a template that cannot is
refused with the reason, and the caller reports the variant as not possible.

    orca2-hf     transformers (CPU or GPU), optional PEFT adapter (HFLM's `peft=`); greedy
                 `generate_until` requests run on the kit's generation engine (OpenVINO, CTranslate2 or the
                 continuous-batching decoder: orca2_kit/generation/engine.py), everything else
                 (log-likelihoods, sampling) is HFLM's, on the HF model
    orca2-vllm   vLLM on GPUs, LoRA adapters served without merging (`lora_local_path=`)
    orca2-chat   any OpenAI-compatible chat endpoint (e.g. `transformers serve`, vLLM's server)
"""
from __future__ import annotations

import os

from lm_eval.api.registry import register_model
from lm_eval.models.huggingface import HFLM
from lm_eval.models.openai_completions import LocalChatCompletion

from orca2_kit.generation import empty_system_check


class EmptySystemNotPossible(RuntimeError):
    pass


def with_system_turn(chat_history: list[dict], system_mode: str) -> list[dict]:
    """Make "empty" explicit: an empty system turn when the harness added none."""
    if system_mode == "empty" and not any(m["role"] == "system" for m in chat_history):
        return [{"role": "system", "content": ""}] + list(chat_history)
    return chat_history


def check_empty_possible(tokenizer) -> dict:
    check = empty_system_check(tokenizer)
    if not check["possible"]:
        raise EmptySystemNotPossible(f"an empty system message is not possible with this chat template: {check['reason']}")
    return check


class SystemProtocol:
    """Mixed in before a harness model class: `system_mode`, and "empty" sent as an explicit empty turn."""

    system_mode = "empty"

    def check_template(self, tokenizer) -> None:
        if self.system_mode == "empty":
            check_empty_possible(tokenizer)

    def apply_chat_template(self, chat_history, add_generation_prompt: bool = True):
        return super().apply_chat_template(with_system_turn(chat_history, self.system_mode), add_generation_prompt)


@register_model("orca2-hf")
class Orca2HFLM(SystemProtocol, HFLM):
    """HFLM whose greedy generation runs on the kit's engine (generation/engine.py; "auto": the
    model's generation.engine, else the fastest engine that supports the model, else the continuous
    decoder): the same tokens per document as HFLM's `model.generate` (in fp32; tested), without
    computing finished rows until the batch's longest one ends. `engine="hf"` keeps HFLM's own loop; `stop_after_answer` also ends a document once
    its 'Answer: ...' line is complete (the kit's rule; off by default: the harness's own stop
    sequences decide)."""

    def __init__(self, *args, system_mode: str = "empty", engine: str = "auto", stop_after_answer: bool = False,
                 **kwargs):
        from orca2_kit.generation.engine import ENGINES

        super().__init__(*args, **kwargs)
        if engine not in ENGINES:
            raise ValueError(f"engine: '{engine}' is not one of {', '.join(ENGINES)}")
        self.system_mode, self.engine, self.stop_after_answer = system_mode, engine, stop_after_answer
        self.check_template(self.tokenizer)

    def generate_until(self, requests, disable_tqdm: bool = False) -> list[str]:
        from orca2_kit.generation.engine import resolve

        greedy_reqs = [r for r in requests if _is_greedy(r.args[1])]
        if self.engine == "hf" or self.backend != "causal" or not greedy_reqs or isinstance(self.think_end_token, int):
            return super().generate_until(requests, disable_tqdm)
        engine = resolve(self.model, self.engine)
        if engine == "hf":
            return super().generate_until(requests, disable_tqdm)
        out = dict(zip(map(id, greedy_reqs), self._generate_greedy(greedy_reqs, disable_tqdm, engine)))
        rest = [r for r in requests if id(r) not in out]
        out.update(zip(map(id, rest), super().generate_until(rest, disable_tqdm) if rest else []))
        return [out[id(r)] for r in requests]

    def _generate_greedy(self, requests, disable_tqdm: bool, engine: str = "continuous") -> list[str]:
        """HFLM.generate_until's encoding, limits, stop sequences and post-processing, per request."""
        from lm_eval.models.utils import handle_stop_sequences, normalize_gen_kwargs, postprocess_generated_text
        from tqdm.auto import tqdm

        from orca2_kit.generation import answer_complete, eos_token_ids
        from orca2_kit.generation.engine import decode

        eos = self.tok_decode(self.eot_token_id, skip_special_tokens=False)
        prompts, limits, stops = [], [], []
        for r in requests:
            context, gen_kwargs = r.args
            kw = normalize_gen_kwargs(dict(gen_kwargs), self.max_gen_toks)
            until = handle_stop_sequences(kw.pop("until", None), eos=eos)
            limit = kw.pop("max_gen_toks")
            ids, _ = self.tok_batch_encode([context], left_truncate_len=self.max_length - limit, truncation=self.truncation)
            prompts.append(ids[0].tolist())
            limits.append(limit)
            stops.append(until)
        tok = self.tokenizer
        # HF's stop-string criterion: the stop string within the last (its token length + 2) new tokens
        lookback = {s: len(tok.encode(s, add_special_tokens=False)) + 2 for u in stops for s in u}

        def stop(i: int, toks: list[int]) -> bool:
            for s in stops[i]:
                if s and s in tok.decode(toks[-lookback[s]:], skip_special_tokens=False):
                    return True
            return self.stop_after_answer and answer_complete(tok.decode(toks, skip_special_tokens=True))

        bar = tqdm(total=len(requests), disable=disable_tqdm or self.rank != 0, desc="Running generate_until requests")
        done = decode(self.model, tok, prompts, limits, self.batch_size if isinstance(self.batch_size, int) else 32,
                      eos_token_ids(self.model, tok), tok.pad_token_id, stop, on_finish=lambda i: bar.update(1),
                      engine=engine)
        bar.close()
        out = []
        for r, d, until in zip(requests, done, stops):
            s = postprocess_generated_text(self.tok_decode(d.tokens), until, self.think_end_token
                                           if isinstance(self.think_end_token, str) else None)
            self.cache_hook.add_partial("generate_until", r.args, s)
            out.append(s)
        return out


def _is_greedy(gen_kwargs: dict) -> bool:
    return not gen_kwargs.get("do_sample") and not gen_kwargs.get("temperature")


@register_model("orca2-chat")
class Orca2ChatAPI(SystemProtocol, LocalChatCompletion):
    """Chat completions; the key is read from the environment variable named by `api_key_env`."""

    def __init__(self, *args, system_mode: str = "empty", api_key_env: str | None = "OPENAI_API_KEY", **kwargs):
        self.system_mode, self.api_key_env = system_mode, api_key_env
        kwargs.setdefault("tokenized_requests", False)
        super().__init__(*args, **kwargs)

    @property
    def api_key(self):
        return os.environ.get(self.api_key_env or "", "") or "EMPTY"  # local servers accept any key


def vllm_class():
    """orca2-vllm, registered on first use: vLLM is a GPU extra (pip install 'orca2-kit[gpu]')."""
    try:
        from lm_eval.models.vllm_causallms import VLLM
    except ImportError as e:
        raise ImportError(f"backend 'vllm' needs vLLM on a CUDA machine (pip install 'orca2-kit[gpu]'): {e}") from None

    @register_model("orca2-vllm")
    class Orca2VLLM(SystemProtocol, VLLM):
        def __init__(self, *args, system_mode: str = "empty", **kwargs):
            super().__init__(*args, **kwargs)
            self.system_mode = system_mode
            self.check_template(self.tokenizer)

    return Orca2VLLM
