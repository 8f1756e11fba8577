"""AASIST and AASIST-L: spectro-temporal graph attention on raw waveforms.

Jung et al., "AASIST: Audio Anti-Spoofing using Integrated Spectro-Temporal Graph Attention
Networks", ICASSP 2022. A fixed sinc filterbank turns the waveform into a (filter, time)
map, a 2-D residual encoder reduces it, and two graphs (spectral nodes, temporal nodes) are
combined by heterogeneous graph attention with master nodes in two parallel branches.

The network accepts any input length (the temporal graph has as many nodes as the encoder
leaves time steps). The published checkpoints were trained and evaluated on 64,600-sample
(~4 s at 16 kHz) inputs. Output: logits ``[spoof, bona fide]``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from voxlab.errors import ConfigError
from voxlab.models.layers import (
    GraphAttention,
    GraphPool,
    HeteroGraphAttention,
    ResidualBlock2d,
    SincFilterbank,
)
from voxlab.models.registry import register_model


@dataclass(frozen=True)
class AASISTConfig:
    """Hyper-parameters of AASIST (defaults: the published AASIST).

    Attributes:
        n_filters: Sinc filters of the front end (graph frequency axis = n_filters // 3).
        sinc_kernel_size: Sinc filter length (made odd).
        sample_rate: Input sampling rate in Hz.
        encoder_channels: Output channels of the six residual blocks (input has 1 channel).
        gat_dims: Node sizes of the spectral/temporal GATs and of the heterogeneous layers.
        pool_ratios: Kept-node ratios of the spectral pool, the temporal pool and the pools
            inside the heterogeneous branches.
        temperatures: Softmax temperatures of the spectral GAT, the temporal GAT and the
            heterogeneous layers.
        max_masked_bands: Frequency-mask augmentation of the sinc filters in training
            (0 = off, the published setting).
        num_samples: Length the published model was trained on (used by pre-processing and
            fixed-length export; the network itself accepts any length).
    """

    n_filters: int = 70
    sinc_kernel_size: int = 128
    sample_rate: int = 16000
    encoder_channels: tuple[int, ...] = (32, 32, 64, 64, 64, 64)
    gat_dims: tuple[int, int] = (64, 32)
    pool_ratios: tuple[float, float, float] = (0.5, 0.7, 0.5)
    temperatures: tuple[float, float, float] = (2.0, 2.0, 100.0)
    max_masked_bands: int = 0
    num_samples: int = 64600

    def __post_init__(self) -> None:
        if self.n_filters < 3:
            raise ConfigError(f"AASIST n_filters must be >= 3, got {self.n_filters}")
        if len(self.encoder_channels) < 1 or min(self.encoder_channels) < 1:
            raise ConfigError(f"AASIST encoder_channels invalid: {self.encoder_channels}")
        if len(self.gat_dims) != 2 or len(self.pool_ratios) != 3 or len(self.temperatures) != 3:
            raise ConfigError(
                "AASIST needs 2 gat_dims, 3 pool_ratios and 3 temperatures; got "
                f"{self.gat_dims}, {self.pool_ratios}, {self.temperatures}"
            )
        if not all(0.0 < r <= 1.0 for r in self.pool_ratios):
            raise ConfigError(f"AASIST pool_ratios must lie in (0, 1], got {self.pool_ratios}")

    @property
    def spectral_nodes(self) -> int:
        """Number of spectral graph nodes (frequency bins after the first 3x3 max-pool)."""
        return self.n_filters // 3


AASIST_L_CONFIG = AASISTConfig(
    encoder_channels=(32, 32, 24, 24, 24, 24),
    gat_dims=(24, 32),
    pool_ratios=(0.4, 0.5, 0.7),
)


class AASIST(nn.Module):
    """AASIST countermeasure.

    Args:
        config: Architecture hyper-parameters.

    Shape:
        Input ``(batch, time)`` float waveform at ``config.sample_rate`` (any length long
        enough to survive the pooling: at least ~3,000 samples); output ``(batch, 2)``
        logits ``[spoof, bona fide]``.
    """

    def __init__(self, config: AASISTConfig | None = None) -> None:
        super().__init__()
        self.config = config = config or AASISTConfig()
        encoder_dim = config.encoder_channels[-1]
        gat_dim, hetero_dim = config.gat_dims
        spectral_ratio, temporal_ratio, hetero_ratio = config.pool_ratios
        spectral_temp, temporal_temp, hetero_temp = config.temperatures

        self.frontend = SincFilterbank(
            config.n_filters,
            config.sinc_kernel_size,
            sample_rate=config.sample_rate,
            max_masked_bands=config.max_masked_bands,
        )
        self.input_norm = nn.BatchNorm2d(1)
        self.act = nn.SELU()
        channels = (1, *config.encoder_channels)
        self.encoder = nn.Sequential(
            *(ResidualBlock2d(c_in, c_out) for c_in, c_out in itertools.pairwise(channels))
        )
        self.spectral_position = nn.Parameter(torch.randn(1, config.spectral_nodes, encoder_dim))
        self.master1 = nn.Parameter(torch.randn(1, 1, gat_dim))
        self.master2 = nn.Parameter(torch.randn(1, 1, gat_dim))

        self.gat_spectral = GraphAttention(encoder_dim, gat_dim, temperature=spectral_temp)
        self.gat_temporal = GraphAttention(encoder_dim, gat_dim, temperature=temporal_temp)
        self.pool_spectral = GraphPool(gat_dim, spectral_ratio)
        self.pool_temporal = GraphPool(gat_dim, temporal_ratio)

        self.branch1_hgat1 = HeteroGraphAttention(gat_dim, hetero_dim, temperature=hetero_temp)
        self.branch1_hgat2 = HeteroGraphAttention(hetero_dim, hetero_dim, temperature=hetero_temp)
        self.branch2_hgat1 = HeteroGraphAttention(gat_dim, hetero_dim, temperature=hetero_temp)
        self.branch2_hgat2 = HeteroGraphAttention(hetero_dim, hetero_dim, temperature=hetero_temp)
        self.branch1_pool_spectral = GraphPool(hetero_dim, hetero_ratio)
        self.branch1_pool_temporal = GraphPool(hetero_dim, hetero_ratio)
        self.branch2_pool_spectral = GraphPool(hetero_dim, hetero_ratio)
        self.branch2_pool_temporal = GraphPool(hetero_dim, hetero_ratio)

        self.branch_dropout = nn.Dropout(0.2)
        self.dropout = nn.Dropout(0.5)
        self.classifier = nn.Linear(5 * hetero_dim, 2)

    def encode(self, waveform: Tensor) -> Tensor:
        """Front end and residual encoder.

        Shape:
            ``(batch, time) -> (batch, channels, n_filters // 3, frames)``.
        """
        x = self.frontend(waveform).unsqueeze(1)
        x = F.max_pool2d(torch.abs(x), (3, 3))
        x = self.act(self.input_norm(x))
        return self.encoder(x)

    def _branch(
        self,
        temporal: Tensor,
        spectral: Tensor,
        master: Tensor,
        first: HeteroGraphAttention,
        second: HeteroGraphAttention,
        pool_temporal: GraphPool,
        pool_spectral: GraphPool,
    ) -> tuple[Tensor, Tensor, Tensor]:
        temporal, spectral, master = first(temporal, spectral, master)
        spectral = pool_spectral(spectral)
        temporal = pool_temporal(temporal)
        t_aug, s_aug, m_aug = second(temporal, spectral, master)
        return temporal + t_aug, spectral + s_aug, master + m_aug

    def embed(self, waveform: Tensor) -> Tensor:
        """The hidden vector the classifier reads (before the final dropout).

        Shape:
            ``(batch, time) -> (batch, 5 * gat_dims[1])``.
        """
        return self.graph_embed(self.encode(waveform))

    def graph_embed(self, features: Tensor) -> Tensor:
        """Graph part of :meth:`embed`, from the encoder output.

        Shape:
            ``(batch, channels, n_filters // 3, frames) -> (batch, 5 * gat_dims[1])``.
        """
        features = features.abs()
        spectral = features.amax(dim=3).transpose(1, 2) + self.spectral_position
        spectral = self.pool_spectral(self.gat_spectral(spectral))
        temporal = features.amax(dim=2).transpose(1, 2)
        temporal = self.pool_temporal(self.gat_temporal(temporal))

        t1, s1, m1 = self._branch(
            temporal,
            spectral,
            self.master1,
            self.branch1_hgat1,
            self.branch1_hgat2,
            self.branch1_pool_temporal,
            self.branch1_pool_spectral,
        )
        t2, s2, m2 = self._branch(
            temporal,
            spectral,
            self.master2,
            self.branch2_hgat1,
            self.branch2_hgat2,
            self.branch2_pool_temporal,
            self.branch2_pool_spectral,
        )
        drop = self.branch_dropout
        temporal = torch.maximum(drop(t1), drop(t2))
        spectral = torch.maximum(drop(s1), drop(s2))
        master = torch.maximum(drop(m1), drop(m2))
        return torch.cat(
            [
                temporal.abs().amax(dim=1),
                temporal.mean(dim=1),
                spectral.abs().amax(dim=1),
                spectral.mean(dim=1),
                master.squeeze(1),
            ],
            dim=1,
        )

    def forward(self, waveform: Tensor) -> Tensor:
        """Score a batch of waveforms.

        Shape:
            ``(batch, time) -> (batch, 2)`` logits ``[spoof, bona fide]``.
        """
        return self.classifier(self.dropout(self.embed(waveform)))


@register_model(
    "aasist",
    config=AASISTConfig(),
    description="AASIST (Jung et al. 2022): sinc front end + spectro-temporal graph attention",
)
def build_aasist(config: AASISTConfig) -> AASIST:
    """Build AASIST from ``config``."""
    return AASIST(config)


@register_model(
    "aasist-l",
    config=AASIST_L_CONFIG,
    description="AASIST-L: the light AASIST variant (85k parameters)",
)
def build_aasist_l(config: AASISTConfig) -> AASIST:
    """Build AASIST-L (AASIST with smaller channels) from ``config``."""
    return AASIST(config)
