"""FGSM and PGD on the waveform, L-infinity bounded, budget stated as SNR in dB.

A perturbation ``delta`` with ``|delta_t| <= eps`` has power at most ``eps**2``, so choosing
``eps = rms(x) * 10 ** (-snr_db / 20)`` guarantees a signal-to-perturbation ratio of at
least ``snr_db`` (:func:`epsilon_for_snr`). Attacks are *targeted*: they lower the
cross-entropy of the chosen class (``"bonafide"``: spoof -> bona fide, the evasion a
forger wants; ``"spoof"``: bona fide -> spoof, a denial of service). Logits follow the
voxlab order ``[spoof, bona fide]``.

The model sees what :class:`voxlab.detection.Detector` would feed it: the whole waveform
(``policy="full"``) or the official first 64,600 samples with short input tiled
(``policy="official"``, done here with differentiable indexing so that the gradient of a
tiled copy flows back to the original sample). The perturbation covers the whole file, so
the adversarial audio can be written out and scored again.

References: Goodfellow et al., "Explaining and harnessing adversarial examples" (FGSM,
ICLR 2015); Madry et al., "Towards deep learning models resistant to adversarial attacks"
(PGD, ICLR 2018).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from voxlab.errors import ConfigError

TARGETS = ("bonafide", "spoof")
POLICIES = ("official", "full")
OFFICIAL_SAMPLES = 64_600


def target_index(target: str) -> int:
    """Logit index of ``target`` (``"spoof"`` -> 0, ``"bonafide"`` -> 1)."""
    if target not in TARGETS:
        raise ConfigError(f"attack target must be one of {TARGETS}, got {target!r}")
    return TARGETS.index(target) ^ 1  # bonafide -> 1, spoof -> 0


def epsilon_for_snr(wave: np.ndarray | Tensor, snr_db: float) -> float:
    """L-infinity bound whose worst-case perturbation has SNR ``snr_db`` against ``wave``.

    Args:
        wave: The clean signal. Shape: ``(time,)``.
        snr_db: Budget in dB (higher = smaller perturbation).

    Returns:
        ``rms(wave) * 10 ** (-snr_db / 20)``.
    """
    data = wave.detach().cpu().double().numpy() if isinstance(wave, Tensor) else wave
    rms = float(np.sqrt(np.mean(np.square(np.asarray(data, dtype=np.float64)))))
    if not math.isfinite(snr_db):
        raise ConfigError(f"SNR budget must be finite, got {snr_db}")
    if rms == 0.0:
        raise ConfigError("cannot state a perturbation budget relative to a silent signal")
    return rms * 10.0 ** (-snr_db / 20.0)


def perturbation_snr(clean: np.ndarray, adversarial: np.ndarray) -> float:
    """Measured SNR in dB of ``adversarial - clean`` against ``clean`` (inf if identical)."""
    clean = np.asarray(clean, dtype=np.float64)
    noise = np.asarray(adversarial, dtype=np.float64) - clean
    p_noise = float(np.mean(noise**2))
    if p_noise == 0.0:
        return math.inf
    return 10.0 * math.log10(float(np.mean(clean**2)) / p_noise)


def model_input(
    wave: Tensor, *, policy: str = "official", length: int = OFFICIAL_SAMPLES
) -> Tensor:
    """What the model sees of ``wave``: itself (``full``) or the official crop/tiling.

    Differentiable: tiling indexes the waveform, so gradients of repeated samples add up.

    Shape:
        ``(time,) -> (1, time)`` for ``full``, ``(1, length)`` for ``official``.
    """
    if policy not in POLICIES:
        raise ConfigError(f"attack policy must be one of {POLICIES}, got {policy!r}")
    if policy == "full":
        return wave.unsqueeze(0)
    index = torch.arange(length, device=wave.device) % wave.shape[0]
    return wave[index].unsqueeze(0)


def default_policy(model: nn.Module) -> str:
    """``full`` for whole-utterance models (LCNN, GMM), else the official crop."""
    return "full" if getattr(model, "default_policy", "official") == "full" else "official"


@dataclass
class AttackResult:
    """An adversarial waveform and what the attacked model made of it.

    Attributes:
        adversarial: The perturbed waveform. Shape: ``(time,)``.
        epsilon: The L-infinity bound used.
        snr_db: The requested budget; ``measured_snr_db`` is the achieved one (>= budget).
        target: ``"bonafide"`` or ``"spoof"``.
        logits_before: Clean ``[spoof, bona fide]`` logits of the attacked model.
        logits_after: Adversarial logits.
        losses: Target cross-entropy after each step (PGD) or before/after (FGSM).
    """

    adversarial: np.ndarray
    epsilon: float
    snr_db: float
    measured_snr_db: float
    target: str
    logits_before: list[float]
    logits_after: list[float]
    losses: list[float]

    @property
    def success(self) -> bool:
        """Whether the attacked model now prefers the target class."""
        idx = target_index(self.target)
        return self.logits_after[idx] > self.logits_after[1 - idx]


def _prepare(model: nn.Module, wave: np.ndarray | Tensor, policy: str | None):
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    device = next(iter(model.parameters()), torch.empty(0)).device
    x = torch.as_tensor(np.asarray(wave, dtype=np.float32), device=device)
    if x.ndim != 1 or x.numel() == 0:
        raise ConfigError(f"attacks take one mono waveform (time,), got shape {tuple(x.shape)}")
    return x, policy or default_policy(model)


def _loss_and_grad(model, x: Tensor, idx: int, policy: str) -> tuple[Tensor, Tensor, Tensor]:
    x = x.detach().requires_grad_(True)
    logits = model(model_input(x, policy=policy))
    loss = F.cross_entropy(logits, torch.tensor([idx], device=x.device))
    (grad,) = torch.autograd.grad(loss, x)
    return loss.detach(), grad, logits.detach()[0]


@torch.no_grad()
def _logits(model, x: Tensor, policy: str) -> Tensor:
    return model(model_input(x, policy=policy))[0]


def fgsm(
    model: nn.Module,
    wave: np.ndarray | Tensor,
    *,
    target: str = "bonafide",
    snr_db: float = 40.0,
    policy: str | None = None,
) -> AttackResult:
    """Fast gradient sign method: one step of size ``eps`` down the target loss.

    Args:
        model: Differentiable countermeasure, waveforms ``(batch, time)`` -> logits.
        wave: Clean waveform at the model's rate. Shape: ``(time,)``.
        target: Class to push towards: ``"bonafide"`` or ``"spoof"``.
        snr_db: Budget as SNR in dB (see :func:`epsilon_for_snr`).
        policy: ``"official"`` or ``"full"``; default from the model.

    Returns:
        The :class:`AttackResult`.
    """
    idx = target_index(target)
    x, policy = _prepare(model, wave, policy)
    eps = epsilon_for_snr(x, snr_db)
    loss0, grad, logits0 = _loss_and_grad(model, x, idx, policy)
    adv = (x - eps * grad.sign()).clamp(-1.0, 1.0)
    logits1 = _logits(model, adv, policy)
    loss1 = F.cross_entropy(logits1[None], torch.tensor([idx], device=x.device))
    return _result(x, adv, eps, snr_db, target, logits0, logits1, [loss0.item(), loss1.item()])


def pgd(
    model: nn.Module,
    wave: np.ndarray | Tensor,
    *,
    target: str = "bonafide",
    snr_db: float = 40.0,
    steps: int = 10,
    step_size: float | None = None,
    random_start: bool = True,
    seed: int = 0,
    policy: str | None = None,
) -> AttackResult:
    """Projected gradient descent on the target loss inside the L-infinity ball.

    Each step moves ``step_size`` (default ``2.5 * eps / steps``, Madry et al.) against the
    sign of the gradient, then projects back into ``[x - eps, x + eps]`` and ``[-1, 1]``.
    The iterate with the lowest target loss is returned.

    Args:
        model: Differentiable countermeasure, waveforms ``(batch, time)`` -> logits.
        wave: Clean waveform at the model's rate. Shape: ``(time,)``.
        target: Class to push towards: ``"bonafide"`` or ``"spoof"``.
        snr_db: Budget as SNR in dB (see :func:`epsilon_for_snr`).
        steps: Gradient steps (>= 1).
        step_size: Step in waveform units; default ``2.5 * eps / steps``.
        random_start: Start from a uniform random point of the ball (seeded).
        seed: Seed of the random start.
        policy: ``"official"`` or ``"full"``; default from the model.

    Returns:
        The :class:`AttackResult` (``losses``: target loss of each evaluated iterate).
    """
    if steps < 1:
        raise ConfigError(f"PGD needs steps >= 1, got {steps}")
    idx = target_index(target)
    x, policy = _prepare(model, wave, policy)
    eps = epsilon_for_snr(x, snr_db)
    alpha = step_size if step_size is not None else 2.5 * eps / steps
    logits0 = _logits(model, x, policy)
    adv = x.clone()
    if random_start:
        gen = torch.Generator(device="cpu").manual_seed(seed)
        noise = (torch.rand(x.shape, generator=gen) * 2 - 1).to(x.device)
        adv = (x + eps * noise).clamp(-1.0, 1.0)
    best, best_loss, losses = adv.clone(), math.inf, []
    for _ in range(steps):
        loss, grad, _ = _loss_and_grad(model, adv, idx, policy)
        losses.append(loss.item())
        if loss.item() < best_loss:
            best, best_loss = adv.clone(), loss.item()
        adv = adv - alpha * grad.sign()
        adv = torch.max(torch.min(adv, x + eps), x - eps).clamp(-1.0, 1.0)
    logits1 = _logits(model, adv, policy)
    final = F.cross_entropy(logits1[None], torch.tensor([idx], device=x.device)).item()
    losses.append(final)
    if final >= best_loss:
        adv = best
        logits1 = _logits(model, adv, policy)
    return _result(x, adv, eps, snr_db, target, logits0, logits1, losses)


def _result(x, adv, eps, snr_db, target, logits0, logits1, losses) -> AttackResult:
    clean = x.detach().cpu().numpy()
    out = adv.detach().cpu().numpy().astype(np.float32)
    return AttackResult(
        adversarial=out,
        epsilon=float(eps),
        snr_db=float(snr_db),
        measured_snr_db=perturbation_snr(clean, out),
        target=target,
        logits_before=[float(v) for v in logits0.cpu()],
        logits_after=[float(v) for v in logits1.cpu()],
        losses=[float(v) for v in losses],
    )
