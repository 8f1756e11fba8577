"""``voxlab convert``: voice conversion with an RVC voice (official RVC v1/v2 exports)."""

from __future__ import annotations

from pathlib import Path

import typer

from voxlab.cli.output import check_format, report_failures, write_rows

_COLUMNS = ("input", "output", "status", "seconds", "sample_rate", "error")


def convert_command(
    inputs: list[Path] = typer.Argument(..., help="Audio files and/or folders to convert."),
    out: Path = typer.Option(
        ..., "--out", "-o", help="Output file (one input) or folder (several inputs)."
    ),
    rvc: Path = typer.Option(..., "--rvc", help="The RVC voice: the exported weights/<name>.pth."),
    hubert: Path | None = typer.Option(
        None,
        "--hubert",
        help="Content encoder: RVC's hubert_base.pt (fairseq) or a transformers HuBERT folder "
        "(needed for audio inputs; .npz feature inputs go straight to the synthesizer).",
    ),
    index: Path | None = typer.Option(
        None, "--index", help="The voice's added_*.index (faiss) for feature retrieval."
    ),
    index_rate: float = typer.Option(
        0.75, "--index-rate", min=0.0, max=1.0, help="Weight of the retrieved features."
    ),
    f0_method: str = typer.Option(
        "harvest", "--f0-method", help="Pitch tracker: harvest, dio, or rmvpe (needs --rmvpe)."
    ),
    rmvpe: Path | None = typer.Option(
        None, "--rmvpe", help="RMVPE pitch model (RVC's assets/rmvpe/rmvpe.pt)."
    ),
    transpose: float = typer.Option(
        0.0, "--transpose", "-t", help="Pitch shift in semitones (+12 = an octave up)."
    ),
    speaker: int = typer.Option(0, "--speaker", help="Speaker id inside the voice (usually 0)."),
    protect: float = typer.Option(
        0.33, "--protect", min=0.0, max=1.0, help="Protect unvoiced sounds (0.5 = off)."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed of the model's random draws."),
    deterministic: bool = typer.Option(
        False, "--deterministic", help="Make every random draw zero (as the reference fixtures)."
    ),
    ext: str = typer.Option(".wav", "--ext", help="Output extension when -o is a folder."),
    watermark: bool = typer.Option(
        True,
        "--watermark/--no-watermark",
        help="Embed voxlab's keyed watermark; the AI-generated tag is written either way.",
    ),
    key: Path | None = typer.Option(None, "--watermark-key", help="Watermark key file."),
    fmt: str = typer.Option("table", "--format", "-f", help="table, json, jsonl or csv."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Progress bar."),
) -> None:
    """Convert speech into an RVC voice (Retrieval-based Voice Conversion v1/v2).

    Loads the official RVC export (--rvc), HuBERT/ContentVec for the content (--hubert),
    and the voice's faiss index if given (--index). Pitch comes from pyworld Harvest/DIO or
    RMVPE (--f0-method, --rmvpe) and can be shifted (--transpose). The output has the
    voice's sample rate and the input's duration, and carries voxlab's watermark and
    "AI-generated" tag. A bad input in a batch is reported as an error row; the rest are
    converted; exit code 1 then. An .npz input holds the synthesizer's own inputs (phone,
    pitchf, optionally pitch, phone_lengths, sid) and is synthesised directly.

    Examples:
        voxlab convert speech.wav --rvc weights/alice.pth --hubert hubert_base.pt -o out.wav
        voxlab convert in.wav --rvc alice.pth --hubert hubert_base.pt --index alice.index -o o.wav
        voxlab convert in.wav --rvc alice.pth --hubert hubert_base.pt --transpose 12 -o o.flac
        voxlab convert clips/ --rvc alice.pth --hubert hubert/ --f0-method dio -o out/ -f json
        voxlab convert in.wav --rvc a.pth --hubert h.pt --f0-method rmvpe --rmvpe rmvpe.pt -o o.wav
        voxlab convert feats.npz --rvc alice.pth --deterministic -o feats.wav
    """
    import sys

    from tqdm import tqdm

    from voxlab.audio.discovery import find_audio_files
    from voxlab.errors import VoxlabError
    from voxlab.generation.neural.rvc.files import convert_files, plan_outputs
    from voxlab.generation.neural.rvc.pipeline import ConvertOptions, RVCConverter

    fmt = check_format(fmt, ("table", "json", "jsonl", "csv"))
    options = ConvertOptions(
        f0_method=f0_method, transpose=transpose, speaker=speaker, index_rate=index_rate,
        protect=protect, seed=seed, deterministic=deterministic,
    )  # fmt: skip
    options.check()
    files = find_audio_files(inputs)
    if not files:
        raise VoxlabError(f"no audio files found in {', '.join(map(str, inputs))}")
    pairs = plan_outputs(files, out, ext=ext if ext.startswith(".") else f".{ext}")
    if hubert is None and any(f.suffix.lower() != ".npz" for f in files):
        raise VoxlabError(
            "converting audio needs --hubert hubert_base.pt (RVC's content encoder) or a "
            "transformers HuBERT folder"
        )
    if f0_method == "rmvpe" and rmvpe is None:
        raise VoxlabError("--f0-method rmvpe needs --rmvpe rmvpe.pt (RVC's RMVPE weights)")
    converter = RVCConverter.load(rvc, hubert, index, rmvpe=rmvpe)
    rows = []
    bar = tqdm(total=len(pairs), unit="file", disable=not progress or None, file=sys.stderr)
    for row in convert_files(converter, pairs, options, watermark=watermark, key=key):
        rows.append(row)
        bar.update(1)
    bar.close()
    write_rows(rows, _COLUMNS, fmt, title=f"RVC voice {converter.name}")
    code = report_failures(rows)
    if code:
        raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    """Add ``voxlab convert`` to ``app``."""
    app.command("convert")(convert_command)
