"""XLSR-SLS and SSL + pooling: layouts, real-size manifest, the SLS head against its spec.

There is no numeric fixture for XLSR-SLS (its fc1 alone is 94 MB). The head is checked
against a computation written from the published description (fixtures README, "Optional:
XLS-R + SLS") fed with the fixture's official per-layer outputs (fairseq ``layer_results``,
before the final LayerNorm); tolerance atol 1e-5.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F

pytest.importorskip("transformers")

from voxlab.detection import Detector
from voxlab.errors import CheckpointError, ConfigError
from voxlab.models.detectors.ssl_pool import SSLPool, SSLPoolConfig
from voxlab.models.detectors.xlsr_sls import XLSRSLS, XLSRSLSConfig
from voxlab.models.registry import build_model
from voxlab.models.ssl.config import load_frontend_config
from voxlab.models.ssl.loading import load_ssl_checkpoint, plan_ssl_checkpoint

pytestmark = pytest.mark.usefixtures("one_torch_thread")
ATOL = 1e-5


@pytest.fixture(scope="module")
def ssl_dir(fixtures_dir):
    return fixtures_dir / "ssl"


@pytest.fixture(scope="module")
def tiny_io(ssl_dir):
    return np.load(ssl_dir / "tiny_io.npz")


@pytest.fixture(scope="module")
def sls_official(ssl_dir):
    """The tiny front end plus a random SLS head, in the official DataParallel layout."""
    tiny = torch.load(ssl_dir / "tiny_official_layout.pth", weights_only=True)
    g = torch.Generator().manual_seed(0)
    head = {
        "first_bn.weight": torch.tensor([1.3]),
        "first_bn.bias": torch.tensor([0.1]),
        "first_bn.running_mean": torch.tensor([0.05]),
        "first_bn.running_var": torch.tensor([0.8]),
        "first_bn.num_batches_tracked": torch.tensor(7),
        "fc0.weight": torch.randn(1, 64, generator=g) * 0.3,
        "fc0.bias": torch.randn(1, generator=g),
        "fc1.weight": torch.randn(16, 67 * 21, generator=g) * 0.05,
        "fc1.bias": torch.randn(16, generator=g) * 0.1,
        "fc3.weight": torch.randn(2, 16, generator=g) * 0.3,
        "fc3.bias": torch.randn(2, generator=g) * 0.1,
    }
    fe = {k: v for k, v in tiny.items() if k.startswith("ssl_model.")}
    return {f"module.{k}": v for k, v in {**fe, **head}.items()}, head


def _sls_reference(layers: np.ndarray, head: dict) -> torch.Tensor:
    """The SLS head as the paper's code describes it, written independently."""
    x = torch.from_numpy(layers)  # (L, B, T, H)
    weights = []
    for layer in x:
        pooled = layer.mean(dim=1)  # time average (B, H)
        weights.append(torch.sigmoid(pooled @ head["fc0.weight"].T + head["fc0.bias"]))
    fused = sum(w[:, :, None] * layer for w, layer in zip(weights, x))  # (B, T, H)
    y = (fused - head["first_bn.running_mean"]) / torch.sqrt(head["first_bn.running_var"] + 1e-5)
    y = F.selu(y * head["first_bn.weight"] + head["first_bn.bias"])
    y = F.max_pool2d(y.unsqueeze(1), 3).flatten(1)
    y = F.selu(y @ head["fc1.weight"].T + head["fc1.bias"])
    y = F.selu(y @ head["fc3.weight"].T + head["fc3.bias"])
    return torch.log_softmax(y, dim=1)


def test_sls_official_layout_matches_its_description(ssl_dir, tiny_io, sls_official):
    state, head = sls_official
    model = load_ssl_checkpoint(state, arch="xlsr-sls", ssl_config=ssl_dir / "tiny_config.json")
    assert isinstance(model, XLSRSLS) and model.config.num_frames == 201
    assert model.fixed_input_samples == 64_600
    for case in (0, 1):
        with torch.inference_mode():
            out = model(torch.from_numpy(tiny_io[f"case{case}_wav"]))
        expected = _sls_reference(tiny_io[f"case{case}_layer_outputs"], head)
        np.testing.assert_allclose(out, expected, atol=ATOL)
        np.testing.assert_allclose(out.exp().sum(1), 1.0, atol=1e-6)
    with pytest.raises(ConfigError, match="201 SSL frames"):
        model(torch.from_numpy(tiny_io["case3_wav"]))


def test_sls_detector_refuses_full_policy(ssl_dir, sls_official):
    model = load_ssl_checkpoint(
        sls_official[0], arch="xlsr-sls", ssl_config=ssl_dir / "tiny_config.json"
    )
    with pytest.raises(ConfigError, match="64600 samples"):
        Detector(model, name="xlsr-sls", policy="full")


def test_sls_real_size_manifest(ssl_dir):
    manifest = json.loads((ssl_dir / "manifest_SLS_optional.json").read_text())
    state = {
        e["key"]: torch.empty(e["shape"], dtype=getattr(torch, e["dtype"]), device="meta")
        for e in manifest["keys"]
    }
    model, mapped = plan_ssl_checkpoint(state, arch="xlsr-sls")
    assert model.config == XLSRSLSConfig()
    assert model.backend.fc1.in_features == 22_847 and len(mapped) == manifest["key_count"] - 8
    bad = dict(state)
    bad["module.fc1.weight"] = torch.empty(1024, 22_848, device="meta")
    with pytest.raises(CheckpointError, match="multiple of 341"):
        plan_ssl_checkpoint(bad, arch="xlsr-sls")
    with pytest.raises(CheckpointError, match="not an ssl-aasist checkpoint"):
        plan_ssl_checkpoint(state, arch="ssl-aasist")


@pytest.mark.parametrize("pooling", ["mean", "attentive"])
def test_ssl_pool_trains_saves_and_loads(ssl_dir, pooling, tmp_path):
    from voxlab.models.checkpoints import save_checkpoint

    config = SSLPoolConfig(
        frontend=load_frontend_config(ssl_dir / "tiny_config.json"),
        pooling=pooling,
        projection_dim=16,
    )
    torch.manual_seed(0)
    model = build_model("ssl-pool", **config.__dict__)
    assert isinstance(model, SSLPool)
    x = torch.randn(4, 6000) * 0.1
    x[2:] += 0.3 * torch.sin(torch.arange(6000) * 0.3)
    y = torch.tensor([0, 0, 1, 1])
    opt = torch.optim.Adam(model.backend.parameters(), lr=1e-2)
    model.train()
    losses = []
    for _ in range(15):
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]
    path = save_checkpoint(model, tmp_path / f"pool_{pooling}")
    again = load_ssl_checkpoint(path, arch="ssl-pool", ssl_config=config.frontend)
    assert again.config.pooling == pooling
    model.eval()
    with torch.inference_mode():
        torch.testing.assert_close(again(x), model(x))
    with pytest.raises(ConfigError, match="pooling"):
        SSLPoolConfig(pooling="max")
    # a front end given as the path of a JSON config (YAML recipes, HF config.json)
    by_path = SSLPoolConfig(frontend=str(ssl_dir / "tiny_config.json"), pooling=pooling)
    assert by_path.frontend == config.frontend
