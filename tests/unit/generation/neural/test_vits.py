"""VITS (ljs, vctk, no-SDP) against the official reference fixtures.

Tolerances: atol 1e-4 on the audio and every float intermediate; durations (``w_ceil``),
lengths (``y_lengths``), masks and the hard alignment ``attn`` exactly.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from voxlab.errors import CheckpointError, ConfigError
from voxlab.generation.neural import commons
from voxlab.generation.neural.vits import build_vits, load_vits
from voxlab.generation.neural.vits.text import SYMBOLS, intersperse, symbols_to_ids, text_to_ids

pytestmark = pytest.mark.usefixtures("one_torch_thread")

ATOL = 1e-4
CASES = ["vits_ljs_tiny", "vits_vctk_tiny", "vits_ljs_nosdp_tiny"]
EXACT = {"attn", "w_ceil", "y_lengths", "y_mask", "x_mask"}


@pytest.fixture(scope="module")
def gen_dir(fixtures_dir):
    path = fixtures_dir / "generation"
    if not path.is_dir():
        pytest.skip(f"generation fixtures not found at {path}")
    return path


def infer_all(model, io, *, fast=False, **kwargs):
    model.dec.fast_inference = fast  # hooks only fire on the plain path
    outs = {}
    hook = model.dec.conv_pre.register_forward_hook(lambda m, i, o: outs.update(dec_conv_pre_out=o))
    sid = torch.from_numpy(io["sid"]) if "sid" in io.files else None
    with torch.inference_mode():
        audio, attn, y_mask, (z, z_p, m_p, logs_p), extra = model.infer(
            torch.from_numpy(io["x"]),
            torch.from_numpy(io["x_lengths"]),
            sid=sid,
            noise_scale=float(io["noise_scale"]),
            noise_scale_w=float(io["noise_scale_w"]),
            length_scale=float(io["length_scale"]),
            return_intermediates=True,
            **kwargs,
        )
    hook.remove()
    model.dec.fast_inference = True
    outs.update(audio=audio, attn=attn, y_mask=y_mask, z=z, z_p=z_p, m_p=m_p, logs_p=logs_p)
    for key in (
        "enc_hidden",
        "m_p_text",
        "logs_p_text",
        "x_mask",
        "logw",
        "w",
        "w_ceil",
        "y_lengths",
    ):
        outs[key] = extra[key]
    return outs


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("fold", [True, False], ids=["folded", "weight-norm"])
def test_fixture_outputs_and_intermediates(gen_dir, case, fold):
    model = load_vits(gen_dir / f"{case}_G.pth", gen_dir / f"{case}.json", fold_weight_norm=fold)
    assert not model.training
    io = np.load(gen_dir / f"{case}_io.npz")
    outs = infer_all(model, io)
    stored = set(io.files) - {
        "x",
        "x_lengths",
        "sid",
        "noise_scale",
        "noise_scale_w",
        "length_scale",
        "audio_item1_alone",
    }
    assert stored <= set(outs), f"not compared: {stored - set(outs)}"
    for key in sorted(stored):
        got = outs[key].numpy()
        assert got.shape == io[key].shape, key
        if key in EXACT:
            np.testing.assert_array_equal(got, io[key], err_msg=key)
        else:
            np.testing.assert_allclose(got, io[key], rtol=0, atol=ATOL, err_msg=key)
    fast = infer_all(model, io, fast=True)["audio"].numpy()  # channels-last decoder
    np.testing.assert_allclose(fast, io["audio"], rtol=0, atol=ATOL)


def test_batch_quirk_padded_frames_leak_into_shorter_item(gen_dir):
    model = load_vits(gen_dir / "vits_ljs_tiny_G.pth", gen_dir / "vits_ljs_tiny.json")
    io = np.load(gen_dir / "vits_ljs_tiny_io.npz")
    x, lengths = torch.from_numpy(io["x"]), torch.from_numpy(io["x_lengths"])
    n1 = int(lengths[1])
    with torch.inference_mode(), commons.deterministic():
        batch = model.infer(x, lengths, noise_scale=0.3, noise_scale_w=0.5)[0]
        alone = model.infer(x[1:2, :n1], lengths[1:2])[0]
    np.testing.assert_allclose(batch.numpy(), io["audio"], atol=ATOL)  # noise scales ignored
    np.testing.assert_allclose(alone.numpy(), io["audio_item1_alone"], atol=ATOL)
    n = alone.shape[-1]
    diff = (batch[1, 0, :n] - alone[0, 0]).abs()
    ref = np.abs(io["audio"][1, 0, :n] - io["audio_item1_alone"][0, 0])
    assert float(diff[:15000].max()) < 1e-5  # identical away from the padded tail
    assert float(diff[16147:].max()) > 0.1  # the official leak, reproduced ...
    np.testing.assert_allclose(diff.numpy(), ref, atol=ATOL)  # ... sample by sample


def test_randomness_is_scaled_and_switchable(gen_dir):
    model = load_vits(gen_dir / "vits_vctk_tiny_G.pth", gen_dir / "vits_vctk_tiny.json")
    io = np.load(gen_dir / "vits_vctk_tiny_io.npz")
    x, lengths, sid = (torch.from_numpy(io[k]) for k in ("x", "x_lengths", "sid"))
    with torch.inference_mode():
        torch.manual_seed(0)
        a = model.infer(x, lengths, sid=sid, noise_scale=0.667, noise_scale_w=0.8)[0]
        torch.manual_seed(1)
        b = model.infer(x, lengths, sid=sid, noise_scale=0.667, noise_scale_w=0.8)[0]
        d = model.infer(x, lengths, sid=sid, deterministic=True)[0]
        other = model.infer(x, lengths, sid=sid + 1, deterministic=True)[0]
    assert a.shape != b.shape or not torch.allclose(a, b)
    np.testing.assert_allclose(d.numpy(), io["audio"], atol=ATOL)
    assert other.shape != d.shape or float((other - d).abs().max()) > 1e-2  # sid matters
    with pytest.raises(ValueError, match="sid"):
        model.infer(x, lengths)
    with pytest.raises(ValueError, match=r"\[0, 108\]"):
        model.infer(x, lengths, sid=torch.tensor([109]))


def test_max_len_and_length_scale(gen_dir):
    model = load_vits(gen_dir / "vits_ljs_nosdp_tiny_G.pth", gen_dir / "vits_ljs_nosdp_tiny.json")
    io = np.load(gen_dir / "vits_ljs_nosdp_tiny_io.npz")
    x, lengths = torch.from_numpy(io["x"]), torch.from_numpy(io["x_lengths"])
    with torch.inference_mode(), commons.deterministic():
        short = model.infer(x, lengths, max_len=10)[0]
        slow = model.infer(x, lengths, length_scale=2.0)[0]
    assert short.shape[-1] == 10 * 256
    w = np.exp(io["logw"]) * io["x_mask"] * 2.0
    assert slow.shape[-1] == int(np.ceil(w).sum()) * 256


@pytest.mark.slow
@pytest.mark.parametrize("name", ["ljs", "vctk"])
def test_published_manifest_accepted(gen_dir, name):
    manifest = json.loads((gen_dir / f"manifest_vits_{name}_base.json").read_text())
    config = json.loads((gen_dir / f"vits_{name}_tiny.json").read_text())
    config["model"].update(
        inter_channels=192, hidden_channels=192, filter_channels=768, upsample_initial_channel=512
    )
    if name == "vctk":
        config["model"]["gin_channels"] = 256
    model = build_vits(config)
    own = {k: [list(v.shape), "float32"] for k, v in model.state_dict().items()}
    assert list(own) == list(manifest)
    assert own == manifest
    state = {k: torch.ones(shape) for k, (shape, _) in manifest.items()}
    del model
    loaded = load_vits(
        {"model": state, "iteration": 1, "optimizer": None, "learning_rate": 2e-4}, config
    )
    assert sum(p.numel() for p in loaded.parameters()) > 36e6


def test_mismatched_and_unsafe_checkpoints_refused(gen_dir, tmp_path):
    with pytest.raises(
        CheckpointError,
        match=r"vits_ljs_tiny_G\.pth does not match the "
        r"multi-speaker VITS of vits_vctk_tiny\.json.*missing keys.*emb_g",
    ):
        load_vits(gen_dir / "vits_ljs_tiny_G.pth", gen_dir / "vits_vctk_tiny.json")
    with pytest.raises(CheckpointError, match=r"deterministic duration predictor.*unexpected"):
        load_vits(gen_dir / "vits_ljs_tiny_G.pth", gen_dir / "vits_ljs_nosdp_tiny.json")

    class Payload:
        def __reduce__(self):
            return (print, ("pwned",))

    unsafe = tmp_path / "G_100.pth"
    torch.save({"model": {"x": Payload()}, "iteration": 1}, unsafe)
    with pytest.raises(CheckpointError, match="refusing to load"):
        load_vits(unsafe, gen_dir / "vits_ljs_tiny.json")
    truncated = tmp_path / "G_200.pth"
    truncated.write_bytes((gen_dir / "vits_ljs_tiny_G.pth").read_bytes()[:5000])
    with pytest.raises(CheckpointError, match=r"corrupt|truncated"):
        load_vits(truncated, gen_dir / "vits_ljs_tiny.json")
    with pytest.raises(ConfigError, match="model"):
        load_vits(gen_dir / "vits_ljs_tiny_G.pth", {"data": {}})


def test_plain_state_dict_file_loads(gen_dir, tmp_path):
    ckpt = torch.load(gen_dir / "vits_ljs_nosdp_tiny_G.pth", weights_only=True)
    assert set(ckpt) == {"model", "iteration", "optimizer", "learning_rate"}
    plain = tmp_path / "plain.pth"
    torch.save(ckpt["model"], plain)
    model = load_vits(plain, gen_dir / "vits_ljs_nosdp_tiny.json")
    io = np.load(gen_dir / "vits_ljs_nosdp_tiny_io.npz")
    np.testing.assert_allclose(infer_all(model, io)["audio"].numpy(), io["audio"], atol=ATOL)


def test_symbol_table_and_add_blank():
    assert len(SYMBOLS) == 178
    assert SYMBOLS[0] == "_" and SYMBOLS[16] == " " and SYMBOLS[17] == "A"
    assert SYMBOLS[-1] == "ᵻ"
    assert intersperse([5, 6, 7]) == [0, 5, 0, 6, 0, 7, 0]
    assert symbols_to_ids("hə") == [SYMBOLS.index("h"), SYMBOLS.index("ə")]


def test_text_front_end_uses_espeak_phonemes(espeak):
    ids = text_to_ids("Hello, world.")
    assert ids[0::2] == [0] * (len(ids) // 2 + 1)
    phonemes = "".join(SYMBOLS[i] for i in ids[1::2])
    assert phonemes.startswith("həlˈoʊ,") and phonemes.endswith(".")
    assert "wˈɜːld" in phonemes
    assert "ɪz ɐ tˈɛst" in "".join(
        SYMBOLS[i] for i in text_to_ids("This is a test.", add_blank=False)
    )
    with pytest.raises(ConfigError, match="cleaner"):
        text_to_ids("hi", cleaners=["japanese_cleaners"])
