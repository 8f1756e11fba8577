"""Embed a keyed watermark with a 32- or 128-bit payload into audio of any rate and channel count.

The mark lives in the signs of cell residuals (see :mod:`voxlab.watermark.cells`): each
cell of the 16 kHz mono mix in 234 Hz-3.75 kHz should be above its band's local level
where its keyed chip is +1 and below where it is -1. Knowing the host, the embedder
changes only what needs changing (informed coding):

- a cell already on the right side by the margin ``mu`` is left alone (but for a small
  ``BASE`` nudge that every cell gets);
- a cell on the wrong side, or too close, is pushed to ``+-mu`` when that takes at most
  ``reach`` (natural log of power);
- a cell further away is left alone: pushing it would be audible, and the other cells
  carry the mark.

``mu`` and ``reach`` are set per cell by a perceptual masking model
(:mod:`voxlab.watermark.masking`): a cell's margin is the change of log power whose change
energy its masking threshold allows, so loud cells (formants, partials), which an attack
changes little relative to their level, get small margins and the masked cells beside
them larger ones; every push then costs about the same energy, and the mark follows the
host's own spectrum instead of a fixed strength (``masking=False`` keeps the per-band
strength of earlier versions for comparisons). Both scale with ``strength``.
The change is a gain per STFT cell (512-point sqrt-Hann frames, hop 256), so it follows
the signal's own spectrum and vanishes in pauses. Since neighbouring frames overlap, a
few rounds of measure-and-correct bring the cells to their targets. The difference
signal is synthesised at 16 kHz, resampled to the input rate and added to every channel,
so the rest of the signal (and everything above 3.75 kHz) is untouched.
"""

from __future__ import annotations

import numpy as np

from voxlab.audio.resample import resample
from voxlab.errors import AudioError, ConfigError
from voxlab.threads import on_one_blas_thread
from voxlab.watermark.cells import chip_residuals
from voxlab.watermark.coding import FORMATS, PAYLOAD_BITS, encode_payload
from voxlab.watermark.keys import WatermarkKey, as_key
from voxlab.watermark.layout import (
    CHIP_FRAMES,
    HOP,
    N_FFT,
    SAMPLE_RATE,
    UNIT_FRAMES,
    Pattern,
    band_gains,
    bin_bands,
    make_pattern,
    n_bands,
)
from voxlab.watermark.masking import masked_change, masking_threshold

#: Margin and reach (natural log of power) at a cell of gain 1, at strength 1; a small
#: nudge every cell gets; the largest change of one cell; rounds of measure-and-correct.
MARGIN, REACH, BASE, MAX_PUSH = 0.3, 0.7, 0.03, 1.0
ROUNDS = 1
#: Range of the per-cell gain the masking model gives (1 = the margin ``MARGIN``). Larger
#: gains in the valleys buy robustness for little energy but cost PESQ (at 12: -0.3).
GAIN_MIN, GAIN_MAX = 0.1, 4.0

#: Default strength (SNR ~20 dB on speech and music-like hosts, see
#: ``benchmarks/watermark.py`` for the SNR / detection-rate curve over strengths).
DEFAULT_STRENGTH = 1.0
MAX_STRENGTH = 3.0


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


def cell_gains(spec: np.ndarray, strength: float, *, masking: bool = True) -> np.ndarray:
    """Per-cell strength: margin, reach and nudge of a cell are these times the constants.

    With ``masking``, a cell's gain is the change of log power its masking threshold
    allows (:func:`voxlab.watermark.masking.masked_change`) in units of ``MARGIN``, clipped
    to ``[GAIN_MIN, GAIN_MAX]``: loud cells get small margins (an attack changes them
    little, relative to their level) and cells in the valleys beside them large ones,
    so every push costs about the same energy. Without it, the fixed per-band gains.

    Args:
        spec: STFT of the host (embedding frames). Shape: ``(frames, N_FFT // 2 + 1)``.
        strength: Overall scale.
        masking: Use the masking model.

    Returns:
        Shape: ``(frames, bands)`` float32.
    """
    if not masking:
        return np.broadcast_to(band_gains()[None, :] * strength, (spec.shape[0], n_bands()))
    power = (spec.real**2 + spec.imag**2).astype(np.float32)
    energy = _band_energy(power)
    change = masked_change(energy, masking_threshold(power))
    return (strength * np.clip(change / MARGIN, GAIN_MIN, GAIN_MAX)).astype(np.float32)


def _push(
    r: np.ndarray, chips: np.ndarray, gains: np.ndarray, max_push: float
) -> tuple[np.ndarray, np.ndarray]:
    """Which cells to push and by how much (natural log of power).

    Args:
        r: Host residuals of the embedding frames. Shape: ``(frames, bands)``.
        chips: The +-1 chip of every cell. Shape: like ``r``.
        gains: Per-cell gains (:func:`cell_gains`). Shape: like ``r``.
        max_push: Largest change of one cell.

    Returns:
        ``(delta, pushed)``: the change of each cell's log power and which cells are
        pushed to the margin. Shape: like ``r``.
    """
    margin, reach = MARGIN * gains, REACH * gains
    side = chips * r
    pushed = (side < margin) & (side > margin - reach)
    delta = np.where(pushed, chips * margin - r, 0.0) + chips * BASE * gains
    return np.clip(delta, -MAX_PUSH, MAX_PUSH), pushed


def _band_energy(power: np.ndarray) -> np.ndarray:
    """Energy of every band in every STFT frame.

    Shape: ``(frames, N_FFT // 2 + 1)`` -> ``(frames, bands)``.
    """
    bands = bin_bands()
    onehot = (bands[:, None] == np.arange(n_bands())[None, :]).astype(np.float32)
    return power @ onehot


@on_one_blas_thread
def watermark_signal(
    x: np.ndarray,
    pattern: Pattern,
    coded: np.ndarray,
    strength: float = DEFAULT_STRENGTH,
    *,
    masking: bool = True,
) -> np.ndarray:
    """The additive watermark for a 16 kHz mono signal.

    Args:
        x: float32 samples at 16 kHz. Shape: ``(time,)``.
        pattern: Keyed unit pattern.
        coded: Coded payload bits. Shape: ``(162,)`` (``(450,)`` for 128 bits).
        strength: Scale of the margins and reach (1 = default).
        masking: Per-cell margins from the masking model (:func:`cell_gains`); False
            gives the fixed-strength mark of earlier versions (for comparisons).

    Returns:
        The difference to add to ``x``. Shape: ``(time,)`` float32.
    """
    n = x.shape[0]
    n_frames = (n + HOP - 1) // HOP + 1
    padded = np.zeros((n_frames + 1) * HOP, np.float32)
    padded[HOP : HOP + n] = x
    frames = np.lib.stride_tricks.sliding_window_view(padded, N_FFT)[::HOP][:n_frames] * _window()
    spec = np.fft.rfft(frames, axis=1)
    cols = (np.arange(n_frames) % UNIT_FRAMES) // CHIP_FRAMES
    chips = pattern.chips(coded)[:, cols].T  # (frames, bands)
    gains = cell_gains(spec, strength, masking=masking)
    delta, pushed = _push(chip_residuals(x, n_frames), chips, gains, MAX_PUSH)
    margin = MARGIN * gains
    for round_ in range(ROUNDS + 1):
        out = _synth(spec, np.expm1(delta / 2).astype(np.float32), n)
        if round_ == ROUNDS:
            break
        # overlapping frames and the local mean blur each push: measure, top up the
        # cells that fell short of their margin
        r = chip_residuals(x + out, n_frames)
        short = pushed & (chips * r < margin)
        delta = np.clip(np.where(short, delta + chips * margin - r, delta), -MAX_PUSH, MAX_PUSH)
    return out


def embed(
    audio: np.ndarray,
    sr: int,
    key: WatermarkKey | str | bytes,
    payload: int,
    *,
    strength: float = DEFAULT_STRENGTH,
    bits: int = PAYLOAD_BITS,
    masking: bool = True,
) -> np.ndarray:
    """Watermark ``audio`` with ``payload`` under ``key``.

    Args:
        audio: float32 samples in [-1, 1], 8-48 kHz. Shape: ``(time,)`` or ``(channels, time)``.
        sr: Sample rate in Hz.
        key: Secret key (object, 16 bytes, 32 hex digits or key file path).
        payload: Unsigned integer to carry (``bits`` bits).
        strength: Scale of the margins the cells are pushed to; higher is more robust and
            more audible (the default 1: SNR ~20 dB, PESQ-WB ~4.3, STOI >= 0.98).
        bits: Payload format: 32 (default) or 128. A 128-bit payload is spread over 2.8x
            as many coded bits, so it needs about three times as much audio to decode
            (detection itself is unchanged).
        masking: Per-cell margins from the masking model (False: the fixed-strength mark
            of earlier versions, kept for comparisons).

    Returns:
        Watermarked float32 samples. Shape: like ``audio``.

    Raises:
        AudioError: Empty or non-finite audio, or a rate below 8 kHz.
        ConfigError: Payload outside ``bits`` bits, an unknown format, or strength outside
            (0, 3].
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
    if bits not in FORMATS:
        raise ConfigError(f"payload format must be 32 or 128 bits, got {bits}")
    if not 0 <= int(payload) < 2**bits:
        raise ConfigError(
            f"payload {payload} does not fit in {bits} bits"
            + (" (use bits=128 for longer identifiers)" if bits == PAYLOAD_BITS else "")
        )
    if not 0.0 < strength <= MAX_STRENGTH:
        raise ConfigError(f"strength must be in (0, {MAX_STRENGTH:g}], got {strength}")
    k = as_key(key)
    pattern = make_pattern(k, bits)
    coded = encode_payload(int(payload), pattern.mask)
    mix = data if data.ndim == 1 else data.mean(axis=0)
    x16 = mix if sr == SAMPLE_RATE else resample(mix, orig_sr=sr, target_sr=SAMPLE_RATE)
    wm = watermark_signal(x16, pattern, coded, float(strength), masking=masking)
    if sr != SAMPLE_RATE:
        wm = resample(wm, orig_sr=SAMPLE_RATE, target_sr=sr)
        if wm.shape[0] < mix.shape[0]:
            wm = np.pad(wm, (0, mix.shape[0] - wm.shape[0]))
        wm = wm[: mix.shape[0]]
    out = data + wm
    if np.abs(data).max() <= 1.0:
        out = np.clip(out, -1.0, 1.0)
    return out.astype(np.float32)
