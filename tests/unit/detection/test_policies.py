import numpy as np
import pytest

from voxlab.detection.policies import InputPolicy, aggregate, segment, tile_to
from voxlab.errors import ConfigError


def test_tile_matches_official_padding():
    x = np.arange(5, dtype=np.float32)
    np.testing.assert_array_equal(tile_to(x, 12), [0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1])
    np.testing.assert_array_equal(tile_to(np.arange(20.0), 12), np.arange(12.0))


def test_official_policy_keeps_first_64600():
    x = np.random.default_rng(0).standard_normal(100_000).astype(np.float32)
    inputs, spans = segment(x, InputPolicy("official"))
    assert len(inputs) == 1 and len(inputs[0]) == 64_600
    np.testing.assert_array_equal(inputs[0], x[:64_600])
    assert spans.tolist() == [[0.0, 4.0375]]


def test_windows_cover_the_whole_file_including_the_tail():
    sr = 16_000
    x = np.arange(int(10.3 * sr), dtype=np.float32)
    policy = InputPolicy("windows", window=4.0, hop=2.0)
    inputs, spans = segment(x, policy)
    assert all(len(w) == 4 * sr for w in inputs)
    assert spans[0, 0] == 0.0 and spans[-1, 1] == pytest.approx(10.3)
    covered = np.zeros(len(x), bool)
    for start, end in spans:
        covered[int(start * sr) : int(end * sr)] = True
    assert covered.all()
    np.testing.assert_array_equal(inputs[-1], x[-4 * sr :])


def test_short_input_is_one_tiled_window():
    inputs, spans = segment(np.ones(1000, np.float32), InputPolicy("windows", window=1.0, hop=0.5))
    assert len(inputs) == 1 and len(inputs[0]) == 16_000
    assert spans.tolist() == [[0.0, 1000 / 16_000]]


def test_aggregate_mean_and_most_spoof_window():
    logits = np.array([[0.0, 2.0], [1.0, -3.0], [0.5, 1.0]])
    agg = aggregate(logits)
    assert agg["score"] == pytest.approx(0.0)
    assert agg["score_min"] == -3.0 and agg["worst_window"] == 1


def test_bad_policies():
    with pytest.raises(ConfigError, match="unknown input policy"):
        InputPolicy("everything")
    with pytest.raises(ConfigError, match="hop"):
        InputPolicy("windows", window=1.0, hop=2.0)
