"""Landmark swap and talking face on the package-shipped face."""

from __future__ import annotations

import numpy as np
import pytest


def test_swap_changes_the_face_and_keeps_the_background(face_photo, landmarker):
    from voxlab.face.boundary import source_variant
    from voxlab.face.swap import FaceSwapper
    from voxlab.face.warp import hull_mask

    source = source_variant(face_photo, np.random.default_rng(3))
    swapper = FaceSwapper(source, landmarker=landmarker, smoothing=0.0)
    pts = landmarker.face(face_photo).points
    out = swapper.swap_points(face_photo, pts)
    inside = hull_mask(pts, face_photo.shape[:2]) > 0
    diff = np.abs(out.astype(int) - face_photo.astype(int)).sum(-1)
    assert diff[inside].mean() > 3.0
    far = np.ones_like(inside)
    far[60:300, 40:280] = False
    assert diff[far].mean() < 0.5
    # the swapped frame still shows a face at the same place
    again = landmarker.face(out).points
    assert np.median(np.linalg.norm(again - pts, axis=1)) < 6


def test_frames_without_a_face_pass_through(face_photo, landmarker):
    from voxlab.face.swap import FaceSwapper

    swapper = FaceSwapper(face_photo, landmarker=landmarker)
    grey = np.full_like(face_photo, 90)
    assert np.array_equal(swapper.swap_frame(grey), grey)
    assert swapper.stats.no_face == 1


def test_mouth_follows_loudness():
    from voxlab.face.talk import blink_curve, mouth_from_audio

    sr = 16_000
    t = np.arange(2 * sr) / sr
    speech = 0.3 * np.sin(2 * np.pi * 600 * t) * (t >= 1.0)
    track = mouth_from_audio(speech, sr, fps=25)
    assert len(track.opening) == 50
    assert track.opening[:20].max() < 0.05
    assert track.opening[30:].mean() > 0.7
    blinks = blink_curve(250, 25, seed=1)
    assert blinks.max() == pytest.approx(1.0, abs=0.2) and (blinks > 0.5).mean() < 0.1


def test_phoneme_visemes_close_on_bilabials():
    from voxlab.face.talk import visemes_from_phonemes

    track = visemes_from_phonemes([(0.0, 0.4, "a"), (0.4, 0.8, "m")], duration=0.8, fps=25)
    assert track.opening[8] > 0.5 > track.opening[-1]


def test_rendered_mouth_opens_as_asked(face_photo, landmarker):
    from voxlab.face.sync import mouth_opening
    from voxlab.face.talk import TalkingFace

    face = TalkingFace(face_photo, landmarker=landmarker, head_motion=0.0)
    shut = face.render(0.0, 0.0, 0.0, 0.0)
    wide = face.render(1.0, 0.0, 0.0, 0.0)
    assert wide.shape == face_photo.shape
    o_shut = mouth_opening(landmarker.face(shut).points)
    o_wide = mouth_opening(landmarker.face(wide).points)
    assert o_wide > o_shut + 0.1
