"""What a newcomer reads in the notebooks says what the code does (issue 27)."""
import re
from pathlib import Path

import jupytext

NB = Path(__file__).resolve().parents[2] / "notebooks"


def _prose(stage: str) -> str:
    cells = jupytext.read(NB / f"{stage}.py").cells
    return " ".join(" ".join(c.source.split()) for c in cells if c.cell_type == "markdown")


def _code(stage: str) -> str:
    return "\n".join(c.source for c in jupytext.read(NB / f"{stage}.py").cells if c.cell_type == "code")


def test_the_format_ok_rule_is_stated_as_the_code_applies_it():
    """The pages said 'an `Answer:` line was written'; the rule is stricter (its own line, beginning
    with it) and looser (not only the last line) than that."""
    from orca2_kit.extract import FORMAT_OK_WORDS, strict_answer

    for stage in ("01_strategy_selection", "05_benchmark_eval"):
        assert " ".join(FORMAT_OK_WORDS.split()) in _prose(stage), stage
    assert "(an `Answer:` line was written)" not in _prose("05_benchmark_eval")
    # the words, example by example
    assert strict_answer("Answer: 8\nand then more") == "8"  # need not be the last line
    assert strict_answer("**Answer:** 8") == "8" and strict_answer("- Final answer: 8") == "8"
    assert strict_answer("answer: 8") == "8"  # any case
    assert strict_answer("So he has 8 left. Answer: 8.") is None  # inside a sentence
    assert strict_answer("Answer:") is None  # nothing after it


def test_chance_is_stated_per_family_from_the_code():
    prose = _prose("05_benchmark_eval")
    assert "0.5 on the two-option families, 0 on open answers" not in prose and "(a weekday: 1/7)" in prose
    assert "chance_by_family(samples)" in _code("05_benchmark_eval")
    assert "about 0 for open answers" not in _prose("01_strategy_selection")


def test_06_has_no_development_history_and_names_the_data_it_uses():
    prose = _prose("06_hallucination")
    assert "session" not in prose and not re.search(r"\b\d{8}-\d{6}\b", prose)
    assert "(QMSum, ACI-Bench, MS MARCO) where available" not in prose
    assert "the offline profile selects QMSum and ACI-Bench" in prose and "hallucination.datasets" in _code("06_hallucination")


def test_no_cell_shows_a_raw_dict_or_an_empty_table():
    """01 and 02 ended cells on a mapping (shown as a raw dict), 02 on an empty 'rejected' table,
    04 printed its params and the trainer's log as dicts."""
    for stage in ("01_strategy_selection", "02_teacher_prompting", "04_sft_training"):
        for cell in jupytext.read(NB / f"{stage}.py").cells:
            last = cell.source.strip().splitlines()[-1] if cell.cell_type == "code" and cell.source.strip() else ""
            assert last not in ("strategy_map", "empty_system_check(tokenizer)", "rejected.head(10)"), (stage, last)
            assert not last.startswith("{k: metrics[k]"), stage
    assert "print({k: v" not in _code("04_sft_training")
    # 03 ended cells on the Dataset (its repr) and on a Series (its repr, 'Name: count, dtype: int64')
    for cell in jupytext.read(NB / "03_prompt_erasure.py").cells:
        last = cell.source.strip().splitlines()[-1] if cell.cell_type == "code" and cell.source.strip() else ""
        assert last not in ("dataset", "mix"), last
