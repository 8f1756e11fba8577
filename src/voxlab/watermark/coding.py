"""Payload coding: 32 (or 128) bits + CRC-16, key-scrambled, convolutional code, soft Viterbi.

The 32-bit payload gets a CRC-16/CCITT (polynomial 0x1021, init 0xFFFF); the 48 bits are
XORed with a key-derived mask (so that an all-zero or all-one decode never passes the CRC),
then coded with the rate-1/3, constraint-length-7 convolutional code of 3GPP/LTE
(generators 133, 171, 165 octal) with a 6-bit zero tail: 162 coded bits. The decoder is a
soft-decision Viterbi on correlation metrics.

The optional 128-bit format (:data:`PAYLOAD_BITS_LONG`) is coded the same way: 144
information bits, 450 coded bits. It has its own scrambling mask and chip-to-bit map
(:func:`voxlab.watermark.layout.make_pattern`), so a 32-bit decoder never reads a
128-bit mark as a valid word, and vice versa, but for the CRC's chance of 2^-16.
"""

from __future__ import annotations

import numpy as np

PAYLOAD_BITS = 32
#: The optional long payload (e.g. a UUID, or 16 bytes of text).
PAYLOAD_BITS_LONG = 128
FORMATS = (PAYLOAD_BITS, PAYLOAD_BITS_LONG)
CRC_BITS = 16
INFO_BITS = PAYLOAD_BITS + CRC_BITS
CONSTRAINT = 7
GENERATORS = (0o133, 0o171, 0o165)
CODED_BITS = (INFO_BITS + CONSTRAINT - 1) * len(GENERATORS)


def info_bits(payload_bits: int = PAYLOAD_BITS) -> int:
    """Information bits (payload + CRC) of a payload format."""
    return payload_bits + CRC_BITS


def coded_bits(payload_bits: int = PAYLOAD_BITS) -> int:
    """Coded bits of a payload format (162 for 32 bits, 450 for 128)."""
    return (info_bits(payload_bits) + CONSTRAINT - 1) * len(GENERATORS)


def int_to_bits(value: int, n: int) -> np.ndarray:
    """``n`` bits of ``value``, most significant first. Shape: ``(n,)`` uint8."""
    return np.array([(value >> (n - 1 - i)) & 1 for i in range(n)], dtype=np.uint8)


def bits_to_int(bits: np.ndarray) -> int:
    """Inverse of :func:`int_to_bits`."""
    out = 0
    for b in np.asarray(bits, dtype=np.uint8):
        out = (out << 1) | int(b)
    return out


def crc16(bits: np.ndarray, *, poly: int = 0x1021, init: int = 0xFFFF) -> int:
    """CRC-16/CCITT-FALSE over a bit sequence (MSB-first; equals the byte-wise standard)."""
    reg = init
    for b in np.asarray(bits, dtype=np.uint8):
        top = ((reg >> 15) & 1) ^ int(b)
        reg = (reg << 1) & 0xFFFF
        if top:
            reg ^= poly
    return reg


def _parity(x: np.ndarray) -> np.ndarray:
    x = x.copy()
    for shift in (4, 2, 1):
        x ^= x >> shift
    return x & 1


def conv_encode(bits: np.ndarray) -> np.ndarray:
    """Rate-1/3 K=7 convolutional code with a zero tail.

    Args:
        bits: Information bits. Shape: ``(n,)``.

    Returns:
        Coded bits. Shape: ``(3 * (n + 6),)`` uint8.
    """
    data = np.concatenate([np.asarray(bits, dtype=np.uint8), np.zeros(CONSTRAINT - 1, np.uint8)])
    out = np.empty((data.size, len(GENERATORS)), np.uint8)
    state = 0  # the last K-1 input bits, newest in the top bit of a K-bit register
    for i, b in enumerate(data):
        reg = (int(b) << (CONSTRAINT - 1)) | state
        for j, g in enumerate(GENERATORS):
            out[i, j] = bin(reg & g).count("1") & 1
        state = reg >> 1
    return out.reshape(-1)


def _trellis() -> tuple[np.ndarray, np.ndarray]:
    """For each (state, input): next state and the 3 output symbols (+-1)."""
    n_states = 1 << (CONSTRAINT - 1)
    states = np.arange(n_states)
    nxt = np.empty((n_states, 2), np.int64)
    sym = np.empty((n_states, 2, len(GENERATORS)), np.float64)
    for b in (0, 1):
        reg = (b << (CONSTRAINT - 1)) | states
        nxt[:, b] = reg >> 1
        for j, g in enumerate(GENERATORS):
            sym[:, b, j] = 2.0 * _parity(reg & g) - 1.0
    return nxt, sym


_NEXT, _SYMBOLS = _trellis()


def viterbi_decode(soft: np.ndarray, n_info: int = INFO_BITS) -> np.ndarray:
    """Soft-decision Viterbi decoder for :func:`conv_encode` (zero-tail terminated).

    Args:
        soft: Soft values per coded bit, positive meaning 1 (e.g. correlations or LLRs).
            Shape: ``(3 * (n_info + 6),)``.
        n_info: Number of information bits.

    Returns:
        The most likely information bits. Shape: ``(n_info,)`` uint8.
    """
    steps = n_info + CONSTRAINT - 1
    y = np.asarray(soft, dtype=np.float64).reshape(steps, len(GENERATORS))
    n_states = 1 << (CONSTRAINT - 1)
    metric = np.full(n_states, -np.inf)
    metric[0] = 0.0
    prev_state = np.empty((steps, n_states), np.int64)
    prev_bit = np.empty((steps, n_states), np.uint8)
    src = np.repeat(np.arange(n_states), 2)
    bits = np.tile(np.array([0, 1], np.uint8), n_states)
    dst = _NEXT.reshape(-1)
    for t in range(steps):
        branch = _SYMBOLS @ y[t]  # (states, 2)
        cand = (metric[:, None] + branch).reshape(-1)
        if t >= n_info:  # tail: only zero inputs
            cand = np.where(bits == 0, cand, -np.inf)
        order = np.lexsort((-cand, dst))  # per destination, best candidate first
        first = np.r_[True, dst[order][1:] != dst[order][:-1]]
        best = order[first]
        new_metric = np.full(n_states, -np.inf)
        new_metric[dst[best]] = cand[best]
        prev_state[t, dst[best]] = src[best]
        prev_bit[t, dst[best]] = bits[best]
        metric = new_metric
    state = 0
    out = np.empty(steps, np.uint8)
    for t in range(steps - 1, -1, -1):
        out[t] = prev_bit[t, state]
        state = prev_state[t, state]
    return out[:n_info]


def scramble_mask(rng: np.random.Generator, payload_bits: int = PAYLOAD_BITS) -> np.ndarray:
    """A key-derived XOR mask for the information bits. Shape: ``(info_bits(payload_bits),)``."""
    return rng.integers(0, 2, info_bits(payload_bits), dtype=np.uint8)


def encode_payload(payload: int, mask: np.ndarray) -> np.ndarray:
    """Payload -> coded bits (CRC-16, scrambling, convolutional code).

    The format (32 or 128 bits) follows from the mask's length.

    Returns:
        Coded bits. Shape: ``(coded_bits(payload_bits),)`` uint8 (162 for 32 bits).
    """
    n = mask.size - CRC_BITS
    bits = int_to_bits(int(payload) & ((1 << n) - 1), n)
    info = np.concatenate([bits, int_to_bits(crc16(bits), CRC_BITS)])
    return conv_encode(info ^ mask)


def decode_payload(soft: np.ndarray, mask: np.ndarray) -> tuple[int, bool]:
    """Soft values of the coded bits -> (payload, crc_ok).

    Args:
        soft: Positive means coded bit 1. Shape: ``(coded_bits(payload_bits),)``.
        mask: The scrambling mask used at embedding (its length gives the format).

    Returns:
        The decoded payload and whether its CRC matches.
    """
    n = mask.size - CRC_BITS
    info = viterbi_decode(soft, mask.size) ^ mask
    crc_ok = crc16(info[:n]) == bits_to_int(info[n:])
    return bits_to_int(info[:n]), bool(crc_ok)
