"""The channel and attack suite: one set of deterministic effects for the whole project.

Every effect is a pure function ``fn(audio, sr, **params) -> audio`` on float32 samples of
shape ``(time,)`` or ``(channels, time)`` (processed along the last axis), registered by
name in :data:`EFFECTS`. Random effects take a ``seed`` and are deterministic for a given
seed. :data:`STANDARD_ATTACKS` lists the named configurations used by the watermark and
detection robustness benchmarks and by training augmentation.

Example:
    >>> from voxlab.audio.effects import apply_effect
    >>> y = apply_effect("white_noise", x, 16000, snr_db=20, seed=1)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from voxlab.audio.codecs import codec_roundtrip
from voxlab.audio.resample import resample
from voxlab.errors import AudioError, ConfigError

Effect = Callable[..., np.ndarray]


@dataclass(frozen=True)
class EffectSpec:
    """A registered effect: its function, default parameters and a one-line description."""

    name: str
    fn: Effect
    defaults: dict[str, Any] = field(default_factory=dict)
    doc: str = ""


#: Effect name -> spec. Filled by :func:`register_effect`.
EFFECTS: dict[str, EffectSpec] = {}


def register_effect(name: str, **defaults: Any) -> Callable[[Effect], Effect]:
    """Decorator adding an effect to :data:`EFFECTS` under ``name`` with default params."""

    def wrap(fn: Effect) -> Effect:
        doc = (fn.__doc__ or "").strip().splitlines()[0] if fn.__doc__ else ""
        EFFECTS[name] = EffectSpec(name=name, fn=fn, defaults=dict(defaults), doc=doc)
        return fn

    return wrap


def _as_float(audio: np.ndarray) -> np.ndarray:
    data = np.asarray(audio, dtype=np.float32)
    if data.ndim not in (1, 2) or data.shape[-1] == 0:
        raise AudioError(
            f"effects need audio of shape (time,) or (channels, time), got {data.shape}"
        )
    return data


def _power(x: np.ndarray) -> float:
    return float(np.mean(np.square(x, dtype=np.float64)))


# --------------------------------------------------------------------------- codecs


@register_effect("mp3", bitrate=64)
def mp3(audio: np.ndarray, sr: int, *, bitrate: int = 64) -> np.ndarray:
    """MP3 (LAME) round trip at ``bitrate`` kbit/s."""
    return codec_roundtrip(_as_float(audio), sr, codec="mp3", bitrate=int(bitrate) * 1000)


@register_effect("aac", bitrate=64)
def aac(audio: np.ndarray, sr: int, *, bitrate: int = 64) -> np.ndarray:
    """AAC (FFmpeg native encoder, M4A) round trip at ``bitrate`` kbit/s."""
    return codec_roundtrip(_as_float(audio), sr, codec="aac", bitrate=int(bitrate) * 1000)


@register_effect("opus", bitrate=32)
def opus(audio: np.ndarray, sr: int, *, bitrate: int = 32) -> np.ndarray:
    """Opus (libopus) round trip at ``bitrate`` kbit/s."""
    return codec_roundtrip(_as_float(audio), sr, codec="opus", bitrate=int(bitrate) * 1000)


# --------------------------------------------------------------------------- rate / time


@register_effect("resample", via_sr=16_000)
def resample_roundtrip(audio: np.ndarray, sr: int, *, via_sr: int = 16_000) -> np.ndarray:
    """Resample to ``via_sr`` and back (e.g. 44.1 -> 16 -> 44.1 kHz), same length."""
    data = _as_float(audio)
    out = resample(
        resample(data, orig_sr=sr, target_sr=int(via_sr)), orig_sr=int(via_sr), target_sr=sr
    )
    return _fit_length(out, data.shape[-1])


def _fit_length(x: np.ndarray, n: int) -> np.ndarray:
    if x.shape[-1] >= n:
        return np.ascontiguousarray(x[..., :n], dtype=np.float32)
    pad = [(0, 0)] * (x.ndim - 1) + [(0, n - x.shape[-1])]
    return np.pad(x, pad).astype(np.float32)


@register_effect("speed", rate=1.05)
def speed(audio: np.ndarray, sr: int, *, rate: float = 1.05) -> np.ndarray:
    """Play ``rate`` times faster by resampling: duration / rate and pitch x rate."""
    import soxr

    if not 0.25 <= rate <= 4.0:
        raise ConfigError(f"speed rate must be in [0.25, 4], got {rate}")
    data = _as_float(audio)
    if rate == 1.0:
        return data.copy()
    # Treat the samples as if recorded at sr * rate, then bring them to sr.
    src = np.ascontiguousarray(data.T if data.ndim == 2 else data)
    out = soxr.resample(src, sr * float(rate), sr, quality="HQ").astype(np.float32)
    return np.ascontiguousarray(out.T) if data.ndim == 2 else out


@register_effect("tempo", rate=1.05)
def tempo(audio: np.ndarray, sr: int, *, rate: float = 1.05, frame_ms: float = 40.0) -> np.ndarray:
    """Play ``rate`` times faster keeping the pitch (WSOLA time-scale modification).

    Waveform-similarity overlap-add: output frames of ``frame_ms`` overlap by half; each
    input frame is taken near ``rate`` times the output position, shifted within a small
    tolerance to continue the previous frame's waveform best (maximum cross-correlation).
    """
    if not 0.5 <= rate <= 2.0:
        raise ConfigError(f"tempo rate must be in [0.5, 2], got {rate}")
    data = _as_float(audio)
    if rate == 1.0:
        return data.copy()
    if data.ndim == 2:
        return np.stack([tempo(ch, sr, rate=rate, frame_ms=frame_ms) for ch in data])
    win = max(16, int(round(frame_ms * 1e-3 * sr)) // 2 * 2)
    hop = win // 2
    tol = max(1, hop // 2)
    n_out = int(round(len(data) / rate))
    window = np.hanning(win + 2)[1:-1].astype(np.float32)  # sums to ~1 at 50 % overlap
    padded = np.pad(data, (tol + win, tol + 2 * win))
    base = tol + win
    out = np.zeros(n_out + 2 * win, np.float32)
    norm = np.zeros_like(out)
    prev = base  # input position of the previous frame
    n_frames = n_out // hop + 2
    for k in range(n_frames):
        target = base + int(round(k * hop * rate))
        if k == 0:
            pos = target
        else:
            # natural continuation of the previous frame, compared over one hop
            ref = padded[prev + hop : prev + hop + win]
            seg = padded[target - tol : target + tol + win]
            corr = np.correlate(seg, ref, mode="valid")
            pos = target - tol + int(np.argmax(corr))
        o = k * hop
        out[o : o + win] += padded[pos : pos + win] * window
        norm[o : o + win] += window
        prev = pos
    norm[norm < 1e-3] = 1.0
    return (out / norm)[:n_out].astype(np.float32)


# --------------------------------------------------------------------------- noise


def _noise_at_snr(data: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    p_sig = _power(data)
    p_noise = _power(noise)
    if p_sig == 0.0 or p_noise == 0.0:
        return data.copy()
    scale = np.sqrt(p_sig / (p_noise * 10.0 ** (snr_db / 10.0)))
    return (data + scale * noise).astype(np.float32)


@register_effect("white_noise", snr_db=20.0, seed=0)
def white_noise(audio: np.ndarray, sr: int, *, snr_db: float = 20.0, seed: int = 0) -> np.ndarray:
    """Add Gaussian white noise at ``snr_db`` (over the whole signal, all channels)."""
    data = _as_float(audio)
    noise = np.random.default_rng(seed).standard_normal(data.shape)
    return _noise_at_snr(data, noise, snr_db)


def pink(shape: tuple[int, ...], *, seed: int = 0) -> np.ndarray:
    """Pink (1/f power) Gaussian noise of unit-ish power along the last axis."""
    rng = np.random.default_rng(seed)
    n = shape[-1]
    spec = rng.standard_normal((*shape[:-1], n // 2 + 1)) + 1j * rng.standard_normal(
        (*shape[:-1], n // 2 + 1)
    )
    f = np.arange(n // 2 + 1, dtype=np.float64)
    f[0] = 1.0
    x = np.fft.irfft(spec / np.sqrt(f), n=n)
    return x / (np.std(x) + 1e-12)


@register_effect("pink_noise", snr_db=20.0, seed=0)
def pink_noise(audio: np.ndarray, sr: int, *, snr_db: float = 20.0, seed: int = 0) -> np.ndarray:
    """Add pink (1/f) noise at ``snr_db``."""
    data = _as_float(audio)
    return _noise_at_snr(data, pink(data.shape, seed=seed), snr_db)


# --------------------------------------------------------------------------- filters


def _butter(data: np.ndarray, sr: int, cutoff: float, kind: str, order: int) -> np.ndarray:
    from scipy.signal import butter, sosfiltfilt

    nyq = sr / 2.0
    if not 0 < cutoff < nyq:
        if kind == "lowpass":
            return data.copy()
        raise ConfigError(f"{kind} cutoff {cutoff} Hz must be inside (0, {nyq:g}) Hz")
    sos = butter(order, cutoff / nyq, btype=kind, output="sos")
    pad = min(data.shape[-1] - 1, 3 * (2 * order + 1))
    return sosfiltfilt(sos, data, axis=-1, padlen=max(pad, 0)).astype(np.float32)


@register_effect("lowpass", cutoff=4000.0, order=8)
def lowpass(audio: np.ndarray, sr: int, *, cutoff: float = 4000.0, order: int = 8) -> np.ndarray:
    """Zero-phase Butterworth low-pass at ``cutoff`` Hz."""
    return _butter(_as_float(audio), sr, cutoff, "lowpass", order)


@register_effect("highpass", cutoff=500.0, order=8)
def highpass(audio: np.ndarray, sr: int, *, cutoff: float = 500.0, order: int = 8) -> np.ndarray:
    """Zero-phase Butterworth high-pass at ``cutoff`` Hz."""
    return _butter(_as_float(audio), sr, cutoff, "highpass", order)


@register_effect("smooth", width=3)
def smooth(audio: np.ndarray, sr: int, *, width: int = 3) -> np.ndarray:
    """Moving-average smoothing over ``width`` samples (centred)."""
    from scipy.ndimage import uniform_filter1d

    data = _as_float(audio)
    return uniform_filter1d(data, size=int(width), axis=-1, mode="nearest").astype(np.float32)


@register_effect("echo", delay=0.1, decay=0.3)
def echo(audio: np.ndarray, sr: int, *, delay: float = 0.1, decay: float = 0.3) -> np.ndarray:
    """Add one echo ``delay`` seconds later at ``decay`` times the level (same length)."""
    data = _as_float(audio)
    d = int(round(delay * sr))
    out = data.copy()
    if 0 < d < data.shape[-1]:
        out[..., d:] += decay * data[..., :-d]
    return out


@register_effect("telephone", low=300.0, high=3400.0, mulaw=True)
def telephone(
    audio: np.ndarray, sr: int, *, low: float = 300.0, high: float = 3400.0, mulaw: bool = True
) -> np.ndarray:
    """Narrow-band telephone channel: 8 kHz, ``low``-``high`` Hz band, G.711 mu-law.

    The audio goes down to 8 kHz, through a Butterworth band-pass, through 8-bit mu-law
    companding (``mulaw``) and back to ``sr``; the length is kept.
    """
    data = _as_float(audio)
    narrow = resample(data, orig_sr=sr, target_sr=8_000) if sr != 8_000 else data
    narrow = _butter(_butter(narrow, 8_000, low, "highpass", 4), 8_000, high, "lowpass", 8)
    if mulaw:
        mu = 255.0
        peak = float(np.max(np.abs(narrow))) or 1.0
        scale = max(peak, 1.0)  # mu-law codes [-1, 1]; louder input is clipped by the codec
        x = np.clip(narrow / scale, -1.0, 1.0)
        code = np.round(np.sign(x) * np.log1p(mu * np.abs(x)) / np.log1p(mu) * 127.0) / 127.0
        narrow = (np.sign(code) * np.expm1(np.abs(code) * np.log1p(mu)) / mu * scale).astype(
            np.float32
        )
    out = resample(narrow, orig_sr=8_000, target_sr=sr) if sr != 8_000 else narrow
    return _fit_length(out, data.shape[-1])


@register_effect("reverb", rt60=0.4, drr_db=3.0, seed=0)
def reverb(
    audio: np.ndarray, sr: int, *, rt60: float = 0.4, drr_db: float = 3.0, seed: int = 0
) -> np.ndarray:
    """Room reverberation: a synthetic impulse response with decay time ``rt60`` seconds.

    The response is a direct path plus seeded Gaussian noise decaying by 60 dB over
    ``rt60`` seconds, its tail ``drr_db`` below the direct path in energy (direct-to-
    reverberant ratio). The output keeps the input's length and RMS.
    """
    from scipy.signal import fftconvolve

    if not 0.05 <= rt60 <= 3.0:
        raise ConfigError(f"reverb rt60 must be in [0.05, 3] s, got {rt60}")
    data = _as_float(audio)
    n = int(round(rt60 * sr))
    t = np.arange(n) / sr
    tail = np.random.default_rng(seed).standard_normal(n) * np.exp(-6.908 * t / rt60)
    tail[0] = 0.0
    tail *= np.sqrt(10 ** (-drr_db / 10) / max(float(np.sum(tail**2)), 1e-12))
    response = tail
    response[0] = 1.0
    shape = (1,) * (data.ndim - 1) + (n,)
    wet = fftconvolve(data.astype(np.float64), response.reshape(shape), axes=-1)[
        ..., : data.shape[-1]
    ]
    rms_in, rms_out = np.sqrt(_power(data)), np.sqrt(float(np.mean(wet**2)))
    if rms_out > 0:
        wet *= rms_in / rms_out
    return wet.astype(np.float32)


# --------------------------------------------------------------------------- level


@register_effect("gain", factor=0.5, clip=True)
def gain(audio: np.ndarray, sr: int, *, factor: float = 0.5, clip: bool = True) -> np.ndarray:
    """Multiply by ``factor`` (x10 is a "boost", x0.1 a "duck"); clip to [-1, 1] if asked."""
    out = _as_float(audio) * np.float32(factor)
    return np.clip(out, -1.0, 1.0) if clip else out


@register_effect("quantize", bits=8)
def quantize(audio: np.ndarray, sr: int, *, bits: int = 8) -> np.ndarray:
    """Round to ``bits``-bit signed integer levels (with clipping), back to float."""
    levels = float(2 ** (int(bits) - 1))
    data = np.clip(_as_float(audio), -1.0, 1.0 - 1.0 / levels)
    return (np.round(data * levels) / levels).astype(np.float32)


# --------------------------------------------------------------------------- editing


@register_effect("crop", start=0.0, duration=None)
def crop(
    audio: np.ndarray, sr: int, *, start: float = 0.0, duration: float | None = None
) -> np.ndarray:
    """Keep ``duration`` seconds from ``start`` (to the end when ``duration`` is None)."""
    data = _as_float(audio)
    a = int(round(start * sr))
    b = data.shape[-1] if duration is None else a + int(round(duration * sr))
    out = data[..., a:b]
    if out.shape[-1] == 0:
        raise ConfigError(f"crop start={start} s duration={duration} leaves no audio")
    return np.ascontiguousarray(out)


@register_effect("cut", start=1.0, duration=0.5)
def cut(audio: np.ndarray, sr: int, *, start: float = 1.0, duration: float = 0.5) -> np.ndarray:
    """Remove ``duration`` seconds starting at ``start`` and join the two sides."""
    data = _as_float(audio)
    a = int(round(start * sr))
    b = a + int(round(duration * sr))
    return np.ascontiguousarray(np.concatenate([data[..., :a], data[..., b:]], axis=-1))


@register_effect("splice", at=1.0, other=None, other_seconds=2.0, level_db=-6.0, seed=0)
def splice(
    audio: np.ndarray,
    sr: int,
    *,
    at: float = 1.0,
    other: np.ndarray | None = None,
    other_seconds: float = 2.0,
    level_db: float = -6.0,
    seed: int = 0,
) -> np.ndarray:
    """Insert ``audio`` into other audio at ``at`` seconds (before/after it: ``other``).

    When ``other`` is None, ``other_seconds`` of seeded pink noise ``level_db`` below the
    audio's RMS is used. ``at`` is clipped to the length of ``other``.
    """
    data = _as_float(audio)
    if other is None:
        rms = np.sqrt(_power(data)) or 0.01
        shape = (*data.shape[:-1], int(round(other_seconds * sr)))
        other = (pink(shape, seed=seed) * rms * 10 ** (level_db / 20)).astype(np.float32)
    other = np.asarray(other, dtype=np.float32)
    if other.ndim != data.ndim:
        raise ConfigError(f"splice: other audio has shape {other.shape}, audio {data.shape}")
    a = min(int(round(at * sr)), other.shape[-1])
    return np.ascontiguousarray(np.concatenate([other[..., :a], data, other[..., a:]], axis=-1))


# --------------------------------------------------------------------------- API


def apply_effect(name: str, audio: np.ndarray, sr: int, **params: Any) -> np.ndarray:
    """Apply the registered effect ``name`` with ``params`` over its defaults.

    Args:
        name: A key of :data:`EFFECTS`.
        audio: float32 samples. Shape: ``(time,)`` or ``(channels, time)``.
        sr: Sample rate in Hz.
        **params: Effect parameters (see each effect's signature).

    Returns:
        float32 samples at ``sr``. Shape: ``(time',)`` or ``(channels, time')``.

    Raises:
        ConfigError: Unknown effect or parameter.
    """
    if name not in EFFECTS:
        raise ConfigError(f"unknown effect {name!r}; known: {', '.join(sorted(EFFECTS))}")
    spec = EFFECTS[name]
    unknown = set(params) - set(spec.defaults)
    if unknown:
        raise ConfigError(
            f"effect {name!r} has no parameter(s) {sorted(unknown)}; use {sorted(spec.defaults)}"
        )
    return spec.fn(audio, int(sr), **{**spec.defaults, **params})


@dataclass(frozen=True)
class Attack:
    """A named effect configuration, e.g. ``Attack("mp3_64k", "mp3", {"bitrate": 64})``."""

    label: str
    effect: str
    params: dict[str, Any] = field(default_factory=dict)

    def __call__(self, audio: np.ndarray, sr: int) -> np.ndarray:
        """Apply the attack."""
        return apply_effect(self.effect, audio, sr, **self.params)


def _attacks() -> list[Attack]:
    out = [Attack("none", "gain", {"factor": 1.0})]
    out += [Attack(f"mp3_{b}k", "mp3", {"bitrate": b}) for b in (128, 64, 32)]
    out += [Attack(f"aac_{b}k", "aac", {"bitrate": b}) for b in (64, 32)]
    out += [Attack(f"opus_{b}k", "opus", {"bitrate": b}) for b in (32, 16, 8)]
    out.append(Attack("resample_16k", "resample", {"via_sr": 16_000}))
    out += [
        Attack(f"white_{s}db", "white_noise", {"snr_db": s, "seed": 1})
        for s in (40, 30, 20, 15, 10, 5)
    ]
    out.append(Attack("pink_20db", "pink_noise", {"snr_db": 20, "seed": 2}))
    out.append(Attack("lowpass_4k", "lowpass", {"cutoff": 4000}))
    out += [Attack(f"highpass_{c}", "highpass", {"cutoff": c}) for c in (500, 1500)]
    out += [
        Attack("gain_0.5", "gain", {"factor": 0.5}),
        Attack("gain_1.2", "gain", {"factor": 1.2}),
        Attack("boost_10", "gain", {"factor": 10.0}),
        Attack("duck_0.1", "gain", {"factor": 0.1}),
        Attack("echo", "echo", {"delay": 0.1, "decay": 0.3}),
        Attack("smooth", "smooth", {"width": 3}),
        Attack("quant_8bit", "quantize", {"bits": 8}),
        Attack("crop", "crop", {"start": 0.3, "duration": None}),
        Attack("cut", "cut", {"start": 0.9, "duration": 0.4}),
        Attack("splice", "splice", {"at": 1.0, "other_seconds": 3.0, "seed": 3}),
    ]
    for r in (0.95, 0.97, 1.03, 1.05):
        out.append(Attack(f"tempo_{r}", "tempo", {"rate": r}))
    for r in (0.95, 0.97, 1.03, 1.05):
        out.append(Attack(f"speed_{r}", "speed", {"rate": r}))
    return out


#: The standard attack configurations (labels are unique) for benchmarks and augmentation.
STANDARD_ATTACKS: list[Attack] = _attacks()


def get_attack(label: str) -> Attack:
    """The standard attack with this label.

    Raises:
        ConfigError: No such label.
    """
    for attack in STANDARD_ATTACKS:
        if attack.label == label:
            return attack
    raise ConfigError(
        f"unknown attack {label!r}; known: {', '.join(a.label for a in STANDARD_ATTACKS)}"
    )
