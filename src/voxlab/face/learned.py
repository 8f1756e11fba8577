"""The learned swap path: a DeepFaceLab-style autoencoder.

One shared encoder, one decoder per identity.

Training reconstructs aligned crops of identity A through decoder A and of identity B
through decoder B; both share the encoder, so it learns a pose/expression/lighting code
common to both faces. Swapping encodes a crop of A and decodes it with decoder B: B's face
with A's expression. Each decoder also predicts a mask used when pasting the face back.

Two configurations: :data:`DEBUG` (a few CPU steps, used by the tests) and the GPU-sized
recipe in ``recipes/face/dfl_sae.yaml`` (:func:`config_from_yaml`).
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from voxlab.errors import ConfigError


@dataclass(frozen=True)
class SwapModelConfig:
    """Size and training settings of :class:`DFLAutoencoder`.

    Attributes:
        resolution: Crop side in pixels (power of two, >= 16).
        enc_dims: Channels of the first encoder conv (doubled at each of 4 downsamplings).
        ae_dims: Size of the bottleneck code.
        dec_dims: Channels of the first decoder stage.
        batch_size: Crops per identity per step.
        steps: Training steps.
        lr: Adam learning rate.
        mask_weight: Weight of the mask loss.
        seed: Seed of initialisation and batches.
    """

    resolution: int = 64
    enc_dims: int = 32
    ae_dims: int = 128
    dec_dims: int = 32
    batch_size: int = 8
    steps: int = 100
    lr: float = 5e-5
    mask_weight: float = 1.0
    seed: int = 0

    def __post_init__(self) -> None:
        r = self.resolution
        if r < 16 or r & (r - 1):
            raise ConfigError(f"resolution {r} must be a power of two >= 16")
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name not in ("lr", "mask_weight", "seed") and v <= 0:
                raise ConfigError(f"{f.name} must be positive, got {v}")


#: The shipped hopper <-> astronaut model (recipe ``recipes/face/dfl_cpu64.yaml``).
WEIGHTS = Path(__file__).parent / "weights" / "dfl_hopper_astronaut.pt"
#: Its SHA-256 (checked whenever it is loaded).
WEIGHTS_SHA256 = "05d0d3c8ebdc3ceaa727507d5e08b0e3ae6425f9f6e81e56d27ebd4e4070cd27"

#: A few CPU steps at 32 px (the tests' configuration).
DEBUG = SwapModelConfig(resolution=32, enc_dims=8, ae_dims=32, dec_dims=8, batch_size=4,
                        steps=6, lr=1e-3)  # fmt: skip


def config_from_yaml(path: str | os.PathLike) -> SwapModelConfig:
    """Read a recipe's ``model:`` mapping.

    Raises:
        ConfigError: Unreadable file or unknown keys.
    """
    import yaml

    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{p}: cannot read the recipe ({exc})") from exc
    model = data.get("model", data)
    known = {f.name for f in fields(SwapModelConfig)}
    bad = sorted(set(model) - known)
    if bad:
        raise ConfigError(f"{p}: unknown keys {bad}; known: {sorted(known)}")
    return SwapModelConfig(**model)


def _down(i: int, o: int) -> nn.Module:
    return nn.Sequential(nn.Conv2d(i, o, 5, stride=2, padding=2), nn.LeakyReLU(0.1))


class _Up(nn.Module):
    """Conv to 4x channels then pixel shuffle (x2 upsampling), as DeepFaceLab's upscale."""

    def __init__(self, i: int, o: int):
        super().__init__()
        self.conv = nn.Conv2d(i, o * 4, 3, padding=1)
        self.act = nn.LeakyReLU(0.1)
        self.shuffle = nn.PixelShuffle(2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Upsample x2."""
        return self.shuffle(self.act(self.conv(x)))


class Encoder(nn.Module):
    """Shared encoder: 4 stride-2 convs, then a dense bottleneck and an upscale ("inter").

    Shape:
        input: ``(batch, 3, R, R)`` in ``[0, 1]``; output ``(batch, ae_dims, R/8, R/8)``.
    """

    def __init__(self, cfg: SwapModelConfig):
        super().__init__()
        d = cfg.enc_dims
        self.convs = nn.Sequential(_down(3, d), _down(d, 2 * d), _down(2 * d, 4 * d),
                                   _down(4 * d, 8 * d))  # fmt: skip
        self.low = cfg.resolution // 16
        flat = 8 * d * self.low * self.low
        self.dense1 = nn.Linear(flat, cfg.ae_dims)
        self.dense2 = nn.Linear(cfg.ae_dims, cfg.ae_dims * self.low * self.low)
        self.up = _Up(cfg.ae_dims, cfg.ae_dims)
        self.ae_dims = cfg.ae_dims

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Encode crops."""
        h = self.convs(x).flatten(1)
        h = self.dense2(self.dense1(h))
        return self.up(h.view(-1, self.ae_dims, self.low, self.low))


class Decoder(nn.Module):
    """One identity's decoder: 3 upscales to the crop size; RGB and a mask.

    Shape:
        input: ``(batch, ae_dims, R/8, R/8)``; outputs ``(batch, 3, R, R)`` and
        ``(batch, 1, R, R)``, both in ``[0, 1]``.
    """

    def __init__(self, cfg: SwapModelConfig):
        super().__init__()
        d = cfg.dec_dims
        self.ups = nn.Sequential(_Up(cfg.ae_dims, 4 * d), _Up(4 * d, 2 * d), _Up(2 * d, d))
        self.rgb = nn.Conv2d(d, 3, 5, padding=2)
        self.mask = nn.Conv2d(d, 1, 5, padding=2)

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Decode codes to RGB and mask."""
        h = self.ups(z)
        return torch.sigmoid(self.rgb(h)), torch.sigmoid(self.mask(h))


class DFLAutoencoder(nn.Module):
    """Shared encoder + decoders ``a`` and ``b``."""

    def __init__(self, cfg: SwapModelConfig):
        super().__init__()
        self.cfg = cfg
        self.encoder = Encoder(cfg)
        self.decoder_a = Decoder(cfg)
        self.decoder_b = Decoder(cfg)

    def forward(self, x: torch.Tensor, identity: str) -> tuple[torch.Tensor, torch.Tensor]:
        """Reconstruct ``x`` as identity ``"a"`` or ``"b"``.

        Shape:
            x: ``(batch, 3, R, R)``; returns ``(batch, 3, R, R)`` and ``(batch, 1, R, R)``.
        """
        dec = self.decoder_a if identity == "a" else self.decoder_b
        return dec(self.encoder(x))

    def swap(self, x_a: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """A's expression rendered as B (the swap)."""
        return self.forward(x_a, "b")


def _to_tensor(crops: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(crops)).permute(0, 3, 1, 2).float() / 255.0


def _batch(crops: torch.Tensor, n: int, gen: torch.Generator) -> torch.Tensor:
    idx = torch.randint(0, crops.shape[0], (n,), generator=gen)
    x = crops[idx]
    flip = torch.rand(n, generator=gen) < 0.5
    x[flip] = x[flip].flip(-1)
    return x


def train_swap_model(
    crops_a: np.ndarray,
    crops_b: np.ndarray,
    cfg: SwapModelConfig = DEBUG,
    *,
    masks_a: np.ndarray | None = None,
    masks_b: np.ndarray | None = None,
    device: str = "cpu",
    resume: Mapping[str, Any] | None = None,
    checkpoint: Callable[[dict[str, Any]], None] | None = None,
    checkpoint_every: int = 0,
    progress: Callable | None = None,
) -> tuple[DFLAutoencoder, list[float]]:
    """Train the autoencoder on aligned crops of two identities.

    Args:
        crops_a: RGB uint8 crops of A. Shape: ``(n_a, R, R, 3)``.
        crops_b: RGB uint8 crops of B. Shape: ``(n_b, R, R, 3)``.
        cfg: Sizes and schedule.
        masks_a: Optional face masks of A in ``[0, 1]``. Shape: ``(n_a, R, R)``; all ones
            when None.
        masks_b: The same for B.
        device: Torch device.
        resume: A training state passed to ``checkpoint`` earlier: training goes on from
            its step with the same model, optimiser and batch-sampler state (the result
            equals an uninterrupted run).
        checkpoint: Called with the training state (plain tensors and numbers, for
            ``torch.save``) every ``checkpoint_every`` steps and after the last step.
        checkpoint_every: Steps between checkpoints (0 = only at the end).
        progress: Optional ``wrap(iterable, total)`` progress bar over the steps.

    Returns:
        ``(model, losses)``: the trained model and the loss of each step (all steps,
        those before ``resume`` included).

    Raises:
        ConfigError: Crops of the wrong size, or a resume state of another configuration.
    """
    r = cfg.resolution
    for name, c in (("crops_a", crops_a), ("crops_b", crops_b)):
        if c.ndim != 4 or c.shape[1:] != (r, r, 3) or len(c) == 0:
            raise ConfigError(f"{name}: expected (n, {r}, {r}, 3) crops, got {c.shape}")
    torch.manual_seed(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    xa, xb = _to_tensor(crops_a).to(device), _to_tensor(crops_b).to(device)
    ma = torch.ones(len(xa), 1, r, r) if masks_a is None else torch.from_numpy(masks_a)[:, None]
    mb = torch.ones(len(xb), 1, r, r) if masks_b is None else torch.from_numpy(masks_b)[:, None]
    xa, xb = torch.cat([xa, ma.float().to(device)], 1), torch.cat([xb, mb.float().to(device)], 1)
    model = DFLAutoencoder(cfg).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, betas=(0.5, 0.999))
    losses: list[float] = []
    start = 0
    if resume is not None:
        saved = dict(resume.get("config") or {})
        if {**saved, "steps": cfg.steps} != asdict(cfg):
            raise ConfigError(
                f"the checkpoint was trained with {saved}, not {asdict(cfg)}; resume with "
                "the same recipe (only the step count may change) or start afresh"
            )
        model.load_state_dict(resume["state_dict"])
        opt.load_state_dict(resume["optimizer"])
        gen.set_state(resume["generator"])
        start, losses = int(resume["step"]), list(resume["losses"])

    def state(step: int) -> dict[str, Any]:
        # copies: the caller may keep the state while training goes on
        return {"config": asdict(cfg),
                "state_dict": {k: v.detach().clone() for k, v in model.state_dict().items()},
                "optimizer": copy.deepcopy(opt.state_dict()), "generator": gen.get_state(),
                "step": step, "losses": list(losses)}  # fmt: skip

    steps = range(start, cfg.steps)
    model.train()
    for step in progress(steps, len(steps)) if progress else steps:
        loss = torch.zeros((), device=device)
        for ident, data in (("a", xa), ("b", xb)):
            b = _batch(data, cfg.batch_size, gen)
            rgb, mask = model(b[:, :3], ident)
            target_m = b[:, 3:]
            loss = loss + (torch.abs(rgb - b[:, :3]) * target_m).mean() * 10
            loss = loss + cfg.mask_weight * torch.mean((mask - target_m) ** 2) * 10
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
        done = step + 1
        if checkpoint and checkpoint_every and done % checkpoint_every == 0 and done < cfg.steps:
            checkpoint(state(done))
    if checkpoint:
        checkpoint(state(cfg.steps))
    return model.eval(), losses


@torch.no_grad()
def reconstruction_l1(
    model: DFLAutoencoder, crops: np.ndarray, masks: np.ndarray, identity: str
) -> float:
    """Mean absolute error (pixel values in ``[0, 1]``) inside the face masks.

    Args:
        model: The autoencoder.
        crops: RGB uint8 crops of one identity. Shape: ``(n, R, R, 3)``.
        masks: Their face masks. Shape: ``(n, R, R)``.
        identity: ``"a"`` or ``"b"``: whose decoder reconstructs them.
    """
    was = model.training
    model.eval()
    x = _to_tensor(crops)
    m = torch.from_numpy(np.ascontiguousarray(masks)).float()[:, None]
    err = 0.0
    for i in range(0, len(x), 64):
        rgb, _ = model(x[i : i + 64], identity)
        err += float((torch.abs(rgb - x[i : i + 64]) * m[i : i + 64]).sum())
    model.train(was)
    return err / (3.0 * float(m.sum()) + 1e-9)
