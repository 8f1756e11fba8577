"""``voxlab info``: what is in audio files, one row per file, bad files included."""

from __future__ import annotations

import warnings
from pathlib import Path

import typer

from voxlab.cli.output import check_format, report_failures, write_rows
from voxlab.errors import SilentAudioWarning, VoxlabError

TABLE_COLUMNS = [
    "path",
    "status",
    "sample_rate",
    "channels",
    "duration",
    "peak",
    "codec",
    "container",
]
DATA_COLUMNS = [*TABLE_COLUMNS, "frames", "backend", "error"]


def info_command(
    paths: list[Path] = typer.Argument(
        ..., help="Audio files and/or folders (searched recursively)."
    ),
    fmt: str = typer.Option("table", "--format", "-f", help="table, json, jsonl or csv."),
    json_: bool = typer.Option(False, "--json", help="Shortcut for --format json."),
    header_only: bool = typer.Option(
        False,
        "--header-only",
        help="Read headers only (fast) instead of decoding and checking every sample.",
    ),
) -> None:
    """Show sample rate, channels, duration and codec of audio files.

    By default every file is decoded and checked (truncation, NaN/Inf samples, silence)
    and its peak level is shown; silent and near-silent files (peak below -60 dBFS) get
    status "silent" and a warning line; --header-only reads headers alone. Bad files (missing,
    empty, corrupt, truncated, not audio) get one row with status "error" and a line on
    stderr; the good ones are still listed. Exits 1 when any file failed.

    Examples:
        voxlab info speech.flac call.mp3
        voxlab info corpus/ --format csv > inventory.csv
    """
    import numpy as np

    from voxlab.audio import info as audio_info
    from voxlab.audio import load
    from voxlab.audio.discovery import find_audio_files
    from voxlab.audio.io import silence_note

    fmt = check_format("json" if json_ else fmt)
    files = find_audio_files(paths)
    if not files:
        raise VoxlabError(f"no audio files found in {', '.join(map(str, paths))}")
    rows = []
    for path in files:
        try:
            peak = note = None
            if header_only:
                meta = audio_info(path)
            else:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", SilentAudioWarning)
                    samples, meta = load(path, sr=None, mono=False)
                peak = round(float(np.abs(samples).max()), 4)
                note = silence_note(samples)
            row = {"status": "ok", **meta.to_dict(), "peak": peak, "error": None}
            if note is not None:
                row.update(status="silent", error=f"{path}: {note}")
                typer.echo(f"warning: {path}: {note}", err=True)
            row["duration"] = round(meta.duration, 4)
            for key in ("loaded_sample_rate", "mixed_down", "channel", "resampled"):
                row.pop(key)
        except VoxlabError as exc:
            row = {"path": str(path), "status": "error", "error": str(exc)}
        rows.append(row)
    write_rows(rows, TABLE_COLUMNS if fmt == "table" else DATA_COLUMNS, fmt)
    raise typer.Exit(report_failures(rows))


def register(app: typer.Typer) -> None:
    """Add ``voxlab info`` to ``app``."""
    app.command("info")(info_command)
