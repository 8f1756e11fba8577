"""RawNet2: the ASVspoof 2021 end-to-end baseline countermeasure (B04).

Tak et al., "End-to-end anti-spoofing with RawNet2", ICASSP 2021; the ASVspoof 2021
LA/DF baseline (``asvspoof-challenge/2021``, ``LA/Baseline-RawNet2/model.py``).

Architecture (default config = the official ``model_config_RawNet.yaml``):

* fixed (not learned) sinc band-pass filterbank: 20 filters whose band edges are equally
  spaced on the mel scale between 0 Hz and Nyquist, 1024 taps made odd (1025), Hamming
  window, no padding; then ``max_pool(|x|, 3)``, batch norm and SELU;
* six residual blocks (2 with 20 channels, 4 with 128), each ending with a max pool of 3
  and followed by filter-wise feature-map scaling (FMS): ``x * s + s`` with
  ``s = sigmoid(fc(mean_t(x)))``;
* batch norm, SELU, a 3-layer GRU (1024 units), the last time step, two linear layers
  (1024, then 2 outputs in the order ``[spoof, bona fide]``).

Parameter names follow the official code one to one (``Sinc_conv`` holds no parameters,
``block0``..``block5``, ``fc_attention0``..``fc_attention5``, ``first_bn``,
``bn_before_gru``, ``gru``, ``fc1_gru``, ``fc2_gru``), so an official state dict loads
with ``load_state_dict(strict=True)`` and no key adapter. No official RawNet2 checkpoint is
available to this project, so numerical parity with a trained official model is untested;
the architecture, key names, shapes and parameter count are tested against the official
definition.

Two details of the official code are kept on purpose because trained checkpoints depend
on them:

* The official residual block computes ``bn1``/LeakyReLU on its input and then discards
  the result (``conv1`` is applied to the block input). voxlab reproduces the effective
  computation (``conv1`` on the input) and keeps ``bn1`` only so the keys match; its
  parameters are frozen (``requires_grad=False``) because they never influence the output.
* The official network ends in ``LogSoftmax`` and the published score is
  ``log_softmax(z)[:, 1]``. With ``RawNet2Config.log_softmax=True`` (default) the forward
  returns those log-probabilities; they are valid logits (``softmax`` of them is the same
  posterior, and cross-entropy on them equals cross-entropy on ``z``), and index 1 is the
  official score. Set it to ``False`` for the raw ``fc2_gru`` outputs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from voxlab.errors import AudioError, ConfigError
from voxlab.models.registry import register_model

__all__ = [
    "MelSincConv",
    "RawNet2",
    "RawNet2Config",
    "ResidualBlock",
    "build_rawnet2",
    "mel_sinc_filters",
]


@dataclass(frozen=True)
class RawNet2Config:
    """Hyper-parameters of RawNet2 (defaults: the ASVspoof 2021 B04 baseline).

    Attributes:
        sample_rate: Input sample rate in Hz (the filterbank spans 0..sample_rate/2).
        nb_samp: Nominal input length in samples (official crop/pad length, 4.04 s).
        sinc_filters: Number of fixed mel-spaced sinc band-pass filters.
        sinc_kernel_size: Filter length; an even value is made odd (1024 -> 1025).
        block_channels: Output channels of the two residual stages.
        blocks: Number of residual blocks in each stage.
        gru_node: GRU hidden size.
        nb_gru_layer: Number of stacked GRU layers.
        nb_fc_node: Width of the linear layer after the GRU.
        log_softmax: Return log-probabilities (official output, index 1 = official score)
            instead of raw logits.
    """

    sample_rate: int = 16000
    nb_samp: int = 64600
    sinc_filters: int = 20
    sinc_kernel_size: int = 1024
    block_channels: tuple[int, int] = (20, 128)
    blocks: tuple[int, int] = (2, 4)
    gru_node: int = 1024
    nb_gru_layer: int = 3
    nb_fc_node: int = 1024
    log_softmax: bool = True

    def __post_init__(self) -> None:
        positive = {
            "sample_rate": self.sample_rate,
            "nb_samp": self.nb_samp,
            "sinc_filters": self.sinc_filters,
            "sinc_kernel_size": self.sinc_kernel_size,
            "gru_node": self.gru_node,
            "nb_gru_layer": self.nb_gru_layer,
            "nb_fc_node": self.nb_fc_node,
        }
        for name, value in positive.items():
            if not isinstance(value, int) or value < 1:
                raise ConfigError(f"RawNet2Config.{name} must be a positive int, got {value!r}")
        for name in ("block_channels", "blocks"):
            value = getattr(self, name)
            if len(value) != 2 or any(not isinstance(v, int) or v < 1 for v in value):
                raise ConfigError(f"RawNet2Config.{name} must be two positive ints, got {value!r}")
        # YAML gives lists; keep the frozen dataclass hashable and comparable.
        object.__setattr__(self, "block_channels", tuple(self.block_channels))
        object.__setattr__(self, "blocks", tuple(self.blocks))

    @property
    def kernel_taps(self) -> int:
        """The filter length actually used (odd)."""
        k = self.sinc_kernel_size
        return k + 1 if k % 2 == 0 else k

    @property
    def min_samples(self) -> int:
        """Shortest input that survives all pooling stages (at least one GRU step)."""
        n_pools = 1 + sum(self.blocks)
        return self.kernel_taps - 1 + 3**n_pools


def _hz_to_mel(hz: np.ndarray) -> np.ndarray:
    return 2595.0 * np.log10(1.0 + hz / 700.0)


def _mel_to_hz(mel: np.ndarray) -> np.ndarray:
    return 700.0 * (10.0 ** (mel / 2595.0) - 1.0)


def mel_sinc_filters(*, n_filters: int, kernel_size: int, sample_rate: int) -> Tensor:
    """The fixed mel-spaced sinc band-pass filterbank of the RawNet2 baseline.

    Band edges are ``n_filters + 1`` points equally spaced on the mel scale between the
    lowest and highest bin frequency of a 512-point FFT grid (0 Hz and ``sample_rate // 2``);
    filter ``i`` is the ideal band-pass ``[edge_i, edge_{i+1}]`` (difference of two
    low-pass sincs) times a symmetric Hamming window. An even ``kernel_size`` is made odd.
    The sinc arguments and values are evaluated in float32, as the official code does
    (its time support is a float32 tensor), the rest in float64; the float32 result matches
    the official filters to ~1e-8.

    Args:
        n_filters: Number of filters.
        kernel_size: Filter length (made odd if even).
        sample_rate: Sample rate in Hz.

    Returns:
        The filters.

    Shape:
        Output: ``(n_filters, 1, kernel_taps)``.
    """
    taps = kernel_size + 1 if kernel_size % 2 == 0 else kernel_size
    nfft = 512
    freqs = int(sample_rate / 2) * np.linspace(0.0, 1.0, nfft // 2 + 1)
    mel = _hz_to_mel(freqs)
    edges = _mel_to_hz(np.linspace(mel.min(), mel.max(), n_filters + 1))
    support = np.arange(-(taps - 1) / 2, (taps - 1) / 2 + 1, dtype=np.float32)
    window = np.hamming(taps)
    bank = np.empty((n_filters, taps), dtype=np.float64)
    for i in range(n_filters):
        f_low, f_high = edges[i], edges[i + 1]
        arg_high = np.float32(2 * f_high) * support / np.float32(sample_rate)
        arg_low = np.float32(2 * f_low) * support / np.float32(sample_rate)
        high = (2 * f_high / sample_rate) * np.sinc(arg_high).astype(np.float64)
        low = (2 * f_low / sample_rate) * np.sinc(arg_low).astype(np.float64)
        bank[i] = window * (high - low)
    return torch.from_numpy(bank.astype(np.float32)).unsqueeze(1)


class MelSincConv(nn.Module):
    """Fixed (non-learned) mel-scaled sinc filterbank convolution, no padding.

    The filters are a non-persistent buffer: they follow ``.to(device)`` but are not in
    the state dict (as in the official code, where they are recomputed on every call).

    Shape:
        Input: ``(batch, 1, time)``. Output: ``(batch, n_filters, time - taps + 1)``.
    """

    def __init__(self, *, n_filters: int, kernel_size: int, sample_rate: int) -> None:
        super().__init__()
        filters = mel_sinc_filters(
            n_filters=n_filters, kernel_size=kernel_size, sample_rate=sample_rate
        )
        self.register_buffer("filters", filters, persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        """Filter ``x`` with every band-pass filter."""
        return F.conv1d(x, self.filters)


class ResidualBlock(nn.Module):
    """RawNet2 residual block (official ``Residual_block``), with a final max pool of 3.

    ``conv1(x) -> bn2 -> LeakyReLU(0.3) -> conv2``, plus the identity (a 1x1 convolution
    when the channel count changes), then ``MaxPool1d(3)``. ``bn1`` exists for key
    compatibility on non-first blocks but, as in the effective official computation,
    does not touch the output (see the module docstring); its parameters are frozen.

    Shape:
        Input: ``(batch, in_channels, time)``.
        Output: ``(batch, out_channels, time // 3)``.
    """

    def __init__(self, in_channels: int, out_channels: int, *, first: bool = False) -> None:
        super().__init__()
        self.first = first
        if not first:
            self.bn1 = nn.BatchNorm1d(in_channels)
            for p in self.bn1.parameters():
                p.requires_grad_(False)
        self.lrelu = nn.LeakyReLU(negative_slope=0.3)
        self.conv1 = nn.Conv1d(in_channels, out_channels, kernel_size=3, padding=1)
        self.bn2 = nn.BatchNorm1d(out_channels)
        self.conv2 = nn.Conv1d(out_channels, out_channels, kernel_size=3, padding=1)
        self.downsample = in_channels != out_channels
        if self.downsample:
            self.conv_downsample = nn.Conv1d(in_channels, out_channels, kernel_size=1)
        self.mp = nn.MaxPool1d(3)

    def forward(self, x: Tensor) -> Tensor:
        """Apply the block."""
        out = self.conv1(x)
        out = self.lrelu(self.bn2(out))
        out = self.conv2(out)
        identity = self.conv_downsample(x) if self.downsample else x
        return self.mp(out + identity)


class RawNet2(nn.Module):
    """RawNet2 countermeasure on raw 16 kHz waveforms.

    Args:
        config: Hyper-parameters; the default is the official B04 baseline.

    Shape:
        Input: ``(batch, time)`` float waveform at ``config.sample_rate`` (``(batch, 1,
        time)`` is accepted too); the official length is 64,600 samples, any length of at
        least ``config.min_samples`` works. Output: ``(batch, 2)`` in the order
        ``[spoof, bona fide]`` (log-probabilities if ``config.log_softmax``).
    """

    def __init__(self, config: RawNet2Config | None = None) -> None:
        super().__init__()
        cfg = config if config is not None else RawNet2Config()
        self.config = cfg
        c1, c2 = cfg.block_channels
        self.Sinc_conv = MelSincConv(
            n_filters=cfg.sinc_filters,
            kernel_size=cfg.sinc_kernel_size,
            sample_rate=cfg.sample_rate,
        )
        self.first_bn = nn.BatchNorm1d(cfg.sinc_filters)
        self.selu = nn.SELU()
        widths: list[tuple[int, int]] = []
        in_ch = cfg.sinc_filters
        for n_blocks, out_ch in zip(cfg.blocks, (c1, c2), strict=True):
            for _ in range(n_blocks):
                widths.append((in_ch, out_ch))
                in_ch = out_ch
        self.n_blocks = len(widths)
        for i, (cin, cout) in enumerate(widths):
            # nn.Sequential wrappers reproduce the official keys ("block0.0.conv1.weight").
            setattr(self, f"block{i}", nn.Sequential(ResidualBlock(cin, cout, first=(i == 0))))
            setattr(self, f"fc_attention{i}", nn.Sequential(nn.Linear(cout, cout)))
        self.bn_before_gru = nn.BatchNorm1d(c2)
        self.gru = nn.GRU(
            input_size=c2,
            hidden_size=cfg.gru_node,
            num_layers=cfg.nb_gru_layer,
            batch_first=True,
        )
        self.fc1_gru = nn.Linear(cfg.gru_node, cfg.nb_fc_node)
        self.fc2_gru = nn.Linear(cfg.nb_fc_node, 2)

    def forward(self, waveform: Tensor) -> Tensor:
        """Score a batch of waveforms.

        Args:
            waveform: Float waveforms.

        Returns:
            ``[spoof, bona fide]`` outputs per item.

        Shape:
            Input: ``(batch, time)`` or ``(batch, 1, time)``. Output: ``(batch, 2)``.

        Raises:
            AudioError: Wrong rank or fewer than ``config.min_samples`` samples.
        """
        x = waveform
        if x.dim() == 3 and x.shape[1] == 1:
            x = x.squeeze(1)
        if x.dim() != 2:
            raise AudioError(
                f"RawNet2 expects waveforms shaped (batch, time), got {tuple(waveform.shape)}; "
                "batch mono 16 kHz audio first"
            )
        if x.shape[-1] < self.config.min_samples:
            raise AudioError(
                f"RawNet2 needs at least {self.config.min_samples} samples per item, got "
                f"{x.shape[-1]}; pad the audio (the official policy tiles it to "
                f"{self.config.nb_samp} samples)"
            )
        x = self.Sinc_conv(x.unsqueeze(1))
        x = F.max_pool1d(torch.abs(x), 3)
        x = self.selu(self.first_bn(x))
        for i in range(self.n_blocks):
            x = getattr(self, f"block{i}")(x)
            scale = torch.sigmoid(getattr(self, f"fc_attention{i}")(x.mean(dim=-1)))
            scale = scale.unsqueeze(-1)
            x = x * scale + scale
        x = self.selu(self.bn_before_gru(x))
        x, _ = self.gru(x.transpose(1, 2))
        x = self.fc2_gru(self.fc1_gru(x[:, -1, :]))
        if self.config.log_softmax:
            x = F.log_softmax(x, dim=1)
        return x


@register_model(
    "rawnet2",
    config=RawNet2Config(),
    description="RawNet2 (ASVspoof 2021 baseline B04): fixed mel-sinc filters, FMS residual "
    "blocks, GRU",
)
def build_rawnet2(config: RawNet2Config) -> RawNet2:
    """Build :class:`RawNet2` from its config."""
    return RawNet2(config)
