"""SSL front end: fairseq/HF key mapping, config from shapes or JSON, parity with the fixtures.

Reference: ``shared/fixtures/ssl/tiny_io.npz`` holds outputs of a tiny random transformers
``Wav2Vec2Model`` (XLS-R family) run by the official SSL-AASIST code. Tolerance: atol 1e-5
(the README measured up to 8e-7 between two official runs on the logits; the per-frame
features of a 2-layer encoder reach a few 1e-6).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

pytest.importorskip("transformers")

from voxlab.errors import CheckpointError, ConfigError
from voxlab.models.ssl.config import (
    XLSR_300M,
    SSLFrontendConfig,
    frontend_config_from_dict,
    infer_frontend_config,
    load_frontend_config,
)
from voxlab.models.ssl.frontend import SSLFrontend
from voxlab.models.ssl.keys import (
    OFFICIAL_PREFIX,
    fairseq_to_transformers,
    frontend_to_transformers,
    normalize_transformers_keys,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")
ATOL = 1e-5


@pytest.fixture(scope="module")
def ssl_dir(fixtures_dir):
    return fixtures_dir / "ssl"


@pytest.fixture(scope="module")
def tiny_state(ssl_dir):
    state = torch.load(ssl_dir / "tiny_official_layout.pth", weights_only=True)
    return {k[len(OFFICIAL_PREFIX) :]: v for k, v in state.items() if k.startswith(OFFICIAL_PREFIX)}


@pytest.fixture(scope="module")
def tiny_frontend(ssl_dir, tiny_state):
    frontend = SSLFrontend(load_frontend_config(ssl_dir / "tiny_config.json"))
    frontend.model.load_state_dict(frontend_to_transformers(tiny_state), strict=True)
    return frontend.eval()


@pytest.fixture(scope="module")
def tiny_io(ssl_dir):
    return np.load(ssl_dir / "tiny_io.npz")


def test_key_mapping_matches_the_manifest_table(ssl_dir):
    table = json.loads((ssl_dir / "manifest_LA.json").read_text())["fairseq_to_transformers"]
    assert len(table) == 429
    for fairseq, hf in table.items():
        mapped = fairseq_to_transformers(fairseq)
        if hf.startswith("@") or hf == "masked_spec_embed":
            assert mapped is None, fairseq  # pre-training only / never masked
        else:
            assert mapped == hf, fairseq


def test_weight_norm_names_old_new_and_plain_weight_agree(tiny_state):
    hf = frontend_to_transformers(tiny_state)
    g = hf["encoder.pos_conv_embed.conv.parametrizations.weight.original0"]
    v = hf["encoder.pos_conv_embed.conv.parametrizations.weight.original1"]
    assert g.shape == (1, 1, 128) and v.shape == (64, 4, 128)
    old = {k.replace("parametrizations.weight.original0", "weight_g").replace(
        "parametrizations.weight.original1", "weight_v"): t for k, t in hf.items()}  # fmt: skip
    assert set(normalize_transformers_keys({f"wav2vec2.{k}": t for k, t in old.items()})) == set(hf)
    # A kernel saved without weight norm: g = per-tap norm, v = kernel, same effective kernel.
    kernel = g * v / torch.linalg.vector_norm(v, dim=(0, 1), keepdim=True)
    plain = dict(hf)
    plain.pop("encoder.pos_conv_embed.conv.parametrizations.weight.original0")
    plain.pop("encoder.pos_conv_embed.conv.parametrizations.weight.original1")
    plain["encoder.pos_conv_embed.conv.weight"] = kernel
    back = normalize_transformers_keys(plain)
    g2 = back["encoder.pos_conv_embed.conv.parametrizations.weight.original0"]
    v2 = back["encoder.pos_conv_embed.conv.parametrizations.weight.original1"]
    rebuilt = g2 * v2 / torch.linalg.vector_norm(v2, dim=(0, 1), keepdim=True)
    torch.testing.assert_close(rebuilt, kernel, atol=1e-6, rtol=1e-6)


def test_hf_heads_and_prefixes_are_dropped():
    state = {
        "wav2vec2.encoder.layer_norm.weight": torch.ones(4),
        "lm_head.weight": torch.ones(2, 4),
        "wav2vec2.masked_spec_embed": torch.ones(4),
        "project_hid.weight": torch.ones(2, 4),
    }
    assert list(normalize_transformers_keys(state)) == ["encoder.layer_norm.weight"]


def test_config_from_json_sections_and_validation(ssl_dir, tmp_path):
    tiny = load_frontend_config(ssl_dir / "tiny_config.json")
    assert (tiny.hidden_size, tiny.num_hidden_layers, tiny.num_attention_heads) == (64, 2, 4)
    assert tiny.do_stable_layer_norm and tiny.feat_extract_norm == "layer"
    hf_style = tmp_path / "config.json"
    hf_style.write_text(json.dumps({"model_type": "wavlm", "hidden_size": 768, "vocab_size": 32}))
    cfg = load_frontend_config(hf_style)
    assert cfg.model_type == "wavlm" and cfg.hidden_size == 768 and cfg.num_hidden_layers == 24
    with pytest.raises(ConfigError, match="not found"):
        load_frontend_config(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ConfigError, match=r"bad\.json"):
        load_frontend_config(tmp_path / "bad.json")
    with pytest.raises(ConfigError, match="divisible"):
        frontend_config_from_dict({"hidden_size": 100, "num_attention_heads": 16})
    with pytest.raises(ConfigError, match="same"):
        SSLFrontendConfig(conv_dim=(8, 8), conv_kernel=(10,), conv_stride=(5,))


def test_config_from_shapes(ssl_dir, tiny_state):
    inferred = infer_frontend_config(frontend_to_transformers(tiny_state))
    given = load_frontend_config(ssl_dir / "tiny_config.json")
    # Everything but the head count is in the shapes; heads default to hidden/64.
    assert inferred == SSLFrontendConfig(**{**given.__dict__, "num_attention_heads": 1})
    manifest = json.loads((ssl_dir / "manifest_LA.json").read_text())
    meta = {
        e["key"][len("ssl_model.model.") :]: torch.empty(e["shape"], device="meta")
        for e in manifest["keys"]
        if e["key"].startswith("ssl_model.model.")
    }
    assert infer_frontend_config(frontend_to_transformers(meta)) == XLSR_300M
    assert XLSR_300M.num_frames(64_600) == 201 and XLSR_300M.frame_stride == 320
    with pytest.raises(CheckpointError, match="--ssl-config"):
        infer_frontend_config({"encoder.layer_norm.weight": torch.ones(3)})


def test_frontend_matches_official_features(tiny_frontend, tiny_io):
    for case in range(4):
        wav = torch.from_numpy(tiny_io[f"case{case}_wav"])
        with torch.inference_mode():
            conv = tiny_frontend.model.feature_extractor(wav).transpose(1, 2)
            out = tiny_frontend(wav)
            layers = tiny_frontend.layer_outputs(wav)
            # The layers are taken before the final LayerNorm; applying it gives the output.
            final = tiny_frontend.model.encoder.layer_norm(layers[-1])
        np.testing.assert_allclose(conv, tiny_io[f"case{case}_conv_features"], atol=ATOL)
        np.testing.assert_allclose(out, tiny_io[f"case{case}_ssl_out"], atol=ATOL)
        np.testing.assert_allclose(layers, tiny_io[f"case{case}_layer_outputs"], atol=ATOL)
        np.testing.assert_allclose(final, out, atol=ATOL)


def test_frontend_input_shapes(tiny_frontend, tiny_io):
    wav = torch.from_numpy(tiny_io["case3_wav"])
    with torch.inference_mode():
        a = tiny_frontend(wav)
        b = tiny_frontend(wav.unsqueeze(-1))
    torch.testing.assert_close(a, b)
    with pytest.raises(ConfigError, match="batch, samples"):
        tiny_frontend(wav[0])


@pytest.mark.parametrize("kind", ["wavlm", "hubert"])
def test_other_families_build_and_are_recognised(kind):
    cfg = SSLFrontendConfig(
        model_type=kind,
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        conv_dim=(16,) * 7,
        num_conv_pos_embeddings=16,
        num_conv_pos_embedding_groups=4,
        feat_proj_layer_norm=kind != "hubert",
    )
    frontend = SSLFrontend(cfg).eval()
    with torch.inference_mode():
        out = frontend(torch.randn(2, 4000))
    assert out.shape == (2, cfg.num_frames(4000), 32)
    inferred = infer_frontend_config(normalize_transformers_keys(frontend.model.state_dict()))
    assert inferred.model_type == kind
    if kind == "wavlm":
        assert inferred.num_attention_heads == 2  # read from the relative-position table


def test_pretrained_frontend_weights_for_fine_tuning(ssl_dir, tiny_state, tmp_path):
    """``frontend_checkpoint``: fairseq (official), HF file or HF folder; size checked."""
    from safetensors.torch import save_file

    from voxlab.models.registry import build_model

    config = load_frontend_config(ssl_dir / "tiny_config.json")
    hf = frontend_to_transformers(tiny_state)
    folder = tmp_path / "hf_model"
    folder.mkdir()
    save_file(
        {f"wav2vec2.{k}": v.contiguous() for k, v in hf.items()}, folder / "model.safetensors"
    )
    fairseq_file = tmp_path / "w2v.pt"
    torch.save({"model": tiny_state, "cfg": {"model": {"_name": "wav2vec2"}}}, fairseq_file)
    for source in (
        folder,
        folder / "model.safetensors",
        fairseq_file,
        ssl_dir / "tiny_official_layout.pth",
    ):
        model = build_model(
            "ssl-pool", frontend=config, frontend_checkpoint=str(source), freeze_frontend=True
        )
        got = model.frontend.model.state_dict()
        for key, value in hf.items():
            torch.testing.assert_close(got[key], value, atol=0, rtol=0, msg=f"{source} {key}")
        assert not any(p.requires_grad for p in model.frontend.parameters())
    wider = SSLFrontendConfig(**{**config.__dict__, "intermediate_size": 128})
    with pytest.raises(CheckpointError, match=r"mis-shaped.*model\.overrides\.frontend"):
        build_model("ssl-pool", frontend=wider, frontend_checkpoint=str(fairseq_file))
    with pytest.raises(CheckpointError, match=r"without model\.safetensors"):
        build_model("ssl-pool", frontend=config, frontend_checkpoint=str(tmp_path))
