"""Watermark keys: generation, files, derivation."""

from __future__ import annotations

import os
import stat

import numpy as np
import pytest

from voxlab.errors import ConfigError
from voxlab.watermark.keys import WatermarkKey, as_key


def test_generate_save_load(tmp_path):
    key = WatermarkKey.generate()
    assert key != WatermarkKey.generate()
    path = key.save(tmp_path / "k.key")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert WatermarkKey.load(path) == key
    assert as_key(path) == key
    assert as_key(str(path)) == key
    assert as_key(key.secret.hex()) == key
    assert as_key(key.secret) == key
    assert key.secret.hex() not in repr(key)


@pytest.mark.parametrize("text", ["", "abc", "zz" * 16, "00" * 15, "00" * 17])
def test_bad_keys_are_refused(tmp_path, text):
    path = tmp_path / "bad.key"
    path.write_text(text)
    with pytest.raises(ConfigError):
        WatermarkKey.load(path)


def test_missing_key_file_names_the_fix(tmp_path):
    with pytest.raises(ConfigError, match="keygen"):
        WatermarkKey.load(tmp_path / "nope.key")


def test_streams_are_independent_and_reproducible():
    key = WatermarkKey.from_passphrase("x")
    a = key.rng("voxlab-wm/sync").standard_normal(1000)
    assert np.array_equal(a, key.rng("voxlab-wm/sync").standard_normal(1000))
    b = key.rng("voxlab-wm/verify").standard_normal(1000)
    c = WatermarkKey.from_passphrase("y").rng("voxlab-wm/sync").standard_normal(1000)
    assert abs(np.corrcoef(a, b)[0, 1]) < 0.15
    assert abs(np.corrcoef(a, c)[0, 1]) < 0.15
    assert key.key_id != WatermarkKey.from_passphrase("y").key_id
