"""The shared finishing chain of voxlab-wild: every file, bona fide or spoof, goes through it.

``finish(audio, spec)`` applies, in order: the native band of the recording the item
comes from (a spoof of an 8 kHz telephone prompt is band-limited like the prompt),
silence trimming to the first and last active frame
(:func:`voxlab.data.sources.checks.trim_silence`), loudness normalisation to a drawn
level, drawn leading/trailing digital silence, and one drawn channel
condition from :mod:`voxlab.audio.effects`. Everything drawn comes from
:func:`draw_finish` with a seed derived from the item id alone, never from its class,
so no step can tell the classes apart.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from voxlab.data.sources.checks import active_frames, trim_silence

SAMPLE_RATE = 16_000
PEAK = 0.97

#: Channel conditions: name -> (effect name, parameters) of voxlab.audio.effects, or
#: ``reverb`` (a synthetic room impulse response, below). Drawn uniformly.
CHANNELS: dict[str, tuple[str, dict[str, Any]]] = {
    "clean": ("", {}),
    "telephone": ("resample", {"via_sr": 8_000}),
    "mp3_32k": ("mp3", {"bitrate": 32}),
    "aac_32k": ("aac", {"bitrate": 32}),
    "opus_16k": ("opus", {"bitrate": 16}),
    "white_noise_20db": ("white_noise", {"snr_db": 20.0}),
    "pink_noise_15db": ("pink_noise", {"snr_db": 15.0}),
    "reverb": ("reverb", {}),
}


def draw_finish(seed: int, *, channels: tuple[str, ...] = tuple(CHANNELS)) -> dict[str, Any]:
    """The drawn settings of one item (loudness, padding, channel), from its seed only."""
    rng = np.random.default_rng(seed)
    return {
        "loudness_db": float(rng.uniform(-32.0, -18.0)),
        "lead_s": float(rng.uniform(0.05, 0.5)),
        "trail_s": float(rng.uniform(0.05, 0.5)),
        "channel": str(channels[int(rng.integers(len(channels)))]),
        "channel_seed": int(rng.integers(2**31)),
    }


def active_rms_db(audio: np.ndarray, sr: int = SAMPLE_RATE) -> float:
    """RMS level of the non-silent frames in dBFS."""
    x = np.asarray(audio, dtype=np.float64)
    mask = active_frames(x, sr)
    hop = round(0.010 * sr)
    idx = (np.flatnonzero(mask)[:, None] * hop + np.arange(hop)[None, :]).reshape(-1)
    idx = idx[idx < x.size]
    power = float(np.mean(np.square(x[idx]))) if idx.size else float(np.mean(np.square(x)))
    return 10.0 * np.log10(power + 1e-12)


def reverb(audio: np.ndarray, sr: int, *, seed: int, rt60: float = 0.4) -> np.ndarray:
    """Convolution with a synthetic room impulse response (exponentially decaying noise).

    Shape:
        audio: ``(time,)``; returns the same length.
    """
    rng = np.random.default_rng(seed)
    n = int(rt60 * sr)
    t = np.arange(n) / sr
    rir = rng.standard_normal(n) * np.exp(-6.9 * t / rt60)
    rir[0] = 1.0
    rir /= np.sqrt(np.sum(rir**2))
    from scipy.signal import fftconvolve

    return fftconvolve(audio, rir)[: audio.size].astype(np.float32)


def apply_channel(audio: np.ndarray, name: str, *, seed: int) -> np.ndarray:
    """One channel condition of :data:`CHANNELS` at 16 kHz (same length out).

    Raises:
        ConfigError: Unknown condition.
    """
    from voxlab.audio.effects import apply_effect
    from voxlab.errors import ConfigError

    if name not in CHANNELS:
        raise ConfigError(f"unknown channel condition {name!r}; known: {', '.join(CHANNELS)}")
    effect, params = CHANNELS[name]
    if not effect:
        return audio
    if effect == "reverb":
        return reverb(audio, SAMPLE_RATE, seed=seed)
    if effect in ("white_noise", "pink_noise"):
        params = {**params, "seed": seed}
    out = apply_effect(effect, audio, SAMPLE_RATE, **params)
    n = audio.size
    return out[:n] if out.size >= n else np.pad(out, (0, n - out.size))


def native_band(audio: np.ndarray, native_sr: int) -> np.ndarray:
    """Band-limits 16 kHz audio to a recording's native rate (no-op at 16 kHz or more)."""
    from voxlab.audio.effects import apply_effect

    if native_sr >= SAMPLE_RATE:
        return audio
    return apply_effect("resample", audio, SAMPLE_RATE, via_sr=int(native_sr))


def finish(audio: np.ndarray, *, native_sr: int, spec: dict[str, Any]) -> np.ndarray:
    """The chain of the module doc on 16 kHz audio.

    Args:
        audio: Samples at 16 kHz. Shape: ``(time,)``.
        native_sr: Sample rate of the recording the item comes from.
        spec: Settings from :func:`draw_finish`.

    Returns:
        Finished float32 samples, peak at most 0.97. Shape: ``(time',)``.
    """
    x = np.asarray(audio, dtype=np.float32).reshape(-1)
    x = native_band(x, native_sr)
    # Cut to the first and last active frame (5 ms fades), so the silence around the
    # speech is exactly the drawn padding, whatever tail a recording or a vocoder left.
    x = trim_silence(x, SAMPLE_RATE, margin_s=0.0)
    fade = min(round(0.005 * SAMPLE_RATE), x.size // 2)
    if fade:
        ramp = np.linspace(0.0, 1.0, fade, dtype=np.float32)
        x = x.copy()
        x[:fade] *= ramp
        x[-fade:] *= ramp[::-1]
    x = x * np.float32(10.0 ** ((spec["loudness_db"] - active_rms_db(x)) / 20.0))
    lead, trail = round(spec["lead_s"] * SAMPLE_RATE), round(spec["trail_s"] * SAMPLE_RATE)
    x = np.pad(x, (lead, trail))
    x = apply_channel(x, spec["channel"], seed=spec["channel_seed"])
    peak = float(np.max(np.abs(x))) if x.size else 0.0
    if peak > PEAK:
        x = x * np.float32(PEAK / peak)
    return x.astype(np.float32)
