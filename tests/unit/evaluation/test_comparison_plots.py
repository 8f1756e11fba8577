"""Report figures: worse-than-chance DET curves stay visible; labels say what is plotted."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest
from scipy.stats import norm

from voxlab.evaluation.comparison import (
    plot_det_comparison,
    plot_score_histograms,
    system_from_scores,
)

matplotlib.use("Agg")


@pytest.fixture
def figures(monkeypatch):
    import matplotlib.pyplot as plt

    kept = []
    monkeypatch.setattr(plt, "close", kept.append)  # keep figures for inspection
    yield kept
    for fig in kept:
        matplotlib.pyplot.figure(fig.number)
        fig.clf()


def _systems():
    rng = np.random.default_rng(0)
    keys = np.array(["bonafide"] * 100 + ["spoof"] * 300)
    attacks = np.array(["-"] * 100 + ["A01"] * 300)
    good = np.r_[rng.normal(2, 1, 100), rng.normal(-2, 1, 300)]
    return [
        system_from_scores("good", good, keys, attacks),
        system_from_scores("inverted", -good, keys, attacks),
        system_from_scores("gmm", 40 * good, keys, attacks, score_label="LLR"),
    ]


def test_det_shows_worse_than_chance_and_legend_outside(tmp_path, figures):
    plot_det_comparison(_systems(), tmp_path / "det.png")
    assert (tmp_path / "det.png").stat().st_size > 10_000
    ax = figures[0].axes[0]
    assert ax.get_ylim()[1] == pytest.approx(norm.ppf(0.95))  # up to 95 % miss rate
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[1].startswith("inverted: EER 9") and "100 bona fide, 300 spoof" in labels[1]
    figures[0].canvas.draw()
    legend_box = ax.get_legend().get_window_extent()
    assert legend_box.x0 > ax.get_window_extent().x1  # the legend hides no curve


def test_histograms_label_axes_with_counts(tmp_path, figures):
    plot_score_histograms(_systems(), tmp_path / "hist.png")
    axes = figures[0].axes
    assert axes[0].get_xlabel() == "score (bona fide logit)" and axes[2].get_xlabel() == "LLR"
    assert all(ax.get_ylabel() == "density of trials" for ax in axes[:3])
    labels = [t.get_text() for t in axes[0].get_legend().get_texts()]
    assert "bona fide (n=100)" in labels and "spoof (n=300)" in labels
