"""Chat rendering: every prompt the kit sends to a local model goes through the model's own chat
template, with the system message of the run (none, an explicit empty one, generic, cautious, or a
strategy's instruction). The same rendering is used at training time (04), so what the student is
trained on and what it is tested on cannot drift apart."""
from __future__ import annotations

import hashlib
from typing import Optional

from orca2_kit.strategies import student_system_message


def system_text(mode: str, file: Optional[str] = None) -> Optional[str]:
    """'none' -> no system turn; 'empty' -> an explicit empty one; 'generic'/'cautious' -> text."""
    if mode == "none":
        return None
    return student_system_message(mode, file if mode != "empty" else None)


def messages(system: Optional[str], user: str, assistant: Optional[str] = None) -> list[dict]:
    msgs = [] if system is None else [{"role": "system", "content": system}]
    msgs.append({"role": "user", "content": user})
    if assistant is not None:
        msgs.append({"role": "assistant", "content": assistant})
    return msgs


def render(tokenizer, system: Optional[str], user: str) -> str:
    return tokenizer.apply_chat_template(messages(system, user), tokenize=False, add_generation_prompt=True)


def template_hash(tokenizer) -> str:
    return hashlib.sha256((tokenizer.chat_template or "").encode()).hexdigest()[:16]


def system_slot_problem(tokenizer) -> Optional[str]:
    """None if the chat template renders a system turn; else what it does with one instead.

    Templates without a system slot either raise (Gemma's: "System role not supported") or drop
    the system turn silently; either way the strategy instructions and the erased system message
    of the recipe would never reach the model.
    """
    try:
        text = render(tokenizer, "PROBE-SYSTEM", "PROBE-USER")
    except Exception as e:  # noqa: BLE001 (jinja raises TemplateError, or whatever the template raises)
        return f"it rejects a system turn: {str(e).splitlines()[0] if str(e) else type(e).__name__}"
    if "PROBE-SYSTEM" not in text:
        return "it drops the system turn silently"
    return None


def empty_system_check(tokenizer) -> dict:
    """Can this template give the model a truly empty system message?

    Some templates (SmolLM2's among them) inject a default system message when no system turn is
    given. An explicit empty system turn avoids that, if the template renders it as empty.
    Returns {"possible": bool, "injected_default": str|None, "reason": str}.
    """
    user, mark = "PROBE-USER", "PROBE-SYSTEM"

    def head(system):
        text = tokenizer.apply_chat_template(messages(system, user), tokenize=False, add_generation_prompt=True)
        return text.split(user)[0]

    try:
        marked, empty, absent = head(mark), head(""), head(None)
    except Exception as e:  # templates without a system slot raise here
        return {"possible": False, "injected_default": None, "reason": f"the template rejects a system turn: {e}"}
    if mark not in marked:
        return {"possible": False, "injected_default": None, "reason": "the template drops the system turn"}
    pre, post = marked.split(mark, 1)
    injected = None
    if absent != empty and absent.startswith(pre) and absent.endswith(post):
        injected = absent[len(pre):len(absent) - len(post)].strip() or None
    if empty != pre + post:
        return {"possible": False, "injected_default": injected,
                "reason": "the template does not render an explicit empty system turn as empty"}
    return {"possible": True, "injected_default": injected,
            "reason": "explicit empty system turn" + (" (bypasses the template's default)" if injected else "")}
