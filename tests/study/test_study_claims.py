"""The study's conclusion in words: chance, and what an undecided claim would need."""


def test_conclusion_says_when_no_arm_reaches_chance_and_that_seeds_may_be_needed():
    """A question where every arm scores under chance is said to be one; an undecided claim's item
    count is said to count the items alone."""
    import pandas as pd

    from orca2_kit.study import analysis

    paired = pd.DataFrame([{"group": "never-trained families", "arm": "not_erased", "difference": -0.03, "lo": -0.13,
                            "hi": 0.07, "half_width": 0.10, "items": 160, "seeds": "3 vs 3", "verdict": "not distinguishable",
                            "demonstration": False}])
    below = pd.DataFrame([{"group": "never-trained families", "arm": a, "lenient": v, "chance": 0.36}
                          for a, v in (("recipe", 0.31), ("not_erased", 0.28))])
    text = analysis.conclusion(paired, None, None, below)
    assert "no arm's accuracy reaches chance (0.28-0.31 against a chance level of 0.36)" in text
    assert "counting the items alone" in text
    above = below.assign(lenient=[0.40, 0.28])
    assert "reaches chance" not in analysis.conclusion(paired, None, None, above)
