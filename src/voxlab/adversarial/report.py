"""Tables, heatmap and the Markdown report of :mod:`voxlab.adversarial.robustness`."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np


def _matrix(rows: Sequence[dict]) -> tuple[list[str], list[str], np.ndarray]:
    models = list(dict.fromkeys(r["model"] for r in rows))
    conds = list(dict.fromkeys(r["condition"] for r in rows))
    grid = np.full((len(models), len(conds)), np.nan)
    for r in rows:
        grid[models.index(r["model"]), conds.index(r["condition"])] = r["eer"]
    return models, conds, grid


def write_tables(rows: Sequence[dict], out: str | Path) -> None:
    """``eer.md`` (models x conditions, EER %), ``eer.csv`` (long form) and ``eer.json``."""
    import csv

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    models, conds, grid = _matrix(rows)
    lines = ["| model | " + " | ".join(conds) + " |", "|---" * (len(conds) + 1) + "|"]
    for i, m in enumerate(models):
        cells = ["—" if math.isnan(v) else f"{v:.2f}" for v in grid[i]]
        lines.append(f"| {m} | " + " | ".join(cells) + " |")
    (out / "eer.md").write_text("EER (%) per model and condition\n\n" + "\n".join(lines) + "\n")
    with (out / "eer.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["model", "condition", "kind", "eer_percent", "n", "n_errors"])
        for r in rows:
            writer.writerow([r["model"], r["condition"], r["kind"], f"{r['eer']:.4f}", r["n"],
                             len(r["errors"])])  # fmt: skip
    (out / "eer.json").write_text(json.dumps(list(rows), indent=2), encoding="utf-8")


def heatmap(rows: Sequence[dict], path: str | Path) -> Path:
    """Models (rows) x conditions (columns) heatmap of EER %, values written in the cells."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    models, conds, grid = _matrix(rows)
    fig, ax = plt.subplots(figsize=(max(6, 0.45 * len(conds) + 2), 0.5 * len(models) + 1.8))
    image = ax.imshow(grid, cmap="magma_r", vmin=0, vmax=100,
                      aspect="auto")  # fmt: skip
    ax.set_xticks(range(len(conds)), conds, rotation=70, ha="right", fontsize=7)
    ax.set_yticks(range(len(models)), models, fontsize=8)
    for i in range(len(models)):
        for j in range(len(conds)):
            if not math.isnan(grid[i, j]):
                ax.text(j, i, f"{grid[i, j]:.0f}", ha="center", va="center", fontsize=6,
                        color="white" if grid[i, j] > 50 else "black")  # fmt: skip
    fig.colorbar(image, ax=ax, label="EER (%)")
    ax.set_title("EER (%) under channel conditions and adversarial budgets", fontsize=9)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_report(rows: Sequence[dict], out: str | Path, *, meta: dict | None = None) -> Path:
    """``report.md``: what was run, the EER table, the change against clean, the heatmap.

    Args:
        rows: Cells of :func:`voxlab.adversarial.robustness.run_report`.
        out: Output folder (holds ``heatmap.png``).
        meta: Facts to print first: ``command``, ``corpus``, ``n_bonafide``,
            ``n_spoof``, ``strata``, ``pgd_subset``, ``skipped`` (model -> reason), ``pgd_steps``.

    Returns:
        The written path.
    """
    out = Path(out)
    meta = dict(meta or {})
    models, conds, grid = _matrix(rows)
    kinds = {r["condition"]: r["kind"] for r in rows}
    lines = ["# Robustness report", ""]
    if meta.get("command"):
        lines += ["```", meta["command"], "```", ""]
    facts = [
        ("corpus", meta.get("corpus")),
        ("utterances", _counts(meta)),
        ("strata", meta.get("strata")),
        ("utterances of the PGD columns", meta.get("pgd_subset")),
        ("models", ", ".join(models)),
        ("effects", str(sum(kinds[c] == "effect" for c in conds))),
        ("adversarial columns", _adversarial(conds, kinds, meta.get("pgd_steps"))),
        ("CPU seconds (cells computed in this run)", meta.get("cpu_seconds")),
        ("cells", meta.get("cells")),
    ]
    lines += [f"- {k}: {v}" for k, v in facts if v not in (None, "")]
    for name, why in (meta.get("skipped") or {}).items():
        lines.append(f"- not scored: {name} ({why.split(';')[0]})")
    lines += ["", "## EER (%) per model and condition", ""]
    lines += (out / "eer.md").read_text(encoding="utf-8").splitlines()[2:]
    clean = grid[:, conds.index("clean")] if "clean" in conds else None
    if clean is not None and len(conds) > 1:
        lines += ["", "## Change against clean (EER points, median over models)", ""]
        lines += ["| condition | kind | median change | most hurt model |", "|---|---|---|---|"]
        for j, cond in enumerate(conds):
            if cond == "clean":
                continue
            delta = grid[:, j] - clean
            if np.all(np.isnan(delta)):
                continue
            worst = models[int(np.nanargmax(delta))] if np.nanmax(delta) > 0 else "—"
            lines.append(f"| {cond} | {kinds[cond]} | {np.nanmedian(delta):+.1f} | {worst} |")
    failed = sum(len(r["errors"]) for r in rows)
    lines += ["", "![EER heatmap](heatmap.png)", ""]
    lines.append(f"Item failures: {failed} (listed per cell under cells/)." if failed else
                 "Every item was scored.")  # fmt: skip
    path = out / "report.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _counts(meta: dict) -> str | None:
    if meta.get("n_bonafide") is None:
        return None
    return f"{meta['n_bonafide']} bona fide + {meta['n_spoof']} spoof"


def _adversarial(conds: list[str], kinds: dict, steps) -> str:
    adv = [c for c in conds if kinds[c] == "adversarial"]
    if not adv:
        return ""
    how = f", white-box PGD, {steps} steps" if steps else ", white-box PGD"
    return ", ".join(adv) + how + " (each utterance pushed to the other class)"
