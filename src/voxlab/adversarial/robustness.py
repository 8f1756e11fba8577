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

from voxlab.adversarial.report import heatmap, write_tables
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


def select_subset(
    corpus: Sequence[Utterance],
    per_class: int,
    *,
    split: str | None = None,
    seed: int = 0,
) -> list[Utterance]:
    """A stratified subset: at most ``per_class`` bona fide and ``per_class`` spoof items.

    Bona fide items are spread over speakers, spoof items over attack systems: the
    strata are visited round-robin (in sorted order) and each stratum's items are drawn
    in a seeded random order, so every speaker / system is represented before any is
    repeated and the same arguments give the same subset.

    Args:
        corpus: Utterances with keys.
        per_class: Items per class; ``0`` keeps every item (after ``split``).
        split: Keep only this split (``eval``...); ``None`` keeps all.
        seed: Order within each stratum.

    Raises:
        DataError: ``split`` matches nothing (the message lists the splits there are), or
            the selection lacks a class.
    """
    items = list(corpus)
    if split is not None:
        items = [u for u in items if u.split == split]
        if not items:
            have = sorted({u.split for u in corpus})
            raise DataError(f"no utterance of split {split!r}; the corpus has {have}")
    if per_class:
        rng = np.random.default_rng(seed)
        chosen: list[Utterance] = []
        for key, stratum in (("bonafide", "speaker"), ("spoof", "attack")):
            groups: dict[str, list[Utterance]] = {}
            for u in items:
                if u.key == key:
                    groups.setdefault(getattr(u, stratum), []).append(u)
            queues = [
                [groups[g][i] for i in rng.permutation(len(groups[g]))] for g in sorted(groups)
            ]
            picked: list[Utterance] = []
            while len(picked) < per_class and any(queues):
                for queue in queues:
                    if queue and len(picked) < per_class:
                        picked.append(queue.pop(0))
            chosen += picked
        items = chosen
    if {u.key for u in items} != {"bonafide", "spoof"}:
        raise DataError(
            f"the selection ({len(items)} items, split {split or 'any'}) lacks a class; an EER "
            "needs bona fide and spoof utterances"
        )
    return items


def resolve_models(names: str | Sequence[str]) -> tuple[list[str], dict[str, str]]:
    """Catalogue names to score, checked before any work starts.

    ``"all"`` means every catalogue entry (published, packaged and ``voxlab models add``
    ones, such as ``voxlab-wild``) whose checkpoint is on this machine; the others are
    returned with the reason they were left out. Explicit names must all exist.

    Returns:
        ``(names, skipped)`` with ``skipped`` mapping a name to why it is not scored.

    Raises:
        ConfigError: An unknown name (the message lists the catalogue).
    """
    from voxlab import pretrained

    if isinstance(names, str):
        names = [n.strip() for n in names.split(",") if n.strip()]
    if list(names) != ["all"]:
        known = pretrained.names()
        unknown = [n for n in names if n not in known]
        if unknown:
            raise ConfigError(
                f"unknown model(s) {', '.join(unknown)} for --models; the catalogue has "
                f"{', '.join(known)} (`voxlab models list`; add a local checkpoint with "
                "`voxlab models add NAME --checkpoint FILE --arch ARCH`)"
            )
        return list(dict.fromkeys(names)), {}
    chosen, skipped = [], {}
    for name in pretrained.names():
        try:
            pretrained.resolve_checkpoint(name, download=False, progress=False)
        except VoxlabError as exc:
            skipped[name] = str(exc)
            continue
        chosen.append(name)
    if not chosen:
        raise ConfigError(
            "no catalogue model has a checkpoint on this machine; set VOXLAB_MODEL_DIR or run "
            "`voxlab models pull NAME`"
        )
    return chosen, skipped


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
    degraded: Callable[[Utterance], np.ndarray] | None = None,
    batch_size: int = 8,
) -> dict:
    """Score the corpus under one condition with one model; EER in percent.

    Args:
        model_name: Name recorded in the cell.
        model: Differentiable countermeasure.
        condition: The column.
        corpus: Utterances with keys.
        waves: Utterance -> clean 16 kHz waveform.
        pgd_steps: PGD steps (adversarial columns).
        degraded: Utterance -> waveform under ``condition`` (effects; default: apply it
            to ``waves(utt)``); lets several models share one codec pass.
        batch_size: Official-length inputs scored per forward pass.

    Returns:
        ``{"model", "condition", "kind", "eer", "n", "errors", "cpu_seconds",
        "scores": {utt_id: score}}``.
    """
    import time

    import torch

    from voxlab.adversarial.attacks import default_policy, model_input, pgd
    from voxlab.evaluation.metrics import compute_eer

    start = time.process_time()
    policy = default_policy(model)
    degraded = degraded or (lambda u: apply_condition(condition, waves(u)))
    scores: dict[str, float] = {}
    errors: dict[str, str] = {}
    batch: list[tuple[str, torch.Tensor]] = []  # equal-length inputs scored together
    paths = {u.utt_id: u.path for u in corpus}

    def flush() -> None:
        with torch.no_grad():
            try:
                logits = model(torch.cat([x for _, x in batch]))
                scores.update({u: float(v) for (u, _), v in zip(batch, logits[:, 1])})
            except (RuntimeError, ValueError):  # find the culprit: one at a time
                for u, x in batch:
                    try:
                        scores[u] = float(model(x)[0, 1])
                    except (RuntimeError, ValueError) as exc:
                        errors[u] = f"{paths[u]}: {type(exc).__name__}: {exc}"
        batch.clear()

    for utt in corpus:
        try:
            if condition.kind == "adversarial":
                goal = "spoof" if utt.key == "bonafide" else "bonafide"
                result = pgd(model, waves(utt), target=goal, snr_db=condition.snr_db,
                             steps=pgd_steps, policy=policy)  # fmt: skip
                scores[utt.utt_id] = result.logits_after[1]
                continue
            x = model_input(torch.as_tensor(degraded(utt)), policy=policy)
            if policy == "full":
                with torch.no_grad():
                    scores[utt.utt_id] = float(model(x)[0, 1])
            else:
                batch.append((utt.utt_id, x))
        except VoxlabError as exc:
            errors[utt.utt_id] = str(exc)
        except (RuntimeError, ValueError) as exc:  # e.g. audio too short for the model
            errors[utt.utt_id] = f"{utt.path}: {type(exc).__name__}: {exc}"
        if len(batch) == batch_size:
            flush()
    if batch:
        flush()
    keys = {u.utt_id: u.key for u in corpus}
    bona = [s for u, s in scores.items() if keys[u] == "bonafide"]
    spoof = [s for u, s in scores.items() if keys[u] == "spoof"]
    eer = 100.0 * compute_eer(bona, spoof).eer if bona and spoof else math.nan
    cell = {"model": model_name, "condition": condition.label, "kind": condition.kind,
            "eer": eer, "n": len(scores), "errors": errors,
            "cpu_seconds": round(time.process_time() - start, 2), "scores": scores}  # fmt: skip
    if condition.kind == "adversarial":
        cell["pgd_steps"] = pgd_steps
    return cell


def _stored_cell(path: Path, corpus: Sequence[Utterance], pgd_steps: int) -> dict | None:
    """The saved cell at ``path`` if it fits this run, else ``None``.

    It fits when it was computed on exactly these utterances and, for an adversarial
    cell, with the same number of PGD steps.
    """
    if not path.exists():
        return None
    cell = json.loads(path.read_text(encoding="utf-8"))
    if cell.get("kind") == "adversarial" and cell.get("pgd_steps") != pgd_steps:
        return None
    done = set(cell.get("scores", {})) | set(cell.get("errors", {}))
    return cell if done == {u.utt_id for u in corpus} else None


def run_report(
    models: Sequence[str],
    corpus: Sequence[Utterance],
    conds: Sequence[Condition],
    out: str | Path,
    *,
    load: Callable[[str], object],
    pgd_steps: int = 10,
    adversarial_corpus: Sequence[Utterance] | None = None,
    progress: bool = False,
    meta: dict | None = None,
) -> list[dict]:
    """Every model x every condition, resumable per cell; writes tables, heatmap, report.

    Conditions are the outer loop so that each effect (codec round trips...) is applied
    once per utterance and shared by all models; every model is loaded once. They are
    computed clean first, then the adversarial budgets, then the effects, and the
    tables, heatmap and report are rewritten after each condition, so an interrupted
    run leaves a readable partial report (``report.md`` says how many cells it holds).
    A saved cell is reused only if it holds exactly this corpus' utterances (a
    different ``--limit`` or split recomputes it) and, for PGD, the same steps.

    Clean and effect cells are scored by the inference-optimised model
    (:func:`voxlab.models.fast.optimize_for_inference`: the same logits within float32
    rounding, several times less CPU); PGD needs gradients and runs the plain model.

    Args:
        models: Model names (passed to ``load``).
        corpus: Utterances with keys.
        conds: Conditions (see :func:`conditions`).
        out: Output folder (``cells/``, ``eer.md``, ``eer.csv``, ``eer.json``,
            ``heatmap.png``, ``report.md``).
        load: Name -> differentiable model.
        pgd_steps: PGD steps of the adversarial columns.
        adversarial_corpus: Utterances of the PGD columns (default: ``corpus``); PGD
            costs ``pgd_steps`` forward and backward passes per utterance, so a smaller
            stratified subset keeps those columns affordable.
        progress: Show a progress bar (cells).
        meta: Facts for ``report.md`` (see :func:`voxlab.adversarial.report.write_report`).

    Returns:
        One row per cell, model by model (without per-utterance scores).
    """
    from tqdm import tqdm

    from voxlab.adversarial.report import write_report
    from voxlab.audio import load as load_audio

    if not models or not conds:
        raise ConfigError("the robustness report needs at least one model and one condition")
    out = Path(out)
    cache: dict[str, np.ndarray] = {}

    def waves(utt: Utterance) -> np.ndarray:
        if utt.utt_id not in cache:
            cache[utt.utt_id] = load_audio(utt.path, sr=SAMPLE_RATE, mono=True)[0]
        return cache[utt.utt_id]

    from voxlab.models.fast import optimize_for_inference

    adversarial_corpus = list(adversarial_corpus) if adversarial_corpus else list(corpus)
    loaded: dict[str, object] = {}
    fast: dict[str, object] = {}
    cells: dict[tuple[str, str], dict] = {}
    cpu = 0.0
    order = sorted(conds, key=lambda c: ("clean", "adversarial", "effect").index(c.kind))

    def write(final: bool) -> list[dict]:
        rows = [cells[n, c.label] for n in models for c in conds if (n, c.label) in cells]
        write_tables(rows, out)
        heatmap(rows, out / "heatmap.png")
        facts = {"pgd_steps": pgd_steps, "cpu_seconds": round(cpu, 1), **(meta or {})}
        if not final:
            facts["cells"] = f"{len(rows)} of {len(models) * len(conds)} so far (running)"
        write_report(rows, out, meta=facts)
        return rows

    bar = tqdm(total=len(models) * len(conds), unit="cell", disable=not progress or None)
    for cond in order:
        shared: dict[str, np.ndarray] = {}

        def degraded(utt: Utterance, cond=cond, shared=shared) -> np.ndarray:
            if utt.utt_id not in shared:
                shared[utt.utt_id] = apply_condition(cond, waves(utt))
            return shared[utt.utt_id]

        items = adversarial_corpus if cond.kind == "adversarial" else corpus
        for name in models:
            path = _cell_path(out, name, cond)
            cell = _stored_cell(path, items, pgd_steps)
            if cell is None:
                if name not in loaded:
                    loaded[name] = load(name)
                    fast[name] = optimize_for_inference(loaded[name])
                model = loaded[name] if cond.kind == "adversarial" else fast[name]
                bar.set_description(f"{name} {cond.label}")
                cell = run_cell(name, model, cond, items, waves, pgd_steps=pgd_steps,
                                degraded=degraded)  # fmt: skip
                cpu += cell["cpu_seconds"]
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(".partial")
                tmp.write_text(json.dumps(cell), encoding="utf-8")
                tmp.replace(path)
            cells[name, cond.label] = {k: v for k, v in cell.items() if k != "scores"}
            bar.update(1)
        if cond is not order[-1]:
            write(final=False)
    bar.close()
    return write(final=True)
