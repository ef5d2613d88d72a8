"""The reference teacher: a correct worked answer in whichever strategy the instruction asks for.

It lays out each built-in task's known solution in the strategy asked for (orca2_kit/tasks/solutions.py),
so the offline profile trains on honest, verifiably correct data without any API. It sits behind
the same interface as the LLM teacher (`orca2_kit.teacher.run_teacher`).
"""
from orca2_kit.tasks.solutions import render  # noqa: F401

NAME = "reference-teacher"
