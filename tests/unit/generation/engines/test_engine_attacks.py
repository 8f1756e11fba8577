"""The engines as spoof systems V09-V40 (``voxlab corpus make --attacks V09,...``)."""

from __future__ import annotations

import numpy as np
import pytest

from voxlab.errors import ConfigError
from voxlab.generation.attacks import (
    ATTACKS,
    KOKORO_ENGLISH_VOICES,
    AttackInput,
    get_attack,
    parse_attack_ids,
)


def test_engine_systems_are_registered_after_the_classic_ones():
    assert [get_attack(f"V0{i}").kind for i in range(1, 9)] == (
        ["vocoder"] * 5 + ["vc", "vc", "tts"]
    )  # V01-V08 unchanged
    ids = parse_attack_ids("V09-V40")
    assert len(ids) == 32 and all(ATTACKS[i].kind == "tts" for i in ids)
    assert all(ATTACKS[i].requires == ("text",) for i in ids)
    assert "en_US-joe-medium" in get_attack("V09").description
    assert "HTS" in get_attack("V10").description and "diphone" in get_attack("V11").description
    assert len(KOKORO_ENGLISH_VOICES) == 28 and get_attack("V16").name == "kokoro-af_heart"
    assert get_attack("V40").name == "kokoro-bm_lewis"


def test_engine_system_needs_a_transcript():
    with pytest.raises(ConfigError, match=r"V11.*needs text"):
        get_attack("V11")(AttackInput(np.zeros(16_000, np.float32), 16_000, "spk"))


def test_festival_diphone_system_speaks_the_transcript(festival_engine):
    item = AttackInput(
        np.zeros(16_000, np.float32), 16_000, "spk", seed=3, text="Please call Stella."
    )
    out = get_attack("V11")(item)
    assert out.system == "V11" and out.sample_rate == 16_000
    assert out.params["voice"] == "kal_diphone" and out.params["attack"] == "V11"
    assert 0.8 < out.duration < 4.0 and np.abs(out.audio).max() > 0.05


def test_piper_system_is_seeded_by_the_item(piper_engine):
    def run(seed):
        item = AttackInput(np.zeros(8000, np.float32), 16_000, "spk", seed=seed, text="Hello.")
        return get_attack("V09")(item)

    a, b = run(11), run(11)
    np.testing.assert_array_equal(a.audio, b.audio)
    assert a.sample_rate == 16_000 and a.params["seed"] == 11
