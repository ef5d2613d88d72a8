"""Notebook 07 (07_ablation): the ablation study, every arm trained and scored through the pipeline's stages.

    arms.py      the arms (overrides of the profile) and which of them would train alike (twins)
    steps.py     one arm through stages 02-04 and the scoring, by the stages' own functions and fingerprints
    run.py       every arm x seed, pooled (what notebook 07 calls)
    analysis.py  accuracy per arm with intervals, paired differences against the recipe, strategy use
"""
from orca2_kit.study.arms import Arm, arm_maps, plan, summary_strategy, twins  # noqa: F401
from orca2_kit.study.run import run, study_documents  # noqa: F401
from orca2_kit.study.steps import STAGE_DIR  # noqa: F401
