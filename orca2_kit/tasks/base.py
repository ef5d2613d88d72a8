"""What a task item is, and how a family of them is generated.

A *family* is a procedurally generated kind of problem (arithmetic word problems, weekday
reasoning, ...). Every item carries its exact reference answer and a structured `Solution`: the
pieces of a correct worked answer (facts to recall, evidence to quote, reasoning steps). The
reference teacher (`orca2_kit.teacher.reference`) renders those pieces in whichever strategy the
teacher instruction asks for, so the offline profile's training data is correct by construction.
"""
from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field
from typing import Callable

# How the final answer is compared with the reference (see orca2_kit.extract.check_answer).
ANSWER_TYPES = ("number", "text", "choice", "list")

# Every user prompt ends with this, so any model, base or student, is told the output format in
# the task itself. The strategy (how to get there) is what the teacher's instruction adds.
ANSWER_FORMAT = "End your response with a final line of the form 'Answer: {hint}'."


@dataclass(frozen=True)
class Solution:
    """The ingredients of a correct worked answer, filled in by the generator."""

    facts: tuple[str, ...] = ()  # knowledge recalled from memory (recall-* strategies)
    evidence: tuple[str, ...] = ()  # sentences quoted from the given text (extract-generate)
    steps: tuple[str, ...] = ()  # reasoning steps, in order (step-by-step, recall-reason-generate)
    explanation: str = ""  # one or two sentences on *why* (explain-then-answer)


@dataclass(frozen=True)
class TaskItem:
    id: str  # "<family>/<split>/<index>", unique in a suite
    family: str
    split: str  # train | dev | test
    prompt: str  # the user turn, already ending with the answer-format line
    reference: str  # exact reference answer as text ("42", "Tuesday", "apple, pear, plum")
    answer_type: str  # one of ANSWER_TYPES
    choices: tuple[str, ...] = ()  # for answer_type == "choice": the allowed answers
    solution: Solution = field(default_factory=Solution)
    # text answers: the alternatives of the same kind a response could commit to instead (the seven
    # weekdays, every capital); the lenient reading of orca2_kit.extract needs them to tell an
    # answer from a mention. Empty: unknown (a real task file) or not needed (number, list, choice).
    candidates: tuple[str, ...] = ()

    def to_row(self) -> dict:
        row = asdict(self)
        row["choices"] = list(self.choices)
        row["candidates"] = list(self.candidates)
        row["solution"] = {k: list(v) if isinstance(v, tuple) else v for k, v in row["solution"].items()}
        return row

    @classmethod
    def from_row(cls, row: dict) -> "TaskItem":
        sol = row.get("solution") or {}
        return cls(
            id=row["id"], family=row["family"], split=row["split"], prompt=row["prompt"],
            reference=str(row["reference"]), answer_type=row.get("answer_type", "text"),
            choices=tuple(row.get("choices") or ()), candidates=tuple(row.get("candidates") or ()),
            solution=Solution(
                facts=tuple(sol.get("facts") or ()), evidence=tuple(sol.get("evidence") or ()),
                steps=tuple(sol.get("steps") or ()), explanation=sol.get("explanation") or "",
            ),
        )


@dataclass(frozen=True)
class Family:
    """A task family: its generator and the strategy its authors expect to suit a ~100M model."""

    name: str
    description: str
    answer_type: str
    expected_strategy: str  # a key of orca2_kit.strategies.STRATEGIES
    why: str  # one sentence: why the authors expect that strategy
    make: Callable[[random.Random], TaskItem]  # returns an item with id/split left as "" (filled by the suite)
