"""FGSM/PGD: the target loss goes down, the L-infinity bound and the SNR budget hold."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from voxlab.adversarial import epsilon_for_snr, fgsm, model_input, perturbation_snr, pgd
from voxlab.adversarial.attacks import target_index
from voxlab.errors import ConfigError


class ToyDetector(nn.Module):
    """Logits ``[a, -a]`` with ``a`` a fixed random projection of the waveform."""

    default_policy = "full"

    def __init__(self, n: int = 4000, seed: int = 0) -> None:
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        self.proj = nn.Linear(n, 1)
        with torch.no_grad():
            self.proj.weight.copy_(torch.randn(1, n, generator=gen) / math.sqrt(n))
            self.proj.bias.fill_(0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = torch.tanh(self.proj(x)) * 4
        return torch.cat([a, -a], dim=1)


def _wave(n: int = 4000, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n) / 16000
    return (0.3 * np.sin(2 * np.pi * 220 * t) + 0.05 * rng.standard_normal(n)).astype(np.float32)


def test_epsilon_gives_the_stated_snr_for_a_full_scale_sign_perturbation():
    x = _wave()
    eps = epsilon_for_snr(x, 30.0)
    worst = x + eps * np.sign(np.random.default_rng(0).standard_normal(x.size))
    assert perturbation_snr(x, worst) == pytest.approx(30.0, abs=1e-3)
    assert epsilon_for_snr(x, 50.0) < eps


def test_silent_signal_has_no_budget():
    with pytest.raises(ConfigError, match="silent"):
        epsilon_for_snr(np.zeros(100), 40)


def test_target_names():
    assert target_index("bonafide") == 1 and target_index("spoof") == 0
    with pytest.raises(ConfigError, match="target"):
        target_index("human")


@pytest.mark.parametrize("target", ["bonafide", "spoof"])
@pytest.mark.parametrize("snr", [40.0, 25.0])
def test_pgd_lowers_the_target_loss_within_the_ball(target, snr):
    model = ToyDetector()
    x = _wave()
    result = pgd(model, x, target=target, snr_db=snr, steps=8)
    eps = epsilon_for_snr(x, snr)
    assert np.max(np.abs(result.adversarial - x)) <= eps * (1 + 1e-5)
    assert result.measured_snr_db >= snr - 1e-6
    idx = target_index(target)

    def loss(logits):
        lg = torch.tensor([logits])
        return nn.functional.cross_entropy(lg, torch.tensor([idx])).item()

    assert loss(result.logits_after) < loss(result.logits_before)
    assert result.losses[-1] <= result.losses[0] + 1e-6


def test_pgd_beats_fgsm_or_ties_and_both_respect_the_budget():
    model = ToyDetector()
    x = _wave()
    f = fgsm(model, x, target="bonafide", snr_db=35)
    p = pgd(model, x, target="bonafide", snr_db=35, steps=20, random_start=False)
    for r in (f, p):
        assert np.max(np.abs(r.adversarial - x)) <= r.epsilon * (1 + 1e-5)
    assert p.logits_after[1] - p.logits_after[0] >= f.logits_after[1] - f.logits_after[0] - 1e-4
    assert p.logits_after[1] > p.logits_before[1]


def test_official_policy_tiles_and_gradients_reach_every_copy():
    x = torch.arange(5, dtype=torch.float32, requires_grad=True)
    y = model_input(x, policy="official", length=12)
    assert y.shape == (1, 12)
    assert torch.equal(y[0, 5:10], x.detach())
    y.sum().backward()
    assert x.grad.tolist() == [3.0, 3.0, 2.0, 2.0, 2.0]


def test_attack_refuses_a_stereo_array():
    with pytest.raises(ConfigError, match="mono"):
        pgd(ToyDetector(), np.zeros((2, 4000), dtype=np.float32), snr_db=40)
