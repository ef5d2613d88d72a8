"""Batched greedy generation through the model's own chat template (01, 05, 06, the study, the probe).

    chat.py     rendering prompts and the system messages of a run
    generate.py generate / generate_detailed: one call for every scored generation
    engine.py   generation.engine: which engine decodes (OpenVINO, CTranslate2 or the kit's decoder), and `decode`
    convert_cache.py   where a converted student is kept (one conversion per weights fingerprint)
    ov_convert.py / ov_decode.py   the student exported to OpenVINO once; greedy on OpenVINO GenAI
    ct2_convert.py / ct2_decode.py   the student converted to CTranslate2 once; greedy on it
    greedy.py   the continuous-batching decoder (the reference engine)
    hf.py       plain `model.generate` batches (the library's path, for models greedy.py does not support)
    stops.py    when a completion ends, and what a Generation holds
    budgets.py  how many new tokens a strategy needs, and runaway loops
"""
from orca2_kit.generation.chat import (  # noqa: F401
    empty_system_check, messages, render, system_slot_problem, system_text, template_hash)
from orca2_kit.generation.generate import ENGINES, generate, generate_detailed  # noqa: F401
from orca2_kit.generation.stops import Generation, answer_complete, eos_token_ids  # noqa: F401
