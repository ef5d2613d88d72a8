"""Notebook 07 (07_ablation): the ablation study, every arm trained and scored through the pipeline's stages.

    arms.py      the arms (overrides of the profile), their training and scoring, reused by fingerprint
    analysis.py  accuracy per arm with intervals, paired differences against the recipe, strategy use
"""
from orca2_kit.study.arms import STAGE_DIR, arm_maps, plan, run, study_documents, summary_strategy, twins  # noqa: F401
