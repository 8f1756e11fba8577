"""Load an official RVC export (``.pth``) into voxlab's synthesizer, safely and strictly.

The file is read with ``torch.load(..., weights_only=True)`` (through
:func:`voxlab.models.checkpoints.load_state_dict_safely`), so a pickle that references
code is refused, never executed. The float16 weights are upcast to float32 (exactly: every
fp16 value is an fp32 value), as the official CPU loader does with ``.float()``. Keys must
match the model built from the export's config one to one; the only keys dropped are
``enc_q.*`` (the training-only posterior encoder, which the official loader deletes too).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from voxlab.errors import CheckpointError
from voxlab.generation.neural.commons import remove_weight_norm, weight_norm_keys_to_official
from voxlab.generation.neural.rvc.config import RVCConfig, config_from_export
from voxlab.generation.neural.rvc.synthesizer import RVCSynthesizer, build_synthesizer
from voxlab.models.checkpoints import load_state_dict_safely

_MAX_LISTED = 12


def read_export(path: str | Path) -> dict[str, Any]:
    """Read an RVC export dict safely (no code execution) and check its layout.

    Args:
        path: The ``.pth`` file written by RVC (``weights/<name>.pth``).

    Returns:
        The export dict (``weight``, ``config``, ``sr``, ``f0``, ``version``, ``info``).

    Raises:
        CheckpointError: Missing, corrupt or unsafe file, or not an RVC export.
    """
    export = load_state_dict_safely(path, unwrap=False)
    weight = export.get("weight")
    if not isinstance(weight, Mapping) or not weight:
        keys = ", ".join(sorted(map(str, export))[:_MAX_LISTED])
        raise CheckpointError(
            f"{path} is not an RVC export: it has no 'weight' dict (top-level keys: {keys}). "
            "Pass the small model RVC writes to weights/<name>.pth, not a training "
            "checkpoint (G_*.pth / D_*.pth) or a HuBERT file."
        )
    bad = [str(k) for k, v in weight.items() if not isinstance(v, Tensor)]
    if bad:
        raise CheckpointError(
            f"{path}: 'weight' holds non-tensor entries ({', '.join(bad[:_MAX_LISTED])}); the "
            "file is damaged or not an RVC export."
        )
    return export


def export_state_dict(weight: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """The export's weights as float32, official weight-norm names, without ``enc_q.*``."""
    state = weight_norm_keys_to_official({str(k): v for k, v in weight.items()})
    return {
        k: (v.float() if v.is_floating_point() else v)
        for k, v in state.items()
        if not k.startswith("enc_q.")
    }


def check_keys(model: torch.nn.Module, state: Mapping[str, Tensor], *, source: str) -> None:
    """Strict key and shape matching with a message listing every difference.

    Raises:
        CheckpointError: Missing, unexpected or mis-shaped keys.
    """
    own = model.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    shapes = sorted(
        f"{k}: file {tuple(state[k].shape)} vs model {tuple(own[k].shape)}"
        for k in set(own) & set(state)
        if tuple(state[k].shape) != tuple(own[k].shape)
    )
    if not (missing or unexpected or shapes):
        return
    parts = []
    for label, items in (("missing", missing), ("unexpected", unexpected), ("shape", shapes)):
        if items:
            more = f" (+{len(items) - _MAX_LISTED} more)" if len(items) > _MAX_LISTED else ""
            parts.append(f"{label} keys [{len(items)}]: {', '.join(items[:_MAX_LISTED])}{more}")
    config = getattr(model, "config", None)
    what = (
        f"{config.official_class} ({config.version}, f0={int(config.f0)}, "
        f"{config.sampling_rate} Hz)"
        if isinstance(config, RVCConfig)
        else type(model).__name__
    )
    raise CheckpointError(
        f"{source}: the weights do not match the {what} that its config describes: "
        + "; ".join(parts)
        + ". The 'config', 'version' or 'f0' entries disagree with 'weight' (an edited or "
        "foreign file); export the model again from RVC."
    )


def load_rvc(
    checkpoint: str | Path | Mapping[str, Any],
    *,
    device: str | torch.device = "cpu",
    fold_weight_norm: bool = True,
) -> RVCSynthesizer:
    """Load an official RVC v1/v2 export (with or without F0, 32/40/48 kHz).

    Drop-in for the official ``get_vc`` load path: the returned module is in eval mode, in
    float32, and has the official ``infer`` signature::

        net_g = load_rvc("weights/voice.pth")
        audio, x_mask, _ = net_g.infer(phone, phone_lengths, pitch, pitchf, sid)  # F0 model
        audio, x_mask, _ = net_g.infer(phone, phone_lengths, sid)  # no-F0 model

    Args:
        checkpoint: The export file, or an already loaded export dict.
        device: Where to put the model.
        fold_weight_norm: Compute ``w = g * v / ||v||`` once at load (faster). The official
            code recomputes it at every call; the numbers agree to float rounding.

    Returns:
        :class:`~.synthesizer.RVCSynthesizerF0` or :class:`~.synthesizer.RVCSynthesizerNoF0`
        with ``.config``, ``.sampling_rate``, ``.hop_length``, ``.info``.

    Raises:
        CheckpointError: Missing, corrupt, unsafe or mismatched file.
    """
    if isinstance(checkpoint, Mapping):
        source = "RVC export"
        export = dict(checkpoint)
        if not isinstance(export.get("weight"), Mapping):
            raise CheckpointError("RVC export dict has no 'weight' state dict")
    else:
        source = str(checkpoint)
        export = read_export(checkpoint)
    config = config_from_export(export, source=source)
    state = export_state_dict(export["weight"])
    model = build_synthesizer(config)
    check_keys(model, state, source=source)
    model.load_state_dict(state, strict=True)
    model.info = str(export.get("info", ""))
    model.eval()
    if fold_weight_norm:
        remove_weight_norm(model)
    return model.to(device)
