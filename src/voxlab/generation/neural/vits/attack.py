"""HiFi-GAN (``H01``) and VITS (``T01``) as attack systems of the corpus builder.

Both run checkpoints the user supplies (voxlab ships no weights); the files are named by
environment variables so that every corpus worker process sees them, and each system is
registered only when its variables are set (``--attacks all`` never picks one that cannot
run):

=============================  =============================================================
``VOXLAB_HIFIGAN_CHECKPOINT``  jik876 generator ``g_XXXXXXXX``   (H01, with the config)
``VOXLAB_HIFIGAN_CONFIG``      its ``config.json``
``VOXLAB_VITS_CHECKPOINT``     VITS ``G_<step>.pth`` / ``pretrained_*.pth``  (T01)
``VOXLAB_VITS_CONFIG``         its ``config.json``
``VOXLAB_VITS_SPEAKER``        speaker id for multi-speaker models (default 0)
=============================  =============================================================

H01 is a vocoder system (copy-synthesis of the bona fide utterance through HiFi-GAN's own
mel analysis); T01 speaks the utterance's transcript. Outputs are resampled to the corpus
rate; the models are loaded once per process.

Example::

    export VOXLAB_HIFIGAN_CHECKPOINT=g_02500000 VOXLAB_HIFIGAN_CONFIG=config_v1.json
    voxlab corpus make out/ --attacks V01,H01
"""

from __future__ import annotations

import functools
import os

from voxlab.errors import ConfigError
from voxlab.generation.attacks import ATTACKS, AttackInput, register_attack
from voxlab.generation.base import Generated

HIFIGAN_CKPT_ENV, HIFIGAN_CONFIG_ENV = "VOXLAB_HIFIGAN_CHECKPOINT", "VOXLAB_HIFIGAN_CONFIG"
VITS_CKPT_ENV, VITS_CONFIG_ENV = "VOXLAB_VITS_CHECKPOINT", "VOXLAB_VITS_CONFIG"
VITS_SPEAKER_ENV = "VOXLAB_VITS_SPEAKER"


@functools.lru_cache(maxsize=2)
def _hifigan(checkpoint: str, config: str):
    from voxlab.generation.neural.hifigan import load_hifigan

    return load_hifigan(checkpoint, config)


@functools.lru_cache(maxsize=2)
def _vits(checkpoint: str, config: str):
    from voxlab.generation.neural.engines.vits import VitsEngine

    return VitsEngine(checkpoint=checkpoint, config=config)


def hifigan_attack(item: AttackInput) -> Generated:
    """Copy-synthesis of the utterance through the HiFi-GAN named by the environment."""
    import torch

    from voxlab.audio import resample
    from voxlab.generation.neural.hifigan import mel_spectrogram

    checkpoint = os.environ[HIFIGAN_CKPT_ENV]
    model = _hifigan(checkpoint, os.environ[HIFIGAN_CONFIG_ENV])
    h = model.config
    audio = resample(item.audio, orig_sr=item.sample_rate, target_sr=model.sample_rate)
    mel = mel_spectrogram(
        torch.from_numpy(audio),
        n_fft=int(h.get("n_fft", 1024)),
        num_mels=int(h.get("num_mels", 80)),
        sampling_rate=model.sample_rate,
        hop_size=int(h.get("hop_size", 256)),
        win_size=int(h.get("win_size", 1024)),
        fmin=float(h.get("fmin", 0)),
        fmax=h.get("fmax", 8000),
    )
    with torch.inference_mode():
        wave = model(mel)[0, 0].numpy()
    out = resample(wave, orig_sr=model.sample_rate, target_sr=item.sample_rate)
    params = {"vocoder": "hifigan", "checkpoint": os.path.basename(checkpoint)}
    return Generated(out, item.sample_rate, "hifigan", params)


def vits_attack(item: AttackInput) -> Generated:
    """VITS TTS of the transcript with the checkpoint named by the environment."""
    engine = _vits(os.environ[VITS_CKPT_ENV], os.environ[VITS_CONFIG_ENV])
    speaker = os.environ.get(VITS_SPEAKER_ENV, "0").strip() or "0"
    if not speaker.isdigit():
        raise ConfigError(f"${VITS_SPEAKER_ENV} must be a speaker number, got {speaker!r}")
    return engine.synthesize(item.text, voice=speaker, seed=item.seed, sample_rate=item.sample_rate)


def ensure_registered() -> tuple[bool, bool]:
    """Register ``H01`` / ``T01`` when their environment variables are set.

    Returns:
        Whether H01 and T01 are registered.
    """
    if (
        "H01" not in ATTACKS
        and os.environ.get(HIFIGAN_CKPT_ENV)
        and os.environ.get(HIFIGAN_CONFIG_ENV)
    ):
        register_attack(
            "H01",
            "hifigan",
            f"HiFi-GAN copy-synthesis with the user's generator (${HIFIGAN_CKPT_ENV}, "
            f"${HIFIGAN_CONFIG_ENV})",
            kind="vocoder",
            requires=(f"env:{HIFIGAN_CKPT_ENV}", f"env:{HIFIGAN_CONFIG_ENV}"),
        )(hifigan_attack)
    if "T01" not in ATTACKS and os.environ.get(VITS_CKPT_ENV) and os.environ.get(VITS_CONFIG_ENV):
        register_attack(
            "T01",
            "vits",
            f"VITS TTS of the transcript with the user's checkpoint (${VITS_CKPT_ENV}, "
            f"${VITS_CONFIG_ENV}, optional ${VITS_SPEAKER_ENV})",
            kind="tts",
            requires=("text", f"env:{VITS_CKPT_ENV}", f"env:{VITS_CONFIG_ENV}"),
        )(vits_attack)
    return "H01" in ATTACKS, "T01" in ATTACKS


ensure_registered()
