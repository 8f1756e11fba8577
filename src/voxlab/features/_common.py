"""Helpers shared by the feature modules: argument checks, windows, DCT, HTK deltas."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F

from voxlab.errors import ConfigError

#: Window names accepted by :func:`get_window`.
WINDOWS = ("hann", "hamming", "blackman", "rectangular", "hamming_symmetric", "hann_symmetric")


def check_waveform(waveform: torch.Tensor, *, name: str = "waveform") -> torch.Tensor:
    """Validate a ``(..., time)`` floating tensor and return it unchanged."""
    if not isinstance(waveform, torch.Tensor):
        raise ConfigError(
            f"{name} must be a torch.Tensor of shape (..., time), got {type(waveform).__name__}; "
            "convert numpy arrays with torch.from_numpy(x)"
        )
    if not waveform.is_floating_point():
        raise ConfigError(
            f"{name} must be float32 or float64, got {waveform.dtype}; use waveform.float()"
        )
    if waveform.ndim < 1 or waveform.shape[-1] == 0:
        raise ConfigError(
            f"{name} must have a non-empty last (time) dimension, got shape {tuple(waveform.shape)}"
        )
    return waveform


def check_positive(value: float, name: str, *, integer: bool = False) -> None:
    """Raise ConfigError unless ``value`` is a positive (integer) number."""
    if integer and (isinstance(value, bool) or not isinstance(value, (int, np.integer))):
        raise ConfigError(f"{name} must be a positive integer, got {value!r}")
    if not (isinstance(value, (int, float, np.integer, np.floating)) and math.isfinite(value)):
        raise ConfigError(f"{name} must be a finite number, got {value!r}")
    if value <= 0:
        raise ConfigError(f"{name} must be positive, got {value!r}")


def check_sample_rate(sample_rate: float) -> None:
    """Raise ConfigError unless ``sample_rate`` is a positive finite number."""
    if isinstance(sample_rate, bool) or not isinstance(
        sample_rate, (int, float, np.integer, np.floating)
    ):
        raise ConfigError(f"sample_rate must be a number in Hz, got {sample_rate!r}")
    if not math.isfinite(sample_rate) or sample_rate <= 0:
        raise ConfigError(
            f"sample_rate must be a positive number of Hz (e.g. 16000), got {sample_rate!r}"
        )


def check_freq_range(fmin: float, fmax: float | None, sample_rate: float) -> float:
    """Check ``0 <= fmin < fmax <= sample_rate / 2`` and return the resolved ``fmax``."""
    nyquist = sample_rate / 2
    fmax = nyquist if fmax is None else float(fmax)
    if fmin < 0:
        raise ConfigError(f"fmin must be >= 0 Hz, got {fmin}")
    if fmax > nyquist + 1e-9:
        raise ConfigError(
            f"fmax={fmax} Hz is above the Nyquist frequency {nyquist} Hz of sample_rate="
            f"{sample_rate}; lower fmax or pass fmax=None"
        )
    if fmin >= fmax:
        raise ConfigError(f"fmin ({fmin} Hz) must be below fmax ({fmax} Hz)")
    return fmax


def get_window(
    name: str, length: int, *, dtype: torch.dtype = torch.float32, device=None
) -> torch.Tensor:
    """Return an analysis window.

    ``hann``/``hamming``/``blackman`` are periodic (DFT-even, like ``scipy.signal.get_window``
    and librosa); the ``*_symmetric`` variants match MATLAB's ``hamming(N)``/``hann(N)``.

    Shape:
        ``(length,)``
    """
    check_positive(length, "win_length", integer=True)
    if name == "hann":
        return torch.hann_window(length, periodic=True, dtype=dtype, device=device)
    if name == "hann_symmetric":
        return torch.hann_window(length, periodic=False, dtype=dtype, device=device)
    if name == "hamming":
        return torch.hamming_window(length, periodic=True, dtype=dtype, device=device)
    if name == "hamming_symmetric":
        return torch.hamming_window(length, periodic=False, dtype=dtype, device=device)
    if name == "blackman":
        return torch.blackman_window(length, periodic=True, dtype=dtype, device=device)
    if name == "rectangular":
        return torch.ones(length, dtype=dtype, device=device)
    raise ConfigError(f"unknown window {name!r}; choose one of {', '.join(WINDOWS)}")


@lru_cache(maxsize=64)
def _dct_matrix_np(n_in: int, n_out: int) -> np.ndarray:
    n = np.arange(n_in)
    k = np.arange(n_out)[:, None]
    basis = np.cos(np.pi / n_in * (n + 0.5) * k) * math.sqrt(2.0 / n_in)
    basis[0] /= math.sqrt(2.0)
    return basis


def dct_matrix(n_in: int, n_out: int, *, dtype=torch.float32, device=None) -> torch.Tensor:
    """Orthonormal DCT-II basis (``scipy.fft.dct(norm='ortho')``, MATLAB ``dct``), first rows.

    Shape:
        ``(n_out, n_in)``; apply as ``basis @ x`` along the feature axis.
    """
    if n_out > n_in:
        raise ConfigError(
            f"cannot keep {n_out} cepstral coefficients from {n_in} filterbank channels; "
            f"use at most {n_in}"
        )
    return torch.as_tensor(_dct_matrix_np(n_in, n_out), dtype=dtype, device=device)


def htk_deltas(x: torch.Tensor, *, half_width: int = 1, normalize: bool = True) -> torch.Tensor:
    """Regression deltas along the last axis with replicated edge frames (HTK / MATLAB).

    ``d[t] = sum_{n=1..N} n (x[t+n] - x[t-n])``, divided by ``2 sum n^2`` when ``normalize``
    (HTK, ASVspoof 2021 ``Deltas``). ``normalize=False`` with ``half_width=1`` gives
    ``x[t+1] - x[t-1]``, the delta of the ASVspoof 2019 LFCC baselines (Ellis's
    ``deltas.m`` with ``w=3`` and the NII LFCC front-end).

    Shape:
        ``(..., time) -> (..., time)``
    """
    check_positive(half_width, "half_width", integer=True)
    n = x.shape[-1]
    padded = torch.cat(
        [x[..., :1].expand(*x.shape[:-1], half_width), x,
         x[..., -1:].expand(*x.shape[:-1], half_width)], dim=-1,
    )  # fmt: skip
    out = None
    for k in range(1, half_width + 1):
        term = (
            padded[..., half_width + k : half_width + k + n]
            - padded[..., half_width - k : half_width - k + n]
        )
        out = term if out is None else out + k * term
    if normalize:
        out = out / (2.0 * sum(k * k for k in range(1, half_width + 1)))
    return out


def frame_matlab_buffer(x: torch.Tensor, frame_length: int, hop_length: int) -> torch.Tensor:
    """Frames as MATLAB ``buffer(x, L, L - hop, 'nodelay')`` makes them.

    The first frame starts at sample 0; frames advance by ``hop_length``; the last frame is
    zero-padded so that every sample lands in a frame.

    Shape:
        ``(..., time) -> (..., n_frames, frame_length)``
    """
    n = x.shape[-1]
    overlap = frame_length - hop_length
    n_frames = max(1, math.ceil((n - overlap) / hop_length))
    needed = (n_frames - 1) * hop_length + frame_length
    if needed > n:
        x = F.pad(x, (0, needed - n))
    return x.unfold(-1, frame_length, hop_length)


#: On the CPU, batches are processed this many samples at a time: a few clips' spectra stay
#: in cache, which is several times faster than one huge batch (and uses less memory).
CPU_CHUNK_SAMPLES = 1 << 19


def cpu_chunked(fn: Callable) -> Callable:
    """Decorate ``fn(waveform, **kwargs)`` to run on CPU batches in cache-sized chunks.

    The leading dims are flattened, ``fn`` is applied to consecutive chunks of about
    :data:`CPU_CHUNK_SAMPLES` samples and the results are concatenated, so the output is
    identical to one call on the whole batch (features are computed per item). GPU inputs
    and single items pass straight through.
    """

    @functools.wraps(fn)
    def wrapper(waveform, *args, **kwargs):
        if (
            not isinstance(waveform, torch.Tensor)
            or waveform.device.type != "cpu"
            or waveform.ndim < 2
            or waveform.numel() <= CPU_CHUNK_SAMPLES
        ):
            return fn(waveform, *args, **kwargs)
        lead, n = waveform.shape[:-1], waveform.shape[-1]
        flat = waveform.reshape(-1, n)
        step = max(1, CPU_CHUNK_SAMPLES // max(n, 1))
        parts = [fn(flat[i : i + step], *args, **kwargs) for i in range(0, flat.shape[0], step)]
        out = torch.cat(parts, dim=0)
        return out.reshape(*lead, *out.shape[1:])

    return wrapper
