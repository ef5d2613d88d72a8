"""A task's known solution laid out in a strategy: a correct worked answer, as a strong model
following that strategy's instruction would write it.

Built-in task items carry their solution's ingredients (facts, quoted evidence, steps, a short
explanation). The offline profile's reference teacher (orca2_kit/teacher/reference.py) answers with
these renderings, and strategy selection (01) sizes each strategy's token budget from their lengths
before any teacher call (orca2_kit/generation/budgets.py).
"""
from __future__ import annotations

from orca2_kit.tasks.base import TaskItem

def _bullets(lines) -> str:
    return "\n".join(f"- {x}" for x in lines)


def _numbered(lines) -> str:
    return "\n".join(f"{i}. {x}" for i, x in enumerate(lines, 1))


def render(item: TaskItem, strategy: str) -> str:
    s, answer = item.solution, f"Answer: {item.reference}"
    facts = s.facts or s.evidence or (s.explanation,)
    evidence = s.evidence or s.facts or (s.explanation,)
    steps = s.steps or (s.explanation,)
    if strategy == "direct":
        return answer
    if strategy == "step_by_step":
        return f"Let's solve this step by step.\n{_numbered(steps)}\n{answer}"
    if strategy == "explain_then_answer":
        return f"{s.explanation or steps[-1]}\n{answer}"
    if strategy == "recall_then_generate":
        return f"Relevant facts:\n{_bullets(facts)}\n{answer}"
    if strategy == "recall_reason_generate":
        return f"Relevant facts:\n{_bullets(facts)}\nReasoning:\n{_numbered(steps)}\n{answer}"
    if strategy == "extract_generate":
        quoted = "\n".join(f'"{e}"' for e in evidence)
        return f"Relevant text:\n{quoted}\n{answer}"
    raise ValueError(f"the reference teacher has no rendering for strategy '{strategy}'")
