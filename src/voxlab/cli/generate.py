"""``voxlab tts`` and ``voxlab vocode``: offline speech generation from the command line."""

from __future__ import annotations

import json
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
    engine: str = typer.Option(
        "espeak", "--engine", "-e", help="TTS engine: espeak, piper, kokoro, festival, ..."
    ),
    voice: str | None = typer.Option(
        None, "--voice", help="Voice id (see `voxlab voices`); piper also takes a .onnx path."
    ),
    variant: str | None = typer.Option(
        None, "--variant", help="espeak only: variant f1-f5, m1-m8, klatt..."
    ),
    speed: float = typer.Option(
        1.0, "--speed", help="Rate multiplier (1 = natural); espeak: values >= 80 are words/min."
    ),
    pitch: int | None = typer.Option(None, "--pitch", help="espeak only: base pitch (0-99)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the engine's random draws (piper)."),
    sample_rate: int | None = typer.Option(
        None, "--sample-rate", help="Output rate in Hz (default: the voice's; espeak 16000)."
    ),
    checkpoint: Path | None = typer.Option(
        None, "--checkpoint", help="Model file, for engines that load one (vits)."
    ),
    config: Path | None = typer.Option(
        None, "--config", help="Model config, for engines that load one (vits)."
    ),
    watermark: bool = typer.Option(True, "--watermark/--no-watermark", help=WATERMARK_HELP),
    key: Path | None = typer.Option(None, "--watermark-key", help=KEY_HELP),
    phonemes_out: Path | None = typer.Option(
        None,
        "--phonemes-out",
        help="Also write the timed phonemes (JSON [[start_s, end_s, symbol], ...]) for "
        "`voxlab face talk --phonemes` (espeak, piper, vits record them).",
    ),
) -> None:
    """Speak TEXT offline with one of voxlab's TTS engines (`voxlab voices` lists them).

    Engines: espeak (espeak-ng formant synthesis, > 100 languages), piper (VITS voices,
    ONNX), kokoro (Kokoro-82M, 24 kHz, English/Japanese/...), festival (HTS statistical
    and diphone voices). The output carries voxlab's watermark (payload: the engine and
    voice) and an "AI-generated" metadata tag; check it with
    `voxlab watermark detect FILE --key KEYFILE` (the key file is printed).

    Examples:
        voxlab tts "Hello there" --variant f3 --pitch 70 -o hello.wav
        voxlab tts "Guten Tag" --voice de -o tag.flac
        voxlab tts "Hello there" --engine piper --seed 1 -o piper.wav
        voxlab tts "Hello there" --engine kokoro --voice bf_emma --speed 1.1 -o emma.wav
        voxlab tts "こんにちは" --engine kokoro --voice jf_alpha -o ja.wav
        voxlab tts "Hello there" --engine festival --voice kal_diphone -o kal.wav
        voxlab tts "Hello" --engine piper --voice ~/voices/de_DE-thorsten-medium.onnx -o de.wav
        voxlab tts "Hello there" --phonemes-out hello.json -o hello.wav
        voxlab face talk face.jpg hello.wav --phonemes hello.json -o hello.mp4
    """
    from voxlab.errors import ConfigError
    from voxlab.generation.base import write_generated
    from voxlab.generation.neural.engines import get_engine
    from voxlab.watermark.provenance import default_key_path

    options: dict = {}
    if checkpoint is not None:
        options["checkpoint"] = checkpoint
    if config is not None:
        options["config"] = config
    if engine == "espeak":
        if pitch is not None:
            options["pitch"] = pitch
        if speed >= 80:  # words per minute, as `voxlab tts --speed 160` always meant
            options["wpm"], speed = int(speed), 1.0
        voice = voice or "en-us"
        if variant:
            voice = f"{voice}+{variant}"
        sample_rate = sample_rate or 16_000
    elif variant is not None or pitch is not None:
        raise ConfigError(f"--variant and --pitch are espeak options; engine {engine!r} has none")
    tts = get_engine(engine, **options)
    generated = tts.synthesize(text, voice=voice, speed=speed, seed=seed, sample_rate=sample_rate)
    events = generated.params.get("phonemes")
    if phonemes_out is not None and not events:
        raise ConfigError(
            f"{generated.system} recorded no phoneme timings, so --phonemes-out has nothing "
            "to write (espeak, piper and vits record them; kokoro and festival do not)"
        )
    write_generated(
        generated, out, metadata={"comment": f"voxlab tts {generated.system}"},
        watermark=watermark, key=key,
    )  # fmt: skip
    if watermark:
        key_file = key if key is not None else default_key_path()
        label = f"watermarked (payload: {generated.system}) with key {key_file}"
    else:
        label = "NOT watermarked (--no-watermark); tagged AI-generated"
    typer.echo(
        f"{out} ({generated.duration:.2f} s, {generated.sample_rate} Hz, {generated.system}); "
        f"{label}"
    )
    if phonemes_out is not None:
        phonemes_out.write_text(json.dumps(events) + "\n", encoding="utf-8")
        typer.echo(f"{phonemes_out} ({len(events)} timed phonemes)")


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
