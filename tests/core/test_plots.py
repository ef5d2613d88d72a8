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
