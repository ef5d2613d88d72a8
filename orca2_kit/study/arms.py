"""The ablation study's arms: each an override of the profile, validated like one.

Orca 2's central claim is that a small student trained on answers whose strategy was chosen per
task, with the detailed instruction *erased*, learns to choose a strategy itself and beats
imitating one style. The study trains several **arms** on the same suite, each with several
training seeds, and scores them on the same items:

    base          no training
    recipe        erased, the strategy map notebook 01 chose           (the reference arm)
    not_erased    the teacher's instruction kept as the training system message
    direct_only   the teacher's direct answers only (imitation without reasoning)
    one_strategy  one strategy for every family (imitating a single style)
    expected_map  the authors' expected map instead of the selected one

Arms are overrides of the profile (`study.arms`), so an arm is any recipe the params can express.
"""
from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError

from orca2_kit.config import ConfigError, Params, apply_overrides, format_errors
from orca2_kit.fingerprint import digest, stage_params
from orca2_kit.strategies import classify_strategy, strategy_map


@dataclass(frozen=True)
class Arm:
    name: str
    params: Params  # the profile with the arm's overrides (train.seed set per seed at training time)
    overrides: dict

    @property
    def trained(self) -> bool:
        return self.name != "base"

    def with_seed(self, seed: int) -> Params:
        """The arm's params for one training seed."""
        return self.params.model_copy(update={"train": self.params.train.model_copy(update={"seed": seed})})


def plan(p: Params) -> list[Arm]:
    """The study's arms, each validated like a profile (a bad override names its arm and key)."""
    raw = p.model_dump(mode="json")
    raw["study"]["arms"] = {"recipe": {}}  # an arm's own params hold no arms (the study is the profile's)
    arms = [Arm("base", p, {})]
    for name, overrides in p.study.arms.items():
        try:
            arm_params = Params.model_validate(apply_overrides(raw, dict(overrides)))
        except ValidationError as e:
            raise ConfigError(format_errors(e, f"(study.arms.{name})", Params)) from None
        arms.append(Arm(name, arm_params, dict(overrides)))
    return arms


def twins(p: Params, selected: dict[str, str]) -> dict[str, str]:
    """{arm: the earlier arm it would train exactly like}: same resolved strategy map (e.g. the
    expected map when notebook 01 kept every expected strategy), same teacher, erasure and training.
    A twin is not trained again; it has no information of its own and is reported as such."""
    seen: dict[str, str] = {}
    out: dict[str, str] = {}
    for arm in plan(p):
        if not arm.trained:
            continue
        made_from = {s: stage_params(arm.params, s) for s in ("02_teacher_prompting", "03_prompt_erasure", "04_sft_training")}
        made_from["02_teacher_prompting"]["teacher"]["strategy_map"] = strategy_map(arm.params.teacher.strategy_map, selected)
        key = digest(made_from)
        if key in seen:
            out[arm.name] = seen[key]
        else:
            seen[key] = arm.name
    return out


def arm_maps(p: Params, selected: dict[str, str]) -> dict[str, dict[str, str]]:
    """The strategy map each arm's teacher followed ({} for the base model)."""
    return {a.name: strategy_map(a.params.teacher.strategy_map, selected) if a.trained else {} for a in plan(p)}


def summary_strategy(text: str) -> str:
    """The strategy a free-form summary's layout shows (it needs no 'Answer:' line): step-by-step,
    recall or extract layouts, plain prose as 'prose', and an empty one as 'empty'."""
    s = classify_strategy(text, answer_line=False)
    return {"direct": "prose", "no_answer": "empty"}.get(s, s)
