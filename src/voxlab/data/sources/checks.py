"""Is it speech? Checks that keep silence, beeps, clipped and duplicate files out.

Also the silence trimming shared by the source readers and the voxlab-wild builder.

All functions work on float32 mono samples of shape ``(time,)`` and are deterministic.
Levels are frame RMS in dB relative to full scale (25 ms frames, 10 ms hop).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

FRAME_S = 0.025
HOP_S = 0.010
#: Frames quieter than the loudest frame by more than this are silence.
SILENCE_BELOW_PEAK_DB = 40.0
#: Frames below this absolute level are silence whatever the loudest frame.
SILENCE_FLOOR_DB = -60.0


@dataclass(frozen=True)
class SpeechCheck:
    """The verdict on one recording.

    Attributes:
        ok: Whether the recording is kept.
        reason: Why it is skipped (``silence``, ``tone``, ``clipped``, ``too_short``), or
            ``""`` when kept.
        active_s: Seconds of non-silent frames.
        clipped_fraction: Fraction of samples at full scale.
        tone_stability: Peak stability of :func:`tone_measures` (near 1 for a beep).
        pitch_drift: Peak drift in cents per frame (near 0 for a beep).
    """

    ok: bool
    reason: str
    active_s: float
    clipped_fraction: float
    tone_stability: float
    pitch_drift: float


def frame_db(audio: np.ndarray, sr: int) -> np.ndarray:
    """Frame RMS levels in dBFS (25 ms frames, 10 ms hop).

    Shape:
        audio: ``(time,)``; returns ``(frames,)`` (at least one frame).
    """
    x = np.asarray(audio, dtype=np.float64).reshape(-1)
    size, hop = max(1, round(FRAME_S * sr)), max(1, round(HOP_S * sr))
    if x.size < size:
        x = np.pad(x, (0, size - x.size))
    n = 1 + (x.size - size) // hop
    idx = np.arange(size)[None, :] + hop * np.arange(n)[:, None]
    power = np.mean(np.square(x[idx]), axis=1)
    return 10.0 * np.log10(power + 1e-12)


def active_frames(audio: np.ndarray, sr: int) -> np.ndarray:
    """Boolean mask of the frames that are not silence. Shape: ``(frames,)``."""
    db = frame_db(audio, sr)
    return (db > db.max() - SILENCE_BELOW_PEAK_DB) & (db > SILENCE_FLOOR_DB)


def check_speech(
    audio: np.ndarray,
    sr: int,
    *,
    min_active_s: float = 0.1,
    max_clipped: float = 0.001,
    min_tone_stability: float = 0.9,
    max_tone_drift: float = 3.0,
) -> SpeechCheck:
    """Whether a recording looks like usable speech.

    Args:
        audio: Samples at their native rate (clipping is only visible there).
            Shape: ``(time,)``.
        sr: Sample rate in Hz.
        min_active_s: Fewer non-silent seconds than this: ``silence`` (no frame above the
            floor) or ``too_short``.
        max_clipped: More samples than this fraction at |x| >= 0.999: ``clipped``.
        min_tone_stability: With ``max_tone_drift``, the bounds of :func:`tone_measures`
            under which a recording is a ``tone`` (beeps, two-tone signals, DTMF).
        max_tone_drift: Peak drift (cents per frame) below which a stable peak is a tone.

    Returns:
        The verdict with the measured values.
    """
    x = np.asarray(audio, dtype=np.float64).reshape(-1)
    db = frame_db(x, sr)
    active = active_frames(x, sr)
    active_s = float(active.sum()) * HOP_S
    clipped = float(np.mean(np.abs(x) >= 0.999)) if x.size else 0.0
    stability, drift = tone_measures(x, sr)
    reason = ""
    if db.max() <= SILENCE_FLOOR_DB or x.size == 0:
        reason = "silence"
    elif active_s < min_active_s:
        reason = "too_short"
    elif clipped > max_clipped:
        reason = "clipped"
    elif stability >= min_tone_stability and drift <= max_tone_drift:
        reason = "tone"
    return SpeechCheck(not reason, reason, active_s, clipped, stability, drift)


def tone_measures(audio: np.ndarray, sr: int) -> tuple[float, float]:
    """How much a recording looks like a beep: ``(peak stability, peak drift in cents)``.

    Over the active 64 ms frames, the strongest spectral peak of a beep, a two-tone
    signal or DTMF stays on one or two frequencies (stability near 1) and its
    interpolated frequency hardly moves between frames (drift of a few cents at most);
    the strongest harmonic of a voice follows the intonation (tens of cents per frame).

    Returns:
        ``(stability, drift)``: the fraction of frames whose peak lies within one bin of
        the two most common peak bins, and the median frame-to-frame change of the peak
        frequency in cents (``inf`` with fewer than 3 active frames).
    """
    x = np.asarray(audio, dtype=np.float64).reshape(-1)
    n_fft = 1 << int(np.ceil(np.log2(max(64, round(0.064 * sr)))))
    hop = max(1, round(HOP_S * sr))
    starts = hop * np.flatnonzero(active_frames(x, sr))
    starts = starts[starts + n_fft <= x.size]
    if starts.size < 3:
        return 0.0, float("inf")
    frames = x[starts[:, None] + np.arange(n_fft)[None, :]] * np.hanning(n_fft)
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    power[:, 0] = power[:, -1] = 0.0
    peak = np.clip(power.argmax(axis=1), 1, power.shape[1] - 2)
    counts = np.convolve(np.bincount(peak, minlength=power.shape[1]), np.ones(3), "same")
    first = int(counts.argmax())
    rest = counts.copy()
    rest[max(0, first - 2) : first + 3] = 0
    stability = float(counts[first] + rest.max()) / peak.size
    logs = np.log(power + 1e-30)
    rows = np.arange(peak.size)
    a, b, c = logs[rows, peak - 1], logs[rows, peak], logs[rows, peak + 1]
    offset = 0.5 * (a - c) / np.minimum(a - 2 * b + c, -1e-12)
    hz = np.maximum((peak + offset) * sr / n_fft, 1.0)
    drift = float(np.median(np.abs(np.diff(1200.0 * np.log2(hz)))))
    return stability, drift


def trim_silence(
    audio: np.ndarray,
    sr: int,
    *,
    margin_s: float = 0.1,
    max_pause_s: float = 0.6,
) -> np.ndarray:
    """Cuts leading/trailing silence to ``margin_s`` and inner pauses to ``max_pause_s``.

    Args:
        audio: Samples. Shape: ``(time,)``.
        sr: Sample rate in Hz.
        margin_s: Silence kept before the first and after the last active frame.
        max_pause_s: Inner silences longer than this are shortened to it (the middle of
            the pause is removed, so both edges keep their natural decay).

    Returns:
        The trimmed samples (the input when nothing is active). Shape: ``(time',)``.
    """
    x = np.asarray(audio, dtype=np.float32).reshape(-1)
    active = active_frames(x, sr)
    if not active.any():
        return x
    hop, size = round(HOP_S * sr), round(FRAME_S * sr)
    idx = np.flatnonzero(active)
    start = max(0, idx[0] * hop - round(margin_s * sr))
    end = min(x.size, idx[-1] * hop + size + round(margin_s * sr))
    keep = np.zeros(x.size, dtype=bool)
    keep[start:end] = True
    gaps = np.flatnonzero(np.diff(idx) > 1)
    max_pause = round(max_pause_s * sr)
    for g in gaps:
        gap_start, gap_end = idx[g] * hop + size, idx[g + 1] * hop
        length = gap_end - gap_start
        if length > max_pause:
            cut_start = gap_start + max_pause // 2
            keep[cut_start : cut_start + length - max_pause] = False
    return x[keep]


def content_hash(audio: np.ndarray) -> str:
    """SHA-256 of the samples quantised to 16 bits (same sound -> same hash, any container)."""
    x = np.asarray(audio, dtype=np.float64).reshape(-1)
    pcm = np.clip(np.round(x * 32768.0), -32768, 32767).astype("<i2")
    return hashlib.sha256(pcm.tobytes()).hexdigest()
