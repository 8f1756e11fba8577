"""Convert audio files with an RVC voice: one file, or many into a folder.

An ``.npz`` input holds precomputed synthesizer inputs instead of audio (``phone`` ``(1,
T, 256|768)`` at 100 frames/s, and for F0 voices ``pitchf`` ``(1, T)`` Hz, optionally
``pitch``, ``phone_lengths``, ``sid``, as the official ``infer`` takes them): it is
synthesised directly, without HuBERT or F0 analysis (e.g. features dumped from the official
pipeline, or the reference fixtures). Like the official pipeline, only a peak above 0.99
is scaled down.

Every output leaves through :func:`voxlab.generation.base.write_generated`, so it carries
voxlab's keyed watermark (payload: the system ``rvc``) and the "AI-generated" tag. In a
batch a bad input becomes an error row; the other files are still converted.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from voxlab.errors import ConfigError, DataError, VoxlabError
from voxlab.generation.base import Generated
from voxlab.generation.neural.rvc.f0 import coarse_pitch
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

    if src.suffix.lower() == ".npz":
        generated = synthesize_features(converter, src, options)
    else:
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


def synthesize_features(converter: RVCConverter, path: Path, options: ConvertOptions) -> Generated:
    """Run the voice's ``infer`` on the synthesizer inputs stored in an ``.npz`` file.

    Raises:
        DataError: The file is unreadable or lacks / mis-shapes an input.
    """
    import torch

    model = converter.model
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read features file {path}: {exc}") from exc
    phone = arrays.get("phone")
    dim = model.config.content_dim
    if phone is None or phone.ndim not in (2, 3) or phone.shape[-1] != dim:
        raise DataError(
            f"{path}: 'phone' must be (1, T, {dim}) content features at 100 frames/s for this "
            f"RVC {model.version} voice, got {None if phone is None else phone.shape}"
        )
    phone = torch.from_numpy(np.asarray(phone, np.float32).reshape(1, -1, dim))
    frames = phone.shape[1]
    lengths = torch.from_numpy(np.asarray(arrays.get("phone_lengths", [frames]), np.int64))
    sid = torch.from_numpy(np.asarray(arrays.get("sid", [options.speaker]), np.int64))
    if not 0 <= int(sid.max()) < model.config.spk_embed_dim:
        raise DataError(f"{path}: speaker id {int(sid.max())} does not exist in this voice")
    with converter.randomness(options):
        if model.f0:
            if "pitchf" not in arrays:
                raise DataError(f"{path}: an F0 voice needs 'pitchf' (1, T) in Hz")
            f0 = np.asarray(arrays["pitchf"], np.float64).reshape(1, -1)
            if f0.shape[1] != frames:
                raise DataError(f"{path}: 'pitchf' has {f0.shape[1]} frames, 'phone' {frames}")
            pitch = arrays.get("pitch", coarse_pitch(f0))
            result = model.infer(
                phone, lengths, torch.from_numpy(np.asarray(pitch, np.int64).reshape(1, -1)),
                torch.from_numpy(f0.astype(np.float32)), sid,
            )  # fmt: skip
        else:
            result = model.infer(phone, lengths, sid)
    audio = result[0][0, 0].numpy().astype(np.float32)
    if not np.isfinite(audio).all():
        raise DataError(f"{path}: synthesis produced NaN or Inf (check the features)")
    peak = float(np.abs(audio).max()) if audio.size else 0.0
    if peak > 0.99:
        audio = audio * (0.99 / peak)
    params = {"voice": converter.name, "version": model.version, "f0": model.f0,
              "features": path.name, "seed": options.seed}  # fmt: skip
    return Generated(audio, model.sampling_rate, "rvc", params)
