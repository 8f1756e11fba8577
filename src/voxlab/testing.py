"""Helpers that build small audio inputs, good and bad, for tests and demos.

Like lhotse's testing helpers, these live in the package so that the test suite, the
benchmarks and ``make demo`` make their inputs the same way.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from voxlab.errors import VoxlabError


def tone(
    freq: float = 440.0, *, seconds: float = 1.0, sr: int = 16_000, amplitude: float = 0.5
) -> np.ndarray:
    """A sine tone.

    Returns:
        float32 samples. Shape: ``(round(seconds * sr),)``.
    """
    t = np.arange(int(round(seconds * sr))) / sr
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def chirp(
    f0: float = 100.0, f1: float = 4000.0, *, seconds: float = 1.0, sr: int = 16_000
) -> np.ndarray:
    """A linear sine sweep from ``f0`` to ``f1`` Hz at amplitude 0.5.

    Returns:
        float32 samples. Shape: ``(round(seconds * sr),)``.
    """
    t = np.arange(int(round(seconds * sr))) / sr
    phase = 2 * np.pi * (f0 * t + 0.5 * (f1 - f0) / seconds * t**2)
    return (0.5 * np.sin(phase)).astype(np.float32)


def noise(
    *, seconds: float = 1.0, sr: int = 16_000, seed: int = 0, scale: float = 0.1
) -> np.ndarray:
    """Gaussian white noise.

    Returns:
        float32 samples. Shape: ``(round(seconds * sr),)``.
    """
    rng = np.random.default_rng(seed)
    return (scale * rng.standard_normal(int(round(seconds * sr)))).astype(np.float32)


def espeak_available() -> bool:
    """Whether the ``espeak-ng`` program is on PATH."""
    return shutil.which("espeak-ng") is not None


def speak(
    text: str = "The quick brown fox jumps over the lazy dog.",
    *,
    voice: str = "en-us",
    speed: int = 160,
    pitch: int = 50,
    sr: int = 16_000,
) -> np.ndarray:
    """Synthesise ``text`` with espeak-ng (a stand-in for real speech in tests).

    Returns:
        float32 samples at ``sr``. Shape: ``(time,)``.

    Raises:
        VoxlabError: espeak-ng is not installed (``apt-get install espeak-ng``).
    """
    from voxlab.audio import load

    if not espeak_available():
        raise VoxlabError("espeak-ng is not installed; run `apt-get install -y espeak-ng`")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "speech.wav"
        subprocess.run(
            ["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "-w", str(out), text],
            check=True,
            capture_output=True,
            timeout=60,
        )
        samples, _ = load(out, sr=sr)
    return samples


def write_bad_files(folder: str | os.PathLike) -> dict[str, Path]:
    """Write one file per kind of bad input voxlab must refuse cleanly.

    Args:
        folder: Where to write (created if missing).

    Returns:
        Kind -> path, for kinds ``empty``, ``random_wav``, ``random_mp3``, ``truncated_flac``,
        ``truncated_mp3``, ``truncated_wav``, ``nan_wav``, ``inf_wav``, ``zero_samples``,
        ``absurd_rate``, ``text_as_flac`` and the directory ``dir.wav``.
    """
    from voxlab.audio import save

    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1234)
    paths: dict[str, Path] = {}

    def put(kind: str, name: str, data: bytes) -> None:
        paths[kind] = root / name
        paths[kind].write_bytes(data)

    put("empty", "empty.wav", b"")
    put("random_wav", "random.wav", rng.integers(0, 256, 4000, dtype=np.uint8).tobytes())
    put("random_mp3", "random.mp3", rng.integers(0, 256, 4000, dtype=np.uint8).tobytes())
    put("text_as_flac", "notes.flac", b"this is a text file, not audio\n" * 20)
    speech = tone(220.0, seconds=3.0) + noise(seconds=3.0, scale=0.05)
    for ext in ("flac", "mp3", "wav"):
        good = save(root / f"_whole.{ext}", speech, 16_000)
        blob = good.read_bytes()
        good.unlink()
        put(f"truncated_{ext}", f"truncated.{ext}", blob[: len(blob) // 2])
    for kind, value in (("nan_wav", np.nan), ("inf_wav", np.inf)):
        samples = speech.copy()
        samples[100:110] = value
        put(kind, f"{kind.split('_')[0]}.wav", _float_wav(samples, 16_000))
    put("zero_samples", "zero_samples.wav", _float_wav(np.zeros(0, np.float32), 16_000))
    put("absurd_rate", "absurd_rate.wav", _float_wav(speech[:1600], 1))
    paths["directory"] = root / "dir.wav"
    paths["directory"].mkdir(exist_ok=True)
    return paths


def _float_wav(samples: np.ndarray, sr: int) -> bytes:
    """A 32-bit float mono WAV file as bytes, written by hand so any value is allowed."""
    data = np.asarray(samples, dtype="<f4").tobytes()
    fmt = struct.pack("<HHIIHH", 3, 1, sr, sr * 4, 4, 32)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


def make_toy_corpus(
    folder: str | os.PathLike,
    *,
    per_split: dict[str, int] | None = None,
    seconds: float = 1.0,
    sr: int = 16_000,
    seed: int = 0,
) -> Path:
    """A tiny two-class corpus with a JSONL manifest, for pipeline tests.

    Bona fide items are harmonic tones with vibrato and a little noise; spoof items are
    the same tones with a buzzy, band-limited noise excitation mixed in, attack ids
    ``T1``/``T2``. Speakers differ per split (speaker-disjoint).

    Args:
        folder: Output folder (created).
        per_split: Items per split (half bona fide); default train 32, dev 16, eval 16.
        seconds: Length of every item.
        sr: Sample rate.
        seed: Seed of everything random.

    Returns:
        The manifest path (``folder/manifest.jsonl``).
    """
    from voxlab.audio import save
    from voxlab.data.manifest import Utterance, write_manifest

    per_split = per_split or {"train": 32, "dev": 16, "eval": 16}
    root = Path(folder)
    rng = np.random.default_rng(seed)
    t = np.arange(int(round(seconds * sr))) / sr
    utterances = []
    for split, count in per_split.items():
        for i in range(count):
            bonafide = i % 2 == 0
            f0 = rng.uniform(90, 250)
            phase = 2 * np.pi * f0 * (t + 0.002 * np.sin(2 * np.pi * 5 * t))
            wave = sum(0.3 / k * np.sin(k * phase) for k in range(1, 6))
            wave = wave + 0.01 * rng.standard_normal(len(t))
            attack = "-"
            if not bonafide:
                attack = "T1" if i % 4 == 1 else "T2"
                buzz = rng.standard_normal(len(t)) * (0.2 if attack == "T1" else 0.1)
                wave = 0.6 * wave + np.convolve(buzz, np.ones(4) / 4, mode="same")
            utt_id = f"TOY_{split[0].upper()}_{i:04d}"
            path = save(root / split / f"{utt_id}.flac", np.clip(wave, -1, 1), sr)
            utterances.append(
                Utterance(
                    utt_id=utt_id,
                    path=str(path.resolve()),
                    speaker=f"{split}_spk{i % 4}",
                    attack=attack,
                    key="bonafide" if bonafide else "spoof",
                    split=split,
                )
            )
    return write_manifest(utterances, root / "manifest.jsonl")
