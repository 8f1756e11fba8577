"""Find the watermark: time-scale search, unit tracking, calibrated score, payload, segments.

Detection works on the 16 kHz mono mix. For each candidate playback change (tempo or
speed by 0.95-1.05 in steps of 0.01, speed then refined to 0.005) analysis frames are
taken every ``128 / rate`` samples and band energies are measured on bands scaled by the
speed factor, so the watermark grid lines up again. Each cell's value is the soft sign of
its residual against its band's local level, weighted by how much of the cell is signal
rather than silence or the band's noise floor (:func:`voxlab.watermark.cells.soft_signs`):
the embedder pushed the cells to their chip's side, so the signs carry the mark, and
cells far from their band's level (which the embedder left alone) count no more than one
sign each.

1. **Search** (sync chips only): the normalised correlation of the sync pattern with the
   features at every frame offset. Two ways link units about one unit apart into a chain:
   a dynamic programme (+-1 frame of drift per unit, a cost per unit so that it stops
   where the mark stops) and a piecewise-rigid search (offset and slope per window of 48
   units, which pools weak evidence). Over all candidates, the chain whose folded units
   best match the sync pattern wins; a changed playback rate must win by
   :data:`RATE_PRIOR` (most audio plays at its own rate).
2. **Score** (verify chips only): the verify chips of every unit on the chain are summed
   (the same pattern repeats in each unit), centred (``c_j = a_j - mean_j a_j`` over the
   verify chips) and correlated with the verify pattern: ``z = sum_j v_j c_j / sqrt(sum_j
   c_j^2)``. Under the null hypothesis (audio not marked with this key) the verify signs
   ``v_j`` are independent fair coin flips, unrelated to the audio and to the chain, which
   the search chose without looking at them; the centring uses the chips' positions, never
   their signs. Conditional on the audio, ``z`` is then a Rademacher sum with unit
   variance, so Hoeffding's inequality
   gives ``P(z >= t) <= exp(-t^2 / 2)`` for *any* audio; the threshold for a false-positive
   rate ``fpr`` is ``sqrt(2 ln(1 / fpr))`` (3.72 for 1e-3, 5.26 for 1e-6). ``p_value`` is
   the Gaussian tail of ``z`` (the central-limit approximation, accurate with hundreds of
   chips), and the bound ``exp(-z^2/2)`` is reported too. The centring matters for one
   fixed key: soft signs of real audio have a clip-wide mean (the log of a band energy is
   skewed), and the ``+-1`` verify signs of a key never sum to exactly zero, so without it
   ``z`` carries a key-dependent offset that grows with the square root of the number of
   units. Audio without any signal (digital silence) has no evidence: ``z = 0``.
3. **Payload**: payload chips summed over the chain give soft values of the 162 coded bits;
   a soft Viterbi decoder and the CRC-16 decide; when that CRC fails, the 128-bit format
   (450 coded bits, its own chip map and mask) is tried. A matching CRC is a second,
   independent way to call the audio marked: on unmarked audio a decoded (key-scrambled)
   word passes a CRC-16 with probability about 2^-16 per format, so when ``fpr`` exceeds
   ``4 * 2^-16`` (6e-5) the score threshold is set for ``fpr - 2 * 2^-16`` and a CRC match
   also counts (the union bound keeps the total at ``fpr``); for stricter ``fpr`` only the
   score counts.
4. **Localisation**: each unit on the chain is scored on its own verify chips (and payload
   chips when the CRC matched); units above ``unit_z`` (or just below it between two
   marked neighbours) form the marked segments.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from voxlab.audio.resample import resample
from voxlab.errors import AudioError, ConfigError
from voxlab.threads import on_one_blas_thread
from voxlab.watermark.cells import (
    A_HOP,
    band_energy,
    irfft,
    pad_signal,
    power_frames,
    rfft,
    soft_signs,
)
from voxlab.watermark.coding import (
    FORMATS,
    PAYLOAD_BITS,
    coded_bits,
    decode_payload,
    encode_payload,
)
from voxlab.watermark.keys import WatermarkKey, as_key
from voxlab.watermark.layout import (
    CHIP_FRAMES,
    HOP,
    N_FFT,
    SAMPLE_RATE,
    UNIT_COLS,
    UNIT_FRAMES,
    Pattern,
    make_pattern,
)

#: Unit length in analysis frames.
A_UNIT = 2 * UNIT_FRAMES
#: Analysis frames per chip.
A_CHIP = 2 * CHIP_FRAMES
#: Margin (in sync z) a changed playback rate must win by over the unchanged one.
RATE_PRIOR = 1.5
#: Probability that a random word passes the CRC-16 in one of the payload formats tried.
CRC_FPR = len(FORMATS) * 2.0**-16
#: Default target false-positive rate.
DEFAULT_FPR = 1e-3
#: Playback-rate grid searched by default.
DEFAULT_RATES = tuple(round(0.95 + 0.01 * i, 2) for i in range(11))
DRIFT = 1
#: Per-unit cost in the chain search: above what noise gains per step (the best of three
#: drift positions of a standard normal averages 0.85), below what a marked unit gives.
UNIT_COST = 1.5


def threshold_for(fpr: float) -> float:
    """The score threshold guaranteeing a false-positive rate <= ``fpr`` (Hoeffding)."""
    if not 0.0 < fpr < 1.0:
        raise ConfigError(f"fpr must be in (0, 1), got {fpr}")
    return math.sqrt(2.0 * math.log(1.0 / fpr))


@dataclass
class WatermarkResult:
    """What :func:`detect` found.

    Attributes:
        marked: Whether the score passes the threshold (or the payload CRC matched).
        score: The calibrated z-score (standard normal for unmarked audio).
        p_value: Gaussian tail probability of ``score`` under the null hypothesis.
        p_bound: Hoeffding bound ``exp(-score^2/2)`` (valid for any audio).
        threshold: Score threshold used for ``marked``.
        payload: Decoded payload as hex digits (8 for 32 bits, 32 for 128), when the CRC
            matched.
        payload_bits: Its format (32 or 128), when decoded.
        crc_ok: Whether the decoded payload's CRC-16 matched.
        segments: Marked stretches as ``[start, end]`` seconds.
        rate: Playback rate of the best alignment (1.0 = unchanged).
        mode: ``"tempo"`` or ``"speed"`` alignment (``"none"`` for rate 1).
        units: Number of units on the chain.
        duration: Audio duration in seconds.
    """

    marked: bool
    score: float
    p_value: float
    p_bound: float
    threshold: float
    payload: str | None = None
    payload_bits: int | None = None
    crc_ok: bool = False
    segments: list[list[float]] = field(default_factory=list)
    rate: float = 1.0
    mode: str = "none"
    units: int = 0
    duration: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form."""
        return asdict(self)


@dataclass
class _Candidate:
    rate: float
    mode: str
    feats: np.ndarray  # (frames + 2 * A_UNIT, bands), zero-padded
    positions: np.ndarray  # analysis frame starts (samples, in the padded signal)
    chain: list[int]
    chain_score: float
    z_sync: np.ndarray


def _features(power: np.ndarray, fscale: float) -> np.ndarray:
    """Soft signs of the cells (bands scaled by ``fscale``), zero-padded by a unit each side.

    Shape: ``(frames + 2 * A_UNIT, bands)``.
    """
    feats = soft_signs(band_energy(power, fscale))
    padded = np.zeros((feats.shape[0] + 2 * A_UNIT, feats.shape[1]), np.float32)
    padded[A_UNIT : A_UNIT + feats.shape[0]] = feats
    return padded


def _unit_kernel(chips: np.ndarray) -> np.ndarray:
    """A unit's chips on the analysis grid, one every ``A_CHIP`` frames.

    Returns:
        Shape: ``(bands, A_UNIT)``.
    """
    out = np.zeros((chips.shape[0], A_UNIT), np.float32)
    out[:, ::A_CHIP] = chips
    return out


def _correlate(feats: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """``sum_b sum_t kernel[b, t] * feats[tau + t, b]`` for every valid ``tau``.

    One FFT per band, the bands summed in the frequency domain, one inverse FFT.

    Shape: ``feats (frames, bands)``, ``kernel (bands, width)`` -> ``(frames - width + 1,)``.
    """
    n = feats.shape[0]
    width = kernel.shape[1]
    if n < width:
        return np.zeros(0)
    spec = rfft(feats.T.astype(np.float64), n) * np.conj(rfft(kernel.astype(np.float64), n))
    return irfft(spec.sum(axis=0), n)[: n - width + 1]


def _best_chain(z: np.ndarray) -> tuple[float, list[int]]:
    """Highest-scoring chain of unit positions ``A_UNIT +- DRIFT`` apart (max-sum DP).

    Each unit on the chain scores its sync z minus :data:`UNIT_COST`; a chain restarts
    where its running score would turn negative, so it covers the marked stretch only.
    """
    n = z.size
    z = z.astype(np.float64) - UNIT_COST
    score = z.copy()
    back = np.full(n, -1, np.int64)
    block = A_UNIT - DRIFT
    offsets = np.arange(-DRIFT, DRIFT + 1)
    for start in range(block, n, block):
        taus = np.arange(start, min(start + block, n))
        prev = taus[:, None] - A_UNIT + offsets[None, :]
        valid = prev >= 0
        cand = np.where(valid, score[np.clip(prev, 0, None)], -np.inf)
        best = cand.argmax(axis=1)
        val = cand[np.arange(taus.size), best]
        take = val > 0
        score[taus] = z[taus] + np.where(take, val, 0.0)
        back[taus] = np.where(take, prev[np.arange(taus.size), best], -1)
    end = int(score.argmax())
    chain = [end]
    while back[chain[-1]] >= 0:
        chain.append(int(back[chain[-1]]))
    return float(score[end]), chain[::-1]


#: Units per window of the piecewise-rigid search and the largest drift (frames per unit).
RIGID_UNITS = 48
RIGID_DRIFT = 0.7


def _rigid_chain(z: np.ndarray) -> list[int]:
    """Best piecewise-rigid chain of unit positions.

    In each window of :data:`RIGID_UNITS` units, the positions
    ``start + 128 u + round(slope * u)`` with the largest summed sync z.

    Unlike the dynamic programme this pools the evidence of a whole window before deciding,
    so it finds the units when each one alone is too weak (strong noise, long files).
    """
    n = z.size
    total = max(1, -(-n // A_UNIT))
    chain: list[int] = []
    for w0 in range(0, total, RIGID_UNITS):
        units = min(RIGID_UNITS, total - w0)
        u = np.arange(units)
        steps = max(1, int(math.ceil(RIGID_DRIFT * units)))
        slopes = np.arange(-steps, steps + 1) / max(units, 1)
        idx = (
            w0 * A_UNIT
            + np.arange(A_UNIT)[:, None, None]
            + A_UNIT * u[None, None, :]
            + np.round(slopes[None, :, None] * u[None, None, :]).astype(np.int64)
        )
        valid = (idx >= 0) & (idx < n)
        sums = np.where(valid, z[np.clip(idx, 0, n - 1)], 0.0).sum(axis=2)
        phase, slope = np.unravel_index(int(np.argmax(sums)), sums.shape)
        chain += [int(i) for i, ok in zip(idx[phase, slope], valid[phase, slope]) if ok]
    return chain


def _gather(feats: np.ndarray, chain: list[int]) -> np.ndarray:
    """Chip values of each unit on the chain. Shape: ``(units, bands, UNIT_COLS)``."""
    idx = np.asarray(chain)[:, None] + A_CHIP * np.arange(UNIT_COLS)[None, :]
    return np.transpose(feats[idx], (0, 2, 1))


def _z(values: np.ndarray, pattern: np.ndarray, *, centre: bool = False) -> float:
    """Normalised correlation of ``values`` with the +-1 chips of ``pattern`` (0: unused).

    With ``centre`` the values on the pattern's chips are centred first (see step 2 of the
    module docstring). Shape: ``values`` and ``pattern`` alike.
    """
    used = pattern != 0
    a = values[used].astype(np.float64)
    if centre and a.size:
        a = a - a.mean()
    den = float(np.sum(a * a))
    return float(np.sum(pattern[used] * a) / math.sqrt(den)) if den > 1e-24 else 0.0


def _candidates(rates: tuple[float, ...]) -> list[tuple[float, str]]:
    """(rate, mode) pairs of the coarse search: tempo and speed at each rate."""
    out: list[tuple[float, str]] = []
    for r in rates:
        out += [(1.0, "none")] if abs(r - 1.0) < 1e-9 else [(r, "tempo"), (r, "speed")]
    return out


@on_one_blas_thread
def detect(
    audio: np.ndarray,
    sr: int,
    key: WatermarkKey | str | bytes,
    *,
    fpr: float = DEFAULT_FPR,
    rates: tuple[float, ...] = DEFAULT_RATES,
    unit_z: float = 2.5,
) -> WatermarkResult:
    """Look for the watermark of ``key`` in ``audio``.

    Args:
        audio: float32 samples, any rate >= 8 kHz. Shape: ``(time,)`` or ``(channels, time)``.
        sr: Sample rate in Hz.
        key: Secret key (object, 16 bytes, 32 hex digits or key file path).
        fpr: Target false-positive rate; sets the threshold ``sqrt(2 ln(1/fpr))``.
        rates: Playback rates searched (tempo and speed changes).
        unit_z: Per-unit score above which a unit counts as marked (localisation).

    Returns:
        The decision, calibrated score, payload and marked segments.

    Raises:
        AudioError: Empty or non-finite audio.
    """
    data = np.asarray(audio, dtype=np.float32)
    if data.ndim not in (1, 2) or data.shape[-1] == 0:
        raise AudioError(f"cannot look for a watermark in audio of shape {data.shape}")
    if not np.isfinite(data).all():
        raise AudioError("cannot look for a watermark in audio with NaN or Inf samples")
    crc_route = fpr > 2 * CRC_FPR
    threshold = threshold_for(fpr - CRC_FPR if crc_route else fpr)
    k = as_key(key)
    pattern = make_pattern(k)
    mix = data if data.ndim == 1 else data.mean(axis=0)
    duration = mix.shape[0] / sr
    x16 = mix if sr == SAMPLE_RATE else resample(mix, orig_sr=sr, target_sr=SAMPLE_RATE)
    xp = pad_signal(x16)

    sync_k = _unit_kernel(pattern.sync)
    sync_m = np.abs(sync_k)
    best: _Candidate | None = None
    spectra: dict[float, tuple[np.ndarray, np.ndarray]] = {}

    def consider(rate: float, mode: str) -> None:
        nonlocal best, spectra
        if rate not in spectra:  # tempo and speed at one rate share their frames
            spectra = {rate: power_frames(xp, rate)}
        power, pos = spectra[rate]
        feats = _features(power, rate if mode == "speed" else 1.0)
        num = _correlate(feats, sync_k)
        den = _correlate(feats**2, sync_m)
        floor = 1e-6 * float(den.max(initial=0.0)) + 1e-20  # FFT round-off where empty
        z = np.where(den > floor, num / np.sqrt(np.maximum(den, floor)), 0.0)
        # two ways to link units; keep the one whose folded units match the sync pattern
        # best (the verify chips are never looked at, so the score stays calibrated)
        for chain in (_best_chain(z)[1], _rigid_chain(z)):
            score = _z(_gather(feats, chain).sum(axis=0), pattern.sync)
            if mode != "none":  # most audio is played at its own rate: a prior for it
                score -= RATE_PRIOR
            if best is None or score > best.chain_score:
                best = _Candidate(rate, mode, feats, pos, chain, score, z)

    for rate, mode in _candidates(tuple(rates)):
        consider(rate, mode)
    assert best is not None
    # A speed error also shifts frequencies: refine the speed between the grid points.
    if best.mode in ("speed", "none") and len(rates) > 1:
        step = float(np.min(np.diff(sorted(rates))))
        centre = best.rate
        for rate in (round(centre - step / 2, 4), round(centre + step / 2, 4)):
            consider(rate, "speed")
    assert best is not None
    return _decide(best, k, pattern, threshold, unit_z, duration, crc_route)


def _decide(
    c: _Candidate,
    key: WatermarkKey,
    pattern: Pattern,
    threshold: float,
    unit_z: float,
    duration: float,
    crc_route: bool,
) -> WatermarkResult:
    units = _gather(c.feats, c.chain)  # (U, bands, frames)
    folded = units.sum(axis=0)
    score = _z(folded, pattern.verify, centre=True)
    payload, crc_ok, payload_bits, coded = None, False, None, None
    for fmt in FORMATS:  # 32 bits, then 128: each format has its own map and mask
        pat = pattern if fmt == PAYLOAD_BITS else make_pattern(key, fmt)
        used = pat.bit >= 0
        soft = np.bincount(
            pat.bit[used], weights=(folded * pat.spread)[used], minlength=coded_bits(fmt)
        )
        if not np.any(soft != 0):
            break
        value, ok = decode_payload(soft, pat.mask)
        if ok:
            payload, crc_ok, payload_bits = f"{value:0{fmt // 4}x}", True, fmt
            coded = pat.chips(encode_payload(value, pat.mask))
            break
    # Per-unit evidence for localisation: chips the chain search did not look at (verify,
    # plus payload once the CRC confirmed it), so that the units' scores are unbiased.
    chips = coded if coded is not None else pattern.chips(None)
    chips = chips - pattern.sync
    p_value = 0.5 * math.erfc(score / math.sqrt(2.0))
    p_bound = float(math.exp(-0.5 * score * score)) if score > 0 else 1.0
    marked = score >= threshold or (crc_ok and crc_route)
    segments: list[list[float]] = []
    if marked:
        z_units = np.array([_z(units[u], chips, centre=True) for u in range(len(c.chain))])
        # a unit counts as marked when it and its neighbours on the chain agree
        padded = np.pad(z_units, 1)
        smooth = (padded[:-2] + padded[1:-1] + padded[2:]) / math.sqrt(3.0)
        for u, tau in enumerate(c.chain):
            if z_units[u] < unit_z and (smooth[u] < unit_z + 0.5 or z_units[u] < 1.0):
                continue
            start, end = _unit_span(c, tau, duration)
            if segments and start <= segments[-1][1] + 0.05:
                segments[-1][1] = max(segments[-1][1], end)
            else:
                segments.append([start, end])
    return WatermarkResult(
        marked=bool(marked),
        score=round(score, 4),
        p_value=p_value,
        p_bound=p_bound,
        threshold=round(threshold, 4),
        payload=payload,
        payload_bits=payload_bits,
        crc_ok=bool(crc_ok),
        segments=[[round(a, 3), round(b, 3)] for a, b in segments],
        rate=c.rate,
        mode=c.mode,
        units=len(c.chain),
        duration=round(duration, 4),
    )


def _unit_span(c: _Candidate, tau: int, duration: float) -> tuple[float, float]:
    """Start and end (s) of the unit whose first chip is at padded feature row ``tau``."""
    step = A_HOP / c.rate
    first = tau - A_UNIT  # analysis frame index of chip 0
    # frame j starts at sample pos[j] of the signal padded by N_FFT; its centre is the
    # chip's time, and the unit spans from half a hop before chip 0 to half after chip 63.
    centre0 = first * step + N_FFT / 2 - N_FFT
    start = (centre0 - HOP / (2 * c.rate)) / SAMPLE_RATE
    end = start + UNIT_FRAMES * HOP / (c.rate * SAMPLE_RATE)
    return max(0.0, start), min(duration, end)
