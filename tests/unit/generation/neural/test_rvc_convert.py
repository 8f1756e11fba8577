"""RVC conversion: HuBERT loading (fairseq and transformers layouts), pitch, faiss
retrieval, the pipeline and ``voxlab convert`` end to end with the tiny fixture voices.

No real HuBERT weights exist offline: the tests build tiny random ``HubertModel``s, save
them in both layouts and check that loading maps every weight strictly (features equal to
the original model's within 1e-5).
"""

from __future__ import annotations

import argparse
import itertools
import json
import pickle
import re
import sys
import types

import numpy as np
import pytest
import torch

from voxlab.errors import AudioError, CheckpointError, ConfigError

transformers = pytest.importorskip("transformers", reason="RVC content features need transformers")

from voxlab.generation.neural.rvc import load_rvc  # noqa: E402
from voxlab.generation.neural.rvc.f0 import extract_f0  # noqa: E402
from voxlab.generation.neural.rvc.hubert import ContentEncoder, load_content_encoder  # noqa: E402
from voxlab.generation.neural.rvc.pipeline import ConvertOptions, RVCConverter  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")

#: transformers name -> fairseq name (the inverse of voxlab's mapping, written separately).
TO_FAIRSEQ = [
    (r"feature_extractor\.conv_layers\.(\d+)\.conv\.", r"feature_extractor.conv_layers.\1.0."),
    (r"feature_extractor\.conv_layers\.0\.layer_norm\.", "feature_extractor.conv_layers.0.2."),
    (r"^feature_projection\.layer_norm\.", "layer_norm."),
    (r"^feature_projection\.projection\.", "post_extract_proj."),
    (r"pos_conv_embed\.conv\.parametrizations\.weight\.original0", "pos_conv.0.weight_g"),
    (r"pos_conv_embed\.conv\.parametrizations\.weight\.original1", "pos_conv.0.weight_v"),
    (r"pos_conv_embed\.conv\.bias", "pos_conv.0.bias"),
    (r"\.attention\.", ".self_attn."),
    (r"encoder\.layers\.(\d+)\.layer_norm\.", r"encoder.layers.\1.self_attn_layer_norm."),
    (r"feed_forward\.intermediate_dense", "fc1"),
    (r"feed_forward\.output_dense", "fc2"),
    (r"^masked_spec_embed$", "mask_emb"),
]


def tiny_hubert(*, hidden=32, layers=9, heads=4, seed=0):
    torch.manual_seed(seed)
    config = transformers.HubertConfig(
        hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=heads,
        intermediate_size=48, conv_dim=(16,) * 7, num_conv_pos_embeddings=16,
        num_conv_pos_embedding_groups=4,
    )  # fmt: skip
    return transformers.HubertModel(config).eval(), torch.nn.Linear(hidden, 256)


def fairseq_state(model, proj):
    state = {}
    for key, value in model.state_dict().items():
        for pattern, repl in TO_FAIRSEQ:
            key = re.sub(pattern, repl, key)
        state[key] = value.clone()
    state["final_proj.weight"] = proj.weight.detach().clone()
    state["final_proj.bias"] = proj.bias.detach().clone()
    state["label_embs_concat"] = torch.zeros(4, 256)
    return state


@pytest.fixture(scope="module")
def hubert_files(tmp_path_factory):
    """A tiny HuBERT (9 layers, 32-d, final_proj to 256) in fairseq and transformers layouts."""
    root = tmp_path_factory.mktemp("hubert")
    model, proj = tiny_hubert()
    cfg = {"model": {"encoder_attention_heads": 4, "layer_norm_first": False}}
    torch.save({"args": None, "cfg": cfg, "model": fairseq_state(model, proj)}, root / "fs.pt")
    model.save_pretrained(root / "tf")
    flat = dict(model.state_dict())
    flat.update({f"final_proj.{k}": v for k, v in proj.state_dict().items()})
    torch.save(flat, root / "flat.pt")
    (root / "config.json").write_text(json.dumps(model.config.to_dict()))
    return {"root": root, "model": model, "proj": proj}


@pytest.fixture(scope="module")
def gen_dir(fixtures_dir):
    path = fixtures_dir / "generation"
    if not (path / "rvc_v1_f0_48k_tiny.pth").is_file():
        pytest.skip(f"RVC fixtures not found in {path}")
    return path


def voiced(seconds=0.6, sr=16000, f0=140.0):
    """A harmonic tone with vibrato and a pause: something for DIO/Harvest to track."""
    t = np.arange(int(seconds * sr)) / sr
    phase = 2 * np.pi * np.cumsum(f0 * (1 + 0.03 * np.sin(2 * np.pi * 5 * t))) / sr
    x = sum(0.2 / k * np.sin(k * phase) for k in range(1, 6))
    x[int(0.4 * sr) : int(0.45 * sr)] = 0.0
    return x.astype(np.float32)


# --------------------------------------------------------------------------- HuBERT loading


@pytest.mark.parametrize("layout", ["fs.pt", "tf", "flat.pt"])
def test_hubert_layouts_load_strictly_and_match(hubert_files, layout):
    encoder = load_content_encoder(hubert_files["root"] / layout)
    model = hubert_files["model"]
    assert encoder.hubert.config.num_attention_heads == 4
    wav = torch.from_numpy(voiced())[None]
    with torch.no_grad():
        ref = model(wav, output_hidden_states=True).hidden_states
    got = encoder(wav, layer=9)
    assert got.shape == (1, 29, 32)  # 50 frames/s
    torch.testing.assert_close(got, ref[9], rtol=0, atol=1e-5)
    if layout != "tf":  # the save_pretrained folder has no final_proj
        v1 = encoder.features(wav, version="v1")
        torch.testing.assert_close(v1, hubert_files["proj"](ref[9]), rtol=0, atol=1e-5)
    else:
        with pytest.raises(ConfigError, match="final_proj"):
            encoder.features(wav, version="v1")


def test_folded_positional_conv_is_accepted(hubert_files, tmp_path):
    """A fairseq file whose weight norm was removed holds pos_conv.0.weight only."""
    model, proj = hubert_files["model"], hubert_files["proj"]
    state = fairseq_state(model, proj)
    g, v = state.pop("encoder.pos_conv.0.weight_g"), state.pop("encoder.pos_conv.0.weight_v")
    state["encoder.pos_conv.0.weight"] = v * (
        g / torch.linalg.vector_norm(v, dim=(0, 1), keepdim=True)
    )
    torch.save(
        {"model": state, "cfg": {"model": {"encoder_attention_heads": 4}}}, tmp_path / "f.pt"
    )
    wav = torch.from_numpy(voiced())[None]
    with torch.no_grad():
        ref = model(wav, output_hidden_states=True).hidden_states[9]
    got = load_content_encoder(tmp_path / "f.pt")(wav, layer=9)
    torch.testing.assert_close(got, ref, rtol=0, atol=1e-5)


def test_fairseq_config_objects_are_read_inert(hubert_files, tmp_path, monkeypatch):
    """fairseq pickles its config as omegaconf/argparse objects: read, never executed."""
    model, proj = hubert_files["model"], hubert_files["proj"]
    fake = types.ModuleType("omegaconf")

    class DictConfig:
        def __init__(self, content):
            self._content = content

    DictConfig.__module__ = "omegaconf"
    DictConfig.__qualname__ = "DictConfig"
    fake.DictConfig = DictConfig
    monkeypatch.setitem(sys.modules, "omegaconf", fake)
    cfg = DictConfig({"model": DictConfig({"encoder_attention_heads": 4})})
    torch.save({"cfg": cfg, "model": fairseq_state(model, proj)}, tmp_path / "omega.pt")
    args = argparse.Namespace(
        encoder_attention_heads=4,
        conv_feature_layers="[(16,10,5)] + [(16,3,2)] * 4 + [(16,2,2)] * 2",
    )
    torch.save({"args": args, "model": fairseq_state(model, proj)}, tmp_path / "args.pt")
    monkeypatch.delitem(sys.modules, "omegaconf")  # loading must not need (or import) it
    for name in ("omega.pt", "args.pt"):
        encoder = load_content_encoder(tmp_path / name)
        assert encoder.hubert.config.num_attention_heads == 4, name
        assert encoder.hubert.config.conv_stride == (5, 2, 2, 2, 2, 2, 2)
    assert "omegaconf" not in sys.modules


def test_bad_hubert_files_are_refused(hubert_files, tmp_path):
    class Evil:
        def __reduce__(self):
            return (print, ("owned",))

    with (tmp_path / "evil.pt").open("wb") as fh:
        pickle.dump({"model": {}, "cfg": Evil()}, fh, protocol=2)
    with pytest.raises(CheckpointError, match="refusing to load"):
        load_content_encoder(tmp_path / "evil.pt")
    state = fairseq_state(hubert_files["model"], hubert_files["proj"])
    del state["encoder.layers.3.fc1.weight"]
    torch.save({"model": state}, tmp_path / "missing.pt")
    with pytest.raises(CheckpointError, match=r"missing keys \[1\]: encoder\.layers\.3\."):
        load_content_encoder(tmp_path / "missing.pt")
    state["encoder.layers.3.fc1.weight"] = torch.zeros(48, 32)
    state["encoder.extra.weight"] = torch.zeros(1)
    torch.save({"model": state}, tmp_path / "extra.pt")
    with pytest.raises(CheckpointError, match=r"encoder\.extra\.weight"):
        load_content_encoder(tmp_path / "extra.pt")
    torch.save({"weight": {"a": torch.zeros(1)}}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="not a HuBERT"):
        load_content_encoder(tmp_path / "other.pt")
    encoder = load_content_encoder(hubert_files["root"] / "fs.pt")
    with pytest.raises(ConfigError, match="has 9 layers"):
        encoder.features(torch.zeros(1, 8000), version="v2")  # v2 reads layer 12


# --------------------------------------------------------------------------- F0 and index


def test_pyworld_f0_tracks_the_tone():
    x = voiced(seconds=1.0, f0=180.0)
    for method in ("harvest", "dio"):
        f0 = extract_f0(x, method=method, n_frames=100)
        assert f0.shape == (100,)
        voiced_f0 = f0[10:35]
        assert np.all(voiced_f0 > 0), method
        assert abs(np.median(voiced_f0) - 180.0) < 8.0, method
    with pytest.raises(ConfigError, match="unknown F0 method"):
        extract_f0(x, method="crepe")
    with pytest.raises(AudioError, match="50 ms"):
        extract_f0(x[:100])


def test_index_retrieval_matches_brute_force(tmp_path):
    faiss = pytest.importorskip("faiss", reason="faiss-cpu is an optional extra")
    from voxlab.generation.neural.rvc.index import FeatureIndex

    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((300, 256)).astype(np.float32)
    quantizer = faiss.IndexFlatL2(256)
    index = faiss.IndexIVFFlat(quantizer, 256, 4)
    index.train(vectors)
    index.add(vectors)
    index.nprobe = 4  # exhaustive over the 4 lists: exact neighbours
    faiss.write_index(index, str(tmp_path / "added.index"))
    loaded = FeatureIndex.load(tmp_path / "added.index")
    queries = rng.standard_normal((5, 256)).astype(np.float32)
    loaded.index.nprobe = 4
    got = loaded.retrieve(queries)
    d2 = ((queries[:, None, :] - vectors[None]) ** 2).sum(-1)
    near = np.argsort(d2, axis=1)[:, :8]
    w = 1.0 / np.take_along_axis(d2, near, axis=1) ** 2
    expected = (vectors[near] * (w / w.sum(1, keepdims=True))[..., None]).sum(1)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(loaded.blend(queries, rate=0.0), queries)
    with pytest.raises(ConfigError, match="768-d"):
        loaded.retrieve(np.zeros((2, 768), np.float32))
    (tmp_path / "junk.index").write_bytes(b"not an index")
    with pytest.raises(CheckpointError, match="not a faiss index"):
        FeatureIndex.load(tmp_path / "junk.index")


# --------------------------------------------------------------------------- pipeline


@pytest.fixture(scope="module")
def v1_converter(gen_dir, hubert_files):
    encoder = load_content_encoder(hubert_files["root"] / "fs.pt")
    return RVCConverter(load_rvc(gen_dir / "rvc_v1_f0_48k_tiny.pth"), encoder, name="v1")


def test_pipeline_keeps_duration_and_follows_options(v1_converter):
    x = voiced(seconds=0.5, sr=22050)
    opts = ConvertOptions(f0_method="dio", seed=3)
    out = v1_converter.convert(x, 22050, opts)
    assert out.sample_rate == 48000 and out.system == "rvc"
    assert out.audio.shape == (24000,) and np.isfinite(out.audio).all()
    assert out.audio.std() > 1e-3
    again = v1_converter.convert(x, 22050, opts)
    np.testing.assert_array_equal(out.audio, again.audio)  # seeded
    other_seed = v1_converter.convert(x, 22050, ConvertOptions(f0_method="dio", seed=4))
    assert np.abs(other_seed.audio - out.audio).max() > 1e-4
    det = ConvertOptions(f0_method="dio", deterministic=True)
    up = ConvertOptions(f0_method="dio", deterministic=True, transpose=12)
    a, b = v1_converter.convert(x, 22050, det), v1_converter.convert(x, 22050, up)
    assert np.abs(a.audio - b.audio).max() > 1e-2  # the pitch reaches the decoder
    assert out.params["f0_method"] == "dio" and b.params["transpose"] == 12
    with pytest.raises(ConfigError, match=r"speakers 0\.\.108"):
        v1_converter.convert(x, 22050, ConvertOptions(speaker=109))
    with pytest.raises(AudioError, match=r"at least 0\.1 s"):
        v1_converter.convert(x[:1000], 22050)
    with pytest.raises(ConfigError, match="transpose"):
        v1_converter.convert(x, 22050, ConvertOptions(transpose=100))


def test_pipeline_uses_the_index(v1_converter):
    faiss = pytest.importorskip("faiss", reason="faiss-cpu is an optional extra")
    from voxlab.generation.neural.rvc.index import FeatureIndex

    flat = faiss.IndexFlatL2(256)
    flat.add(np.random.default_rng(1).standard_normal((64, 256)).astype(np.float32))
    with_index = RVCConverter(v1_converter.model, v1_converter.content, FeatureIndex(flat))
    x = voiced(seconds=0.3)
    det = ConvertOptions(f0_method="dio", deterministic=True)
    plain = v1_converter.convert(x, 16000, det).audio
    off = with_index.convert(x, 16000, ConvertOptions(f0_method="dio", deterministic=True,
                                                      index_rate=0.0)).audio  # fmt: skip
    on = with_index.convert(x, 16000, det)
    np.testing.assert_array_equal(off, plain)
    assert np.abs(on.audio - plain).max() > 1e-3 and on.params["index_rate"] == 0.75
    wide = faiss.IndexFlatL2(768)
    wide.add(np.zeros((2, 768), np.float32))
    with pytest.raises(ConfigError, match="768-d features but voice"):
        RVCConverter(v1_converter.model, v1_converter.content, FeatureIndex(wide))


def test_long_inputs_are_cut_at_quiet_points(v1_converter, monkeypatch):
    from voxlab.generation.neural.rvc.pipeline import segment_bounds

    x = voiced(seconds=3.0)
    x[int(1.3 * 16000) : int(1.35 * 16000)] = 0.0  # a pause near the 1.2 s mark
    bounds = segment_bounds(x, max_seconds=1.2)
    assert bounds[0][0] == 0 and bounds[-1][1] == x.size
    assert all(a[1] == b[0] for a, b in itertools.pairwise(bounds))
    assert 1.3 * 16000 <= bounds[0][1] <= 1.35 * 16000 and bounds[0][1] % 160 == 0
    assert segment_bounds(x[:8000], max_seconds=1.2) == [(0, 8000)]
    monkeypatch.setattr(v1_converter, "segment_seconds", 0.25)
    out = v1_converter.convert(x[:12000], 16000, ConvertOptions(f0_method="dio", seed=1))
    assert out.audio.shape == (36000,) and np.isfinite(out.audio).all()


def test_pipeline_v2_without_f0_reads_layer_12(gen_dir):
    model, _ = tiny_hubert(hidden=768, layers=12, heads=12)
    converter = RVCConverter(load_rvc(gen_dir / "rvc_v2_nono_40k_tiny.pth"), ContentEncoder(model))
    out = converter.convert(voiced(seconds=0.3), 16000, ConvertOptions(deterministic=True))
    assert out.sample_rate == 40000 and out.audio.shape == (12000,)
    assert out.params["f0"] is False and out.params["f0_method"] is None


# --------------------------------------------------------------------------- CLI


def test_voxlab_convert_end_to_end(gen_dir, hubert_files, tmp_path, capsys):
    import soundfile as sf

    from voxlab.cli.main import main
    from voxlab.watermark import read_label

    sf.write(tmp_path / "in.wav", voiced(seconds=0.5, sr=24000), 24000)
    out = tmp_path / "out.wav"
    base = ["convert", str(tmp_path / "in.wav"), "--rvc", str(gen_dir / "rvc_v1_f0_48k_tiny.pth"),
            "--hubert", str(hubert_files["root"] / "fs.pt"), "--f0-method", "dio",
            "--no-progress", "--format", "json", "--transpose", "2"]  # fmt: skip
    assert main([*base, "-o", str(out)]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["status"] == "ok" and rows[0]["output"] == str(out)
    audio, sr = sf.read(out, dtype="float32")
    assert sr == 48000 and audio.shape == (24000,)
    assert "AI-generated" in read_label(out)
    plain = tmp_path / "plain.wav"
    assert main([*base, "-o", str(plain), "--no-watermark"]) == 0
    capsys.readouterr()
    assert np.abs(sf.read(plain, dtype="float32")[0] - audio).max() > 1e-4  # the mark is there

    (tmp_path / "batch").mkdir()
    sf.write(tmp_path / "batch" / "a.wav", voiced(seconds=0.3), 16000)
    (tmp_path / "batch" / "b.wav").write_bytes(b"RIFF junk")
    code = main([*base[:1], str(tmp_path / "batch"), *base[2:], "-o", str(tmp_path / "conv")])
    rows = json.loads(capsys.readouterr().out)
    assert code == 1  # one bad file: reported, the other converted
    assert [r["status"] for r in rows] == ["ok", "error"]
    assert (tmp_path / "conv" / "a.wav").is_file() and "b.wav" in rows[1]["error"]


def test_voxlab_convert_refuses_bad_voice_files(hubert_files, tmp_path, capsys):
    import soundfile as sf

    from voxlab.cli.main import main

    sf.write(tmp_path / "in.wav", voiced(seconds=0.3), 16000)
    torch.save({"model": {}}, tmp_path / "G_1.pth")
    hubert = str(hubert_files["root"] / "fs.pt")
    args = ["convert", str(tmp_path / "in.wav"), "--rvc", str(tmp_path / "G_1.pth"),
            "--hubert", hubert, "-o", str(tmp_path / "o.wav")]  # fmt: skip
    assert main(args) == 2
    assert "not an RVC export" in capsys.readouterr().err
    assert main([*args[:-2], "--f0-method", "crepe", "-o", str(tmp_path / "o.wav")]) == 2
    assert "unknown F0 method" in capsys.readouterr().err


def test_rvc_joins_the_attack_registry_when_a_voice_is_configured(
    gen_dir, hubert_files, monkeypatch
):
    from voxlab.generation import attacks
    from voxlab.generation.neural.rvc import attack

    monkeypatch.delenv("VOXLAB_RVC_MODEL", raising=False)
    assert "R01" not in attacks.ATTACKS and not attack.ensure_registered()
    monkeypatch.setenv("VOXLAB_RVC_MODEL", str(gen_dir / "rvc_v1_f0_48k_tiny.pth"))
    monkeypatch.setenv("VOXLAB_RVC_HUBERT", str(hubert_files["root"] / "fs.pt"))
    monkeypatch.setenv("VOXLAB_RVC_F0", "dio")
    monkeypatch.setattr(attacks, "ATTACKS", dict(attacks.ATTACKS))  # restored afterwards
    monkeypatch.setattr(attack, "ATTACKS", attacks.ATTACKS)
    assert attack.ensure_registered()
    assert attacks.parse_attack_ids("R01") == ["R01"]
    system = attacks.get_attack("R01")
    assert system.kind == "checkpoint"
    item = attacks.AttackInput(voiced(seconds=0.4), 16_000, "A", seed=5)
    first, second = system(item), system(item)
    assert first.system == "R01" and first.params["voice"] == "rvc_v1_f0_48k_tiny"
    assert first.sample_rate == 16_000 and first.audio.shape == (6400,)
    np.testing.assert_array_equal(first.audio, second.audio)
    monkeypatch.delenv("VOXLAB_RVC_HUBERT")
    with pytest.raises(ConfigError, match="VOXLAB_RVC_HUBERT"):
        system(item)
