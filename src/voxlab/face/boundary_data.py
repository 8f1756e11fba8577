"""Training and test data of the blending-boundary detector (:mod:`voxlab.face.boundary`).

Posed frames of a face photo (:func:`random_pose`), voxlab's own landmark swaps of them
(:func:`make_swap_set`, :func:`pair_sets`), self-blended images (:func:`self_blend`,
Shiohara & Yamasaki 2022) with their Face X-ray seam targets (:func:`boundary_target`, Li
et al. 2020), and the quality degradations applied to both classes (:func:`degrade_photo`
on photos, :func:`degrade` on crops). All aligned 64x64 crops, as the detector sees them.
"""

from __future__ import annotations

import zlib

import numpy as np

from voxlab.face.errors import need_cv2
from voxlab.face.warp import hull_mask

#: Crop side the CNN sees.
CROP = 64
#: Side of the boundary map (the crop after two 2x poolings).
MAP = CROP // 4


def random_pose(image: np.ndarray, rng: np.random.Generator, *, size: int | None = None):
    """The image under a random small rotation/zoom/shift (a 'pose' of a test video)."""
    import cv2

    h, w = image.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), rng.uniform(-8, 8), rng.uniform(0.9, 1.15))
    m[:, 2] += rng.uniform(-0.05, 0.05, 2) * (w, h)
    return cv2.warpAffine(image, m, (w, h), borderMode=cv2.BORDER_REFLECT)


def degrade_photo(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The photo as a lower-quality capture: shrunk, JPEG-coded and enlarged back (or not).

    Half of the draws return the photo unchanged; the rest shrink it to 20-80 % of its
    side, JPEG-code it at quality 30-90 and enlarge it back (bicubic), as a small face in a
    compressed photo or video frame looks once cropped, e.g. messi's 35-px face. Applied to
    the photo before posing, it reaches originals and swaps alike.

    Shape:
        ``(H, W, 3)`` uint8 -> same.
    """
    cv2 = need_cv2()
    if rng.random() < 0.5:
        return image
    h, w = image.shape[:2]
    f = rng.uniform(0.2, 0.8)
    small = cv2.resize(
        image, (max(8, int(w * f)), max(8, int(h * f))), interpolation=cv2.INTER_AREA
    )
    q = int(rng.integers(30, 91))
    buf = cv2.imencode(".jpg", small[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, q])[1]
    small = cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1]
    return np.ascontiguousarray(cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC))


def source_variant(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Another appearance of the face (flip, colour/gamma/blur change) to swap in."""
    import cv2

    out = image[:, ::-1] if rng.random() < 0.5 else image
    gain = rng.uniform(0.8, 1.2, 3)
    gamma = rng.uniform(0.8, 1.25)
    out = np.clip(255.0 * ((out / 255.0) ** gamma) * gain, 0, 255).astype(np.uint8)
    if rng.random() < 0.5:
        out = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.6, 1.5))
    return np.ascontiguousarray(out)


def self_blend(
    frame: np.ndarray, points: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """A self-blended image: the face pasted back onto its own frame from an altered copy.

    Self-blended images (Shiohara & Yamasaki, CVPR 2022) are positives whose only cue is
    the blend itself: source and target are the same photo, so identity, lighting and
    colour cannot separate them from the original; a slight colour/gamma change, blur or
    sharpening and a shift/zoom of the copy leave a seam along a randomly shrunk, grown and
    feathered landmark hull (alpha blend), or a Poisson seam (``cv2.seamlessClone``).

    Args:
        frame: RGB uint8. Shape: ``(H, W, 3)``.
        points: Its 68 landmarks. Shape: ``(68, 2)``.
        rng: Random generator (all choices are drawn from it).

    Returns:
        ``(blended, mask)``: RGB uint8 ``(H, W, 3)`` that differs from ``frame`` only where
        the uint8 ``(H, W)`` mask is non-zero (the feathered hull, or the Poisson region).
    """
    cv2 = need_cv2()
    h, w = frame.shape[:2]
    pts = np.asarray(points, dtype=np.float64)
    centre = pts.mean(0)
    width = float(np.ptp(pts, axis=0).max())
    mask = hull_mask(centre + (pts - centre) * rng.uniform(0.85, 1.05, 2), (h, w))
    k = np.ones((2 * int(rng.integers(0, max(1, int(0.04 * width)) + 1)) + 1,) * 2, np.uint8)
    mask = cv2.erode(mask, k) if rng.random() < 0.5 else cv2.dilate(mask, k)
    src = frame.astype(np.float32) / 255.0
    src = 255.0 * src ** rng.uniform(0.85, 1.15) * rng.uniform(0.92, 1.08, 3) + rng.uniform(-8, 8)
    kind = rng.random()
    if kind < 0.35:
        src = cv2.GaussianBlur(src, (0, 0), rng.uniform(0.5, 1.4))
    elif kind < 0.7:
        src = src + rng.uniform(0.3, 1.0) * (src - cv2.GaussianBlur(src, (0, 0), 1.0))
    m = cv2.getRotationMatrix2D(
        (float(centre[0]), float(centre[1])), rng.uniform(-2, 2), rng.uniform(0.96, 1.04)
    )
    m[:, 2] += rng.uniform(-0.02, 0.02, 2) * width
    src = cv2.warpAffine(src, m, (w, h), borderMode=cv2.BORDER_REFLECT)
    src = np.clip(src, 0, 255).astype(np.uint8)
    if rng.random() < 0.3 and mask.any():
        ys, xs = np.nonzero(mask)
        cx, cy = int((xs.min() + xs.max()) // 2), int((ys.min() + ys.max()) // 2)
        try:
            return cv2.seamlessClone(src, frame, mask, (cx, cy), cv2.NORMAL_CLONE), mask
        except cv2.error:
            pass  # region touching the border: alpha blend instead
    mask = cv2.GaussianBlur(mask, (0, 0), rng.uniform(1.0, max(1.5, 0.06 * width)))
    alpha = (
        mask.astype(np.float32)[..., None]
        / 255.0
        * (1.0 if rng.random() < 0.5 else rng.uniform(0.5, 1.0))
    )
    out = np.round(src * alpha + frame * (1.0 - alpha)).astype(np.uint8)
    return out, mask


def boundary_target(mask: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Face X-ray target of a blend: ``4 M (1 - M)`` of the blend mask, aligned and pooled.

    Args:
        mask: Blend weight in the frame, uint8 (255 = pasted). Shape: ``(H, W)``.
        points: The frame's 68 landmarks (the crop's alignment). Shape: ``(68, 2)``.

    Returns:
        float32 in ``[0, 1]``, 1 on the seam, 0 away from it. Shape: ``(16, 16)``.
    """
    from voxlab.face.landmarks import align_matrix

    cv2 = need_cv2()
    m = cv2.warpAffine(mask, align_matrix(points, CROP), (CROP, CROP), flags=cv2.INTER_LINEAR)
    m = cv2.GaussianBlur(m.astype(np.float32) / 255.0, (0, 0), 1.5)
    b = cv2.resize(4.0 * m * (1.0 - m), (MAP, MAP), interpolation=cv2.INTER_AREA)
    return (b / max(float(b.max()), 1e-6)).astype(np.float32)


def _posed_faces(images, n: int, rng: np.random.Generator, landmarker, degrade_frames: bool):
    """Random photos of ``images``, posed (and degraded), whose face is found: ``4 n`` tries.

    Yields ``(photo, posed frame, points)``; points shape ``(68, 2)``.
    """
    from voxlab.face.landmarks import Landmarker

    lm = landmarker or Landmarker()
    for _ in range(4 * n if n > 0 else 0):
        base = images[int(rng.integers(len(images)))]
        frame = random_pose(degrade_photo(base, rng) if degrade_frames else base, rng)
        faces = lm.faces(frame)
        if faces:
            yield base, frame, faces[0].points


def self_blend_set(
    images: list[np.ndarray],
    n: int,
    *,
    seed: int,
    landmarker=None,
    maps: bool = False,
    degrade_frames: bool = False,
) -> tuple[np.ndarray, ...]:
    """Aligned crops of ``n`` posed frames and their self-blends (:func:`self_blend`).

    Returns:
        ``(crops, labels)`` as :func:`make_swap_set`: 1 = self-blended, 0 = original; with
        ``maps``, also their :func:`boundary_target` ``(m, 16, 16)`` (zeros for originals);
        ``degrade_frames`` as in :func:`make_swap_set`.
    """
    from voxlab.face.landmarks import align_crop

    rng = np.random.default_rng(seed)
    crops, labels, targets = [], [], []
    for _, frame, pts in _posed_faces(images, n, rng, landmarker, degrade_frames):
        blended, mask = self_blend(frame, pts, rng)
        crops += [align_crop(frame, pts, size=CROP), align_crop(blended, pts, size=CROP)]
        labels += [0, 1]
        targets += [np.zeros((MAP, MAP), np.float32), boundary_target(mask, pts)]
        if len(labels) >= 2 * n:
            break
    out = np.stack(crops), np.array(labels, dtype=np.int64)
    return (*out, np.stack(targets)) if maps else out


def degrade(crops: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Random JPEG, blur, down-up scaling and gamma, drawn per crop (both classes alike).

    Compression and resampling then occur on swaps and originals alike, so they cannot be
    the cue (and the detector learns to look through them).

    Shape:
        ``(n, 64, 64, 3)`` uint8 -> same.
    """
    cv2 = need_cv2()
    out = np.empty_like(crops)
    for i, c in enumerate(crops):
        c = np.ascontiguousarray(c)
        if rng.random() < 0.25:
            s = int(CROP * rng.uniform(0.5, 0.9))
            c = cv2.resize(cv2.resize(c, (s, s), interpolation=cv2.INTER_AREA), (CROP, CROP))
        if rng.random() < 0.25:
            c = cv2.GaussianBlur(c, (0, 0), rng.uniform(0.4, 1.0))
        if rng.random() < 0.5:
            q = int(rng.integers(35, 96))
            buf = cv2.imencode(".jpg", c[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, q])[1]
            c = cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1]
        g = rng.uniform(0.8, 1.25)
        out[i] = np.clip(255.0 * (c / 255.0) ** g, 0, 255).astype(np.uint8)
    return out


def make_swap_set(
    images: list[np.ndarray],
    n: int,
    *,
    seed: int,
    landmarker=None,
    sources: list[np.ndarray] | None = None,
    maps: bool = False,
    degrade_frames: bool = False,
) -> tuple[np.ndarray, ...]:
    """Aligned crops of ``n`` swapped and ``n`` original posed frames.

    Args:
        images: Face photos (RGB uint8) to pose: the targets (originals).
        n: Pairs to make.
        seed: Seed of poses and variants.
        landmarker: Shared :class:`~voxlab.face.landmarks.Landmarker`.
        sources: Faces to swap in (a variant of a random one per pair); when None, a
            variant of the target's own photo (self-swap, as the recipe trains).

        maps: Also return the swaps' :func:`boundary_target` (the swap pastes the
            landmark hull), zeros for the originals.
        degrade_frames: Pass target and source photos through :func:`degrade_photo`
            first (training data; test sets stay clean).

    Returns:
        ``(crops, labels)``: uint8 ``(m, 64, 64, 3)`` and 1 = swapped, 0 = original; with
        ``maps``, ``(crops, labels, maps)``, maps float32 ``(m, 16, 16)``.
    """
    from voxlab.face.landmarks import Landmarker, align_crop
    from voxlab.face.swap import FaceSwapper

    lm = landmarker or Landmarker()
    rng = np.random.default_rng(seed)
    crops, labels, targets = [], [], []
    for base, target, pts in _posed_faces(images, n, rng, lm, degrade_frames):
        try:
            src = base if sources is None else sources[int(rng.integers(len(sources)))]
            src = degrade_photo(src, rng) if degrade_frames else src
            swapper = FaceSwapper(source_variant(src, rng), landmarker=lm, smoothing=0.0)
        except Exception:
            continue
        swapped = swapper.swap_points(target, pts)
        crops += [align_crop(target, pts, size=CROP), align_crop(swapped, pts, size=CROP)]
        labels += [0, 1]
        if maps:
            hull = hull_mask(pts, target.shape[:2])
            targets += [np.zeros((MAP, MAP), np.float32), boundary_target(hull, pts)]
        if len(labels) >= 2 * n:
            break
    out = np.stack(crops), np.array(labels, dtype=np.int64)
    return (*out, np.stack(targets)) if maps else out


def pair_seed(seed: int, source: str, target: str) -> int:
    """A seed per ``(source, target)`` pair, independent of which other pairs are made."""
    return seed + zlib.crc32(f"{source}>{target}".encode()) % 100_000


def pair_sets(
    faces: dict[str, np.ndarray],
    pairs: list[tuple[str, str]],
    n: int,
    *,
    seed: int,
    landmarker=None,
    degrade_frames: bool = False,
) -> dict[tuple[str, str], tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """:func:`make_swap_set` (with maps) per ``(source, target)`` name pair, ``n`` swaps each."""
    return {
        (s, t): make_swap_set(
            [faces[t]],
            n,
            seed=pair_seed(seed, s, t),
            landmarker=landmarker,
            sources=[faces[s]],
            maps=True,
            degrade_frames=degrade_frames,
        )
        for s, t in pairs
    }
