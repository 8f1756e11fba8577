"""``voxlab voices``: the TTS engines and voices found offline, and how to install the rest."""

from __future__ import annotations

import json

import typer


def voices_command(
    engine: str | None = typer.Option(
        None, "--engine", "-e", help="Only this engine (espeak, piper, kokoro, festival...)."
    ),
    fmt: str = typer.Option("table", "--format", "-f", help="table or json."),
    language: str | None = typer.Option(
        None, "--language", "-l", help="Only voices whose language starts with this (en, ja...)."
    ),
) -> None:
    """List TTS engines and their voices found on this machine (no network).

    Every registered engine is listed: installed ones with their voices (id, language,
    gender, sample rate, licence, source package, whether voxlab uses it for training
    corpora), missing ones with the one-line command that installs them.

    Examples:
        voxlab voices
        voxlab voices --engine kokoro --language ja
        voxlab voices --format json > voices.json
    """
    from voxlab.errors import ConfigError
    from voxlab.generation.neural.engines import all_engines, get_engine

    if fmt not in ("table", "json"):
        raise ConfigError(f"--format must be table or json, got {fmt!r}")
    engines = [get_engine(engine)] if engine else all_engines()
    rows = []
    for tts in engines:
        reason = tts.missing()
        voices = [] if reason else tts.voices()
        if language:
            voices = [v for v in voices if v.language.lower().startswith(language.lower())]
        rows.append(
            {
                "engine": tts.name,
                "description": tts.description,
                "available": reason is None,
                "missing": reason,
                "install": tts.install_hint,
                "default_voice": tts.default_voice if reason is None else None,
                "voices": [v.to_dict() for v in voices],
            }
        )
    if fmt == "json":
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        state = f"{len(row['voices'])} voice(s)" if row["available"] else "NOT INSTALLED"
        typer.echo(f"{row['engine']}: {row['description']} [{state}]")
        if not row["available"]:
            typer.echo(f"    {row['missing']}")
            continue
        for v in row["voices"]:
            mark = "*" if v["id"] == row["default_voice"] else " "
            use = "" if v["training"] else "  (held out: evaluation only)"
            typer.echo(
                f"  {mark} {v['id']:<28} {v['language']:<7} {v['gender'] or '-':<7} "
                f"{v['sample_rate']:>6} Hz  {v['source']}; {v['licence']}{use}"
            )
    typer.echo("(* = default voice; `voxlab tts TEXT --engine ENGINE --voice ID -o OUT`)")


def register(app: typer.Typer) -> None:
    """Add ``voxlab voices`` to ``app``."""
    app.command("voices")(voices_command)
