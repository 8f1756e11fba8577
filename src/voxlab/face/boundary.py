"""Blending-boundary detector: a small CNN on aligned face crops.

A swap leaves traces along the pasted region's edge (Poisson-blend halo, warp blur, colour
mismatch). :class:`BoundaryCNN` sees 64x64 aligned crops and maps where a seam runs (16x16
cells, receptive field 22 px); the score is the logit of "swapped" (higher = more likely a
swap), the mean of its top map cells.

The recipe (:data:`RECIPE`, :func:`training_set` + :func:`train_recipe`, seeded) follows
the face-forensics literature on generalising to unseen faces (facts, not code, carried
over): self-blended images (Shiohara & Yamasaki 2022, :func:`self_blend`) next to voxlab's
own self- and cross-identity landmark swaps; Face X-ray seam targets (Li et al. 2020,
:func:`boundary_target`); per-crop standardisation so global colour/exposure is no cue;
lower-quality captures (:func:`degrade_photo`) and JPEG/blur/rescaling (:func:`degrade`)
on both classes; class-balanced batches. ``python -m voxlab.face.boundary`` makes the
shipped weights ``voxlab/face/weights/boundary_cnn.pt`` from the ``messi`` (BSD-3-Clause,
Debian opencv-doc) and ``hopper`` (public domain, matplotlib) sample faces; ``astronaut``
(public domain, scikit-image) is held out from them, and
``benchmarks/face_detect.py --section boundary`` reports the shipped weights on it;
``--section loo`` trains the recipe leaving each identity out in turn (the honest
generalisation figure), beside the legacy recipe and trivial features.

Figures of the shipped weights (``--section boundary``, 40 pairs each, AUC vs the target's
originals): swaps involving the held-out astronaut 0.83 pooled (astronaut -> messi/hopper
0.98/0.98, messi/hopper -> astronaut 0.87/0.86, astronaut -> astronaut 0.52, i.e. missed);
training identities 0.96-1.00. Untouched astronaut frames average +0.9 (above the 0
threshold; the training faces' originals -1.7). Leave one identity out (24 pairs): mean
AUC 0.52 vs the held-out identity's originals, 0.71 vs each swap's own target; the legacy
recipe 0.52 / 0.69: generalising to an unseen face from two training faces is not solved.
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
from torch import nn

from voxlab.errors import CheckpointError
from voxlab.face.boundary_data import (
    CROP,
    MAP,
    boundary_target,
    degrade,
    degrade_photo,
    make_swap_set,
    pair_seed,
    pair_sets,
    random_pose,
    self_blend,
    self_blend_set,
    source_variant,
)

# the data functions are part of this module's API (tests, benchmarks, report use them)
__all__ = [
    "CROP",
    "HELD_OUT_ID",
    "LEGACY",
    "MAP",
    "RECIPE",
    "TRAINING_IDS",
    "WEIGHTS",
    "BoundaryCNN",
    "BoundaryRecipe",
    "GlobalCNN",
    "auc",
    "boundary_target",
    "degrade",
    "degrade_photo",
    "held_out_eval",
    "load_boundary",
    "main",
    "make_swap_set",
    "pair_seed",
    "pair_sets",
    "random_pose",
    "save_boundary",
    "score_crops",
    "self_blend",
    "self_blend_set",
    "source_variant",
    "standardise",
    "train_boundary",
    "train_recipe",
    "training_faces",
    "training_set",
]
#: The identities the shipped weights are trained on, and the one held out from them.
TRAINING_IDS = ("messi", "hopper")
HELD_OUT_ID = "astronaut"
#: The weights shipped with voxlab (made by :func:`main`).
WEIGHTS = Path(__file__).parent / "weights" / "boundary_cnn.pt"


def standardise(x: torch.Tensor, *, eps: float = 0.02) -> torch.Tensor:
    """Each crop's channels to zero mean and unit spread (``eps`` keeps flat crops flat).

    Shape:
        ``(batch, channels, h, w)`` -> same.
    """
    return (x - x.mean((2, 3), keepdim=True)) / (x.std((2, 3), keepdim=True) + eps)


class BoundaryCNN(nn.Module):
    """A small fully convolutional net: a boundary map on the crop, and one logit from it.

    Face X-ray (Li et al., CVPR 2020) supervises where the blend seam runs rather than only
    whether there is one; with a receptive field of 22 px of the 64 px crop, each map cell
    judges a local patch, so the net cannot key on the whole face (who it is, how it is lit),
    which does not generalise to faces it was not trained on. The image logit is the mean
    of the ``topk`` largest map logits.

    Args:
        width: Channels of the first block (16: ~33k parameters, ~70 KB in fp16).
        normalise: Standardise each crop per channel (zero mean, unit spread) first, so
            that global colour and exposure cannot be the cue.
        topk: Map cells pooled into the image logit.

    Shape:
        input: ``(batch, 3, 64, 64)`` in ``[0, 1]``; output ``(batch,)`` logits;
        :meth:`boundary_map`: ``(batch, 16, 16)`` logits.
    """

    def __init__(self, width: int = 16, *, normalise: bool = True, topk: int = 8):
        super().__init__()
        self.normalise = normalise
        self.topk = topk
        w = width

        def block(i: int, o: int) -> list[nn.Module]:
            return [nn.Conv2d(i, o, 3, padding=1), nn.BatchNorm2d(o), nn.ReLU()]

        self.features = nn.Sequential(
            *block(3, w),
            nn.MaxPool2d(2),
            *block(w, 2 * w),
            *block(2 * w, 2 * w),
            nn.MaxPool2d(2),
            *block(2 * w, 4 * w),
        )
        self.head = nn.Conv2d(4 * w, 1, 1)

    def boundary_map(self, x: torch.Tensor) -> torch.Tensor:
        """Per-cell seam logits. Shape: ``(batch, 3, 64, 64)`` -> ``(batch, 16, 16)``."""
        if self.normalise:
            x = standardise(x)
        return self.head(self.features(x)).squeeze(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Swap logits."""
        return self.boundary_map(x).flatten(1).topk(self.topk, dim=1).values.mean(1)


class GlobalCNN(nn.Module):
    """The first recipe's net: four conv blocks, global average pooling, one logit.

    Kept as the baseline of the leave-one-identity-out comparison (it sees the whole face).

    Shape:
        input: ``(batch, 3, 64, 64)`` in ``[0, 1]``; output ``(batch,)`` logits.
    """

    def __init__(self, width: int = 16):
        super().__init__()
        w = width
        layers: list[nn.Module] = []
        for i, o in itertools.pairwise([3, w, 2 * w, 2 * w, 4 * w]):
            layers += [nn.Conv2d(i, o, 3, padding=1), nn.BatchNorm2d(o), nn.ReLU(), nn.MaxPool2d(2)]
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(4 * w, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Swap logits."""
        return self.head(self.features(x).mean((2, 3))).squeeze(1)


def _tensor(crops: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(crops)).permute(0, 3, 1, 2).float() / 255.0


@dataclass(frozen=True)
class BoundaryRecipe:
    """How the boundary CNN is trained (data and optimisation).

    Attributes:
        swap_pairs: Landmark swaps per ordered ``(source, target)`` pair of training
            identities, each with its original posed frame.
        cross: Also swap each training identity into the others (else self-swaps only:
            a variant of the target's own photo, the legacy recipe).
        self_blends: Self-blended posed frames per identity (:func:`self_blend`), each with
            its original.
        steps: Adam steps (batch 32, half swaps, half originals).
        lr: Learning rate.
        normalise: Per-crop standardisation in the CNN (:class:`BoundaryCNN`).
        augment: :func:`degrade` on both classes, on top of flips.
        local: :class:`BoundaryCNN` with boundary-map targets (else :class:`GlobalCNN`
            on labels only, the legacy net).
        degrade_frames: Make the training swaps and blends from :func:`degrade_photo`'d
            photos.
    """

    swap_pairs: int = 24
    cross: bool = True
    self_blends: int = 60
    steps: int = 600
    lr: float = 3e-3
    normalise: bool = True
    augment: bool = True
    local: bool = True
    degrade_frames: bool = True


#: The shipped recipe: cross- and self-swaps, self-blends, per-crop normalisation, degrading.
RECIPE = BoundaryRecipe()
#: The first recipe (self-swaps of one identity, no self-blends, no normalisation).
LEGACY = BoundaryRecipe(
    swap_pairs=60,
    cross=False,
    self_blends=0,
    steps=120,
    normalise=False,
    augment=False,
    local=False,
    degrade_frames=False,
)


def training_set(
    faces: dict[str, np.ndarray],
    recipe: BoundaryRecipe = RECIPE,
    *,
    seed: int = 0,
    landmarker=None,
    swaps: dict[tuple[str, str], tuple[np.ndarray, ...]] | None = None,
    blends: dict[str, tuple[np.ndarray, ...]] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The recipe's crops and labels on the given identities (balanced per identity).

    Args:
        faces: Training identities' photos by name (RGB uint8).
        recipe: What to make.
        seed: Seed of poses, swaps and blends.
        landmarker: Shared :class:`~voxlab.face.landmarks.Landmarker`.
        swaps: Precomputed :func:`pair_sets` (with at least ``recipe.swap_pairs`` each,
            degraded as the recipe says), to share between runs; missing pairs are made.
        blends: Precomputed :func:`self_blend_set` (with maps) per identity, likewise.

    Returns:
        ``(crops, labels, maps)``: uint8 ``(m, 64, 64, 3)``, 1 = swapped/blended,
        0 = original, and the :func:`boundary_target` maps ``(m, 16, 16)``.
    """
    names = list(faces)
    pairs = [(s, t) for s in names for t in names if recipe.cross or s == t]
    swaps = dict(swaps or {})
    todo = [p for p in pairs if p not in swaps]
    degrade = recipe.degrade_frames
    swaps.update(
        pair_sets(
            faces, todo, recipe.swap_pairs, seed=seed, landmarker=landmarker, degrade_frames=degrade
        )
    )
    parts = [tuple(a[: 2 * recipe.swap_pairs] for a in swaps[p]) for p in pairs]
    for name in names if recipe.self_blends else ():
        if blends and name in blends:
            made = blends[name]
        else:
            bseed = pair_seed(seed, name, "blend")
            made = self_blend_set(
                [faces[name]],
                recipe.self_blends,
                seed=bseed,
                landmarker=landmarker,
                maps=True,
                degrade_frames=degrade,
            )
        parts.append(tuple(a[: 2 * recipe.self_blends] for a in made))
    return tuple(np.concatenate(a) for a in zip(*parts, strict=True))  # type: ignore[return-value]


def train_boundary(
    crops: np.ndarray,
    labels: np.ndarray,
    *,
    maps: np.ndarray | None = None,
    steps: int = 300,
    seed: int = 0,
    lr: float = 3e-3,
    normalise: bool = True,
    augment: bool = True,
) -> tuple[nn.Module, list[float]]:
    """Train the CNN (Adam, class-balanced batches of 32). Deterministic per seed.

    Args:
        crops: uint8 aligned crops. Shape: ``(n, 64, 64, 3)``.
        labels: 1 = swapped, 0 = original. Shape: ``(n,)``.
        maps: :func:`boundary_target` per crop ``(n, 16, 16)``: trains
            :class:`BoundaryCNN` on the maps and the labels; None: :class:`GlobalCNN` on
            the labels (the legacy net).
        steps: Adam steps.
        seed: Seed of the initialisation, batches and augmentation.
        lr: Learning rate.
        normalise: Per-crop standardisation inside :class:`BoundaryCNN`.
        augment: :func:`degrade` each batch (both classes); without it, a random
            brightness gain (the legacy recipe). Flips always.

    Returns:
        ``(model in eval mode, loss per step)``.
    """
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed)
    y = torch.from_numpy(labels).float()
    target = None if maps is None else torch.from_numpy(np.ascontiguousarray(maps)).float()
    by_class = [np.flatnonzero(labels == c) for c in (0, 1)]
    model = GlobalCNN() if maps is None else BoundaryCNN(normalise=normalise)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    bce = nn.functional.binary_cross_entropy_with_logits
    losses = []
    model.train()
    for _ in range(steps):
        half = min(16, *(len(c) for c in by_class))
        idx = np.concatenate([rng.choice(c, half, replace=len(c) < half) for c in by_class])
        batch = degrade(crops[idx], rng) if augment else crops[idx]
        b = _tensor(batch)
        flip = torch.rand(len(b), generator=gen) < 0.5
        b[flip] = b[flip].flip(-1)
        if not augment:
            b = (b * (0.85 + 0.3 * torch.rand(len(b), 1, 1, 1, generator=gen))).clamp(0, 1)
        if target is None:
            loss = bce(model(b), y[idx])
        else:
            t = target[idx]
            t[flip] = t[flip].flip(-1)
            logits = model.boundary_map(b)
            image = logits.flatten(1).topk(model.topk, dim=1).values.mean(1)
            loss = bce(logits, t) + bce(image, y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    return model.eval(), losses


def train_recipe(
    data: tuple[np.ndarray, np.ndarray, np.ndarray],
    recipe: BoundaryRecipe = RECIPE,
    *,
    seed: int = 0,
) -> tuple[nn.Module, list[float]]:
    """:func:`train_boundary` on :func:`training_set`'s output with the recipe's settings."""
    crops, labels, maps = data
    return train_boundary(
        crops,
        labels,
        maps=maps if recipe.local else None,
        steps=recipe.steps,
        seed=seed,
        lr=recipe.lr,
        normalise=recipe.normalise,
        augment=recipe.augment,
    )


def auc(positive: np.ndarray, negative: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney; ties count one half)."""
    pos = np.asarray(positive, dtype=np.float64)[:, None]
    neg = np.asarray(negative, dtype=np.float64)[None, :]
    return float(((pos > neg).sum() + 0.5 * (pos == neg).sum()) / (pos.size * neg.size))


def save_boundary(model: BoundaryCNN, path: str | os.PathLike) -> Path:
    """Save the state dict (fp16 to stay small)."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    torch.save(
        {k: v.half() if v.is_floating_point() else v for k, v in model.state_dict().items()}, p
    )
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


def training_faces(names: tuple[str, ...] = TRAINING_IDS) -> list[np.ndarray]:
    """The package-shipped faces the recipe trains on (320x320 RGB, face centred).

    ``messi``: Debian ``opencv-doc``'s ``messi5.jpg`` (BSD-3-Clause, OpenCV sample data);
    ``hopper``: matplotlib's ``grace_hopper.jpg`` (public domain, US Navy photograph); see
    :mod:`voxlab.face.samples`. ``astronaut`` (scikit-image, public domain NASA photograph)
    is held out (:data:`HELD_OUT_ID`).

    Raises:
        CheckpointError: A package shipping one of them is not installed.
    """
    from voxlab.face.samples import SampleFaceMissingError, load_face

    try:
        return [load_face(n) for n in names]
    except SampleFaceMissingError as exc:
        raise CheckpointError(str(exc)) from exc


def held_out_eval(
    model: nn.Module,
    faces: dict[str, np.ndarray],
    held: str,
    n: int,
    *,
    seed: int = 1,
    landmarker=None,
) -> dict[str, float]:
    """AUCs on every swap involving ``held`` (as source or target) among ``faces``.

    Returns:
        ``{"vs_held_originals": ..., "vs_target_originals": ...}``: all those swaps against
        the original posed frames of ``held``, and against the originals of their own
        targets; and ``"held->held"``, the held-out identity swapped with itself.
    """
    pairs = [(held, held)] + [(held, o) for o in faces if o != held]
    pairs += [(o, held) for o in faces if o != held]
    sets = pair_sets(faces, pairs, n, seed=seed, landmarker=landmarker)
    scores = {p: score_crops(model, sets[p][0]) for p in pairs}
    pos = np.concatenate([scores[p][sets[p][1] == 1] for p in pairs])
    neg_all = np.concatenate([scores[p][sets[p][1] == 0] for p in pairs])
    neg_held = np.concatenate([scores[p][sets[p][1] == 0] for p in pairs if p[1] == held])
    same = scores[(held, held)], sets[(held, held)][1]
    return {
        "vs_held_originals": auc(pos, neg_held),
        "vs_target_originals": auc(pos, neg_all),
        f"{held}->{held}": auc(same[0][same[1] == 1], same[0][same[1] == 0]),
    }


def main(argv: list[str] | None = None) -> None:
    """The shipped recipe (:data:`RECIPE`, seed 0) on messi + hopper; astronaut held out."""
    import argparse
    import time

    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("--out", default=str(WEIGHTS))
    ap.add_argument("--steps", type=int, default=RECIPE.steps)
    ap.add_argument("--eval-pairs", type=int, default=16, help="swaps per held-out pair")
    args = ap.parse_args(argv)
    from voxlab.face.landmarks import Landmarker

    lm = Landmarker()
    c0 = time.process_time()
    faces = dict(zip(TRAINING_IDS, training_faces(), strict=True))
    recipe = replace(RECIPE, steps=args.steps)
    data = training_set(faces, recipe, seed=0, landmarker=lm)
    c1 = time.process_time()
    model, losses = train_recipe(data, recipe, seed=0)
    c2 = time.process_time()
    print(
        f"{len(data[1])} crops made in {c1 - c0:.0f} CPU-s; trained in {c2 - c1:.0f} CPU-s; "
        f"final loss {np.mean(losses[-50:]):.4f}"
    )
    everyone = {**faces, HELD_OUT_ID: training_faces((HELD_OUT_ID,))[0]}
    res = held_out_eval(model, everyone, HELD_OUT_ID, args.eval_pairs, landmarker=lm)
    print("held-out " + ", ".join(f"{k} AUC {v:.3f}" for k, v in res.items()))
    print(save_boundary(model, args.out))


if __name__ == "__main__":
    main()
