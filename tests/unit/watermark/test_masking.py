"""The perceptual masking model and what it buys: a quieter mark that still detects."""

from __future__ import annotations

import numpy as np
import pytest

from voxlab.watermark import WatermarkKey, detect, embed
from voxlab.watermark.embed import _band_energy
from voxlab.watermark.layout import N_FFT, SAMPLE_RATE, band_edges
from voxlab.watermark.masking import bark, masked_change, masking_threshold, spreading_db
from voxlab.watermark.signals import music_like

SR = 16_000
KEY = WatermarkKey.from_passphrase("masking test key")
PAYLOAD = 0x1234ABCD


def _snr(x: np.ndarray, y: np.ndarray) -> float:
    x = x.astype(np.float64)
    return float(10 * np.log10(np.sum(x**2) / np.sum((y - x) ** 2)))


def test_spreading_function_has_schroeders_shape():
    # 0 dB at the masker; steep towards low frequencies, gentle towards high ones
    assert spreading_db(np.array([0.0]))[0] == pytest.approx(0.0, abs=0.05)
    low = spreading_db(np.array([-3.0]))[0] - spreading_db(np.array([-2.0]))[0]
    high = spreading_db(np.array([3.0]))[0] - spreading_db(np.array([2.0]))[0]
    assert -27 < low < -23 and -11 < high < -8
    # Zwicker & Terhardt: 1 kHz is about 8.5 Bark, 4 kHz about 17.3
    assert bark(np.array([1000.0]))[0] == pytest.approx(8.5, abs=0.1)
    assert bark(np.array([4000.0]))[0] == pytest.approx(17.3, abs=0.2)


def test_loud_cells_may_change_less_than_the_masked_cells_beside_them():
    t = np.arange(N_FFT) / SAMPLE_RATE
    rng = np.random.default_rng(0)
    frame = np.sin(2 * np.pi * 1000.0 * t) + 1e-3 * rng.standard_normal(N_FFT)
    power = np.abs(np.fft.rfft(frame * np.hanning(N_FFT))) ** 2
    power = np.tile(power, (3, 1))
    edges = band_edges()
    bands = (edges[:-1] + edges[1:]) / 2
    energy = _band_energy(power.astype(np.float32))
    change = masked_change(energy, masking_threshold(power))
    tone = int(np.argmin(np.abs(bands - 1000.0)))
    above = int(np.argmin(np.abs(bands - 1300.0)))
    # the tone's own band: a small relative change; the valley above it is masked by it
    assert change[1, tone] < 0.2
    assert change[1, above] > 5 * change[1, tone]
    # far below the tone (steep side) the masking is much weaker than just above it
    below = int(np.argmin(np.abs(bands - 500.0)))
    assert masking_threshold(power)[1, below] < 0.01 * masking_threshold(power)[1, above]


@pytest.mark.slow
def test_masking_mark_is_quieter_on_music_and_still_detected():
    host = music_like(8.0, seed=5)
    masked = embed(host, SR, KEY, PAYLOAD)
    fixed = embed(host, SR, KEY, PAYLOAD, masking=False)
    # the fixed-strength mark of earlier versions: ~14 dB on music-like hosts
    assert _snr(host, masked) > _snr(host, fixed) + 4.0
    stoi = pytest.importorskip("pystoi").stoi
    assert stoi(host, masked, SR) >= 0.975
    result = detect(masked, SR, KEY)
    assert result.marked and result.payload == f"{PAYLOAD:08x}"


def test_strength_trades_snr_for_evidence():
    host = music_like(4.0, seed=6)
    quiet, loud = (embed(host, SR, KEY, PAYLOAD, strength=s) for s in (0.5, 1.5))
    assert _snr(host, quiet) > _snr(host, loud) + 5.0
    assert detect(loud, SR, KEY).score > detect(quiet, SR, KEY).score
