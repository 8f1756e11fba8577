"""LFCC-LCNN: the ASVspoof 2021 LA/DF baseline countermeasure B03.

Wang & Yamagishi, "A comparative study on recent neural spoofing countermeasures for
synthetic speech detection", Interspeech 2021; ``asvspoof-challenge/2021``
``LA/Baseline-LFCC-LCNN/project/baseline_LA/model.py`` (built on NII's
``project-NN-Pytorch-scripts``).

Architecture (single front-end, as in the official baseline):

* LFCC front-end: 20 ms Hamming frames, 10 ms hop, 1024-point FFT, 20 linear filters
  over 0-4 kHz, 20 cepstra with c0 replaced by log energy, deltas and double deltas
  (60 dims) — ``voxlab.features.functional.lfcc`` with the ``"asvspoof2021_la_lcnn"``
  preset;
* LCNN: 5x5 convolution, then 1x1/3x3 convolution pairs, each followed by max-feature-map
  (MFM, the element-wise max of the two channel halves), four 2x2 max pools,
  affine-free batch norms, dropout 0.7 (``m_transform``);
* two bidirectional LSTM layers (width 96) whose output is added to their input and
  averaged over time (``m_before_pooling``);
* a linear layer to one score ``s`` (``m_output_act``), the bona fide log-odds: the
  official model is trained with ``BCELoss(sigmoid(s), y)``, ``y = 1`` for bona fide, and
  publishes ``s`` as the score.

voxlab returns two logits in the order ``[spoof, bona fide]`` as ``[0, s]``: index 1 is
the official score, ``softmax`` gives ``sigmoid(s)`` for bona fide, and cross-entropy on
these logits equals the official binary cross-entropy on ``s`` — training through the
generic two-class trainer is therefore the official objective.

Parameter names mirror the official ones without the one-element ``ModuleList`` level
(official ``m_transform.0.<i>`` is ``m_transform.<i>`` here, likewise
``m_before_pooling`` and ``m_output_act``); :func:`convert_official_lcnn_state_dict`
performs that renaming and drops the official front-end buffers and the unused
normalisation statistics. No official B03 checkpoint is available to this project, so
parity with trained official weights is untested.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from voxlab.errors import AudioError, CheckpointError, ConfigError
from voxlab.models.registry import register_model

__all__ = [
    "LCNN",
    "BLSTMLayer",
    "LCNNConfig",
    "MaxFeatureMap2D",
    "build_lfcc_lcnn",
    "convert_official_lcnn_state_dict",
]


@dataclass(frozen=True)
class LCNNConfig:
    """Hyper-parameters of LFCC-LCNN (defaults: the ASVspoof 2021 LA B03 baseline).

    Attributes:
        sample_rate: Input sample rate in Hz.
        lfcc_preset: Key of ``voxlab.features.functional.LFCC_PRESETS`` for the front-end
            (``"asvspoof2021_la_lcnn"``: B03; ``"asvspoof2019_lcnn"``: full-band variant).
        dropout: Dropout probability at the end of the convolutional stack.

    The official B03 scores whole utterances (no cropping, one utterance per forward);
    any input of at least 16 frames is accepted.
    """

    sample_rate: int = 16000
    lfcc_preset: str = "asvspoof2021_la_lcnn"
    dropout: float = 0.7

    def __post_init__(self) -> None:
        if not isinstance(self.sample_rate, int) or self.sample_rate < 1:
            raise ConfigError(
                f"LCNNConfig.sample_rate must be a positive int, got {self.sample_rate!r}"
            )
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"LCNNConfig.dropout must be in [0, 1), got {self.dropout!r}")
        presets = _lfcc_presets()
        if self.lfcc_preset not in presets:
            raise ConfigError(
                f"LCNNConfig.lfcc_preset {self.lfcc_preset!r} is unknown; "
                f"choose one of {sorted(presets)}"
            )

    @property
    def feature_dim(self) -> int:
        """Front-end feature dimension (60 for the baseline presets)."""
        preset = _lfcc_presets()[self.lfcc_preset]
        return preset["n_lfcc"] * (3 if preset["with_deltas"] else 1)


def _lfcc_presets() -> dict[str, dict]:
    from voxlab.features.functional import LFCC_PRESETS

    return LFCC_PRESETS


class MaxFeatureMap2D(nn.Module):
    """Max-feature-map: element-wise maximum of the two halves of dimension ``dim``.

    Shape:
        Input: ``(batch, 2C, ...)``. Output: ``(batch, C, ...)``.
    """

    def __init__(self, dim: int = 1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, x: Tensor) -> Tensor:
        """Halve dimension ``dim`` by taking maxima."""
        first, second = torch.chunk(x, 2, dim=self.dim)
        if first.shape != second.shape:
            raise ConfigError(
                f"MaxFeatureMap2D needs an even size on dim {self.dim}, got {tuple(x.shape)}"
            )
        return torch.maximum(first, second)


class BLSTMLayer(nn.Module):
    """Bidirectional LSTM keeping the width (``output_dim // 2`` units per direction).

    Shape:
        Input: ``(batch, time, input_dim)``. Output: ``(batch, time, output_dim)``.
    """

    def __init__(self, input_dim: int, output_dim: int) -> None:
        super().__init__()
        if output_dim % 2:
            raise ConfigError(f"BLSTMLayer output_dim must be even, got {output_dim}")
        self.l_blstm = nn.LSTM(input_dim, output_dim // 2, bidirectional=True, batch_first=True)

    def forward(self, x: Tensor) -> Tensor:
        """Run both directions over time."""
        out, _ = self.l_blstm(x)
        return out


def _lcnn_stack(dropout: float) -> nn.Sequential:
    """The official ``m_transform`` (same layer order, so indices match)."""

    def conv(cin: int, cout: int, k: int) -> nn.Conv2d:
        return nn.Conv2d(cin, cout, kernel_size=k, stride=1, padding=k // 2)

    def bn(c: int) -> nn.BatchNorm2d:
        return nn.BatchNorm2d(c, affine=False)

    def pool() -> nn.MaxPool2d:
        return nn.MaxPool2d(2, 2)

    mfm = MaxFeatureMap2D
    return nn.Sequential(
        conv(1, 64, 5), mfm(), pool(),  # 0-2
        conv(32, 64, 1), mfm(), bn(32), conv(32, 96, 3), mfm(),  # 3-7
        pool(), bn(48),  # 8-9
        conv(48, 96, 1), mfm(), bn(48), conv(48, 128, 3), mfm(),  # 10-14
        pool(),  # 15
        conv(64, 128, 1), mfm(), bn(64), conv(64, 64, 3), mfm(), bn(32),  # 16-21
        conv(32, 64, 1), mfm(), bn(32), conv(32, 64, 3), mfm(), pool(),  # 22-27
        nn.Dropout(dropout),  # 28
    )  # fmt: skip


class LCNN(nn.Module):
    """LFCC-LCNN countermeasure.

    Args:
        config: Hyper-parameters; the default is the official B03 baseline.

    Shape:
        Input: ``(batch, time)`` float waveform at ``config.sample_rate`` (``(batch, 1,
        time)`` accepted), at least 16 frames long (2,400 samples at 16 kHz).
        Output: ``(batch, 2)`` logits ``[0, s]`` in the order ``[spoof, bona fide]``.
    """

    #: The B03 baseline scores whole utterances (voxlab.detection reads this).
    default_policy = "full"

    def __init__(self, config: LCNNConfig | None = None) -> None:
        super().__init__()
        cfg = config if config is not None else LCNNConfig()
        self.config = cfg
        self.feature_dim = cfg.feature_dim
        width = (self.feature_dim // 16) * 32
        if width == 0:
            raise ConfigError(
                f"LCNN needs at least 16 feature dims, the preset gives {self.feature_dim}"
            )
        self.m_transform = _lcnn_stack(cfg.dropout)
        self.m_before_pooling = nn.Sequential(BLSTMLayer(width, width), BLSTMLayer(width, width))
        self.m_output_act = nn.Linear(width, 1)

    def features(self, waveform: Tensor) -> Tensor:
        """LFCC front-end.

        Shape:
            Input: ``(batch, time)``. Output: ``(batch, frames, feature_dim)``.
        """
        from voxlab.features.functional import lfcc

        preset = _lfcc_presets()[self.config.lfcc_preset]
        feats = lfcc(waveform, sample_rate=self.config.sample_rate, **preset)
        return feats.transpose(1, 2)

    def score_features(self, features: Tensor) -> Tensor:
        """The official pre-sigmoid score ``s`` from front-end features.

        Shape:
            Input: ``(batch, frames, feature_dim)`` with ``frames >= 16``.
            Output: ``(batch,)``.
        """
        if features.dim() != 3 or features.shape[2] != self.feature_dim:
            raise AudioError(
                f"LCNN expects features shaped (batch, frames, {self.feature_dim}), "
                f"got {tuple(features.shape)}"
            )
        if features.shape[1] < 16:
            raise AudioError(
                f"LCNN needs at least 16 feature frames, got {features.shape[1]}; "
                "pad the audio (at 16 kHz: at least 2,400 samples)"
            )
        hidden = self.m_transform(features.unsqueeze(1))  # (B, 32, T/16, D/16)
        batch, _, frames, _ = hidden.shape
        hidden = hidden.permute(0, 2, 1, 3).reshape(batch, frames, -1)
        pooled = (self.m_before_pooling(hidden) + hidden).mean(dim=1)
        return self.m_output_act(pooled).squeeze(1)

    def forward(self, waveform: Tensor) -> Tensor:
        """Score a batch of waveforms.

        Args:
            waveform: Float waveforms.

        Returns:
            Logits ``[0, s]`` per item (``[spoof, bona fide]``).

        Shape:
            Input: ``(batch, time)`` or ``(batch, 1, time)``. Output: ``(batch, 2)``.
        """
        x = waveform
        if x.dim() == 3 and x.shape[1] == 1:
            x = x.squeeze(1)
        if x.dim() != 2:
            raise AudioError(
                f"LCNN expects waveforms shaped (batch, time), got {tuple(waveform.shape)}; "
                "batch mono 16 kHz audio first"
            )
        score = self.score_features(self.features(x))
        return torch.stack([torch.zeros_like(score), score], dim=1)


_OFFICIAL_DROP = re.compile(r"^(m_frontend\.|input_mean$|input_std$|output_mean$|output_std$)")
_OFFICIAL_RENAME = re.compile(r"^(m_transform|m_before_pooling|m_output_act)\.0\.")


def convert_official_lcnn_state_dict(state_dict: dict[str, Tensor]) -> dict[str, Tensor]:
    """Map an official B03 ``model.py`` state dict onto :class:`LCNN` keys.

    Drops the front-end buffers (``m_frontend.0.*``: filterbank and DCT, recomputed by
    voxlab) and the normalisation statistics (``input_mean`` etc., unused by the official
    forward), and removes the single-front-end ``ModuleList`` index
    (``m_transform.0.3.weight`` -> ``m_transform.3.weight``).

    Raises:
        CheckpointError: A key belongs to a second front-end (``m_transform.1.*``), i.e.
            the checkpoint is a multi-front-end variant this architecture does not hold.
    """
    out: dict[str, Tensor] = {}
    for key, value in state_dict.items():
        if _OFFICIAL_DROP.match(key):
            continue
        new, n = _OFFICIAL_RENAME.subn(r"\1.", key)
        if n == 0 and re.match(r"^(m_transform|m_before_pooling|m_output_act)\.\d+\.", key):
            raise CheckpointError(
                f"official LCNN key {key!r} belongs to a second front-end; voxlab's LCNN "
                "holds the single-front-end baseline only"
            )
        out[new] = value
    return out


@register_model(
    "lfcc-lcnn",
    config=LCNNConfig(),
    description="LFCC-LCNN (ASVspoof 2021 baseline B03): LFCC, max-feature-map CNN, BLSTMs",
)
def build_lfcc_lcnn(config: LCNNConfig) -> LCNN:
    """Build :class:`LCNN` from its config."""
    return LCNN(config)
