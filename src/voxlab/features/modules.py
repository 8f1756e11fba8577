"""Thin ``nn.Module`` wrappers of :mod:`voxlab.features.functional`.

Windows, filterbanks and DCT matrices are registered as (non-persistent) buffers, so they
follow ``.to(device)`` / ``.double()`` and are not written into checkpoints. Each module gives
the same result as its functional counterpart with the same arguments. Buffers are built in
float64 and cast to the input's dtype at call time.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from voxlab.features import functional as F
from voxlab.features._common import dct_matrix, get_window

__all__ = ["CQCC", "LFCC", "MFCC", "Deltas", "LogMel", "MelSpectrogram", "Spectrogram"]


class Spectrogram(nn.Module):
    """Power/magnitude spectrogram; see :func:`~voxlab.features.functional.spectrogram`.

    Shape:
        ``(..., time) -> (..., n_fft // 2 + 1, n_frames)``
    """

    def __init__(
        self,
        *,
        n_fft: int = 2048,
        hop_length: int | None = None,
        win_length: int | None = None,
        window: str = "hann",
        center: bool = True,
        pad_mode: str = "constant",
        power: float = 2.0,
    ) -> None:
        super().__init__()
        self.n_fft = n_fft
        self.win_length = n_fft if win_length is None else win_length
        self.hop_length = self.win_length // 4 if hop_length is None else hop_length
        self.center = center
        self.pad_mode = pad_mode
        self.power = power
        self.register_buffer(
            "window", get_window(window, self.win_length, dtype=torch.float64), persistent=False
        )

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        """Spectrogram of ``waveform``."""
        return F.spectrogram(
            waveform,
            n_fft=self.n_fft,
            hop_length=self.hop_length,
            window=self.window,
            center=self.center,
            pad_mode=self.pad_mode,
            power=self.power,
        )

    def extra_repr(self) -> str:  # noqa: D102
        return f"n_fft={self.n_fft}, hop_length={self.hop_length}, power={self.power}"


class MelSpectrogram(Spectrogram):
    """Mel spectrogram; see :func:`~voxlab.features.functional.mel_spectrogram`.

    Shape:
        ``(..., time) -> (..., n_mels, n_frames)``
    """

    def __init__(
        self,
        *,
        sample_rate: float,
        n_fft: int = 2048,
        hop_length: int = 512,
        win_length: int | None = None,
        window: str = "hann",
        center: bool = True,
        pad_mode: str = "constant",
        power: float = 2.0,
        n_mels: int = 128,
        fmin: float = 0.0,
        fmax: float | None = None,
        htk: bool = False,
        norm: str | None = "slaney",
    ) -> None:
        super().__init__(
            n_fft=n_fft,
            hop_length=hop_length,
            win_length=win_length,
            window=window,
            center=center,
            pad_mode=pad_mode,
            power=power,
        )
        self.sample_rate = sample_rate
        self.n_mels = n_mels
        fb = F.mel_filterbank(
            sample_rate=sample_rate,
            n_fft=n_fft,
            n_mels=n_mels,
            fmin=fmin,
            fmax=fmax,
            htk=htk,
            norm=norm,
            dtype=torch.float64,
        )
        self.register_buffer("filterbank", fb, persistent=False)

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        """Mel spectrogram of ``waveform``."""
        spec = super().forward(waveform)
        return torch.matmul(self.filterbank.to(spec.dtype), spec)

    def extra_repr(self) -> str:  # noqa: D102
        return f"sample_rate={self.sample_rate}, n_mels={self.n_mels}, " + super().extra_repr()


class LogMel(MelSpectrogram):
    """Log-mel spectrogram in dB; see :func:`~voxlab.features.functional.log_mel`.

    Shape:
        ``(..., time) -> (..., n_mels, n_frames)``
    """

    def __init__(
        self, *, sample_rate: float, amin: float = 1e-10, top_db: float | None = 80.0, **kwargs
    ) -> None:
        super().__init__(sample_rate=sample_rate, **kwargs)
        self.amin = amin
        self.top_db = top_db

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        """Log-mel spectrogram of ``waveform``."""
        return F.power_to_db(super().forward(waveform), amin=self.amin, top_db=self.top_db)


class MFCC(LogMel):
    """MFCCs; see :func:`~voxlab.features.functional.mfcc`.

    Shape:
        ``(..., time) -> (..., n_mfcc, n_frames)``
    """

    def __init__(
        self, *, sample_rate: float, n_mfcc: int = 20, lifter: float = 0.0, **kwargs
    ) -> None:
        super().__init__(sample_rate=sample_rate, **kwargs)
        self.n_mfcc = n_mfcc
        self.register_buffer(
            "dct", dct_matrix(self.n_mels, n_mfcc, dtype=torch.float64), persistent=False
        )
        n = torch.arange(1, n_mfcc + 1, dtype=torch.float64)
        lift = (
            1.0 + (lifter / 2.0) * torch.sin(math.pi * n / lifter)
            if lifter > 0
            else torch.ones_like(n)
        )
        self.register_buffer("lifter", lift.unsqueeze(-1), persistent=False)

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        """MFCCs of ``waveform``."""
        log_spec = super().forward(waveform)
        ceps = torch.matmul(self.dct.to(log_spec.dtype), log_spec)
        return ceps * self.lifter.to(ceps.dtype)


class LFCC(nn.Module):
    """LFCCs (ASVspoof baselines); see :func:`~voxlab.features.functional.lfcc`.

    ``LFCC(sample_rate=16000, **LFCC_PRESETS["asvspoof2019_gmm"])`` gives a preset.

    Shape:
        ``(..., time) -> (..., n_lfcc * (3 if with_deltas else 1), n_frames)``
    """

    def __init__(
        self,
        *,
        sample_rate: float,
        n_fft: int = 512,
        win_length: int = 320,
        hop_length: int = 160,
        n_filters: int = 20,
        n_lfcc: int = 20,
        fmin: float = 0.0,
        fmax: float | None = None,
        window: str = "hamming",
        pre_emphasis: float = 0.97,
        with_energy: bool = True,
        with_deltas: bool = True,
        framing: str = "center",
        grid: str = "nii",
        delta_half_width: int = 1,
        delta_normalize: bool = False,
        log_floor: float = float(torch.finfo(torch.float32).eps),
    ) -> None:
        super().__init__()
        # Validate every argument once, on a short dummy signal.
        F.lfcc(
            torch.zeros(max(n_fft, win_length) + hop_length),
            sample_rate=sample_rate, n_fft=n_fft, win_length=win_length,
            hop_length=hop_length, n_filters=n_filters, n_lfcc=n_lfcc, fmin=fmin, fmax=fmax,
            window=window, pre_emphasis=pre_emphasis, with_energy=with_energy,
            with_deltas=False, framing=framing, grid=grid, log_floor=log_floor,
        )  # fmt: skip
        self.sample_rate = sample_rate
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.n_lfcc = n_lfcc
        self.pre_emphasis = pre_emphasis
        self.with_energy = with_energy
        self.with_deltas = with_deltas
        self.framing = framing
        self.delta_half_width = delta_half_width
        self.delta_normalize = delta_normalize
        self.log_floor = log_floor
        self.band = F.lfcc_band(
            sample_rate=sample_rate, n_fft=n_fft, fmin=fmin, fmax=fmax, grid=grid
        )
        fb = F.linear_filterbank(
            sample_rate=sample_rate, n_fft=n_fft, n_filters=n_filters, fmin=fmin, fmax=fmax,
            grid=grid, dtype=torch.float64,
        )  # fmt: skip
        self.register_buffer(
            "window", get_window(window, win_length, dtype=torch.float64), persistent=False
        )
        self.register_buffer("filterbank", fb, persistent=False)
        self.register_buffer(
            "dct", dct_matrix(n_filters, n_lfcc, dtype=torch.float64), persistent=False
        )

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        """LFCCs of ``waveform``."""
        return F.lfcc_from_parts(
            waveform,
            window=self.window.to(waveform.dtype),
            filterbank=self.filterbank,
            dct=self.dct,
            band=self.band,
            n_fft=self.n_fft,
            hop_length=self.hop_length,
            pre_emphasis=self.pre_emphasis,
            with_energy=self.with_energy,
            with_deltas=self.with_deltas,
            framing=self.framing,
            delta_half_width=self.delta_half_width,
            delta_normalize=self.delta_normalize,
            log_floor=self.log_floor,
        )

    def extra_repr(self) -> str:  # noqa: D102
        return (
            f"sample_rate={self.sample_rate}, n_fft={self.n_fft}, n_lfcc={self.n_lfcc}, "
            f"with_deltas={self.with_deltas}, framing={self.framing!r}"
        )


class CQCC(nn.Module):
    """CQCCs (ASVspoof CQCC-GMM front-end); see :func:`~voxlab.features.functional.cqcc`.

    The CQT windows depend on the signal length, so they are built (and cached) per length
    at call time rather than held as buffers.

    Shape:
        ``(..., time) -> (..., (n_ceps + include_c0) * (3 if with_deltas else 1), n_frames)``
    """

    def __init__(self, *, sample_rate: float, **kwargs) -> None:
        super().__init__()
        self.sample_rate = sample_rate
        self.kwargs = kwargs
        F.cqcc(torch.zeros(int(sample_rate // 2)), sample_rate=sample_rate, **kwargs)

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        """CQCCs of ``waveform``."""
        return F.cqcc(waveform, sample_rate=self.sample_rate, **self.kwargs)

    def extra_repr(self) -> str:  # noqa: D102
        return f"sample_rate={self.sample_rate}, {self.kwargs}"


class Deltas(nn.Module):
    """librosa-compatible deltas on the last axis; see :func:`~voxlab.features.functional.deltas`.

    Shape:
        same as the input
    """

    def __init__(self, *, width: int = 9, order: int = 1) -> None:
        super().__init__()
        self.width = width
        self.order = order

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """Deltas of ``features`` along the last (time) axis."""
        return F.deltas(features, width=self.width, order=self.order)
