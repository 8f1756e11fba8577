"""Voice conversion by WORLD parameter transforms (no training, no parallel data).

Three knobs, each a classic of rule-based voice conversion:

- **F0**: log-F0 mean/variance mapping from the source speaker's statistics to the
  target's (``log f0' = (log f0 - mu_s) / sigma_s * sigma_t + mu_t`` on voiced frames).
- **Vocal tract length**: frequency warping of the spectral envelope,
  ``sp'(f) = sp(f / factor)``; ``factor > 1`` moves formants up (a shorter vocal tract).
- **Aperiodicity**: a gain in dB on the aperiodicity (``> 0`` is breathier).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from voxlab.errors import ConfigError, DataError
from voxlab.generation import world
from voxlab.generation.base import Generated, finish_audio


@dataclass(frozen=True)
class LogF0Stats:
    """Mean and standard deviation of log F0 (natural log, voiced frames only).

    Attributes:
        mean: Mean of ``log(f0)``; ``exp(mean)`` is the geometric-mean F0 in Hz.
        std: Standard deviation of ``log(f0)``.
    """

    mean: float
    std: float

    @property
    def hz(self) -> float:
        """Geometric-mean F0 in Hz."""
        return float(np.exp(self.mean))

    @classmethod
    def from_f0(cls, *contours: np.ndarray) -> LogF0Stats:
        """Statistics of one or more F0 contours (0 = unvoiced frames, ignored).

        Raises:
            DataError: No voiced frame at all.
        """
        voiced = np.concatenate([np.asarray(c, dtype=np.float64).ravel() for c in contours])
        voiced = voiced[voiced > 0]
        if voiced.size < 2:
            raise DataError("F0 statistics need voiced speech, but no voiced frame was found")
        logs = np.log(voiced)
        return cls(mean=float(logs.mean()), std=float(max(logs.std(), 1e-3)))

    def to_dict(self) -> dict[str, float]:
        """Plain-dict form (for provenance)."""
        return asdict(self)


def map_f0(f0: np.ndarray, source: LogF0Stats, target: LogF0Stats) -> np.ndarray:
    """Log-Gaussian normalised F0 transformation; unvoiced frames stay 0.

    Shape:
        ``(frames,) -> (frames,)``
    """
    f0 = np.asarray(f0, dtype=np.float64)
    voiced = f0 > 0
    out = np.zeros_like(f0)
    logs = np.log(f0[voiced])
    out[voiced] = np.exp((logs - source.mean) / source.std * target.std + target.mean)
    return out


def warp_frequency(spec: np.ndarray, factor: float) -> np.ndarray:
    """Linear frequency warping of spectra, ``out(f) = spec(f / factor)``.

    Bins read beyond the last input bin take the last bin's value.

    Shape:
        ``(frames, bins) -> (frames, bins)``
    """
    if not 0.5 <= factor <= 2.0:
        raise ConfigError(f"frequency warping factor must be in [0.5, 2], got {factor}")
    spec = np.asarray(spec, dtype=np.float64)
    n_bins = spec.shape[-1]
    src = np.minimum(np.arange(n_bins) / factor, n_bins - 1)
    lo = np.floor(src).astype(int)
    hi = np.minimum(lo + 1, n_bins - 1)
    frac = src - lo
    return spec[..., lo] * (1.0 - frac) + spec[..., hi] * frac


def scale_aperiodicity(ap: np.ndarray, gain_db: float) -> np.ndarray:
    """Aperiodicity times ``10^(gain_db / 20)``, clipped to [0.001, 1].

    Shape:
        ``(frames, bins) -> (frames, bins)``
    """
    return np.clip(np.asarray(ap, dtype=np.float64) * 10.0 ** (gain_db / 20.0), 1e-3, 1.0)


def convert_features(
    features: world.WorldFeatures,
    *,
    source_f0: LogF0Stats | None = None,
    target_f0: LogF0Stats | None = None,
    warp_factor: float = 1.0,
    ap_gain_db: float = 0.0,
) -> world.WorldFeatures:
    """Applies the F0 mapping, envelope warping and aperiodicity gain to WORLD features.

    Args:
        features: WORLD analysis of the source utterance.
        source_f0: Source speaker statistics (from this utterance when None).
        target_f0: Target statistics; F0 is left alone when None.
        warp_factor: Vocal-tract-length factor of the envelope (1 = none).
        ap_gain_db: Aperiodicity gain in dB (0 = none).
    """
    f0 = features.f0
    if target_f0 is not None:
        f0 = map_f0(f0, source_f0 or LogF0Stats.from_f0(f0), target_f0)
    sp = features.sp if warp_factor == 1.0 else warp_frequency(features.sp, warp_factor)
    ap = features.ap if ap_gain_db == 0.0 else scale_aperiodicity(features.ap, ap_gain_db)
    return features.replace(f0=f0, sp=sp, ap=ap)


def world_voice_conversion(
    audio: np.ndarray,
    sample_rate: int,
    *,
    target_f0: LogF0Stats | None = None,
    source_f0: LogF0Stats | None = None,
    warp_factor: float = 1.0,
    ap_gain_db: float = 0.0,
    f0_method: str = "dio",
    frame_period: float = 5.0,
    features: world.WorldFeatures | None = None,
    system: str = "world-vc",
) -> Generated:
    """Converts speech toward a target voice with WORLD transforms and resynthesis.

    Args:
        audio: Source speech. Shape: ``(time,)``.
        sample_rate: Sample rate in Hz.
        target_f0: Target speaker's log-F0 statistics (F0 unchanged when None).
        source_f0: Source speaker's statistics (this utterance's when None).
        warp_factor: Envelope frequency warping factor (vocal tract length ratio).
        ap_gain_db: Aperiodicity gain in dB.
        f0_method: ``"dio"`` or ``"harvest"``.
        frame_period: Frame shift in ms.
        features: Precomputed WORLD analysis of ``audio``.
        system: System id recorded in the provenance.
    """
    feats = features or world.analyze(
        audio, sample_rate, f0_method=f0_method, frame_period=frame_period
    )
    if source_f0 is None and target_f0 is not None:
        source_f0 = LogF0Stats.from_f0(feats.f0)
    converted = convert_features(
        feats,
        source_f0=source_f0,
        target_f0=target_f0,
        warp_factor=warp_factor,
        ap_gain_db=ap_gain_db,
    )
    out = world.synthesize(converted)[: len(audio)]
    return Generated(
        audio=finish_audio(out, name=system),
        sample_rate=sample_rate,
        system=system,
        params={
            "vc": "world-transform",
            "source_f0": None if source_f0 is None else source_f0.to_dict(),
            "target_f0": None if target_f0 is None else target_f0.to_dict(),
            "warp_factor": warp_factor,
            "ap_gain_db": ap_gain_db,
            "f0_method": f0_method,
            "frame_period": feats.frame_period,
        },
    )
