"""Where the watermark lives: the time-frequency grid of a unit and its keyed patterns.

The mark is computed at 16 kHz on a short-time Fourier grid (512-point sqrt-Hann frames,
hop 256, i.e. 16 ms). Bins from 250 Hz to 3.75 kHz are grouped into bands whose width is
max(62.5 Hz, 2 % of their frequency), so that a 0.25 % error in the playback speed
moves energy by at most a seventh of a band. A *chip* is one band in one frame; a
*unit* is 64 frames (1.024 s); units repeat through the file. Each chip of a unit has
a role drawn from the key:
*sync* (a known +-1 pattern, used to find the units and the time scale), *verify* (another
known +-1 pattern, used only for the calibrated score) or *payload* (one of the 162 coded
payload bits, times a +-1 spreading sign).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from voxlab.watermark.coding import PAYLOAD_BITS, coded_bits, scramble_mask
from voxlab.watermark.keys import WatermarkKey

SAMPLE_RATE = 16_000
N_FFT = 512
HOP = 256
UNIT_FRAMES = 64
#: Frames per chip (the +-1 value is constant over this many frames) and chips per unit.
CHIP_FRAMES = 1
#: Minimum band width in bins and relative band width.
BAND_BINS, BAND_REL = 2, 0.02
UNIT_COLS = UNIT_FRAMES // CHIP_FRAMES
F_LOW = 234.375  # 7.5 bins: band edges fall between bins
F_HIGH = 3750.0
#: Share of a unit's chips per role: sync, verify, payload.
ROLE_SHARES = (0.35, 0.25, 0.40)
SYNC, VERIFY, PAYLOAD = 0, 1, 2


def unit_seconds() -> float:
    """Duration of one unit in seconds."""
    return UNIT_FRAMES * HOP / SAMPLE_RATE


@lru_cache(maxsize=1)
def band_edges() -> np.ndarray:
    """Band edges in Hz. Shape: ``(n_bands + 1,)``."""
    edges = [F_LOW]
    while edges[-1] < F_HIGH - 1e-6:
        f = edges[-1]
        edges.append(min(F_HIGH, f + max(BAND_BINS * SAMPLE_RATE / N_FFT, BAND_REL * f)))
    return np.array(edges)


def n_bands() -> int:
    """Number of watermark bands."""
    return len(band_edges()) - 1


@lru_cache(maxsize=64)
def band_matrix(scale: float = 1.0, n_fft: int = N_FFT, sr: int = SAMPLE_RATE) -> np.ndarray:
    """Weights mapping power-spectrum bins to bands whose edges are multiplied by ``scale``.

    Each bin counts with the fraction of its width ``[f - df/2, f + df/2]`` inside a band.

    Returns:
        Shape: ``(n_fft // 2 + 1, n_bands)`` float32.
    """
    edges = band_edges() * scale
    df = sr / n_fft
    centres = np.arange(n_fft // 2 + 1) * df
    lo = np.maximum(centres[:, None] - df / 2, edges[None, :-1])
    hi = np.minimum(centres[:, None] + df / 2, edges[None, 1:])
    return (np.clip(hi - lo, 0.0, None) / df).astype(np.float32)


#: Relative strength (margin and reach of the pushes) at the lowest and highest band
#: (geometric in between). Speech has little energy up there, so a larger relative change
#: costs little in quality (PESQ).
GAIN_LOW, GAIN_HIGH = 0.25, 4.0


@lru_cache(maxsize=1)
def band_gains() -> np.ndarray:
    """Relative watermark strength per band. Shape: ``(n_bands,)``."""
    centres = np.sqrt(band_edges()[:-1] * band_edges()[1:])
    pos = np.log(centres / centres[0]) / np.log(centres[-1] / centres[0])
    return (GAIN_LOW * (GAIN_HIGH / GAIN_LOW) ** pos).astype(np.float32)


@lru_cache(maxsize=1)
def bin_bands() -> np.ndarray:
    """The band of each embedding bin (-1 outside the watermark range). Shape: ``(257,)``."""
    centres = np.arange(N_FFT // 2 + 1) * SAMPLE_RATE / N_FFT
    idx = np.searchsorted(band_edges(), centres, side="right") - 1
    idx[(centres < F_LOW) | (centres >= F_HIGH)] = -1
    return idx


@dataclass(frozen=True)
class Pattern:
    """The keyed patterns of one unit.

    Attributes:
        role: Role of each chip (SYNC, VERIFY, PAYLOAD). Shape: ``(n_bands, UNIT_COLS)``.
        sync: +-1 on sync chips, 0 elsewhere. Shape: ``(n_bands, UNIT_COLS)``.
        verify: +-1 on verify chips, 0 elsewhere. Shape: ``(n_bands, UNIT_COLS)``.
        spread: +-1 spreading sign on payload chips, 0 elsewhere. Shape: like ``role``.
        bit: Coded-bit index of each payload chip (-1 elsewhere). Shape: like ``role``.
        mask: Scrambling mask of the information bits. Shape: ``(48,)`` (144 for the
            128-bit format).
    """

    role: np.ndarray
    sync: np.ndarray
    verify: np.ndarray
    spread: np.ndarray
    bit: np.ndarray
    mask: np.ndarray

    def chips(self, coded: np.ndarray | None) -> np.ndarray:
        """The +-1 value of every chip for the given coded bits (payload chips 0 if None).

        Returns:
            Shape: ``(n_bands, UNIT_COLS)`` float32.
        """
        out = self.sync + self.verify
        if coded is not None:
            signs = 2.0 * np.asarray(coded, dtype=np.float32) - 1.0
            out = out + np.where(self.bit >= 0, self.spread * signs[np.maximum(self.bit, 0)], 0.0)
        return out.astype(np.float32)


def make_pattern(key: WatermarkKey, payload_bits: int = PAYLOAD_BITS) -> Pattern:
    """Derive every pattern of a unit from ``key``.

    Sync, verify and spreading chips are the same for every payload format; the 128-bit
    format maps the payload chips to its 450 coded bits in its own keyed order and has
    its own scrambling mask.
    """
    return _make_pattern(key.secret, payload_bits)


@lru_cache(maxsize=16)
def _make_pattern(secret: bytes, payload_bits: int) -> Pattern:
    key = WatermarkKey(secret)
    shape = (n_bands(), UNIT_COLS)
    size = shape[0] * shape[1]
    order = key.rng("voxlab-wm/roles").permutation(size)
    counts = np.floor(np.array(ROLE_SHARES) * size).astype(int)
    role = np.full(size, PAYLOAD, np.int8)
    role[order[: counts[0]]] = SYNC
    role[order[counts[0] : counts[0] + counts[1]]] = VERIFY
    role = role.reshape(shape)

    def signs(label: str) -> np.ndarray:
        return (2.0 * key.rng(label).integers(0, 2, shape) - 1.0).astype(np.float32)

    sync = np.where(role == SYNC, signs("voxlab-wm/sync"), 0.0).astype(np.float32)
    verify = np.where(role == VERIFY, signs("voxlab-wm/verify"), 0.0).astype(np.float32)
    spread = np.where(role == PAYLOAD, signs("voxlab-wm/spread"), 0.0).astype(np.float32)
    # Payload chips take the coded bits in turn, in a keyed order, so each bit gets an
    # equal share spread over the whole unit.
    bit = np.full(size, -1, np.int64)
    payload_idx = np.flatnonzero(role.reshape(-1) == PAYLOAD)
    suffix = "" if payload_bits == PAYLOAD_BITS else str(payload_bits)
    payload_idx = key.rng(f"voxlab-wm/bits{suffix}").permutation(payload_idx)
    bit[payload_idx] = np.arange(payload_idx.size) % coded_bits(payload_bits)
    mask = scramble_mask(key.rng(f"voxlab-wm/scramble{suffix}"), payload_bits)
    return Pattern(role, sync, verify, spread, bit.reshape(shape), mask)
