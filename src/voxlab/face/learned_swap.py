"""The learned swap in practice: training crops of an identity and the per-frame swapper.

Training data for :mod:`voxlab.face.learned` comes from one photo (or a video) per
identity. A photo gives variety through voxlab's own tools: each frame is the photo with
a random mouth opening / lip spread / blink rendered by the talking face
(:class:`~voxlab.face.talk.TalkingFace`), then posed (rotation, zoom, shift:
:func:`~voxlab.face.boundary.random_pose`); its landmarks are detected again and the frame
is cut to an aligned crop (:func:`~voxlab.face.landmarks.align_crop`) with the face hull as
mask. Named identities are the package-shipped photos of :mod:`voxlab.face.samples`
(public domain / BSD-3-Clause, licences stated there).

:class:`LearnedSwapper` swaps frame by frame: track and align the target face, encode the
crop with the shared encoder, decode it with the other identity's decoder, match its
colours to the crop (Reinhard, :func:`~voxlab.face.warp.colour_transfer`) and paste it back
through the inverse alignment, feathered by the decoder's mask. Pixels outside the pasted
mask are left exactly as they were.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from voxlab.face.errors import FaceError, NoFaceError, need_cv2
from voxlab.face.landmarks import FaceTracker, Landmarker, align_matrix
from voxlab.face.swap import SwapStats, TrackedSwap

VIDEO_SUFFIXES = {".mp4", ".mkv", ".webm", ".mov", ".avi", ".m4v"}


def identity_image(name: str | os.PathLike) -> np.ndarray:
    """A sample face or a photo file, as RGB uint8.

    Sample faces (:mod:`voxlab.face.samples`: ``hopper``, ``astronaut``, ``messi``) come
    cropped around the face at 320x320.

    Raises:
        FaceError: Missing file, or the package shipping a sample face is not installed.
    """
    from voxlab.av.video import read_image
    from voxlab.face.samples import SAMPLE_FACES, load_face

    key = str(name)
    if key in SAMPLE_FACES:
        return load_face(key)
    path = Path(key)
    if not path.is_file():
        raise FaceError(
            f"{path}: no such file; give a photo or video of the face, or one of "
            f"{', '.join(SAMPLE_FACES)}"
        )
    return read_image(path)


def face_mask(points: np.ndarray, matrix: np.ndarray, size: int) -> np.ndarray:
    """The face hull (68 points) in aligned-crop coordinates, float32 in ``{0, 1}``.

    Shape: ``(size, size)``.
    """
    cv2 = need_cv2()
    pts = points @ matrix[:, :2].T + matrix[:, 2]
    hull = cv2.convexHull(np.round(pts).astype(np.int32))
    mask = np.zeros((size, size), np.uint8)
    cv2.fillConvexPoly(mask, hull, 1)
    return mask.astype(np.float32)


def crop_with_mask(frame: np.ndarray, points: np.ndarray, size: int) -> tuple[np.ndarray, ...]:
    """Aligned crop and face mask of one frame. Shapes: ``(size, size, 3)``, ``(size, size)``."""
    cv2 = need_cv2()
    m = align_matrix(points, size)
    crop = cv2.warpAffine(frame, m, (size, size), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REFLECT)  # fmt: skip
    return crop, face_mask(points, m, size)


def _candidates(source, n: int, rng: np.random.Generator, lm: Landmarker, seed: int):
    """Frames to crop: posed talking-face renders of a photo, or a video's frames.

    A video is streamed (bounded memory): every ``frames // n``-th frame, then further
    passes over the same frames with random poses while crops are still missing.
    """
    from voxlab.face.boundary import random_pose

    path = Path(str(source))
    if path.suffix.lower() in VIDEO_SUFFIXES:
        from voxlab.av.video import probe_video, read_frames

        step = max(1, (probe_video(path).frames or n) // n)
        for posed in (False, True, True, True):
            for i, frame in enumerate(read_frames(path)):
                if i % step == 0:
                    yield random_pose(frame, rng) if posed else frame
        return
    from voxlab.face.talk import TalkingFace

    photo = identity_image(source)
    talk = TalkingFace(photo, landmarker=lm, seed=seed, head_motion=0.0, name=str(source))
    while True:
        blink = 1.0 if rng.random() < 0.15 else 0.0
        frame = talk.render(rng.uniform(0, 1) ** 1.5, rng.uniform(-1, 1), blink, 0.0)
        yield random_pose(frame, rng)


def identity_crops(
    source: str | os.PathLike,
    n: int,
    *,
    size: int,
    seed: int = 0,
    landmarker: Landmarker | None = None,
    progress=None,
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` aligned crops (and face masks) of one identity.

    Args:
        source: A sample face (:mod:`voxlab.face.samples`), a photo, or a video file.
        n: Crops to make.
        size: Crop side (the model's resolution).
        seed: Seed of expressions and poses (another seed gives held-out frames).
        landmarker: Shared detector/predictor.
        progress: Optional ``wrap(iterable, total)`` progress bar.

    Returns:
        ``(crops, masks)``: uint8 ``(n, size, size, 3)`` and float32 ``(n, size, size)``.

    Raises:
        NoFaceError: No face in the photo or in any frame of the video.
    """
    import itertools

    lm = landmarker or Landmarker()
    rng = np.random.default_rng(seed)
    crops, masks = [], []
    wrap = progress or (lambda it, total: it)
    for frame in wrap(itertools.islice(_candidates(source, n, rng, lm, seed), 4 * n), n):
        faces = lm.faces(frame)
        if not faces:
            continue
        crop, mask = crop_with_mask(frame, faces[0].points, size)
        crops.append(crop)
        masks.append(mask)
        if len(crops) >= n:
            break
    if not crops:
        raise NoFaceError(f"{source}: no face found in any frame; give a clear frontal face")
    return np.stack(crops), np.stack(masks)


class LearnedSwapper(TrackedSwap):
    """Swap the tracked face of each frame with a trained :class:`DFLAutoencoder`.

    Args:
        model: The trained model (eval mode).
        to: Which decoder draws the output face: ``"b"`` (the target shows A) or ``"a"``.
        landmarker: Shared detector/predictor; a default one when None.
        target_index: Which face of the frames (0 = largest).
        smoothing: EMA landmark smoothing in ``[0, 1)`` (``stabilise="ema"``).
        stabilise: Temporal stabilisation of the landmarks (``flow``, ``ema``, ``none``; see
            :class:`~voxlab.face.landmarks.FaceTracker`).
        colour: Match the decoded face's colours to the target crop (Reinhard, Lab).
        threads: Torch intra-op threads while decoding (restored after). The 64-px model
            is too small to gain from threads: with 2 threads on a loaded 2-core machine a
            decode took ~200 ms instead of ~4 ms (thread hand-off), so 1 is the default.

    Raises:
        FaceError: ``to`` is not ``"a"`` or ``"b"``.
    """

    def __init__(
        self,
        model,
        *,
        to: str = "b",
        landmarker: Landmarker | None = None,
        target_index: int | None = None,
        smoothing: float = 0.5,
        stabilise: str = "flow",
        colour: bool = True,
        threads: int = 1,
    ):
        if to not in ("a", "b"):
            raise FaceError(f"--to {to!r}: use a or b (the identity the output face shows)")
        self.cv2 = need_cv2()
        self.model = model.eval()
        self.decoder = model.decoder_a if to == "a" else model.decoder_b
        self.size = model.cfg.resolution
        self.tracker = FaceTracker(landmarker or Landmarker(), smoothing=smoothing,
                                   face_index=target_index, stabilise=stabilise)  # fmt: skip
        self.colour = colour
        self.threads = threads
        self.stats = SwapStats()

    def decode(self, crop: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The other identity's face for one aligned crop.

        Args:
            crop: RGB uint8. Shape: ``(R, R, 3)``.

        Returns:
            ``(face, mask)``: RGB uint8 ``(R, R, 3)`` and float32 ``(R, R)`` in ``[0, 1]``.
        """
        import torch

        x = torch.from_numpy(np.ascontiguousarray(crop)).permute(2, 0, 1)[None].float() / 255
        before = torch.get_num_threads()
        torch.set_num_threads(self.threads)
        try:
            with torch.inference_mode():
                rgb, mask = self.decoder(self.model.encoder(x))
        finally:
            torch.set_num_threads(before)
        face = (rgb[0].permute(1, 2, 0).numpy() * 255 + 0.5).astype(np.uint8)
        return face, mask[0, 0].numpy()

    def swap_points(self, frame: np.ndarray, points: np.ndarray) -> np.ndarray:
        """Swap the face at ``points`` in ``frame``.

        Args:
            frame: RGB uint8. Shape: ``(H, W, 3)``.
            points: Target landmarks. Shape: ``(68, 2)``.

        Returns:
            A new frame; pixels outside the pasted mask are unchanged. Shape: ``(H, W, 3)``.
        """
        cv2, r = self.cv2, self.size
        H, W = frame.shape[:2]
        m = align_matrix(points, r)
        crop = cv2.warpAffine(frame, m, (r, r), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_REFLECT)  # fmt: skip
        face, mask = self.decode(crop)
        mask = cv2.erode(mask, np.ones((3, 3), np.uint8))
        if self.colour:
            face = colour_transfer_masked(face, crop, mask > 0.5)
        inv = cv2.invertAffineTransform(m)
        corners = np.array([[0, 0], [r, 0], [0, r], [r, r]], np.float64) @ inv[:, :2].T + inv[:, 2]
        x0, y0 = np.maximum(np.floor(corners.min(0)).astype(int) - 1, 0)
        x1, y1 = np.minimum(np.ceil(corners.max(0)).astype(int) + 1, (W, H))
        out = frame.copy()
        if x1 <= x0 or y1 <= y0:
            return out
        local = inv.copy()
        local[:, 2] -= (x0, y0)
        size = (int(x1 - x0), int(y1 - y0))
        big = cv2.warpAffine(face, local, size, flags=cv2.INTER_LINEAR,
                             borderMode=cv2.BORDER_REPLICATE)  # fmt: skip
        alpha = cv2.warpAffine(mask, local, size, flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_CONSTANT, borderValue=0)  # fmt: skip
        sigma = max(1.0, 0.02 * size[0])
        alpha = cv2.GaussianBlur(alpha, (0, 0), sigma) * (alpha > 0.05)
        alpha = alpha[..., None]
        roi = out[y0:y1, x0:x1]
        out[y0:y1, x0:x1] = (big * alpha + roi * (1.0 - alpha) + 0.5).astype(np.uint8)
        return out


def colour_transfer_masked(src: np.ndarray, ref: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """:func:`~voxlab.face.warp.colour_transfer` with a boolean mask (uint8 for it)."""
    from voxlab.face.warp import colour_transfer

    return colour_transfer(src, ref, mask.astype(np.uint8))


def train_swap_run(
    a: str | os.PathLike,
    b: str | os.PathLike,
    cfg,
    out: str | os.PathLike,
    *,
    crops: int = 300,
    held_out: int = 40,
    resume: bool = False,
    checkpoint_every: int = 500,
    precision: str = "float32",
    recipe: str | None = None,
    device: str = "cpu",
    progress=None,
) -> dict:
    """Make both identities' crops, train, checkpoint, and measure held-out reconstruction.

    Training crops use seed ``cfg.seed``, held-out crops seed ``cfg.seed + 1`` (other
    expressions and poses). The training state goes to ``OUT.ckpt`` every
    ``checkpoint_every`` steps (``resume=True`` continues from it); the final model (with
    its provenance and loss figures in ``meta``) to ``out``.

    Args:
        a: Identity A: a sample-face name, a photo or a video.
        b: Identity B.
        cfg: :class:`~voxlab.face.learned.SwapModelConfig` (sizes and schedule).
        out: Model file to write.
        crops: Training crops per identity.
        held_out: Held-out crops per identity.
        resume: Continue from ``OUT.ckpt``.
        checkpoint_every: Steps between checkpoints.
        precision: Storage of the final model (``float32``, ``float16``, ``int8``).
        recipe: Recipe path recorded in ``meta``.
        device: Torch device of the training (the saved model is on the CPU).
        progress: Optional ``wrap(iterable, total)`` progress bar.

    Returns:
        The summary stored as the model's ``meta``: identities, recipe, steps, crops,
        final training loss, held-out L1 per identity before and after training.

    Raises:
        CheckpointError: ``resume`` without a readable ``OUT.ckpt``.
        ConfigError: Unknown precision or unusable device.
    """
    import time

    import torch

    from voxlab.errors import CheckpointError, ConfigError
    from voxlab.face.learned import DFLAutoencoder, reconstruction_l1, train_swap_model
    from voxlab.face.learned_io import PRECISIONS, save_swap_model

    if precision not in PRECISIONS:  # before minutes of training, not after
        raise ConfigError(f"precision {precision!r}: use one of {', '.join(PRECISIONS)}")
    try:
        dev = torch.device(device)
    except RuntimeError as exc:
        raise ConfigError(f"--device {device!r}: not a torch device (cpu, cuda, cuda:1)") from exc
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"--device {device}: no CUDA GPU is visible here; use --device cpu")
    out = Path(out)
    ckpt = out.with_name(out.name + ".ckpt")
    state = None
    if resume:
        if not ckpt.is_file():
            raise CheckpointError(f"{ckpt}: no checkpoint to resume; run without --resume")
        try:
            state = torch.load(ckpt, map_location="cpu", weights_only=True)
        except Exception as exc:
            raise CheckpointError(f"{ckpt}: unreadable checkpoint ({exc}); delete it") from exc
    lm = Landmarker()
    r = cfg.resolution
    t0 = time.process_time()
    ca, ma = identity_crops(a, crops, size=r, seed=cfg.seed, landmarker=lm, progress=progress)
    cb, mb = identity_crops(b, crops, size=r, seed=cfg.seed, landmarker=lm, progress=progress)
    ha, hma = identity_crops(a, held_out, size=r, seed=cfg.seed + 1, landmarker=lm)
    hb, hmb = identity_crops(b, held_out, size=r, seed=cfg.seed + 1, landmarker=lm)
    data_cpu = time.process_time() - t0
    torch.manual_seed(cfg.seed)
    untrained = DFLAutoencoder(cfg)
    before = {"a": reconstruction_l1(untrained, ha, hma, "a"),
              "b": reconstruction_l1(untrained, hb, hmb, "b")}  # fmt: skip
    out.parent.mkdir(parents=True, exist_ok=True)

    def save_state(s: dict) -> None:
        tmp = ckpt.with_name(ckpt.name + ".tmp")
        torch.save(s, tmp)
        os.replace(tmp, ckpt)

    t1 = time.process_time()
    model, losses = train_swap_model(ca, cb, cfg, masks_a=ma, masks_b=mb, resume=state,
                                     checkpoint=save_state, checkpoint_every=checkpoint_every,
                                     progress=progress, device=device)  # fmt: skip
    model = model.cpu()
    meta = {
        "a": str(a), "b": str(b), "recipe": recipe or "", "steps": cfg.steps,
        "crops": [len(ca), len(cb)], "held_out": [len(ha), len(hb)],
        "final_loss": float(np.mean(losses[-50:])),
        "heldout_l1_before": before,
        "heldout_l1_after": {"a": reconstruction_l1(model, ha, hma, "a"),
                             "b": reconstruction_l1(model, hb, hmb, "b")},
        "cpu_s_data": round(data_cpu, 1),
        "cpu_s_train_this_run": round(time.process_time() - t1, 1),
    }  # fmt: skip
    save_swap_model(model, out, precision=precision, meta=meta)
    return meta
