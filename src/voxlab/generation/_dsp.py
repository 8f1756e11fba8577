"""Small numpy DSP helpers private to generation (deterministic, no threads)."""

from __future__ import annotations

import numpy as np


def hann(length: int) -> np.ndarray:
    """Periodic Hann window (as ``scipy.signal.get_window("hann", n)``)."""
    n = np.arange(length)
    return 0.5 - 0.5 * np.cos(2.0 * np.pi * n / length)


def stft(x: np.ndarray, *, n_fft: int, hop_length: int) -> np.ndarray:
    """Centred STFT with zero padding and a periodic Hann window (librosa's conventions).

    Shape:
        ``(time,) -> (n_fft // 2 + 1, frames)`` with ``frames = 1 + time // hop_length``
    """
    pad = n_fft // 2
    padded = np.pad(np.asarray(x, dtype=np.float64), (pad, pad))
    n_frames = 1 + (len(padded) - n_fft) // hop_length
    idx = np.arange(n_fft)[None, :] + hop_length * np.arange(n_frames)[:, None]
    return np.fft.rfft(padded[idx] * hann(n_fft), axis=-1).T


def overlap_add(frames: np.ndarray, hop_length: int) -> np.ndarray:
    """Sums frames placed ``hop_length`` apart (vectorised when the hop divides the length).

    Shape:
        ``(n_frames, frame_length) -> (frame_length + hop_length * (n_frames - 1),)``
    """
    n_frames, frame_length = frames.shape
    total = frame_length + hop_length * (n_frames - 1)
    out = np.zeros(total)
    if frame_length % hop_length == 0:
        ratio = frame_length // hop_length
        blocks = frames.reshape(n_frames, ratio, hop_length)
        grid = out.reshape(-1, hop_length)
        for r in range(ratio):
            grid[r : r + n_frames] += blocks[:, r]
        return out
    for k in range(n_frames):
        out[k * hop_length : k * hop_length + frame_length] += frames[k]
    return out


def istft(spec: np.ndarray, *, hop_length: int, length: int) -> np.ndarray:
    """Inverse of :func:`stft` by weighted overlap-add (least-squares ISTFT).

    Shape:
        ``(n_fft // 2 + 1, frames) -> (length,)``
    """
    n_fft = (spec.shape[0] - 1) * 2
    win = hann(n_fft)
    frames = np.fft.irfft(spec.T, n=n_fft, axis=-1) * win
    out = overlap_add(frames, hop_length)
    norm = overlap_add(np.broadcast_to(win * win, frames.shape), hop_length)
    out /= np.maximum(norm, 1e-8)
    pad = n_fft // 2
    out = out[pad : pad + length]
    return np.pad(out, (0, max(0, length - len(out))))


def levinson(r: np.ndarray, order: int) -> tuple[np.ndarray, float]:
    """Levinson-Durbin recursion: LPC polynomial ``[1, a1, ..., ap]`` and prediction error.

    Args:
        r: Autocorrelation ``r[0..order]``.
        order: Predictor order.

    Returns:
        ``(a, err)`` with ``a`` of length ``order + 1``.
    """
    a = np.zeros(order + 1)
    a[0] = 1.0
    err = float(r[0])
    if err <= 0.0:
        return a, 0.0
    for i in range(1, order + 1):
        acc = r[i] + np.dot(a[1:i], r[i - 1 : 0 : -1])
        k = -acc / err
        a[1 : i + 1] = a[1 : i + 1] + k * np.concatenate([a[i - 1 : 0 : -1], [1.0]])
        err *= 1.0 - k * k
        if err <= 0.0:
            return a, 0.0
    return a, err
