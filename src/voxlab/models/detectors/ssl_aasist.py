"""SSL-AASIST: a wav2vec 2.0 XLS-R front end and an AASIST-style graph back end.

Tak et al., "Automatic speaker verification spoofing and deepfake detection using wav2vec
2.0 and data augmentation", Odyssey 2022 (official code: TakHemlata/SSL_Anti-spoofing).
The SSL encoder's last hidden state (after its final LayerNorm) is projected 1024 -> 128,
read as a one-channel (feature, frame) map, max-pooled 3x3 and encoded by six residual
blocks. Attention over time gives the spectral nodes and attention over the feature axis
the temporal nodes; graph attention, graph pooling and two heterogeneous-graph branches
with master nodes follow, as in AASIST (:mod:`voxlab.models.detectors.aasist`, whose layers
are reused). Output: logits ``[spoof, bona fide]``; the score is the bona fide logit.

Facts of the official back end kept here: the 3x3 max-pool reads the projected features
themselves (AASIST pools ``|x|``); the residual blocks do not pool time; their ``bn1``
has no effect (dropped on import, see :class:`~voxlab.models.layers.ResidualBlock2d`); the
first heterogeneous layer of each branch gets the un-expanded master parameter; graph
pooling keeps
``max(floor(n * ratio), 1)`` nodes in descending score order.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import partial
from typing import Any

import torch
from torch import Tensor, nn

from voxlab.errors import ConfigError
from voxlab.models.layers import GraphAttention, GraphPool, HeteroGraphAttention, ResidualBlock2d
from voxlab.models.registry import register_model
from voxlab.models.ssl.config import (
    XLSR_300M,
    SSLFrontendConfig,
    frontend_config_from_dict,
    load_frontend_config,
)
from voxlab.models.ssl.loading import load_frontend_weights, load_ssl_checkpoint


def as_frontend_config(value: Any) -> SSLFrontendConfig:
    """An :class:`SSLFrontendConfig` from a config, a dict or the path of a JSON file.

    Dicts come from YAML recipes and sidecars; a JSON file may be a Hugging Face
    ``config.json`` of WavLM / HuBERT / wav2vec 2.0.
    """
    if isinstance(value, SSLFrontendConfig):
        return value
    if isinstance(value, dict):
        return frontend_config_from_dict(value, source="frontend config")
    if isinstance(value, str):
        return load_frontend_config(value)
    raise ConfigError(
        f"frontend must be an SSL front-end config, a mapping or a JSON path, got {value!r}"
    )


@dataclass(frozen=True)
class SSLAASISTConfig:
    """Hyper-parameters of SSL-AASIST (defaults: the published LA/DF models).

    Attributes:
        frontend: The SSL encoder (XLS-R 300M).
        projection_dim: Output size of the linear layer after the encoder (``LL``); the
            spectral graph has ``projection_dim // 3`` nodes.
        encoder_channels: Output channels of the six residual blocks.
        gat_dims: Node sizes of the spectral/temporal GATs and of the heterogeneous layers.
        pool_ratios: Kept-node ratios of the spectral pool, the temporal pool and the pools
            inside the heterogeneous branches.
        temperatures: Softmax temperatures of the spectral GAT, the temporal GAT and the
            heterogeneous layers.
        freeze_frontend: Keep the SSL encoder fixed (no gradients, always eval mode).
        frontend_checkpoint: Pre-trained encoder weights loaded when the model is built
            (fine-tuning from e.g. fairseq ``xlsr2_300m.pt`` or a Hugging Face model file;
            see :func:`~voxlab.models.ssl.loading.load_frontend_weights`); ``""``: random.
        num_samples: Input length of the published training and evaluation (64,600).
    """

    frontend: SSLFrontendConfig = XLSR_300M
    projection_dim: int = 128
    encoder_channels: tuple[int, ...] = (32, 32, 64, 64, 64, 64)
    gat_dims: tuple[int, int] = (64, 32)
    pool_ratios: tuple[float, float, float] = (0.5, 0.5, 0.5)
    temperatures: tuple[float, float, float] = (2.0, 2.0, 100.0)
    freeze_frontend: bool = False
    frontend_checkpoint: str = ""
    num_samples: int = 64600

    def __post_init__(self) -> None:
        object.__setattr__(self, "frontend", as_frontend_config(self.frontend))
        for name in ("encoder_channels", "gat_dims", "pool_ratios", "temperatures"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        if self.projection_dim < 3:
            raise ConfigError(f"SSL-AASIST projection_dim must be >= 3, got {self.projection_dim}")
        if len(self.gat_dims) != 2 or len(self.pool_ratios) != 3 or len(self.temperatures) != 3:
            raise ConfigError(
                "SSL-AASIST needs 2 gat_dims, 3 pool_ratios and 3 temperatures; got "
                f"{self.gat_dims}, {self.pool_ratios}, {self.temperatures}"
            )
        if not all(0.0 < r <= 1.0 for r in self.pool_ratios):
            raise ConfigError(f"SSL-AASIST pool_ratios must lie in (0, 1], got {self.pool_ratios}")


def _unpooled_block(in_channels: int, out_channels: int) -> ResidualBlock2d:
    # The official SSL back end's residual blocks have no (1, 3) max-pool (commented out
    # in model.py): the time axis keeps its length through the encoder.
    block = ResidualBlock2d(in_channels, out_channels)
    block.pool = nn.Identity()
    return block


class SSLAASISTBackend(nn.Module):
    """The graph back end of SSL-AASIST, from SSL features to logits.

    Args:
        input_dim: Size of the SSL features (1024 for XLS-R 300M).
        config: The back end's hyper-parameters (its ``frontend`` is not used here).

    Shape:
        Input ``(batch, frames, input_dim)``; output ``(batch, 2)`` logits
        ``[spoof, bona fide]``. At least 9 frames (the pools need 3 x 3).
    """

    def __init__(self, input_dim: int, config: SSLAASISTConfig) -> None:
        super().__init__()
        channels = config.encoder_channels[-1]
        gat_dim, hetero_dim = config.gat_dims
        spectral_ratio, temporal_ratio, hetero_ratio = config.pool_ratios
        spectral_temp, temporal_temp, hetero_temp = config.temperatures

        self.projection = nn.Linear(input_dim, config.projection_dim)
        self.input_norm = nn.BatchNorm2d(1)
        self.act = nn.SELU()
        self.encoder = nn.Sequential(
            *(
                _unpooled_block(c_in, c_out)
                for c_in, c_out in itertools.pairwise((1, *config.encoder_channels))
            )
        )
        self.encoder_norm = nn.BatchNorm2d(channels)
        self.attention = nn.Sequential(
            nn.Conv2d(channels, 128, kernel_size=1),
            nn.SELU(),
            nn.BatchNorm2d(128),
            nn.Conv2d(128, channels, kernel_size=1),
        )
        self.spectral_position = nn.Parameter(torch.randn(1, config.projection_dim // 3, channels))
        self.master1 = nn.Parameter(torch.randn(1, 1, gat_dim))
        self.master2 = nn.Parameter(torch.randn(1, 1, gat_dim))
        self.gat_spectral = GraphAttention(channels, gat_dim, temperature=spectral_temp)
        self.gat_temporal = GraphAttention(channels, gat_dim, temperature=temporal_temp)
        self.branch1_hgat1 = HeteroGraphAttention(gat_dim, hetero_dim, temperature=hetero_temp)
        self.branch1_hgat2 = HeteroGraphAttention(hetero_dim, hetero_dim, temperature=hetero_temp)
        self.branch2_hgat1 = HeteroGraphAttention(gat_dim, hetero_dim, temperature=hetero_temp)
        self.branch2_hgat2 = HeteroGraphAttention(hetero_dim, hetero_dim, temperature=hetero_temp)
        self.pool_spectral = GraphPool(gat_dim, spectral_ratio)
        self.pool_temporal = GraphPool(gat_dim, temporal_ratio)
        self.branch1_pool_spectral = GraphPool(hetero_dim, hetero_ratio)
        self.branch1_pool_temporal = GraphPool(hetero_dim, hetero_ratio)
        self.branch2_pool_spectral = GraphPool(hetero_dim, hetero_ratio)
        self.branch2_pool_temporal = GraphPool(hetero_dim, hetero_ratio)
        self.branch_dropout = nn.Dropout(0.2)
        self.dropout = nn.Dropout(0.5)
        self.classifier = nn.Linear(5 * hetero_dim, 2)

    def _branch(self, index: int, temporal: Tensor, spectral: Tensor, master: Tensor):
        first = getattr(self, f"branch{index}_hgat1")
        second = getattr(self, f"branch{index}_hgat2")
        temporal, spectral, master = first(temporal, spectral, master)
        spectral = getattr(self, f"branch{index}_pool_spectral")(spectral)
        temporal = getattr(self, f"branch{index}_pool_temporal")(temporal)
        t_aug, s_aug, m_aug = second(temporal, spectral, master)
        return temporal + t_aug, spectral + s_aug, master + m_aug

    def intermediates(self, features: Tensor) -> dict[str, Tensor]:
        """Every named stage of the forward pass (for parity checks and explanations).

        Returns:
            ``ll_out`` ``(B, T, projection_dim)``, ``encoder_out`` ``(B, C, F, T')`` (before
            the encoder norm), ``e_S`` ``(B, F, C)``, ``e_T`` ``(B, T', C)``, ``out_S``,
            ``out_T`` (after the first graph pools), ``last_hidden`` ``(B, 5 * hetero)``
            and ``logits`` ``(B, 2)``, with ``F = projection_dim // 3``, ``T' = T // 3``.
        """
        out: dict[str, Tensor] = {}
        x = out["ll_out"] = self.projection(features)
        x = nn.functional.max_pool2d(x.transpose(1, 2).unsqueeze(1), (3, 3))
        x = self.act(self.input_norm(x))
        x = out["encoder_out"] = self.encoder(x)
        x = self.act(self.encoder_norm(x))
        weights = self.attention(x)
        spectral = torch.sum(x * torch.softmax(weights, dim=-1), dim=-1)
        e_s = out["e_S"] = spectral.transpose(1, 2) + self.spectral_position
        temporal = torch.sum(x * torch.softmax(weights, dim=-2), dim=-2)
        e_t = out["e_T"] = temporal.transpose(1, 2)
        out_s = out["out_S"] = self.pool_spectral(self.gat_spectral(e_s))
        out_t = out["out_T"] = self.pool_temporal(self.gat_temporal(e_t))

        t1, s1, m1 = self._branch(1, out_t, out_s, self.master1)
        t2, s2, m2 = self._branch(2, out_t, out_s, self.master2)
        drop = self.branch_dropout
        temporal = torch.maximum(drop(t1), drop(t2))
        spectral = torch.maximum(drop(s1), drop(s2))
        master = torch.maximum(drop(m1), drop(m2))
        hidden = out["last_hidden"] = torch.cat(
            [
                temporal.abs().amax(dim=1),
                temporal.mean(dim=1),
                spectral.abs().amax(dim=1),
                spectral.mean(dim=1),
                master.squeeze(1),
            ],
            dim=1,
        )
        out["logits"] = self.classifier(self.dropout(hidden))
        return out

    def forward(self, features: Tensor) -> Tensor:
        """Shape: ``(batch, frames, input_dim) -> (batch, 2)``."""
        return self.intermediates(features)["logits"]


class FrozenFrontendMixin(nn.Module):
    """Base of the SSL models: front-end freezing and official checkpoint names.

    A frozen front end stays in eval mode and has no gradients; :meth:`adapt_state_dict`
    translates official checkpoints to voxlab's names.
    """

    frontend: nn.Module
    frozen_frontend: bool = False
    registry_name: str = ""

    def adapt_state_dict(self, state: dict[str, Tensor], *, source: str = "checkpoint") -> dict:
        """This model's key names for an official or voxlab checkpoint of its architecture.

        Used by :func:`voxlab.models.checkpoints.load_checkpoint_into` (e.g. fine-tuning
        from a published file with ``model.init_from``); the size must already match.
        """
        from voxlab.models.ssl.loading import VOXLAB_PREFIX, split_checkpoint

        frontend, backend, _ = split_checkpoint(state, arch=self.registry_name, source=source)
        out = {f"{VOXLAB_PREFIX}{k}": v for k, v in frontend.items()}
        out.update({f"backend.{k}": v for k, v in backend.items()})
        return out

    def _freeze(self) -> None:
        self.frozen_frontend = True
        self.frontend.requires_grad_(False)
        self.frontend.eval()

    def train(self, mode: bool = True) -> FrozenFrontendMixin:
        """Set training mode; a frozen front end stays in eval mode."""
        super().train(mode)
        if self.frozen_frontend:
            self.frontend.eval()
        return self

    def _features(self, fn, waveform: Tensor) -> Tensor:
        if self.frozen_frontend:
            with torch.no_grad():
                return fn(waveform)
        return fn(waveform)


class SSLAASIST(FrozenFrontendMixin):
    """SSL-AASIST countermeasure (XLS-R + AASIST-style graph back end).

    Attributes:
        registry_name: ``"ssl-aasist"``.

    Args:
        config: Architecture hyper-parameters.

    Shape:
        Input ``(batch, samples)`` float waveform at 16 kHz, not normalised (any length
        giving at least 9 SSL frames, ~0.2 s); output ``(batch, 2)`` logits
        ``[spoof, bona fide]``.
    """

    registry_name = "ssl-aasist"

    def __init__(self, config: SSLAASISTConfig | None = None) -> None:
        super().__init__()
        from voxlab.models.ssl.frontend import SSLFrontend

        self.config = config = config or SSLAASISTConfig()
        self.frontend = SSLFrontend(config.frontend)
        self.backend = SSLAASISTBackend(config.frontend.hidden_size, config)
        if config.frontend_checkpoint:
            load_frontend_weights(self.frontend, config.frontend_checkpoint)
        if config.freeze_frontend:
            self._freeze()

    def features(self, waveform: Tensor) -> Tensor:
        """SSL features. Shape: ``(batch, samples) -> (batch, frames, hidden_size)``."""
        return self._features(self.frontend, waveform)

    def forward(self, waveform: Tensor) -> Tensor:
        """Shape: ``(batch, samples) -> (batch, 2)`` logits ``[spoof, bona fide]``."""
        return self.backend(self.features(waveform))


@register_model(
    "ssl-aasist",
    checkpoint_loader=partial(load_ssl_checkpoint, arch="ssl-aasist"),
    config=SSLAASISTConfig(),
    description="SSL-AASIST (Tak et al. 2022): XLS-R 300M front end + AASIST graph back end",
)
def build_ssl_aasist(config: SSLAASISTConfig) -> SSLAASIST:
    """Build SSL-AASIST from ``config``."""
    return SSLAASIST(config)
