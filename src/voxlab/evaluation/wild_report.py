"""Score models on a voxlab-wild corpus and write its generalisation table (issue 10 §4).

The table (:mod:`voxlab.evaluation.wild_table`) puts every model beside every subset of a
voxlab-wild corpus: in-domain eval, each held-out spoofing system, each held-out human source
and each channel condition, with EER, min DCF, Cllr/actDCF and trial counts. This module does
the work around it: it scores each model once (cached in ``OUT/scores/NAME.txt``, so a rerun
scores only what is missing), fits each model's calibration on the dev split, and writes
``wild_table.{md,csv,json}`` and DET plots. ``voxlab report --wild`` and
``benchmarks/wild_table.py`` both call :func:`build_wild_report`.

A model is ``NAME=SPEC``: SPEC is a catalogue name (published weights, never trained on the
corpus; ``voxlab-wild`` is the exception: it was trained on a voxlab-wild train split), a
``voxlab train`` run folder (SWA, else best, else last weights), a checkpoint file, or a
4-column score file (``utt attack key score``).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from voxlab.errors import ConfigError


@dataclass
class WildReport:
    """The table's rows, per-model scores and the extra facts written to JSON."""

    rows: list = field(default_factory=list)
    models: list = field(default_factory=list)
    extra: dict = field(default_factory=dict)
    corpus: object = None


def _detector(spec: str):
    from voxlab import pretrained
    from voxlab.detection import Detector

    path = Path(spec)
    if path.is_dir():
        for tag in ("swa", "best", "last"):
            weights = path / f"{tag}.safetensors"
            if weights.is_file():
                return Detector.from_checkpoint(weights)
        raise ConfigError(f"{path}: no swa/best/last.safetensors; has the run finished an epoch?")
    if path.is_file():
        return Detector.from_checkpoint(path)
    if spec in pretrained.names():
        return Detector.from_pretrained(spec, download=False)
    raise ConfigError(f"{spec}: not a catalogue name, run folder, checkpoint or score file")


def cached_scores(
    name: str, spec: str, corpus, needed: list[str], cache: Path, *, log: Callable = print
) -> dict[str, float]:
    """Scores of ``needed`` utterances: from a score file, the cache, or by scoring them."""
    from voxlab.data.scores import read_scores

    if Path(spec).is_file() and Path(spec).suffix == ".txt":
        table = read_scores(spec)
        return dict(zip(table.utt_ids.tolist(), table.scores.tolist()))
    have: dict[str, float] = {}
    run_scores = Path(spec) / "scores" / "eval_scores.txt"  # a run folder's eval scores
    for known in (run_scores, cache):
        if known.is_file():
            table = read_scores(known)
            have.update(zip(table.utt_ids.tolist(), table.scores.tolist()))
    todo = [corpus.utterances[k] for k in needed if k not in have]
    if todo:
        from voxlab.training.scoring import score_utterances, write_score_file

        start, cpu = time.perf_counter(), time.process_time()
        values = score_utterances(_detector(spec), todo, workers=1, progress=sys.stderr.isatty())
        log(
            f"  scored {len(todo)} utterances with {name} in {time.perf_counter() - start:.0f} s "
            f"wall, {time.process_time() - cpu:.0f} s CPU (load {os.getloadavg()[0]:.1f})"
        )
        have.update(zip((u.utt_id for u in todo), values.tolist()))
        ids = [k for k in corpus.utterances if k in have]
        write_score_file(cache, [corpus.utterances[k] for k in ids], [have[k] for k in ids])
    return have


def build_wild_report(
    corpus_root: str | os.PathLike,
    models: Sequence[str],
    out: str | os.PathLike,
    *,
    published: Sequence[str] = (),
    prior: float = 0.05,
    c_miss: float = 1.0,
    c_fa: float = 10.0,
    plots: bool = True,
    log: Callable = print,
) -> WildReport:
    """Score ``models`` on the corpus (cached), build the table and write it into ``out``.

    Args:
        corpus_root: A voxlab-wild folder (``manifest.jsonl`` and its protocols).
        models: ``NAME=SPEC`` items (or bare catalogue names).
        out: Output folder (``wild_table.{md,csv,json}``, ``det_*.png``, ``scores/``).
        published: Score-file models that were not trained on this corpus.
        prior: Pspoof of the DCF and of the calibration.
        c_miss: Cost of a missed spoof.
        c_fa: Cost of a bona fide utterance called spoof.
        plots: Write the DET plots.
        log: Where progress lines go.

    Returns:
        The rows, models and per-model facts (calibration on dev, shortcut correlations).
    """
    from voxlab import pretrained
    from voxlab.evaluation.calibration import calibrate
    from voxlab.evaluation.dcf import DcfCostModel
    from voxlab.evaluation.wild_table import (
        ModelScores,
        load_wild_corpus,
        model_rows,
        shortcut_correlations,
        table_csv,
        table_json,
        table_markdown,
    )

    out = Path(out)
    (out / "scores").mkdir(parents=True, exist_ok=True)
    corpus = load_wild_corpus(corpus_root)
    cost = DcfCostModel(p_spoof=prior, c_miss=c_miss, c_fa=c_fa)
    train_ids = frozenset(corpus.split_ids("train"))
    dev_ids = corpus.split_ids("dev")
    report = WildReport(corpus=corpus)
    for item in models:
        name, _, spec = item.partition("=")
        if not spec:
            name, spec = item, item
        published_model = (
            spec in pretrained.names() and not pretrained.get_entry(spec).trained_on_voxlab_wild
        ) or name in published
        trained_on = frozenset() if published_model else train_ids
        wanted = {k for ids in corpus.subsets.values() for k in ids} | set(dev_ids)
        needed = [k for k in corpus.utterances if k in wanted and k not in trained_on]
        scores = cached_scores(name, spec, corpus, needed, out / "scores" / f"{name}.txt", log=log)
        dev = [k for k in dev_ids if k in scores and k not in trained_on]
        dev_bona = np.array([scores[k] for k in dev if corpus.utterances[k].key == "bonafide"])
        dev_spoof = np.array([scores[k] for k in dev if corpus.utterances[k].key == "spoof"])
        cal = calibrate(dev_bona, dev_spoof, p_spoof=prior, c_miss=c_miss, c_fa=c_fa)
        note = "published weights" if published_model else "trained on the train split"
        model = ModelScores(name, scores, trained_on, (cal.slope, cal.offset), note)
        report.models.append(model)
        report.rows.extend(model_rows(corpus, model, cost=cost))
        report.extra[name] = {
            "spec": spec,
            "note": note,
            "calibration_on_dev": {
                "slope": cal.slope,
                "offset": cal.offset,
                "n_bonafide": int(dev_bona.size),
                "n_spoof": int(dev_spoof.size),
                "metrics": cal.metrics,
            },
            "shortcut_correlations": [
                c.__dict__ for c in shortcut_correlations(corpus, model, split="eval")
            ],
        }
    title = f"voxlab-wild generalisation table ({corpus.root.name})"
    (out / "wild_table.md").write_text(table_markdown(report.rows, title=title))
    (out / "wild_table.csv").write_text(table_csv(report.rows))
    (out / "wild_table.json").write_text(
        table_json(report.rows, corpus=str(corpus.root), prior=prior, models=report.extra)
    )
    if plots:
        write_det_plots(report, out)
    return report


def write_det_plots(report: WildReport, out: Path) -> None:
    """``det_in_domain.png`` (every model, pooled eval) and ``det_<model>.png`` (held-out rows)."""
    from voxlab.errors import MetricError
    from voxlab.evaluation.metrics import det_curve
    from voxlab.evaluation.plots import plot_det

    corpus = report.corpus

    def curve(model, ids):
        kept = [k for k in ids if k not in model.trained_on and k in model.scores]
        bona = [model.scores[k] for k in kept if corpus.utterances[k].key == "bonafide"]
        spoof = [model.scores[k] for k in kept if corpus.utterances[k].key == "spoof"]
        return det_curve(bona, spoof), len(bona), len(spoof)

    pooled = {}
    for model in report.models:
        det, nb, ns = curve(model, corpus.subsets[("in-domain", "eval")])
        pooled[f"{model.name} ({nb} bona fide, {ns} spoof)"] = det
        curves = {"pooled": det}
        for row in report.rows:
            if row.model == model.name and row.seen is False and row.eer is not None:
                try:
                    curves[f"{row.group} {row.value} ({row.n_bonafide}/{row.n_spoof})"] = curve(
                        model, corpus.subsets[(row.group, row.value)]
                    )[0]
                except MetricError:
                    continue
        plot_det(curves, out / f"det_{model.name}.png", title=f"{model.name}: eval and held out")
    plot_det(pooled, out / "det_in_domain.png", title="voxlab-wild eval (pooled)")
