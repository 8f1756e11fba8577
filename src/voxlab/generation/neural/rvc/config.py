"""The RVC export dict: its positional ``config`` list, version, F0 flag and sample rate.

RVC (RVC-Project/Retrieval-based-Voice-Conversion-WebUI) saves an inference model as a
dict ``{"weight": state_dict (float16, no enc_q), "config": [18 values], "info": str,
"sr": "40k", "f0": 1 | 0, "version": "v1" | "v2"}``. The ``config`` list holds the
synthesizer's constructor arguments in order (see :data:`CONFIG_FIELDS`). This module
turns it into a frozen :class:`RVCConfig` and checks every value, so that a damaged or
foreign file fails with a message instead of a shape error deep inside the model.

The facts mirrored from the official loader (``get_vc``): a missing ``f0`` means 1, a
missing ``version`` means ``"v1"``, the number of speakers is taken from
``emb_g.weight`` (it overrides ``config[-3]``), and the target sample rate is the last
config value.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from voxlab.errors import CheckpointError

#: Names of the 18 positional values of an RVC export's ``config`` list.
CONFIG_FIELDS = (
    "spec_channels",
    "segment_size",
    "inter_channels",
    "hidden_channels",
    "filter_channels",
    "n_heads",
    "n_layers",
    "kernel_size",
    "p_dropout",
    "resblock",
    "resblock_kernel_sizes",
    "resblock_dilation_sizes",
    "upsample_rates",
    "upsample_initial_channel",
    "upsample_kernel_sizes",
    "spk_embed_dim",
    "gin_channels",
    "sampling_rate",
)

#: Width of the content features each version reads (v1: HuBERT layer 9 + final_proj).
CONTENT_DIMS = {"v1": 256, "v2": 768}

#: The ``sr`` strings RVC writes, as Hz.
SAMPLE_RATE_NAMES = {"32k": 32000, "40k": 40000, "48k": 48000}

#: Name of the official class for (version, f0).
OFFICIAL_CLASSES = {
    ("v1", True): "SynthesizerTrnMs256NSFsid",
    ("v1", False): "SynthesizerTrnMs256NSFsid_nono",
    ("v2", True): "SynthesizerTrnMs768NSFsid",
    ("v2", False): "SynthesizerTrnMs768NSFsid_nono",
}


@dataclass(frozen=True)
class RVCConfig:
    """Hyper-parameters of an RVC synthesizer (the export's config list, named).

    Attributes:
        spec_channels: Linear-spectrogram bins of the (training-only) posterior encoder.
        segment_size: Training segment size (unused at inference).
        inter_channels: Latent channels (192 published).
        hidden_channels: Encoder and flow width (192 published).
        filter_channels: FFN width of the content encoder (768 published).
        n_heads: Attention heads.
        n_layers: Attention layers.
        kernel_size: FFN kernel size.
        p_dropout: Dropout (inactive at inference).
        resblock: ``"1"`` or ``"2"`` (HiFi-GAN residual block type).
        resblock_kernel_sizes: Kernel sizes of the residual blocks of each stage.
        resblock_dilation_sizes: Dilations of the residual blocks.
        upsample_rates: Upsampling factor of each decoder stage (product = hop size).
        upsample_initial_channel: Channels after the decoder's first conv.
        upsample_kernel_sizes: Transposed-conv kernel size of each stage.
        spk_embed_dim: Number of speakers (rows of ``emb_g``).
        gin_channels: Speaker-embedding width.
        sampling_rate: Output sample rate in Hz.
        version: ``"v1"`` (256-d content) or ``"v2"`` (768-d content).
        f0: Whether the model is pitch-conditioned (NSF source + pitch embedding).
    """

    spec_channels: int
    segment_size: int
    inter_channels: int
    hidden_channels: int
    filter_channels: int
    n_heads: int
    n_layers: int
    kernel_size: int
    p_dropout: float
    resblock: str
    resblock_kernel_sizes: tuple[int, ...]
    resblock_dilation_sizes: tuple[tuple[int, ...], ...]
    upsample_rates: tuple[int, ...]
    upsample_initial_channel: int
    upsample_kernel_sizes: tuple[int, ...]
    spk_embed_dim: int
    gin_channels: int
    sampling_rate: int
    version: str = "v2"
    f0: bool = True

    @property
    def content_dim(self) -> int:
        """Width of the content features (256 for v1, 768 for v2)."""
        return CONTENT_DIMS[self.version]

    @property
    def hop_length(self) -> int:
        """Output samples per content frame (product of the upsampling rates)."""
        return math.prod(self.upsample_rates)

    @property
    def official_class(self) -> str:
        """The official class this config builds (e.g. ``SynthesizerTrnMs768NSFsid``)."""
        return OFFICIAL_CLASSES[(self.version, self.f0)]

    def to_list(self) -> list[Any]:
        """The 18-element config list in the export's order (JSON-compatible values)."""
        out: list[Any] = []
        for name in CONFIG_FIELDS:
            value = getattr(self, name)
            if name == "resblock_dilation_sizes":
                value = [list(v) for v in value]
            elif isinstance(value, tuple):
                value = list(value)
            out.append(value)
        return out

    @classmethod
    def from_list(
        cls,
        values: Sequence[Any],
        *,
        version: str = "v1",
        f0: bool | int = True,
        source: str = "RVC config",
    ) -> RVCConfig:
        """Builds a config from an export's 18-element list, checking every value.

        Args:
            values: The ``config`` list.
            version: ``"v1"`` or ``"v2"``.
            f0: Pitch-conditioned model (the export's ``f0`` flag, 1 or 0).
            source: What to call the file in error messages.

        Raises:
            CheckpointError: Wrong length, wrong types or impossible values.
        """
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
            raise CheckpointError(
                f"{source}: 'config' must be the 18-element list of an RVC export, got "
                f"{type(values).__name__}. Export the model again with RVC's "
                "'ckpt processing' tab (extract small model)."
            )
        if len(values) != len(CONFIG_FIELDS):
            raise CheckpointError(
                f"{source}: 'config' has {len(values)} values, an RVC export has "
                f"{len(CONFIG_FIELDS)} ({', '.join(CONFIG_FIELDS)}). The file is not an RVC "
                "v1/v2 export, or it was edited."
            )
        if version not in CONTENT_DIMS:
            raise CheckpointError(
                f"{source}: unknown RVC version {version!r}; voxlab reads 'v1' and 'v2' exports."
            )
        if f0 not in (0, 1, True, False):
            raise CheckpointError(f"{source}: 'f0' must be 1 or 0, got {f0!r}.")
        raw = dict(zip(CONFIG_FIELDS, values))
        try:
            parsed = {
                **{k: _int(raw[k], k) for k in _INT_FIELDS},
                "p_dropout": float(raw["p_dropout"]),
                "resblock": str(raw["resblock"]),
                "resblock_kernel_sizes": _ints(raw["resblock_kernel_sizes"], "kernel sizes"),
                "resblock_dilation_sizes": tuple(
                    _ints(d, "dilations") for d in raw["resblock_dilation_sizes"]
                ),
                "upsample_rates": _ints(raw["upsample_rates"], "upsample_rates"),
                "upsample_kernel_sizes": _ints(raw["upsample_kernel_sizes"], "kernels"),
                "sampling_rate": _sample_rate(raw["sampling_rate"]),
            }
        except (TypeError, ValueError) as exc:
            raise CheckpointError(f"{source}: malformed config list ({exc}).") from exc
        config = cls(**parsed, version=version, f0=bool(f0))
        config._check(source)
        return config

    def _check(self, source: str) -> None:
        problems = []
        if self.resblock not in ("1", "2"):
            problems.append(f"resblock must be '1' or '2', got {self.resblock!r}")
        if len(self.resblock_kernel_sizes) != len(self.resblock_dilation_sizes):
            problems.append("resblock kernel sizes and dilation lists differ in length")
        if len(self.upsample_rates) != len(self.upsample_kernel_sizes):
            problems.append("upsample_rates and upsample_kernel_sizes differ in length")
        if not self.upsample_rates:
            problems.append("upsample_rates is empty")
        if self.hidden_channels % max(self.n_heads, 1) or self.n_heads < 1:
            problems.append("hidden_channels must be a multiple of n_heads")
        if self.upsample_initial_channel >> len(self.upsample_rates) < 1:
            problems.append("upsample_initial_channel is too small for the number of stages")
        if self.inter_channels % 2:
            problems.append("inter_channels must be even (the flows split it in halves)")
        if self.sampling_rate % self.hop_length:
            problems.append(
                f"sampling rate {self.sampling_rate} is not a multiple of the hop "
                f"{self.hop_length} (the product of upsample_rates)"
            )
        if self.f0 and any(
            (k - u) % 2 for u, k in zip(self.upsample_rates, self.upsample_kernel_sizes)
        ):
            problems.append("every upsample kernel minus its rate must be even")
        if problems:
            raise CheckpointError(f"{source}: invalid RVC config: " + "; ".join(problems) + ".")


_INT_FIELDS = (
    "spec_channels",
    "segment_size",
    "inter_channels",
    "hidden_channels",
    "filter_channels",
    "n_heads",
    "n_layers",
    "kernel_size",
    "upsample_initial_channel",
    "spk_embed_dim",
    "gin_channels",
)


def _int(value: Any, name: str) -> int:
    if isinstance(value, bool) or int(value) != value or int(value) < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    return int(value)


def _ints(values: Any, name: str) -> tuple[int, ...]:
    if isinstance(values, (str, bytes)):
        raise ValueError(f"{name} must be a list of integers, got {values!r}")
    out = tuple(_int(v, name) for v in values)
    if any(v == 0 for v in out):
        raise ValueError(f"{name} must be positive, got {list(out)}")
    return out


def _sample_rate(value: Any) -> int:
    if isinstance(value, str):
        if value in SAMPLE_RATE_NAMES:
            return SAMPLE_RATE_NAMES[value]
        raise ValueError(f"unknown sample rate name {value!r} (32k, 40k, 48k)")
    rate = _int(value, "sampling_rate")
    if not 8000 <= rate <= 192000:
        raise ValueError(f"sampling_rate {rate} Hz is out of range")
    return rate


def config_from_export(export: Mapping[str, Any], *, source: str = "RVC export") -> RVCConfig:
    """Reads the config of an RVC export dict the way the official loader does.

    ``f0`` defaults to 1 and ``version`` to ``"v1"`` when absent; the number of speakers
    comes from ``weight["emb_g.weight"]`` when present (overriding ``config[-3]``).

    Args:
        export: The loaded export dict (``weight``, ``config``, ``sr``, ``f0``, ``version``).
        source: What to call the file in error messages.

    Raises:
        CheckpointError: A key is missing or a value is invalid, or ``sr`` contradicts
            the config's sample rate.
    """
    if "config" not in export:
        raise CheckpointError(
            f"{source} has no 'config' list (keys: {', '.join(sorted(map(str, export)))}). "
            "It is not an RVC inference export: training checkpoints (G_*.pth) must first "
            "be exported with RVC's 'ckpt processing' tab (extract small model)."
        )
    values = list(export["config"])
    weight = export.get("weight")
    if isinstance(weight, Mapping) and "emb_g.weight" in weight and len(values) >= 3:
        values[-3] = int(weight["emb_g.weight"].shape[0])
    version = export.get("version", "v1")
    f0 = export.get("f0", 1)
    config = RVCConfig.from_list(values, version=version, f0=f0, source=source)
    named = export.get("sr")
    if isinstance(named, str) and named in SAMPLE_RATE_NAMES:
        if SAMPLE_RATE_NAMES[named] != config.sampling_rate:
            raise CheckpointError(
                f"{source}: 'sr' says {named} but the config's sample rate is "
                f"{config.sampling_rate} Hz; the export is inconsistent."
            )
    return config
