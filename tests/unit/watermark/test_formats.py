"""Payload formats (32 and 128 bits), marks made before the masking model, the centred
score, and a detector that imports no more than it needs."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from voxlab.errors import ConfigError
from voxlab.watermark import (
    WatermarkKey,
    detect,
    detect_file,
    embed,
    parse_payload,
    payload_text,
)
from voxlab.watermark.coding import coded_bits, decode_payload, encode_payload, scramble_mask
from voxlab.watermark.signals import speech

SR = 16_000
KEY = WatermarkKey.from_passphrase("unit-test key")
DATA = Path(__file__).parent / "data"


def test_128_bit_code_roundtrip_through_noise():
    rng = np.random.default_rng(4)
    mask = scramble_mask(rng, 128)
    payload = int.from_bytes(rng.bytes(16), "big")
    coded = encode_payload(payload, mask)
    assert coded.size == coded_bits(128) == 450
    soft = 2.0 * coded - 1.0 + 0.8 * rng.standard_normal(coded.size)
    assert decode_payload(soft, mask) == (payload, True)
    # a 32-bit mask does not read a 128-bit word (different length, different format)
    assert decode_payload(rng.standard_normal(coded.size), mask)[1] is False


def test_128_bit_message_roundtrip_and_errors():
    value = parse_payload(message="acme-tts/v2.1", bits=128)
    assert payload_text(f"{value:032x}") == "acme-tts/v2.1"
    assert payload_text("0badc0de") is None  # 32-bit payloads are hashes
    assert payload_text("ff" * 16) is None  # not text
    assert parse_payload(payload="00" * 15 + "2a", bits=128) == 42
    with pytest.raises(ConfigError, match="16 UTF-8 bytes"):
        parse_payload(message="a message far longer than sixteen bytes", bits=128)
    with pytest.raises(ConfigError, match="--bits 128"):
        parse_payload(payload="1" * 9)
    with pytest.raises(ConfigError, match="32 or 128"):
        parse_payload(payload="1", bits=64)


@pytest.mark.slow
def test_128_bit_mark_roundtrip(espeak):
    host = speech(9.0, seed=11)
    payload = parse_payload(message="voxlab 128 test", bits=128)
    result = detect(embed(host, SR, KEY, payload, bits=128), SR, KEY)
    assert result.marked and result.crc_ok and result.payload_bits == 128
    assert payload_text(result.payload) == "voxlab 128 test"
    with pytest.raises(ConfigError, match="bits=128"):
        embed(host, SR, KEY, 2**40)


def test_file_marked_before_the_masking_model_still_detects():
    """4 s of espeak speech marked by voxlab before this change (fixed-strength embedder)."""
    result = detect_file(DATA / "marked_before_masking.flac", KEY).result
    assert result.marked and result.payload == "c0ffee42" and result.payload_bits == 32


def test_centred_score_removes_a_constant_offset():
    """Soft signs with a clip-wide mean must not turn into a score for a fixed key."""
    from voxlab.watermark.detect import _z

    rng = np.random.default_rng(0)
    pattern = np.where(rng.random((56, 64)) < 0.25, 1.0, 0.0)
    pattern[pattern != 0] = np.where(rng.random(int(pattern.sum())) < 0.6, 1.0, -1.0)
    assert abs(pattern.sum()) > 50  # an unbalanced key, as real keys slightly are
    scores_raw, scores = [], []
    for _ in range(200):
        values = 0.3 + rng.standard_normal(pattern.shape)  # offset + noise, no mark
        scores_raw.append(_z(values, pattern))
        scores.append(_z(values, pattern, centre=True))
    assert abs(np.mean(scores_raw)) > 1.0
    assert abs(np.mean(scores)) < 0.25 and 0.8 < np.std(scores) < 1.2
    # a marked pattern still scores high after centring
    assert _z(pattern * 0.5 + rng.standard_normal(pattern.shape), pattern, centre=True) > 8
    assert math.isclose(_z(np.zeros_like(pattern), pattern, centre=True), 0.0)


def test_detector_imports_stay_light():
    """`voxlab watermark detect` start-up: no scipy.signal/stats/ndimage, no generators."""
    code = (
        "import sys, numpy as np\n"
        "from voxlab.watermark import WatermarkKey, detect\n"
        "from voxlab.watermark.provenance import name_payload\n"
        "x = np.random.default_rng(0).standard_normal(3 * 16000).astype(np.float32)\n"
        "detect(x, 16000, WatermarkKey.from_passphrase('k'))\n"
        "name_payload('0badc0de')\n"
        "heavy = ['scipy.signal', 'scipy.stats', 'scipy.ndimage', 'scipy.special',\n"
        "         'scipy.fft', 'voxlab.generation.attacks', 'torch']\n"
        "print(' '.join(m for m in heavy if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


@pytest.mark.slow  # imports every generator
def test_system_id_space_covers_every_registered_system():
    from voxlab.watermark.provenance import known_systems, name_payload, system_id_space

    space = set(system_id_space())
    missing = [s for s in known_systems() if s not in space]
    assert not missing, f"extend voxlab.watermark.provenance.ID_PREFIXES for {missing}"
    assert name_payload("0badc0de") is None
