"""safetensors files written by voxlab have bytes that depend only on their contents."""

from __future__ import annotations

import hashlib
import json
import struct

import pytest
import torch
from safetensors import safe_open

from voxlab.models.stable_save import canonicalise_header, save_safetensors

METADATA = {"model": "aasist-l", "format": "voxlab-checkpoint", "zeta": "ü", "alpha": "1"}


def _tensors() -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(0)
    return {
        "encoder.weight": torch.randn(4, 3, generator=gen),
        "bias": torch.randn(3, generator=gen),
        "steps": torch.tensor(7),
    }


def _header(path) -> tuple[int, dict]:
    raw = path.read_bytes()
    (length,) = struct.unpack("<Q", raw[:8])
    return length, json.loads(raw[8 : 8 + length])


def test_repeated_saves_give_identical_bytes_with_sorted_metadata(tmp_path):
    digests = set()
    for i in range(8):  # each save_file call builds a new hash map: a fresh key order
        path = save_safetensors(_tensors(), tmp_path / f"w{i}.safetensors", metadata=METADATA)
        digests.add(hashlib.sha256(path.read_bytes()).hexdigest())
    assert len(digests) == 1
    _, header = _header(path)
    assert list(header["__metadata__"]) == sorted(METADATA)
    with safe_open(str(path), "pt") as handle:
        assert handle.metadata() == METADATA
        for name, tensor in _tensors().items():
            assert torch.equal(handle.get_tensor(name), tensor)


def test_canonicalising_keeps_the_header_length_and_the_data(tmp_path):
    from safetensors.torch import save_file

    raw_path = tmp_path / "raw.safetensors"
    save_file(_tensors(), str(raw_path), metadata=METADATA)
    before = raw_path.read_bytes()
    length, _ = _header(raw_path)
    canonicalise_header(raw_path)
    after = raw_path.read_bytes()
    assert len(after) == len(before) and _header(raw_path)[0] == length
    assert after[8 + length :] == before[8 + length :]  # tensor data untouched


def test_a_file_that_is_not_safetensors_is_refused(tmp_path):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x10\x00")
    with pytest.raises(ValueError, match="not a safetensors file"):
        canonicalise_header(bad)
    bad.write_bytes(struct.pack("<Q", 1000) + b"{}")
    with pytest.raises(ValueError, match="truncated header"):
        canonicalise_header(bad)
