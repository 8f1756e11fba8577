"""Landmark face swap.

Delaunay warp of a source face onto each target frame, colour
transfer, Poisson blending (``cv2.seamlessClone``) and temporal stabilisation (landmarks
from :class:`~voxlab.face.landmarks.FaceTracker`: optical flow fused with detection, or
exponential smoothing).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from voxlab.face.errors import need_cv2
from voxlab.face.landmarks import FaceTracker, Landmarker
from voxlab.face.warp import colour_transfer, hull_mask, triangulate, warp_triangles

#: Landmarks that bound the swapped region: jaw, brows (the whole face hull).
_REGION = np.r_[0:68]


def _drawable(tris: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """Triangles with a non-zero area at ``pts``.

    A collapsed triangle (e.g. the closed lips' points 63 and 65 on the same pixel, as raw
    dlib landmarks are whole pixels) covers no pixel, and its singular affine map makes
    ``cv2.warpAffine`` take ~1 s.
    """
    a, b, c = pts[tris[:, 0]], pts[tris[:, 1]], pts[tris[:, 2]]
    area2 = np.abs(
        (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])
    )
    return tris[area2 > 1e-3]


@dataclass
class SwapStats:
    """Counts from one swap run."""

    frames: int = 0
    swapped: int = 0
    no_face: int = 0


class TrackedSwap(ABC):
    """Frame loop shared by the swappers: track the target face, then ``swap_points``.

    A subclass sets ``self.tracker`` (:class:`~voxlab.face.landmarks.FaceTracker`) and
    ``self.stats`` (:class:`SwapStats`) and defines ``swap_points(frame, points)``.
    """

    tracker: FaceTracker
    stats: SwapStats

    @abstractmethod
    def swap_points(self, frame: np.ndarray, points: np.ndarray) -> np.ndarray:
        """Swap the face whose 68 landmarks are ``points``."""

    def swap_frame(self, frame: np.ndarray) -> np.ndarray:
        """Track the target face in ``frame`` and swap; frames without a face pass through."""
        self.stats.frames += 1
        pts = self.tracker.update(frame)
        if pts is None:
            self.stats.no_face += 1
            return frame
        self.stats.swapped += 1
        return self.swap_points(frame, pts)

    def swap_frames(self, frames: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
        """:meth:`swap_frame` over a stream of frames (bounded memory)."""
        for frame in frames:
            yield self.swap_frame(frame)


class FaceSwapper(TrackedSwap):
    """Put one source face onto the tracked face of each target frame.

    Args:
        source: RGB uint8 image of the source face. Shape: ``(h, w, 3)``.
        landmarker: Shared detector/predictor; a default one when None.
        source_index: Which face of the source image (0 = largest).
        target_index: Which face of the target frames (0 = largest).
        smoothing: EMA landmark smoothing weight in ``[0, 1)`` (``stabilise="ema"``).
        stabilise: Temporal stabilisation of the target landmarks: ``"flow"`` (optical
            flow fused with detection), ``"ema"`` (exponential smoothing) or ``"none"``
            (see :class:`~voxlab.face.landmarks.FaceTracker`).
        blend: ``"poisson"`` (seamlessClone) or ``"alpha"`` (feathered mask, faster).
        name: Name of the source in error messages.

    Raises:
        NoFaceError: The source image shows no face.
    """

    def __init__(
        self,
        source: np.ndarray,
        *,
        landmarker: Landmarker | None = None,
        source_index: int | None = None,
        target_index: int | None = None,
        smoothing: float = 0.5,
        stabilise: str = "flow",
        blend: str = "poisson",
        name: str = "source image",
    ):
        self.cv2 = need_cv2()
        self.lm = landmarker or Landmarker()
        self.source = np.ascontiguousarray(source)
        self.src_pts = self.lm.face(source, face_index=source_index, name=name).points
        self.tris = triangulate(self.src_pts)
        self.tracker = FaceTracker(self.lm, smoothing=smoothing, face_index=target_index,
                                   stabilise=stabilise)  # fmt: skip
        if blend not in ("poisson", "alpha"):
            raise ValueError(f"blend must be 'poisson' or 'alpha', not {blend!r}")
        self.blend = blend
        self.stats = SwapStats()

    def swap_points(self, frame: np.ndarray, points: np.ndarray) -> np.ndarray:
        """Swap the source face onto ``frame`` at the given landmarks.

        Args:
            frame: RGB uint8. Shape: ``(H, W, 3)``.
            points: Target landmarks. Shape: ``(68, 2)``.

        Returns:
            The swapped frame (new array). Shape: ``(H, W, 3)``.
        """
        cv2 = self.cv2
        H, W = frame.shape[:2]
        pts = np.clip(points, [1, 1], [W - 2, H - 2])
        x0, y0 = np.floor(pts.min(0)).astype(int) - 4
        x1, y1 = np.ceil(pts.max(0)).astype(int) + 4
        x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, W), min(y1, H)
        local = pts - [x0, y0]
        roi = frame[y0:y1, x0:x1]
        warped = roi.copy()
        warp_triangles(self.source, warped, self.src_pts, local, _drawable(self.tris, local))
        mask = hull_mask(local[_REGION], roi.shape[:2])
        mask = cv2.erode(mask, np.ones((3, 3), np.uint8))
        warped = colour_transfer(warped, roi, mask)
        out = frame.copy()
        if self.blend == "poisson" and mask.any():
            ys, xs = np.nonzero(mask)
            cx = int((xs.min() + xs.max()) // 2) + x0
            cy = int((ys.min() + ys.max()) // 2) + y0
            try:
                out = cv2.seamlessClone(warped, frame, mask, (cx, cy), cv2.NORMAL_CLONE)
                return out
            except cv2.error:
                pass  # mask touching the border: fall back to alpha blending
        soft = cv2.GaussianBlur(mask, (0, 0), max(1.0, 0.02 * (x1 - x0)))[..., None] / 255.0
        out[y0:y1, x0:x1] = (warped * soft + roi * (1 - soft)).astype(np.uint8)
        return out
