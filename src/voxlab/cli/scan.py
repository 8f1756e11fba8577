"""``voxlab scan``: score folders or manifests at scale (locally or on Ray), resumably."""

from __future__ import annotations

from pathlib import Path

import typer

from voxlab.catalogue import DEFAULT_MODEL


def scan_command(
    paths: list[Path] = typer.Argument(..., help="Audio files/folders, or one .jsonl manifest."),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder (results.jsonl/.parquet)."),
    engine: str = typer.Option("local", "--engine", "-e", help="local or ray."),
    address: str | None = typer.Option(
        None, "--address", help="Ray cluster: auto, HOST:PORT or ray://HOST:10001 (ray engine)."
    ),
    model: str = typer.Option(
        DEFAULT_MODEL, "--model", "-m", help="Catalogue model (`voxlab models list`)."
    ),
    checkpoint: Path | None = typer.Option(None, "--checkpoint", help="Checkpoint file."),
    policy: str | None = typer.Option(None, "--policy", help="official, full or windows."),
    batch_size: int = typer.Option(16, "--batch-size", "-b", min=1, help="Files per forward."),
    actors: int | None = typer.Option(
        None, "--actors", min=1, help="Inference actors (ray; default one per CPU/GPU)."
    ),
    segments: bool = typer.Option(False, "--segments", help="Keep per-window scores."),
    max_seconds: float | None = typer.Option(None, "--max-seconds", help="Refuse longer files."),
    watermark_key: Path | None = typer.Option(
        None, "--watermark-key", help="Also look for the watermark with this key file."
    ),
    resume: bool = typer.Option(
        True, "--resume/--no-resume", help="Skip files already scored ok in --out."
    ),
    no_download: bool = typer.Option(False, "--no-download", help="Never download weights."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Progress bar."),
) -> None:
    """Scan many files with a countermeasure; JSONL + Parquet, one row per file, resumable.

    The local engine is the `voxlab detect` path in this process. `--engine ray` runs the
    same Detector as a Ray Data pipeline: decoding in parallel tasks, batched inference in
    an actor pool sized to the cluster. Unreadable files become error rows; a rerun with
    the same --out skips finished files. Prints a JSON summary (files/s) on stdout; the exit
    code is 1 when some file failed. See docs/scale.md for clusters.

    Examples:
        voxlab scan calls/ --out scan/
        voxlab scan corpus/manifest.jsonl --engine ray --out scan/
        ray start --head && voxlab scan /mnt/archive --engine ray --address auto --out scan/
    """
    import json

    from voxlab.scale import ScanOptions, scan

    options = ScanOptions(
        model=model, checkpoint=None if checkpoint is None else str(checkpoint), policy=policy,
        batch_size=batch_size, segments=segments, max_seconds=max_seconds,
        watermark_key=None if watermark_key is None else str(watermark_key),
        download=not no_download,
    )  # fmt: skip
    summary = scan(
        paths, out, options=options, engine=engine, address=address, actors=actors,
        resume=resume, progress=progress,
    )  # fmt: skip
    typer.echo(json.dumps(summary.to_dict()))
    if summary.skipped:
        typer.echo(f"resumed: {summary.skipped} file(s) already scored", err=True)
    if summary.errors:
        typer.echo(f"{summary.errors} file(s) failed; see the error rows", err=True)
    raise typer.Exit(1 if summary.errors else 0)


def register(app: typer.Typer) -> None:
    """Add ``voxlab scan`` to ``app``."""
    app.command("scan")(scan_command)
