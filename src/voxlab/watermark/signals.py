"""Reproducible test material for watermark evaluation: speech, music-like, noise, silence.

Everything is generated (espeak-ng speech with many voices; harmonic notes with envelopes
plus percussion-like noise bursts; coloured noise; near-silence), so that the benchmark and
the tests can be rerun anywhere.
"""

from __future__ import annotations

import numpy as np

from voxlab.audio.effects import pink

#: espeak-ng voices (language + variant) used for speech material.
VOICES = (
    "en-us",
    "en-us+f3",
    "en+m3",
    "en-gb+f2",
    "en-gb-scotland",
    "en-029+f4",
    "en-gb-x-rp+m7",
    "en-us+f5",
    "de+m2",
    "fr+f1",
    "es+m4",
    "it+f2",
)

SENTENCES = (
    "The quick brown fox jumps over the lazy dog, and the dog does not seem to mind.",
    "Synthetic speech should be labelled, and platforms are expected to check for the label.",
    "Please call Stella and ask her to bring these things with her from the store.",
    "A watermark must survive compression, noise, filtering and small changes of speed.",
    "Six spoons of fresh snow peas, five thick slabs of blue cheese, and maybe a snack.",
    "We also need a small plastic snake and a big toy frog for the kids.",
    "Numbers like one hundred and twenty three, or four thousand and five, are read aloud.",
    "When the sunlight strikes raindrops in the air, they act as a prism and form a rainbow.",
)


def speech(seconds: float, *, sr: int = 16_000, seed: int = 0) -> np.ndarray:
    """espeak-ng speech of about ``seconds`` (voice, rate, pitch and text picked by ``seed``).

    Returns:
        float32 samples peaking at 0.7. Shape: ``(round(seconds * sr),)``.

    Raises:
        VoxlabError: espeak-ng is not installed.
    """
    from voxlab.testing import speak

    rng = np.random.default_rng(seed)
    voice = VOICES[seed % len(VOICES)]
    pieces: list[np.ndarray] = []
    total = 0
    want = int(round(seconds * sr))
    while total < want:
        text = SENTENCES[int(rng.integers(len(SENTENCES)))]
        if total == 0 and seconds > 12:
            text = " ".join(SENTENCES[int(i)] for i in rng.permutation(len(SENTENCES)))
        part = speak(
            text,
            voice=voice,
            speed=int(rng.integers(140, 190)),
            pitch=int(rng.integers(30, 70)),
            sr=sr,
        )
        pieces.append(part)
        pieces.append(np.zeros(int(sr * rng.uniform(0.1, 0.4)), np.float32))
        total += part.size + pieces[-1].size
    out = np.concatenate(pieces)[:want]
    peak = float(np.abs(out).max()) or 1.0
    return (0.7 * out / peak).astype(np.float32)


def music_like(seconds: float, *, sr: int = 16_000, seed: int = 0) -> np.ndarray:
    """Harmonic notes with attack/decay envelopes, a bass line and percussion-like noise.

    Returns:
        float32 samples peaking at 0.7. Shape: ``(round(seconds * sr),)``.
    """
    rng = np.random.default_rng(seed)
    n = int(round(seconds * sr))
    out = np.zeros(n)
    bpm = rng.uniform(80, 150)
    beat = 60.0 / bpm
    t_note = 0.0
    scale = np.array([0, 2, 4, 5, 7, 9, 11, 12])
    root = rng.uniform(45, 60)
    while t_note < seconds:
        dur = beat * rng.choice([0.5, 1.0, 1.0, 2.0])
        midi = root + 12 + scale[rng.integers(len(scale))] + 12 * rng.integers(0, 2)
        f0 = 440.0 * 2 ** ((midi - 69) / 12)
        a = int(t_note * sr)
        m = min(n - a, int((dur + 0.3) * sr))
        if m <= 0:
            break
        t = np.arange(m) / sr
        env = np.minimum(t / 0.01, 1.0) * np.exp(-t / rng.uniform(0.15, 0.6))
        tone = sum(
            (0.6**h) * np.sin(2 * np.pi * f0 * (h + 1) * t + rng.uniform(0, 2 * np.pi))
            for h in range(int(min(8, (sr / 2 - 100) // f0)))
        )
        out[a : a + m] += 0.3 * env * tone
        t_note += dur
    # bass and percussion on the beat
    for k in range(int(seconds / beat) + 1):
        a = int(k * beat * sr)
        m = min(n - a, int(0.25 * sr))
        if m <= 0:
            break
        t = np.arange(m) / sr
        f_bass = 440.0 * 2 ** ((root - 12 + scale[k % 4 * 2 % 8] - 69) / 12)
        out[a : a + m] += 0.25 * np.exp(-t / 0.2) * np.sin(2 * np.pi * f_bass * t)
        hit = rng.standard_normal(m) * np.exp(-t / (0.03 if k % 2 else 0.08))
        out[a : a + m] += (0.15 if k % 2 else 0.25) * hit
    peak = float(np.abs(out).max()) or 1.0
    return (0.7 * out / peak).astype(np.float32)


def noise_clip(
    seconds: float, *, sr: int = 16_000, seed: int = 0, kind: str = "white"
) -> np.ndarray:
    """White or pink Gaussian noise at RMS 0.1. Shape: ``(round(seconds * sr),)``."""
    n = int(round(seconds * sr))
    if kind == "pink":
        x = pink((n,), seed=seed)
    else:
        x = np.random.default_rng(seed).standard_normal(n)
    return (0.1 * x / (np.std(x) + 1e-12)).astype(np.float32)


def silence(seconds: float, *, sr: int = 16_000, seed: int = 0, level: float = 1e-4) -> np.ndarray:
    """Near-silence: faint white noise at RMS ``level`` (0 gives digital silence)."""
    n = int(round(seconds * sr))
    return (level * np.random.default_rng(seed).standard_normal(n)).astype(np.float32)
