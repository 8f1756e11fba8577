"""Safe checkpoint loading, strict key matching and official-layout adapters.

Loading never executes code from a file: PyTorch files go through
``torch.load(..., weights_only=True, map_location="cpu")`` and ``.safetensors`` files
through safetensors. Official checkpoints (clovaai AASIST/AASIST-L, the ASVspoof 5
baseline, eurecom RawGAT-ST) use their authors' module names; a :class:`KeyAdapter`
renames them to voxlab's and back. Loading into a model is strict: any missing,
unexpected or mis-shaped key raises :class:`~voxlab.errors.CheckpointError` listing them.

voxlab's own format is a ``.safetensors`` file plus a ``.json`` sidecar holding the
registry name and the config, so a file alone rebuilds its model
(:func:`save_checkpoint` / :func:`load_checkpoint`).
"""

from __future__ import annotations

import dataclasses
import json
import pickle
import pickletools
import re
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from voxlab.errors import CheckpointError

SIDECAR_FORMAT = "voxlab-checkpoint"
SIDECAR_VERSION = 1
_WRAPPER_KEYS = ("state_dict", "model_state_dict", "model", "net", "weights")
_MAX_LISTED = 12

StateDict = dict[str, Tensor]


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


# --------------------------------------------------------------------------- adapters


def _rule_regex(template: str) -> re.Pattern[str]:
    pattern = re.escape(template).replace(r"\{i\}", r"(?P<i>\d+)")
    return re.compile(f"^{pattern}(?P<rest>(\\..*)?)$")


@dataclass(frozen=True)
class KeyAdapter:
    """Renames between an official checkpoint layout and voxlab's module names.

    Attributes:
        name: Identifier, e.g. ``"clovaai-aasist"``.
        rules: ``(official_prefix, voxlab_prefix)`` pairs; ``{i}`` stands for a block index.
            A key matches a rule when it equals the prefix or continues it with ``.``.
        ignored: Regexes of official keys that have no effect on the official forward pass
            (dead modules); they are dropped on import.
        signature: A key whose presence identifies the official layout.
        fill_ignored: Recreates the ignored keys (neutral values) when exporting to the
            official layout, so the official code loads the result strictly.
    """

    name: str
    rules: tuple[tuple[str, str], ...]
    ignored: tuple[str, ...] = ()
    signature: str = ""
    fill_ignored: Callable[[StateDict], StateDict] | None = field(default=None, compare=False)

    def _compiled(self, reverse: bool) -> list[tuple[re.Pattern[str], str]]:
        pairs = [(v, o) if reverse else (o, v) for o, v in self.rules]
        return [(_rule_regex(src), dst) for src, dst in pairs]

    def matches(self, state: Mapping[str, Any]) -> bool:
        """Whether ``state`` looks like this adapter's official layout."""
        return bool(self.signature) and self.signature in state

    def to_voxlab(self, state: Mapping[str, Tensor]) -> StateDict:
        """Rename official keys to voxlab's (ignored dead keys dropped, others kept as is)."""
        ignored = [re.compile(p) for p in self.ignored]
        rules = self._compiled(reverse=False)
        out: StateDict = {}
        for key, value in state.items():
            if any(p.search(key) for p in ignored):
                continue
            out[_rename(key, rules)] = value
        return out

    def from_voxlab(self, state: Mapping[str, Tensor]) -> StateDict:
        """Rename voxlab keys to the official layout, with the official dead keys recreated."""
        rules = self._compiled(reverse=True)
        out = {_rename(key, rules): value for key, value in state.items()}
        if self.fill_ignored is not None:
            out.update(self.fill_ignored(out))
        return out


def _rename(key: str, rules: list[tuple[re.Pattern[str], str]]) -> str:
    for pattern, target in rules:
        match = pattern.match(key)
        if match:
            index = match.groupdict().get("i")
            prefix = target.replace("{i}", index) if index is not None else target
            return prefix + match.group("rest")
    return key


_GAT_PARTS = {
    "att_proj": "attn_proj",
    "att_weight": "attn_vector",
    "proj_with_att": "proj_attended",
    "proj_without_att": "proj_residual",
    "bn": "norm",
}
_HGAT_PARTS = {
    "proj_type1": "proj_a",
    "proj_type2": "proj_b",
    "att_proj": "attn_proj",
    "att_projM": "master_attn_proj",
    "att_weight11": "attn_aa",
    "att_weight22": "attn_bb",
    "att_weight12": "attn_ab",
    "att_weightM": "attn_master",
    "proj_with_att": "proj_attended",
    "proj_without_att": "proj_residual",
    "proj_with_attM": "master_proj_attended",
    "proj_without_attM": "master_proj_residual",
    "bn": "norm",
}
_POOL_PARTS = {"proj": "score"}
_BLOCK_PARTS = {"conv1": "conv1", "bn2": "norm", "conv2": "conv2", "conv_downsample": "shortcut"}


def _expand(modules: Mapping[str, str], parts: Mapping[str, str]) -> list[tuple[str, str]]:
    return [(f"{o}.{po}", f"{v}.{pv}") for o, v in modules.items() for po, pv in parts.items()]


def _identity_bn(prefix: str, channels: int) -> StateDict:
    return {
        f"{prefix}.weight": torch.ones(channels),
        f"{prefix}.bias": torch.zeros(channels),
        f"{prefix}.running_mean": torch.zeros(channels),
        f"{prefix}.running_var": torch.ones(channels),
        f"{prefix}.num_batches_tracked": torch.zeros((), dtype=torch.long),
    }


def _fill_dead_bn1(encoders: tuple[str, ...]) -> Callable[[StateDict], StateDict]:
    def fill(state: StateDict) -> StateDict:
        extra: StateDict = {}
        for enc in encoders:
            for key, value in state.items():
                m = re.fullmatch(rf"{re.escape(enc)}\.(\d+)\.0\.conv1\.weight", key)
                if m and int(m.group(1)) > 0:
                    extra.update(_identity_bn(f"{enc}.{m.group(1)}.0.bn1", value.shape[1]))
        return extra

    return fill


AASIST_OFFICIAL = KeyAdapter(
    name="clovaai-aasist",
    rules=(
        ("first_bn", "input_norm"),
        ("pos_S", "spectral_position"),
        ("master1", "master1"),
        ("master2", "master2"),
        ("out_layer", "classifier"),
        *_expand({"encoder.{i}.0": "encoder.{i}"}, _BLOCK_PARTS),
        *_expand({"GAT_layer_S": "gat_spectral", "GAT_layer_T": "gat_temporal"}, _GAT_PARTS),
        *_expand(
            {
                "HtrgGAT_layer_ST11": "branch1_hgat1",
                "HtrgGAT_layer_ST12": "branch1_hgat2",
                "HtrgGAT_layer_ST21": "branch2_hgat1",
                "HtrgGAT_layer_ST22": "branch2_hgat2",
            },
            _HGAT_PARTS,
        ),
        *_expand(
            {
                "pool_S": "pool_spectral",
                "pool_T": "pool_temporal",
                "pool_hS1": "branch1_pool_spectral",
                "pool_hT1": "branch1_pool_temporal",
                "pool_hS2": "branch2_pool_spectral",
                "pool_hT2": "branch2_pool_temporal",
            },
            _POOL_PARTS,
        ),
    ),
    # Residual_block.bn1 output is discarded by the official forward (conv1 reads the input).
    ignored=(r"^encoder\.\d+\.0\.bn1\.",),
    signature="GAT_layer_S.att_weight",
    fill_ignored=_fill_dead_bn1(("encoder",)),
)


def _fill_rawgat_dead(state: StateDict) -> StateDict:
    extra = _fill_dead_bn1(("encoder1", "encoder2"))(state)
    for key, value in state.items():
        m = re.fullmatch(r"(encoder[12])\.(\d+)\.0\.conv1\.weight", key)
        if m:
            prefix = f"{m.group(1)}.{m.group(2)}.0.conv_1"
            out_ch = value.shape[0]
            extra[f"{prefix}.weight"] = torch.zeros(out_ch, 1, 2, 3)
            extra[f"{prefix}.bias"] = torch.zeros(out_ch)
    return extra


RAWGAT_ST_OFFICIAL = KeyAdapter(
    name="eurecom-rawgat-st",
    rules=(
        ("first_bn", "input_norm"),
        ("proj1", "spectral_node_proj"),
        ("proj2", "temporal_node_proj"),
        ("proj_node", "classifier"),
        ("proj", "fused_feature_proj"),
        # the first block's convolution is called conv_1 (1 input channel)
        ("encoder1.0.0.conv_1", "spectral_encoder.0.conv1"),
        ("encoder2.0.0.conv_1", "temporal_encoder.0.conv1"),
        *_expand(
            {"encoder1.{i}.0": "spectral_encoder.{i}", "encoder2.{i}.0": "temporal_encoder.{i}"},
            _BLOCK_PARTS,
        ),
        *_expand(
            {"GAT_layer1": "gat_spectral", "GAT_layer2": "gat_temporal", "GAT_layer3": "gat_fused"},
            _GAT_PARTS,
        ),
        *_expand(
            {"pool1": "pool_spectral", "pool2": "pool_temporal", "pool3": "pool_fused"},
            _POOL_PARTS,
        ),
    ),
    # Dead in the official forward: bn1 (output discarded) and conv_1 of blocks 1..5.
    ignored=(r"^encoder[12]\.\d+\.0\.bn1\.", r"^encoder[12]\.[1-9]\d*\.0\.conv_1\."),
    signature="encoder1.0.0.conv_1.weight",
    fill_ignored=_fill_rawgat_dead,
)

ADAPTERS: dict[str, KeyAdapter] = {a.name: a for a in (AASIST_OFFICIAL, RAWGAT_ST_OFFICIAL)}


def get_adapter(name: str) -> KeyAdapter:
    """The adapter registered under ``name`` (see :data:`ADAPTERS`)."""
    try:
        return ADAPTERS[name]
    except KeyError:
        raise CheckpointError(
            f"unknown checkpoint adapter {name!r}; known: {', '.join(sorted(ADAPTERS))}"
        ) from None


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
