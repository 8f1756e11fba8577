"""Convert audio files with an RVC voice: one file, or many into a folder.

Every output leaves through :func:`voxlab.generation.base.write_generated`, so it carries
voxlab's keyed watermark (payload: the system ``rvc``) and the "AI-generated" tag. In a
batch a bad input becomes an error row; the other files are still converted.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from voxlab.errors import ConfigError, VoxlabError
from voxlab.generation.neural.rvc.pipeline import ConvertOptions, RVCConverter

#: Extensions taken to mean "OUT is one file" when a single input is converted.
OUTPUT_EXTENSIONS = (".wav", ".flac", ".ogg", ".mp3", ".m4a", ".opus")


def plan_outputs(
    inputs: Sequence[Path], out: Path, *, ext: str = ".wav"
) -> list[tuple[Path, Path]]:
    """Pair each input with its output path.

    One input and an ``out`` with an audio extension: that file. Otherwise ``out`` is a
    folder receiving ``<input stem><ext>`` for each input.

    Raises:
        ConfigError: Several inputs but ``out`` names a file, or two inputs share a stem.
    """
    if len(inputs) == 1 and out.suffix.lower() in OUTPUT_EXTENSIONS:
        return [(inputs[0], out)]
    if out.suffix.lower() in OUTPUT_EXTENSIONS:
        raise ConfigError(
            f"{len(inputs)} inputs but -o {out} is one file; give a folder for the outputs"
        )
    pairs = [(src, out / f"{src.stem}{ext}") for src in inputs]
    seen: dict[Path, Path] = {}
    for src, dst in pairs:
        if dst in seen:
            raise ConfigError(
                f"{seen[dst]} and {src} would both be written to {dst}; convert them separately"
            )
        seen[dst] = src
    return pairs


def convert_file(
    converter: RVCConverter,
    src: Path,
    dst: Path,
    options: ConvertOptions,
    *,
    watermark: bool = True,
    key: Any = None,
) -> dict[str, Any]:
    """Convert one file and write it labelled; returns its result row.

    Raises:
        VoxlabError: Unreadable input, bad options or an unwritable output.
    """
    from voxlab.audio import load
    from voxlab.generation.base import write_generated

    audio, info = load(src, sr=None)
    generated = converter.convert(audio, info.sample_rate, options)
    write_generated(
        generated, dst, watermark=watermark, key=key,
        metadata={"comment": f"voxlab convert: RVC voice {converter.name}"},
    )  # fmt: skip
    return {
        "input": str(src),
        "output": str(dst),
        "status": "ok",
        "seconds": round(generated.duration, 3),
        "sample_rate": generated.sample_rate,
        "voice": converter.name,
        "transpose": options.transpose,
        "f0_method": generated.params.get("f0_method"),
        "error": None,
    }


def convert_files(
    converter: RVCConverter,
    pairs: Sequence[tuple[Path, Path]],
    options: ConvertOptions,
    *,
    watermark: bool = True,
    key: Any = None,
) -> Iterator[dict[str, Any]]:
    """Convert each ``(input, output)`` pair; a failure becomes a row with status "error"."""
    for src, dst in pairs:
        try:
            yield convert_file(converter, src, dst, options, watermark=watermark, key=key)
        except VoxlabError as exc:
            yield {"input": str(src), "output": None, "status": "error", "error": str(exc)}
