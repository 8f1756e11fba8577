"""``voxlab explain``: where in time and frequency a countermeasure's verdict comes from."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from voxlab.cli.output import report_failures
from voxlab.errors import VoxlabError

_METHODS = ("windows", "scan", "occlusion", "ig", "gradcam", "all")


def explain_command(
    files: list[Path] = typer.Argument(..., help="Audio files and/or folders."),
    model: str = typer.Option("aasist", "--model", "-m", help="Published model or architecture."),
    checkpoint: Path | None = typer.Option(None, "--checkpoint", help="Checkpoint file."),
    ssl_config: Path | None = typer.Option(None, "--ssl-config", help="SSL front-end config."),
    method: str = typer.Option(
        "all",
        "--method",
        help="windows, scan, occlusion, ig, gradcam, comma-separated, or all "
        "(= windows,scan,ig,gradcam).",
    ),
    ig_steps: int = typer.Option(32, "--ig-steps", min=1, help="Integrated-gradients steps."),
    ig_baseline: str = typer.Option(
        "zeros",
        "--ig-baseline",
        help="IG reference input: zeros, lowpass (input low-passed at 1 kHz), noise (noise "
        "at the input's level) or human (expected gradients over --reference files).",
    ),
    reference: list[Path] = typer.Option(
        [], "--reference", help="Trusted human recording for --ig-baseline human (repeat)."
    ),
    window: float = typer.Option(4.0375, "--window", help="Timeline window (s)."),
    hop: float = typer.Option(0.5, "--hop", help="Timeline hop (s)."),
    scan_window: float = typer.Option(1.0, "--scan-window", help="Scan window (s)."),
    scan_hop: float = typer.Option(0.125, "--scan-hop", help="Scan hop (s)."),
    occlusion_segment: float = typer.Option(
        0.5, "--occlusion-segment", help="Occlusion: hidden segment length (s)."
    ),
    cam_block: int = typer.Option(
        -1, "--cam-block", help="Grad-CAM: encoder block to hook (-1 = last; AASIST has 6)."
    ),
    out: Path = typer.Option(Path("explain"), "--out", "-o", help="Output folder."),
    threads: int = typer.Option(0, "--threads", min=0, help="Torch threads (0 = default)."),
    no_download: bool = typer.Option(False, "--no-download", help="Never download weights."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Progress bar."),
) -> None:
    r"""Explain a countermeasure's verdict: where in time and frequency "spoof" comes from.

    Methods: windows (per-window scores over the file), scan (the model scores short
    windows sliding over the file; a frame's evidence is how far its windows' spoof
    margin lies in the upper half between the file's median and its peak: the method that
    points at a synthetic segment inside a human recording), occlusion (each 0.5-s
    segment hidden behind the audio next to it and the file rescored), ig (integrated
    gradients on the waveform, from a zeros, lowpass, noise or human baseline) and
    gradcam (on the encoder's time-frequency map; AASIST, RawGAT-ST, LCNN).

    For each file, OUT gets NAME.png (spectrogram, attribution overlays, score timeline),
    NAME.npz (every array: spectrogram, scan_evidence, scan_margins, occlusion_evidence,
    ig, ig_frames, ig_tf, gradcam, window_spans, window_scores, info) and one line of
    summary.jsonl with each method's peak time. Attributions explain the spoof margin
    (logit_spoof - logit_bonafide): positive = evidence for spoof. For IG the summary
    reports the completeness error against the chosen baseline.

    Examples:
        voxlab explain call.wav --model aasist --out why/
        voxlab explain call.wav --method scan,windows --scan-window 1 -o why/
        voxlab explain clip.flac --model rawgat-st --method gradcam -o why/
        voxlab explain clips/ --model aasist-l --method ig --ig-baseline human \
            --reference me1.wav --reference me2.wav --ig-steps 32 -o why/
    """
    from tqdm import tqdm

    from voxlab.adversarial.loading import load_model
    from voxlab.audio import load
    from voxlab.audio.discovery import find_audio_files
    from voxlab.explain import DEFAULT_METHODS, METHODS, draw, explain

    methods = (
        tuple(DEFAULT_METHODS) if method == "all" else tuple(m.strip() for m in method.split(","))
    )
    bad = [m for m in methods if m not in METHODS]
    if bad:
        raise typer.BadParameter(f"--method {', '.join(bad)}: choose from {', '.join(_METHODS)}")
    references = [load(r, sr=16_000, mono=True)[0] for r in reference]
    paths = find_audio_files(files)
    if not paths:
        raise VoxlabError(f"no audio files found in {', '.join(map(str, files))}")
    if threads:
        import torch

        torch.set_num_threads(threads)
    net = load_model(model, checkpoint=checkpoint, ssl_config=ssl_config,
                     download=not no_download)  # fmt: skip
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    bar = tqdm(paths, unit="file", disable=not progress or None, file=sys.stderr)
    with (out / "summary.jsonl").open("a", encoding="utf-8") as summary:
        for path in bar:
            row = {"path": str(path), "status": "ok", "model": model}
            try:
                wave, _ = load(path, sr=16_000, mono=True)
                expl = explain(net, wave, sample_rate=16_000, methods=methods, ig_steps=ig_steps,
                               ig_baseline=ig_baseline, references=references, window=window,
                               hop=hop, scan_window=scan_window, scan_hop=scan_hop,
                               occlusion_segment=occlusion_segment,
                               occlusion_hop=occlusion_segment / 2, cam_block=cam_block,
                               name=model)  # fmt: skip
                stem = out / Path(path).stem
                row.update(_summary(expl))
                row["figure"] = str(draw(expl, stem.with_suffix(".png"), title=f"{model}: {path}"))
                row["arrays"] = str(expl.save_npz(stem.with_suffix(".npz")))
            except VoxlabError as exc:
                row.update(status="error", error=str(exc))
            except (RuntimeError, ValueError) as exc:  # e.g. audio too short for the model
                row.update(status="error", error=f"{path}: {type(exc).__name__}: {exc}")
            rows.append(row)
            summary.write(json.dumps(row) + "\n")
            summary.flush()
            typer.echo(json.dumps(row))
    raise typer.Exit(report_failures(rows))


def _summary(expl) -> dict:
    row: dict = {"spoof_margin": expl.margin}
    if expl.window_scores is not None:
        worst = int(expl.window_scores.argmin())
        row["window_scores"] = [round(float(s), 4) for s in expl.window_scores]
        row["worst_window"] = [float(v) for v in expl.window_spans[worst]]
    if expl.ig is not None:
        row["ig_completeness_error"] = expl.ig_completeness_error
        row["ig_completeness_gap"] = expl.ig_completeness_gap
        row["baseline_margin"] = expl.baseline_margin
        peak = int(abs(expl.ig_frames).argmax())
        row["ig_peak_time"] = round(float(expl.times[peak]), 3)
    for what, frames in (("scan", expl.scan_evidence), ("occlusion", expl.occlusion_evidence)):
        if frames is not None:
            row[f"{what}_peak_time"] = round(float(expl.times[int(frames.argmax())]), 3)
    if expl.scan_margins is not None:
        worst = int(expl.scan_margins.argmax())
        row["scan_most_spoof_window"] = [float(v) for v in expl.scan_spans[worst]]
    if expl.gradcam is not None:
        row["gradcam_layers"] = expl.gradcam_layers
        f, t = divmod(int(expl.gradcam.argmax()), expl.gradcam.shape[1])
        row["gradcam_peak"] = {"time": round(float(expl.times[t]), 3),
                               "hz": round(float(expl.freqs[f]), 1)}  # fmt: skip
    return row


def register(app: typer.Typer) -> None:
    """Add ``voxlab explain`` to ``app``."""
    app.command("explain")(explain_command)
