"""Stage 02 (notebook 02_teacher_prompting): the teacher answers every training task under its
family's strategy instruction; answers are verified against references.

    answers.py    run_teacher: requests, workflows (single, sample_k, draft_refine), verification
    reference.py  the offline teacher: a task's known solution laid out in the requested strategy

The teacher talks to its endpoint through orca2_kit.client (cache, limits, budget, batches).
"""
from orca2_kit.teacher.answers import REFINE_PROMPT, DryRun, run_teacher, teacher_requests, verify  # noqa: F401
from orca2_kit.teacher.stage import answer_train_items, selected_map  # noqa: F401
