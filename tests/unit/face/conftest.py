"""Face fixtures: the package-shipped face (Debian opencv-doc's messi5.jpg, BSD-3-Clause)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

MESSI = Path("/usr/share/doc/opencv-doc/examples/data/messi5.jpg")


@pytest.fixture(scope="session")
def face_libs():
    """Skips when OpenCV, dlib or the landmark model is missing (``make install`` has them)."""
    pytest.importorskip("cv2", reason="opencv-python-headless is not installed (face extra)")
    pytest.importorskip("dlib", reason="dlib-bin is not installed (face extra)")
    from voxlab.face.errors import FaceModelMissingError
    from voxlab.face.landmarks import landmark_model_path

    try:
        landmark_model_path()
    except FaceModelMissingError as exc:
        pytest.skip(str(exc))
    return True


@pytest.fixture(scope="session")
def face_photo(face_libs) -> np.ndarray:
    """messi5.jpg cropped around the face and upscaled 2x (320x320 RGB)."""
    if not MESSI.is_file():
        pytest.skip(f"{MESSI} missing (apt-get install opencv-doc)")
    from voxlab.face.boundary import training_faces

    return training_faces()[0]


@pytest.fixture(scope="session")
def landmarker(face_libs):
    """One shared detector + predictor."""
    from voxlab.face.landmarks import Landmarker

    return Landmarker()
