"""Detection, landmarks, tracking and aligned crops on the package-shipped face."""

from __future__ import annotations

import numpy as np
import pytest


def test_one_face_with_68_points_inside_its_box(face_photo, landmarker):
    faces = landmarker.faces(face_photo)
    assert len(faces) == 1
    left, _, right, _ = faces[0].box
    pts = faces[0].points
    assert pts.shape == (68, 2)
    # the eyes sit above the mouth and the nose tip between them
    assert pts[36:48, 1].mean() < pts[30, 1] < pts[48:60, 1].mean()
    assert (pts[:, 0] > left - 20).all() and (pts[:, 0] < right + 20).all()


def test_blank_image_has_no_face(landmarker):
    from voxlab.face.errors import NoFaceError

    with pytest.raises(NoFaceError, match="no face found"):
        landmarker.face(np.full((200, 200, 3), 128, np.uint8), name="grey.png")


def test_face_index_beyond_the_faces_found(face_photo, landmarker):
    from voxlab.face.errors import FaceError

    with pytest.raises(FaceError, match="--face-index 3 asked but 1 face"):
        landmarker.face(face_photo, face_index=3)


def test_two_faces_largest_first(face_photo, landmarker):
    import cv2

    from voxlab.face.landmarks import Landmarker

    both = Landmarker(detect_side=640)  # shares the loaded models
    small = cv2.resize(face_photo, (240, 240))
    canvas = np.concatenate([face_photo, np.pad(small, ((0, 80), (0, 0), (0, 0)))], axis=1)
    boxes = both.boxes(canvas)
    assert len(boxes) == 2
    assert both.face(canvas).box[0] < 320  # the big one (left)
    assert both.face(canvas, face_index=1).box[0] >= 320


def test_aligned_crop_undoes_rotation(face_photo, landmarker):
    import cv2

    from voxlab.face.landmarks import align_crop

    h, w = face_photo.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), 12, 1.1)
    turned = cv2.warpAffine(face_photo, m, (w, h), borderMode=cv2.BORDER_REFLECT)
    a = align_crop(face_photo, landmarker.face(face_photo).points, size=96).astype(float)
    b = align_crop(turned, landmarker.face(turned).points, size=96).astype(float)
    assert a.shape == (96, 96, 3)
    raw = np.corrcoef(face_photo[::4, ::4].ravel(), turned[::4, ::4].ravel())[0, 1]
    aligned = np.corrcoef(a.ravel(), b.ravel())[0, 1]
    assert aligned > 0.9 > raw


def test_tracker_smoothing_damps_jitter(face_photo, landmarker):
    from voxlab.face.landmarks import FaceTracker

    rng = np.random.default_rng(0)

    def jitter_track(smoothing):
        tr = FaceTracker(landmarker, smoothing=smoothing, redetect=1, stabilise="ema")
        out = []
        for _ in range(6):
            noisy = np.clip(face_photo + rng.normal(0, 12, face_photo.shape), 0, 255)
            out.append(tr.update(noisy.astype(np.uint8)))
        return np.std(np.stack(out), axis=0).mean()

    assert jitter_track(0.7) < jitter_track(0.0)


def test_bad_smoothing_is_refused(landmarker):
    from voxlab.face.errors import FaceError
    from voxlab.face.landmarks import FaceTracker

    with pytest.raises(FaceError, match="smoothing"):
        FaceTracker(landmarker, smoothing=1.5)
