"""Tests of the LFCC-LCNN baseline (ASVspoof 2021 B03)."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from voxlab.errors import AudioError, CheckpointError, ConfigError
from voxlab.features.functional import LFCC_PRESETS, lfcc
from voxlab.models.detectors.lcnn import (
    LCNN,
    LCNNConfig,
    MaxFeatureMap2D,
    convert_official_lcnn_state_dict,
)
from voxlab.models.registry import available_models, build_model, get_spec

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _calibrate_batchnorm(model: nn.Module, x: torch.Tensor) -> None:
    """Set BatchNorm running statistics from one batch so eval mode is not trivial."""
    for mod in model.modules():
        if isinstance(mod, nn.modules.batchnorm._BatchNorm):
            mod.momentum = None
            mod.reset_running_stats()
    model.train()
    with torch.no_grad():
        model(x)
    for mod in model.modules():
        if isinstance(mod, nn.modules.batchnorm._BatchNorm):
            mod.momentum = 0.1
    model.eval()


def _two_class_batch(n: int, length: int, *, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Bona fide (label 1): 500 Hz tone + noise; spoof (label 0): 2.5 kHz tone + noise."""
    g = torch.Generator().manual_seed(seed)
    t = torch.arange(length) / 16000.0
    labels = torch.tensor([i % 2 for i in range(n)])
    rows = []
    for label in labels.tolist():
        freq = 500.0 if label == 1 else 2500.0
        phase = float(torch.rand(1, generator=g)) * 2 * math.pi
        rows.append(
            0.3 * torch.sin(2 * math.pi * freq * t + phase)
            + 0.02 * torch.randn(length, generator=g)
        )
    return torch.stack(rows), labels


def test_registered_with_official_front_end() -> None:
    assert "lfcc-lcnn" in available_models()
    cfg = get_spec("lfcc-lcnn").default_config
    assert cfg.lfcc_preset == "asvspoof2021_la_lcnn"
    assert cfg.feature_dim == 60
    assert cfg.dropout == 0.7
    preset = LFCC_PRESETS[cfg.lfcc_preset]
    # model.py of the baseline: frame 320, hop 160, FFT 1024, 20 LFCC + energy + deltas,
    # band limited to half the Nyquist range.
    assert (preset["win_length"], preset["hop_length"], preset["n_fft"]) == (320, 160, 1024)
    assert preset["n_lfcc"] == 20 and preset["with_energy"] and preset["with_deltas"]
    assert preset["fmax"] == 4000.0


def test_parameter_count_matches_official_layers() -> None:
    model = build_model("lfcc-lcnn")

    def conv(cin: int, cout: int, k: int) -> int:
        return cin * cout * k * k + cout

    convs = (
        conv(1, 64, 5) + conv(32, 64, 1) + conv(32, 96, 3) + conv(48, 96, 1) + conv(48, 128, 3)
        + conv(64, 128, 1) + conv(64, 64, 3) + conv(32, 64, 1) + conv(32, 64, 3)
    )  # fmt: skip
    hidden = (60 // 16) * 32  # 96
    per_direction = 4 * (hidden // 2) * (hidden + hidden // 2) + 2 * 4 * (hidden // 2)
    blstm = 2 * 2 * per_direction
    assert sum(p.numel() for p in model.parameters()) == convs + blstm + hidden + 1 == 269_729
    # Affine-free batch norms: statistics only.
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    assert len(bns) == 6 and all(not bn.affine for bn in bns)


def test_official_state_dict_loads_through_adapter() -> None:
    model = build_model("lfcc-lcnn")
    official: dict[str, torch.Tensor] = {
        "input_mean": torch.zeros(1),
        "input_std": torch.ones(1),
        "output_mean": torch.zeros(1),
        "output_std": torch.ones(1),
        "m_frontend.0.lfcc_fb": torch.zeros(513, 20),
        "m_frontend.0.l_dct.weight": torch.zeros(20, 20),
    }
    for key, value in model.state_dict().items():
        head, rest = key.split(".", 1)
        official[f"{head}.0.{rest}"] = torch.randn_like(value.float()).to(value.dtype)
    assert "m_transform.0.0.weight" in official  # first 5x5 conv, official naming
    assert "m_before_pooling.0.1.l_blstm.weight_hh_l0_reverse" in official
    assert "m_output_act.0.bias" in official
    converted = convert_official_lcnn_state_dict(official)
    model.load_state_dict(converted, strict=True)
    torch.testing.assert_close(model.m_transform[0].weight, official["m_transform.0.0.weight"])
    torch.testing.assert_close(model.m_output_act.bias, official["m_output_act.0.bias"])

    with pytest.raises(CheckpointError, match="second front-end"):
        convert_official_lcnn_state_dict({"m_transform.1.0.weight": torch.zeros(1)})


def test_max_feature_map() -> None:
    x = torch.tensor([[[[1.0]], [[5.0]], [[4.0]], [[2.0]]]])  # channels 1,5 | 4,2
    assert MaxFeatureMap2D()(x).flatten().tolist() == [4.0, 5.0]
    with pytest.raises(ConfigError, match="even"):
        MaxFeatureMap2D()(torch.zeros(1, 3, 2, 2))


def test_shapes_and_logit_mapping() -> None:
    torch.manual_seed(0)
    model = build_model("lfcc-lcnn").eval()
    x = 0.1 * torch.randn(2, 64600)
    with torch.no_grad():
        feats = model.features(x)
        out = model(x)
        score = model.score_features(feats)
    assert feats.shape == (2, 1 + 64600 // 160, 60)
    expected = lfcc(x, sample_rate=16000, **LFCC_PRESETS["asvspoof2021_la_lcnn"]).transpose(1, 2)
    torch.testing.assert_close(feats, expected)
    assert out.shape == (2, 2)
    assert torch.equal(out[:, 0], torch.zeros(2))
    torch.testing.assert_close(out[:, 1], score)


def test_cross_entropy_equals_official_bce() -> None:
    torch.manual_seed(1)
    model = LCNN(LCNNConfig(dropout=0.0)).eval()
    x, y = _two_class_batch(4, 8000, seed=1)
    _calibrate_batchnorm(model, x)
    with torch.no_grad():
        logits = model(x)
        s = logits[:, 1]
    ce = nn.functional.cross_entropy(logits, y)
    bce = nn.functional.binary_cross_entropy(torch.sigmoid(s), y.float())
    torch.testing.assert_close(ce, bce, atol=1e-6, rtol=1e-6)
    torch.testing.assert_close(torch.softmax(logits, dim=1)[:, 1], torch.sigmoid(s))


def test_batch_equals_item_by_item() -> None:
    torch.manual_seed(2)
    model = build_model("lfcc-lcnn")
    x, _ = _two_class_batch(4, 8000, seed=2)
    _calibrate_batchnorm(model, x)
    with torch.no_grad():
        batch = model(x)
        items = torch.cat([model(x[i : i + 1]) for i in range(4)])
    assert (batch[:, 1] - batch[:, 1].mean()).abs().max() > 1e-4  # outputs differ per item
    torch.testing.assert_close(batch, items, atol=1e-5, rtol=0)


def test_input_checks() -> None:
    model = build_model("lfcc-lcnn").eval()
    with torch.no_grad():
        assert model(torch.zeros(1, 1, 2400)).shape == (1, 2)  # 16 frames: the minimum
    with pytest.raises(AudioError, match="16 feature frames"):
        model(torch.zeros(1, 2399))
    with pytest.raises(AudioError, match="batch"):
        model(torch.zeros(2400))
    with pytest.raises(ConfigError, match="lfcc_preset"):
        LCNNConfig(lfcc_preset="nope")
    with pytest.raises(ConfigError, match="dropout"):
        LCNNConfig(dropout=1.0)


def test_gradients_flow_to_every_parameter() -> None:
    torch.manual_seed(3)
    model = build_model("lfcc-lcnn").train()
    x, y = _two_class_batch(4, 8000, seed=3)  # 3 BLSTM steps
    nn.functional.cross_entropy(model(x), y).backward()
    for name, p in model.named_parameters():
        assert p.grad is not None, name
        assert torch.isfinite(p.grad).all(), name
        assert p.grad.abs().sum() > 0, name


def test_overfits_tiny_batch() -> None:
    torch.manual_seed(4)
    model = LCNN(LCNNConfig(dropout=0.0)).train()
    x, y = _two_class_batch(8, 4000, seed=4)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(20):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.05 < 0.5 < losses[0]
    model.eval()  # running statistics are still converging: check decisions only
    with torch.no_grad():
        assert torch.equal(model(x).argmax(dim=1), y)
