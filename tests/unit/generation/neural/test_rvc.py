"""RVC v1/v2 (F0 and no-F0) against the official reference fixtures and shape manifests.

Tolerance: atol 1e-4 on the audio and on every stored float intermediate, lengths and
masks exactly (the official code itself varies by < 1.1e-6 between thread counts; a
structural error, e.g. pitch scaled by 1.02, changes the audio by 0.5-0.9).
"""

from __future__ import annotations

import json
import pickle
from collections import OrderedDict

import numpy as np
import pytest
import torch

from voxlab.errors import CheckpointError
from voxlab.generation.neural import commons, load_rvc
from voxlab.generation.neural.rvc import (
    RVCConfig,
    RVCSynthesizerF0,
    RVCSynthesizerNoF0,
    build_synthesizer,
    config_from_export,
)
from voxlab.generation.neural.rvc.f0 import coarse_pitch
from voxlab.generation.neural.rvc.loading import check_keys, export_state_dict

pytestmark = pytest.mark.usefixtures("one_torch_thread")

ATOL = 1e-4
CASES = ["rvc_v2_f0_40k_tiny", "rvc_v1_f0_48k_tiny", "rvc_v2_nono_40k_tiny"]
HOPS = {"rvc_v2_f0_40k_tiny": 400, "rvc_v1_f0_48k_tiny": 480, "rvc_v2_nono_40k_tiny": 400}


@pytest.fixture(scope="module")
def gen_dir(fixtures_dir):
    path = fixtures_dir / "generation"
    if not (path / "rvc_v2_f0_40k_tiny.pth").is_file():
        pytest.skip(f"RVC fixtures not found in {path}")
    return path


def run_case(model, io):
    """Every output and intermediate (plain decoder path: forward hooks fire there)."""
    t = {k: torch.from_numpy(io[k]) for k in io.files}
    model.dec.fast_inference = False
    outs = {}
    hook = model.dec.conv_pre.register_forward_hook(lambda m, i, o: outs.update(dec_conv_pre_out=o))
    if model.f0:
        hook2 = model.dec.m_source.register_forward_hook(lambda m, i, o: outs.update(har_source=o))
        result = model.infer(
            t["phone"], t["phone_lengths"], t["pitch"], t["pitchf"], t["sid"], deterministic=True
        )
        hook2.remove()
    else:
        result = model.infer(t["phone"], t["phone_lengths"], t["sid"], deterministic=True)
    hook.remove()
    audio, x_mask, (z, z_p, m_p, logs_p) = result
    outs.update(audio=audio, x_mask=x_mask, z=z, z_p=z_p, m_p=m_p, logs_p=logs_p)
    model.dec.fast_inference = True
    return outs


def fast_audio(model, io):
    """The audio of the default (channels-last, fused) decoder path."""
    t = {k: torch.from_numpy(io[k]) for k in io.files}
    assert model.dec.fast_inference
    if model.f0:
        args = (t["phone"], t["phone_lengths"], t["pitch"], t["pitchf"], t["sid"])
    else:
        args = (t["phone"], t["phone_lengths"], t["sid"])
    return model.infer(*args, deterministic=True)[0]


@pytest.mark.parametrize("fold", [True, False], ids=["folded", "weight-norm"])
@pytest.mark.parametrize("case", CASES)
def test_fixture_outputs_and_intermediates(gen_dir, case, fold):
    model = load_rvc(gen_dir / f"{case}.pth", fold_weight_norm=fold)
    assert not model.training
    assert model.hop_length == HOPS[case]
    io = np.load(gen_dir / f"{case}_io.npz")
    outs = run_case(model, io)
    inputs = {"phone", "phone_lengths", "pitch", "pitchf", "sid"}
    stored = [k for k in io.files if k not in inputs]
    assert set(stored) == set(outs), "every stored array is compared"
    frames = int(io["phone_lengths"][0])
    assert outs["audio"].shape == (1, 1, frames * HOPS[case])
    np.testing.assert_array_equal(outs["x_mask"].numpy(), io["x_mask"])
    for key in stored:
        got = outs[key].detach().numpy()
        assert got.shape == io[key].shape, key
        np.testing.assert_allclose(got, io[key], rtol=0, atol=ATOL, err_msg=key)
    np.testing.assert_allclose(fast_audio(model, io).numpy(), io["audio"], rtol=0, atol=ATOL)


def test_class_and_metadata_follow_the_export(gen_dir):
    f0 = load_rvc(gen_dir / "rvc_v1_f0_48k_tiny.pth")
    nono = load_rvc(gen_dir / "rvc_v2_nono_40k_tiny.pth")
    assert isinstance(f0, RVCSynthesizerF0) and f0.version == "v1"
    assert f0.config.content_dim == 256 and f0.sampling_rate == 48000
    assert f0.config.official_class == "SynthesizerTrnMs256NSFsid"
    assert isinstance(nono, RVCSynthesizerNoF0) and nono.config.content_dim == 768
    assert nono.config.official_class == "SynthesizerTrnMs768NSFsid_nono"
    meta = json.loads((gen_dir / "rvc_v2_f0_40k_tiny.json").read_text())
    model = load_rvc(gen_dir / "rvc_v2_f0_40k_tiny.pth")
    assert model.config.to_list() == meta["config"]
    assert model.config.official_class == meta["class"] and model.info == meta["info"]


def test_pitch_quantisation_matches_the_fixture(gen_dir):
    for case in CASES[:2]:
        io = np.load(gen_dir / f"{case}_io.npz")
        np.testing.assert_array_equal(coarse_pitch(io["pitchf"]), io["pitch"])
    assert coarse_pitch(np.array([0.0, 50.0, 1100.0, 5000.0])).tolist() == [1, 1, 255, 255]


def test_randomness_is_real_unless_deterministic(gen_dir):
    model = load_rvc(gen_dir / "rvc_v2_f0_40k_tiny.pth")
    io = np.load(gen_dir / "rvc_v2_f0_40k_tiny_io.npz")
    args = [torch.from_numpy(io[k]) for k in ("phone", "phone_lengths", "pitch", "pitchf", "sid")]
    torch.manual_seed(1)
    a = model.infer(*args)[0]
    torch.manual_seed(1)
    b = model.infer(*args)[0]
    torch.manual_seed(2)
    c = model.infer(*args)[0]
    torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert (a - c).abs().max() > 1e-3
    assert (a - torch.from_numpy(io["audio"])).abs().max() > 1e-3
    with commons.deterministic():  # the context works as well as the keyword
        d = model.infer(*args)[0]
    np.testing.assert_allclose(d.numpy(), io["audio"], rtol=0, atol=ATOL)


def test_sine_source_is_silent_when_unvoiced_and_continuous_in_phase():
    from voxlab.generation.neural.rvc.nsf import SineGen

    gen = SineGen(40000)
    f0 = torch.tensor([[0.0, 0.0, 220.0, 220.0, 221.5, 0.0]])
    with commons.deterministic():
        out = gen(f0, 400)[0, :, 0]
    assert out[:800].abs().max() == 0 and out[2000:].abs().max() == 0
    phase = np.cumsum(np.repeat(f0[0].numpy().astype(np.float64), 400) / 40000)
    expected = 0.1 * np.sin(2 * np.pi * phase)
    np.testing.assert_allclose(out[800:2000].numpy(), expected[800:2000], atol=2e-6)


def _meta_or_cpu(config):
    try:
        with torch.device("meta"):
            return build_synthesizer(config)
    except RuntimeError:  # a block that computes with tensors while building
        return build_synthesizer(config)


MANIFESTS = [
    f"{v}_{f}_{r}" for v in ("v1", "v2") for f in ("f0", "nono") for r in ("32k", "40k", "48k")
]


@pytest.mark.parametrize("name", MANIFESTS)
def test_every_real_size_manifest_is_accepted(gen_dir, name):
    configs = json.loads((gen_dir / "manifest_rvc_configs.json").read_text())
    assert sorted(configs) == sorted(MANIFESTS)
    values = configs[name]
    version, f0, rate = name.split("_")
    manifest = json.loads((gen_dir / f"manifest_rvc_{name}.json").read_text())
    weight = {
        k: torch.empty(shape, dtype=torch.float16, device="meta")
        for k, (shape, _) in manifest.items()
    }
    export = {
        "weight": weight,
        "config": values,
        "sr": rate,
        "f0": int(f0 == "f0"),
        "version": version,
    }
    config = config_from_export(export, source=name)
    assert config.sampling_rate == int(rate[:-1]) * 1000
    model = _meta_or_cpu(config)
    check_keys(model, export_state_dict(weight), source=name)  # the loader's strict check
    own = {k: list(v.shape) for k, v in model.state_dict().items()}
    assert own == {k: shape for k, (shape, dtype) in manifest.items()}, name
    assert all(dtype == "float16" for _, dtype in manifest.values())


# --------------------------------------------------------------------------- refusals


def _tiny_export(gen_dir, case="rvc_v2_f0_40k_tiny"):
    return torch.load(gen_dir / f"{case}.pth", weights_only=True)


def test_unsafe_pickle_is_refused_without_running_it(gen_dir, tmp_path):
    class Evil:
        def __reduce__(self):
            return (print, ("owned",))

    path = tmp_path / "evil.pth"
    with path.open("wb") as fh:
        pickle.dump({"weight": {}, "config": Evil()}, fh, protocol=2)
    with pytest.raises(CheckpointError, match="refusing to load"):
        load_rvc(path)


def test_missing_corrupt_and_foreign_files_are_refused(gen_dir, tmp_path):
    with pytest.raises(CheckpointError, match="not found"):
        load_rvc(tmp_path / "nope.pth")
    broken = tmp_path / "broken.pth"
    broken.write_bytes((gen_dir / "rvc_v2_f0_40k_tiny.pth").read_bytes()[:5000])
    with pytest.raises(CheckpointError, match=r"corrupt|truncated"):
        load_rvc(broken)
    training = tmp_path / "G_100.pth"
    torch.save({"model": {"emb_g.weight": torch.zeros(2, 2)}, "iteration": 1}, training)
    with pytest.raises(CheckpointError, match="not an RVC export"):
        load_rvc(training)


def test_mismatched_exports_are_refused_with_the_keys(gen_dir, tmp_path):
    export = _tiny_export(gen_dir)
    wrong_version = OrderedDict(export, version="v1")
    path = tmp_path / "wrong.pth"
    torch.save(wrong_version, path)
    with pytest.raises(CheckpointError, match=r"enc_p\.emb_phone\.weight: file \(24, 768\)"):
        load_rvc(path)
    no_f0 = OrderedDict(export, f0=0)
    with pytest.raises(CheckpointError, match=r"unexpected keys .*dec\.m_source"):
        load_rvc(no_f0)
    missing = OrderedDict(export)
    missing["weight"] = OrderedDict(
        (k, v) for k, v in export["weight"].items() if k != "flow.flows.2.post.bias"
    )
    with pytest.raises(CheckpointError, match=r"missing keys \[1\]: flow\.flows\.2\.post\.bias"):
        load_rvc(missing)
    short = OrderedDict(export, config=export["config"][:-1])
    with pytest.raises(CheckpointError, match="17 values"):
        load_rvc(short)
    bad_sr = OrderedDict(export, sr="48k")
    with pytest.raises(CheckpointError, match="inconsistent"):
        load_rvc(bad_sr)


def test_enc_q_and_parametrization_names_are_accepted(gen_dir):
    export = _tiny_export(gen_dir)
    weight = OrderedDict()
    for key, value in export["weight"].items():
        if key.endswith(".weight_g"):
            key = key[: -len(".weight_g")] + ".parametrizations.weight.original0"
        elif key.endswith(".weight_v"):
            key = key[: -len(".weight_v")] + ".parametrizations.weight.original1"
        weight[key] = value
    weight["enc_q.pre.weight"] = torch.zeros(3, 3, 1, dtype=torch.float16)  # training only
    model = load_rvc(OrderedDict(export, weight=weight))
    ref = load_rvc(export)
    for (k, a), b in zip(model.state_dict().items(), ref.state_dict().values()):
        assert torch.equal(a, b), k
    assert all(v.dtype == torch.float32 for v in model.state_dict().values())


def test_config_values_are_checked():
    good = [
        1025,
        32,
        16,
        24,
        48,
        2,
        6,
        3,
        0,
        "1",
        [3, 7, 11],
        [[1, 3, 5]] * 3,
        [10, 10, 2, 2],
        64,
        [16, 16, 4, 4],
        109,
        16,
        40000,
    ]
    config = RVCConfig.from_list(good, version="v2", f0=1)
    assert config.hop_length == 400 and config.to_list() == good
    for index, value, message in [
        (9, "3", "resblock"),
        (12, [10, 10, 2], "differ in length"),
        (17, 44100, "not a multiple of the hop"),
        (2, -16, "non-negative"),
    ]:
        bad = list(good)
        bad[index] = value
        with pytest.raises(CheckpointError, match=message):
            RVCConfig.from_list(bad, version="v2", f0=1)
    with pytest.raises(CheckpointError, match="unknown RVC version"):
        RVCConfig.from_list(good, version="v3")


# --------------------------------------------------------------------------- through the CLI


@pytest.mark.parametrize("case", CASES)
def test_fixtures_through_voxlab_convert(gen_dir, tmp_path, case, capsys):
    """`voxlab convert feats.npz --rvc ... --deterministic` reproduces the official audio.

    Tolerance: atol 1e-4 after the 16-bit WAV round trip (quantisation <= 1.6e-5).
    """
    import soundfile as sf

    from voxlab.cli.main import main

    io = np.load(gen_dir / f"{case}_io.npz")
    feats = tmp_path / "feats.npz"
    inputs = ("phone", "phone_lengths", "pitch", "pitchf", "sid")
    np.savez(feats, **{k: io[k] for k in inputs if k in io.files})
    out = tmp_path / "out.wav"
    args = ["convert", str(feats), "--rvc", str(gen_dir / f"{case}.pth"), "--deterministic",
            "--no-watermark", "--no-progress", "-f", "json", "-o", str(out)]  # fmt: skip
    assert main(args) == 0
    assert json.loads(capsys.readouterr().out)[0]["status"] == "ok"
    audio, rate = sf.read(out, dtype="float32")
    assert rate == (48000 if "48k" in case else 40000)
    np.testing.assert_allclose(audio, io["audio"][0, 0], rtol=0, atol=ATOL)


def test_feature_files_are_checked(gen_dir, tmp_path, capsys):
    from voxlab.cli.main import main

    io = np.load(gen_dir / "rvc_v2_f0_40k_tiny_io.npz")
    np.savez(tmp_path / "v1.npz", phone=np.zeros((1, 10, 256), np.float32))
    np.savez(tmp_path / "nopitch.npz", phone=io["phone"])
    rvc = str(gen_dir / "rvc_v2_f0_40k_tiny.pth")
    code = main(["convert", str(tmp_path / "v1.npz"), str(tmp_path / "nopitch.npz"), "--rvc", rvc,
                 "--no-progress", "-f", "json", "-o", str(tmp_path / "out")])  # fmt: skip
    rows = json.loads(capsys.readouterr().out)
    assert code == 1 and [r["status"] for r in rows] == ["error", "error"]
    assert "(1, T, 768)" in rows[0]["error"] and "needs 'pitchf'" in rows[1]["error"]
    (tmp_path / "in.wav").write_bytes(b"")
    assert main(["convert", str(tmp_path / "in.wav"), "--rvc", rvc, "-o", "x.wav"]) == 2
    assert "needs --hubert" in capsys.readouterr().err
