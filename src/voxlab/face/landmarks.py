"""Face detection, 68-point landmarks with temporal smoothing, and aligned crops.

The 68 points follow the iBUG 300-W layout dlib uses: jaw 0-16, brows 17-26, nose 27-35,
eyes 36-47, outer lips 48-59, inner lips 60-67.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np

from voxlab.face.errors import FaceError, FaceModelMissingError, NoFaceError, need_cv2, need_dlib

#: Environment variable naming a ``shape_predictor_68_face_landmarks.dat`` to use.
MODEL_ENV = "VOXLAB_FACE_LANDMARKS"
#: Debian ``libdlib-data`` location of the same model (CC0).
DEBIAN_MODEL = Path("/usr/share/dlib/shape_predictor_68_face_landmarks.dat")
#: Detection runs on frames scaled so the longer side is at most this (speed).
DETECT_SIDE = 320

JAW = slice(0, 17)
LEFT_EYE = slice(36, 42)
RIGHT_EYE = slice(42, 48)
OUTER_LIPS = slice(48, 60)
INNER_LIPS = slice(60, 68)


def landmark_model_path() -> Path:
    """Where the 68-point model is: ``$VOXLAB_FACE_LANDMARKS``, the PyPI package, or Debian.

    Raises:
        FaceModelMissingError: None of them is installed.
    """
    env = os.environ.get(MODEL_ENV)
    if env:
        p = Path(env)
        if not p.is_file():
            raise FaceModelMissingError(f"{MODEL_ENV}={env}: no such file; fix the path")
        return p
    try:
        import face_recognition_models

        p = Path(face_recognition_models.pose_predictor_model_location())
        if p.is_file():
            return p
    except ImportError:
        pass
    if DEBIAN_MODEL.is_file():
        return DEBIAN_MODEL
    raise FaceModelMissingError(
        "the dlib 68-point landmark model is not installed; run "
        "`pip install face-recognition-models` (MIT) or `apt-get install libdlib-data`, "
        f"or set {MODEL_ENV}"
    )


@dataclass(frozen=True)
class Face:
    """One detected face.

    Attributes:
        box: ``(left, top, right, bottom)`` in pixels.
        points: 68 landmarks. Shape: ``(68, 2)``, float32 ``(x, y)``.
    """

    box: tuple[int, int, int, int]
    points: np.ndarray

    @property
    def area(self) -> int:
        """Box area in pixels."""
        left, top, right, bottom = self.box
        return max(0, right - left) * max(0, bottom - top)


class Landmarker:
    """dlib HOG face detector + 68-point shape predictor (models loaded once).

    Args:
        model: Path of ``shape_predictor_68_face_landmarks.dat``; found when None.
        detect_side: Longer side of the frame copy that detection runs on.
    """

    _cache: ClassVar[dict[str, object]] = {}

    def __init__(self, *, model: str | os.PathLike | None = None, detect_side: int = DETECT_SIDE):
        dlib = need_dlib()
        self.cv2 = need_cv2()
        path = str(model or landmark_model_path())
        if path not in self._cache:
            self._cache[path] = dlib.shape_predictor(path)
        self.predictor = self._cache[path]
        if "detector" not in self._cache:
            self._cache["detector"] = dlib.get_frontal_face_detector()
        self.detector = self._cache["detector"]
        self.detect_side = detect_side
        self._dlib = dlib

    def boxes(self, frame: np.ndarray) -> list[tuple[int, int, int, int]]:
        """Face boxes, largest first.

        Args:
            frame: RGB uint8. Shape: ``(height, width, 3)``.
        """
        h, w = frame.shape[:2]
        scale = min(1.0, self.detect_side / max(h, w))
        small = frame
        if scale < 1.0:
            small = self.cv2.resize(frame, (round(w * scale), round(h * scale)))
        gray = self.cv2.cvtColor(small, self.cv2.COLOR_RGB2GRAY)
        upsample = 1 if min(small.shape[:2]) < 400 else 0  # dlib HOG needs faces >= 80 px
        rects = self.detector(gray, upsample)
        out = [
            (
                int(r.left() / scale),
                int(r.top() / scale),
                int(r.right() / scale),
                int(r.bottom() / scale),
            )
            for r in rects
        ]
        return sorted(out, key=lambda b: -(b[2] - b[0]) * (b[3] - b[1]))

    def points_in(self, frame: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
        """68 landmarks inside a box. Shape: ``(68, 2)``."""
        gray = self.cv2.cvtColor(frame, self.cv2.COLOR_RGB2GRAY)
        shape = self.predictor(gray, self._dlib.rectangle(*box))
        return np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float32)

    def faces(self, frame: np.ndarray) -> list[Face]:
        """All faces with landmarks, largest first."""
        return [Face(box=b, points=self.points_in(frame, b)) for b in self.boxes(frame)]

    def face(
        self, frame: np.ndarray, *, face_index: int | None = None, name: str = "image"
    ) -> Face:
        """One face: the largest, or the ``face_index``-th by size.

        Raises:
            NoFaceError: No face found.
            FaceError: ``face_index`` beyond the faces found.
        """
        faces = self.faces(frame)
        if not faces:
            raise NoFaceError(
                f"{name}: no face found; use a frontal, well-lit face at least ~80 px wide"
            )
        idx = face_index or 0
        if idx < 0 or idx >= len(faces):
            raise FaceError(
                f"{name}: --face-index {idx} asked but {len(faces)} face(s) found "
                f"(0 = largest ... {len(faces) - 1} = smallest)"
            )
        return faces[idx]


def box_of(points: np.ndarray, margin: float = 0.05) -> tuple[int, int, int, int]:
    """A detector-like box around landmarks (for tracking without re-detection)."""
    x0, y0 = points.min(axis=0)
    x1, y1 = points.max(axis=0)
    m = margin * (x1 - x0)
    return int(x0 - m), int(y0 - m), int(x1 + m), int(y1 + m)


#: Ways :class:`FaceTracker` stabilises landmarks over time.
STABILISERS = ("flow", "ema", "none")


class FaceTracker:
    """Landmarks frame after frame, temporally stabilised.

    Detection runs every ``redetect`` frames, box tracking in between. Stabilisation:

    - ``"flow"``: pyramidal Lucas-Kanade optical flow carries the previous frame's
      stabilised points into this frame; each point is fused with the fresh detection,
      the detection's weight growing with its jump from the flow estimate
      (``d**2 / (d**2 + sigma**2)``, ``sigma`` = ``flow_sigma`` x face width) and set to 1
      where the flow fails its forward-backward check. A still face keeps the flow's
      (motionless) points; a moving face follows the flow, which has no lag.
    - ``"ema"``: exponential smoothing with weight ``smoothing`` (lowered on fast motion).
    - ``"none"``: the raw detections.

    Args:
        landmarker: Detector + predictor; a default one when None.
        smoothing: EMA weight of the previous points in ``[0, 1)``; 0 = no smoothing. Fast
            motion (points moving > 3 % of the face size) lowers it automatically.
        redetect: Run the full detector every this many frames.
        face_index: Which face by size (0 = largest) when several are found.
        stabilise: ``"flow"`` (default: on noisy 640x480 posed videos it cut the
            frame-to-frame jitter of a still face from ~1.4 px to ~0.1 px and, unlike EMA,
            adds no lag on a moving face; ``benchmarks/face_detect.py --section
            stabilise``), ``"ema"`` or ``"none"``.
        flow_sigma: Flow mode: detection jump (in face widths) at which flow and detection
            weigh the same.
    """

    def __init__(
        self,
        landmarker: Landmarker | None = None,
        *,
        smoothing: float = 0.5,
        redetect: int = 10,
        face_index: int | None = None,
        stabilise: str = "flow",
        flow_sigma: float = 0.02,
    ):
        if not 0.0 <= smoothing < 1.0:
            raise FaceError(f"smoothing {smoothing} must be in [0, 1)")
        if stabilise not in STABILISERS:
            raise FaceError(f"stabilise {stabilise!r}: use one of {', '.join(STABILISERS)}")
        if flow_sigma <= 0:
            raise FaceError(f"flow_sigma {flow_sigma} must be > 0")
        self.lm = landmarker or Landmarker()
        self.smoothing = smoothing
        self.redetect = max(1, redetect)
        self.face_index = face_index
        self.stabilise = stabilise
        self.flow_sigma = flow_sigma
        self.prev: np.ndarray | None = None
        self.prev_gray: np.ndarray | None = None
        self.prev_shape: tuple[int, ...] = ()
        self.count = 0

    def update(self, frame: np.ndarray, *, name: str = "frame") -> np.ndarray | None:
        """Stabilised landmarks of the tracked face in this frame, or None if it was lost.

        Shape: ``(68, 2)`` float32.
        """
        if self.prev is not None and self.prev_shape != frame.shape[:2]:
            self.prev = self.prev_gray = None  # another frame size: start afresh
        self.prev_shape = frame.shape[:2]
        raw = None
        if self.prev is None or self.count % self.redetect == 0:
            faces = self.lm.faces(frame)
            if faces:
                idx = min(self.face_index or 0, len(faces) - 1)
                raw = faces[idx].points
        if raw is None and self.prev is not None:
            raw = self.lm.points_in(frame, box_of(self.prev))
        self.count += 1
        gray = None
        if self.stabilise == "flow":
            gray = self.lm.cv2.cvtColor(frame, self.lm.cv2.COLOR_RGB2GRAY)
        if raw is None:
            self.prev = self.prev_gray = None
            return None
        if self.prev is not None:
            if self.stabilise == "flow" and self.prev_gray is not None:
                raw = self._fuse_flow(gray, raw)
            elif self.stabilise == "ema" and self.smoothing > 0:
                size = float(np.ptp(raw[:, 0])) + 1e-6
                motion = float(np.median(np.linalg.norm(raw - self.prev, axis=1))) / size
                alpha = self.smoothing if motion < 0.03 else self.smoothing * 0.3
                raw = alpha * self.prev + (1.0 - alpha) * raw
        self.prev = np.asarray(raw, dtype=np.float32)
        self.prev_gray = gray
        return self.prev

    def _fuse_flow(self, gray: np.ndarray, raw: np.ndarray) -> np.ndarray:
        """Fuse the flow-carried previous points with the detection ``raw``."""
        cv2 = self.lm.cv2
        lk = dict(winSize=(21, 21), maxLevel=3,
                  criteria=(cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 20, 0.03))  # fmt: skip
        p0 = self.prev.reshape(-1, 1, 2)
        p1, ok1, _ = cv2.calcOpticalFlowPyrLK(self.prev_gray, gray, p0, None, **lk)
        back, ok2, _ = cv2.calcOpticalFlowPyrLK(gray, self.prev_gray, p1, None, **lk)
        p1 = p1.reshape(-1, 2)
        size = float(np.ptp(raw[:, 0])) + 1e-6
        fb = np.linalg.norm(back.reshape(-1, 2) - self.prev, axis=1)
        good = (ok1.ravel() == 1) & (ok2.ravel() == 1) & (fb < 0.01 * size + 0.5)
        jump2 = ((raw - p1) ** 2).sum(axis=1)
        sigma2 = (self.flow_sigma * size) ** 2
        w = np.where(good, jump2 / (jump2 + sigma2), 1.0)[:, None]
        return w * raw + (1.0 - w) * p1


#: Canonical positions (fractions of the crop side) of left eye, right eye and mouth centre.
_TEMPLATE = np.array([[0.35, 0.40], [0.65, 0.40], [0.50, 0.75]], dtype=np.float32)


def align_matrix(points: np.ndarray, size: int) -> np.ndarray:
    """Similarity transform (2x3) taking the eyes and mouth to the canonical template."""
    cv2 = need_cv2()
    src = np.stack(
        [points[LEFT_EYE].mean(0), points[RIGHT_EYE].mean(0), points[OUTER_LIPS].mean(0)]
    ).astype(np.float32)
    m, _ = cv2.estimateAffinePartial2D(src, _TEMPLATE * size)
    if m is None:
        raise FaceError("landmarks are degenerate; cannot align this face")
    return m


def align_crop(frame: np.ndarray, points: np.ndarray, *, size: int = 128) -> np.ndarray:
    """An aligned square face crop (eyes level, fixed eye distance).

    Args:
        frame: RGB uint8. Shape: ``(height, width, 3)``.
        points: Its 68 landmarks. Shape: ``(68, 2)``.
        size: Side of the crop in pixels.

    Returns:
        RGB uint8. Shape: ``(size, size, 3)``.
    """
    cv2 = need_cv2()
    if size < 16:
        raise FaceError(f"crop size {size} is too small (>= 16)")
    m = align_matrix(points, size)
    return cv2.warpAffine(frame, m, (size, size), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REFLECT)  # fmt: skip
