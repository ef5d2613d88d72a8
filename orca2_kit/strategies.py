"""The strategy catalogue: how a teacher is told to solve a task, and what the student sees instead.

Orca 2 (Mitra et al. 2023, sec. 3) prompts the teacher with a detailed, strategy-specific system
instruction, then *erases* it: the student is trained on a generic system message, so it has to
learn when to reason step by step, when to recall first, and when to answer directly
("cautious reasoning"). All texts below are written for this kit; bring your own (for example the
paper's) with `erasure.system_message_file`.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Optional


@dataclass(frozen=True)
class Strategy:
    key: str
    title: str
    instruction: str  # the teacher's system instruction; {task} is the family's description

    def render(self, task: str) -> str:
        return self.instruction.format(task=task)


_FINAL = ("Finish with a final line of exactly the form 'Answer: <answer>', with nothing after it, "
          "as the task asks.")

STRATEGIES: dict[str, Strategy] = {s.key: s for s in [
    Strategy("direct", "Direct answer",
             "You are an expert assistant. The task: {task}. Answer directly and concisely: do not "
             "explain, do not show working, do not restate the question. " + _FINAL),
    Strategy("step_by_step", "Step-by-step",
             "You are a careful problem solver. The task: {task}. Solve it step by step: write "
             "short numbered steps, one operation or inference per step, stating every intermediate "
             "result explicitly so that each step can be checked on its own. Do not skip steps, "
             "even easy ones. Check the last step against the question. " + _FINAL),
    Strategy("explain_then_answer", "Explain, then answer",
             "You are a patient teacher. The task: {task}. First write a short explanation "
             "(one to three sentences) of the deciding consideration: which piece of information "
             "settles the question and why. Then give the answer. " + _FINAL),
    Strategy("recall_then_generate", "Recall, then generate",
             "You are a knowledgeable assistant. The task: {task}. First recall the relevant facts "
             "from your own knowledge and state them plainly as a short list headed 'Relevant "
             "facts:'. Then use only those facts to give the answer. If you are not sure of a fact, "
             "say so rather than inventing it. " + _FINAL),
    Strategy("recall_reason_generate", "Recall, reason, generate",
             "You are a knowledgeable and careful assistant. The task: {task}. First recall every "
             "fact you need from your own knowledge, as a list headed 'Relevant facts:'. Then reason "
             "over those facts step by step under the heading 'Reasoning:', stating each comparison "
             "or inference explicitly. Then give the answer. " + _FINAL),
    Strategy("extract_generate", "Extract, then generate",
             "You are a meticulous reader. The task: {task}. First quote, word for word, the "
             "sentence or sentences of the given text that contain the answer, under the heading "
             "'Relevant text:'. Do not use any knowledge that is not in the text. Then give the "
             "answer, taken from the quoted text. " + _FINAL),
]}

# What the student sees after erasure (sec. 3, "prompt erasing"). The generic message says nothing
# about strategy; the cautious one asks the model to choose a strategy itself.
STUDENT_SYSTEM_MESSAGES: dict[str, str] = {
    "generic": "You are a helpful AI assistant. Answer the user's request accurately.",
    "cautious": (
        "You are a cautious assistant. You carefully follow instructions. Before answering, decide "
        "how to solve the task: answer directly when it is simple, recall the relevant facts when "
        "knowledge is needed, quote the given text when the answer is in it, and reason step by "
        "step when several steps are needed. Never state anything you are not sure of."
    ),
    "empty": "",
}


def student_system_message(kind: str, file: Optional[str] = None) -> str:
    """The student's system message: 'generic', 'cautious' or 'empty', or the text of `file`."""
    if file:
        return Path(file).expanduser().read_text().strip()
    if kind not in STUDENT_SYSTEM_MESSAGES:
        raise ValueError(f"unknown student system message '{kind}'; choose from {list(STUDENT_SYSTEM_MESSAGES)}")
    return STUDENT_SYSTEM_MESSAGES[kind]


def teacher_instruction(strategy: str, task_description: str) -> str:
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy '{strategy}'; choose from {list(STRATEGIES)}")
    return STRATEGIES[strategy].render(task_description)


def strategy_map(source: str, selected: dict[str, str]) -> dict[str, str]:
    """The map the teacher follows (teacher.strategy_map): 'measured' is notebook 01's choice,
    'expected' each family's expected strategy, a strategy key that one for every family."""
    from orca2_kit.tasks import family_info

    if source == "measured":
        return dict(selected)
    if source == "expected":
        return {f: family_info(f)["expected_strategy"] or s for f, s in selected.items()}
    if source not in STRATEGIES:
        raise ValueError(f"teacher.strategy_map: '{source}' is not measured, expected or a strategy ({list(STRATEGIES)})")
    return {f: source for f in selected}


def text_hash(text: str) -> str:
    """Short content hash, recorded as provenance for every instruction the teacher saw."""
    return hashlib.sha256(text.encode()).hexdigest()[:16]


_NUMBERED = re.compile(r"^\s*(?:step\s*)?\d+[.):]\s+\S", re.IGNORECASE | re.MULTILINE)
_ANSWER = re.compile(r"^\s*(?:final\s+)?answer\s*[:：]", re.IGNORECASE | re.MULTILINE)


def classify_strategy(text: str, answer_line: bool = True) -> str:
    """Which strategy an answer *used*, read from its shape (the inverse of the catalogue above).

    The headings and layouts the strategies ask for ('Relevant text:', 'Relevant facts:',
    'Reasoning:', numbered steps) are looked for before the first 'Answer:' line; prose there is an
    explanation; nothing there is a direct answer. 'no_answer' when the response never answers.

    answer_line=False is for free-form answers that need no 'Answer:' line (a summary): without
    one, the whole text is read for the same headings and layouts ("Let's solve this step by
    step.", numbered steps, 'Relevant facts:', 'Relevant text:'), plain prose is 'direct', and
    only an empty text is 'no_answer'. With an 'Answer:' line it reads as above.
    """
    text = text or ""
    m = _ANSWER.search(text)
    if not m and (answer_line or not text.strip()):
        return "no_answer"
    if not m:
        return _shape(text.strip()) or "direct"
    before = text[:m.start()].strip()
    return _shape(before) or ("explain_then_answer" if len(before.split()) >= 3 else "direct")


def _shape(before: str) -> str | None:
    """The strategy whose heading or layout `before` shows; None for plain prose."""
    low = before.lower()
    if "relevant text:" in low:
        return "extract_generate"
    if "relevant facts:" in low:
        return "recall_reason_generate" if ("reasoning:" in low or len(_NUMBERED.findall(before)) >= 2) else "recall_then_generate"
    if len(_NUMBERED.findall(before)) >= 2 or "step by step" in low:
        return "step_by_step"
    return None
