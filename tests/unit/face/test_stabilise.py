"""Landmark stabilisation: optical flow fused with detection vs EMA vs none."""

from __future__ import annotations

import numpy as np
import pytest

from voxlab.face.errors import FaceError


def _noisy(photo: np.ndarray, n: int, *, step: float = 0.0, seed: int = 0):
    """``n`` frames of the photo with sensor noise (sigma 4), shifted ``step`` px per frame."""
    import cv2

    rng = np.random.default_rng(seed)
    h, w = photo.shape[:2]
    out = []
    for i in range(n):
        m = np.float32([[1, 0, step * i], [0, 1, 0.5 * step * i]])
        f = cv2.warpAffine(photo, m, (w, h), borderMode=cv2.BORDER_REFLECT)
        out.append(np.clip(f + rng.normal(0, 4.0, f.shape), 0, 255).astype(np.uint8))
    return out


def _track(frames, landmarker, mode):
    from voxlab.face.landmarks import FaceTracker

    tr = FaceTracker(landmarker, stabilise=mode, smoothing=0.5 if mode == "ema" else 0.0)
    return np.stack([tr.update(f) for f in frames])


def test_flow_keeps_a_still_face_still(face_photo, landmarker):
    frames = _noisy(face_photo, 12)
    motion = {
        m: float(np.median(np.linalg.norm(np.diff(_track(frames, landmarker, m), axis=0), axis=2)))
        for m in ("none", "flow")
    }
    # measured: none ~1-1.5 px, flow ~0.1 px (benchmarks/face_detect.py --section stabilise)
    assert motion["flow"] < 0.4 * motion["none"], motion


def test_flow_follows_a_moving_face_without_the_ema_lag(face_photo, landmarker):
    step = 3.0
    frames = _noisy(face_photo, 12, step=step, seed=1)
    base = landmarker.face(face_photo).points
    truth = np.stack([base + np.array([step * i, 0.5 * step * i]) for i in range(12)])
    err = {
        m: float(np.median(np.linalg.norm(_track(frames, landmarker, m) - truth, axis=2)[4:]))
        for m in ("ema", "flow")
    }
    assert err["flow"] < err["ema"], err


def test_flow_restarts_when_the_frame_size_changes(face_photo, landmarker):
    import cv2

    from voxlab.face.landmarks import FaceTracker

    tr = FaceTracker(landmarker)
    assert tr.update(face_photo) is not None
    big = cv2.resize(face_photo, (400, 400))
    pts = tr.update(big)  # no optical flow between frames of different sizes: detect again
    fresh = landmarker.face(big).points
    assert np.median(np.linalg.norm(pts - fresh, axis=1)) < 1.0


def test_unknown_stabiliser_is_a_clear_error(landmarker):
    from voxlab.face.landmarks import FaceTracker

    with pytest.raises(FaceError, match="flow, ema, none"):
        FaceTracker(landmarker, stabilise="kalman")


def test_collapsed_triangles_are_not_drawn():
    from voxlab.face.swap import _drawable

    tris = np.array([[0, 1, 2], [0, 1, 3]])
    pts = np.array([[0, 0], [10, 0], [10, 0], [5, 8]], dtype=np.float32)  # 1 and 2 coincide
    assert _drawable(tris, pts).tolist() == [[0, 1, 3]]
