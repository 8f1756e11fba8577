"""Embed a keyed watermark with a 32-bit payload into audio of any rate and channel count.

Each STFT coefficient of the 16 kHz mono mix inside the watermark bands is multiplied by
``1 + strength * g_b * c`` where ``c`` is the +-1 chip of its (band, frame) cell and
``g_b`` a per-band gain rising from 0.25 to 4 across 234 Hz-3.75 kHz (see
:mod:`voxlab.watermark.layout`). The change is therefore proportional to the signal's own
spectrum, frame by frame: it hides under the masker and vanishes in pauses. A second pass
then scales each unit's chip groups against the host's own interference (informed
embedding, see :func:`_informed_gains`). The difference signal is synthesised at 16 kHz,
resampled to the input rate and added to every channel, so the rest of the signal (and
everything above 3.75 kHz) is untouched.
"""

from __future__ import annotations

import numpy as np

from voxlab.audio.resample import resample
from voxlab.errors import AudioError, ConfigError
from voxlab.watermark.coding import encode_payload
from voxlab.watermark.keys import WatermarkKey, as_key
from voxlab.watermark.layout import (
    CHIP_FRAMES,
    HOP,
    N_FFT,
    SAMPLE_RATE,
    SYNC,
    UNIT_FRAMES,
    VERIFY,
    Pattern,
    band_gains,
    bin_bands,
    make_pattern,
)

#: Range of the informed scaling ``beta`` for the sync and verify groups, and for the
#: groups of one coded payload bit.
BETA_DETECT = (-0.8, 1.5)
BETA_PAYLOAD = (-0.8, 1.0)

#: Default relative amplitude of the mark (mean PESQ-WB about 4.42 over 12 espeak voices).
DEFAULT_STRENGTH = 0.05


def _window() -> np.ndarray:
    return np.sqrt(np.hanning(N_FFT + 1)[:-1]).astype(np.float32)


def _synth(spec: np.ndarray, amp: np.ndarray, n: int) -> np.ndarray:
    """Overlap-add the change ``spec * amp`` (per frame and band) back to samples."""
    window = _window()
    bands = bin_bands()
    inside = bands >= 0
    mult = np.zeros(spec.shape, np.float32)
    mult[:, inside] = amp[:, bands[inside]]
    diff = np.fft.irfft(spec * mult, n=N_FFT, axis=1).astype(np.float32) * window
    out = np.zeros((spec.shape[0] + 1) * HOP, np.float32)
    for k in range(2):  # overlap-add in two strided passes (frames k, k+2, ... don't overlap)
        chunk = diff[k::2].reshape(-1)
        start = k * HOP
        out[start : start + chunk.size] += chunk[: out.size - start]
    return out[HOP : HOP + n]


def _informed_gains(
    x: np.ndarray, first: np.ndarray, pattern: Pattern, signs: np.ndarray
) -> np.ndarray:
    """Per unit and chip group, how much to scale the mark so the host stops interfering.

    The detector correlates each group of chips (the sync chips, the verify chips, the
    chips of one coded payload bit) of a unit with their signs. The embedder knows the
    host's own contribution ``P`` to that correlation and the mark's ``W`` (measured with
    the detector's features on the host and on a first marked version), and scales the
    group by ``1 + beta`` with ``beta = -P / W`` (clipped): groups the host works against
    are boosted, groups it already helps are toned down (informed embedding, as in
    improved spread spectrum).

    Returns:
        ``1 + beta`` per (frame, band). Shape: like ``signs``.
    """
    from voxlab.watermark.detect import A_UNIT, _features, _power

    def feats(sig: np.ndarray) -> np.ndarray:
        xp = np.concatenate([np.zeros(N_FFT, np.float32), sig, np.zeros(N_FFT, np.float32)])
        return _features(_power(xp, 1.0)[0], 1.0)

    n_frames = signs.shape[0]
    rows = A_UNIT + 2 + 2 * np.arange(n_frames)
    fx, fy = feats(x), feats(first)
    valid = rows < fx.shape[0]
    rows = np.where(valid, rows, 0)
    host = np.where(valid[:, None], fx[rows], 0.0) * signs
    mark = np.where(valid[:, None], fy[rows] - fx[rows], 0.0) * signs
    groups = np.where(pattern.role == SYNC, 0, np.where(pattern.role == VERIFY, 1, 2 + pattern.bit))
    n_groups = int(groups.max()) + 1
    cols = np.arange(n_frames) % UNIT_FRAMES
    unit = np.arange(n_frames) // UNIT_FRAMES
    index = (unit[:, None] * n_groups + groups.T[cols]).reshape(-1)
    size = int(unit.max() + 1) * n_groups
    p = np.bincount(index, weights=host.reshape(-1), minlength=size)
    w = np.bincount(index, weights=mark.reshape(-1), minlength=size)
    beta = np.where(w > 1e-9, -p / np.maximum(w, 1e-9), 0.0)
    lo = np.full(n_groups, BETA_PAYLOAD[0])
    hi = np.full(n_groups, BETA_PAYLOAD[1])
    lo[:2], hi[:2] = BETA_DETECT
    beta = np.clip(beta.reshape(-1, n_groups), lo, hi).reshape(-1)
    return (1.0 + beta[index]).reshape(signs.shape).astype(np.float32)


def watermark_signal(
    x: np.ndarray, pattern: Pattern, coded: np.ndarray, strength: float, *, informed: bool = True
) -> np.ndarray:
    """The additive watermark for a 16 kHz mono signal.

    Args:
        x: float32 samples at 16 kHz. Shape: ``(time,)``.
        pattern: Keyed unit pattern.
        coded: Coded payload bits. Shape: ``(162,)``.
        strength: Relative amplitude of the per-coefficient change.
        informed: Scale each unit's chip groups against the host's interference
            (see :func:`_informed_gains`).

    Returns:
        The difference to add to ``x``. Shape: ``(time,)`` float32.
    """
    n = x.shape[0]
    n_frames = (n + HOP - 1) // HOP + 1
    padded = np.zeros((n_frames + 1) * HOP, np.float32)
    padded[HOP : HOP + n] = x
    frames = np.lib.stride_tricks.sliding_window_view(padded, N_FFT)[::HOP][:n_frames] * _window()
    spec = np.fft.rfft(frames, axis=1)
    chips = pattern.chips(coded)  # (bands, UNIT_FRAMES)
    cols = (np.arange(n_frames) % UNIT_FRAMES) // CHIP_FRAMES
    signs = chips[:, cols].T  # (frames, bands)
    amp = strength * band_gains()[None, :] * signs
    out = _synth(spec, amp, n)
    if informed and n >= N_FFT:
        out = _synth(spec, amp * _informed_gains(x, x + out, pattern, signs), n)
    return out


def embed(
    audio: np.ndarray,
    sr: int,
    key: WatermarkKey | str | bytes,
    payload: int,
    *,
    strength: float = DEFAULT_STRENGTH,
) -> np.ndarray:
    """Watermark ``audio`` with ``payload`` under ``key``.

    Args:
        audio: float32 samples in [-1, 1], 8-48 kHz. Shape: ``(time,)`` or ``(channels, time)``.
        sr: Sample rate in Hz.
        key: Secret key (object, 16 bytes, 32 hex digits or key file path).
        payload: 32-bit unsigned integer to carry.
        strength: Relative amplitude of the mark; higher is more robust and more audible
            (the default 0.05 gives a mean PESQ-WB of about 4.42 over 12 espeak voices).

    Returns:
        Watermarked float32 samples. Shape: like ``audio``.

    Raises:
        AudioError: Empty or non-finite audio, or a rate below 8 kHz.
        ConfigError: Payload outside 32 bits or strength outside (0, 1).
    """
    data = np.asarray(audio, dtype=np.float32)
    if data.ndim not in (1, 2) or data.shape[-1] == 0:
        raise AudioError(
            f"cannot watermark audio of shape {data.shape}; need (time,) or (channels, time)"
        )
    if not np.isfinite(data).all():
        raise AudioError("cannot watermark audio with NaN or Inf samples")
    if sr < 8000:
        raise AudioError(f"sample rate {sr} Hz is too low to watermark; need >= 8000 Hz")
    if not 0 <= int(payload) < 2**32:
        raise ConfigError(f"payload {payload} does not fit in 32 bits")
    if not 0.0 < strength < 1.0:
        raise ConfigError(f"strength must be in (0, 1), got {strength}")
    k = as_key(key)
    pattern = make_pattern(k)
    coded = encode_payload(int(payload), pattern.mask)
    mix = data if data.ndim == 1 else data.mean(axis=0)
    x16 = mix if sr == SAMPLE_RATE else resample(mix, orig_sr=sr, target_sr=SAMPLE_RATE)
    wm = watermark_signal(x16, pattern, coded, float(strength))
    if sr != SAMPLE_RATE:
        wm = resample(wm, orig_sr=SAMPLE_RATE, target_sr=sr)
        if wm.shape[0] < mix.shape[0]:
            wm = np.pad(wm, (0, mix.shape[0] - wm.shape[0]))
        wm = wm[: mix.shape[0]]
    out = data + wm
    if np.abs(data).max() <= 1.0:
        out = np.clip(out, -1.0, 1.0)
    return out.astype(np.float32)
