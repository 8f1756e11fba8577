"""Embed/detect round trips, key separation, attacks, localisation, rates and channels."""

from __future__ import annotations

import numpy as np
import pytest

from voxlab.audio import resample
from voxlab.audio.effects import apply_effect, get_attack
from voxlab.errors import AudioError, ConfigError
from voxlab.watermark import WatermarkKey, detect, embed, threshold_for
from voxlab.watermark.signals import music_like, noise_clip, silence, speech

SR = 16_000
KEY = WatermarkKey.from_passphrase("unit-test key")
PAYLOAD = 0xC0FFEE42
STRONG = 1.5  # short clips in tests; the benchmark measures the default strength


@pytest.fixture(scope="module")
def talk(espeak):
    return speech(12.0, seed=1)


@pytest.fixture(scope="module")
def marked_talk(talk):
    return embed(talk[: 8 * SR], SR, KEY, PAYLOAD, strength=STRONG)


def test_threshold_is_the_hoeffding_bound():
    assert threshold_for(1e-3) == pytest.approx(np.sqrt(2 * np.log(1e3)))
    assert threshold_for(1e-6) == pytest.approx(5.2565, abs=1e-3)
    with pytest.raises(ConfigError):
        threshold_for(0.0)


def test_default_strength_is_detected_on_speech(talk, marked_default):
    marked = marked_default
    snr = 10 * np.log10(
        np.sum(talk.astype(np.float64) ** 2) / np.sum((marked - talk).astype(np.float64) ** 2)
    )
    assert 12 < snr < 24
    pesq = pytest.importorskip("pesq").pesq
    assert pesq(SR, talk[: 10 * SR], marked[: 10 * SR], "wb") > 4.3
    result = detect(marked, SR, KEY)
    assert result.marked and result.score > result.threshold
    assert result.p_value < 1e-4 and result.p_bound < 1e-3
    assert not detect(talk, SR, KEY).marked


@pytest.mark.parametrize("kind", ["speech", "music", "noise"])
def test_payload_roundtrip(kind, marked_talk):
    if kind == "speech":
        marked = marked_talk
    else:
        host = music_like(8.0, seed=2) if kind == "music" else noise_clip(8.0, seed=3, kind="pink")
        marked = embed(host, SR, KEY, PAYLOAD, strength=STRONG)
    result = detect(marked, SR, KEY)
    assert result.marked and result.crc_ok
    assert result.payload == f"{PAYLOAD:08x}"
    assert result.rate == 1.0
    assert result.segments and result.segments[0][0] < 0.5 and result.segments[-1][1] > 7.5


def test_wrong_key_detects_nothing_and_scores_look_standard_normal(marked_talk):
    clip = marked_talk[: 3 * SR]
    scores = []
    for i in range(10):
        result = detect(clip, SR, WatermarkKey.from_passphrase(f"other {i}"))
        assert not result.crc_ok
        scores.append(result.score)
    scores = np.array(scores)
    assert (scores < threshold_for(1e-3)).all()
    assert abs(scores.mean()) < 0.9 and 0.4 < scores.std() < 1.8


def test_unmarked_and_degenerate_audio():
    for host in (silence(3.0, seed=1), np.zeros(3 * SR, np.float32), noise_clip(3.0, seed=4)):
        result = detect(host, SR, KEY)
        assert not result.marked and result.payload is None and result.segments == []
    short = detect(noise_clip(0.1, seed=5), SR, KEY)
    assert not short.marked
    with pytest.raises(AudioError):
        detect(np.zeros(0, np.float32), SR, KEY)
    with pytest.raises(AudioError):
        embed(np.full(100, np.nan, np.float32), SR, KEY, 1)
    with pytest.raises(ConfigError):
        embed(np.zeros(100, np.float32), SR, KEY, 2**32)


@pytest.fixture(scope="module")
def marked_default(talk):
    return embed(talk, SR, KEY, PAYLOAD)


@pytest.mark.parametrize("label", ["mp3_64k", "white_20db", "tempo_1.05", "speed_0.95"])
def test_attacks_end_to_end(label, marked_default):
    """12 s at the default strength (the benchmark sweeps every attack and length)."""
    result = detect(get_attack(label)(marked_default, SR), SR, KEY)
    assert result.marked and result.payload == f"{PAYLOAD:08x}"
    if label.startswith(("tempo", "speed")):
        assert result.mode == label.split("_")[0]
        assert result.rate == pytest.approx(float(label.split("_")[1]), abs=0.011)


def test_localisation_of_a_spliced_segment(talk, espeak):
    background = speech(20.0, seed=7)
    marked = embed(talk[: 3 * SR], SR, KEY, PAYLOAD, strength=STRONG)
    mixed = apply_effect("splice", marked, SR, at=9.0, other=background)
    result = detect(mixed, SR, KEY)
    assert result.marked
    assert len(result.segments) == 1
    start, end = result.segments[0]
    assert abs(start - 9.0) <= 1.0 and abs(end - 12.0) <= 1.0


def test_other_rates_and_stereo(talk):
    x44 = resample(talk[: 6 * SR], orig_sr=SR, target_sr=44_100)
    stereo = np.stack([x44, 0.5 * x44])
    marked = embed(stereo, 44_100, KEY, PAYLOAD, strength=STRONG)
    assert marked.shape == stereo.shape
    # the mark stays below 4 kHz: nothing changes in the top band
    diff = np.abs(np.fft.rfft(marked[0] - stereo[0])) ** 2
    freqs = np.fft.rfftfreq(stereo.shape[1], 1 / 44_100)
    assert diff[freqs > 5000].sum() < 1e-4 * diff.sum()
    result = detect(marked, 44_100, KEY)
    assert result.marked and result.payload == f"{PAYLOAD:08x}"
    x8 = resample(talk[: 6 * SR], orig_sr=SR, target_sr=8000)
    result8 = detect(embed(x8, 8000, KEY, PAYLOAD, strength=STRONG), 8000, KEY)
    assert result8.marked


def test_informed_coding_puts_cells_on_their_chips_side(talk):
    """Pushed cells move to their chip's side; cells beyond reach are left alone."""
    from voxlab.watermark.cells import chip_residuals
    from voxlab.watermark.coding import encode_payload
    from voxlab.watermark.embed import BASE, MARGIN, MAX_PUSH, REACH, _push, watermark_signal
    from voxlab.watermark.layout import UNIT_FRAMES, band_gains, make_pattern

    pattern = make_pattern(KEY)
    coded = encode_payload(PAYLOAD, pattern.mask)
    x = talk[: 6 * SR]
    n_frames = (x.size + 255) // 256 + 1
    chips = pattern.chips(coded)[:, np.arange(n_frames) % UNIT_FRAMES].T
    host = chip_residuals(x, n_frames)
    gains = np.broadcast_to(band_gains()[None, :], host.shape)  # the fixed-strength gains
    delta, pushed = _push(host, chips, gains, MAX_PUSH)
    side = chips * host
    assert np.array_equal(pushed, (side < MARGIN * gains) & (side > (MARGIN - REACH) * gains))
    np.testing.assert_allclose(delta[~pushed], (chips * BASE * gains)[~pushed], atol=1e-6)

    marked = chip_residuals(x + watermark_signal(x, pattern, coded, 1.0, masking=False), n_frames)
    agree_host = np.mean((chips * host > 0)[pushed])
    agree_marked = np.mean((chips * marked > 0)[pushed])
    # pauses can't be pushed (the change is a gain) and neighbours blur each push: 0.65
    assert agree_host < 0.5 and agree_marked > agree_host + 0.15
    beyond = ~pushed & (side < 0)  # wrong side but out of reach: still (mostly) wrong
    assert np.mean(chips[beyond] * marked[beyond] < 0) > 0.9
