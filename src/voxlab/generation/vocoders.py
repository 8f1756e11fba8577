"""Vocoders: WORLD resynthesis, Griffin-Lim from a log-mel spectrogram, an LPC vocoder.

Each ``*_copy_synthesis`` function analyses bona fide speech and resynthesises it (the
"vocoded spoof" recipe); the lower-level functions (:func:`griffin_lim`,
:func:`mel_to_audio`, :func:`lpc_synthesis`) take features and can be driven by anything.
All of them are deterministic for a given ``seed``.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy.signal import lfilter
from scipy.sparse import csr_matrix

from voxlab.errors import ConfigError
from voxlab.generation import world
from voxlab.generation._dsp import hann, istft, levinson, stft
from voxlab.generation.base import Generated, finish_audio


def world_copy_synthesis(
    audio: np.ndarray,
    sample_rate: int,
    *,
    f0_method: str = "dio",
    frame_period: float = 5.0,
    mcep_order: int | None = None,
    smooth_frames: int = 1,
    features: world.WorldFeatures | None = None,
    system: str = "world",
) -> Generated:
    """WORLD analysis then resynthesis, optionally through a coarse mel-cepstral envelope.

    With ``mcep_order`` set, the envelope is coded to that many mel-cepstral coefficients
    and decoded again, and ``smooth_frames > 1`` averages F0 (in voiced runs), mel-cepstra
    and aperiodicity over time: the over-smoothed parameters of statistical parametric
    synthesis.

    Args:
        audio: Bona fide speech. Shape: ``(time,)``.
        sample_rate: Sample rate in Hz.
        f0_method: ``"dio"`` or ``"harvest"``.
        frame_period: Frame shift in ms.
        mcep_order: Mel-cepstral order of the coarse envelope; None keeps the full envelope.
        smooth_frames: Width of the moving average over frames (1 = none).
        features: Precomputed WORLD analysis of ``audio`` (skips the analysis).
        system: System id recorded in the provenance.

    Returns:
        The resynthesised speech with its parameters.
    """
    feats = features or world.analyze(
        audio, sample_rate, f0_method=f0_method, frame_period=frame_period
    )
    sp, ap, f0 = feats.sp, feats.ap, feats.f0
    if mcep_order is not None:
        mc = world.sp_to_mcep(sp, order=mcep_order, sample_rate=sample_rate)
        mc = world.smooth_time(mc, smooth_frames)
        sp = world.mcep_to_sp(mc, fft_size=feats.fft_size, sample_rate=sample_rate)
    if smooth_frames > 1:
        ap = np.clip(world.smooth_time(ap, smooth_frames), 0.0, 1.0)
        voiced = f0 > 0
        f0 = np.where(voiced, world.smooth_time(np.where(voiced, f0, 0.0), smooth_frames), 0.0)
        weight = world.smooth_time(voiced.astype(np.float64), smooth_frames)
        f0 = np.where(voiced, f0 / np.maximum(weight, 1e-8), 0.0)
    out = world.synthesize(feats.replace(f0=f0, sp=sp, ap=ap))[: len(audio)]
    return Generated(
        audio=finish_audio(out, name=system),
        sample_rate=sample_rate,
        system=system,
        params={
            "vocoder": "world",
            "f0_method": f0_method,
            "frame_period": feats.frame_period,
            "mcep_order": mcep_order,
            "smooth_frames": smooth_frames,
        },
    )


# --------------------------------------------------------------------------- Griffin-Lim


@lru_cache(maxsize=8)
def _mel_basis(sample_rate: int, n_fft: int, n_mels: int, fmin: float, fmax: float | None):
    from voxlab.features.functional import mel_filterbank

    fb = mel_filterbank(sample_rate=sample_rate, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax)
    basis = fb.double().numpy()
    basis.setflags(write=False)
    return basis


@lru_cache(maxsize=8)
def _pinv(basis_key: tuple) -> np.ndarray:
    inverse = np.linalg.pinv(_mel_basis(*basis_key))
    inverse.setflags(write=False)
    return inverse


def _sparse(matrix: np.ndarray) -> csr_matrix:
    """Sparse copy: products with it use no BLAS threads (which thrash on loaded machines)."""
    return csr_matrix(np.where(np.abs(matrix) > 0, matrix, 0.0))


def log_mel_spectrogram(
    audio: np.ndarray,
    sample_rate: int,
    *,
    n_fft: int = 1024,
    hop_length: int = 256,
    n_mels: int = 80,
    fmin: float = 0.0,
    fmax: float | None = None,
) -> np.ndarray:
    """Log-mel power spectrogram in dB (``10 log10``, floor 1e-10, no ``top_db`` clipping).

    Same values as ``voxlab.features.functional.log_mel(..., top_db=None)`` with the same
    arguments (slaney mel scale and norm, centred frames, Hann window).

    Shape:
        ``(time,) -> (n_mels, 1 + time // hop_length)``
    """
    power = np.abs(stft(audio, n_fft=n_fft, hop_length=hop_length)) ** 2
    mel = _sparse(_mel_basis(sample_rate, n_fft, n_mels, fmin, fmax)) @ power
    return 10.0 * np.log10(np.maximum(mel, 1e-10))


def mel_to_power(
    mel_power: np.ndarray,
    basis: np.ndarray,
    *,
    n_iter: int = 30,
    pinv: np.ndarray | None = None,
) -> np.ndarray:
    """Non-negative least-squares inversion of a mel filterbank.

    Starts from the clipped pseudo-inverse and refines with multiplicative updates
    (Lee & Seung), which keep every bin non-negative and decrease ``||M S - Y||^2``.

    Args:
        mel_power: Mel power spectrogram.
        basis: Mel filterbank. Shape: ``(n_mels, n_fft // 2 + 1)``.
        n_iter: Multiplicative updates.
        pinv: Precomputed pseudo-inverse of ``basis`` (computed when None).

    Shape:
        ``(n_mels, frames) -> (n_fft // 2 + 1, frames)``
    """
    pinv = np.linalg.pinv(basis) if pinv is None else pinv
    s = np.maximum(np.einsum("fm,mt->ft", pinv, mel_power), 0.0)
    s += 1e-3 * float(np.mean(s)) + 1e-12
    sparse = _sparse(basis)
    sparse_t = sparse.T.tocsr()
    numer = sparse_t @ mel_power
    for _ in range(n_iter):
        s *= numer / np.maximum(sparse_t @ (sparse @ s), 1e-20)
        np.maximum(s, 1e-30, out=s)
    return s


def griffin_lim(
    magnitude: np.ndarray,
    *,
    hop_length: int,
    length: int,
    n_iter: int = 32,
    momentum: float = 0.99,
    seed: int = 0,
) -> np.ndarray:
    """Fast Griffin-Lim phase reconstruction (Perraudin et al., 2013) from random phase.

    Args:
        magnitude: STFT magnitude (centred, Hann window). Shape: ``(n_fft // 2 + 1, frames)``.
        hop_length: Frame shift in samples.
        length: Output length in samples.
        n_iter: Iterations.
        momentum: Acceleration (0 = plain Griffin-Lim).
        seed: Seed of the initial random phase.

    Returns:
        float64 signal. Shape: ``(length,)``.
    """
    n_fft = (magnitude.shape[0] - 1) * 2
    rng = np.random.default_rng(seed)
    angles = np.exp(2j * np.pi * rng.random(magnitude.shape))
    previous = np.zeros_like(angles)
    for _ in range(n_iter):
        signal = istft(magnitude * angles, hop_length=hop_length, length=length)
        rebuilt = stft(signal, n_fft=n_fft, hop_length=hop_length)
        accelerated = rebuilt - (momentum / (1.0 + momentum)) * previous
        angles = accelerated / np.maximum(np.abs(accelerated), 1e-16)
        previous = rebuilt
    return istft(magnitude * angles, hop_length=hop_length, length=length)


def mel_to_audio(
    log_mel_db: np.ndarray,
    *,
    sample_rate: int,
    n_fft: int = 1024,
    hop_length: int = 256,
    fmin: float = 0.0,
    fmax: float | None = None,
    n_iter: int = 32,
    length: int | None = None,
    seed: int = 0,
) -> np.ndarray:
    """Waveform from a log-mel spectrogram: NNLS mel inversion, then Griffin-Lim.

    Args:
        log_mel_db: As made by :func:`log_mel_spectrogram`. Shape: ``(n_mels, frames)``.
        sample_rate: Sample rate in Hz.
        n_fft: FFT size the mel spectrogram was made with.
        hop_length: Frame shift in samples.
        fmin: Lowest mel frequency.
        fmax: Highest mel frequency (Nyquist when None).
        n_iter: Griffin-Lim iterations.
        length: Output length (``(frames - 1) * hop_length`` when None).
        seed: Seed of the initial phase.

    Returns:
        float64 signal. Shape: ``(length,)``.
    """
    key = (sample_rate, n_fft, log_mel_db.shape[0], fmin, fmax)
    mel_power = 10.0 ** (np.asarray(log_mel_db, dtype=np.float64) / 10.0)
    power = mel_to_power(mel_power, _mel_basis(*key), pinv=_pinv(key))
    length = (log_mel_db.shape[1] - 1) * hop_length if length is None else length
    return griffin_lim(
        np.sqrt(power), hop_length=hop_length, length=length, n_iter=n_iter, seed=seed
    )


def griffin_lim_copy_synthesis(
    audio: np.ndarray,
    sample_rate: int,
    *,
    n_fft: int = 1024,
    hop_length: int = 256,
    n_mels: int = 80,
    n_iter: int = 32,
    seed: int = 0,
    system: str = "griffin-lim",
) -> Generated:
    """Log-mel analysis then Griffin-Lim resynthesis (the classic mel-vocoder baseline)."""
    log_mel = log_mel_spectrogram(
        audio, sample_rate, n_fft=n_fft, hop_length=hop_length, n_mels=n_mels
    )
    out = mel_to_audio(
        log_mel,
        sample_rate=sample_rate,
        n_fft=n_fft,
        hop_length=hop_length,
        n_iter=n_iter,
        length=len(audio),
        seed=seed,
    )
    return Generated(
        audio=finish_audio(out, name=system),
        sample_rate=sample_rate,
        system=system,
        params={
            "vocoder": "griffin-lim",
            "n_fft": n_fft,
            "hop_length": hop_length,
            "n_mels": n_mels,
            "n_iter": n_iter,
            "seed": seed,
        },
    )


# --------------------------------------------------------------------------- LPC vocoder


def lpc_analysis(
    audio: np.ndarray, *, order: int, hop_length: int, win_length: int, preemphasis: float
) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame LPC polynomials and excitation gains, frames centred at ``k * hop_length``.

    Returns:
        ``(a, gain)``: a of shape ``(frames, order + 1)`` (``a[:, 0] == 1``) and the RMS of
        the prediction error per frame, shape ``(frames,)``.
    """
    x = lfilter([1.0, -preemphasis], [1.0], np.asarray(audio, dtype=np.float64))
    n_frames = len(x) // hop_length + 1
    pad = win_length // 2
    padded = np.pad(x, (pad, pad + win_length))
    window = np.hamming(win_length)
    energy = float(np.sum(window * window))
    a = np.zeros((n_frames, order + 1))
    gain = np.zeros(n_frames)
    for k in range(n_frames):
        frame = padded[k * hop_length : k * hop_length + win_length] * window
        spec = np.fft.rfft(frame, n=2 * win_length)
        r = np.fft.irfft(np.abs(spec) ** 2)[: order + 1]
        r[0] *= 1.0 + 1e-9  # white-noise correction keeps the recursion stable
        a[k], err = levinson(r, order)
        gain[k] = np.sqrt(max(err, 0.0) / energy)
    return a, gain


def lpc_synthesis(
    a: np.ndarray,
    gain: np.ndarray,
    f0: np.ndarray,
    *,
    sample_rate: int,
    hop_length: int,
    length: int,
    preemphasis: float = 0.97,
    seed: int = 0,
) -> np.ndarray:
    """Pulse-train / noise excitation through per-frame all-pole filters, overlap-added.

    Voiced frames (``f0 > 0``) get a unit-power pulse train at F0 (phase continuous across
    frames); unvoiced frames get unit-variance white noise. Each frame's excitation is
    filtered by ``gain / A(z)`` (with a warm-up so the filter starts in a steady state),
    windowed by a Hann window of twice the hop and overlap-added; de-emphasis follows.

    Args:
        a: LPC polynomials. Shape: ``(frames, order + 1)``.
        gain: Excitation gains. Shape: ``(frames,)``.
        f0: F0 per frame in Hz (0 = unvoiced). Shape: ``(frames,)``.
        sample_rate: Sample rate in Hz.
        hop_length: Frame shift in samples.
        length: Output length in samples.
        preemphasis: The analysis pre-emphasis to undo.
        seed: Seed of the noise excitation.

    Returns:
        float64 signal. Shape: ``(length,)``.
    """
    n_frames = len(a)
    if not (len(gain) == len(f0) == n_frames):
        raise ConfigError("LPC synthesis: a, gain and f0 must have one row per frame")
    rng = np.random.default_rng(seed)
    warmup = 4 * a.shape[1]
    offset = hop_length + warmup  # front padding so that every frame starts at index >= 0
    total = offset + length + 2 * hop_length
    position = np.clip((np.arange(total) - offset) / hop_length, 0, n_frames - 1)
    voiced_sample = f0[np.round(position).astype(int)] > 0
    sample_f0 = np.where(
        voiced_sample, np.maximum(np.interp(position, np.arange(n_frames), f0), 1.0), 0.0
    )
    phase = np.cumsum(sample_f0 / sample_rate)
    pulses = np.zeros(total)
    crossing = np.flatnonzero(np.diff(np.floor(phase)) > 0) + 1
    pulses[crossing] = np.sqrt(sample_rate / sample_f0[crossing])
    noise = rng.standard_normal(total)
    win = hann(2 * hop_length)
    out = np.zeros(total)
    for k in range(n_frames):
        start = offset + (k - 1) * hop_length
        stop = min(start + 2 * hop_length, total)
        if start >= total:
            break
        source = pulses if f0[k] > 0 else noise
        y = lfilter([gain[k]], a[k], source[start - warmup : stop])[warmup:]
        out[start:stop] += y * win[: len(y)]
    out = lfilter([1.0], [1.0, -preemphasis], out[offset : offset + length])
    return out


def lpc_copy_synthesis(
    audio: np.ndarray,
    sample_rate: int,
    *,
    order: int = 18,
    frame_period: float = 5.0,
    win_ms: float = 25.0,
    f0_method: str = "dio",
    preemphasis: float = 0.97,
    f0: np.ndarray | None = None,
    seed: int = 0,
    system: str = "lpc",
) -> Generated:
    """LPC vocoder: WORLD F0 for voicing, LPC envelope per frame, pulse/noise excitation.

    Args:
        audio: Bona fide speech. Shape: ``(time,)``.
        sample_rate: Sample rate in Hz.
        order: LPC order.
        frame_period: Frame shift in ms (also the F0 frame shift).
        win_ms: Analysis window length in ms.
        f0_method: ``"dio"`` or ``"harvest"``.
        preemphasis: Pre-emphasis coefficient of the analysis.
        f0: Precomputed F0 at ``frame_period`` (skips F0 tracking).
        seed: Seed of the noise excitation.
        system: System id recorded in the provenance.
    """
    hop = int(round(sample_rate * frame_period / 1000.0))
    a, gain = lpc_analysis(
        audio,
        order=order,
        hop_length=hop,
        win_length=int(round(sample_rate * win_ms / 1000.0)),
        preemphasis=preemphasis,
    )
    if f0 is None:
        f0 = world.extract_f0(audio, sample_rate, method=f0_method, frame_period=frame_period)
    n = min(len(a), len(f0))
    out = lpc_synthesis(
        a[:n],
        gain[:n],
        np.asarray(f0[:n], dtype=np.float64),
        sample_rate=sample_rate,
        hop_length=hop,
        length=len(audio),
        preemphasis=preemphasis,
        seed=seed,
    )
    return Generated(
        audio=finish_audio(out, name=system),
        sample_rate=sample_rate,
        system=system,
        params={
            "vocoder": "lpc",
            "order": order,
            "frame_period": frame_period,
            "win_ms": win_ms,
            "f0_method": f0_method,
            "preemphasis": preemphasis,
            "seed": seed,
        },
    )
