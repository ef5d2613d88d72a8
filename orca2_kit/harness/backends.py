"""Model backends for lm-evaluation-harness that keep the kit's system-message protocol.

The harness adds a system turn only when the system instruction is non-empty, so "empty" would
otherwise leave the system slot to the chat template, and SmolLM2's template fills it with its
own default ("You are a helpful AI assistant named SmolLM..."). Each backend here takes
`system_mode`: with "empty" it sends an explicit empty system turn, after checking that the
template renders it as empty (`generation.empty_system_check`); a template that cannot is
refused with the reason, and the caller reports the variant as not possible.

    orca2-hf     transformers (CPU or GPU), optional PEFT adapter (HFLM's `peft=`)
    orca2-vllm   vLLM on GPUs, LoRA adapters served without merging (`lora_local_path=`)
    orca2-chat   any OpenAI-compatible chat endpoint (e.g. `transformers serve`, vLLM's server)
"""
from __future__ import annotations

import os

from lm_eval.api.registry import register_model
from lm_eval.models.huggingface import HFLM
from lm_eval.models.openai_completions import LocalChatCompletion

from ..generation import empty_system_check


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
    def __init__(self, *args, system_mode: str = "empty", **kwargs):
        super().__init__(*args, **kwargs)
        self.system_mode = system_mode
        self.check_template(self.tokenizer)


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
