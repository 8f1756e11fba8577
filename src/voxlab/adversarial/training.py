"""Adversarial training: a batch's adversarial twins for the trainer (Madry et al., 2018).

:func:`adversarial_batch` perturbs every waveform of a training batch within an
L-infinity ball whose radius comes from each item's own RMS and the SNR budget
(:func:`voxlab.adversarial.epsilon_for_snr`), *increasing* the loss of the true label
(untargeted: spoof -> bona fide and bona fide -> spoof at once). The trainer then trains
on the clean and adversarial batches together. Crafting runs in eval mode (batch-norm
statistics untouched) and leaves the model's mode as it found it.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from voxlab.errors import ConfigError

METHODS = ("fgsm", "pgd")


def adversarial_batch(
    model: nn.Module,
    waves: Tensor,
    labels: Tensor,
    *,
    method: str = "pgd",
    snr_db: float = 40.0,
    steps: int = 3,
) -> Tensor:
    """Adversarial versions of ``waves`` that raise the loss of ``labels``.

    Args:
        model: The network being trained, ``(batch, time)`` -> logits.
        waves: Training waveforms. Shape: ``(batch, time)``.
        labels: Class indices (0 spoof, 1 bona fide). Shape: ``(batch,)``.
        method: ``"fgsm"`` (one step of size eps) or ``"pgd"`` (``steps`` steps of
            ``2.5 * eps / steps``, no random start).
        snr_db: Budget: signal-to-perturbation ratio in dB per item.
        steps: PGD steps.

    Returns:
        The perturbed batch, detached. Shape: ``(batch, time)``.
    """
    if method not in METHODS:
        raise ConfigError(f"adversarial method must be one of {METHODS}, got {method!r}")
    was_training = model.training
    model.eval()
    rms = waves.detach().pow(2).mean(dim=1, keepdim=True).sqrt().clamp_min(1e-8)
    eps = rms * 10.0 ** (-snr_db / 20.0)
    n_steps, alpha = (1, eps) if method == "fgsm" else (steps, 2.5 * eps / steps)
    adv = waves.detach().clone()
    try:
        for _ in range(n_steps):
            adv.requires_grad_(True)
            loss = F.cross_entropy(model(adv), labels)
            (grad,) = torch.autograd.grad(loss, adv)
            adv = adv.detach() + alpha * grad.sign()
            adv = torch.max(torch.min(adv, waves + eps), waves - eps).clamp(-1.0, 1.0)
    finally:
        model.train(was_training)
    return adv.detach()
