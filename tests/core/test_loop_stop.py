"""A runaway loop (the same line LOOP_LINES times in a row, stops.runaway) ends a generation there,
counted as cut, on every engine: the embedded SmolLM2 on the one offline strategy-grid prompt
where the base model loops (01's sort_list/dev/2 under the step-by-step instruction, which ran to
its 216-token limit before the rule)."""
import pytest

from orca2_kit.generation import generate_detailed, messages
from orca2_kit.generation.stops import LOOP_LINES, runaway


def test_runaway_reads_only_the_last_complete_lines():
    line = "So the answer is 2.\n"
    assert runaway(line * LOOP_LINES)
    assert not runaway(line * (LOOP_LINES - 1))
    assert not runaway(line * (LOOP_LINES - 1) + "So the answer is 2.")  # the sixth line is not finished
    assert runaway("".join(f"{i}. So Hugo has 46 dollars.\n" for i in range(3, 3 + LOOP_LINES)))  # step numbers aside
    assert not runaway("".join(f"So Hugo has {i} dollars.\n" for i in range(LOOP_LINES)))  # other numbers count
    assert not runaway("Answer: 2\n" * 2 + "- 5\n" * LOOP_LINES)  # lines under 8 characters (a list of numbers)
    assert not runaway(("So the answer is 2.\n\n") * LOOP_LINES)  # a blank line breaks the run
    assert runaway("Let's solve this.\n1. The sum is 5.\n" + line * LOOP_LINES)
    assert not runaway(line * LOOP_LINES + "Answer: 2\n")
    assert not runaway(line * 10, lines=0)  # 0: the rule is off


@pytest.fixture(scope="module")
def looping_prompt():
    from orca2_kit import tasks
    from orca2_kit.config import load_params
    from orca2_kit.selection.choose import family_info
    from orca2_kit.strategies import teacher_instruction

    p = load_params("offline")
    suite = tasks.build_suite(p.seed, n_train=p.tasks.n_train, n_dev=p.tasks.n_dev, n_test=p.tasks.n_test,
                              families=p.tasks.families)
    it = next(i for i in suite["dev"] if i.id == "sort_list/dev/2")
    return messages(teacher_instruction("step_by_step", family_info(it.family)["description"]), it.prompt)


@pytest.mark.parametrize("eng", ["continuous", "hf", pytest.param("openvino", marks=pytest.mark.slow)])
def test_a_runaway_loop_is_stopped_and_counted_as_cut(smollm2_dir, looping_prompt, eng):
    from orca2_kit.models import load_model, load_tokenizer

    model, tok = load_model(str(smollm2_dir), "cpu", "float32"), load_tokenizer(str(smollm2_dir))
    g = generate_detailed(model, tok, [looping_prompt, looping_prompt], [216, 216], engine=eng)
    assert g[0] == g[1]
    g = g[0]
    assert g.in_loop and g.hit_limit, g
    assert g.new_tokens < 216 / 2, g  # stopped at the sixth line, not at the limit
    last = [line.strip() for line in g.text.split("\n")[-LOOP_LINES:]]
    assert len(set(last)) == 1 and len(last[0]) >= 8, g.text
