"""Piecewise-affine warps over a Delaunay triangulation of landmarks, colour transfer.

Shared by the swap (source face onto a target frame) and the talking face (moving the
mouth, eyelids and jaw of one photo).
"""

from __future__ import annotations

import numpy as np

from voxlab.face.errors import need_cv2

#: Triangles with twice their area (px^2) at or below this are not drawn.
_MIN_AREA2 = 1e-3


def triangulate(points: np.ndarray) -> np.ndarray:
    """Delaunay triangles over points, as vertex indices.

    Args:
        points: Shape: ``(n, 2)``.

    Returns:
        int32 indices. Shape: ``(triangles, 3)``.
    """
    from scipy.spatial import Delaunay

    return Delaunay(np.asarray(points, dtype=np.float64)).simplices.astype(np.int32)


def triangle_area2(points: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """Twice the area of each triangle at ``points``.

    Args:
        points: Shape: ``(n, 2)``.
        triangles: Vertex indices. Shape: ``(t, 3)``.

    Returns:
        float64. Shape: ``(t,)``.
    """
    p = np.asarray(points, dtype=np.float64)
    tri = np.asarray(triangles, dtype=np.int64).reshape(-1, 3)
    a, b, c = p[tri[:, 0]], p[tri[:, 1]], p[tri[:, 2]]
    return np.abs(
        (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])
    )


def warp_triangles(
    src: np.ndarray,
    dst: np.ndarray,
    src_pts: np.ndarray,
    dst_pts: np.ndarray,
    triangles: np.ndarray,
    *,
    only_moved: float | None = None,
) -> np.ndarray:
    """Warp ``src`` triangle by triangle so ``src_pts`` land on ``dst_pts``, drawn into ``dst``.

    Args:
        src: Image the pixels come from. Shape: ``(h, w, 3)``.
        dst: Image drawn into (modified in place and returned). Shape: ``(H, W, 3)``.
        src_pts: Points in ``src``. Shape: ``(n, 2)``.
        dst_pts: Where they go in ``dst``. Shape: ``(n, 2)``.
        triangles: Vertex indices. Shape: ``(t, 3)``.
        only_moved: Skip triangles whose vertices all moved less than this (pixels),
            when ``src`` and ``dst`` share coordinates (speed for small local motions).

    Returns:
        ``dst``.

    Triangles of (near) zero area at ``dst_pts`` are skipped: they cover no pixel, and the
    inverse of their singular affine map sends ``cv2.warpAffine`` to coordinates ~1e16,
    which ``BORDER_REFLECT_101`` folds back one period at a time (seconds to minutes per
    triangle). Collapsed triangles are common: closed lips put raw dlib points 63 and 65
    on the same pixel.
    """
    cv2 = need_cv2()
    H, W = dst.shape[:2]
    triangles = np.asarray(triangles).reshape(-1, 3)
    for tri in triangles[triangle_area2(dst_pts, triangles) > _MIN_AREA2]:
        s = src_pts[tri].astype(np.float32)
        d = dst_pts[tri].astype(np.float32)
        if only_moved is not None and np.abs(s - d).max() < only_moved:
            continue
        x, y, w, h = cv2.boundingRect(d)
        x0, y0 = max(x, 0), max(y, 0)
        x1, y1 = min(x + w, W), min(y + h, H)
        if x1 <= x0 or y1 <= y0:
            continue
        m = cv2.getAffineTransform(s, d - np.float32([x0, y0]))
        patch = cv2.warpAffine(src, m, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_REFLECT_101)  # fmt: skip
        mask = np.zeros((y1 - y0, x1 - x0), dtype=np.uint8)
        cv2.fillConvexPoly(mask, np.round(d - [x0, y0]).astype(np.int32), 255, cv2.LINE_AA)
        region = dst[y0:y1, x0:x1]
        a = (mask.astype(np.float32) / 255.0)[..., None]
        region[:] = (patch * a + region * (1.0 - a)).astype(np.uint8)
    return dst


def colour_transfer(src: np.ndarray, ref: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Reinhard colour transfer in Lab: ``src`` takes ``ref``'s mean/std inside ``mask``.

    Args:
        src: RGB uint8. Shape: ``(h, w, 3)``.
        ref: RGB uint8 of the same size.
        mask: Region to match (non-zero). Shape: ``(h, w)``.

    Returns:
        RGB uint8 with the colours of ``ref``. Shape: ``(h, w, 3)``.
    """
    cv2 = need_cv2()
    sel = mask > 0
    if sel.sum() < 16:
        return src
    a = cv2.cvtColor(src, cv2.COLOR_RGB2LAB).astype(np.float32)
    b = cv2.cvtColor(ref, cv2.COLOR_RGB2LAB).astype(np.float32)
    ma, sa = a[sel].mean(0), a[sel].std(0) + 1e-3
    mb, sb = b[sel].mean(0), b[sel].std(0) + 1e-3
    out = (a - ma) * (sb / sa) + mb
    return cv2.cvtColor(np.clip(out, 0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB)


def hull_mask(points: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Filled convex hull of points. Shape: ``shape`` (uint8, 255 inside)."""
    cv2 = need_cv2()
    mask = np.zeros(shape, dtype=np.uint8)
    hull = cv2.convexHull(np.round(points).astype(np.int32))
    cv2.fillConvexPoly(mask, hull, 255)
    return mask
