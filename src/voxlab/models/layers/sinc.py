"""Fixed mel-spaced sinc band-pass filterbank (the raw-waveform front end of AASIST/RawGAT-ST).

The filters are band-pass differences of two windowed sinc low-pass filters whose cut-offs
are spaced evenly on the mel scale between 0 Hz and Nyquist. They are not learned and not
stored in checkpoints: every model rebuilds them from ``(n_filters, kernel_size,
sample_rate)``. The arithmetic follows the published implementations (float32 time axis,
float64 gains, float32 Hamming window) so that outputs match them to ~1e-7.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn


def hz_to_mel(hz: np.ndarray | float) -> np.ndarray:
    """Convert Hz to mel (HTK formula ``2595 log10(1 + f/700)``)."""
    return 2595.0 * np.log10(1.0 + np.asarray(hz) / 700.0)


def mel_to_hz(mel: np.ndarray | float) -> np.ndarray:
    """Convert mel (HTK formula) back to Hz."""
    return 700.0 * (10.0 ** (np.asarray(mel) / 2595.0) - 1.0)


def mel_band_edges(n_filters: int, *, sample_rate: int = 16000, n_fft: int = 512) -> np.ndarray:
    """Band edges in Hz, ``n_filters + 1`` of them, evenly spaced in mel from 0 to Nyquist.

    The mel range is taken over the ``n_fft // 2 + 1`` bin frequencies of an ``n_fft``-point
    FFT, as in the published front end (the result is 0 Hz .. Nyquist either way).
    """
    freqs = int(sample_rate / 2) * np.linspace(0.0, 1.0, n_fft // 2 + 1)
    mels = hz_to_mel(freqs)
    return mel_to_hz(np.linspace(mels.min(), mels.max(), n_filters + 1))


def _np_sinc_float32(x: np.ndarray) -> np.ndarray:
    # numpy's normalised sinc evaluated in float32, exactly as np.sinc does for float32 input.
    y = np.float32(np.pi) * np.where(x == 0, np.float32(1.0e-20), x).astype(np.float32)
    return (np.sin(y) / y).astype(np.float32)


def mel_sinc_filters(n_filters: int, kernel_size: int, *, sample_rate: int = 16000) -> Tensor:
    """Hamming-windowed sinc band-pass filters with mel-spaced cut-offs.

    Args:
        n_filters: Number of band-pass filters.
        kernel_size: Taps per filter; an even value is increased by one (symmetric filters).
        sample_rate: Sampling rate in Hz.

    Returns:
        Filters as float32.

    Shape:
        ``(n_filters, kernel_size | 1)``.
    """
    if n_filters < 1 or kernel_size < 1 or sample_rate <= 0:
        raise ValueError(
            f"need n_filters >= 1, kernel_size >= 1, sample_rate > 0; got "
            f"{n_filters}, {kernel_size}, {sample_rate}"
        )
    taps = kernel_size + 1 if kernel_size % 2 == 0 else kernel_size
    edges = mel_band_edges(n_filters, sample_rate=sample_rate)
    half = (taps - 1) / 2
    support = np.arange(-half, half + 1, dtype=np.float32)
    window = np.hamming(taps).astype(np.float32)
    filters = np.empty((n_filters, taps), dtype=np.float32)
    for i in range(n_filters):
        low, high = edges[i], edges[i + 1]
        # time axis in float32 (scalar rounded to float32, as a torch float tensor would do)
        t_high = (support * np.float32(2 * high)) / np.float32(sample_rate)
        t_low = (support * np.float32(2 * low)) / np.float32(sample_rate)
        h_high = (2 * high / sample_rate) * _np_sinc_float32(t_high).astype(np.float64)
        h_low = (2 * low / sample_rate) * _np_sinc_float32(t_low).astype(np.float64)
        filters[i] = window * (h_high - h_low).astype(np.float32)
    return torch.from_numpy(filters)


class SincFilterbank(nn.Module):
    """Fixed mel-spaced sinc filterbank applied to a raw waveform (no padding, stride 1).

    Args:
        n_filters: Number of band-pass filters (70 in AASIST and RawGAT-ST).
        kernel_size: Filter length; even values become odd (128 -> 129 taps).
        sample_rate: Sampling rate in Hz the cut-offs refer to.
        max_masked_bands: In training mode, zero a random run of ``0..max_masked_bands-1``
            adjacent filters per call (frequency masking augmentation); 0 disables it.
            Has no effect in eval mode.

    Shape:
        Input ``(batch, time)``; output ``(batch, n_filters, time - taps + 1)``.
    """

    def __init__(
        self,
        n_filters: int = 70,
        kernel_size: int = 128,
        *,
        sample_rate: int = 16000,
        max_masked_bands: int = 0,
    ) -> None:
        super().__init__()
        self.n_filters = n_filters
        self.sample_rate = sample_rate
        self.max_masked_bands = max_masked_bands
        filters = mel_sinc_filters(n_filters, kernel_size, sample_rate=sample_rate)
        self.kernel_size = filters.shape[1]
        # Rebuilt from the config: never part of a state dict.
        self.register_buffer("filters", filters.unsqueeze(1), persistent=False)

    def forward(self, waveform: Tensor) -> Tensor:
        """Filter ``waveform``.

        Shape:
            ``(batch, time) -> (batch, n_filters, time - kernel_size + 1)``.
        """
        weight = self.filters
        if self.training and self.max_masked_bands > 0:
            width = int(torch.randint(0, self.max_masked_bands, ()).item())
            start = int(torch.randint(0, self.n_filters - width + 1, ()).item())
            weight = weight.clone()
            weight[start : start + width] = 0.0
        return F.conv1d(waveform.unsqueeze(1), weight)

    def extra_repr(self) -> str:
        """Constructor arguments shown by ``repr``."""
        return (
            f"n_filters={self.n_filters}, kernel_size={self.kernel_size}, "
            f"sample_rate={self.sample_rate}"
        )
