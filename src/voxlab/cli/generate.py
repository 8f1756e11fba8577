"""``voxlab tts`` and ``voxlab vocode``: offline speech generation from the command line."""

from __future__ import annotations

from pathlib import Path

import typer

WATERMARK_HELP = (
    "Embed voxlab's keyed watermark (payload: the generating system). The file is tagged "
    "AI-generated either way; --no-watermark is for countermeasure training data."
)
KEY_HELP = (
    "Watermark key file (default $VOXLAB_WATERMARK_KEY, else $VOXLAB_HOME/watermark.key, "
    "created on first use)."
)


def tts_command(
    text: str = typer.Argument(..., help="What to say."),
    out: Path = typer.Option(..., "--out", "-o", help="Output file (.wav, .flac, ...)."),
    voice: str = typer.Option("en-us", "--voice", help="espeak-ng voice (`espeak-ng --voices`)."),
    variant: str | None = typer.Option(None, "--variant", help="Variant: f1-f5, m1-m8, klatt..."),
    speed: int = typer.Option(160, "--speed", help="Words per minute (80-450)."),
    pitch: int = typer.Option(50, "--pitch", help="Base pitch (0-99)."),
    sample_rate: int = typer.Option(16_000, "--sample-rate", help="Output rate in Hz."),
    watermark: bool = typer.Option(True, "--watermark/--no-watermark", help=WATERMARK_HELP),
    key: Path | None = typer.Option(None, "--watermark-key", help=KEY_HELP),
) -> None:
    """Speak TEXT with espeak-ng (offline formant synthesis, > 100 languages).

    The output carries voxlab's watermark and an "AI-generated" metadata tag; check it with
    `voxlab watermark detect FILE --key ~/.cache/voxlab/watermark.key`.

    Examples:
        voxlab tts "Hello there" --variant f3 --pitch 70 -o hello.wav
        voxlab tts "Guten Tag" --voice de -o tag.flac
    """
    from voxlab.generation.base import write_generated
    from voxlab.generation.tts import EspeakVoice, synthesize

    spec = EspeakVoice(voice=voice, variant=variant, speed=speed, pitch=pitch)
    generated = synthesize(text, spec, sample_rate=sample_rate)
    write_generated(
        generated, out, metadata={"comment": f"voxlab tts {spec.name}"}, watermark=watermark,
        key=key,
    )  # fmt: skip
    typer.echo(f"{out} ({generated.duration:.2f} s, espeak-ng {spec.name})")


def vocode_command(
    source: Path = typer.Argument(..., help="Speech to re-synthesise (audio, or a .npy mel)."),
    out: Path = typer.Option(..., "--out", "-o", help="Output file (.wav, .flac, ...)."),
    attack: str = typer.Option("V01", "--attack", "-a", help="A vocoder attack id (V01-V05)."),
    vocoder: str | None = typer.Option(
        None, "--vocoder", help="Neural vocoder from a checkpoint instead of --attack: hifigan."
    ),
    checkpoint: Path | None = typer.Option(
        None, "--checkpoint", help="HiFi-GAN generator file (g_XXXXXXXX) for --vocoder."
    ),
    config: Path | None = typer.Option(
        None, "--config", help="The config.json trained with --checkpoint."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed of the random parts (Griffin-Lim, LPC)."),
    watermark: bool = typer.Option(True, "--watermark/--no-watermark", help=WATERMARK_HELP),
    key: Path | None = typer.Option(None, "--watermark-key", help=KEY_HELP),
) -> None:
    """Re-synthesise SOURCE with a vocoder (copy-synthesis).

    Either one of voxlab's vocoder attack systems (--attack), or an official HiFi-GAN
    checkpoint (--vocoder hifigan --checkpoint g_XXXXXXXX --config config.json), which
    analyses SOURCE with the config's own mel settings (n_fft, hop, window, fmin, fmax);
    a .npy SOURCE is taken as the (num_mels, T) log-mel itself. Conversion and TTS systems
    need a target speaker; use `voxlab corpus make` for them.

    Examples:
        voxlab vocode speech.wav --attack V04 -o speech_gl.flac
        voxlab vocode in.wav --vocoder hifigan --checkpoint g_02500000 --config v1.json -o o.wav
        voxlab vocode mel.npy --vocoder hifigan --checkpoint g_02500000 --config v1.json -o o.wav
    """
    from voxlab.errors import ConfigError
    from voxlab.generation.base import write_generated

    if vocoder is not None:
        if vocoder != "hifigan":
            raise ConfigError(f"unknown --vocoder {vocoder!r}; voxlab vocode knows: hifigan")
        if checkpoint is None or config is None:
            raise ConfigError(
                "--vocoder hifigan needs --checkpoint g_XXXXXXXX and --config config.json "
                "(the official jik876/hifi-gan files)"
            )
        from voxlab.generation.neural.hifigan import load_hifigan, vocode_file

        model = load_hifigan(checkpoint, config)
        generated = vocode_file(source, model, checkpoint_name=checkpoint.name)
        write_generated(
            generated, out, metadata={"comment": f"voxlab vocode hifigan {checkpoint.name}"},
            watermark=watermark, key=key,
        )  # fmt: skip
        typer.echo(
            f"{out} ({generated.duration:.2f} s, {generated.sample_rate} Hz, {generated.system})"
        )
        return

    from voxlab.audio import load
    from voxlab.generation.attacks import AttackInput, get_attack

    system = get_attack(attack)
    if system.kind != "vocoder":
        raise ConfigError(
            f"{attack} is a {system.kind} system and needs a target speaker; `voxlab vocode` "
            "takes vocoder systems (see `voxlab corpus attacks`)"
        )
    audio, _ = load(source, sr=16_000)
    generated = system(AttackInput(audio, 16_000, speaker="-", seed=seed))
    write_generated(
        generated, out, metadata={"comment": f"voxlab vocode {attack}"}, watermark=watermark,
        key=key,
    )  # fmt: skip
    typer.echo(f"{out} ({system.id}: {system.description})")


def register(app: typer.Typer) -> None:
    """Add ``voxlab tts`` and ``voxlab vocode`` to ``app``."""
    app.command("tts")(tts_command)
    app.command("vocode")(vocode_command)
