"""The neural-source-filter (NSF) half of RVC's decoder: sine source and NSF HiFi-GAN.

An F0-conditioned RVC model excites its HiFi-GAN decoder with a sine at the input pitch
(:class:`SineGen`), mixed by a ``Linear(1, 1)`` + tanh (:class:`SourceModuleHnNSF`) and
added after every upsampling stage through a strided "noise conv"
(:class:`GeneratorNSF`).

Facts (RVC-Project/Retrieval-based-Voice-Conversion-WebUI, branch 20240604,
``infer/lib/infer_pack/models.py``): sine amplitude 0.1, additive noise std 0.003 in
voiced samples and 0.1/3 in unvoiced ones, voiced = F0 > 0 decided per frame and held for
the hop, no harmonics (``harmonic_num`` 0). The phase is built per frame: inside frame
``t`` sample ``j`` (1-based) is at ``offset_t + j * f0_t / sr`` cycles, and ``offset_t``
is the running sum of the previous frames' advances ``hop * f0 / sr``, each wrapped to
[-0.5, 0.5) and the sum reduced modulo 1 (so the phase stays small and float32 keeps its
precision on long inputs). The code is voxlab's own.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from voxlab.generation.neural import commons
from voxlab.generation.neural.commons import (
    WNConvTranspose1d,
    conv_add_cl,
    conv_cl,
    conv_transpose_cl,
    from_channels_last,
    to_channels_last,
)
from voxlab.generation.neural.hifigan import ResBlock1, ResBlock2


class SineGen(nn.Module):
    """Sine (and harmonics) at a frame-rate F0 contour, upsampled to the sample rate.

    Args:
        sampling_rate: Output sample rate in Hz.
        harmonic_num: Overtones above F0 (RVC uses 0).
        sine_amp: Sine amplitude.
        noise_std: Noise std in voiced samples (unvoiced: ``sine_amp / 3``).
        voiced_threshold: F0 above this (Hz) is voiced.

    Shape:
        ``f0`` ``(B, T)`` in Hz -> ``(B, T * upp, harmonic_num + 1)``.
    """

    def __init__(
        self,
        sampling_rate: int,
        *,
        harmonic_num: int = 0,
        sine_amp: float = 0.1,
        noise_std: float = 0.003,
        voiced_threshold: float = 0.0,
    ) -> None:
        super().__init__()
        self.sampling_rate = sampling_rate
        self.harmonic_num = harmonic_num
        self.dim = harmonic_num + 1
        self.sine_amp = sine_amp
        self.noise_std = noise_std
        self.voiced_threshold = voiced_threshold

    def phase(self, f0: Tensor, upp: int) -> Tensor:
        """Phase of the fundamental in cycles, wrapped per frame.

        Args:
            f0: F0 in Hz per frame. Shape: ``(B, T)``.
            upp: Samples per frame.

        Returns:
            Phase in cycles (kept in a small range). Shape: ``(B, T * upp)``.
        """
        steps = torch.arange(1, upp + 1, dtype=f0.dtype, device=f0.device)
        within = (f0.unsqueeze(-1) / self.sampling_rate) * steps  # (B, T, upp)
        advance = torch.fmod(within[:, :-1, -1].float() + 0.5, 1.0) - 0.5
        offset = torch.fmod(torch.cumsum(advance, dim=1), 1.0).to(f0.dtype)
        within = within + F.pad(offset, (1, 0)).unsqueeze(-1)
        return within.reshape(f0.shape[0], -1)

    @torch.no_grad()
    def forward(self, f0: Tensor, upp: int) -> Tensor:
        """Sine source with noise (zero noise inside :func:`commons.deterministic`)."""
        phase = self.phase(f0, upp).unsqueeze(-1)  # (B, N, 1)
        if self.dim > 1:
            harmonics = torch.arange(1, self.dim + 1, dtype=f0.dtype, device=f0.device)
            phase = phase * harmonics
            initial = commons.rand(1, 1, self.dim, like=phase)
            initial[..., 0] = 0
            phase = phase + initial
        sines = torch.sin(2 * math.pi * phase) * self.sine_amp
        uv = (f0 > self.voiced_threshold).to(sines.dtype)
        uv = uv.repeat_interleave(upp, dim=1).unsqueeze(-1)  # (B, N, 1)
        noise_amp = uv * self.noise_std + (1 - uv) * (self.sine_amp / 3)
        return sines * uv + noise_amp * commons.randn_like(sines)


class SourceModuleHnNSF(nn.Module):
    """Harmonic-plus-noise NSF source: :class:`SineGen`, then ``tanh(Linear(harmonics))``.

    Keys: ``l_linear.weight`` ``(1, harmonic_num + 1)`` and ``l_linear.bias`` ``(1,)``.

    Shape:
        ``f0`` ``(B, T)`` -> ``(B, T * upp, 1)``.
    """

    def __init__(
        self,
        sampling_rate: int,
        *,
        harmonic_num: int = 0,
        sine_amp: float = 0.1,
        noise_std: float = 0.003,
        voiced_threshold: float = 0.0,
    ) -> None:
        super().__init__()
        self.l_sin_gen = SineGen(
            sampling_rate, harmonic_num=harmonic_num, sine_amp=sine_amp,
            noise_std=noise_std, voiced_threshold=voiced_threshold,
        )  # fmt: skip
        self.l_linear = nn.Linear(harmonic_num + 1, 1)

    def forward(self, f0: Tensor, upp: int) -> Tensor:
        """The merged excitation."""
        sines = self.l_sin_gen(f0, upp).to(self.l_linear.weight.dtype)
        return torch.tanh(self.l_linear(sines))


class GeneratorNSF(nn.Module):
    """HiFi-GAN decoder with an NSF source injected after each upsampling stage.

    Stage ``i``: LeakyReLU(0.1), transposed conv (weight-normed), plus
    ``noise_convs[i]`` of the source (a strided conv bringing the sample-rate source to
    the stage's rate; the last stage uses a 1x1 conv), then the mean of the stage's
    residual blocks. After the stages: LeakyReLU(0.01), ``conv_post`` (no bias), tanh.

    Args:
        initial_channel: Input (latent) channels.
        resblock: ``"1"`` or ``"2"``.
        resblock_kernel_sizes: Kernel sizes of each stage's residual blocks.
        resblock_dilation_sizes: Their dilations.
        upsample_rates: Upsampling factor of each stage.
        upsample_initial_channel: Channels after ``conv_pre``.
        upsample_kernel_sizes: Transposed-conv kernel of each stage.
        gin_channels: Speaker-embedding width (0: no ``cond`` conv).
        sampling_rate: Output sample rate in Hz (for the sine source).

    Shape:
        ``x`` ``(B, initial_channel, T)``, ``f0`` ``(B, T)`` Hz, ``g`` ``(B, gin, 1)`` ->
        ``(B, 1, T * prod(upsample_rates))``.
    """

    def __init__(
        self,
        initial_channel: int,
        resblock: str,
        resblock_kernel_sizes: Sequence[int],
        resblock_dilation_sizes: Sequence[Sequence[int]],
        upsample_rates: Sequence[int],
        upsample_initial_channel: int,
        upsample_kernel_sizes: Sequence[int],
        *,
        gin_channels: int,
        sampling_rate: int,
    ) -> None:
        super().__init__()
        self.num_kernels = len(resblock_kernel_sizes)
        self.upp = math.prod(upsample_rates)
        self.m_source = SourceModuleHnNSF(sampling_rate, harmonic_num=0)
        self.conv_pre = nn.Conv1d(initial_channel, upsample_initial_channel, 7, 1, padding=3)
        block = ResBlock1 if str(resblock) == "1" else ResBlock2
        self.ups = nn.ModuleList()
        self.noise_convs = nn.ModuleList()
        self.resblocks = nn.ModuleList()
        channels = upsample_initial_channel
        for i, (rate, kernel) in enumerate(zip(upsample_rates, upsample_kernel_sizes)):
            out = upsample_initial_channel // 2 ** (i + 1)
            self.ups.append(
                WNConvTranspose1d(channels, out, kernel, rate, padding=(kernel - rate) // 2)
            )
            stride = math.prod(upsample_rates[i + 1 :])
            if i + 1 < len(upsample_rates):
                self.noise_convs.append(
                    nn.Conv1d(1, out, stride * 2, stride=stride, padding=stride // 2)
                )
            else:
                self.noise_convs.append(nn.Conv1d(1, out, 1))
            for k, d in zip(resblock_kernel_sizes, resblock_dilation_sizes):
                self.resblocks.append(block(out, k, tuple(d)))
            channels = out
        self.conv_post = nn.Conv1d(channels, 1, 7, 1, padding=3, bias=False)
        if gin_channels:
            self.cond = nn.Conv1d(gin_channels, upsample_initial_channel, 1)
        self.fast_inference = True

    def source(self, f0: Tensor) -> Tensor:
        """The NSF excitation for ``f0`` (``har_source`` of the official code).

        Shape:
            ``(B, T)`` -> ``(B, T * upp, 1)``.
        """
        return self.m_source(f0, self.upp)

    def forward(self, x: Tensor, f0: Tensor, g: Tensor | None = None) -> Tensor:
        """Decode a latent sequence to audio.

        Without gradients on the CPU (and unless ``fast_inference`` is False) the same
        computation runs on channels-last maps with fused activations and additions
        (:meth:`forward_cl`, the shared HiFi-GAN fast path), equal up to float rounding;
        forward hooks on ``conv_pre`` and the stages fire on the plain path only.
        """
        har = self.source(f0).transpose(1, 2)  # (B, 1, T * upp)
        if self.fast_inference and not torch.is_grad_enabled() and x.device.type == "cpu":
            return self.forward_cl(x, har, g)
        x = self.conv_pre(x)
        if g is not None:
            x = x + self.cond(g)
        for i, (up, noise_conv) in enumerate(zip(self.ups, self.noise_convs)):
            x = up(F.leaky_relu(x, commons.LRELU_SLOPE))
            x = x + noise_conv(har)
            blocks = self.resblocks[i * self.num_kernels : (i + 1) * self.num_kernels]
            total = blocks[0](x)
            for block in blocks[1:]:
                total = total + block(x)
            x = total / self.num_kernels
        x = self.conv_post(F.leaky_relu(x))
        return torch.tanh(x)

    def forward_cl(self, x: Tensor, har: Tensor, g: Tensor | None = None) -> Tensor:
        """:meth:`forward` on channels-last ``(B, C, 1, T)`` maps, given the source ``har``.

        Shape:
            ``x`` ``(B, C, T)``, ``har`` ``(B, 1, T * upp)`` -> ``(B, 1, T * upp)``.
        """
        h = conv_cl(to_channels_last(x), self.conv_pre)
        if g is not None:
            h.add_(self.cond(g).unsqueeze(2))
        source = to_channels_last(har)
        for i, (up, noise_conv) in enumerate(zip(self.ups, self.noise_convs)):
            h = conv_transpose_cl(F.leaky_relu_(h, commons.LRELU_SLOPE), up)
            h = conv_add_cl(source, noise_conv, h, inplace=True)
            blocks = self.resblocks[i * self.num_kernels : (i + 1) * self.num_kernels]
            total = blocks[0].forward_cl(h)
            for block in blocks[1:]:
                total.add_(block.forward_cl(h))
            h = total.div_(self.num_kernels)
        h = conv_cl(F.leaky_relu_(h), self.conv_post)
        return from_channels_last(torch.tanh_(h))
