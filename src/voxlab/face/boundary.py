"""Blending-boundary detector: a small CNN on aligned face crops.

It is trained on voxlab's own
landmark swaps (positives) against the original frames (negatives).

A swap leaves traces along the pasted region's edge (Poisson-blend halo, warp blur, colour
mismatch); the CNN sees 64x64 aligned crops in which that edge sits at a fixed place. The
recipe (:func:`make_swap_set` + :func:`train_boundary`, seeded) produces the shipped
weights ``voxlab/face/weights/boundary_cnn.pt`` (``python -m voxlab.face.boundary``).
Score convention: the logit of "swapped" (higher = more likely a swap).
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import numpy as np
import torch
from torch import nn

from voxlab.errors import CheckpointError

#: Crop side the CNN sees.
CROP = 64
#: The weights shipped with voxlab (made by :func:`main`).
WEIGHTS = Path(__file__).parent / "weights" / "boundary_cnn.pt"


class BoundaryCNN(nn.Module):
    """Four conv blocks, global average pooling, one logit.

    Shape:
        input: ``(batch, 3, 64, 64)`` in ``[0, 1]``; output ``(batch,)`` logits.
    """

    def __init__(self, width: int = 16):
        super().__init__()
        w = width
        layers: list[nn.Module] = []
        chans = [3, w, 2 * w, 2 * w, 4 * w]
        for i, o in itertools.pairwise(chans):
            layers += [nn.Conv2d(i, o, 3, padding=1), nn.BatchNorm2d(o), nn.ReLU(), nn.MaxPool2d(2)]
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(4 * w, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Swap logits."""
        return self.head(self.features(x).mean((2, 3))).squeeze(1)


def random_pose(image: np.ndarray, rng: np.random.Generator, *, size: int | None = None):
    """The image under a random small rotation/zoom/shift (a 'pose' of a test video)."""
    import cv2

    h, w = image.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), rng.uniform(-8, 8), rng.uniform(0.9, 1.15))
    m[:, 2] += rng.uniform(-0.05, 0.05, 2) * (w, h)
    return cv2.warpAffine(image, m, (w, h), borderMode=cv2.BORDER_REFLECT)


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


def make_swap_set(
    images: list[np.ndarray],
    n: int,
    *,
    seed: int,
    landmarker=None,
    sources: list[np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Aligned crops of ``n`` swapped and ``n`` original posed frames.

    Args:
        images: Face photos (RGB uint8) to pose: the targets (originals).
        n: Pairs to make.
        seed: Seed of poses and variants.
        landmarker: Shared :class:`~voxlab.face.landmarks.Landmarker`.
        sources: Faces to swap in (a variant of a random one per pair); when None, a
            variant of the target's own photo (self-swap, as the recipe trains).

    Returns:
        ``(crops, labels)``: uint8 ``(m, 64, 64, 3)`` and 1 = swapped, 0 = original.
    """
    from voxlab.face.landmarks import Landmarker, align_crop
    from voxlab.face.swap import FaceSwapper

    lm = landmarker or Landmarker()
    rng = np.random.default_rng(seed)
    crops, labels = [], []
    tries = 0
    while len(labels) < 2 * n and tries < 4 * n:
        tries += 1
        base = images[int(rng.integers(len(images)))]
        target = random_pose(base, rng)
        faces = lm.faces(target)
        if not faces:
            continue
        pts = faces[0].points
        try:
            src = base if sources is None else sources[int(rng.integers(len(sources)))]
            swapper = FaceSwapper(source_variant(src, rng), landmarker=lm, smoothing=0.0)
        except Exception:
            continue
        swapped = swapper.swap_points(target, pts)
        crops += [align_crop(target, pts, size=CROP), align_crop(swapped, pts, size=CROP)]
        labels += [0, 1]
    return np.stack(crops), np.array(labels, dtype=np.int64)


def _tensor(crops: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(crops)).permute(0, 3, 1, 2).float() / 255.0


def train_boundary(
    crops: np.ndarray, labels: np.ndarray, *, steps: int = 300, seed: int = 0, lr: float = 3e-3
) -> tuple[BoundaryCNN, list[float]]:
    """Train the CNN (Adam, batch 32, random flips and brightness). Deterministic per seed."""
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    x, y = _tensor(crops), torch.from_numpy(labels).float()
    model = BoundaryCNN()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    model.train()
    for _ in range(steps):
        idx = torch.randint(0, len(x), (min(32, len(x)),), generator=gen)
        b = x[idx]
        flip = torch.rand(len(b), generator=gen) < 0.5
        b[flip] = b[flip].flip(-1)
        b = (b * (0.85 + 0.3 * torch.rand(len(b), 1, 1, 1, generator=gen))).clamp(0, 1)
        loss = nn.functional.binary_cross_entropy_with_logits(model(b), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    return model.eval(), losses


def auc(positive: np.ndarray, negative: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney; ties count one half)."""
    pos = np.asarray(positive, dtype=np.float64)[:, None]
    neg = np.asarray(negative, dtype=np.float64)[None, :]
    return float(((pos > neg).sum() + 0.5 * (pos == neg).sum()) / (pos.size * neg.size))


def save_boundary(model: BoundaryCNN, path: str | os.PathLike) -> Path:
    """Save the state dict (fp16 to stay small)."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    torch.save({k: v.half() if v.is_floating_point() else v for k, v in model.state_dict().items()},
               p)  # fmt: skip
    return p


def load_boundary(path: str | os.PathLike | None = None) -> BoundaryCNN:
    """Load weights (the shipped ones when None) with ``weights_only=True``.

    Raises:
        CheckpointError: Missing or mismatched weights.
    """
    p = Path(path) if path else WEIGHTS
    if not p.is_file():
        raise CheckpointError(
            f"{p}: boundary-detector weights not found; make them with "
            "`python -m voxlab.face.boundary --out PATH`"
        )
    try:
        state = torch.load(p, map_location="cpu", weights_only=True)
        model = BoundaryCNN()
        model.load_state_dict(
            {k: v.float() if v.is_floating_point() else v for k, v in state.items()}
        )
    except Exception as exc:
        raise CheckpointError(f"{p}: not boundary-detector weights ({exc})") from exc
    return model.eval()


@torch.no_grad()
def score_crops(model: BoundaryCNN, crops: np.ndarray) -> np.ndarray:
    """Swap logits of aligned crops. Shape: ``(n, 64, 64, 3)`` -> ``(n,)``."""
    if len(crops) == 0:
        return np.zeros(0, dtype=np.float32)
    return model(_tensor(crops)).numpy().astype(np.float32)


def training_faces() -> list[np.ndarray]:
    """The package-shipped face the recipe trains on.

    Debian ``opencv-doc``'s ``messi5.jpg`` (BSD-3-Clause, OpenCV sample data), cropped
    around the face found by voxlab's Landmarker (see :mod:`voxlab.face.samples`) and
    upscaled to 320x320. The held-out faces are :data:`voxlab.face.samples.HELD_OUT`.

    Raises:
        CheckpointError: opencv-doc is not installed.
    """
    from voxlab.face.samples import TRAINING, SampleFaceMissingError, load_face

    try:
        return [load_face(TRAINING)]
    except SampleFaceMissingError as exc:
        raise CheckpointError(str(exc)) from exc


def main(argv: list[str] | None = None) -> None:
    """The recipe: 60 training pairs (seed 0), 120 steps, AUC on 30 held-out pairs (seed 1)."""
    import argparse

    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("--out", default=str(WEIGHTS))
    ap.add_argument("--pairs", type=int, default=60)
    ap.add_argument("--steps", type=int, default=120)
    args = ap.parse_args(argv)
    torch.set_num_threads(2)
    faces = training_faces()
    x, y = make_swap_set(faces, args.pairs, seed=0)
    model, losses = train_boundary(x, y, steps=args.steps, seed=0)
    xt, yt = make_swap_set(faces, 30, seed=1)
    s = score_crops(model, xt)
    print(f"final loss {np.mean(losses[-20:]):.4f}; held-out AUC {auc(s[yt == 1], s[yt == 0]):.4f}")
    print(save_boundary(model, args.out))


if __name__ == "__main__":
    main()
