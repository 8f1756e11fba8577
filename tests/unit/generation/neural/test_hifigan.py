"""HiFi-GAN V1/V2/V3 against the official reference fixtures (../shared/fixtures/generation).

Tolerance: atol 1e-4 on the audio and every stored intermediate (the official code itself
varies by < 1e-6 between thread counts; structural errors are orders of magnitude larger).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from voxlab.errors import CheckpointError, ConfigError
from voxlab.generation.neural.commons import WNConvTranspose1d
from voxlab.generation.neural.hifigan import build_hifigan, load_hifigan, mel_spectrogram

pytestmark = pytest.mark.usefixtures("one_torch_thread")

ATOL = 1e-4
CASES = ["hifigan_v1_tiny", "hifigan_v2_tiny", "hifigan_v3_tiny"]
#: Published upsample_initial_channel of each official config (README of the fixtures).
PUBLISHED = {"v1": ("1", 512), "v2": ("1", 128), "v3": ("2", 256)}


@pytest.fixture(scope="module")
def gen_dir(fixtures_dir):
    path = fixtures_dir / "generation"
    if not path.is_dir():
        pytest.skip(f"generation fixtures not found at {path}")
    return path


def run_with_intermediates(model, mel):
    """The plain path (hooks see every layer); the fast path is checked on the audio."""
    model.fast_inference = False
    outs = {}
    hooks = [model.conv_pre.register_forward_hook(lambda m, i, o: outs.update(conv_pre_out=o))]
    for n, up in enumerate(model.ups):
        hooks.append(up.register_forward_hook(lambda m, i, o, n=n: outs.update({f"ups{n}_out": o})))
    with torch.inference_mode():
        outs["audio"] = model(mel)
    for h in hooks:
        h.remove()
    model.fast_inference = True
    return outs


@pytest.mark.parametrize("case", CASES)
def test_fixture_outputs_and_intermediates(gen_dir, case):
    model = load_hifigan(gen_dir / f"{case}_g.pth", gen_dir / f"{case}.json")
    assert not model.training
    io = np.load(gen_dir / f"{case}_io.npz")
    mel = torch.from_numpy(io["mel"])
    outs = run_with_intermediates(model, mel)
    assert outs["audio"].shape == (1, 1, mel.shape[-1] * 256)
    stored = [k for k in io.files if k != "mel"]
    assert set(stored) == set(outs), "every stored array is compared"
    for key in stored:
        np.testing.assert_allclose(outs[key].numpy(), io[key], rtol=0, atol=ATOL, err_msg=key)
    with torch.inference_mode():  # channels-last inference path
        np.testing.assert_allclose(model(mel).numpy(), io["audio"], rtol=0, atol=ATOL)
    with torch.enable_grad():  # the differentiable path gives the same audio
        audio = model(mel.clone().requires_grad_(True))
    np.testing.assert_allclose(audio.detach().numpy(), io["audio"], rtol=0, atol=ATOL)


def test_weight_norm_matters_and_folding_is_exact(gen_dir):
    case = "hifigan_v1_tiny"
    io = np.load(gen_dir / f"{case}_io.npz")
    mel = torch.from_numpy(io["mel"])
    unfolded = load_hifigan(
        gen_dir / f"{case}_g.pth", gen_dir / f"{case}.json", fold_weight_norm=False
    )
    assert isinstance(unfolded.ups[0], WNConvTranspose1d) and unfolded.ups[0].weight_normed
    with torch.inference_mode():
        np.testing.assert_allclose(unfolded(mel).numpy(), io["audio"], atol=ATOL)
    # using v alone (ignoring g) is far off: the fixture's g != ||v||
    state = torch.load(gen_dir / f"{case}_g.pth", weights_only=True)["generator"]
    broken = {
        k: (
            torch.linalg.vector_norm(state[k[:-1] + "v"], dim=(1, 2), keepdim=True)
            if k.endswith("weight_g")
            else v
        )
        for k, v in state.items()
    }
    model = load_hifigan({"generator": broken}, gen_dir / f"{case}.json")
    with torch.inference_mode():
        assert np.abs(model(mel).numpy() - io["audio"]).max() > 1e-2


def test_batch_equals_items(gen_dir):
    model = load_hifigan(gen_dir / "hifigan_v2_tiny_g.pth", gen_dir / "hifigan_v2_tiny.json")
    mel = torch.from_numpy(np.load(gen_dir / "hifigan_v2_tiny_io.npz")["mel"])
    batch = torch.cat([mel, mel.flip(-1)])
    with torch.inference_mode():
        out = model(batch)
        np.testing.assert_allclose(out[0:1].numpy(), model(mel).numpy(), atol=1e-5)
        np.testing.assert_allclose(out[1:2].numpy(), model(mel.flip(-1)).numpy(), atol=1e-5)


@pytest.mark.slow
@pytest.mark.parametrize("variant", ["v1", "v2", "v3"])
def test_published_manifest_accepted(gen_dir, variant):
    manifest = json.loads((gen_dir / f"manifest_hifigan_{variant}.json").read_text())
    config = json.loads((gen_dir / f"hifigan_{variant}_tiny.json").read_text())
    resblock, channels = PUBLISHED[variant]
    assert config["resblock"] == resblock
    config["upsample_initial_channel"] = channels
    model = build_hifigan(config)
    own = {
        k: [list(v.shape), str(v.dtype).replace("torch.", "")]
        for k, v in model.state_dict().items()
    }
    assert list(own) == list(manifest)  # names and state-dict order
    assert own == manifest
    state = {k: torch.ones(shape) for k, (shape, _) in manifest.items()}
    loaded = load_hifigan({"generator": state}, config)
    assert loaded(torch.zeros(1, 80, 2)).shape == (1, 1, 512)


def test_parametrizations_keys_and_folded_files_load(gen_dir, tmp_path):
    case = "hifigan_v3_tiny"
    io = np.load(gen_dir / f"{case}_io.npz")
    state = torch.load(gen_dir / f"{case}_g.pth", weights_only=True)["generator"]
    renamed = {
        k.replace(".weight_g", ".parametrizations.weight.original0").replace(
            ".weight_v", ".parametrizations.weight.original1"
        ): v
        for k, v in state.items()
    }
    model = load_hifigan({"generator": renamed}, gen_dir / f"{case}.json")
    folded_path = tmp_path / "g_folded.pth"
    torch.save(model.state_dict(), folded_path)  # plain state dict, no weight norm
    again = load_hifigan(folded_path, gen_dir / f"{case}.json")
    with torch.inference_mode():
        np.testing.assert_allclose(
            again(torch.from_numpy(io["mel"])).numpy(), io["audio"], atol=ATOL
        )


def test_mismatched_checkpoint_refused(gen_dir):
    with pytest.raises(
        CheckpointError,
        match=r"hifigan_v1_tiny_g\.pth does not match.*"
        r"hifigan_v2_tiny\.json.*shape keys",
    ):
        load_hifigan(gen_dir / "hifigan_v1_tiny_g.pth", gen_dir / "hifigan_v2_tiny.json")
    with pytest.raises(CheckpointError, match="missing keys"):
        load_hifigan(gen_dir / "hifigan_v1_tiny_g.pth", gen_dir / "hifigan_v3_tiny.json")


def test_unsafe_and_corrupt_files_refused(gen_dir, tmp_path):
    class Payload:
        def __reduce__(self):
            return (print, ("pwned",))

    unsafe = tmp_path / "g_00000001"
    torch.save({"generator": {"x": Payload()}}, unsafe)
    with pytest.raises(CheckpointError, match=r"refusing to load .*g_00000001"):
        load_hifigan(unsafe, gen_dir / "hifigan_v1_tiny.json")
    corrupt = tmp_path / "g_00000002"
    corrupt.write_bytes(b"not a checkpoint at all")
    with pytest.raises(CheckpointError, match="corrupt"):
        load_hifigan(corrupt, gen_dir / "hifigan_v1_tiny.json")
    with pytest.raises(CheckpointError, match="not found"):
        load_hifigan(tmp_path / "missing", gen_dir / "hifigan_v1_tiny.json")
    disc = tmp_path / "do_00000001"
    torch.save({"mpd": {"a": torch.zeros(1)}, "msd": {"b": torch.zeros(1)}}, disc)
    with pytest.raises(CheckpointError, match="discriminator"):
        load_hifigan(disc, gen_dir / "hifigan_v1_tiny.json")


def test_bad_config_refused(gen_dir, tmp_path):
    with pytest.raises(ConfigError, match="config not found"):
        load_hifigan(gen_dir / "hifigan_v1_tiny_g.pth", tmp_path / "nope.json")
    bad = tmp_path / "config.json"
    bad.write_text('{"resblock": "1"}')
    with pytest.raises(ConfigError, match="upsample_rates"):
        load_hifigan(gen_dir / "hifigan_v1_tiny_g.pth", bad)


@pytest.mark.slow  # librosa's import dominates
def test_mel_analysis_matches_librosa_stft():
    librosa = pytest.importorskip("librosa")
    rng = np.random.default_rng(0)
    audio = (
        0.3 * np.sin(2 * np.pi * 220 * np.arange(22050) / 22050) + 0.01 * rng.standard_normal(22050)
    ).astype(np.float32)
    mel = mel_spectrogram(torch.from_numpy(audio))
    assert mel.shape == (1, 80, 22050 // 256)
    padded = np.pad(audio, (384, 384), mode="reflect")
    spec = np.abs(
        librosa.stft(
            padded, n_fft=1024, hop_length=256, win_length=1024, window="hann", center=False
        )
    )
    fb = librosa.filters.mel(sr=22050, n_fft=1024, n_mels=80, fmin=0, fmax=8000)
    ref = np.log(np.maximum(fb @ np.sqrt(spec**2 + 1e-9), 1e-5))
    np.testing.assert_allclose(mel[0].numpy(), ref, atol=2e-3)


@pytest.mark.slow
def test_onnx_export_equals_eager(gen_dir, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    import warnings

    model = load_hifigan(gen_dir / "hifigan_v3_tiny_g.pth", gen_dir / "hifigan_v3_tiny.json")
    io = np.load(gen_dir / "hifigan_v3_tiny_io.npz")
    path = tmp_path / "hifigan.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model,
            (torch.from_numpy(io["mel"]),),
            str(path),
            dynamo=False,
            input_names=["mel"],
            output_names=["audio"],
            dynamic_axes={"mel": {0: "batch", 2: "frames"}, "audio": {0: "batch", 2: "samples"}},
        )
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(session.run(None, {"mel": io["mel"]})[0], io["audio"], atol=ATOL)
    short = io["mel"][:, :, :11]
    with torch.inference_mode():
        eager = model(torch.from_numpy(short)).numpy()
    np.testing.assert_allclose(session.run(None, {"mel": short})[0], eager, atol=1e-5)
