"""SSL + pooling: the simplest SSL countermeasure, a pooled encoder and a linear head.

The SSL encoder's last hidden state (after its final LayerNorm) is projected to
``projection_dim``, pooled over time (mean, or attentive statistics pooling: an attention
weight per frame, weighted mean and standard deviation) and classified by a linear layer.
A baseline for new front ends (WavLM, HuBERT, wav2vec 2.0 of any size) and for frozen-
encoder probing. Output: logits ``[spoof, bona fide]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import torch
from torch import Tensor, nn

from voxlab.errors import ConfigError
from voxlab.models.detectors.ssl_aasist import FrozenFrontendMixin, as_frontend_config
from voxlab.models.registry import register_model
from voxlab.models.ssl.config import XLSR_300M, SSLFrontendConfig
from voxlab.models.ssl.loading import load_frontend_weights, load_ssl_checkpoint

POOLINGS = ("mean", "attentive")


@dataclass(frozen=True)
class SSLPoolConfig:
    """Hyper-parameters of the SSL + pooling model.

    Attributes:
        frontend: The SSL encoder (default XLS-R 300M).
        pooling: ``"mean"`` or ``"attentive"`` (attentive statistics pooling).
        projection_dim: Size of the per-frame projection before pooling.
        dropout: Dropout before the classifier (training only).
        freeze_frontend: Keep the SSL encoder fixed (no gradients, always eval mode).
        frontend_checkpoint: Pre-trained encoder weights loaded when the model is built
            (fine-tuning from e.g. fairseq ``xlsr2_300m.pt`` or a Hugging Face model file;
            see :func:`~voxlab.models.ssl.loading.load_frontend_weights`); ``""``: random.
    """

    frontend: SSLFrontendConfig = XLSR_300M
    pooling: str = "attentive"
    projection_dim: int = 128
    dropout: float = 0.2
    freeze_frontend: bool = False
    frontend_checkpoint: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "frontend", as_frontend_config(self.frontend))
        if self.pooling not in POOLINGS:
            raise ConfigError(f"ssl-pool pooling must be one of {POOLINGS}, got {self.pooling!r}")
        if self.projection_dim < 1:
            raise ConfigError(f"ssl-pool projection_dim must be >= 1, got {self.projection_dim}")


class SSLPoolBackend(nn.Module):
    """Projection, temporal pooling and a linear classifier.

    Shape:
        Input ``(batch, frames, input_dim)``; output ``(batch, 2)`` logits.
    """

    def __init__(self, input_dim: int, config: SSLPoolConfig) -> None:
        super().__init__()
        dim = config.projection_dim
        self.pooling = config.pooling
        self.projection = nn.Linear(input_dim, dim)
        self.act = nn.GELU()
        if self.pooling == "attentive":
            self.attention = nn.Sequential(nn.Linear(dim, dim), nn.Tanh(), nn.Linear(dim, 1))
        self.dropout = nn.Dropout(config.dropout)
        self.classifier = nn.Linear(2 * dim if self.pooling == "attentive" else dim, 2)

    def pool(self, frames: Tensor) -> Tensor:
        """Shape: ``(batch, frames, dim) -> (batch, dim)`` or ``(batch, 2 * dim)``."""
        if self.pooling == "mean":
            return frames.mean(dim=1)
        weights = torch.softmax(self.attention(frames), dim=1)
        mean = torch.sum(weights * frames, dim=1)
        var = torch.sum(weights * frames.square(), dim=1) - mean.square()
        return torch.cat([mean, var.clamp_min(1e-6).sqrt()], dim=1)

    def forward(self, features: Tensor) -> Tensor:
        """Shape: ``(batch, frames, input_dim) -> (batch, 2)``."""
        frames = self.act(self.projection(features))
        return self.classifier(self.dropout(self.pool(frames)))


class SSLPool(FrozenFrontendMixin):
    """SSL encoder + pooling + linear countermeasure.

    Shape:
        Input ``(batch, samples)`` waveform at 16 kHz (any length of at least one SSL
        frame); output ``(batch, 2)`` logits ``[spoof, bona fide]``.
    """

    registry_name = "ssl-pool"

    def __init__(self, config: SSLPoolConfig | None = None) -> None:
        super().__init__()
        from voxlab.models.ssl.frontend import SSLFrontend

        self.config = config = config or SSLPoolConfig()
        self.frontend = SSLFrontend(config.frontend)
        self.backend = SSLPoolBackend(config.frontend.hidden_size, config)
        if config.frontend_checkpoint:
            load_frontend_weights(self.frontend, config.frontend_checkpoint)
        if config.freeze_frontend:
            self._freeze()

    def forward(self, waveform: Tensor) -> Tensor:
        """Shape: ``(batch, samples) -> (batch, 2)`` logits ``[spoof, bona fide]``."""
        return self.backend(self._features(self.frontend, waveform))


@register_model(
    "ssl-pool",
    checkpoint_loader=partial(load_ssl_checkpoint, arch="ssl-pool"),
    config=SSLPoolConfig(),
    description="SSL encoder (XLS-R/WavLM/HuBERT) + mean or attentive pooling + linear head",
)
def build_ssl_pool(config: SSLPoolConfig) -> SSLPool:
    """Build the SSL + pooling model from ``config``."""
    return SSLPool(config)
