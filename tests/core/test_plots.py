"""Figures say what they show: the loss curve's legend names both of its lines."""
import matplotlib

matplotlib.use("Agg")

from orca2_kit import plots  # noqa: E402


def test_the_loss_curve_legend_names_loss_and_learning_rate(tmp_path):
    logs = [{"loss": 1.0, "learning_rate": 2e-3, "step": 2}, {"loss": 0.5, "learning_rate": 1e-3, "step": 4}]
    fig, _ = plots.loss_curve(logs, tmp_path / "loss")
    legends = [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None]
    assert len(legends) == 1  # two legends in one corner hide each other (04 showed only the learning rate)
    assert [t.get_text() for t in legends[0].get_texts()] == ["train loss", "learning rate"]


def _family_table():
    import pandas as pd

    rows = []
    for system, models in (("empty", ("base", "student")), ("generic", ("base", "student")), ("none", ("base",))):
        for m in models:
            for f, v in (("arithmetic", 0.0 if m == "student" else 0.25), ("sort_list", 0.0), ("sentiment", 0.5),
                         ("compare_numbers", 0.25), ("element_compare", 0.3)):  # as 05's: long never-trained names
                rows.append({"family": f, "model": m, "system": system, "lenient": v, "lenient_lo": 0.0,
                             "lenient_hi": min(1.0, v + 0.3), "chance": 0.5 if f == "sentiment" else 0.0,
                             "trained": f not in ("compare_numbers", "element_compare")})
    return pd.DataFrame(rows)


def test_the_05_figure_labels_zero_bars_and_its_axis_labels_do_not_overlap(tmp_path):
    """Issue 27: three copies of a long x-label ran into each other, and a model that scored 0 on a
    family showed no bar at all (read as 'not measured')."""
    fig, _ = plots.base_vs_student(_family_table(), tmp_path / "05")
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    labels = [t for t in [ax.xaxis.label for ax in fig.axes] + [fig._supxlabel] if t is not None and t.get_text()]
    boxes = [t.get_window_extent(renderer) for t in labels]
    assert boxes and not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])
    # zero bars: student arithmetic in two panels, sort_list for every bar (5) -> 7 '0' labels
    zeros = [t for ax in fig.axes for t in ax.texts if t.get_text() == "0"]
    assert len(zeros) == 7


def test_the_06_figure_says_why_the_papers_values_are_not_drawn(tmp_path):
    """Issue 27: it said 'none recorded in orca2_kit/data/paper_fig6.yaml' (the file records six);
    notebook 06 passes the paper's values only when the run has rates on real data."""
    import pandas as pd

    rates = pd.DataFrame([{"dataset": "builtin", "model": m, "system": s, "n": 12, "rate": 0.2, "lo": 0.05, "hi": 0.5}
                          for m in ("base", "student") for s in ("empty", "generic")])
    fig, _ = plots.hallucination_rates(rates, tmp_path / "06", None, trained_with="generic")
    title = fig._suptitle.get_text()
    assert "none recorded" not in title
    assert "the paper's rates are on real data (QMSum, ACI-Bench, MS MARCO)" in title and "built-in documents only" in title
