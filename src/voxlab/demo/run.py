"""``run_demo``: real human speech vs today's spoofs, end to end, offline.

Stages (each announced with the overall progress and an ETA, :mod:`.progress`):

1. sources: prepare the package-shipped human recordings (:mod:`voxlab.data.sources`) on
   first use; a missing package is named with the command that installs it.
2. corpus: a small voxlab-wild corpus (:func:`voxlab.generation.wild.make_wild`) with the
   demo's attack lists (:mod:`.plan`).
3. train LFCC-GMM and a short AASIST-L on its train split ("trained here").
4. score the eval split with them, with every published checkpoint found locally and with
   ``voxlab-wild`` (shipped with its calibration; skipped, with the reason, when this
   install has no such entry).
5. report: ``report.md``/``report.csv`` with trial counts, 95 % intervals, calibrated
   verdicts, per-attack EERs, DET plot, histograms and a spectrogram gallery.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from voxlab.demo.plan import (
    DEMO_EVAL_ATTACKS,
    DEMO_TRAIN_ATTACKS,
    DemoSize,
    cpu_cores,
    estimate_seconds,
    size_for,
)
from voxlab.demo.progress import Progress
from voxlab.errors import VoxlabError


@dataclass
class DemoResult:
    """What the demo did.

    Attributes:
        report: Path of ``report.md``.
        size: The size it ran at.
        timings: Stage -> wall seconds.
        cpu: Stage -> CPU seconds (this process and its worker processes).
        skipped: Model -> why it was not scored.
        failed: Corpus items that failed (``utt_id``, ``error``).
        left_out: TTS systems the corpus left out (engine not installed) -> why.
        cpu_seconds: CPU seconds of the demo and its worker processes.
    """

    report: Path
    size: DemoSize
    timings: dict[str, float] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    failed: list[dict[str, str]] = field(default_factory=list)
    left_out: dict[str, str] = field(default_factory=dict)
    cpu_seconds: float = 0.0


def _cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def installed_sources() -> tuple[list[str], dict[str, str]]:
    """Installed speech sources, and the Debian package of each missing one.

    Raises:
        VoxlabError: None is installed (one line naming ``make data`` and the packages).
    """
    from voxlab.data.sources import SOURCES

    found = [name for name, source in SOURCES.items() if source.available()]
    missing = {name: s.package for name, s in SOURCES.items() if name not in found}
    if not found:
        raise VoxlabError(
            "the demo needs real human speech and no source package is installed: run "
            "`make data` (or, as root, `apt-get install -y "
            f"{' '.join(sorted(set(missing.values())))}`)"
        )
    return found, missing


def _files_done(corpus: Path, n_files: int) -> tuple[str, float]:
    """Corpus files written so far, and their share of the planned files."""
    made = sum(1 for _ in corpus.glob("ASVspoof2019_LA_*/flac/*.flac"))
    return f"{made}/{n_files} files", made / max(1, n_files)


def run_demo(
    out: str | os.PathLike = "runs/demo",
    *,
    size: str | DemoSize = "auto",
    per_speaker: int | None = None,
    epochs: int | None = None,
    gmm_components: int | None = None,
    train_steps: int | None = None,
    prepare_per_speaker: int | None = None,
    sources_dir: str | os.PathLike | None = None,
    workers: int = 2,
    seed: int = 0,
    progress: bool | None = None,
    heartbeat_s: float = 60.0,
    log=print,
) -> DemoResult:
    """Run the whole demo into ``out`` (a rerun with the same settings reuses the corpus).

    Args:
        out: Output folder.
        size: ``small``, ``full``, ``auto`` (by CPU cores) or a :class:`DemoSize`.
        per_speaker: Overrides the size's bona fide utterances per human speaker.
        epochs: Overrides the size's AASIST-L epochs.
        gmm_components: Overrides the size's GMM components.
        train_steps: Overrides the size's AASIST-L batches per epoch (0: all).
        prepare_per_speaker: Overrides the recordings prepared per speaker.
        sources_dir: Where prepared sources live (default: ``OUT/sources`` for a slice,
            ``$VOXLAB_HOME/sources`` when whole sources are prepared).
        workers: Corpus build processes.
        seed: Seed of the corpus.
        progress: Progress bars of the inner steps (default: only on a terminal); the
            stage lines with the ETA are always printed.
        heartbeat_s: Seconds between "still working" lines of a long stage (0: none).
        log: Where stage lines go.

    Returns:
        The report path, size, timings, skipped models and failed items.

    Raises:
        VoxlabError: No human speech source installed, a corpus that cannot be built, or
            a stage that fails (the message says why).
    """
    from voxlab.data.sources import prepare_source
    from voxlab.data.sources.prepare import default_sources_dir
    from voxlab.demo import models as cms
    from voxlab.generation.wild import DEFAULT_HELDOUT_SOURCES, WildConfig, make_wild_plan

    out = Path(out)
    cores = cpu_cores()
    base = size if isinstance(size, DemoSize) else size_for(size, cores=cores)
    chosen = base.with_overrides(
        per_speaker=per_speaker, epochs=epochs, gmm_components=gmm_components,
        train_steps=train_steps,
    )  # fmt: skip
    if prepare_per_speaker is not None:
        chosen = chosen.with_overrides(prepare_per_speaker=prepare_per_speaker)
    if progress is None:
        progress = sys.stderr.isatty()
    result = DemoResult(report=out / "report.md", size=chosen)
    started, cpu0 = time.perf_counter(), _cpu_seconds()
    load0 = os.getloadavg()[0]
    found, missing = installed_sources()
    if sources_dir is None:
        sources_dir = (
            default_sources_dir() if chosen.prepare_per_speaker is None else out / "sources"
        )
    sources_dir = Path(sources_dir)
    n_guess = 16 * chosen.per_speaker
    estimates = estimate_seconds(
        n_files=n_guess * 8, n_train=n_guess * 4, n_eval=n_guess * 2, n_dev=n_guess * 2,
        n_published=6, size=chosen, n_recordings=16 * (chosen.prepare_per_speaker or 200),
        cores=cores, workers=workers,
    )  # fmt: skip
    tracker = Progress(estimates, log=log, heartbeat_s=heartbeat_s, cpu=_cpu_seconds)
    log(
        f"[demo] plan ({chosen.name} size, {cores} CPU core(s), load {load0:.1f}): real human "
        f"speech from {len(found)} Debian source(s), {chosen.per_speaker} utterance(s) per "
        f"speaker; spoofs: copy-synthesis, voice conversion, classic and neural TTS; train "
        f"LFCC-GMM ({chosen.gmm_components} components) and AASIST-L ({chosen.epochs} "
        f"epoch(s)); score with the published models found locally and voxlab-wild; about "
        f"{sum(estimates.values()) / 60:.0f} min on an idle machine like the README's"
    )
    if missing:
        log(
            f"[demo] not installed (left out): {', '.join(sorted(missing))}; `make data` "
            f"installs them (apt-get install -y {' '.join(sorted(set(missing.values())))})"
        )
    try:
        tracker.start("sources", f"preparing {len(found)} human speech source(s) in {sources_dir}")
        for name in found:
            prepare_source(name, sources_dir, per_speaker=chosen.prepare_per_speaker,
                           progress=progress)  # fmt: skip
        result.timings["sources"] = tracker.done("sources")

        config = WildConfig(
            sources=tuple(found),
            heldout_sources=tuple(s for s in DEFAULT_HELDOUT_SOURCES if s in found),
            attacks=DEMO_TRAIN_ATTACKS, eval_attacks=DEMO_EVAL_ATTACKS,
            per_speaker=chosen.per_speaker, seed=seed, sources_dir=str(sources_dir),
            prepare_per_speaker=chosen.prepare_per_speaker, watermark=False,
        )  # fmt: skip
        plan = make_wild_plan(config)
        n = {s: sum(1 for it in plan.items if it["split"] == s) for s in ("train", "dev", "eval")}
        result.left_out = dict(plan.left_out)
        for attack_id, why in plan.left_out.items():
            log(f"[demo] {attack_id} left out of the corpus: {why}")
        tracker.estimates.update(
            {k: max(v, 1.0) for k, v in estimate_seconds(
                n_files=len(plan.items), n_train=n["train"], n_eval=n["eval"], n_dev=n["dev"],
                n_published=len(cms.local_catalogue(cms.catalogue_names())[0]), size=chosen,
                n_recordings=0, cores=cores, workers=workers,
            ).items() if k != "sources"}
        )  # fmt: skip
        corpus = out / "corpus"
        _fresh_corpus(corpus, config, log)
        tracker.start(
            "corpus",
            f"building voxlab-wild in {corpus}: {len(plan.items)} files ({n['train']} train, "
            f"{n['dev']} dev, {n['eval']} eval)",
            counter=lambda: _files_done(corpus, len(plan.items)),
        )
        made = _build(config, corpus, workers=workers, progress=progress)
        result.failed = list(made.failed)
        for failure in made.failed:
            log(f"[demo] error: {failure['utt_id']}: {failure['error']}")
        result.timings["corpus"] = tracker.done(
            "corpus",
            f"{sum(sum(c.values()) for c in made.counts.values())} files, "
            f"{len(made.failed)} failed",
        )

        manifest = corpus / "manifest.jsonl"
        runs = out / "runs"
        shutil.rmtree(runs, ignore_errors=True)

        def on_done(stage: str, note: str) -> None:
            result.timings[stage] = tracker.done(stage, note)

        trained = cms.train_systems(
            manifest, runs, epochs=chosen.epochs, gmm_components=chosen.gmm_components,
            crop_seconds=chosen.crop_seconds, train_steps=chosen.train_steps,
            progress=progress, on_stage=tracker.start, on_done=on_done,
        )  # fmt: skip

        from voxlab.data.manifest import read_manifest

        splits: dict[str, list] = {"train": [], "dev": [], "eval": []}
        for utt in read_manifest(manifest):
            splits.setdefault(utt.split, []).append(utt)
        names, skipped = cms.local_catalogue(cms.catalogue_names())
        result.skipped.update(skipped)
        status = {"now": ""}
        tracker.start(
            "score",
            f"scoring {len(splits['eval'])} eval trials with {len(trained)} trained and "
            f"{len(names)} catalogue model(s) ({', '.join(names) or 'none found'})",
            counter=lambda: (status["now"], None),
        )
        systems = []
        for name, run_dir, weights, note in trained:
            status["now"] = f"{name}"
            systems.append(cms.trained_system(name, run_dir, weights, note, splits=splits,
                                              progress=progress))  # fmt: skip
        for i, name in enumerate(names, start=1):
            status["now"] = f"{name} ({i}/{len(names)} catalogue models)"
            try:
                systems.append(cms.catalogue_system(name, splits["eval"], progress=progress))
            except VoxlabError as exc:
                result.skipped[name] = str(exc).splitlines()[0]
                log(f"[demo] skipping {name}: {result.skipped[name]}")
        result.timings["score"] = tracker.done("score")

        tracker.start("report", f"writing {result.report}")
        from voxlab.demo.report import write_report

        result.timings["total"] = round(time.perf_counter() - started, 1)
        result.cpu_seconds = _cpu_seconds() - cpu0
        result.cpu = dict(tracker.cpu_used)
        write_report(out, corpus, systems, result, config=config, load=(load0, os.getloadavg()[0]),
                     cores=cores, missing=missing)  # fmt: skip
        result.timings["report"] = tracker.done("report")
    finally:
        tracker.close()
    result.timings["total"] = round(time.perf_counter() - started, 1)
    result.cpu_seconds = _cpu_seconds() - cpu0
    log(
        f"[demo] done in {result.timings['total'] / 60:.1f} min wall, "
        f"{result.cpu_seconds / 60:.1f} CPU-min; report: {result.report}"
    )
    return result


def _fresh_corpus(corpus: Path, config, log) -> None:
    """Reuse a corpus built with the same settings; remove one built with others."""
    settings = corpus / "corpus.json"
    if settings.is_file():
        try:
            same = json.loads(settings.read_text(encoding="utf-8")) == config.to_dict()
        except ValueError:
            same = False
        if not same:
            log(f"[demo] {corpus} was built with other settings: rebuilding it")
            shutil.rmtree(corpus)


def _build(config, corpus: Path, *, workers: int, progress: bool):
    from voxlab.generation.wild import make_wild

    return make_wild(config, corpus, workers=workers, progress=progress)
