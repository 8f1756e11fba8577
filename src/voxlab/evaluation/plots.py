"""DET plots (miss versus false-alarm rate on normal-deviate axes), drawn with matplotlib."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from voxlab.errors import MetricError
from voxlab.evaluation.metrics import DetCurve

_TICKS = (0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 0.95, 0.99)


def plot_det(
    curves: Mapping[str, DetCurve],
    path: str | os.PathLike,
    *,
    title: str = "DET curve",
    limits: tuple[float, float] = (0.001, 0.95),
) -> Path:
    """Draws DET curves on probit (normal deviate) axes and saves the figure.

    Args:
        curves: Legend label -> DET curve (e.g. pooled and per attack); a curve labelled
            ``"pooled"`` is drawn thick and black.
        path: Output image (``.png``, ``.pdf``, ``.svg``...).
        title: Figure title.
        limits: Smallest and largest error rate shown on both axes (up to 95 % by default,
            so a system worse than chance stays on the plot; the demo report uses 99 %).

    Returns:
        The path written.

    Raises:
        MetricError: When no curve is given.
    """
    if not curves:
        raise MetricError("plot_det needs at least one DET curve")
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from scipy.stats import norm

    lo, hi = limits
    fig, ax = plt.subplots(figsize=(5.5, 5.5))
    colours = plt.get_cmap("tab10")
    for i, (label, det) in enumerate(curves.items()):
        far = np.clip(det.far, lo / 10, 1 - lo / 10)
        frr = np.clip(det.frr, lo / 10, 1 - lo / 10)
        style = (
            {"color": "black", "linewidth": 2.0}
            if label == "pooled"
            else {"color": colours(i % 10), "linewidth": 1.2}
        )
        ax.plot(norm.ppf(far), norm.ppf(frr), label=label, **style)
    ticks = [t for t in _TICKS if lo <= t <= hi]
    ax.set_xticks(norm.ppf(ticks), [f"{100 * t:g}" for t in ticks])
    ax.set_yticks(norm.ppf(ticks), [f"{100 * t:g}" for t in ticks])
    ax.set_xlim(norm.ppf(lo), norm.ppf(hi))
    ax.set_ylim(norm.ppf(lo), norm.ppf(hi))
    ax.plot([norm.ppf(lo), norm.ppf(hi)], [norm.ppf(lo), norm.ppf(hi)], "k:", linewidth=0.6)
    ax.set_xlabel("False acceptance rate of spoofs (%)")
    ax.set_ylabel("Miss rate of bona fide (%)")
    ax.set_title(title)
    ax.grid(True, linewidth=0.3)
    # Outside the axes: a legend never hides a curve.
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return out
