"""``vits`` TTS engine: an official VITS checkpoint + config on voxlab's clean-room model.

Users bring the files (model hubs are out of reach here): the official releases
``pretrained_ljs.pth`` (single speaker, 22.05 kHz) and ``pretrained_vctk.pth`` (109
speakers) of jaywalnut310/vits with ``configs/ljs_base.json`` / ``vctk_base.json``, or any
``G_<step>.pth`` trained with that code. Text goes through the official front end
(``english_cleaners2``: espeak-ng IPA, 178 symbols, ``add_blank``). The duration
predictor's frames per symbol give the timed phonemes recorded in ``params["phonemes"]``.

Example:
    voxlab tts --engine vits --checkpoint pretrained_vctk.pth --config vctk_base.json \
        --voice 12 "Hello there." -o hello.wav
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from voxlab.errors import ConfigError
from voxlab.generation.neural.engines.base import TTSEngine, UnknownVoiceError, Voice
from voxlab.generation.neural.engines.registry import register_engine

LICENCE = (
    "user-supplied checkpoint (official VITS: MIT code; LJ Speech data public domain, "
    "VCTK data CC-BY-4.0)"
)


@register_engine
class VitsEngine(TTSEngine):
    """VITS from a user's official checkpoint and config.

    Args:
        checkpoint: ``G_<step>.pth`` / ``pretrained_*.pth``.
        config: The matching ``config.json``.
        language: espeak-ng voice for the phonemes (default ``en-us``).
        noise_scale: Prior noise scale (official demo: 0.667).
        noise_scale_w: Duration noise scale (demo: 0.8).
        deterministic: Zero every random draw (as the reference fixtures were made).
    """

    name = "vits"
    description = "VITS (Kim et al. 2021), official checkpoints on voxlab's clean-room model"
    install_hint = (
        "pass an official VITS checkpoint and its config: --checkpoint G.pth --config "
        "config.json (and apt-get install -y espeak-ng for the phonemes)"
    )
    family = "vits"

    def __init__(
        self,
        *,
        checkpoint: str | os.PathLike | None = None,
        config: str | os.PathLike | None = None,
        language: str = "en-us",
        noise_scale: float = 0.667,
        noise_scale_w: float = 0.8,
        deterministic: bool = False,
    ) -> None:
        super().__init__()
        self.checkpoint = Path(checkpoint) if checkpoint is not None else None
        self.config = Path(config) if config is not None else None
        self.language = language
        self.noise_scale = float(noise_scale)
        self.noise_scale_w = float(noise_scale_w)
        self.deterministic = bool(deterministic)
        self._model: Any = None
        self._hps: dict[str, Any] | None = None

    # -- availability ---------------------------------------------------------------
    def missing(self) -> str | None:
        """What is missing: the checkpoint/config pair, the files, or espeak-ng."""
        if self.checkpoint is None or self.config is None:
            return self.install_hint
        for label, path in (("checkpoint", self.checkpoint), ("config", self.config)):
            if not path.is_file():
                return f"VITS {label} not found: {path}"
        if self._uses_espeak():
            from voxlab.testing import espeak_available

            if not espeak_available():
                return "espeak-ng is not installed (apt-get install -y espeak-ng)"
        return None

    def _hparams(self) -> dict[str, Any]:
        if self._hps is None:
            from voxlab.generation.neural.commons import read_json_config

            self._hps = read_json_config(self.config, what="VITS")
        return self._hps

    def _uses_espeak(self) -> bool:
        cleaners = self._hparams().get("data", {}).get("text_cleaners", ["english_cleaners2"])
        return any(c.startswith("english_cleaners") for c in cleaners)

    # -- voices -----------------------------------------------------------------------
    def _speakers(self) -> int:
        if self.config is None or not self.config.is_file():
            return 0
        return int(self._hparams().get("data", {}).get("n_speakers", 0))

    def voices(self) -> list[Voice]:
        """One voice per speaker of the checkpoint (``<stem>`` or ``<stem>-<sid>``)."""
        if self.missing() is not None:
            return []
        data = self._hparams().get("data", {})
        rate = int(data.get("sampling_rate", 22050))
        stem = self.checkpoint.stem
        language = self.language if self._uses_espeak() else "und"
        n = self._speakers()
        ids = [stem] if n <= 1 else [f"{stem}-{sid}" for sid in range(n)]
        return [
            Voice(
                voice_id,
                self.name,
                language,
                None,
                rate,
                LICENCE,
                str(self.checkpoint),
                description=f"VITS speaker {i} of {self.checkpoint.name}",
            )
            for i, voice_id in enumerate(ids)
        ]

    @property
    def default_voice(self) -> str:
        """The first speaker."""
        stem = self.checkpoint.stem if self.checkpoint is not None else "vits"
        return stem if self._speakers() <= 1 else f"{stem}-0"

    def voice(self, voice_id: str | None = None) -> Voice:
        """A voice by id; multi-speaker models also take the bare speaker number ("12")."""
        if voice_id is not None and voice_id.isdigit() and self.checkpoint is not None:
            if self._speakers() > 1:
                voice_id = f"{self.checkpoint.stem}-{int(voice_id)}"
            elif int(voice_id) == 0:
                voice_id = self.checkpoint.stem
        return super().voice(voice_id)

    # -- synthesis --------------------------------------------------------------------
    def model(self):
        """The loaded model (cached)."""
        if self._model is None:
            self.require()
            from voxlab.generation.neural.vits import load_vits

            self._model = load_vits(self.checkpoint, self.config)
        return self._model

    def _synthesize(
        self, text: str, voice: Voice, *, speed: float, seed: int
    ) -> tuple[np.ndarray, int, Mapping[str, Any]]:
        import torch

        from voxlab.generation.neural.commons import is_deterministic
        from voxlab.generation.neural.vits import synthesize_text
        from voxlab.generation.neural.vits.durations import phoneme_events
        from voxlab.generation.neural.vits.text import PAD, SYMBOLS

        model = self.model()
        sid = None
        if model.n_speakers > 1:
            sid = int(voice.id.rsplit("-", 1)[1])
            if sid >= model.n_speakers:
                raise UnknownVoiceError(f"{voice.id}: the model has {model.n_speakers} speakers")
        if not 0 <= self.noise_scale <= 10 or not 0 <= self.noise_scale_w <= 10:
            raise ConfigError("VITS noise scales must lie in [0, 10]")
        deterministic = self.deterministic or is_deterministic()
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            audio, ids, frames = synthesize_text(
                model,
                text,
                speaker=sid,
                noise_scale=self.noise_scale,
                noise_scale_w=self.noise_scale_w,
                length_scale=1.0 / speed,
                language=self.language,
                deterministic=deterministic or None,
                return_durations=True,
            )
        extra = {
            "checkpoint": self.checkpoint.name,
            "speaker": sid,
            "noise_scale": self.noise_scale,
            "noise_scale_w": self.noise_scale_w,
            "deterministic": deterministic,
            "phonemes": phoneme_events(
                [SYMBOLS[i] for i in ids],
                frames,
                hop_length=model.hop_length,
                sample_rate=int(model.sample_rate),
                blank=PAD if getattr(model, "add_blank", True) else None,
            ),
        }
        return audio.numpy(), int(model.sample_rate), extra
