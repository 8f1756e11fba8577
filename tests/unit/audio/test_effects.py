"""The attack/channel suite: determinism, shapes, and that each effect does what it says."""

from __future__ import annotations

import numpy as np
import pytest

from voxlab.audio.effects import EFFECTS, STANDARD_ATTACKS, apply_effect, get_attack, pink
from voxlab.errors import ConfigError
from voxlab.testing import noise, tone

SR = 16_000


def _signal(seconds: float = 2.0, sr: int = SR) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    env = 0.5 + 0.5 * np.sin(2 * np.pi * 1.5 * t)
    x = 0.3 * env * np.sin(2 * np.pi * 300 * t) + 0.1 * np.sin(2 * np.pi * 2500 * t)
    return (x + noise(seconds=seconds, sr=sr, scale=0.02, seed=5)).astype(np.float32)


def _band_energy(x: np.ndarray, sr: int, lo: float, hi: float) -> float:
    spec = np.abs(np.fft.rfft(x)) ** 2
    f = np.fft.rfftfreq(x.size, 1 / sr)
    return float(spec[(f >= lo) & (f < hi)].sum())


def _peak_freq(x: np.ndarray, sr: int) -> float:
    spec = np.abs(np.fft.rfft(x * np.hanning(x.size)))
    return float(np.argmax(spec) * sr / x.size)


@pytest.mark.parametrize("attack", STANDARD_ATTACKS, ids=lambda a: a.label)
def test_every_standard_attack_is_deterministic_and_well_formed(attack):
    x = _signal(1.0)
    a, b = attack(x, SR), attack(x, SR)
    assert a.dtype == np.float32 and a.ndim == 1
    assert np.array_equal(a, b)
    assert np.isfinite(a).all()


def test_labels_unique_and_registry_complete():
    labels = [a.label for a in STANDARD_ATTACKS]
    assert len(labels) == len(set(labels))
    for name in (
        "mp3",
        "aac",
        "opus",
        "resample",
        "white_noise",
        "pink_noise",
        "lowpass",
        "highpass",
    ):
        assert name in EFFECTS
    for name in ("gain", "echo", "smooth", "quantize", "crop", "cut", "splice", "tempo", "speed"):
        assert name in EFFECTS
    assert get_attack("mp3_64k").params == {"bitrate": 64}
    with pytest.raises(ConfigError):
        get_attack("nope")
    with pytest.raises(ConfigError):
        apply_effect("nope", _signal(0.1), SR)
    with pytest.raises(ConfigError):
        apply_effect("gain", _signal(0.1), SR, bogus=1)


def test_stereo_shapes_are_kept():
    x = np.stack([_signal(1.0), _signal(1.0)[::-1].copy()])
    for label in ("mp3_64k", "white_20db", "lowpass_4k", "tempo_1.05", "speed_0.95", "cut"):
        y = get_attack(label)(x, SR)
        assert y.ndim == 2 and y.shape[0] == 2


@pytest.mark.parametrize("snr", [40, 20, 10, 5])
@pytest.mark.parametrize("kind", ["white_noise", "pink_noise"])
def test_noise_snr_is_as_requested(kind, snr):
    x = _signal()
    y = apply_effect(kind, x, SR, snr_db=snr, seed=3)
    measured = 10 * np.log10(
        np.sum(x.astype(np.float64) ** 2) / np.sum((y - x).astype(np.float64) ** 2)
    )
    assert abs(measured - snr) < 0.05
    assert not np.array_equal(y, apply_effect(kind, x, SR, snr_db=snr, seed=4))


def test_pink_noise_slope():
    n = pink((1 << 16,), seed=0)
    f = np.fft.rfftfreq(n.size)
    p = np.abs(np.fft.rfft(n)) ** 2
    low = p[(f > 0.001) & (f < 0.002)].mean()
    high = p[(f > 0.1) & (f < 0.2)].mean()
    # 1/f: 100x the frequency, 1/100 of the power density (20 dB); allow +-3 dB
    assert 17 < 10 * np.log10(low / high) < 23


def test_lowpass_removes_energy_above_cutoff():
    x = noise(seconds=2.0, sr=44_100, scale=0.1, seed=1)
    y = apply_effect("lowpass", x, 44_100, cutoff=4000)
    assert _band_energy(y, 44_100, 6000, 22_050) < 1e-4 * _band_energy(x, 44_100, 6000, 22_050)
    assert _band_energy(y, 44_100, 100, 3000) > 0.95 * _band_energy(x, 44_100, 100, 3000)


@pytest.mark.parametrize("cutoff", [500, 1500])
def test_highpass_removes_energy_below_cutoff(cutoff):
    x = noise(seconds=2.0, scale=0.1, seed=2)
    y = apply_effect("highpass", x, SR, cutoff=cutoff)
    assert _band_energy(y, SR, 20, cutoff / 2) < 1e-3 * _band_energy(x, SR, 20, cutoff / 2)
    assert _band_energy(y, SR, 2 * cutoff, 7000) > 0.95 * _band_energy(x, SR, 2 * cutoff, 7000)


@pytest.mark.parametrize("rate", [0.95, 1.05])
def test_tempo_changes_duration_and_keeps_pitch(rate):
    x = tone(440.0, seconds=3.0)
    y = apply_effect("tempo", x, SR, rate=rate)
    assert abs(y.size - x.size / rate) <= 1
    assert abs(_peak_freq(y[4000:-4000], SR) - 440.0) < 2.0


@pytest.mark.parametrize("rate", [0.95, 1.05])
def test_speed_changes_duration_and_pitch(rate):
    x = tone(440.0, seconds=3.0)
    y = apply_effect("speed", x, SR, rate=rate)
    assert abs(y.size - x.size / rate) <= 2
    assert abs(_peak_freq(y[4000:-4000], SR) - 440.0 * rate) < 2.0


@pytest.mark.parametrize(
    "label", ["mp3_128k", "mp3_32k", "aac_64k", "aac_32k", "opus_32k", "opus_8k"]
)
@pytest.mark.parametrize("sr", [16_000, 44_100])
def test_codec_roundtrip_keeps_length_and_correlates(label, sr):
    x = _signal(2.0, sr)
    y = get_attack(label)(x, sr)
    assert y.shape == x.shape
    core = slice(sr // 10, -sr // 10)
    corr = np.dot(x[core], y[core]) / (np.linalg.norm(x[core]) * np.linalg.norm(y[core]))
    assert corr > (0.75 if label == "opus_8k" else 0.9)  # 8 kbit/s Opus is very lossy


def test_resample_roundtrip_removes_high_band():
    x = noise(seconds=1.0, sr=44_100, scale=0.1, seed=3)
    y = apply_effect("resample", x, 44_100, via_sr=16_000)
    assert y.shape == x.shape
    assert _band_energy(y, 44_100, 9000, 22_050) < 1e-3 * _band_energy(x, 44_100, 9000, 22_050)
    assert _band_energy(y, 44_100, 100, 7000) > 0.95 * _band_energy(x, 44_100, 100, 7000)


def test_gain_clipping_and_quantisation():
    x = _signal()
    boosted = apply_effect("gain", x, SR, factor=10.0)
    assert np.abs(boosted).max() <= 1.0 and np.mean(np.abs(boosted) == 1.0) > 0.1
    np.testing.assert_allclose(apply_effect("gain", x, SR, factor=0.1), 0.1 * x, rtol=1e-6)
    q = apply_effect("quantize", x, SR, bits=8)
    assert len(np.unique(q)) <= 256
    assert np.abs(q - x).max() <= 1 / 256 + 1e-6


def test_editing_effects():
    x = _signal(3.0)
    assert apply_effect("crop", x, SR, start=0.5, duration=1.0).size == SR
    cut = apply_effect("cut", x, SR, start=1.0, duration=0.5)
    assert cut.size == x.size - SR // 2
    np.testing.assert_array_equal(cut[SR:], x[SR + SR // 2 :])
    spliced = apply_effect("splice", x, SR, at=1.0, other_seconds=2.0, seed=1)
    assert spliced.size == x.size + 2 * SR
    np.testing.assert_array_equal(spliced[SR : SR + x.size], x)
    other = np.zeros(4 * SR, np.float32)
    into = apply_effect("splice", x, SR, at=2.5, other=other)
    np.testing.assert_array_equal(into[int(2.5 * SR) : int(2.5 * SR) + x.size], x)
    echo = apply_effect("echo", x, SR, delay=0.1, decay=0.5)
    np.testing.assert_allclose(echo[1600:], x[1600:] + 0.5 * x[:-1600], atol=1e-6)
    smooth = apply_effect("smooth", x, SR, width=5)
    assert _band_energy(smooth, SR, 6000, 8000) < 0.5 * _band_energy(x, SR, 6000, 8000)
