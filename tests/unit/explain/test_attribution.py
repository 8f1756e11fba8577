"""Integrated gradients (completeness) and Grad-CAM (peaks where the evidence is)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch
from torch import nn

from voxlab.errors import ConfigError
from voxlab.explain import explain, grad_cam, integrated_gradients, project_cam, spectrogram

SR = 16_000


class SegmentEnergyDetector(nn.Module):
    """Spoof margin = 50 * energy of samples 6000..8000 (the known evidence)."""

    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.tensor(50.0))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        m = self.w * x[:, 6000:8000].pow(2).sum(dim=1)
        return torch.stack([m / 2, -m / 2], dim=1)


class PatchMapDetector(nn.Module):
    """A 2-D "encoder" whose evidence is a known time-frequency patch.

    The encoder output has two channels: the STFT magnitude inside the patch (rows 40..80
    of 257 bins, frames 20..40) and outside it; the spoof margin rewards the first and
    penalises the second, so Grad-CAM must light up the patch only.
    """

    def __init__(self) -> None:
        super().__init__()
        self.encoder = nn.Identity()
        self.w = nn.Parameter(torch.tensor([1.0, -0.2]))
        self.cam_layer = SimpleNamespace(module=self.encoder, freq_axis=2, time_axis=3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        win = torch.hann_window(400)
        mag = torch.stft(x, 512, 160, 400, win, return_complex=True).abs()  # (B, F, T)
        mask = torch.zeros_like(mag)
        mask[:, 40:80, 20:40] = 1
        maps = self.encoder(torch.stack([mag * mask, mag * (1 - mask)], dim=1))
        margin = (self.w[None, :] * maps.mean(dim=(2, 3))).sum(dim=1)
        return torch.stack([margin / 2, -margin / 2], dim=1)


def _noise(n=12_000, seed=0):
    return (0.1 * np.random.default_rng(seed).standard_normal(n)).astype(np.float32)


def test_integrated_gradients_completeness_and_location():
    x = _noise()
    attr = integrated_gradients(SegmentEnergyDetector(), x, steps=64)
    # completeness: sum of attributions = m(x) - m(0); midpoint rule on a quadratic path
    # integrand is exact up to float32 rounding
    assert attr.completeness_error < 1e-4
    assert attr.values.sum() == pytest.approx(attr.margin - attr.baseline_margin, rel=1e-4)
    assert np.abs(attr.values[:6000]).max() == 0 and np.abs(attr.values[8000:]).max() == 0
    assert attr.baseline_margin == 0


def test_integrated_gradients_few_steps_on_a_nonlinear_model_reports_the_error():
    class Cubic(nn.Module):
        def forward(self, x):
            m = 1e3 * x[:, :100].pow(3).sum(dim=1) + x.sum(dim=1)
            return torch.stack([m, torch.zeros_like(m)], dim=1)

    x = np.full(200, 0.5, dtype=np.float32)
    coarse = integrated_gradients(Cubic(), x, steps=1)
    fine = integrated_gradients(Cubic(), x, steps=64)
    assert coarse.completeness_error > 0.1 > 1e-3 > fine.completeness_error


def test_grad_cam_peaks_on_the_known_patch():
    model = PatchMapDetector()
    x = _noise(16_000, seed=3)
    cam, _margin, layers = grad_cam(model, x)
    assert cam.shape == (257, 101) and layers[0].module is model.encoder
    assert cam.max() == pytest.approx(1.0)
    inside = cam[40:80, 20:40].sum()
    assert inside / cam.sum() > 0.99
    f, t = np.unravel_index(cam.argmax(), cam.shape)
    assert 40 <= f < 80 and 20 <= t < 40


def test_project_cam_uses_band_edges_and_spreads_time():
    cam = np.array([[1.0, 0.0], [0.0, 2.0]])
    freqs = np.array([0.0, 500.0, 1500.0, 3000.0])
    grid = project_cam(cam, freqs=freqs, n_frames=4, band_edges=np.array([0.0, 1000.0, 8000.0]))
    assert grid.shape == (4, 4)
    assert grid[:2].tolist() == [[1, 1, 0, 0]] * 2 and grid[2:].tolist() == [[0, 0, 2, 2]] * 2
    one_row = project_cam(np.array([[0.0, 3.0]]), freqs=freqs, n_frames=2, band_edges=None)
    assert one_row.tolist() == [[0.0, 3.0]] * 4


def test_explain_puts_ig_mass_in_the_evidence_segment(tmp_path):
    x = _noise()
    expl = explain(SegmentEnergyDetector(), x, methods=("ig",), ig_steps=16)
    assert expl.mass_inside(6000 / SR, 8000 / SR) > 0.95
    assert expl.ig_tf.shape == expl.spectrogram_db.shape
    path = expl.save_npz(tmp_path / "e.npz")
    with np.load(path) as data:
        assert data["ig"].shape == x.shape and "info" in data


def test_gradcam_refuses_unknown_architectures():
    with pytest.raises(ConfigError, match="--method ig"):
        explain(SegmentEnergyDetector(), _noise(), methods=("gradcam",))
    with pytest.raises(ConfigError, match="unknown explain method"):
        explain(SegmentEnergyDetector(), _noise(), methods=("lime",))


def test_spectrogram_grid():
    mag, freqs, times = spectrogram(_noise(16_000), SR)
    assert mag.shape == (257, 101) and freqs[-1] == 8000 and times[1] == pytest.approx(0.01)
