"""Face photos that installed packages ship with a stated licence, cropped around the face.

voxlab never scrapes faces: its tests, recipes and benchmarks pose and swap these photos.

- ``messi``: ``examples/data/messi5.jpg`` of Debian ``opencv-doc``; BSD-3-Clause (OpenCV
  sample data).
- ``hopper``: ``mpl-data/sample_data/grace_hopper.jpg`` of matplotlib; public domain (US Navy
  photograph).
- ``astronaut``: ``skimage/data/astronaut.png`` of scikit-image; public domain (NASA photograph).

The blending-boundary recipe trains on ``messi`` and ``hopper``; ``astronaut`` is held out
from it (``benchmarks/face_detect.py`` scores it, and leaves each face out in turn).

Example:
    ``load_face("hopper")`` is Grace Hopper's portrait as RGB uint8 320x320, face centred;
    ``SAMPLE_FACES["hopper"].licence`` says why voxlab may use it.
"""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voxlab.face.errors import FaceError, NoFaceError

#: The two portraits (large, sharp faces): what the synchrony and stabilisation benchmarks
#: animate and swap. The boundary CNN's own split is ``voxlab.face.boundary.TRAINING_IDS``
#: (messi, hopper) and ``HELD_OUT_ID`` (astronaut).
PORTRAITS = ("hopper", "astronaut")


class SampleFaceMissingError(FaceError):
    """The package that ships a sample face is not installed."""


def _messi() -> Path:
    return Path("/usr/share/doc/opencv-doc/examples/data/messi5.jpg")


def _package_file(module: str, *parts: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return Path("<", module, "not installed>")
    return Path(next(iter(spec.submodule_search_locations)), *parts)


@dataclass(frozen=True)
class SampleFace:
    """One package-shipped face photo.

    Attributes:
        name: Short name (``messi``, ``hopper``, ``astronaut``).
        locate: Returns where the installed package keeps the file.
        install: The command that installs that package.
        licence: Licence / copyright status of the photo, with its source.
        context: Side of the square crop in face widths (landmark extent); the photo's
            framing: messi is a small face in a football photo (5.0 reproduces the
            recipe's original crop), the portraits are cropped tighter.
    """

    name: str
    locate: Callable[[], Path]
    install: str
    licence: str
    context: float = 2.2

    @property
    def path(self) -> Path:
        """The photo file (may not exist: see :func:`face_path`)."""
        return self.locate()


SAMPLE_FACES: dict[str, SampleFace] = {
    "messi": SampleFace(
        name="messi",
        locate=_messi,
        install="apt-get install opencv-doc",
        licence="BSD-3-Clause (OpenCV sample data, Debian opencv-doc)",
        context=5.0,
    ),
    "hopper": SampleFace(
        name="hopper",
        locate=lambda: _package_file("matplotlib", "mpl-data", "sample_data", "grace_hopper.jpg"),
        install="pip install matplotlib",
        licence=(
            "public domain (official US Navy photograph of Grace Hopper, a work of the US "
            "federal government; shipped in matplotlib's sample_data, whose README states no "
            "other terms)"
        ),
    ),
    "astronaut": SampleFace(
        name="astronaut",
        locate=lambda: _package_file("skimage", "data", "astronaut.png"),
        install="pip install scikit-image  # or: pip install 'voxlab[face]'",
        licence=(
            "public domain (NASA photograph of Eileen Collins; scikit-image's data docs: "
            "'No known copyright restrictions, released into the public domain')"
        ),
    ),
}


def sample(name: str) -> SampleFace:
    """The entry of one sample face.

    Raises:
        FaceError: Unknown name (the message lists the known ones).
    """
    try:
        return SAMPLE_FACES[name]
    except KeyError:
        raise FaceError(
            f"unknown sample face {name!r}; choose one of {', '.join(SAMPLE_FACES)}"
        ) from None


def face_path(name: str) -> Path:
    """The installed photo file of a sample face.

    Raises:
        SampleFaceMissingError: Its package is not installed (the message says which).
    """
    entry = sample(name)
    path = entry.path
    if not path.is_file():
        raise SampleFaceMissingError(
            f"{path}: sample face {name!r} is missing; install it with `{entry.install}`"
        )
    return path


def available() -> list[str]:
    """Names of the sample faces whose package is installed."""
    return [n for n, e in SAMPLE_FACES.items() if e.path.is_file()]


def crop_box(points: np.ndarray, image_shape: tuple[int, ...], context: float):
    """A square ``(left, top, side)`` around landmarks, kept inside the image.

    Args:
        points: 68 landmarks. Shape: ``(68, 2)``.
        image_shape: ``(height, width, ...)`` of the photo.
        context: Side in face widths (the larger of the landmarks' x and y extent).
    """
    h, w = image_shape[:2]
    centre = points.mean(axis=0)
    side = int(round(min(context * float(np.ptp(points, axis=0).max()), h, w)))
    left = int(np.clip(round(centre[0] - side / 2), 0, w - side))
    top = int(np.clip(round(centre[1] - side / 2), 0, h - side))
    return left, top, side


@functools.lru_cache(maxsize=16)
def _load(path: Path, size: int, context: float) -> np.ndarray:
    from voxlab.av.video import read_image
    from voxlab.face.errors import need_cv2
    from voxlab.face.landmarks import Landmarker

    cv2 = need_cv2()
    image = read_image(path)
    # detect at full resolution: a small face (messi's is ~35 px) is lost when downscaled
    faces = Landmarker(detect_side=max(image.shape[:2])).faces(image)
    if not faces:
        raise NoFaceError(f"{path}: no face found in this sample photo")
    left, top, side = crop_box(faces[0].points, image.shape, context)
    crop = image[top : top + side, left : left + side]
    interp = cv2.INTER_CUBIC if side < size else cv2.INTER_AREA
    out = cv2.resize(crop, (size, size), interpolation=interp)
    out.setflags(write=False)
    return out


def load_face(name: str, *, size: int = 320) -> np.ndarray:
    """A sample face photo cropped around its largest face (found by voxlab's Landmarker).

    Args:
        name: ``messi``, ``hopper`` or ``astronaut``.
        size: Side of the returned square image.

    Returns:
        RGB uint8 (a fresh, writable copy). Shape: ``(size, size, 3)``.

    Raises:
        FaceError: Unknown name or ``size`` < 64.
        SampleFaceMissingError: The package shipping it is not installed.
        NoFaceError: No face found in the photo.
    """
    entry = sample(name)
    if size < 64:
        raise FaceError(f"sample face size {size} is too small; use >= 64")
    return _load(face_path(name), int(size), entry.context).copy()
