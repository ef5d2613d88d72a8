# The functions the task configs in this folder name with `!function utils.<name>`.
from orca2_kit.evaluation.harness.glue import LenientAnswer, StrictAnswer, doc_to_text, load, mc_ll_text, process_results  # noqa: F401
from orca2_kit.evaluation.harness.glue import race_articles  # noqa: F401
