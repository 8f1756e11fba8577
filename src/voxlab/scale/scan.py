"""``scan``: score many files with the local detect path or on Ray; JSONL + Parquet out."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from voxlab.catalogue import DEFAULT_MODEL
from voxlab.errors import ConfigError
from voxlab.scale.inputs import resolve_inputs
from voxlab.scale.output import ScanOutput

ENGINES = ("local", "ray")


@dataclass(frozen=True)
class ScanOptions:
    """How to score.

    Attributes:
        model: Catalogue name (``voxlab models list``).
        checkpoint: Checkpoint file instead of the catalogue lookup.
        policy: Input policy (``auto`` when None, as ``voxlab detect``; ``official``,
            ``full``, ``windows``).
        batch_size: Model inputs per forward.
        segments: Keep per-window scores.
        max_seconds: Refuse longer files (error rows).
        watermark_key: Also look for the watermark with this key file.
        download: Allow downloading published weights.
        threshold: Verdict threshold on the score (model default if None).
    """

    model: str = DEFAULT_MODEL
    checkpoint: str | None = None
    policy: str | None = None
    batch_size: int = 16
    segments: bool = False
    max_seconds: float | None = None
    watermark_key: str | None = None
    download: bool = True
    threshold: float | None = None

    def detector(self):
        """The :class:`~voxlab.detection.Detector` these options describe."""
        from voxlab.detection import Detector

        policy = self.policy or "auto"  # as `voxlab detect`
        kwargs = dict(policy=policy, batch_size=self.batch_size, threshold=self.threshold)
        if self.checkpoint is not None:
            return Detector.from_checkpoint(self.checkpoint, model=self.model, **kwargs)
        return Detector.from_pretrained(self.model, download=self.download, **kwargs)

    def calibrate(self, detector):
        """A function applying the model's calibration to results, as ``voxlab detect`` does.

        The calibration is the one stored beside the checkpoint; without one results pass
        unchanged (``calibrated: false``).
        """
        from voxlab.detection.calibrated import apply_calibration, calibration_for

        cal, path = calibration_for(self.model, self.checkpoint, name=detector.name)
        if cal is None:
            return lambda result: result
        return lambda result: apply_calibration(result, cal, source=str(path))


@dataclass
class ScanSummary:
    """What a scan did."""

    engine: str
    files: int
    skipped: int
    ok: int = 0
    errors: int = 0
    seconds: float = 0.0
    out: dict[str, str] = field(default_factory=dict)

    @property
    def files_per_s(self) -> float:
        """Files scored per second of wall time (skipped files excluded)."""
        done = self.ok + self.errors
        return done / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        return {
            "engine": self.engine, "files": self.files, "skipped": self.skipped, "ok": self.ok,
            "errors": self.errors, "seconds": round(self.seconds, 3),
            "files_per_s": round(self.files_per_s, 3), "out": self.out,
        }  # fmt: skip


def scan(
    paths: Sequence[str | os.PathLike],
    out: str | os.PathLike,
    *,
    options: ScanOptions | None = None,
    engine: str = "local",
    address: str | None = None,
    actors: int | None = None,
    decode_batch: int = 16,
    resume: bool = True,
    progress: bool = False,
) -> ScanSummary:
    """Score files (or a manifest) and write ``results.jsonl`` and ``results.parquet``.

    Args:
        paths: Files/folders or one ``.jsonl`` manifest.
        out: Output folder.
        options: Model and scoring options.
        engine: ``local`` (the ``voxlab detect`` path in this process) or ``ray``.
        address: Ray cluster address (``auto``, ``127.0.0.1:6379``, ``ray://...``);
            ``None`` starts a local Ray instance.
        actors: Inference actors (Ray); default: one per CPU of the cluster.
        decode_batch: Files per decoding task (Ray).
        resume: Skip files that already have an ``ok`` row in ``out``.
        progress: Show a progress bar on stderr.

    Returns:
        A :class:`ScanSummary`; error rows are counted in ``errors``.
    """
    if engine not in ENGINES:
        raise ConfigError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    options = options or ScanOptions()
    files = resolve_inputs(paths)
    output = ScanOutput(out, resume=resume)
    todo = [f for f in files if f not in output.done]
    summary = ScanSummary(engine=engine, files=len(files), skipped=len(files) - len(todo))
    start = time.perf_counter()
    try:
        if todo:
            if engine == "local":
                rows = _local(todo, options)
            else:
                from voxlab.scale.ray_engine import ray_rows

                rows = ray_rows(
                    todo, options, address=address, actors=actors, decode_batch=decode_batch
                )
            bar = _bar(len(todo), progress)
            for row in rows:
                output.write(row)
                if row.get("status") == "ok":
                    summary.ok += 1
                else:
                    summary.errors += 1
                bar.update(1)
            bar.close()
        summary.seconds = time.perf_counter() - start
    finally:
        output.close()
    output.finish()
    summary.out = {"jsonl": str(output.jsonl), "parquet": str(output.parquet)}
    return summary


def _bar(total: int, enabled: bool):
    import sys

    from tqdm import tqdm

    return tqdm(total=total, unit="file", disable=not enabled or None, file=sys.stderr)


def _local(files: list[str], options: ScanOptions):
    """The ``voxlab detect`` path: Detector.score_files in this process."""
    detector = options.detector()
    calibrate = options.calibrate(detector)
    key = _key(options)
    for result in detector.score_files(
        files, segments=options.segments, max_seconds=options.max_seconds
    ):
        row = calibrate(result).to_dict()
        if key is not None and row["status"] == "ok":
            row["watermark"] = watermark_row(row["path"], key, options.max_seconds)
        yield row


def _key(options: ScanOptions):
    if options.watermark_key is None:
        return None
    from voxlab.watermark import as_key

    return as_key(Path(options.watermark_key))


def watermark_row(path: str, key, max_seconds: float | None) -> dict[str, Any]:
    """The watermark result of one file (``status``, ``marked``, ``payload``, ...)."""
    from voxlab.errors import VoxlabError
    from voxlab.watermark import detect_file

    try:
        row = detect_file(path, key, max_seconds=max_seconds).to_dict()
    except VoxlabError as exc:
        return {"status": "error", "error": str(exc)}
    row.pop("path", None)
    return row
