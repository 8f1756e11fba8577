"""State-dict key layouts of SSL front ends: fairseq names -> ``transformers`` names.

The official SSL countermeasures (TakHemlata/SSL_Anti-spoofing, QiShanZhang/SLSforASVspoof)
save ``model.state_dict()`` of a module holding the fairseq wav2vec 2.0 pre-training model
under ``ssl_model.model.``. :func:`fairseq_to_transformers` renames one fairseq key to the
name the ``transformers`` model (``Wav2Vec2Model``/``WavLMModel``/``HubertModel``) uses, or
returns ``None`` for tensors the forward pass never reads (``mask_emb``, the quantizer and
the contrastive heads ``project_q``/``final_proj``). :func:`normalize_transformers_keys`
does the same for Hugging Face checkpoints (``wav2vec2.``/``wavlm.``/``hubert.`` prefixes,
task heads, the old ``weight_g``/``weight_v`` names of the weight-normalised positional
convolution).

The positional convolution is weight-normalised over dim 2: fairseq's ``weight_g``
``(1, 1, K)`` and ``weight_v`` ``(C, C/groups, K)`` become ``transformers``'
``parametrizations.weight.original0`` and ``original1``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import torch
from torch import Tensor

#: Prefix of the front end inside the official anti-spoofing checkpoints.
OFFICIAL_PREFIX = "ssl_model.model."
#: Prefixes of fairseq fine-tuned (CTC) checkpoints around the same model.
_FAIRSEQ_WRAPPERS = ("w2v_encoder.w2v_model.", "w2v_model.")
_HF_PREFIXES = ("wav2vec2.", "wavlm.", "hubert.", "model.")
_POS = "encoder.pos_conv_embed.conv."

# fairseq pre-training-only tensors: never read when features_only=True, mask=False.
_FAIRSEQ_UNUSED = re.compile(
    r"^(mask_emb|quantizer\..*|project_q\..*|final_proj\..*|target_glu\..*|label_embs_concat)$"
)
# transformers tensors outside the bare encoder (task heads, pre-training heads).
_HF_UNUSED = re.compile(
    r"^(masked_spec_embed|quantizer\..*|project_q\..*|project_hid\..*|lm_head\..*|"
    r"projector\..*|classifier\..*|label_embeddings_concat|final_proj\..*)$"
)

_LAYER_PARTS = (
    ("self_attn.k_proj", "attention.k_proj"),
    ("self_attn.q_proj", "attention.q_proj"),
    ("self_attn.v_proj", "attention.v_proj"),
    ("self_attn.out_proj", "attention.out_proj"),
    # WavLM (unilm fairseq) gated relative position bias
    ("self_attn.grep_linear", "attention.gru_rel_pos_linear"),
    ("self_attn.grep_a", "attention.gru_rel_pos_const"),
    ("self_attn.relative_attention_bias", "attention.rel_attn_embed"),
    ("self_attn_layer_norm", "layer_norm"),
    ("fc1", "feed_forward.intermediate_dense"),
    ("fc2", "feed_forward.output_dense"),
    ("final_layer_norm", "final_layer_norm"),
)
_TOP = {
    "layer_norm": "feature_projection.layer_norm",
    "post_extract_proj": "feature_projection.projection",
    "encoder.layer_norm": "encoder.layer_norm",
    "encoder.pos_conv.0.bias": _POS + "bias",
    "encoder.pos_conv.0.weight_g": _POS + "parametrizations.weight.original0",
    "encoder.pos_conv.0.weight_v": _POS + "parametrizations.weight.original1",
}


def fairseq_to_transformers(key: str) -> str | None:
    """The ``transformers`` name of one fairseq wav2vec 2.0 / WavLM / HuBERT key.

    Args:
        key: A key of the fairseq model, without the ``ssl_model.model.`` prefix.

    Returns:
        The new name, ``None`` for pre-training-only tensors, or ``key`` unchanged when it
        belongs to no known part (the strict check then reports it).
    """
    if _FAIRSEQ_UNUSED.match(key):
        return None
    m = re.match(r"^feature_extractor\.conv_layers\.(\d+)\.(0|2|2\.1)\.(weight|bias)$", key)
    if m:
        part = "conv" if m.group(2) == "0" else "layer_norm"
        return f"feature_extractor.conv_layers.{m.group(1)}.{part}.{m.group(3)}"
    m = re.match(r"^encoder\.layers\.(\d+)\.(.+)$", key)
    if m:
        for old, new in _LAYER_PARTS:
            if m.group(2) == old or m.group(2).startswith(old + "."):
                return f"encoder.layers.{m.group(1)}.{new}{m.group(2)[len(old) :]}"
        return key
    for old, new in _TOP.items():
        if key == old or key.startswith(old + "."):
            return new + key[len(old) :]
    return key


def _split_weight_norm(weight: Tensor) -> tuple[Tensor, Tensor]:
    # weight = g * v / ||v|| per tap k (norm over output and input-per-group axes): with
    # v = weight, g is the per-tap norm.
    g = torch.linalg.vector_norm(weight, dim=(0, 1), keepdim=True)
    return g, weight


def normalize_transformers_keys(state: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """Bare-encoder ``transformers`` keys from a Hugging Face wav2vec 2.0-family state dict.

    Strips a ``wav2vec2.``/``wavlm.``/``hubert.`` prefix, drops task and pre-training heads,
    and renames the positional convolution's old ``weight_g``/``weight_v`` (or a plain
    ``weight`` saved without weight norm) to the parametrization names.
    """
    out: dict[str, Tensor] = {}
    for key, value in state.items():
        for prefix in _HF_PREFIXES:
            if key.startswith(prefix) and (
                key[len(prefix) :].startswith(
                    ("feature_extractor.", "encoder.", "feature_projection.", "masked_spec_embed")
                )
            ):
                key = key[len(prefix) :]
                break
        if _HF_UNUSED.match(key):
            continue
        out[key] = value
    renames = {
        "weight_g": "parametrizations.weight.original0",
        "weight_v": "parametrizations.weight.original1",
    }
    for old, new in renames.items():
        if _POS + old in out:
            out[_POS + new] = out.pop(_POS + old)
    if _POS + "weight" in out:
        g, v = _split_weight_norm(out.pop(_POS + "weight"))
        out[_POS + "parametrizations.weight.original0"] = g
        out[_POS + "parametrizations.weight.original1"] = v
    return out


def is_fairseq_layout(state: Mapping[str, Tensor]) -> bool:
    """Whether ``state`` (a bare front end) uses fairseq names."""
    return any(k.startswith(("post_extract_proj.", "encoder.pos_conv.")) for k in state) or any(
        re.match(r"^feature_extractor\.conv_layers\.\d+\.0\.weight$", k) for k in state
    )


def frontend_to_transformers(state: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """A bare front end's tensors in ``transformers`` names, whatever layout they came in.

    Args:
        state: fairseq keys (with or without a fine-tuning wrapper prefix) or Hugging Face
            keys (with or without a model prefix).

    Returns:
        ``{transformers name: tensor}`` without the tensors inference never reads.
    """
    stripped: dict[str, Tensor] = {}
    for key, value in state.items():
        for wrapper in _FAIRSEQ_WRAPPERS:
            if key.startswith(wrapper):
                key = key[len(wrapper) :]
                break
        stripped[key] = value
    if not is_fairseq_layout(stripped):
        return normalize_transformers_keys(stripped)
    out: dict[str, Tensor] = {}
    for key, value in stripped.items():
        new = fairseq_to_transformers(key)
        if new is not None:
            out[new] = value
    return out
