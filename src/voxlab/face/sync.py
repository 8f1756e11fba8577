"""Audio-visual synchrony: does the mouth open when the voice is loud?

Per video frame the mouth opening is the inner-lip gap divided by the nose length (scale
free); per frame the speech envelope is the speech-band RMS in dB. Their normalised
cross-correlation over lags peaks at the audio/video offset: a dubbed or badly generated
talking face peaks far from zero (flagged when ``|lag| >= 0.3 s``) or nowhere (low peak
correlation).

Short clips: the lags searched keep at least half the clip overlapping (a 1-s clip is
searched over +-0.5 s, not +-1 s), and the best lag is the one whose correlation is most
significant (Fisher z times the square root of the overlap), not the largest raw
correlation, which a few overlapping frames reach by chance. Clips shorter than
``min_seconds`` (2 s) get the verdict "too short" (``flagged`` None) instead of a guess:
on voxlab's talking faces of held-out faces, aligned 1-s clips were flagged 89 % of the
time by the raw-correlation search and 28 % by the significance search, 2-s clips 27 %
and 5 % (``python benchmarks/face_detect.py --section sync``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Offsets at or beyond this many seconds are flagged as out of sync.
FLAG_LAG_S = 0.3
#: Clips shorter than this many seconds get no verdict (see the module docstring).
MIN_JUDGE_S = 2.0
#: The lags searched keep at least this fraction of the clip overlapping.
MIN_OVERLAP = 0.5


def mouth_opening(points: np.ndarray) -> float:
    """Inner-lip gap over nose length for one frame's 68 landmarks (0 = closed)."""
    gap = np.linalg.norm(points[[61, 62, 63]] - points[[67, 66, 65]], axis=1).mean()
    nose = np.linalg.norm(points[33] - points[27]) + 1e-6
    return float(gap / nose)


def speech_envelope(audio: np.ndarray, sample_rate: int, n_frames: int, fps: float) -> np.ndarray:
    """Speech-band (300-3000 Hz) RMS in dB at the video frame rate. Shape: ``(n_frames,)``."""
    from scipy.signal import butter, sosfiltfilt

    sos = butter(4, [300, min(3000, 0.45 * sample_rate)], btype="band", fs=sample_rate,
                 output="sos")  # fmt: skip
    band = sosfiltfilt(sos, np.asarray(audio, dtype=np.float64))
    hop = sample_rate / fps
    out = np.full(n_frames, -120.0)
    for i in range(n_frames):
        seg = band[int(i * hop) : int((i + 1) * hop)]
        if seg.size:
            out[i] = 20 * np.log10(np.sqrt(np.mean(seg**2)) + 1e-6)
    return out


@dataclass(frozen=True)
class SyncResult:
    """Result of :func:`synchrony`.

    Attributes:
        lag_s: Offset with the most significant correlation (positive = audio late vs
            the mouth).
        peak: Correlation at that lag.
        at_zero: Correlation at lag 0.
        lags_s: The lags tried. Shape: ``(lags,)``.
        curve: Correlation per lag. Shape: ``(lags,)``.
        flagged: ``|lag_s| >= 0.3 s`` (less one frame of resolution) or ``peak <
            min_peak``; None when the clip is too short to judge.
        score: Out-of-sync score: significance (Fisher z x sqrt(overlap - 3)) of the best
            lag minus that of lag 0; 0 when lag 0 is best, higher = more out of sync.
        verdict: ``"in sync"``, ``"out of sync"`` or ``"too short"``.
    """

    lag_s: float
    peak: float
    at_zero: float
    lags_s: np.ndarray
    curve: np.ndarray
    flagged: bool | None
    score: float = 0.0
    verdict: str = "in sync"

    def to_dict(self) -> dict:
        """JSON-ready summary."""
        return {"lag_s": round(self.lag_s, 3), "peak": round(self.peak, 4),
                "at_zero": round(self.at_zero, 4), "flagged": self.flagged,
                "score": round(self.score, 3), "verdict": self.verdict}  # fmt: skip


def _ncc(a: np.ndarray, b: np.ndarray) -> float:
    if a.size < 4:
        return 0.0
    a = a - a.mean()
    b = b - b.mean()
    den = np.sqrt((a**2).sum() * (b**2).sum())
    return float((a * b).sum() / den) if den > 1e-12 else 0.0


def _significance(r: float, overlap: int) -> float:
    """Fisher z of a correlation times sqrt(overlap - 3): ~N(0, 1) without a relation."""
    return float(np.arctanh(np.clip(r, -0.999, 0.999)) * np.sqrt(max(overlap - 3, 1)))


def synchrony(
    opening: np.ndarray,
    envelope: np.ndarray,
    fps: float,
    *,
    max_lag: float = 1.0,
    min_peak: float = 0.2,
    min_seconds: float = MIN_JUDGE_S,
) -> SyncResult:
    """Correlate mouth opening with the speech envelope over lags.

    Args:
        opening: Mouth opening per frame. Shape: ``(frames,)``.
        envelope: Speech envelope per frame. Shape: ``(frames,)``.
        fps: Frame rate.
        max_lag: Largest offset tried, seconds (less on short clips: at least half the
            clip stays overlapping).
        min_peak: Peak correlation below this is flagged (no visible speech in the mouth).
        min_seconds: Shorter clips get ``flagged=None``, verdict ``"too short"``.
    """
    o = np.asarray(opening, dtype=np.float64)
    e = np.asarray(envelope, dtype=np.float64)
    n = min(len(o), len(e))
    o, e = o[:n], e[:n]
    k = max(0, min(int(round(max_lag * fps)), int(n * (1.0 - MIN_OVERLAP))))
    lags = np.arange(-k, k + 1)
    curve = np.zeros(len(lags))
    signif = np.zeros(len(lags))
    for j, lag in enumerate(lags):
        # positive lag: the envelope at t + lag matches the mouth at t (audio late)
        if lag >= 0:
            curve[j] = _ncc(o[: n - lag], e[lag:])
        else:
            curve[j] = _ncc(o[-lag:], e[: n + lag])
        signif[j] = _significance(curve[j], n - abs(int(lag)))
    best = int(np.argmax(signif))
    lag_s = float(lags[best] / fps)
    peak = float(curve[best])
    score = float(signif[best] - signif[k])
    if n < min_seconds * fps - 1e-9:
        flagged, verdict = None, "too short"
    else:
        # lags are whole frames: a 0.3-s shift can read one frame short (0.28 s at 25 fps)
        flagged = abs(lag_s) >= FLAG_LAG_S - 1.0 / fps + 1e-9 or peak < min_peak
        verdict = "out of sync" if flagged else "in sync"
    return SyncResult(lag_s=lag_s, peak=peak, at_zero=float(curve[k]), lags_s=lags / fps,
                      curve=curve, flagged=flagged, score=score, verdict=verdict)  # fmt: skip
