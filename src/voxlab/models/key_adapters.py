"""Official checkpoint layouts: :class:`KeyAdapter` renames their keys to voxlab's and back.

The clovaai AASIST/AASIST-L code (also the ASVspoof 5 baseline's) and the eurecom RawGAT-ST
code name their modules differently from voxlab; each adapter holds the renaming rules, the
official keys that have no effect on the official forward pass (dead modules, dropped on
import and recreated with neutral values on export) and a key that identifies the layout.
Used by :mod:`voxlab.models.checkpoints` (which re-exports these names) and the SSL loaders.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from voxlab.errors import CheckpointError

StateDict = dict[str, Tensor]


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
