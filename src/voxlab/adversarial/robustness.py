"""The robustness report: every model x every channel condition x adversarial budgets.

Each *cell* (model, condition) scores the whole corpus and gives one EER. Conditions are
``clean``, the named configurations of :data:`voxlab.audio.effects.STANDARD_ATTACKS`
(codecs, telephone band, noise levels, reverberation, resampling, tempo, ...) and
``pgd_<snr>db``: a white-box PGD attack on that same model pushing every utterance
towards the other class (spoof -> bona fide, bona fide -> spoof) within the SNR budget.
Cells are stored one JSON file each under ``OUT/cells/`` as soon as they are done, so an
interrupted run resumes where it stopped; items that fail are recorded in their cell and
the EER uses the rest.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voxlab.data.manifest import Utterance
from voxlab.errors import ConfigError, DataError, VoxlabError

SAMPLE_RATE = 16_000


@dataclass(frozen=True)
class Condition:
    """One column of the report.

    Attributes:
        label: Column name (``clean``, an attack label or ``pgd_40db``).
        kind: ``"clean"``, ``"effect"`` or ``"adversarial"``.
        snr_db: Adversarial budget (``adversarial`` only).
    """

    label: str
    kind: str
    snr_db: float | None = None


EXTRA_EFFECTS = {  # channel conditions of the suite beyond STANDARD_ATTACKS' labels
    "telephone": ("telephone", {}),
    "reverb": ("reverb", {}),
}


def conditions(
    names: str | Sequence[str] = "all", budgets: Sequence[float] = ()
) -> list[Condition]:
    """The report's conditions: clean, the named effects, then one PGD column per budget.

    Args:
        names: ``"all"`` (every standard attack plus telephone and reverb), ``"none"`` or
            a comma-separated list / sequence of labels.
        budgets: Adversarial SNR budgets in dB.

    Raises:
        ConfigError: Unknown label.
    """
    from voxlab.audio.effects import STANDARD_ATTACKS, get_attack

    if isinstance(names, str):
        names = [n.strip() for n in names.split(",") if n.strip()]
    out = [Condition("clean", "clean")]
    if list(names) == ["all"]:
        labels = [a.label for a in STANDARD_ATTACKS if a.label != "none"] + list(EXTRA_EFFECTS)
    elif list(names) in (["none"], []):
        labels = []
    else:
        labels = [n for n in names if n not in ("clean", "none")]
        for label in labels:
            if label not in EXTRA_EFFECTS:
                get_attack(label)  # raises with the known labels
    out += [Condition(label, "effect") for label in labels]
    out += [Condition(f"pgd_{b:g}db", "adversarial", float(b)) for b in budgets]
    return out


def apply_condition(condition: Condition, wave: np.ndarray) -> np.ndarray:
    """The waveform as the channel ``condition`` leaves it (effects only)."""
    from voxlab.audio.effects import apply_effect, get_attack

    if condition.kind == "clean":
        return wave
    if condition.label in EXTRA_EFFECTS:
        effect, params = EXTRA_EFFECTS[condition.label]
        return apply_effect(effect, wave, SAMPLE_RATE, **params)
    return get_attack(condition.label)(wave, SAMPLE_RATE)


def load_corpus(path: str | Path) -> list[Utterance]:
    """Utterances of a manifest (JSONL) or a folder.

    A folder holds ``manifest.jsonl`` (paths relative to it) or ``bonafide/`` and
    ``spoof/`` sub-folders of audio files.

    Raises:
        DataError: Nothing usable, or only one class.
    """
    from voxlab.audio.discovery import find_audio_files
    from voxlab.data.manifest import read_manifest

    path = Path(path)
    if path.is_dir() and (path / "manifest.jsonl").exists():
        path = path / "manifest.jsonl"
    if path.is_file():
        items = read_manifest(path)  # resolves paths relative to the manifest
    elif path.is_dir():
        items = []
        for key in ("bonafide", "spoof"):
            for f in find_audio_files([path / key]) if (path / key).is_dir() else []:
                attack = "-" if key == "bonafide" else "unknown"
                items.append(Utterance(f"{key}/{f.stem}", str(f), "-", attack, key, "eval"))
    else:
        raise DataError(f"{path}: no such manifest or folder; give a JSONL manifest or a folder")
    keys = {u.key for u in items}
    if keys != {"bonafide", "spoof"}:
        raise DataError(
            f"{path}: an EER needs both bona fide and spoof utterances, found {sorted(keys)}; "
            "use a manifest with both keys or bonafide/ and spoof/ sub-folders"
        )
    return items


def _cell_path(out: Path, model: str, condition: Condition) -> Path:
    return out / "cells" / model / f"{condition.label}.json"


def run_cell(
    model_name: str,
    model,
    condition: Condition,
    corpus: Sequence[Utterance],
    waves: Callable[[Utterance], np.ndarray],
    *,
    pgd_steps: int = 10,
) -> dict:
    """Score the corpus under one condition with one model; EER in percent.

    Returns:
        ``{"model", "condition", "eer", "n", "errors", "scores": {utt_id: score}}``.
    """
    import torch

    from voxlab.adversarial.attacks import default_policy, model_input, pgd
    from voxlab.evaluation.metrics import compute_eer

    policy = default_policy(model)
    scores: dict[str, float] = {}
    errors: dict[str, str] = {}
    for utt in corpus:
        try:
            wave = waves(utt)
            if condition.kind == "adversarial":
                goal = "spoof" if utt.key == "bonafide" else "bonafide"
                result = pgd(model, wave, target=goal, snr_db=condition.snr_db, steps=pgd_steps,
                             policy=policy)  # fmt: skip
                scores[utt.utt_id] = result.logits_after[1]
            else:
                x = torch.as_tensor(apply_condition(condition, wave))
                with torch.no_grad():
                    scores[utt.utt_id] = float(model(model_input(x, policy=policy))[0, 1])
        except VoxlabError as exc:
            errors[utt.utt_id] = str(exc)
        except (RuntimeError, ValueError) as exc:  # e.g. audio too short for the model
            errors[utt.utt_id] = f"{utt.path}: {type(exc).__name__}: {exc}"
    keys = {u.utt_id: u.key for u in corpus}
    bona = [s for u, s in scores.items() if keys[u] == "bonafide"]
    spoof = [s for u, s in scores.items() if keys[u] == "spoof"]
    eer = 100.0 * compute_eer(bona, spoof).eer if bona and spoof else math.nan
    return {"model": model_name, "condition": condition.label, "kind": condition.kind,
            "eer": eer, "n": len(scores), "errors": errors, "scores": scores}  # fmt: skip


def run_report(
    models: Sequence[str],
    corpus: Sequence[Utterance],
    conds: Sequence[Condition],
    out: str | Path,
    *,
    load: Callable[[str], object],
    pgd_steps: int = 10,
    progress: bool = False,
) -> list[dict]:
    """Every model x every condition, resumable per cell; writes the tables and heatmap.

    Args:
        models: Model names (passed to ``load``).
        corpus: Utterances with keys.
        conds: Conditions (see :func:`conditions`).
        out: Output folder (``cells/``, ``eer.md``, ``eer.csv``, ``eer.json``,
            ``heatmap.png``).
        load: Name -> differentiable model.
        pgd_steps: PGD steps of the adversarial columns.
        progress: Show a progress bar (cells).

    Returns:
        One row per cell (without per-utterance scores).
    """
    from tqdm import tqdm

    from voxlab.audio import load as load_audio

    if not models or not conds:
        raise ConfigError("the robustness report needs at least one model and one condition")
    out = Path(out)
    cache: dict[str, np.ndarray] = {}

    def waves(utt: Utterance) -> np.ndarray:
        if utt.utt_id not in cache:
            cache[utt.utt_id] = load_audio(utt.path, sr=SAMPLE_RATE, mono=True)[0]
        return cache[utt.utt_id]

    rows = []
    bar = tqdm(total=len(models) * len(conds), unit="cell", disable=not progress or None)
    for name in models:
        model = None
        for cond in conds:
            path = _cell_path(out, name, cond)
            if path.exists():
                cell = json.loads(path.read_text(encoding="utf-8"))
            else:
                model = model or load(name)
                bar.set_description(f"{name} {cond.label}")
                cell = run_cell(name, model, cond, corpus, waves, pgd_steps=pgd_steps)
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(".partial")
                tmp.write_text(json.dumps(cell), encoding="utf-8")
                tmp.replace(path)
            rows.append({k: v for k, v in cell.items() if k != "scores"})
            bar.update(1)
    bar.close()
    write_tables(rows, out)
    heatmap(rows, out / "heatmap.png")
    return rows


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
