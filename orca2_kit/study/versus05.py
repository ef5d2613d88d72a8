"""Why the study's training gain (recipe against the base, notebook 07) is not notebook 05's
(student against the base): both ask "what does training gain?", on other items, other n, another
training size and other system messages. A reader who sees two numbers for one question is told
which is which, from the two profiles' params, never from memory.

05's figure comes from the profile the study profile `extends:` (params/offline-study.yaml extends
offline.yaml); without one, from the study's own params (what `run` with this profile would do).
"""
from __future__ import annotations

from pathlib import Path

import yaml

from orca2_kit.config import PARAMS_DIR, ConfigError, Params, load_params


def run_profile(p: Params) -> tuple[str, Params]:
    """(name, params) of the profile notebook 05 ran under for this study: the kit profile the
    study's profile extends; the study's own params when it extends none (or is not a kit profile)."""
    path = PARAMS_DIR / f"{p.profile}.yaml"
    try:
        parent = (yaml.safe_load(path.read_text()) or {}).get("extends")
    except (OSError, yaml.YAMLError):
        parent = None
    if not parent:
        return p.profile, p
    parent_path = Path(parent) if Path(parent).is_absolute() else path.parent / parent
    try:
        return Path(parent).stem, load_params(parent_path if parent_path.is_file() else Path(parent).stem)
    except ConfigError:  # a parent that no longer loads: the sentence still says what the study itself did
        return p.profile, p


def _families(p: Params) -> tuple[int, int]:
    """(trained, never-trained) family counts."""
    held = len(set(p.tasks.heldout_families) & set(p.tasks.families))
    return len(p.tasks.families) - held, held


def _names(messages, last: str = "and") -> str:
    names = [f"'{m}'" for m in messages]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} {last} {names[-1]}"


def sentence(study: Params, run: tuple[str, Params] | None = None) -> str:
    """Why 07's gain from training differs from 05's, with the items, n, training size, seeds and
    system messages of each, and whether 05's test items are among the study's."""
    name, r = run or run_profile(study)
    t5, h5 = _families(r)
    t7, h7 = _families(study)
    seeds = study.study.seeds
    base5 = list(r.eval.system_messages) + (["none"] if r.eval.base_under_none and "none" not in r.eval.system_messages else [])
    out = (f"This gain from training is not the one notebook 05 reports, and the two are not the same measurement. "
           f"05 (profile '{name}') scores one student ({r.tasks.n_train} training items per family, one training seed) "
           f"under {_names([r.erasure.system_message])} against the base at its best of {_names(base5, 'or')} (chosen on dev), on "
           f"{r.tasks.n_test} test items of each of {t5 + h5} families ({t5 * r.tasks.n_test} items of {t5} trained "
           f"families, {h5 * r.tasks.n_test} of {h5} never trained); this study scores the recipe "
           f"({study.tasks.n_train} training items per family, {len(seeds)} training seeds, their mean) against the base, "
           f"both under {_names(study.study.system_messages)}, on {study.tasks.n_test} test items of each of {t7 + h7} "
           f"families ({t7 * study.tasks.n_test} of {t7} trained, {h7 * study.tasks.n_test} of {h7} never trained), "
           "and writes it as base minus recipe.")
    same_draw = r.seed == study.seed and r.tasks.source == study.tasks.source == "builtin"
    if same_draw and set(r.tasks.families) <= set(study.tasks.families) and r.tasks.n_test <= study.tasks.n_test:
        # build_suite draws each family's test items first, from a seed of its own: a prefix of a longer draw
        same_train = (r.tasks.n_test, r.tasks.n_dev, r.tasks.n_train) == (study.tasks.n_test, study.tasks.n_dev,
                                                                            study.tasks.n_train)
        which = "the same as" if r.tasks.n_test == study.tasks.n_test else f"the first {r.tasks.n_test} of each of its {t5 + h5} families"
        out += (f" 05's test items are {which} here (the suite draws each family's test items first, from the same "
                f"seed); the training items are {'the same' if same_train else 'other draws'}.")
    differ = [what for what, a, b in (("families", sorted(r.tasks.families), sorted(study.tasks.families)),
                                      ("never-trained families", sorted(r.tasks.heldout_families),
                                       sorted(study.tasks.heldout_families)),
                                      ("test items per family", r.tasks.n_test, study.tasks.n_test),
                                      ("training items per family", r.tasks.n_train, study.tasks.n_train),
                                      ("training seeds", 1, len(seeds))) if a != b]
    differ.append("system messages (05: the base at its best message; here: both under the same one)")
    return out + (f" They differ in {', '.join(differ)}: the two numbers answer one question under different "
                  "conditions, and neither checks the other.")
