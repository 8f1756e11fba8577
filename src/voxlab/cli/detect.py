"""``voxlab detect``: how likely is this audio to be generated? Files, folders, long calls."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from voxlab.cli.output import check_format, report_failures, write_rows
from voxlab.errors import ConfigError, VoxlabError

# voxlab.detection (torch) and tqdm are imported inside the command: `voxlab --help` and
# `voxlab detect --help` start without them.

TABLE_COLUMNS = ["path", "status", "score", "p_spoof", "verdict", "duration", "judged"]


def detect_command(
    paths: list[Path] = typer.Argument(..., help="Audio files and/or folders (recursive)."),
    model: str | None = typer.Option(
        None,
        "--model",
        "-m",
        help="Catalogue model (see `voxlab models list`; default voxlab-wild, calibrated on "
        "real speech; aasist etc. for ASVspoof work), or the "
        "architecture of a plain --checkpoint state dict.",
    ),
    checkpoint: Path | None = typer.Option(
        None, "--checkpoint", help="Use this checkpoint file instead of the published one."
    ),
    ssl_config: Path | None = typer.Option(
        None,
        "--ssl-config",
        help="SSL models (ssl-aasist, xlsr-sls, ssl-pool) with --checkpoint: the front "
        "end's config JSON (a transformers config.json). Default: read off the "
        "checkpoint's shapes, right for the published XLS-R models.",
    ),
    fmt: str = typer.Option("table", "--format", "-f", help="table, jsonl, csv or json."),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Stream results to this .jsonl or .csv file as they come."
    ),
    resume: bool = typer.Option(
        False, "--resume", help="Append to --out, skipping files it already scored."
    ),
    policy: str | None = typer.Option(
        None,
        "--policy",
        help="auto (default): official for files up to the model's input (4.04 s), windows "
        "for longer files, so the whole file is judged (the whole-utterance GMM/LCNN "
        "baselines use full); official: first 4.04 s only, short input tiled (the published "
        "evaluation, for parity with it); full: the whole file in one pass; windows: sliding "
        "windows over the whole file, verdict on the mean logit (score_min: most-spoof "
        "window). The 'judged' column says which seconds the verdict is based on.",
    ),
    window: float = typer.Option(4.0375, "--window", help="Window length (s), windows policy."),
    hop: float = typer.Option(2.0, "--hop", help="Hop between windows (s), windows policy."),
    segments: bool = typer.Option(
        False,
        "--segments",
        help="Add per-window scores (JSON). Only files judged by windows have more than one.",
    ),
    threshold: float | None = typer.Option(
        None, "--threshold", help="Verdict threshold on the score (bona fide logit)."
    ),
    calibration: Path | None = typer.Option(
        None,
        "--calibration",
        help="Calibration JSON of this model (`voxlab calibrate`): calibrated p_spoof, LLR "
        "and Bayes verdict. Default: <checkpoint stem>.calibration.json beside the checkpoint.",
    ),
    prior: float | None = typer.Option(
        None,
        "--prior",
        help="Spoof prior of the calibrated p_spoof and verdict (default: the calibration's).",
    ),
    batch_size: int = typer.Option(16, "--batch-size", "-b", min=1, help="Inputs per forward."),
    workers: int = typer.Option(2, "--workers", "-j", min=1, help="Decoding threads."),
    device: str = typer.Option("cpu", "--device", help="cpu, cuda, cuda:1 ..."),
    max_seconds: float | None = typer.Option(
        None, "--max-seconds", help="Refuse files longer than this."
    ),
    no_download: bool = typer.Option(
        False, "--no-download", help="Never download weights; fail if no local copy."
    ),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Progress bar."),
) -> None:
    """Score audio with a published countermeasure: higher score = more bona fide.

    Each file gets: score (bona fide logit, the ASVspoof convention), p_spoof (softmax of
    the [spoof, bona fide] logits, uncalibrated), verdict at the model's documented
    threshold (or --threshold), duration, the seconds judged and model. Files longer
    than the model's 4.04-s input are judged by sliding windows over the whole file
    (--policy official judges only the first 4.04 s, as the published evaluation). Bad
    files become rows with status=error; the rest are scored; the exit code is 1 if any file failed.

    With a calibration of the model (--calibration, or one stored beside its checkpoint)
    each file also gets its LLR, p_spoof becomes the posterior probability of spoof at
    --prior, and the verdict is the Bayes decision for that prior (calibrated: true).
    Without one, the output says so: the published models' threshold is the operating
    point of their ASVspoof training data, not a truth about your audio.

    Examples:
        voxlab detect call.mp3
        voxlab detect calls/ --policy windows --out scores.jsonl --resume
        voxlab detect a.flac --model rawgat-st --format json --segments
        voxlab detect call.wav --calibration aasist.cal.json --prior 0.2 --format json
        voxlab detect clips/ --model ssl-aasist --checkpoint LA_model.pth
        voxlab detect a.wav --model ssl-aasist --checkpoint tiny.pth --ssl-config tiny.json
    """
    from tqdm import tqdm

    from voxlab.audio.discovery import find_audio_files
    from voxlab.detection import Detector, InputPolicy, ResultWriter
    from voxlab.detection.results import CSV_COLUMNS

    fmt = check_format(fmt, ("table", "jsonl", "csv", "json"))
    if checkpoint is None:
        from voxlab.catalogue import DEFAULT_MODEL

        model = model or DEFAULT_MODEL
    files = find_audio_files(paths)
    if not files:
        raise VoxlabError(f"no audio files found in {', '.join(map(str, paths))}")
    input_policy = InputPolicy(name=policy or "auto", window=window, hop=hop)
    kwargs = dict(policy=input_policy, batch_size=batch_size, device=device)
    if checkpoint is not None:
        detector = Detector.from_checkpoint(
            checkpoint, model=model, threshold=threshold, ssl_config=ssl_config, **kwargs
        )
    else:
        detector = Detector.from_pretrained(
            model, download=not no_download, threshold=threshold, **kwargs
        )

    from voxlab.detection.calibrated import apply_calibration

    if segments and detector.policy.name in ("official", "full"):
        typer.echo(
            f"note: --segments with --policy {detector.policy.name} gives one segment per "
            "file (one model input); use --policy windows (or auto) for per-window scores",
            err=True,
        )

    cal, cal_path = _calibration(model, checkpoint, calibration, threshold, prior, detector)

    writer = ResultWriter(out, resume=resume) if out is not None else None
    if writer is not None and writer.done:
        before = len(files)
        files = [f for f in files if str(f) not in writer.done]
        typer.echo(f"resuming: {before - len(files)} file(s) already scored", err=True)
    rows = []
    bar = tqdm(total=len(files), unit="file", disable=not progress or None, file=sys.stderr)
    try:
        for result in detector.score_files(
            files, workers=workers, segments=segments, max_seconds=max_seconds
        ):
            if cal is not None:
                result = apply_calibration(result, cal, p_spoof=prior, source=str(cal_path))
            rows.append(result)
            if writer is not None:
                writer.write(result)
            elif fmt == "jsonl":
                sys.stdout.write(json.dumps(result.to_dict()) + "\n")
                sys.stdout.flush()
            bar.update(1)
    finally:
        bar.close()
        if writer is not None:
            writer.close()
    if writer is None and fmt in ("table", "csv", "json"):
        if fmt == "json":
            json.dump([r.to_dict() for r in rows], sys.stdout, indent=2)
            sys.stdout.write("\n")
        else:
            columns = TABLE_COLUMNS if fmt == "table" else CSV_COLUMNS
            if fmt == "table" and cal is not None:
                columns = [*columns[:3], "llr", *columns[3:]]
            write_rows(
                [r.to_row() for r in rows], columns, fmt, title=f"voxlab detect ({detector.name})"
            )
    elif writer is not None:
        typer.echo(f"wrote {len(rows)} row(s) to {out}", err=True)
    raise typer.Exit(report_failures([r.to_row() for r in rows]))


def _calibration(model, checkpoint, explicit, threshold, prior, detector):
    """The model's calibration (or None, after saying plainly that it has none)."""
    from voxlab import pretrained
    from voxlab.detection.calibrated import calibration_for, uncalibrated_note

    name = detector.name
    cal, path = calibration_for(model, checkpoint, explicit, name=name)
    if cal is not None and threshold is not None:
        raise ConfigError(
            f"--threshold and the calibration {path} both set the verdict; drop --threshold "
            "(the calibrated verdict uses the Bayes threshold of --prior)"
        )
    if cal is None:
        if prior is not None:
            raise ConfigError(
                f"--prior needs a calibration of {name!r}; make one with `voxlab calibrate` "
                "and pass --calibration"
            )
        source = ""
        if checkpoint is None and threshold is None and model in pretrained.names():
            source = pretrained.get_entry(model).threshold_source
        typer.echo(uncalibrated_note(name, detector.threshold, source), err=True)
    elif prior is not None and not 0.0 < prior < 1.0:
        raise ConfigError(f"--prior is a probability strictly between 0 and 1, got {prior}")
    return cal, path


def register(app: typer.Typer) -> None:
    """Add ``voxlab detect`` to ``app``."""
    app.command("detect")(detect_command)
