"""Errors of the face side (all :class:`~voxlab.errors.VoxlabError`)."""

from __future__ import annotations

from voxlab.errors import VoxlabError


class FaceError(VoxlabError):
    """A face operation could not be done on this input."""


class NoFaceError(FaceError):
    """No face was found where one is needed."""


class FaceModelMissingError(FaceError):
    """dlib, OpenCV or the landmark model is not installed."""


def need_cv2():
    """Import OpenCV or say how to install it."""
    try:
        import cv2
    except ImportError as exc:
        raise FaceModelMissingError(
            "OpenCV is not installed; run `pip install 'voxlab[face]'` (opencv-python-headless)"
        ) from exc
    return cv2


def need_dlib():
    """Import dlib or say how to install it."""
    try:
        import dlib
    except ImportError as exc:
        raise FaceModelMissingError(
            "dlib is not installed; run `pip install 'voxlab[face]'` (dlib-bin wheel)"
        ) from exc
    return dlib
