"""Compare systems like a paper's Table 1: model, parameters, EER, min t-DCF, per-attack EER.

Each system is a score file (with keys) plus an optional parameter count; the comparison
is rendered as Markdown and CSV, with one DET plot of all systems and score histograms.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voxlab.errors import MetricError
from voxlab.evaluation.metrics import det_curve
from voxlab.evaluation.reports import EvalReport, evaluate
from voxlab.evaluation.tdcf import AsvScores


@dataclass(frozen=True)
class SystemResult:
    """One row of the comparison.

    Attributes:
        name: System name (row label).
        scores: CM scores (higher = more bona fide). Shape: ``(n,)``.
        keys: ``bonafide``/``spoof`` per trial. Shape: ``(n,)``.
        attacks: Attack id per trial. Shape: ``(n,)``.
        report: Metrics of these scores.
        parameters: Number of model parameters, when known.
        note: Free text shown under the table (e.g. "published checkpoint").
        score_label: What the score is, for plot axes (a GMM's is a log-likelihood ratio).
    """

    name: str
    scores: np.ndarray
    keys: np.ndarray
    attacks: np.ndarray
    report: EvalReport
    parameters: int | None = None
    note: str = ""
    score_label: str = "score (bona fide logit)"


def system_from_scores(
    name: str,
    scores: Sequence[float] | np.ndarray,
    keys: Sequence[str] | np.ndarray,
    attacks: Sequence[str] | np.ndarray,
    *,
    asv: AsvScores | None = None,
    parameters: int | None = None,
    note: str = "",
    score_label: str = "score (bona fide logit)",
) -> SystemResult:
    """Evaluate one system's scores (all metric sets) into a :class:`SystemResult`."""
    s = np.asarray(scores, dtype=np.float64)
    k = np.asarray(keys, dtype=str)
    a = np.asarray(attacks, dtype=str)
    report = evaluate(s, k, a, asv=asv, metric_set="all")
    return SystemResult(name, s, k, a, report, parameters, note, score_label)


def _attack_columns(systems: Sequence[SystemResult]) -> list[str]:
    names = {row.value for s in systems for row in s.report.per_attack}
    return sorted(names)


def _fmt(value: float | None, digits: int) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def comparison_rows(systems: Sequence[SystemResult]) -> tuple[list[str], list[list[str]]]:
    """Header and body of the comparison table (EERs in %, t-DCF as fractions)."""
    if not systems:
        raise MetricError("no systems to compare")
    attacks = _attack_columns(systems)
    header = ["model", "parameters", "EER (%)", "min t-DCF (2019)", "min t-DCF (2021)",
              "minDCF (ASVspoof 5)"] + [f"{a} EER (%)" for a in attacks]  # fmt: skip
    body = []
    for s in systems:
        by_attack = {row.value: row for row in s.report.per_attack}
        cells = [
            s.name,
            "–" if s.parameters is None else f"{s.parameters:,}",
            _fmt(s.report.eer_percent, 2),
            _fmt(s.report.min_tdcf_2019, 4),
            _fmt(s.report.min_tdcf_2021, 4),
            _fmt(s.report.min_dcf, 4),
        ]
        for attack in attacks:
            row = by_attack.get(attack)
            cells.append("–" if row is None or row.eer is None else f"{100 * row.eer:.2f}")
        body.append(cells)
    return header, body


def comparison_markdown(systems: Sequence[SystemResult], *, title: str = "") -> str:
    """The comparison as a Markdown table, with each system's notes below it."""
    header, body = comparison_rows(systems)
    lines = [f"### {title}", ""] if title else []
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|")
    lines += ["| " + " | ".join(cells) + " |" for cells in body]
    notes = [f"- **{s.name}**: {s.note}" for s in systems if s.note]
    notes += [f"- **{s.name}**: {n}" for s in systems for n in s.report.notes]
    if notes:
        lines += ["", *notes]
    return "\n".join(lines) + "\n"


def comparison_csv(systems: Sequence[SystemResult]) -> str:
    """The comparison as CSV text (same columns as the Markdown table)."""
    header, body = comparison_rows(systems)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(body)
    return buffer.getvalue()


def plot_det_comparison(systems: Sequence[SystemResult], path: str | os.PathLike) -> Path:
    """One DET plot with a curve per system."""
    from voxlab.evaluation.plots import plot_det

    curves = {
        _det_label(s): det_curve(s.scores[s.keys == "bonafide"], s.scores[s.keys == "spoof"])
        for s in systems
    }
    return plot_det(curves, path, title="DET curves (eval)")


def _det_label(s: SystemResult) -> str:
    n_bona = int(np.count_nonzero(s.keys == "bonafide"))
    counts = f"{n_bona} bona fide, {len(s.keys) - n_bona} spoof"
    return f"{s.name}: EER {s.report.eer_percent:.1f} % ({counts})"


def plot_score_histograms(systems: Sequence[SystemResult], path: str | os.PathLike) -> Path:
    """Bona fide vs spoof score histograms, one panel per system, EER threshold marked."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    n = len(systems)
    cols = min(3, n)
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.0 * rows), squeeze=False)
    for ax, s in zip(axes.flat, systems):
        bins = np.histogram_bin_edges(s.scores, bins=40)
        bona, spoof = s.scores[s.keys == "bonafide"], s.scores[s.keys == "spoof"]
        ax.hist(
            bona,
            bins=bins,
            alpha=0.6,
            label=f"bona fide (n={bona.size})",
            color="tab:green",
            density=True,
        )
        ax.hist(
            spoof,
            bins=bins,
            alpha=0.6,
            label=f"spoof (n={spoof.size})",
            color="tab:red",
            density=True,
        )
        ax.axvline(
            s.report.eer_threshold,
            color="k",
            linestyle="--",
            linewidth=0.8,
            label=f"EER thr. ({s.report.eer_percent:.1f}%)",
        )
        ax.set_title(s.name, fontsize="medium")
        ax.set_xlabel(s.score_label)
        ax.set_ylabel("density of trials")
        ax.legend(fontsize="x-small")
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
