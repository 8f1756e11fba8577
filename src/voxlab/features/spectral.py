"""STFT and spectrograms (librosa conventions), batched over leading dims."""

from __future__ import annotations

import torch

from voxlab.errors import ConfigError
from voxlab.features._common import (
    check_positive,
    check_sample_rate,
    check_waveform,
    cpu_chunked,
    get_window,
)

__all__ = ["spectrogram", "stft"]

# --------------------------------------------------------------------------- STFT


def _check_frames(
    n_samples: int, n_fft: int, hop_length: int, win_length: int, center: bool
) -> None:
    check_positive(n_fft, "n_fft", integer=True)
    check_positive(hop_length, "hop_length", integer=True)
    check_positive(win_length, "win_length", integer=True)
    if win_length > n_fft:
        raise ConfigError(f"win_length ({win_length}) must not exceed n_fft ({n_fft})")
    if not center and n_fft > n_samples:
        raise ConfigError(
            f"n_fft={n_fft} is longer than the signal ({n_samples} samples) and center=False; "
            "use a smaller n_fft, pad the signal, or pass center=True"
        )


def stft(
    waveform: torch.Tensor,
    *,
    n_fft: int = 2048,
    hop_length: int | None = None,
    win_length: int | None = None,
    window: str | torch.Tensor = "hann",
    center: bool = True,
    pad_mode: str = "constant",
) -> torch.Tensor:
    """Short-time Fourier transform (librosa conventions), batched over leading dims.

    Args:
        waveform: Signal, ``(..., time)``.
        n_fft: FFT size.
        hop_length: Frame advance; ``win_length // 4`` when None.
        win_length: Window length (centred in the ``n_fft`` frame); ``n_fft`` when None.
        window: Window name (see :func:`voxlab.features._common.get_window`) or a
            precomputed window tensor of length ``win_length``.
        center: Pad ``n_fft // 2`` samples on both sides so frame ``t`` is centred at
            ``t * hop_length``.
        pad_mode: ``"constant"`` (zeros, librosa's default) or ``"reflect"``.

    Returns:
        Complex STFT.

    Shape:
        ``(..., time) -> (..., n_fft // 2 + 1, n_frames)``
    """
    waveform = check_waveform(waveform)
    if isinstance(window, torch.Tensor):
        if win_length is not None and win_length != window.shape[-1]:
            raise ConfigError(
                f"window tensor has {window.shape[-1]} samples but win_length={win_length}"
            )
        win_length = int(window.shape[-1])
    win_length = n_fft if win_length is None else win_length
    hop_length = win_length // 4 if hop_length is None else hop_length
    _check_frames(waveform.shape[-1], n_fft, hop_length, win_length, center)
    if pad_mode not in ("constant", "reflect"):
        raise ConfigError(f"pad_mode must be 'constant' or 'reflect', got {pad_mode!r}")
    if center and pad_mode == "reflect" and waveform.shape[-1] <= n_fft // 2:
        raise ConfigError(
            f"pad_mode='reflect' needs more than n_fft // 2 = {n_fft // 2} samples, got "
            f"{waveform.shape[-1]}; use pad_mode='constant'"
        )
    if isinstance(window, torch.Tensor):
        win = window.to(dtype=waveform.dtype, device=waveform.device)
    else:
        win = get_window(window, win_length, dtype=waveform.dtype, device=waveform.device)
    shape = waveform.shape
    spec = torch.stft(
        waveform.reshape(-1, shape[-1]),
        n_fft=n_fft,
        hop_length=hop_length,
        win_length=win_length,
        window=win,
        center=center,
        pad_mode=pad_mode,
        return_complex=True,
    )
    return spec.reshape(*shape[:-1], spec.shape[-2], spec.shape[-1])


@cpu_chunked
def spectrogram(
    waveform: torch.Tensor,
    *,
    n_fft: int = 2048,
    hop_length: int | None = None,
    win_length: int | None = None,
    window: str | torch.Tensor = "hann",
    center: bool = True,
    pad_mode: str = "constant",
    power: float = 2.0,
    sample_rate: float | None = None,
) -> torch.Tensor:
    """Magnitude (``power=1``) or power (``power=2``) spectrogram, like ``librosa``'s ``|stft|**p``.

    ``sample_rate`` is accepted (and checked) so that every feature function can be called
    the same way; the spectrogram itself does not depend on it.

    Shape:
        ``(..., time) -> (..., n_fft // 2 + 1, n_frames)``
    """
    check_positive(power, "power")
    if sample_rate is not None:
        check_sample_rate(sample_rate)
    spec = stft(
        waveform,
        n_fft=n_fft,
        hop_length=hop_length,
        win_length=win_length,
        window=window,
        center=center,
        pad_mode=pad_mode,
    )
    # real^2 + imag^2 keeps the gradient finite where the spectrum is exactly zero.
    power_spec = spec.real.square() + spec.imag.square()
    if power == 2.0:
        return power_spec
    return power_spec.clamp_min(torch.finfo(power_spec.dtype).tiny).pow(power / 2.0)
