"""Adversarial examples against countermeasures: FGSM and PGD with an SNR budget.

The perturbation is bounded in L-infinity on the waveform; the budget is stated as a
signal-to-perturbation ratio in dB, from which the bound is derived per utterance
(:func:`epsilon_for_snr`). :mod:`voxlab.adversarial.robustness` crosses models, channel
conditions of :mod:`voxlab.audio.effects` and adversarial budgets into one EER table.
"""

from voxlab.adversarial.attacks import (
    AttackResult,
    epsilon_for_snr,
    fgsm,
    model_input,
    perturbation_snr,
    pgd,
    target_index,
)

__all__ = [
    "AttackResult",
    "epsilon_for_snr",
    "fgsm",
    "model_input",
    "perturbation_snr",
    "pgd",
    "target_index",
]
