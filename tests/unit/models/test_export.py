"""ONNX export: onnxruntime reproduces PyTorch (1e-4), dynamic time for AASIST, fixed for RawGAT."""

from __future__ import annotations

import numpy as np
import pytest
import torch

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from voxlab.errors import ConfigError
from voxlab.models.checkpoints import load_checkpoint_into
from voxlab.models.detectors.rawgat_st import RawGATSTConfig
from voxlab.models.export import export_onnx, run_onnx
from voxlab.models.fast import optimize_for_inference
from voxlab.models.registry import build_model

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def aasist_onnx(tmp_path_factory, fixtures_dir):
    model = load_checkpoint_into(
        build_model("aasist").eval(), fixtures_dir / "pretrained" / "aasist.pth"
    )
    return model, export_onnx(model, tmp_path_factory.mktemp("onnx") / "aasist.onnx")


def test_aasist_dynamic_time_matches_pytorch(aasist_onnx, fixtures_dir):
    import onnx

    model, path = aasist_onnx
    meta = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    assert meta["logits_order"] == "spoof,bonafide" and meta["fixed_length"] == ""
    inputs = np.load(fixtures_dir / "parity" / "inputs.npy")
    expected = np.load(fixtures_dir / "parity" / "expected_aasist.npy")
    for batch in (inputs[4:5], inputs[:2, :30001]):  # two lengths, two batch sizes
        out = run_onnx(path, batch, threads=1)
        with torch.inference_mode():
            ref = model(torch.from_numpy(batch)).numpy()
        np.testing.assert_allclose(out, ref, atol=1e-4, rtol=0)
    np.testing.assert_allclose(run_onnx(path, inputs[4:5]), expected[4:5], atol=1e-4, rtol=0)


@pytest.mark.slow
def test_aasist_onnx_full_length_reference(aasist_onnx, fixtures_dir):
    _, path = aasist_onnx
    for item in ("de_tiny", "enus_long"):
        wave = np.load(fixtures_dir / "parity" / f"fulllength_{item}.npy")
        ref = np.load(fixtures_dir / "parity" / f"fulllength_{item}_expected_aasist.npy")
        np.testing.assert_allclose(run_onnx(path, wave), ref.reshape(1, 2), atol=1e-4, rtol=0)


def test_rawgat_exports_fixed_length(tmp_path):
    torch.manual_seed(0)
    cfg = RawGATSTConfig(
        n_filters=12,
        sinc_kernel_size=32,
        num_samples=3000,
        encoder_channels=(4, 8, 8),
        gat_dim=8,
        fused_gat_dim=8,
        fused_nodes=6,
    )
    model = build_model("rawgat-st", **{k: getattr(cfg, k) for k in cfg.__dataclass_fields__})
    model.train()
    with torch.no_grad():
        model(torch.randn(4, 3000) * 0.1)
    model.eval()
    with pytest.warns(UserWarning, match="exactly 3000 samples"):
        path = export_onnx(model, tmp_path / "rawgat.onnx", dynamic_time=True)
    x = np.random.default_rng(0).standard_normal((2, 3000)).astype(np.float32) * 0.1
    with torch.no_grad():
        ref = model(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(run_onnx(path, x), ref, atol=1e-4, rtol=0)
    with pytest.raises(Exception, match=r"(?i)dimension|shape|index"):
        run_onnx(path, x[:, :2999])


def test_optimized_model_is_refused(tmp_path):
    model = build_model("aasist", n_filters=12, encoder_channels=(4, 8), gat_dims=(8, 8)).eval()
    with pytest.raises(ConfigError, match="plain model"):
        export_onnx(optimize_for_inference(model), tmp_path / "x.onnx")
    assert model.training is False
