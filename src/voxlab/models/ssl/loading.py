"""Official SSL countermeasure checkpoints -> voxlab models, with strict key matching.

A checkpoint of SSL-AASIST (TakHemlata/SSL_Anti-spoofing; LA files unprefixed, DF files
``module.``-prefixed), of XLSR-SLS (QiShanZhang/SLSforASVspoof-2021-DF) or of voxlab's own
SSL models is read with ``torch.load(weights_only=True)`` (or safetensors). Its front end
(fairseq names under ``ssl_model.model.``, or ``transformers`` names under
``frontend.model.``) is renamed to ``transformers``' names; the back end goes through the
architecture's adapter. The architecture is sized from the tensors' shapes
(:func:`~voxlab.models.ssl.config.infer_frontend_config`) unless a front-end config is
given, then built on the meta device and the checkpoint's tensors are assigned to it, so a
300M-parameter model costs one copy of its weights. Every missing, unexpected or mis-shaped
tensor is an error that names the file.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from voxlab.errors import CheckpointError
from voxlab.models.checkpoints import KeyAdapter, load_state_dict_safely, unwrap_state_dict
from voxlab.models.ssl.adapters import SLS_BACKEND, SSL_AASIST_BACKEND
from voxlab.models.ssl.config import (
    SSLFrontendConfig,
    frontend_config_from_dict,
    infer_frontend_config,
    load_frontend_config,
)
from voxlab.models.ssl.keys import OFFICIAL_PREFIX, frontend_to_transformers

VOXLAB_PREFIX = "frontend.model."
_MAX_LISTED = 10
_BACKEND_ADAPTERS: dict[str, KeyAdapter | None] = {
    "ssl-aasist": SSL_AASIST_BACKEND,
    "xlsr-sls": SLS_BACKEND,
    "ssl-pool": None,
}


def split_checkpoint(
    state: Mapping[str, Tensor], *, arch: str, source: str = "checkpoint"
) -> tuple[dict[str, Tensor], dict[str, Tensor], str]:
    """Split an SSL countermeasure state dict into its front end and back end.

    Args:
        state: The whole state dict (``module.`` prefix already stripped).
        arch: Registry name (selects the back-end adapter for official files).
        source: File name for messages.

    Returns:
        ``(front end in transformers names, back end in voxlab names, layout)`` where
        layout is ``"official"`` or ``"voxlab"``.

    Raises:
        CheckpointError: No SSL front end in the file.
    """
    official = {
        k[len(OFFICIAL_PREFIX) :]: v for k, v in state.items() if k.startswith(OFFICIAL_PREFIX)
    }
    if official:
        rest = {k: v for k, v in state.items() if not k.startswith(OFFICIAL_PREFIX)}
        adapter = _BACKEND_ADAPTERS.get(arch)
        backend = adapter.to_voxlab(rest) if adapter is not None else rest
        return frontend_to_transformers(official), backend, "official"
    ours = {k[len(VOXLAB_PREFIX) :]: v for k, v in state.items() if k.startswith(VOXLAB_PREFIX)}
    if ours:
        backend = {
            k[len("backend.") :] if k.startswith("backend.") else k: v
            for k, v in state.items()
            if not k.startswith(VOXLAB_PREFIX)
        }
        return frontend_to_transformers(ours), backend, "voxlab"
    sample = ", ".join(sorted(state)[:5])
    raise CheckpointError(
        f"{source} holds no SSL front end (no 'ssl_model.model.*' or 'frontend.model.*' "
        f"keys; first keys: {sample}). It is not an {arch} checkpoint: check --model, or "
        "use the checkpoint's own architecture (e.g. --model aasist)."
    )


def _indices(keys, pattern: str) -> list[int]:
    regex = re.compile(pattern)
    return sorted({int(m.group(1)) for k in keys if (m := regex.match(k))})


def _need(state: Mapping[str, Tensor], key: str, source: str, arch: str) -> Tensor:
    if key not in state:
        raise CheckpointError(
            f"{source}: back-end tensor {key!r} is missing, so this is not an {arch} "
            "checkpoint (or it is truncated). Check --model."
        )
    return state[key]


def infer_config(
    arch: str,
    frontend: SSLFrontendConfig,
    backend: Mapping[str, Tensor],
    *,
    source: str = "checkpoint",
    **overrides: Any,
) -> Any:
    """The architecture config of ``arch`` whose back end has ``backend``'s shapes.

    Args:
        arch: ``ssl-aasist``, ``xlsr-sls`` or ``ssl-pool``.
        frontend: The front end's config.
        backend: Back-end tensors in voxlab names.
        source: File name for messages.
        **overrides: Other config fields (e.g. ``freeze_frontend``).
    """
    from voxlab.models.registry import get_spec

    spec = get_spec(arch)
    fields: dict[str, Any] = {"frontend": frontend}
    if arch == "ssl-aasist":
        proj = _need(backend, "projection.weight", source, arch)
        blocks = _indices(backend, r"encoder\.(\d+)\.conv1\.weight$")
        fields["projection_dim"] = int(proj.shape[0])
        fields["encoder_channels"] = tuple(
            int(backend[f"encoder.{i}.conv1.weight"].shape[0]) for i in blocks
        )
        fields["gat_dims"] = (
            int(_need(backend, "gat_spectral.attn_proj.weight", source, arch).shape[0]),
            int(_need(backend, "branch1_hgat1.attn_proj.weight", source, arch).shape[0]),
        )
    elif arch == "xlsr-sls":
        fc1 = _need(backend, "fc1.weight", source, arch)
        per_frame = frontend.hidden_size // 3
        if fc1.shape[1] % per_frame:
            raise CheckpointError(
                f"{source}: fc1 reads {fc1.shape[1]} features, not a multiple of "
                f"{per_frame} (= hidden_size // 3 of the front end): front end and back end "
                "do not belong together. Check --ssl-config."
            )
        fields["num_frames"] = 3 * (int(fc1.shape[1]) // per_frame)
        fields["fc_dim"] = int(fc1.shape[0])
    elif arch == "ssl-pool":
        fields["pooling"] = "attentive" if "attention.0.weight" in backend else "mean"
        if "projection.weight" in backend:
            fields["projection_dim"] = int(backend["projection.weight"].shape[0])
    fields.update(overrides)
    fields["frontend_checkpoint"] = ""  # the weights come from the checkpoint itself
    try:
        return dataclasses.replace(spec.default_config, **fields)
    except TypeError as exc:
        raise CheckpointError(f"{source}: cannot configure {arch}: {exc}") from exc


def check_strict(
    model: nn.Module, state: Mapping[str, Tensor], *, source: str, hint: str = ""
) -> None:
    """Raise :class:`CheckpointError` unless ``state`` has exactly ``model``'s keys and shapes."""
    own = model.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    shapes = sorted(
        f"{k}: checkpoint {tuple(state[k].shape)} vs model {tuple(own[k].shape)}"
        for k in set(own) & set(state)
        if tuple(state[k].shape) != tuple(own[k].shape)
    )
    if not (missing or unexpected or shapes):
        return
    parts = []
    for label, items in (("missing", missing), ("unexpected", unexpected), ("mis-shaped", shapes)):
        if items:
            more = f" (+{len(items) - _MAX_LISTED} more)" if len(items) > _MAX_LISTED else ""
            parts.append(f"{label} [{len(items)}]: {', '.join(items[:_MAX_LISTED])}{more}")
    raise CheckpointError(
        f"{source} does not match {type(model).__name__} (voxlab names): "
        + "; ".join(parts)
        + f". {hint}".rstrip()
    )


def plan_ssl_checkpoint(
    state: Mapping[str, Tensor],
    *,
    arch: str = "ssl-aasist",
    ssl_config: str | Path | SSLFrontendConfig | None = None,
    source: str = "state dict",
    **overrides: Any,
) -> tuple[nn.Module, dict[str, Tensor]]:
    """Size and build (on the meta device) the model a state dict needs, and check it.

    Needs only the tensors' names and shapes, so a real-size layout (e.g. meta tensors made
    from a key manifest) can be checked without allocating the weights.

    Args:
        state: The checkpoint's state dict (``module.`` prefix and wrappers allowed).
        arch: Registry name: ``ssl-aasist``, ``xlsr-sls`` or ``ssl-pool``.
        ssl_config: Front-end config (JSON file or object); default: from the shapes.
        source: File name for messages.
        **overrides: Further config fields.

    Returns:
        ``(model on the meta device, state dict in the model's names)``; the keys and
        shapes match exactly.

    Raises:
        CheckpointError: Not an SSL checkpoint of ``arch``, or keys/shapes that do not match.
    """
    from voxlab.models.registry import get_spec

    spec = get_spec(arch)
    if arch not in _BACKEND_ADAPTERS:
        raise CheckpointError(
            f"{arch!r} is not an SSL architecture; use one of {sorted(_BACKEND_ADAPTERS)}"
        )
    state = unwrap_state_dict(state, source=source)
    frontend_state, backend_state, _ = split_checkpoint(state, arch=arch, source=source)
    overrides = dict(overrides)
    given = overrides.pop("frontend", None)  # a voxlab sidecar's config
    if ssl_config is None and given is not None:
        ssl_config = (
            given if isinstance(given, SSLFrontendConfig) else frontend_config_from_dict(given)
        )
    if isinstance(ssl_config, (str, Path)):
        frontend = load_frontend_config(ssl_config)
        hint = (
            f"The front-end config {ssl_config} does not fit this checkpoint; fix it or "
            "leave --ssl-config out."
        )
    elif isinstance(ssl_config, SSLFrontendConfig):
        frontend = ssl_config
        hint = "The given front-end config does not fit this checkpoint."
    else:
        frontend = infer_frontend_config(frontend_state, source=source)
        hint = (
            "The front end was sized from the checkpoint's shapes (heads = hidden/64, "
            "standard strides); pass --ssl-config with its config if it differs."
        )
    config = infer_config(arch, frontend, backend_state, source=source, **overrides)
    mapped = {f"{VOXLAB_PREFIX}{k}": v for k, v in frontend_state.items()}
    mapped.update({f"backend.{k}": v for k, v in backend_state.items()})
    with torch.device("meta"):
        model = spec.builder(config)
    check_strict(model, mapped, source=source, hint=hint)
    return model, mapped


def load_ssl_checkpoint(
    checkpoint: str | Path | Mapping[str, Tensor],
    *,
    arch: str = "ssl-aasist",
    ssl_config: str | Path | SSLFrontendConfig | None = None,
    **overrides: Any,
) -> nn.Module:
    """Build an SSL countermeasure from a checkpoint, sized by its shapes, in eval mode.

    Args:
        checkpoint: A ``.pth``/``.pt``/``.safetensors`` file, or a state dict. Official
            SSL-AASIST (LA: bare keys; DF: ``module.`` prefix) and XLSR-SLS layouts and
            voxlab's own are accepted.
        arch: Registry name: ``ssl-aasist``, ``xlsr-sls`` or ``ssl-pool``.
        ssl_config: Front-end config (JSON file or object); by default read off the
            checkpoint's shapes (right for every published XLS-R / wav2vec 2.0 model).
        **overrides: Further config fields (e.g. ``freeze_frontend=True``).

    Returns:
        The model with the checkpoint's weights, in eval mode.

    Raises:
        CheckpointError: Unreadable or unsafe file, not an SSL checkpoint of ``arch``, or
            keys/shapes that do not match (the message lists them).
        ConfigError: Unknown ``arch`` or invalid ``ssl_config``.
    """
    if isinstance(checkpoint, (str, Path)):
        source = str(checkpoint)
        state = load_state_dict_safely(checkpoint)
    else:
        source = "state dict"
        state = dict(checkpoint)
    model, mapped = plan_ssl_checkpoint(
        state, arch=arch, ssl_config=ssl_config, source=source, **overrides
    )
    meta = [k for k, v in mapped.items() if v.is_meta]
    if meta:
        raise CheckpointError(f"{source}: tensors without data (meta): {meta[:5]}")
    model.load_state_dict(mapped, strict=True, assign=True)
    if getattr(model.config, "freeze_frontend", False):
        model.frontend.requires_grad_(False)
    return model.eval()


def load_frontend_weights(frontend: nn.Module, checkpoint: str | Path) -> nn.Module:
    """Load pre-trained encoder weights into an :class:`SSLFrontend` (strict).

    Accepted files: a fairseq wav2vec 2.0 / XLS-R checkpoint (``xlsr2_300m.pt``: its
    ``model`` entry is used; it must load with ``weights_only=True``), a Hugging Face
    ``pytorch_model.bin`` / ``model.safetensors`` of a wav2vec 2.0 / WavLM / HuBERT model
    (or the folder holding it), or any SSL countermeasure checkpoint (its front end is
    taken). Pre-training and task heads are ignored.

    Raises:
        CheckpointError: Unreadable or unsafe file, or encoder tensors that do not match
            the front end's config.
    """
    checkpoint = Path(checkpoint)
    if checkpoint.is_dir():  # a Hugging Face model folder
        found = [checkpoint / n for n in ("model.safetensors", "pytorch_model.bin")]
        found = [p for p in found if p.is_file()]
        if not found:
            raise CheckpointError(
                f"{checkpoint} is a folder without model.safetensors or pytorch_model.bin; "
                "pass the weights file itself"
            )
        checkpoint = found[0]
    state = load_state_dict_safely(checkpoint)
    for prefix in (OFFICIAL_PREFIX, VOXLAB_PREFIX):
        inner = {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}
        if inner:
            state = inner
            break
    mapped = frontend_to_transformers(state)
    check_strict(
        frontend.model,
        mapped,
        source=str(checkpoint),
        hint="Its encoder does not have the configured size; fix model.overrides.frontend.",
    )
    frontend.model.load_state_dict(mapped, strict=True)
    return frontend
