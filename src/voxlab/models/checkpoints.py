"""Safe checkpoint loading, strict key matching and official-layout adapters.

Loading never executes code from a file: PyTorch files go through
``torch.load(..., weights_only=True, map_location="cpu")`` and ``.safetensors`` files
through safetensors. Official checkpoints (clovaai AASIST/AASIST-L, the ASVspoof 5
baseline, eurecom RawGAT-ST) use their authors' module names; a :class:`KeyAdapter`
(:mod:`voxlab.models.key_adapters`) renames them to voxlab's and back. Loading into a model
is strict: any missing, unexpected or mis-shaped key raises
:class:`~voxlab.errors.CheckpointError` listing them.

voxlab's own format is a ``.safetensors`` file plus a ``.json`` sidecar holding the
registry name and the config, so a file alone rebuilds its model
(:func:`save_checkpoint` / :func:`load_checkpoint`).
"""

from __future__ import annotations

import dataclasses
import json
import pickle
import pickletools
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from voxlab.errors import CheckpointError
from voxlab.models.key_adapters import (  # noqa: F401  (re-exported: the official layouts)
    AASIST_OFFICIAL,
    ADAPTERS,
    RAWGAT_ST_OFFICIAL,
    KeyAdapter,
    StateDict,
    get_adapter,
)

SIDECAR_FORMAT = "voxlab-checkpoint"
SIDECAR_VERSION = 1
_WRAPPER_KEYS = ("state_dict", "model_state_dict", "model", "net", "weights")
_MAX_LISTED = 12


# --------------------------------------------------------------------------- reading files


def load_state_dict_safely(path: str | Path, *, unwrap: bool = True) -> StateDict:
    """Read a state dict from a ``.pth``/``.pt``/``.ckpt`` or ``.safetensors`` file safely.

    Args:
        path: The checkpoint file.
        unwrap: Also unwrap ``{"model": ...}``/``{"state_dict": ...}`` containers and strip
            ``module.`` prefixes (see :func:`unwrap_state_dict`).

    Returns:
        A ``{name: tensor}`` dict on the CPU.

    Raises:
        CheckpointError: The file is missing, empty, truncated, corrupt, not a state dict,
            or would need to execute code to load (a pickle with arbitrary objects).
    """
    path = Path(path)
    if not path.exists():
        raise CheckpointError(
            f"checkpoint file not found: {path}. Check the path, or fetch a published "
            "checkpoint with `voxlab.pretrained.pull(name)`."
        )
    if not path.is_file():
        raise CheckpointError(f"checkpoint path is not a file: {path}. Pass the file itself.")
    if path.stat().st_size == 0:
        raise CheckpointError(
            f"checkpoint file is empty (0 bytes): {path}. Delete it and download/copy it again."
        )
    if path.suffix == ".safetensors":
        state: Any = _load_safetensors(path)
    else:
        state = _load_torch(path)
    if not isinstance(state, Mapping):
        raise CheckpointError(
            f"checkpoint {path} holds a {type(state).__name__}, not a state dict. Save "
            "`model.state_dict()` (a dict of tensors) instead of the whole model."
        )
    return unwrap_state_dict(state, source=str(path)) if unwrap else dict(state)


def _load_safetensors(path: Path) -> StateDict:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        return load_file(str(path), device="cpu")
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise CheckpointError(
            f"cannot read safetensors checkpoint {path}: {exc}. The file is corrupt or "
            "truncated; delete it and download/copy it again."
        ) from exc


def _load_torch(path: Path) -> Any:
    try:
        return torch.load(path, weights_only=True, map_location="cpu")
    except pickle.UnpicklingError as exc:
        text = str(exc)
        if "Unsupported global" in text or _pickle_references_code(path):
            raise CheckpointError(
                f"refusing to load {path}: it is a pickle that references code or objects "
                "other than tensors, so loading it could execute arbitrary code. voxlab only "
                "loads plain state dicts (torch.load with weights_only=True) or "
                ".safetensors. If you trust the file's author, re-save just its state dict "
                "(`torch.save(model.state_dict(), ...)`) or convert it to safetensors. "
                f"Details: {_unpickler_detail(text)}"
            ) from exc
        raise CheckpointError(_corrupt_message(path, exc)) from exc
    except (RuntimeError, EOFError, OSError, ValueError, zipfile.BadZipFile) as exc:
        raise CheckpointError(_corrupt_message(path, exc)) from exc


_CODE_OPCODES = frozenset({"GLOBAL", "STACK_GLOBAL", "INST", "OBJ", "REDUCE", "NEWOBJ"})


def _pickle_references_code(path: Path) -> bool:
    """Whether the file parses as a pickle that imports/calls something (never executes it)."""
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                member = next(n for n in archive.namelist() if n.endswith("data.pkl"))
                data = archive.read(member)
        else:
            data = path.read_bytes()
        return any(op.name in _CODE_OPCODES for op, _, _ in pickletools.genops(data))
    except Exception:  # unparseable: corrupt, not unsafe
        return False


def _unpickler_detail(text: str) -> str:
    for line in text.splitlines():
        if "Unsupported" in line or "WeightsUnpickler error" in line:
            return line.strip().split(" Please use")[0]
    return text.splitlines()[0] if text else "weights-only unpickler refused the file"


def _corrupt_message(path: Path, exc: BaseException) -> str:
    detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return (
        f"cannot read checkpoint {path} ({path.stat().st_size} bytes): the file is corrupt, "
        f"truncated or not a PyTorch/safetensors checkpoint ({detail}). Delete it and "
        "download/copy it again."
    )


def unwrap_state_dict(state: Mapping[str, Any], *, source: str = "checkpoint") -> StateDict:
    """Return the plain state dict inside ``state``.

    Handles training checkpoints that wrap the weights (``{"model": sd, "epoch": 3}``,
    ``{"state_dict": sd}``, ...) and the ``module.`` prefix of ``DataParallel`` /
    ``DistributedDataParallel`` models.

    Raises:
        CheckpointError: No tensor dict is found.
    """
    current: Mapping[str, Any] = state
    for _ in range(3):
        if current and all(isinstance(v, Tensor) for v in current.values()):
            break
        inner = next(
            (current[k] for k in _WRAPPER_KEYS if isinstance(current.get(k), Mapping)), None
        )
        if inner is None:
            break
        current = inner
    if not current or not all(isinstance(v, Tensor) for v in current.values()):
        keys = ", ".join(sorted(map(str, state))[:_MAX_LISTED])
        raise CheckpointError(
            f"{source} does not contain a state dict of tensors (top-level keys: {keys}). "
            "Pass a file saved from `model.state_dict()`, optionally wrapped as "
            '{"model": ...} or {"state_dict": ...}.'
        )
    out = {str(k): v for k, v in current.items()}
    for prefix in ("module.", "_orig_mod."):
        if all(k.startswith(prefix) for k in out):
            out = {k[len(prefix) :]: v for k, v in out.items()}
    return out


# --------------------------------------------------------------------------- loading into models


def load_checkpoint_into(
    model: nn.Module,
    path_or_state: str | Path | Mapping[str, Any],
    *,
    adapter: KeyAdapter | str | None = "auto",
) -> nn.Module:
    """Load weights into ``model`` with strict key and shape matching.

    Args:
        model: The freshly built model.
        path_or_state: A checkpoint file (read with :func:`load_state_dict_safely`) or an
            in-memory state dict (wrappers and ``module.`` prefixes are handled).
        adapter: ``"auto"`` (apply a known official layout adapter when the state dict has
            its signature key, or the model's own ``adapt_state_dict(state, source=...)``
            when it has one), ``None`` (keys must already be voxlab's), an adapter name
            or a :class:`KeyAdapter`.

    Returns:
        ``model`` itself, with the weights loaded (its train/eval mode is unchanged).

    Raises:
        CheckpointError: Unreadable/unsafe file, or keys/shapes that do not match; the
            message lists the missing, unexpected and mis-shaped keys.
    """
    if isinstance(path_or_state, (str, Path)):
        source = str(path_or_state)
        state = load_state_dict_safely(path_or_state)
    else:
        source = "state dict"
        state = unwrap_state_dict(path_or_state, source=source)

    if isinstance(adapter, str) and adapter != "auto":
        adapter = get_adapter(adapter)
    adapt = getattr(model, "adapt_state_dict", None)
    if adapter == "auto" and callable(adapt):
        # Models whose official layout needs more than prefix renames (the SSL models:
        # fairseq front-end names) translate it themselves.
        state = adapt(state, source=source)
        adapter = None
    if adapter == "auto":
        expected = set(model.state_dict())
        adapter = None
        if set(state) != expected:
            adapter = next((a for a in ADAPTERS.values() if a.matches(state)), None)
    if isinstance(adapter, KeyAdapter):
        state = adapter.to_voxlab(state)

    _check_strict(model, state, source=source, adapter=adapter)
    model.load_state_dict(state, strict=True)
    return model


def _check_strict(
    model: nn.Module, state: Mapping[str, Tensor], *, source: str, adapter: KeyAdapter | None
) -> None:
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
    for label, items in (("missing", missing), ("unexpected", unexpected), ("shape", shapes)):
        if items:
            more = f" (+{len(items) - _MAX_LISTED} more)" if len(items) > _MAX_LISTED else ""
            parts.append(f"{label} keys [{len(items)}]: {', '.join(items[:_MAX_LISTED])}{more}")
    via = f" after the {adapter.name!r} adapter" if adapter else ""
    raise CheckpointError(
        f"{source} does not match {type(model).__name__}{via}: " + "; ".join(parts) + ". "
        "Check that the checkpoint belongs to this architecture and config (e.g. aasist vs "
        "aasist-l), or pass the right `adapter=`."
    )


# --------------------------------------------------------------------------- voxlab's format


def _sidecar_path(path: Path) -> Path:
    return path.with_suffix(".json")


def _infer_model_name(model: nn.Module) -> str:
    from voxlab.models.registry import available_models, get_spec

    config = getattr(model, "config", None)
    candidates = [
        n
        for n in available_models()
        if config is not None and get_spec(n).config_cls is type(config)
    ]
    exact = [n for n in candidates if get_spec(n).default_config == config]
    if exact or candidates:
        return (exact or candidates)[0]
    raise CheckpointError(
        f"cannot tell the registry name of {type(model).__name__}; pass model_name=..."
    )


def save_checkpoint(
    model: nn.Module,
    path: str | Path,
    *,
    model_name: str | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> Path:
    """Save ``model`` in voxlab's format: ``<path>.safetensors`` plus a ``.json`` sidecar.

    Args:
        model: A registry model with a ``config`` dataclass attribute.
        path: Target file; the suffix is forced to ``.safetensors``.
        model_name: Registry name (inferred from the config class when omitted).
        metadata: Extra JSON-serialisable facts (training data, metrics, ...).

    Returns:
        The path of the weights file.
    """
    from voxlab.models.stable_save import save_safetensors

    path = Path(path).with_suffix(".safetensors")
    name = model_name or _infer_model_name(model)
    config = getattr(model, "config", None)
    sidecar = {
        "format": SIDECAR_FORMAT,
        "version": SIDECAR_VERSION,
        "model": name,
        "config": dataclasses.asdict(config) if dataclasses.is_dataclass(config) else {},
        "metadata": dict(metadata or {}),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    save_safetensors(tensors, path, metadata={"format": SIDECAR_FORMAT, "model": name})
    _sidecar_path(path).write_text(json.dumps(sidecar, indent=2, sort_keys=True) + "\n")
    return path


def _tuples(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_tuples(v) for v in value)
    return value


def read_sidecar(path: str | Path) -> dict[str, Any]:
    """The JSON sidecar of a voxlab checkpoint.

    Raises:
        CheckpointError: Missing or malformed sidecar.
    """
    sidecar = _sidecar_path(Path(path))
    if not sidecar.is_file():
        raise CheckpointError(
            f"{path} has no config sidecar {sidecar}; it is not a voxlab checkpoint. Build "
            "the model yourself and use load_checkpoint_into(model, path)."
        )
    try:
        data = json.loads(sidecar.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"cannot read checkpoint sidecar {sidecar}: {exc}") from exc
    if not isinstance(data, dict) or data.get("format") != SIDECAR_FORMAT or "model" not in data:
        raise CheckpointError(
            f"{sidecar} is not a voxlab checkpoint sidecar (expected format {SIDECAR_FORMAT!r})"
        )
    return data


def load_checkpoint(path: str | Path) -> nn.Module:
    """Rebuild and load a model saved by :func:`save_checkpoint` (returned in eval mode)."""
    from voxlab.models.registry import build_model, get_spec

    data = read_sidecar(path)
    overrides = {k: _tuples(v) for k, v in data.get("config", {}).items()}
    loader = get_spec(data["model"]).checkpoint_loader
    if loader is not None:  # built on the meta device and assigned (the SSL models)
        return loader(Path(path).with_suffix(".safetensors"), **overrides).eval()
    model = build_model(data["model"], **overrides)
    load_checkpoint_into(model, Path(path).with_suffix(".safetensors"), adapter=None)
    return model.eval()
