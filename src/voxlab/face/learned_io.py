"""Saving and loading the learned face-swap model: storage precisions, checksums, safe loads.

Files are ``torch.save`` dictionaries (config, state dict, meta) read back with
``weights_only=True``; weights may be stored as float16 or int8 (per-row scales) and are
restored to float32. The shipped hopper <-> astronaut model is checked against its SHA-256
before it is loaded.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch

from voxlab.errors import ConfigError
from voxlab.face.learned import WEIGHTS, WEIGHTS_SHA256, DFLAutoencoder, SwapModelConfig

#: Storage precisions of :func:`save_swap_model`.
PRECISIONS = ("float32", "float16", "int8")


def _pack(state: Mapping[str, torch.Tensor], precision: str) -> dict[str, torch.Tensor]:
    """Float tensors as float16, or weight matrices/kernels as int8 with per-row scales."""
    out: dict[str, torch.Tensor] = {}
    for k, v in state.items():
        if not v.is_floating_point() or precision == "float32":
            out[k] = v
        elif precision == "int8" and v.ndim >= 2:
            scale = v.abs().amax(dim=tuple(range(1, v.ndim)), keepdim=True).clamp_min(1e-12) / 127
            out[k] = torch.round(v / scale).to(torch.int8)
            out[k + ":scale"] = scale.float()
        else:
            out[k] = v.half()
    return out


def _unpack(state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    out = {}
    for k, v in state.items():
        if k.endswith(":scale"):
            continue
        scale = state.get(k + ":scale")
        out[k] = v.float() * scale if scale is not None else (v.float() if v.is_floating_point()
                                                               else v)  # fmt: skip
    return out


def save_swap_model(
    model: DFLAutoencoder,
    path: str | os.PathLike,
    *,
    precision: str = "float32",
    meta: Mapping[str, Any] | None = None,
) -> Path:
    """Save weights + config (+ ``meta``: plain strings/numbers) with ``torch.save``.

    Args:
        model: The model.
        path: Output file.
        precision: ``float32``; ``float16`` (half the size); or ``int8`` (a quarter:
            weight matrices and kernels as int8 with one float scale per output row,
            biases float16). Loading restores float32 either way.
        meta: What made the model (identities, recipe, steps, losses), kept in the file.

    Raises:
        ConfigError: Unknown precision.
    """
    if precision not in PRECISIONS:
        raise ConfigError(f"precision {precision!r}: use one of {', '.join(PRECISIONS)}")
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    state = _pack(model.state_dict(), precision)
    meta = {**dict(meta or {}), "precision": precision}
    torch.save({"config": asdict(model.cfg), "state_dict": state, "meta": meta}, p)
    return p


def file_sha256(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file."""
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def load_swap_model(
    path: str | os.PathLike | None = None, *, sha256: str | None = None
) -> DFLAutoencoder:
    """Load a model written by :func:`save_swap_model` (``weights_only=True``).

    Args:
        path: The file; the shipped hopper <-> astronaut model (:data:`WEIGHTS`, checked
            against :data:`WEIGHTS_SHA256`) when None.
        sha256: Expected SHA-256 of the file (checked before loading) when given.

    Raises:
        CheckpointError: Missing, corrupt, tampered or mismatched file.
    """
    from voxlab.errors import CheckpointError

    p = Path(path) if path is not None else WEIGHTS
    if path is None:
        sha256 = WEIGHTS_SHA256
    if not p.is_file():
        hint = (
            "the shipped weights are missing from this install; reinstall voxlab or make "
            "them with `voxlab face train-swap --recipe recipes/face/dfl_cpu64.yaml`"
            if path is None
            else "train one with `voxlab face train-swap ... -o MODEL.pt`"
        )
        raise CheckpointError(f"{p}: no such face-swap model; {hint}")
    if sha256 is not None and file_sha256(p) != sha256:
        raise CheckpointError(
            f"{p}: SHA-256 mismatch (corrupt or replaced file); expected {sha256}. "
            "Reinstall voxlab or pass your own model with --model"
        )
    try:
        blob = torch.load(p, map_location="cpu", weights_only=True)
        model = DFLAutoencoder(SwapModelConfig(**blob["config"]))
        model.load_state_dict(_unpack(blob["state_dict"]))
    except Exception as exc:
        first = (str(exc).strip().splitlines() or [""])[0][:160]
        raise CheckpointError(
            f"{p}: not a voxlab face-swap model ({type(exc).__name__}: {first}); give a file "
            "written by `voxlab face train-swap`"
        ) from exc
    model.meta = dict(blob.get("meta") or {})
    return model.eval()
