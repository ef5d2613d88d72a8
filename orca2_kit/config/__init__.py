"""The typed params schema: one YAML profile per scale, validated before any notebook runs.

A profile is a YAML file in `params/`. It may `extends:` another profile (a path relative to
itself) and holds only what differs from it. Single values are overridden from the command line
with `--set train.epochs=2`. Unknown keys, wrong types, negative sizes and missing files are
errors that name the key (papermill itself only warns on unknown parameters).

    base.py           what every section shares (strict sections, strategy names, URL checks)
    core.py           student, tasks, generation: the shared core's sections
    selection.py ... study.py   each stage's own section (01 strategy_selection ... 07 study)
    params.py         Params: the sections assembled, with the checks across them
    load.py           load_params: name or file, `extends:`, overrides, absolute paths, validation
    overrides.py      `--set key=value`;  messages.py: one error line per key ("did you mean")
"""
from orca2_kit.config.base import (  # noqa: F401
    STRATEGY_KEYS, Budget, Section, Strategy, SystemMessage, is_loopback)
from orca2_kit.config.core import GenerationConfig, StudentConfig, TasksConfig  # noqa: F401
from orca2_kit.config.erasure import ErasureConfig  # noqa: F401
from orca2_kit.config.evaluation import BENCHMARK_KEYS, EndpointConfig, EvalConfig, HarnessConfig  # noqa: F401
from orca2_kit.config.hallucination import HallucinationConfig, JudgeConfig  # noqa: F401
from orca2_kit.config.load import (  # noqa: F401
    PATH_KEYS, absolute_paths, deep_merge, dump_params, load_params, load_raw, resolve_profile_path)
from orca2_kit.config.messages import format_errors  # noqa: F401
from orca2_kit.config.overrides import apply_overrides, parse_override  # noqa: F401
from orca2_kit.config.params import Params  # noqa: F401
from orca2_kit.config.selection import StrategySelectionConfig  # noqa: F401
from orca2_kit.config.study import ARM_SECTIONS, DEFAULT_ARMS, LearningCurveConfig, PlanningConfig, StudyConfig  # noqa: F401
from orca2_kit.config.teacher import TeacherConfig  # noqa: F401
from orca2_kit.config.train import ACCELERATE_CONFIGS, TrainConfig, resolve_accelerate_config  # noqa: F401
from orca2_kit.errors import ConfigError  # noqa: F401
from orca2_kit.paths import PARAMS_DIR  # noqa: F401
