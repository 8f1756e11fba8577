"""Piecewise-affine warp: collapsed (zero-area) triangles are skipped, not drawn."""

from __future__ import annotations

import numpy as np
import pytest

cv2 = pytest.importorskip("cv2", reason="opencv-python-headless is not installed (face extra)")


def test_triangle_area2():
    from voxlab.face.warp import triangle_area2

    pts = np.array([[0, 0], [4, 0], [0, 3], [8, 0]], float)
    assert triangle_area2(pts, np.array([[0, 1, 2], [0, 1, 3]])).tolist() == [12.0, 0.0]


# Without the skip this one triangle takes ~80 CPU-s in cv2.warpAffine (its singular map's
# inverse is ~1e16 and BORDER_REFLECT_101 folds that back period by period); the timeout
# turns a regression into a failure instead of a hang.
@pytest.mark.timeout(20)
def test_collapsed_triangle_is_skipped_and_others_drawn():
    from voxlab.face.warp import warp_triangles

    rng = np.random.default_rng(0)
    src = rng.integers(0, 255, (160, 160, 3), dtype=np.uint8)
    src_pts = np.array([[10, 10], [100, 10], [50, 80], [10, 10], [100, 10], [50, 80]], float)
    # triangle 0 collapses (two vertices on one pixel, as closed lips do); triangle 1 does not
    dst_pts = np.array([[50, 50], [50, 50], [120, 110], [20, 20], [90, 25], [40, 90]], float)
    tris = np.array([[0, 1, 2], [3, 4, 5]])
    dst = np.zeros_like(src)
    warp_triangles(src, dst, src_pts, dst_pts, tris[:1])
    assert not dst.any()  # nothing drawn, not even the anti-aliased line
    warp_triangles(src, dst, src_pts, dst_pts, tris)
    inside = np.zeros(dst.shape[:2], np.uint8)
    cv2.fillConvexPoly(inside, dst_pts[3:].astype(np.int32), 1)
    assert dst[inside > 0].any() and not dst[cv2.dilate(inside, np.ones((5, 5))) == 0].any()
