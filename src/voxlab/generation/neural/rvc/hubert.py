"""Content features for RVC from a user-supplied HuBERT / ContentVec checkpoint.

RVC reads speech content with HuBERT base (or ContentVec, which has the same layout):
v1 models take layer 9 projected by ``final_proj`` to 256 dims, v2 models take layer 12
(768 dims); both at 50 frames/s of 16 kHz audio (the pipeline's ``extract_features(source,
padding_mask=all False, output_layer=9 | 12)``). voxlab runs the network with
``transformers``' ``HubertModel``; "layer N" is ``hidden_states[N]`` (the output of N
transformer layers).

Two on-disk layouts are read, always with ``torch.load(weights_only=True)`` or
safetensors:

* **fairseq** (``hubert_base.pt`` as RVC ships it, ``hubert_base_ls960.pt``,
  ContentVec): ``{"model": state_dict, "cfg" | "args": ...}`` with fairseq names
  (``encoder.pos_conv.0.weight_g``, ``encoder.layers.3.self_attn.q_proj.weight``, ...).
  The names are mapped one to one onto ``HubertModel``'s; ``final_proj`` is kept for v1.
  fairseq stores its training config as ``omegaconf`` / ``argparse`` objects: those
  pickled objects are read as inert placeholders (their code is never imported or run),
  and the architecture is read from the weights' shapes.
* **transformers**: a ``save_pretrained`` folder (``config.json`` + ``model.safetensors``)
  or a single state-dict file with ``HubertModel`` names (optionally ``final_proj.*``).

Loading is strict: every weight of the network must be present and used.
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from voxlab.errors import CheckpointError, ConfigError

#: Layer each RVC version reads (fairseq ``output_layer``; 1-based, 0 = embeddings).
VERSION_LAYERS = {"v1": 9, "v2": 12}

#: Modules whose pickled objects may appear in a fairseq checkpoint's config; they are
#: read as inert placeholders. Anything else referenced by the pickle is refused.
CONFIG_MODULES = ("argparse", "omegaconf", "typing", "enum", "fairseq", "collections",
                  "pathlib", "builtins", "_operator", "copyreg", "functools")  # fmt: skip

_FAIRSEQ_RULES = [
    (r"^feature_extractor\.conv_layers\.(\d+)\.0\.(weight|bias)$",
     r"feature_extractor.conv_layers.\1.conv.\2"),
    (r"^feature_extractor\.conv_layers\.0\.2\.(weight|bias)$",
     r"feature_extractor.conv_layers.0.layer_norm.\1"),
    (r"^feature_extractor\.conv_layers\.(\d+)\.2\.1\.(weight|bias)$",
     r"feature_extractor.conv_layers.\1.layer_norm.\2"),
    (r"^layer_norm\.(weight|bias)$", r"feature_projection.layer_norm.\1"),
    (r"^post_extract_proj\.(weight|bias)$", r"feature_projection.projection.\1"),
    (r"^encoder\.pos_conv\.0\.bias$", "encoder.pos_conv_embed.conv.bias"),
    (r"^encoder\.pos_conv\.0\.weight$", "encoder.pos_conv_embed.conv.weight"),
    (r"^encoder\.pos_conv\.0\.parametrizations\.weight\.original([01])$",
     r"encoder.pos_conv_embed.conv.parametrizations.weight.original\1"),
    (r"^encoder\.pos_conv\.0\.weight_g$",
     "encoder.pos_conv_embed.conv.parametrizations.weight.original0"),
    (r"^encoder\.pos_conv\.0\.weight_v$",
     "encoder.pos_conv_embed.conv.parametrizations.weight.original1"),
    (r"^encoder\.layer_norm\.(weight|bias)$", r"encoder.layer_norm.\1"),
    (r"^encoder\.layers\.(\d+)\.self_attn\.(q|k|v|out)_proj\.(weight|bias)$",
     r"encoder.layers.\1.attention.\2_proj.\3"),
    (r"^encoder\.layers\.(\d+)\.self_attn_layer_norm\.(weight|bias)$",
     r"encoder.layers.\1.layer_norm.\2"),
    (r"^encoder\.layers\.(\d+)\.fc1\.(weight|bias)$",
     r"encoder.layers.\1.feed_forward.intermediate_dense.\2"),
    (r"^encoder\.layers\.(\d+)\.fc2\.(weight|bias)$",
     r"encoder.layers.\1.feed_forward.output_dense.\2"),
    (r"^encoder\.layers\.(\d+)\.final_layer_norm\.(weight|bias)$",
     r"encoder.layers.\1.final_layer_norm.\2"),
    (r"^mask_emb$", "masked_spec_embed"),
]  # fmt: skip
#: fairseq keys with no role in feature extraction (pre-training targets).
_FAIRSEQ_UNUSED = re.compile(r"^(label_embs_concat|label_embs|label_embeddings)(\..*)?$")
_DEFAULT_STRIDES = {10: 5, 3: 2, 2: 2}


class ContentEncoder(nn.Module):
    """HuBERT/ContentVec content features, as RVC reads them.

    Attributes:
        hubert: The ``transformers`` ``HubertModel``.
        final_proj: The 768 -> 256 projection that v1 models need (None when absent).

    Shape:
        ``audio`` ``(B, N)`` 16 kHz -> ``(B, ~N / 320, C)``.
    """

    def __init__(self, hubert: nn.Module, final_proj: nn.Linear | None = None) -> None:
        super().__init__()
        self.hubert = hubert
        self.final_proj = final_proj

    @property
    def num_layers(self) -> int:
        """Transformer layers of the network."""
        return int(self.hubert.config.num_hidden_layers)

    @torch.no_grad()
    def forward(self, audio: Tensor, *, layer: int, project: bool = False) -> Tensor:
        """Features of ``layer`` (1-based), optionally through ``final_proj``.

        Raises:
            ConfigError: The network has fewer layers, or ``project`` without final_proj.
        """
        if not 0 <= layer <= self.num_layers:
            raise ConfigError(
                f"content layer {layer} does not exist: the HuBERT checkpoint has "
                f"{self.num_layers} layers (RVC v1 reads layer 9, v2 layer 12)"
            )
        if project and self.final_proj is None:
            raise ConfigError(
                "this RVC model is v1 (256-d content), which needs HuBERT's final_proj "
                "(768 -> 256); the HuBERT checkpoint has none. Use the fairseq "
                "hubert_base.pt that RVC ships, or a file that includes final_proj.*"
            )
        out = self.hubert(audio, output_hidden_states=True)
        feats = out.hidden_states[layer]
        return self.final_proj(feats) if project else feats

    def features(self, audio: Tensor, *, version: str, layer: int | None = None) -> Tensor:
        """Features for an RVC model of ``version`` (v1: layer 9 + final_proj; v2: layer 12)."""
        if version not in VERSION_LAYERS:
            raise ConfigError(f"unknown RVC version {version!r} (v1 or v2)")
        return self(
            audio, layer=VERSION_LAYERS[version] if layer is None else layer,
            project=version == "v1",
        )  # fmt: skip


# --------------------------------------------------------------------------- reading files


def _inert_class(name: str) -> type:
    def new(cls, *args, **kwargs):
        inst = object.__new__(cls)
        inst.__dict__["args"] = args
        return inst

    def setstate(self, state):
        self.__dict__["state"] = state

    return type(
        f"Inert[{name}]", (), {"__new__": new, "__init__": lambda self, *a, **k: None,
                               "__setstate__": setstate, "__module__": "voxlab.inert"}
    )  # fmt: skip


def _load_pickle(path: Path) -> Any:
    """``torch.load(weights_only=True)``; config objects of known modules become inert."""
    from voxlab.models.checkpoints import load_state_dict_safely

    try:
        return load_state_dict_safely(path, unwrap=False)
    except CheckpointError as exc:
        if "refusing to load" not in str(exc):
            raise
        first = exc
    try:
        names = torch.serialization.get_unsafe_globals_in_checkpoint(str(path))
    except Exception:
        raise first from None
    foreign = [n for n in names if n.split(".")[0] not in CONFIG_MODULES]
    if foreign or not names:
        raise first
    stubs = [
        (argparse.Namespace if n == "argparse.Namespace" else _inert_class(n), n) for n in names
    ]
    with torch.serialization.safe_globals(stubs):
        try:
            return torch.load(path, weights_only=True, map_location="cpu")
        except Exception as exc:
            raise CheckpointError(
                f"cannot read {path} even with its config objects ({', '.join(names[:6])}) "
                f"read as inert placeholders: {exc}. Re-save its weights with "
                "`torch.save({'model': ckpt['model']}, 'hubert_weights.pt')`."
            ) from exc


def _plain(value: Any) -> Any:
    """A config mapping from a dict, a Namespace or an inert omegaconf DictConfig; else None.

    An omegaconf ``DictConfig`` pickles its entries under ``_content`` (nodes keep the
    value under ``_val``); read as inert placeholders, they are unwrapped here.
    """
    if isinstance(value, argparse.Namespace):
        return vars(value)
    if type(value).__module__ == "voxlab.inert":
        state = value.__dict__.get("state")
        if isinstance(state, Mapping) and isinstance(state.get("_content"), Mapping):
            return {k: _value(v) for k, v in state["_content"].items()}
        return None
    return value if isinstance(value, Mapping) else None


def _value(node: Any) -> Any:
    if type(node).__module__ == "voxlab.inert":
        state = node.__dict__.get("state")
        if isinstance(state, Mapping) and "_val" in state:
            return state["_val"]
        return _plain(node)
    return node


def _fairseq_cfg(checkpoint: Mapping[str, Any]) -> dict[str, Any]:
    cfg = _plain(checkpoint.get("cfg"))
    if cfg is not None and _plain(cfg.get("model")) is not None:
        return dict(_plain(cfg["model"]))
    args = _plain(checkpoint.get("args"))
    return dict(args) if args is not None else {}


def _strides(kernels: list[int], cfg: Mapping[str, Any]) -> list[int]:
    spec = cfg.get("conv_feature_layers")
    if isinstance(spec, str):  # e.g. "[(512,10,5)] + [(512,3,2)] * 4 + [(512,2,2)] * 2"
        strides: list[int] = []
        for term in spec.split("+"):
            match = re.fullmatch(r"\s*\[(.*)\]\s*(?:\*\s*(\d+))?\s*", term)
            if not match:
                break
            layers = re.findall(r"\(\s*\d+\s*,\s*\d+\s*,\s*(\d+)\s*\)", match[1])
            strides += [int(s) for s in layers] * int(match[2] or 1)
        else:
            if len(strides) == len(kernels):
                return strides
    try:
        return [_DEFAULT_STRIDES[k] for k in kernels]
    except KeyError:
        raise CheckpointError(
            f"cannot tell the strides of HuBERT conv kernels {kernels}; the checkpoint's "
            "config is unreadable and they are not HuBERT's (10, 3, 3, 3, 3, 2, 2)"
        ) from None


def _hubert_config(state: Mapping[str, Tensor], cfg: Mapping[str, Any]) -> Any:
    """A ``HubertConfig`` for a state dict in transformers names (shapes + fairseq cfg)."""
    from transformers import HubertConfig

    prefix = "feature_extractor.conv_layers"
    n_conv = 1 + max(int(k.split(".")[2]) for k in state if k.startswith(prefix))
    convs = [state[f"{prefix}.{i}.conv.weight"] for i in range(n_conv)]
    kernels = [int(w.shape[2]) for w in convs]
    per_layer_norm = all(f"{prefix}.{i}.layer_norm.weight" in state for i in range(n_conv))
    hidden = int(state["feature_projection.projection.weight"].shape[0])
    pos_v = state["encoder.pos_conv_embed.conv.parametrizations.weight.original1"]
    n_layers = 1 + max(
        (int(k.split(".")[2]) for k in state if k.startswith("encoder.layers.")), default=-1
    )
    layer_norm_first = cfg.get("layer_norm_first", per_layer_norm and n_conv > 1)
    heads = int(cfg.get("encoder_attention_heads", max(hidden // 64, 1)))
    if hidden % heads:
        raise CheckpointError(f"HuBERT width {hidden} is not a multiple of {heads} heads")
    return HubertConfig(
        hidden_size=hidden,
        num_hidden_layers=n_layers,
        num_attention_heads=heads,
        intermediate_size=int(
            state["encoder.layers.0.feed_forward.intermediate_dense.weight"].shape[0]
        )
        if n_layers
        else 4 * hidden,
        conv_dim=tuple(int(w.shape[0]) for w in convs),
        conv_kernel=tuple(kernels),
        conv_stride=tuple(_strides(kernels, cfg)),
        conv_bias=f"{prefix}.0.conv.bias" in state,
        feat_extract_norm="layer" if per_layer_norm else "group",
        feat_proj_layer_norm="feature_projection.layer_norm.weight" in state,
        num_conv_pos_embeddings=int(pos_v.shape[2]),
        num_conv_pos_embedding_groups=hidden // int(pos_v.shape[1]),
        do_stable_layer_norm=bool(layer_norm_first),
    )


def fairseq_to_transformers(
    state: Mapping[str, Tensor], *, source: str = "checkpoint"
) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
    """Rename a fairseq HuBERT state dict to ``HubertModel`` names.

    Returns:
        ``(hubert_state, final_proj_state)``.

    Raises:
        CheckpointError: A key that belongs to no known HuBERT module.
    """
    rules = [(re.compile(p), r) for p, r in _FAIRSEQ_RULES]
    out: dict[str, Tensor] = {}
    proj: dict[str, Tensor] = {}
    unknown = []
    for key, value in state.items():
        if key.startswith("final_proj."):
            proj[key[len("final_proj.") :]] = value
            continue
        if _FAIRSEQ_UNUSED.match(key):
            continue
        for pattern, repl in rules:
            if pattern.match(key):
                out[pattern.sub(repl, key)] = value
                break
        else:
            unknown.append(key)
    if unknown:
        raise CheckpointError(
            f"{source}: keys that are not part of a fairseq HuBERT/ContentVec model: "
            f"{', '.join(sorted(unknown)[:12])}. Pass hubert_base.pt (fairseq) or a "
            "transformers HubertModel checkpoint."
        )
    return out, proj


def _build(
    state: dict[str, Tensor], proj: Mapping[str, Tensor], config: Any, *, source: str
) -> ContentEncoder:
    from transformers import HubertModel

    from voxlab.generation.neural.rvc.loading import check_keys

    state = {k: v.float() if v.is_floating_point() else v for k, v in state.items()}
    model = HubertModel(config)
    if "masked_spec_embed" not in state and "masked_spec_embed" in model.state_dict():
        state["masked_spec_embed"] = model.state_dict()["masked_spec_embed"]  # training only
    check_keys(model, state, source=source)
    model.load_state_dict(state, strict=True)
    final_proj = None
    if proj:
        if set(proj) - {"weight", "bias"} or "weight" not in proj:
            raise CheckpointError(f"{source}: malformed final_proj ({sorted(proj)})")
        weight = proj["weight"].float()
        final_proj = nn.Linear(weight.shape[1], weight.shape[0], bias="bias" in proj)
        final_proj.load_state_dict({k: v.float() for k, v in proj.items()})
    return ContentEncoder(model, final_proj).eval()


def _split_proj(state: Mapping[str, Tensor]) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
    hubert = {k: v for k, v in state.items() if not k.startswith("final_proj.")}
    proj = {k[len("final_proj.") :]: v for k, v in state.items() if k.startswith("final_proj.")}
    for prefix in ("hubert.", "model."):
        if hubert and all(k.startswith(prefix) for k in hubert):
            hubert = {k[len(prefix) :]: v for k, v in hubert.items()}
    return hubert, proj


def load_content_encoder(path: str | Path) -> ContentEncoder:
    """Load HuBERT/ContentVec from a fairseq file, a transformers folder or state dict.

    Args:
        path: ``hubert_base.pt`` (fairseq), a ``save_pretrained`` folder, or a
            ``.safetensors`` / ``.pt`` state dict in ``HubertModel`` names (plus an
            optional ``final_proj.*``; a ``config.json`` beside it is used when present).

    Returns:
        The eval-mode :class:`ContentEncoder` (float32, CPU).

    Raises:
        CheckpointError: Missing, unsafe, corrupt or mismatched file.
    """
    try:
        import transformers  # noqa: F401
    except ImportError as exc:
        raise CheckpointError(
            "reading HuBERT needs the 'transformers' package: pip install 'voxlab[rvc]'"
        ) from exc
    from voxlab.models.checkpoints import load_state_dict_safely

    path = Path(path)
    source = str(path)
    config_json: dict[str, Any] | None = None
    if path.is_dir():
        names = ("model.safetensors", "pytorch_model.bin")
        files = [path / n for n in names if (path / n).exists()]
        if not (path / "config.json").exists() or not files:
            raise CheckpointError(
                f"{path} is a folder but not a transformers HuBERT (needs config.json and "
                "model.safetensors). Pass the folder written by save_pretrained, or the "
                "fairseq hubert_base.pt file."
            )
        config_json = json.loads((path / "config.json").read_text())
        state = load_state_dict_safely(files[0])
    else:
        if path.suffix == ".safetensors":
            loaded: Any = load_state_dict_safely(path)
        else:
            loaded = _load_pickle(path)
        if (
            isinstance(loaded, Mapping)
            and isinstance(loaded.get("model"), Mapping)
            and any(str(k).startswith("encoder.pos_conv.") for k in loaded["model"])
        ):
            hubert, proj = fairseq_to_transformers(loaded["model"], source=source)
            hubert = _official_weight_norm_names(hubert)
            config = _hubert_config(hubert, _fairseq_cfg(loaded))
            return _build(hubert, proj, config, source=source)
        from voxlab.models.checkpoints import unwrap_state_dict

        if not isinstance(loaded, Mapping):
            raise CheckpointError(f"{path} holds a {type(loaded).__name__}, not a HuBERT model")
        try:
            state = unwrap_state_dict(loaded, source=source)
        except CheckpointError:
            state = {}
        if (path.parent / "config.json").exists():
            config_json = json.loads((path.parent / "config.json").read_text())
    hubert, proj = _split_proj(state)
    if "feature_projection.projection.weight" not in hubert:
        raise CheckpointError(
            f"{source} is not a HuBERT/ContentVec checkpoint (no feature projection among "
            f"{len(hubert)} keys). Pass RVC's hubert_base.pt or a transformers HubertModel."
        )
    hubert = _official_weight_norm_names(hubert)
    if config_json is not None:
        from transformers import HubertConfig

        config = HubertConfig(**{k: v for k, v in config_json.items() if k != "architectures"})
    else:
        config = _hubert_config(hubert, {})
    return _build(hubert, proj, config, source=source)


def _official_weight_norm_names(state: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """The positional conv's weight norm under today's ``HubertModel`` names.

    Older transformers files call it ``weight_g`` / ``weight_v``; a file whose weight norm
    was removed holds a plain ``weight``, which is split into g = ||w|| (over all axes but
    the kernel axis, as ``weight_norm(dim=2)`` does) and v = w.
    """
    out = dict(state)
    base = "encoder.pos_conv_embed.conv."
    for old, new in (("weight_g", "parametrizations.weight.original0"),
                     ("weight_v", "parametrizations.weight.original1")):  # fmt: skip
        if base + old in out:
            out[base + new] = out.pop(base + old)
    if base + "weight" in out:
        weight = out.pop(base + "weight")
        out[base + "parametrizations.weight.original0"] = torch.linalg.vector_norm(
            weight, dim=(0, 1), keepdim=True
        )
        out[base + "parametrizations.weight.original1"] = weight
    return out
