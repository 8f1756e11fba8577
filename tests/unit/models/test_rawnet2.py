"""Tests of the RawNet2 baseline (ASVspoof 2021 B04)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from voxlab.errors import AudioError, ConfigError
from voxlab.models.detectors.rawnet2 import (
    RawNet2,
    RawNet2Config,
    mel_sinc_filters,
)
from voxlab.models.registry import available_models, build_model, get_spec

pytestmark = pytest.mark.usefixtures("one_torch_thread")

TINY = {
    "sinc_filters": 8,
    "sinc_kernel_size": 64,
    "block_channels": (8, 16),
    "blocks": (1, 2),
    "gru_node": 16,
    "nb_gru_layer": 1,
    "nb_fc_node": 16,
}


def _calibrate_batchnorm(model: nn.Module, x: torch.Tensor) -> None:
    """Set BatchNorm running statistics from one batch so eval mode is not trivial."""
    momenta = {}
    for name, mod in model.named_modules():
        if isinstance(mod, nn.modules.batchnorm._BatchNorm):
            momenta[name] = mod.momentum
            mod.momentum = None  # cumulative average: one batch sets the statistics
            mod.reset_running_stats()
    model.train()
    with torch.no_grad():
        model(x)
    for name, mod in model.named_modules():
        if name in momenta:
            mod.momentum = momenta[name]
    model.eval()


def _two_class_batch(n: int, length: int, *, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Bona fide (label 1): 300 Hz tone + noise; spoof (label 0): 3 kHz tone + noise."""
    g = torch.Generator().manual_seed(seed)
    t = torch.arange(length) / 16000.0
    labels = torch.tensor([i % 2 for i in range(n)])
    rows = []
    for label in labels.tolist():
        freq = 300.0 if label == 1 else 3000.0
        phase = float(torch.rand(1, generator=g)) * 2 * math.pi
        noise = 0.05 * torch.randn(length, generator=g)
        rows.append(0.5 * torch.sin(2 * math.pi * freq * t + phase) + noise)
    return torch.stack(rows), labels


def test_registered_with_official_defaults() -> None:
    assert "rawnet2" in available_models()
    spec = get_spec("rawnet2")
    cfg = spec.default_config
    # model_config_RawNet.yaml of the official baseline
    assert cfg.nb_samp == 64600
    assert cfg.sinc_filters == 20
    assert cfg.kernel_taps == 1025
    assert cfg.block_channels == (20, 128)
    assert cfg.gru_node == 1024 and cfg.nb_gru_layer == 3 and cfg.nb_fc_node == 1024


def test_official_keys_and_parameter_count() -> None:
    model = build_model("rawnet2")
    keys = set(model.state_dict())
    bn = ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")
    expected = {f"first_bn.{k}" for k in bn} | {f"bn_before_gru.{k}" for k in bn}
    for i in range(6):
        blk = f"block{i}.0"
        for conv in ("conv1", "conv2"):
            expected |= {f"{blk}.{conv}.weight", f"{blk}.{conv}.bias"}
        expected |= {f"{blk}.bn2.{k}" for k in bn}
        if i > 0:
            expected |= {f"{blk}.bn1.{k}" for k in bn}
        expected |= {f"fc_attention{i}.0.weight", f"fc_attention{i}.0.bias"}
    expected |= {"block2.0.conv_downsample.weight", "block2.0.conv_downsample.bias"}
    for layer in range(3):
        for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            expected.add(f"gru.{kind}_l{layer}")
    expected |= {"fc1_gru.weight", "fc1_gru.bias", "fc2_gru.weight", "fc2_gru.bias"}
    assert keys == expected

    # Parameter count of the official definition, layer by layer.
    conv = lambda cin, cout, k: cin * cout * k + cout  # noqa: E731
    lin = lambda fin, fout: fin * fout + fout  # noqa: E731
    gru = 3 * (1024 * 128 + 1024 * 1024 + 2 * 1024) + 2 * 3 * (2 * 1024 * 1024 + 2 * 1024)
    official = (
        2 * 20  # first_bn
        + (conv(20, 20, 3) + 2 * 20 + conv(20, 20, 3))  # block0 (no bn1)
        + (2 * 20 + conv(20, 20, 3) + 2 * 20 + conv(20, 20, 3))  # block1
        + (2 * 20 + conv(20, 128, 3) + 2 * 128 + conv(128, 128, 3) + conv(20, 128, 1))
        + 3 * (2 * 128 + conv(128, 128, 3) + 2 * 128 + conv(128, 128, 3))  # blocks 3-5
        + 2 * lin(20, 20)
        + 4 * lin(128, 128)
        + 2 * 128  # bn_before_gru
        + gru
        + lin(1024, 1024)
        + lin(1024, 2)
    )
    assert sum(p.numel() for p in model.parameters()) == official == 17_621_410


def test_sinc_filters_match_definition() -> None:
    filters = mel_sinc_filters(n_filters=20, kernel_size=1024, sample_rate=16000)
    assert filters.shape == (20, 1, 1025)
    taps = filters[:, 0].double().numpy()
    np.testing.assert_allclose(taps, taps[:, ::-1], atol=1e-7)  # symmetric (linear phase)
    # First band: 0 Hz to the first mel edge; centre tap = 2 * (f_high - f_low) / fs.
    mel_max = 2595 * np.log10(1 + 8000 / 700)
    edge1 = 700 * (10 ** (mel_max / 20 / 2595) - 1)
    assert taps[0, 512] == pytest.approx(2 * edge1 / 16000, rel=1e-6)
    # Frequency responses: each filter passes its own band, the last one reaches Nyquist.
    resp = np.abs(np.fft.rfft(taps, n=8192, axis=1))
    peak_hz = resp.argmax(axis=1) * 16000 / 8192
    assert np.all(np.diff(peak_hz) > 0)
    assert peak_hz[-1] > 6000


def test_filters_are_fixed_and_not_saved() -> None:
    model = RawNet2(RawNet2Config(**TINY))
    names = [n for n, _ in model.named_parameters()]
    assert not any(n.startswith("Sinc_conv") for n in names)
    assert not any(k.startswith("Sinc_conv") for k in model.state_dict())


def test_output_shape_default_config() -> None:
    torch.manual_seed(0)
    model = build_model("rawnet2").eval()
    with torch.no_grad():
        out = model(0.1 * torch.randn(2, 64600))
    assert out.shape == (2, 2)
    assert torch.isfinite(out).all()
    # log-softmax outputs (official): probabilities sum to one
    torch.testing.assert_close(out.exp().sum(dim=1), torch.ones(2), atol=1e-6, rtol=0)


def test_log_softmax_equals_raw_logits_normalised() -> None:
    torch.manual_seed(1)
    raw = RawNet2(RawNet2Config(**TINY, log_softmax=False))
    logp = RawNet2(RawNet2Config(**TINY))
    logp.load_state_dict(raw.state_dict())
    x, _ = _two_class_batch(4, 3000, seed=1)
    _calibrate_batchnorm(raw, x)
    logp.load_state_dict(raw.state_dict())
    logp.eval()
    with torch.no_grad():
        torch.testing.assert_close(logp(x), torch.log_softmax(raw(x), dim=1))


def test_batch_equals_item_by_item() -> None:
    torch.manual_seed(2)
    model = RawNet2(RawNet2Config(**TINY))
    x, _ = _two_class_batch(4, 3000, seed=2)
    _calibrate_batchnorm(model, x)
    with torch.no_grad():
        batch = model(x)
        items = torch.cat([model(x[i : i + 1]) for i in range(4)])
    assert batch.shape == (4, 2)
    assert (batch[:, 1] - batch[:, 1].mean()).abs().max() > 1e-4  # outputs differ per item
    torch.testing.assert_close(batch, items, atol=1e-5, rtol=0)


def test_accepts_channel_dim_and_rejects_short_input() -> None:
    model = RawNet2(RawNet2Config(**TINY)).eval()
    x, _ = _two_class_batch(2, 3000, seed=3)
    with torch.no_grad():
        torch.testing.assert_close(model(x), model(x.unsqueeze(1)))
    too_short = model.config.min_samples - 1
    with pytest.raises(AudioError, match="at least"):
        model(torch.zeros(1, too_short))
    with torch.no_grad():
        assert model(torch.zeros(1, too_short + 1)).shape == (1, 2)
    with pytest.raises(AudioError, match="batch"):
        model(torch.zeros(3000))


def test_gradients_flow_to_every_trainable_parameter() -> None:
    torch.manual_seed(4)
    model = RawNet2(RawNet2Config(**TINY)).train()
    x, y = _two_class_batch(4, 3000, seed=4)
    nn.functional.cross_entropy(model(x), y).backward()
    for name, p in model.named_parameters():
        if p.requires_grad:
            assert p.grad is not None, name
            assert torch.isfinite(p.grad).all(), name
            assert p.grad.abs().sum() > 0, name
        else:  # only the official, output-irrelevant bn1 layers are frozen
            assert ".bn1." in name


def test_tiny_model_overfits_tiny_batch() -> None:
    torch.manual_seed(5)
    model = RawNet2(RawNet2Config(**TINY)).train()
    x, y = _two_class_batch(8, 3000, seed=5)
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=3e-3)
    losses = []
    for _ in range(20):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.05 < 0.3 < losses[0]
    model.eval()  # running statistics are still converging: check decisions only
    with torch.no_grad():
        assert torch.equal(model(x).argmax(dim=1), y)


@pytest.mark.parametrize(
    ("field", "value"),
    [("sinc_filters", 0), ("blocks", (1,)), ("block_channels", (8, -1)), ("gru_node", 1.5)],
)
def test_bad_config_raises(field: str, value: object) -> None:
    with pytest.raises(ConfigError, match=field):
        RawNet2Config(**{field: value})
