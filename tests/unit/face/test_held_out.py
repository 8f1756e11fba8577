"""The shipped boundary CNN (trained on messi + hopper) on swaps with the held-out astronaut."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def held_out(face_libs):
    from voxlab.face.samples import available, load_face

    names = ("hopper", "astronaut")
    missing = [n for n in names if n not in available()]
    if missing:
        pytest.skip(f"sample faces missing: {missing} (pip install 'voxlab[face]')")
    return {n: load_face(n) for n in names}


def test_astronaut_is_held_out_from_the_shipped_weights():
    from voxlab.face.boundary import HELD_OUT_ID, TRAINING_IDS

    assert HELD_OUT_ID == "astronaut" and HELD_OUT_ID not in TRAINING_IDS


@pytest.mark.parametrize(("src", "tgt"), [("astronaut", "hopper"), ("hopper", "astronaut")])
def test_cross_identity_swaps_score_above_the_originals(held_out, landmarker, src, tgt):
    from voxlab.face.boundary import WEIGHTS, auc, load_boundary, make_swap_set, score_crops

    if not WEIGHTS.is_file():
        pytest.skip("boundary weights not built (python -m voxlab.face.boundary)")
    x, y = make_swap_set([held_out[tgt]], 8, seed=11, landmarker=landmarker,
                         sources=[held_out[src]])  # fmt: skip
    assert (y == 1).sum() == (y == 0).sum() >= 6
    s = score_crops(load_boundary(), x)
    # benchmarks/face_detect.py --section boundary (40 pairs): see the README's figures
    assert s[y == 1].mean() > s[y == 0].mean()
    assert auc(s[y == 1], s[y == 0]) > 0.8
