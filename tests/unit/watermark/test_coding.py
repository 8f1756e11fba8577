"""Payload coding: CRC-16, convolutional code, soft Viterbi, scrambling."""

from __future__ import annotations

import numpy as np
import pytest

from voxlab.watermark.coding import (
    CODED_BITS,
    INFO_BITS,
    bits_to_int,
    conv_encode,
    crc16,
    decode_payload,
    encode_payload,
    int_to_bits,
    scramble_mask,
    viterbi_decode,
)


def test_crc16_matches_the_standard_check_value():
    # CRC-16/CCITT-FALSE("123456789") = 0x29B1 (the catalogue's check value)
    bits = np.unpackbits(np.frombuffer(b"123456789", np.uint8))
    assert crc16(bits) == 0x29B1


def test_crc16_detects_every_single_and_double_bit_error():
    bits = int_to_bits(0xDEADBEEF, 32)
    ref = crc16(bits)
    for i in range(32):
        flipped = bits.copy()
        flipped[i] ^= 1
        assert crc16(flipped) != ref
        for j in range(i + 1, 32, 5):
            both = flipped.copy()
            both[j] ^= 1
            assert crc16(both) != ref


def test_bits_roundtrip():
    for value in (0, 1, 0xFFFFFFFF, 0x12345678):
        assert bits_to_int(int_to_bits(value, 32)) == value


def test_conv_code_size_and_noiseless_decoding():
    rng = np.random.default_rng(0)
    info = rng.integers(0, 2, INFO_BITS, dtype=np.uint8)
    coded = conv_encode(info)
    assert coded.size == CODED_BITS == 162
    np.testing.assert_array_equal(viterbi_decode(2.0 * coded - 1.0), info)


def test_viterbi_corrects_hard_errors():
    rng = np.random.default_rng(1)
    info = rng.integers(0, 2, INFO_BITS, dtype=np.uint8)
    soft = 2.0 * conv_encode(info) - 1.0
    # free distance 15: flips spread far apart are all corrected
    for i in range(0, CODED_BITS, 20):
        soft[i] = -soft[i]
    np.testing.assert_array_equal(viterbi_decode(soft), info)


def test_soft_decoding_beats_hard_decisions_in_noise():
    rng = np.random.default_rng(2)
    mask = scramble_mask(rng)
    ok_soft = ok_hard = 0
    for _ in range(40):
        payload = int(rng.integers(0, 2**32))
        soft = 2.0 * encode_payload(payload, mask) - 1.0 + 0.9 * rng.standard_normal(CODED_BITS)
        value, crc_ok = decode_payload(soft, mask)
        ok_soft += crc_ok and value == payload
        value, crc_ok = decode_payload(np.sign(soft), mask)
        ok_hard += crc_ok and value == payload
    assert ok_soft >= 37  # ~98 % at this noise level (Es/N0 ~ 0.9 dB)
    assert ok_soft > ok_hard


@pytest.mark.parametrize("soft", [np.zeros(CODED_BITS), np.ones(CODED_BITS), -np.ones(CODED_BITS)])
def test_degenerate_inputs_do_not_pass_the_crc(soft):
    mask = scramble_mask(np.random.default_rng(3))
    _, crc_ok = decode_payload(soft, mask)
    assert not crc_ok


def test_random_inputs_rarely_pass_the_crc():
    rng = np.random.default_rng(4)
    mask = scramble_mask(rng)
    passes = sum(decode_payload(rng.standard_normal(CODED_BITS), mask)[1] for _ in range(300))
    assert passes <= 1  # expected 300 / 65536
