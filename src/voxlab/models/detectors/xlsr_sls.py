"""XLSR-SLS: sensitive layer selection over the hidden layers of XLS-R.

Zhang et al., "Audio Deepfake Detection with Self-Supervised XLS-R and SLS Classifier",
ACM MM 2024 (official code: QiShanZhang/SLSforASVspoof-2021-DF). Every transformer layer's
output (fairseq ``layer_results``: **before** the encoder's final LayerNorm, see
:meth:`~voxlab.models.ssl.frontend.SSLFrontend.layer_outputs`) is averaged over time and
scored by a shared linear layer (``fc0``) with a sigmoid; the layers are summed with those
weights into one (frames, hidden) map, then BatchNorm2d(1) -> SELU -> 3x3 max-pool ->
flatten -> ``fc1`` -> SELU -> ``fc3`` -> SELU -> log-softmax.

The flattened size ties ``fc1`` to one input length: 201 frames = 64,600 samples for the
published model (``num_frames``), so the model declares ``fixed_input_samples`` and the
detector refuses ``--policy full``. Output: log-probabilities ``[spoof, bona fide]``; the
published score is the bona fide log-probability (index 1).
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


@dataclass(frozen=True)
class XLSRSLSConfig:
    """Hyper-parameters of XLSR-SLS (defaults: the published 2021 DF model).

    Attributes:
        frontend: The SSL encoder (XLS-R 300M).
        num_frames: SSL frames per input (201 = 64,600 samples); ``fc1`` reads
            ``(num_frames // 3) * (hidden_size // 3)`` features.
        fc_dim: Width of ``fc1``.
        freeze_frontend: Keep the SSL encoder fixed (no gradients, always eval mode).
        frontend_checkpoint: Pre-trained encoder weights loaded when the model is built
            (fine-tuning from e.g. fairseq ``xlsr2_300m.pt`` or a Hugging Face model file;
            see :func:`~voxlab.models.ssl.loading.load_frontend_weights`); ``""``: random.
    """

    frontend: SSLFrontendConfig = XLSR_300M
    num_frames: int = 201
    fc_dim: int = 1024
    freeze_frontend: bool = False
    frontend_checkpoint: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "frontend", as_frontend_config(self.frontend))
        if self.num_frames < 3 or self.fc_dim < 1:
            raise ConfigError(
                "XLSR-SLS needs num_frames >= 3 and fc_dim >= 1, got "
                f"{self.num_frames}, {self.fc_dim}"
            )

    @property
    def num_samples(self) -> int:
        """Input length giving ``num_frames`` frames.

        64,600 (the published length) when it does, else the shortest such length.
        """
        if self.frontend.num_frames(64_600) == self.num_frames:
            return 64_600
        field, jump = 1, 1
        for kernel, stride in zip(self.frontend.conv_kernel, self.frontend.conv_stride):
            field += (kernel - 1) * jump
            jump *= stride
        return (self.num_frames - 1) * jump + field


class XLSRSLSBackend(nn.Module):
    """The SLS classifier, from per-layer SSL outputs to log-probabilities.

    Args:
        hidden_size: Size of the SSL layer outputs.
        config: Hyper-parameters.

    Shape:
        Input ``(layers, batch, num_frames, hidden_size)``; output ``(batch, 2)``
        log-probabilities ``[spoof, bona fide]``.
    """

    def __init__(self, hidden_size: int, config: XLSRSLSConfig) -> None:
        super().__init__()
        self.num_frames = config.num_frames
        self.layer_score = nn.Linear(hidden_size, 1)
        self.norm = nn.BatchNorm2d(1)
        self.act = nn.SELU()
        self.fc1 = nn.Linear((config.num_frames // 3) * (hidden_size // 3), config.fc_dim)
        self.fc3 = nn.Linear(config.fc_dim, 2)

    def layer_weights(self, layers: Tensor) -> Tensor:
        """Sigmoid weight of each layer. Shape: ``(L, B, T, H) -> (B, L)``."""
        return torch.sigmoid(self.layer_score(layers.mean(dim=2))).squeeze(-1).transpose(0, 1)

    def forward(self, layers: Tensor) -> Tensor:
        """Shape: ``(layers, batch, frames, hidden) -> (batch, 2)``."""
        if layers.shape[2] != self.num_frames:
            raise ConfigError(
                f"XLSR-SLS was built for {self.num_frames} SSL frames, got {layers.shape[2]}; "
                "use the official input length (--policy official or windows)"
            )
        weights = self.layer_weights(layers)  # (B, L)
        fused = torch.einsum("lbth,bl->bth", layers, weights).unsqueeze(1)
        x = nn.functional.max_pool2d(self.act(self.norm(fused)), (3, 3))
        x = self.act(self.fc1(torch.flatten(x, 1)))
        x = self.act(self.fc3(x))
        return torch.log_softmax(x, dim=1)


class XLSRSLS(FrozenFrontendMixin):
    """XLSR-SLS countermeasure.

    Args:
        config: Architecture hyper-parameters.

    Shape:
        Input ``(batch, config.num_samples)`` waveform at 16 kHz; output ``(batch, 2)``
        log-probabilities ``[spoof, bona fide]``.
    """

    registry_name = "xlsr-sls"

    def __init__(self, config: XLSRSLSConfig | None = None) -> None:
        super().__init__()
        from voxlab.models.ssl.frontend import SSLFrontend

        self.config = config = config or XLSRSLSConfig()
        self.frontend = SSLFrontend(config.frontend)
        self.backend = XLSRSLSBackend(config.frontend.hidden_size, config)
        self.fixed_input_samples = config.num_samples
        if config.frontend_checkpoint:
            load_frontend_weights(self.frontend, config.frontend_checkpoint)
        if config.freeze_frontend:
            self._freeze()

    def forward(self, waveform: Tensor) -> Tensor:
        """Shape: ``(batch, samples) -> (batch, 2)`` log-probabilities."""
        return self.backend(self._features(self.frontend.layer_outputs, waveform))


@register_model(
    "xlsr-sls",
    checkpoint_loader=partial(load_ssl_checkpoint, arch="xlsr-sls"),
    config=XLSRSLSConfig(),
    description="XLSR-SLS (Zhang et al. 2024): sensitive layer selection over XLS-R layers",
)
def build_xlsr_sls(config: XLSRSLSConfig) -> XLSRSLS:
    """Build XLSR-SLS from ``config``."""
    return XLSRSLS(config)
