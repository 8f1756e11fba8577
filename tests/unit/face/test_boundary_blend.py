"""The boundary recipe's augmentations: self-blends, degrading, per-crop normalisation."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def posed(face_photo, landmarker):
    from voxlab.face.boundary import random_pose

    frame = random_pose(face_photo, np.random.default_rng(3))
    return frame, landmarker.face(frame).points


def test_self_blend_changes_only_a_band_around_the_face(posed):
    import cv2

    from voxlab.face.boundary import self_blend
    from voxlab.face.warp import hull_mask

    frame, pts = posed
    hull = hull_mask(pts, frame.shape[:2])
    width = float(np.ptp(pts, axis=0).max())
    # the widest the recipe draws: hull x1.05, dilated by 4% and feathered by 6% of the width
    reach = int(0.05 * width + 2 * 0.04 * width + 3 * 0.06 * width) + 4
    outside = cv2.dilate(hull, np.ones((2 * reach + 1,) * 2, np.uint8)) == 0
    assert outside.mean() > 0.2
    for seed in range(8):  # covers alpha and Poisson blends
        blended, mask = self_blend(frame, pts, np.random.default_rng(seed))
        assert blended.shape == frame.shape and blended.dtype == np.uint8
        diff = np.abs(blended.astype(int) - frame).max(-1)
        assert diff.max() > 10  # the altered copy shows
        assert not diff[mask == 0].any()  # pixels outside the returned mask are untouched
        assert not diff[outside].any()  # ... and that mask is a band around the face
        again, _ = self_blend(frame, pts, np.random.default_rng(seed))
        assert np.array_equal(again, blended)


def test_self_blend_set_is_balanced_aligned_crops_with_seam_maps(face_photo, landmarker):
    from voxlab.face.boundary import CROP, MAP, self_blend_set

    x, y, maps = self_blend_set([face_photo], 3, seed=0, landmarker=landmarker, maps=True)
    assert x.shape == (6, CROP, CROP, 3) and x.dtype == np.uint8
    assert y.tolist() == [0, 1] * 3 and maps.shape == (6, MAP, MAP)
    for i in range(0, 6, 2):
        diff = np.abs(x[i].astype(int) - x[i + 1]).max(-1)
        assert diff.max() > 0 and not maps[i].any()
        # the seam map lies where the crops differ, and not in the middle of the face
        seam = maps[i + 1] > 0.5
        assert seam.any() and not seam[6:10, 6:10].any()
        cells = diff.reshape(MAP, 4, MAP, 4).max((1, 3))
        assert cells[seam].mean() > cells[maps[i + 1] == 0].mean()


def test_degrade_is_seeded_and_keeps_shape():
    from voxlab.face.boundary import degrade

    rng = np.random.default_rng(0)
    crops = rng.integers(0, 255, (16, 64, 64, 3), dtype=np.uint8)
    a = degrade(crops, np.random.default_rng(1))
    assert a.shape == crops.shape and a.dtype == np.uint8
    assert np.array_equal(a, degrade(crops, np.random.default_rng(1)))
    assert (np.abs(a.astype(int) - crops).reshape(16, -1).max(1) > 0).all()


def test_normalised_cnn_ignores_global_colour_and_exposure():
    torch = pytest.importorskip("torch")
    from voxlab.face.boundary import BoundaryCNN, standardise

    torch.manual_seed(0)
    x = 0.2 + 0.5 * torch.rand(4, 3, 64, 64)
    moved = x * torch.tensor([0.8, 1.1, 0.9]).view(1, 3, 1, 1) + 0.05  # colour cast, brighter
    z = standardise(x)
    assert torch.allclose(z.mean((2, 3)), torch.zeros(4, 3), atol=1e-5)
    # the same crop after a global change: equal up to eps's share of the spread (s ~ 0.14:
    # |g(s + eps) / (g s + eps) - 1| < 4 %)
    assert ((standardise(moved) - z).abs() <= 0.04 * z.abs() + 1e-5).all()
    model = BoundaryCNN().eval()
    with torch.no_grad():
        inner = model.head(model.features(z)).squeeze(1)
        assert torch.allclose(model.boundary_map(x), inner)
        plain = BoundaryCNN(normalise=False).eval()
        plain.load_state_dict(model.state_dict())
        assert not torch.allclose(plain.boundary_map(x), inner)
        assert model(x).shape == (4,)


def test_training_set_is_balanced_per_identity(face_photo, landmarker):
    from voxlab.face.boundary import BoundaryRecipe, training_set

    other = face_photo[:, ::-1].copy()  # a second 'identity' (mirrored), cheap to pose
    recipe = BoundaryRecipe(swap_pairs=2, self_blends=2, steps=1)
    x, y, maps = training_set({"a": face_photo, "b": other}, recipe, seed=0, landmarker=landmarker)
    # 4 ordered pairs x 2 swaps + 2 identities x 2 blends, each with its original
    assert len(y) == len(x) == len(maps) == 2 * (4 * 2 + 2 * 2) and y.sum() == len(y) // 2
    assert not maps[y == 0].any() and (maps[y == 1].max((1, 2)) == 1).all()


def test_degrade_photo_keeps_size_and_sometimes_the_photo(face_photo):
    from voxlab.face.boundary import degrade_photo

    rng = np.random.default_rng(0)
    outs = [degrade_photo(face_photo, rng) for _ in range(8)]
    same = [o is face_photo for o in outs]
    assert any(same) and not all(same)
    for o in outs:
        assert o.shape == face_photo.shape and o.dtype == np.uint8
    changed = next(o for o in outs if o is not face_photo)
    assert 0 < np.abs(changed.astype(int) - face_photo).mean() < 20  # blurred, not replaced
