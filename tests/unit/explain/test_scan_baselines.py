"""Scan, occlusion, IG baselines and expected gradients on models whose evidence is known."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from voxlab.errors import ConfigError
from voxlab.explain import (
    expected_gradients,
    explain,
    ig_baseline,
    mass_fraction,
    occlusion,
    window_scan,
)

SR = 16_000


class HissDetector(nn.Module):
    """Spoof margin = 40 x the mean share of high-band (> 4 kHz) energy, minus 4.

    Works on any length; a stand-in for a countermeasure that reacts to vocoder hiss.
    """

    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.tensor(40.0))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        win = torch.hann_window(400, device=x.device)
        power = torch.stft(x, 512, 160, 400, win, return_complex=True).abs().pow(2)
        share = power[:, 128:].sum(dim=1) / (power.sum(dim=1) + 1e-8)  # (B, frames)
        m = self.w * share.mean(dim=1) - 4.0
        return torch.stack([m / 2, -m / 2], dim=1)


def _spliced(seconds=5.0, seg=(2.0, 3.0), seed=0):
    """A voiced-like low-band signal with a hissy (high-band) segment at ``seg``."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    wave = 0.3 * np.sin(2 * np.pi * 180 * t) + 0.15 * np.sin(2 * np.pi * 540 * t)
    wave += 0.01 * rng.standard_normal(t.size)
    a, b = (int(s * SR) for s in seg)
    wave[a:b] += 0.2 * rng.standard_normal(b - a)
    return wave.astype(np.float32)


def _frames(n):
    return np.arange(1 + n // 160) * 0.01


def test_window_scan_puts_the_evidence_on_the_segment():
    wave = _spliced()
    res = window_scan(HissDetector(), wave, window=0.5, hop=0.125)
    assert res.evidence.shape == (1 + len(wave) // 160,) and (res.evidence >= 0).all()
    # windows straddling an edge smear the evidence up to one window (0.5 s) outside it
    times = _frames(len(wave))
    assert mass_fraction(res.evidence, times, 2.0, 3.0) > 0.8
    assert not res.evidence[(times < 1.5) | (times > 3.5)].any()
    assert res.spans.shape == (len(res.margins), 2) and res.spans[-1, 1] == len(wave) / SR
    top = res.spans[int(res.margins.argmax())]
    assert 2.0 <= top[0] and top[1] <= 3.0  # the most spoof window lies in the segment
    with pytest.raises(ConfigError, match="0 < hop <= window"):
        window_scan(HissDetector(), wave, window=0.5, hop=1.0)


def test_occlusion_puts_the_evidence_on_the_segment():
    wave = _spliced()
    res = occlusion(HissDetector(), wave, segment=0.5, hop=0.25)
    assert res.reference > res.margins.min()  # hiding the hiss lowers the margin
    times = _frames(len(wave))
    assert mass_fraction(res.evidence, times, 2.0, 3.0) > 0.8  # edges smear one segment
    far = (times < 1.5) | (times > 3.5)
    assert res.evidence[far].max() < 0.01 * res.evidence.max()
    with pytest.raises(ConfigError, match="at least two segments"):
        occlusion(HissDetector(), wave[:6000], segment=0.5)


def test_fixed_length_models_are_scanned_with_their_input_length():
    seen = []

    class Fixed(HissDetector):
        fixed_input_samples = 8000

        def forward(self, x):
            seen.append(x.shape[1])
            return super().forward(x)

    wave = _spliced(seconds=2.0, seg=(0.75, 1.25))
    window_scan(Fixed(), wave, window=0.25, hop=0.25)
    occlusion(Fixed(), wave, segment=0.25, hop=0.25)
    assert set(seen) == {8000}


def test_baselines_keep_what_they_promise():
    wave = _spliced()
    assert not ig_baseline("zeros", wave).any()
    low = ig_baseline("lowpass", wave, SR, cutoff=1000.0)
    spec = np.abs(np.fft.rfft(low)) ** 2
    freqs = np.fft.rfftfreq(len(low), 1 / SR)
    assert spec[freqs > 2000].sum() < 1e-4 * spec.sum()  # no hiss left
    noise = ig_baseline("noise", wave, SR, seed=3)
    rms = lambda x: np.sqrt(np.mean(x.reshape(-1, 400) ** 2, axis=1))  # noqa: E731
    assert np.allclose(rms(noise), rms(wave), rtol=0.35)  # the input's level, frame by frame
    assert np.array_equal(noise, ig_baseline("noise", wave, SR, seed=3))
    with pytest.raises(ConfigError, match="unknown integrated-gradients baseline"):
        ig_baseline("pink", wave)


def test_expected_gradients_completeness_on_a_linear_model():
    class Linear(nn.Module):
        def __init__(self, n):
            super().__init__()
            self.w = nn.Parameter(torch.linspace(-1, 1, n))

        def forward(self, x):
            m = x @ self.w
            return torch.stack([m, torch.zeros_like(m)], dim=1)

    rng = np.random.default_rng(0)
    wave = rng.standard_normal(800).astype(np.float32)
    refs = [rng.standard_normal(500).astype(np.float32) for _ in range(3)]  # tiled to 800
    attr = expected_gradients(Linear(800), wave, refs, samples=12, batch_size=5)
    assert attr.completeness_gap < 1e-3  # linear: exact for the references as drawn
    assert attr.values.shape == (800,)
    with pytest.raises(ConfigError, match="at least one reference"):
        expected_gradients(Linear(800), wave, [])


def test_explain_runs_the_new_methods_and_measures_their_mass(tmp_path):
    wave = _spliced(seconds=3.0, seg=(1.0, 1.75))
    refs = [_spliced(seconds=1.0, seg=(0.0, 0.0), seed=1)]
    expl = explain(HissDetector(), wave, methods=("scan", "occlusion", "ig"), ig_steps=4,
                   ig_baseline="human", references=refs, scan_window=0.5,
                   occlusion_segment=0.25, occlusion_hop=0.25)  # fmt: skip
    for what in ("scan", "occlusion"):
        assert expl.mass_inside(1.0, 1.75, what=what) > 0.7  # 0.75-s segment, smeared
    assert expl.info["ig_baseline"] == "human" and expl.ig.shape == wave.shape
    with pytest.raises(ConfigError, match="no gradcam attribution"):
        expl.profile("gradcam")
    with pytest.raises(ConfigError, match="needs reference recordings"):
        explain(HissDetector(), wave, methods=("ig",), ig_baseline="human")
    from voxlab.explain import draw

    assert draw(expl, tmp_path / "f.png").stat().st_size > 10_000
    with np.load(expl.save_npz(tmp_path / "f.npz")) as data:
        assert data["scan_evidence"].shape == data["occlusion_evidence"].shape
