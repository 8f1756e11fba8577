"""Faces: detection, 68-point landmarks, alignment, swap, talking faces and their detectors.

Landmarks come from dlib's 68-point shape predictor (PyPI ``face-recognition-models``,
MIT; the model was trained on iBUG 300-W) run by PyPI ``dlib-bin``; pixels are moved with
OpenCV (``opencv-python-headless``). Both are in the ``face`` extra::

    from voxlab.face import FaceTracker
    from voxlab.av import read_frames
    tracker = FaceTracker()
    for frame in read_frames("clip.mp4"):
        points = tracker.update(frame)        # (68, 2), temporally smoothed
"""

from voxlab.face.errors import FaceError, FaceModelMissingError, NoFaceError
from voxlab.face.landmarks import FaceTracker, Landmarker, align_crop

__all__ = [
    "FaceError",
    "FaceModelMissingError",
    "FaceTracker",
    "Landmarker",
    "NoFaceError",
    "align_crop",
]
