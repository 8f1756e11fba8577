"""RawGAT-ST: spectro-temporal graph attention on raw waveforms.

Tak et al., "End-to-End Spectro-Temporal Graph Attention Networks for Speaker Verification
Anti-Spoofing and Speech Deepfake Detection", ASVspoof 2021 workshop. A fixed sinc
filterbank and two 2-D residual encoders feed a spectral graph and a temporal graph; after
graph attention and pooling both are projected to the same number of nodes, fused
element-wise (multiplication in the paper's best system, or addition) and passed through a
third graph attention layer.

The node projections have fixed sizes, so the network accepts only inputs whose encoder
output has exactly the trained number of frames: use ``config.num_samples`` (64,600)
samples. Output: logits ``[spoof, bona fide]``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from voxlab.errors import ConfigError, DurationError
from voxlab.models.layers import GraphAttention, GraphPool, ResidualBlock2d, SincFilterbank
from voxlab.models.layers.graph import pooled_node_count
from voxlab.models.registry import register_model

_FUSIONS = ("mul", "add")


@dataclass(frozen=True)
class RawGATSTConfig:
    """Hyper-parameters of RawGAT-ST (defaults: the published RawGAT-ST, mul fusion).

    Attributes:
        fusion: How the spectral and temporal graphs are combined: ``"mul"`` or ``"add"``.
        n_filters: Sinc filters of the front end.
        sinc_kernel_size: Sinc filter length (made odd).
        sample_rate: Input sampling rate in Hz.
        num_samples: The one input length the network accepts.
        encoder_channels: Output channels of the six residual blocks of each encoder.
        gat_dim: Node size of the spectral and temporal graph attention layers.
        fused_gat_dim: Node size of the spectro-temporal graph attention layer.
        fused_nodes: Nodes of the fused graph (both graphs are projected to this many).
        pool_ratios: Kept-node ratios of the spectral, temporal and fused pools.
        max_masked_bands: Frequency-mask augmentation of the sinc filters in training
            (0 = off).
    """

    fusion: str = "mul"
    n_filters: int = 70
    sinc_kernel_size: int = 128
    sample_rate: int = 16000
    num_samples: int = 64600
    encoder_channels: tuple[int, ...] = (32, 32, 64, 64, 64, 64)
    gat_dim: int = 32
    fused_gat_dim: int = 16
    fused_nodes: int = 12
    pool_ratios: tuple[float, float, float] = (0.64, 0.81, 0.64)
    max_masked_bands: int = 0

    def __post_init__(self) -> None:
        if self.fusion not in _FUSIONS:
            raise ConfigError(f"RawGAT-ST fusion must be one of {_FUSIONS}, got {self.fusion!r}")
        if len(self.pool_ratios) != 3 or not all(0.0 < r <= 1.0 for r in self.pool_ratios):
            raise ConfigError(f"RawGAT-ST needs 3 pool_ratios in (0, 1], got {self.pool_ratios}")
        if self.encoder_frames < 1:
            raise ConfigError(
                f"RawGAT-ST num_samples={self.num_samples} is too short for its encoder"
            )

    @property
    def spectral_nodes(self) -> int:
        """Spectral graph nodes: frequency bins after the first 3x3 max-pool."""
        return self.n_filters // 3

    @property
    def encoder_frames(self) -> int:
        """Temporal graph nodes: frames left by the front end and the encoder."""
        taps = self.sinc_kernel_size + (1 - self.sinc_kernel_size % 2)
        frames = (self.num_samples - taps + 1) // 3
        for _ in self.encoder_channels:
            frames //= 3
        return frames


class RawGATST(nn.Module):
    """RawGAT-ST countermeasure.

    Args:
        config: Architecture hyper-parameters.

    Shape:
        Input ``(batch, config.num_samples)`` float waveform; output ``(batch, 2)`` logits
        ``[spoof, bona fide]``.
    """

    def __init__(self, config: RawGATSTConfig | None = None) -> None:
        super().__init__()
        self.config = config = config or RawGATSTConfig()
        encoder_dim = config.encoder_channels[-1]
        spectral_ratio, temporal_ratio, fused_ratio = config.pool_ratios

        self.frontend = SincFilterbank(
            config.n_filters,
            config.sinc_kernel_size,
            sample_rate=config.sample_rate,
            max_masked_bands=config.max_masked_bands,
        )
        self.input_norm = nn.BatchNorm2d(1)
        self.act = nn.SELU()
        channels = (1, *config.encoder_channels)
        self.spectral_encoder = self._encoder(channels)
        self.temporal_encoder = self._encoder(channels)

        self.gat_spectral = GraphAttention(encoder_dim, config.gat_dim)
        self.pool_spectral = GraphPool(config.gat_dim, spectral_ratio, min_nodes=2)
        self.gat_temporal = GraphAttention(encoder_dim, config.gat_dim)
        self.pool_temporal = GraphPool(config.gat_dim, temporal_ratio, min_nodes=2)
        self.gat_fused = GraphAttention(config.gat_dim, config.fused_gat_dim)
        self.pool_fused = GraphPool(config.fused_gat_dim, fused_ratio, min_nodes=2)

        spectral_kept = pooled_node_count(config.spectral_nodes, spectral_ratio, min_nodes=2)
        temporal_kept = pooled_node_count(config.encoder_frames, temporal_ratio, min_nodes=2)
        fused_kept = pooled_node_count(config.fused_nodes, fused_ratio, min_nodes=2)
        self.spectral_node_proj = nn.Linear(spectral_kept, config.fused_nodes)
        self.temporal_node_proj = nn.Linear(temporal_kept, config.fused_nodes)
        self.fused_feature_proj = nn.Linear(config.fused_gat_dim, 1)
        self.classifier = nn.Linear(fused_kept, 2)

    @staticmethod
    def _encoder(channels: tuple[int, ...]) -> nn.Sequential:
        # The published first block adds its 1-channel input to every output channel
        # (identity shortcut, broadcast) instead of projecting it like AASIST does.
        return nn.Sequential(
            *(
                ResidualBlock2d(c_in, c_out, projection_shortcut=False if i == 0 else None)
                for i, (c_in, c_out) in enumerate(itertools.pairwise(channels))
            )
        )

    def check_input(self, waveform: Tensor) -> None:
        """Raise :class:`~voxlab.errors.DurationError` unless ``waveform`` fits the network."""
        if waveform.dim() != 2 or waveform.shape[-1] != self.config.num_samples:
            raise DurationError(
                f"RawGAT-ST takes exactly {self.config.num_samples} samples per utterance "
                f"(batch, time); got shape {tuple(waveform.shape)}. Crop or repeat-pad the "
                "waveform to that length first."
            )

    @property
    def fixed_input_samples(self) -> int:
        """The one input length the network accepts (``voxlab.detection`` reads this)."""
        return self.config.num_samples

    def _features(self, waveform: Tensor) -> Tensor:
        x = self.frontend(waveform).unsqueeze(1)
        x = F.max_pool2d(torch.abs(x), (3, 3))
        return self.act(self.input_norm(x))

    def forward(self, waveform: Tensor) -> Tensor:
        """Score a batch of waveforms.

        Shape:
            ``(batch, num_samples) -> (batch, 2)`` logits ``[spoof, bona fide]``.
        """
        self.check_input(waveform)
        x = self._features(waveform)
        return self.classify(self.spectral_encoder(x), self.temporal_encoder(x))

    def classify(self, spectral_map: Tensor, temporal_map: Tensor) -> Tensor:
        """Graph part of :meth:`forward`, from the outputs of the two encoders.

        Shape:
            ``(batch, channels, freq, frames)`` twice ``-> (batch, 2)``.
        """
        spectral = spectral_map.abs().amax(dim=3).transpose(1, 2)
        spectral = self.pool_spectral(self.gat_spectral(spectral))
        spectral = self.spectral_node_proj(spectral.transpose(1, 2))  # (batch, dim, nodes)

        temporal = temporal_map.abs().amax(dim=2).transpose(1, 2)
        temporal = self.pool_temporal(self.gat_temporal(temporal))
        temporal = self.temporal_node_proj(temporal.transpose(1, 2))

        fused = spectral * temporal if self.config.fusion == "mul" else spectral + temporal
        fused = self.pool_fused(self.gat_fused(fused.transpose(1, 2)))
        return self.classifier(self.fused_feature_proj(fused).squeeze(-1))


@register_model(
    "rawgat-st",
    config=RawGATSTConfig(fusion="mul"),
    description="RawGAT-ST (Tak et al. 2021), multiplicative graph fusion (the paper's best)",
)
def build_rawgat_st(config: RawGATSTConfig) -> RawGATST:
    """Build RawGAT-ST from ``config``."""
    return RawGATST(config)


@register_model(
    "rawgat-st-add",
    config=RawGATSTConfig(fusion="add"),
    description="RawGAT-ST with additive graph fusion",
)
def build_rawgat_st_add(config: RawGATSTConfig) -> RawGATST:
    """Build RawGAT-ST with additive fusion from ``config``."""
    return RawGATST(config)
