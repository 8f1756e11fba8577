"""``voxlab av make``: text -> voice -> talking face -> (swap) -> labelled video."""

from __future__ import annotations

import json
from pathlib import Path

import typer

av_app = typer.Typer(help="Audio-visual pipeline: text to a labelled talking-face video.",
                     no_args_is_help=True)  # fmt: skip


@av_app.command("make")
def make_command(
    text: str | None = typer.Argument(None, help="What the face says (or give --pipeline)."),
    face: Path | None = typer.Option(None, "--face", help="Photo of the face to animate."),
    out: Path = typer.Option(..., "--out", "-o", help="Output video (.mp4)."),
    engine: str | None = typer.Option(None, help="TTS engine: espeak, piper, kokoro, festival."),
    voice: str | None = typer.Option(None, help="Voice id of the engine."),
    rvc: Path | None = typer.Option(None, "--rvc", help="RVC export (.pth) to convert the voice."),
    hubert: Path | None = typer.Option(None, "--hubert", help="HuBERT weights for --rvc."),
    swap_into: Path | None = typer.Option(
        None, "--swap-into", help="Put the talking face into this video's face."
    ),
    pipeline: Path | None = typer.Option(
        None, "--pipeline", help="YAML pipeline file (text:, face:, engine:, ...)."
    ),
    caption: bool | None = typer.Option(None, help="Visible 'AI-generated' caption (default on)."),
    seed: int | None = typer.Option(None, help="Seed (TTS, blinks, head motion)."),
    fmt: str = typer.Option("text", "--format", "-f", help="text or json (provenance)."),
    progress: bool = typer.Option(True, help="Progress bar on a terminal."),
) -> None:
    """Make a labelled talking-face video from text.

    The video carries the audio watermark, the AI-generated tag in the container (see
    `ffprobe -show_format OUT.mp4`) and a visible caption; OUT.mp4.run/ holds the resolved
    pipeline.yaml and provenance.json.

    Examples:
        voxlab av make "Hello, I am not a real person." --face me.jpg -o hello.mp4
        voxlab av make "Hi." --face me.jpg --engine piper --swap-into clip.mp4 -o out.mp4
        voxlab av make --pipeline run.yaml -o out.mp4
    """
    from voxlab.av.make import PipelineConfig, check_output_path, describe, make_video
    from voxlab.cli.face import bar
    from voxlab.errors import ConfigError

    check_output_path(out)
    over = {"text": text, "face": str(face) if face else None, "engine": engine, "voice": voice,
            "rvc": str(rvc) if rvc else None, "hubert": str(hubert) if hubert else None,
            "swap_into": str(swap_into) if swap_into else None, "caption": caption,
            "seed": seed}  # fmt: skip
    if pipeline is not None:
        config = PipelineConfig.from_yaml(pipeline, **over)
    else:
        if not text or face is None:
            raise ConfigError("give TEXT and --face (or --pipeline FILE.yaml)")
        config = PipelineConfig(**{k: v for k, v in over.items() if v is not None})
    record = make_video(config, out, progress=bar(progress))
    if fmt == "json":
        typer.echo(json.dumps(record, indent=2))
    else:
        typer.echo(describe(record))


def register(app: typer.Typer) -> None:
    """Add ``voxlab av`` to ``app``."""
    app.add_typer(av_app, name="av")
