"""Hyper-parameters of an SSL front end: from a checkpoint's shapes or from a JSON file.

:class:`SSLFrontendConfig` holds the few facts that fix a wav2vec 2.0 / XLS-R / WavLM /
HuBERT encoder's function at inference (sizes, convolution stack, normalisation layout).
:func:`infer_frontend_config` reads them off the tensor shapes of a state dict in
``transformers`` names (see :mod:`voxlab.models.ssl.keys` for fairseq names);
:func:`load_frontend_config` reads a JSON file: a ``transformers`` ``config.json``, the
fixtures' ``{"transformers_Wav2Vec2Config": {...}}`` layout, or voxlab's own fields.

Facts that shapes cannot show and the defaults used for them (those of every published
wav2vec 2.0 / XLS-R model; pass a JSON config otherwise):

* strides: kernel 10 -> stride 5, kernels 3 and 2 -> stride 2;
* attention heads: ``hidden_size // 64`` (WavLM: read from its relative-position table);
* layer-norm-first ("stable") encoder exactly when the convolutions use layer norm
  (fairseq ``extractor_mode: layer_norm`` goes with ``layer_norm_first: true`` in the large
  and XLS-R models; the base models use group norm and a post-norm encoder);
* exact (erf) GELU everywhere, LayerNorm eps 1e-5.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch import Tensor

from voxlab.errors import ConfigError

MODEL_TYPES = ("wav2vec2", "wavlm", "hubert")
_STRIDE_OF_KERNEL = {10: 5, 3: 2, 2: 2}


@dataclass(frozen=True)
class SSLFrontendConfig:
    """An SSL speech encoder's architecture (defaults: XLS-R 300M, fairseq ``xlsr2_300m``).

    Attributes:
        model_type: ``"wav2vec2"`` (also XLS-R), ``"wavlm"`` or ``"hubert"``.
        hidden_size: Transformer width (1024 for XLS-R 300M).
        num_hidden_layers: Transformer layers.
        num_attention_heads: Attention heads per layer.
        intermediate_size: Feed-forward width.
        conv_dim: Output channels of each feature-extractor convolution.
        conv_kernel: Kernel sizes of those convolutions.
        conv_stride: Strides of those convolutions.
        conv_bias: Whether the convolutions have a bias.
        feat_extract_norm: ``"layer"`` (LayerNorm after every convolution) or ``"group"``
            (GroupNorm after the first only).
        do_stable_layer_norm: Layer-norm-first transformer with a final encoder LayerNorm.
        num_conv_pos_embeddings: Kernel of the positional convolution.
        num_conv_pos_embedding_groups: Groups of the positional convolution.
        layer_norm_eps: Epsilon of every LayerNorm.
        hidden_act: Activation of the feed-forward blocks.
        feat_extract_activation: Activation after each feature-extractor convolution.
        feat_proj_layer_norm: LayerNorm on the convolution features (HuBERT may omit it).
        hidden_dropout: Dropout in the transformer (training only).
        attention_dropout: Dropout on attention weights (training only).
        num_buckets: WavLM relative-position buckets.
        max_bucket_distance: WavLM maximum relative distance.
    """

    model_type: str = "wav2vec2"
    hidden_size: int = 1024
    num_hidden_layers: int = 24
    num_attention_heads: int = 16
    intermediate_size: int = 4096
    conv_dim: tuple[int, ...] = (512,) * 7
    conv_kernel: tuple[int, ...] = (10, 3, 3, 3, 3, 2, 2)
    conv_stride: tuple[int, ...] = (5, 2, 2, 2, 2, 2, 2)
    conv_bias: bool = True
    feat_extract_norm: str = "layer"
    do_stable_layer_norm: bool = True
    num_conv_pos_embeddings: int = 128
    num_conv_pos_embedding_groups: int = 16
    layer_norm_eps: float = 1e-5
    hidden_act: str = "gelu"
    feat_extract_activation: str = "gelu"
    feat_proj_layer_norm: bool = True
    hidden_dropout: float = 0.1
    attention_dropout: float = 0.1
    num_buckets: int = 320
    max_bucket_distance: int = 800

    def __post_init__(self) -> None:
        for name in ("conv_dim", "conv_kernel", "conv_stride"):
            object.__setattr__(self, name, tuple(int(v) for v in getattr(self, name)))
        if self.model_type not in MODEL_TYPES:
            raise ConfigError(
                f"unknown SSL model_type {self.model_type!r}; choose one of {MODEL_TYPES}"
            )
        if not len(self.conv_dim) == len(self.conv_kernel) == len(self.conv_stride) > 0:
            raise ConfigError(
                "SSL conv_dim, conv_kernel and conv_stride must have the same (non-zero) "
                f"length; got {self.conv_dim}, {self.conv_kernel}, {self.conv_stride}"
            )
        if self.feat_extract_norm not in ("layer", "group"):
            raise ConfigError(
                f"SSL feat_extract_norm must be 'layer' or 'group', got {self.feat_extract_norm!r}"
            )
        if self.hidden_size % self.num_attention_heads:
            raise ConfigError(
                f"SSL hidden_size {self.hidden_size} is not divisible by "
                f"num_attention_heads {self.num_attention_heads}"
            )

    @property
    def frame_stride(self) -> int:
        """Samples per output frame (320 for wav2vec 2.0)."""
        stride = 1
        for s in self.conv_stride:
            stride *= s
        return stride

    def num_frames(self, num_samples: int) -> int:
        """Output frames for an input of ``num_samples`` samples (201 for 64,600)."""
        n = num_samples
        for k, s in zip(self.conv_kernel, self.conv_stride):
            n = (n - k) // s + 1
        return n

    def to_transformers(self) -> Any:
        """The equivalent ``transformers`` config object (never masks, no layer drop)."""
        import transformers

        common = dict(
            hidden_size=self.hidden_size,
            num_hidden_layers=self.num_hidden_layers,
            num_attention_heads=self.num_attention_heads,
            intermediate_size=self.intermediate_size,
            conv_dim=list(self.conv_dim),
            conv_kernel=list(self.conv_kernel),
            conv_stride=list(self.conv_stride),
            conv_bias=self.conv_bias,
            feat_extract_norm=self.feat_extract_norm,
            do_stable_layer_norm=self.do_stable_layer_norm,
            num_conv_pos_embeddings=self.num_conv_pos_embeddings,
            num_conv_pos_embedding_groups=self.num_conv_pos_embedding_groups,
            layer_norm_eps=self.layer_norm_eps,
            hidden_act=self.hidden_act,
            feat_extract_activation=self.feat_extract_activation,
            hidden_dropout=self.hidden_dropout,
            attention_dropout=self.attention_dropout,
            activation_dropout=0.0,
            feat_proj_dropout=0.0,
            layerdrop=0.0,
            # The official SSL countermeasures call the encoder with mask=False, in
            # training too: no SpecAugment, hence no masked_spec_embed parameter.
            apply_spec_augment=False,
            mask_time_prob=0.0,
            mask_feature_prob=0.0,
        )
        if self.model_type == "wavlm":
            return transformers.WavLMConfig(
                **common, num_buckets=self.num_buckets, max_bucket_distance=self.max_bucket_distance
            )
        if self.model_type == "hubert":
            return transformers.HubertConfig(
                **common, feat_proj_layer_norm=self.feat_proj_layer_norm
            )
        return transformers.Wav2Vec2Config(**common)


XLSR_300M = SSLFrontendConfig()

_FIELDS = {f.name for f in dataclasses.fields(SSLFrontendConfig)}
_SECTIONS = ("transformers_Wav2Vec2Config", "transformers_config", "hf_config", "ssl", "frontend")


def frontend_config_from_dict(
    data: Mapping[str, Any], *, source: str = "config"
) -> SSLFrontendConfig:
    """Build a config from a mapping: voxlab fields or a ``transformers`` config dict.

    Unknown keys are ignored (``transformers`` configs carry many that do not change the
    encoder's function, e.g. ``vocab_size``); the fields that matter must have valid values.

    Raises:
        ConfigError: A field has a wrong type or an invalid value.
    """
    for section in _SECTIONS:
        if isinstance(data.get(section), Mapping):
            data = data[section]
            break
    values: dict[str, Any] = {k: v for k, v in data.items() if k in _FIELDS}
    model_type = str(data.get("model_type", values.get("model_type", "wav2vec2")))
    values["model_type"] = model_type if model_type in MODEL_TYPES else "wav2vec2"
    if "feat_extract_norm" in values and "do_stable_layer_norm" not in values:
        values["do_stable_layer_norm"] = values["feat_extract_norm"] == "layer"
    try:
        return SSLFrontendConfig(**values)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{source}: invalid SSL front-end config: {exc}") from exc


def load_frontend_config(path: str | Path) -> SSLFrontendConfig:
    """Read an SSL front-end config from a JSON file (see :func:`frontend_config_from_dict`).

    Raises:
        ConfigError: Missing or unreadable file, not a JSON object, invalid values.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(
            f"SSL config file not found: {path}. Pass a transformers config.json (or the "
            "JSON that came with the checkpoint) to --ssl-config, or leave it out to infer "
            "the front end from the checkpoint's shapes."
        )
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"cannot read SSL config {path}: {exc}. It must be a JSON file.") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"SSL config {path} must hold a JSON object, not {type(data).__name__}")
    return frontend_config_from_dict(data, source=str(path))


def _indices(keys: list[str], pattern: str) -> list[int]:
    regex = re.compile(pattern)
    return sorted({int(m.group(1)) for k in keys if (m := regex.match(k))})


def infer_frontend_config(
    state: Mapping[str, Tensor], *, model_type: str | None = None, source: str = "checkpoint"
) -> SSLFrontendConfig:
    """Read a front end's architecture off the shapes of its state dict.

    Args:
        state: The front end's tensors in ``transformers`` names, without any prefix
            (``feature_extractor.*``, ``feature_projection.*``, ``encoder.*``).
        model_type: Force the family; by default WavLM is recognised by its
            relative-position table and everything else is read as wav2vec 2.0.
        source: Name of the file, for messages.

    Returns:
        The config (see the module notes for what is assumed rather than read).

    Raises:
        CheckpointError: The tensors do not describe a wav2vec 2.0-style encoder.
    """
    from voxlab.errors import CheckpointError

    keys = list(state)
    convs = _indices(keys, r"feature_extractor\.conv_layers\.(\d+)\.conv\.weight$")
    layers = _indices(keys, r"encoder\.layers\.(\d+)\.")
    needed = (
        "feature_projection.projection.weight",
        "encoder.layers.0.feed_forward.intermediate_dense.weight",
    )
    if not convs or not layers or any(k not in state for k in needed):
        raise CheckpointError(
            f"{source}: cannot infer the SSL front end from its tensors (no convolution "
            "feature extractor / transformer layers found). Pass --ssl-config with the "
            "model's transformers config.json."
        )
    conv_w = [state[f"feature_extractor.conv_layers.{i}.conv.weight"] for i in convs]
    kernels = tuple(int(w.shape[-1]) for w in conv_w)
    unknown = sorted({k for k in kernels if k not in _STRIDE_OF_KERNEL})
    if unknown:
        raise CheckpointError(
            f"{source}: convolution kernels {kernels} include sizes {unknown} whose stride "
            "cannot be inferred; pass --ssl-config with the model's config."
        )
    hidden = int(state["feature_projection.projection.weight"].shape[0])
    pos = "encoder.pos_conv_embed.conv."
    pos_v = state.get(pos + "parametrizations.weight.original1", state.get(pos + "weight_v"))
    if pos_v is None:
        pos_v = state.get(pos + "weight")
    if pos_v is None:
        raise CheckpointError(f"{source}: no positional convolution weight ({pos}*) found")
    rel = state.get("encoder.layers.0.attention.rel_attn_embed.weight")
    projection_norm = "feature_projection.layer_norm.weight" in state
    # HuBERT is wav2vec 2.0's layout; only its optional projection LayerNorm tells it apart.
    kind = model_type or (
        "wavlm" if rel is not None else "wav2vec2" if projection_norm else "hubert"
    )
    heads = int(rel.shape[1]) if rel is not None else max(1, hidden // 64)
    layer_norm = f"feature_extractor.conv_layers.{convs[-1]}.layer_norm.weight" in state
    return SSLFrontendConfig(
        model_type=kind,
        hidden_size=hidden,
        num_hidden_layers=len(layers),
        num_attention_heads=heads,
        intermediate_size=int(
            state["encoder.layers.0.feed_forward.intermediate_dense.weight"].shape[0]
        ),
        conv_dim=tuple(int(w.shape[0]) for w in conv_w),
        conv_kernel=kernels,
        conv_stride=tuple(_STRIDE_OF_KERNEL[k] for k in kernels),
        conv_bias=f"feature_extractor.conv_layers.{convs[0]}.conv.bias" in state,
        feat_extract_norm="layer" if layer_norm else "group",
        do_stable_layer_norm=layer_norm,
        num_conv_pos_embeddings=int(pos_v.shape[-1]),
        num_conv_pos_embedding_groups=max(1, hidden // int(pos_v.shape[1])),
        feat_proj_layer_norm=projection_norm,
        num_buckets=int(rel.shape[0]) if rel is not None else 320,
    )
