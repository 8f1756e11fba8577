"""Comparisons with a reference recording: MCD, F0 RMSE, V/UV error, speaker similarity.

Both signals are resampled to 16 kHz and analysed with WORLD (pyworld) at a 5 ms frame
shift: F0 by DIO + StoneMask (or Harvest), the CheapTrick envelope coded as a 24th-order
mel-cepstrum (``alpha`` 0.41, as ``pysptk.sp2mc``; :mod:`voxlab.generation.world`). The
frames are aligned by dynamic time warping on the mel-cepstra without ``c0`` (so loudness
does not steer the path), and on the aligned frame pairs:

- **MCD** (dB) ``= 10 / ln 10 * sqrt(2 * sum_{d=1}^{24} (c_d - c'_d)^2)``, ``c0`` excluded,
  averaged over the aligned pairs;
- **F0 RMSE** in cents, ``1200 * log2(f / f_ref)``, over pairs voiced in both (also given
  in Hz);
- **V/UV error**: the fraction of pairs whose voicing decisions disagree.

Speaker similarity is the cosine of voxlab's GE2E speaker embeddings
(:func:`voxlab.asv.embed_ge2e`; weights from the ``resemblyzer`` package, Apache-2.0).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from voxlab.errors import ConfigError, MetricError

SAMPLE_RATE = 16_000
FRAME_PERIOD_MS = 5.0
MCEP_ORDER = 24
#: Largest DTW cost matrix (frames x frames; 8 bytes each, a few copies): ~60 s x 60 s.
MAX_DTW_CELLS = 12_000 * 12_000


@dataclass(frozen=True)
class ReferenceScores:
    """Distances between an utterance and its reference recording.

    Attributes:
        mcd_db: Mel-cepstral distortion in dB (``c0`` excluded).
        f0_rmse_cents: F0 RMSE in cents over frames voiced in both (None if none are).
        f0_rmse_hz: The same in Hz.
        vuv_error: Fraction of aligned frames with different voicing decisions.
        aligned_frames: Number of DTW-aligned frame pairs.
        voiced_frames: Pairs voiced in both signals.
    """

    mcd_db: float
    f0_rmse_cents: float | None
    f0_rmse_hz: float | None
    vuv_error: float
    aligned_frames: int
    voiced_frames: int

    def to_dict(self) -> dict:
        """Plain-dict form."""
        return asdict(self)


def _features(audio: np.ndarray, *, f0_method: str) -> tuple[np.ndarray, np.ndarray]:
    from voxlab.generation.world import extract_f0, sp_to_mcep, spectral_envelope

    x = np.asarray(audio, dtype=np.float64).reshape(-1)
    f0 = extract_f0(x, SAMPLE_RATE, method=f0_method, frame_period=FRAME_PERIOD_MS)
    sp = spectral_envelope(x, SAMPLE_RATE, f0, frame_period=FRAME_PERIOD_MS)
    return f0, sp_to_mcep(sp, order=MCEP_ORDER, sample_rate=SAMPLE_RATE)


def mel_cepstral_distortion(mc: np.ndarray, mc_ref: np.ndarray) -> float:
    """MCD in dB of two aligned mel-cepstrum sequences, ``c0`` excluded.

    Shape:
        ``(frames, order + 1), (frames, order + 1) -> scalar``
    """
    from voxlab.generation.world import mel_cepstral_distortion as mcd

    return mcd(mc, mc_ref)


def f0_errors(f0: np.ndarray, f0_ref: np.ndarray) -> tuple[float | None, float | None, float]:
    """F0 RMSE (cents, Hz) over frames voiced in both, and the V/UV error rate.

    Args:
        f0: F0 in Hz, 0 when unvoiced. Shape: ``(frames,)``.
        f0_ref: Reference F0, aligned frame by frame. Shape: ``(frames,)``.

    Returns:
        ``(rmse_cents, rmse_hz, vuv_error)``; the RMSEs are None when no frame is voiced
        in both.
    """
    a = np.asarray(f0, dtype=np.float64)
    b = np.asarray(f0_ref, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1 or a.size == 0:
        raise MetricError(f"F0 contours must be aligned 1-D arrays, got {a.shape} and {b.shape}")
    va, vb = a > 0, b > 0
    vuv = float(np.mean(va != vb))
    both = va & vb
    if not both.any():
        return None, None, vuv
    cents = 1200.0 * np.log2(a[both] / b[both])
    hz = a[both] - b[both]
    return math.sqrt(float(np.mean(cents**2))), math.sqrt(float(np.mean(hz**2))), vuv


def compare_to_reference(
    audio: np.ndarray, reference: np.ndarray, *, f0_method: str = "dio"
) -> ReferenceScores:
    """MCD, F0 RMSE and V/UV error of ``audio`` against ``reference`` after DTW.

    Args:
        audio: 16 kHz mono samples. Shape: ``(time,)``.
        reference: 16 kHz mono reference recording. Shape: ``(time_ref,)``.
        f0_method: ``"dio"`` (fast) or ``"harvest"`` (more robust, slower).

    Returns:
        The distances.
    """
    from voxlab.generation.vc.gmm_vc import dtw_path

    if f0_method not in ("dio", "harvest"):
        raise ConfigError(f"f0_method must be 'dio' or 'harvest', got {f0_method!r}")
    n_a, n_b = (int(len(x) / SAMPLE_RATE * 1000 / FRAME_PERIOD_MS) + 1 for x in (audio, reference))
    if n_a * n_b > MAX_DTW_CELLS:
        raise MetricError(
            f"MCD/F0/V-UV compare utterances: {len(audio) / SAMPLE_RATE:.0f} s against "
            f"{len(reference) / SAMPLE_RATE:.0f} s is too long to align with DTW (the product "
            "of the durations must stay under 60 s x 60 s); cut both into sentences first"
        )
    f0_a, mc_a = _features(audio, f0_method=f0_method)
    f0_b, mc_b = _features(reference, f0_method=f0_method)
    ia, ib = dtw_path(mc_a[:, 1:], mc_b[:, 1:])
    rmse_cents, rmse_hz, vuv = f0_errors(f0_a[ia], f0_b[ib])
    return ReferenceScores(
        mcd_db=mel_cepstral_distortion(mc_a[ia], mc_b[ib]),
        f0_rmse_cents=rmse_cents,
        f0_rmse_hz=rmse_hz,
        vuv_error=vuv,
        aligned_frames=int(len(ia)),
        voiced_frames=int(np.sum((f0_a[ia] > 0) & (f0_b[ib] > 0))),
    )


def speaker_similarity(audio: np.ndarray, reference: np.ndarray) -> float:
    """Cosine similarity of the GE2E embeddings of two 16 kHz utterances (-1..1).

    Shape:
        ``(time,), (time_ref,) -> scalar``
    """
    from voxlab.asv.encoder import embed_ge2e

    return float(np.dot(embed_ge2e(audio), embed_ge2e(reference)))
