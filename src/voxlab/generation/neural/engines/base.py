"""The one TTS engine interface: voice records, engine base class and its errors.

An engine turns text into :class:`~voxlab.generation.base.Generated` audio offline. Every
engine answers four questions the same way:

- :meth:`TTSEngine.available` / :meth:`TTSEngine.missing`: can it run here, and if not,
  the one-line install hint (``pip install 'voxlab[tts]'``, ``apt-get install -y ...``);
- :meth:`TTSEngine.voices`: the :class:`Voice` records it finds offline;
- :meth:`TTSEngine.synthesize`: ``text`` -> ``Generated`` with ``voice``, ``speed``,
  ``seed`` and ``sample_rate`` keywords;
- :attr:`TTSEngine.name`, :attr:`TTSEngine.description`: what to call it.

The system id of the audio an engine makes is ``"<engine>:<voice id>"`` (e.g.
``"piper:en_US-joe-medium"``), which is what the watermark payload and the AI-generated tag
name when the audio is written with :func:`voxlab.generation.base.write_generated`.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

import numpy as np

from voxlab.errors import ConfigError, VoxlabError
from voxlab.generation.base import Generated, finish_audio


class EngineError(VoxlabError):
    """A TTS engine failed on valid-looking input (the message says what to check)."""


class EngineUnavailableError(EngineError):
    """The engine (or one of its assets) is not installed; the message says how to install it."""


class UnknownEngineError(ConfigError):
    """No engine is registered under that name."""


class UnknownVoiceError(ConfigError):
    """The engine has no such voice (the message lists some that exist)."""


@dataclass(frozen=True)
class Voice:
    """One voice an engine can speak with.

    Attributes:
        id: Voice id as given to ``--voice`` (e.g. ``"en_US-joe-medium"``, ``"af_heart"``).
        engine: Engine name (``"piper"``, ``"kokoro"``, ...).
        language: Language tag (BCP-47 style, e.g. ``"en-us"``, ``"ja"``).
        gender: ``"female"``, ``"male"`` or None when unknown.
        sample_rate: Native output rate in Hz.
        licence: Licence of the voice data/weights as stated by its package.
        source: Where it comes from (package and version, or a file path).
        training: False for voices voxlab keeps out of training corpora (held out for
            evaluation), True otherwise.
        description: Free text (speaker, method).
    """

    id: str
    engine: str
    language: str
    gender: str | None
    sample_rate: int
    licence: str
    source: str
    training: bool = True
    description: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form (JSON output of ``voxlab voices``)."""
        return asdict(self)


def check_text(text: str, *, engine: str) -> str:
    """The text with surrounding whitespace removed.

    Raises:
        EngineError: The text is empty.
    """
    if not isinstance(text, str) or not text.strip():
        raise EngineError(f"{engine}: nothing to say, the text is empty")
    return text.strip()


def check_speed(speed: float, *, engine: str, low: float = 0.25, high: float = 4.0) -> float:
    """The speaking-rate multiplier (1.0 = the voice's natural rate), checked.

    Raises:
        ConfigError: Not a finite number in ``[low, high]``.
    """
    value = float(speed)
    if not math.isfinite(value) or not low <= value <= high:
        raise ConfigError(
            f"{engine}: speed must be a rate multiplier in [{low}, {high}] (1 = natural), "
            f"got {speed}"
        )
    return value


def to_rate(audio: np.ndarray, native: int, sample_rate: int | None, *, name: str) -> tuple:
    """Checks synthesised audio and resamples it (soxr) when another rate is asked for.

    Args:
        audio: Samples at ``native`` Hz. Shape: ``(time,)``.
        native: The engine's rate.
        sample_rate: Wanted rate; ``None`` keeps ``native``.
        name: What to call the audio in errors.

    Returns:
        ``(samples, rate)``; float32, peak at most 0.95. Shape: ``(time',)``.
    """
    from voxlab.audio.resample import resample

    rate = native if sample_rate is None else int(sample_rate)
    if rate < 1000 or rate > 384_000:
        raise ConfigError(f"{name}: sample rate {sample_rate} Hz is out of range (1000-384000)")
    samples = np.asarray(audio, dtype=np.float32).reshape(-1)
    if rate != native and samples.size:
        samples = resample(samples, orig_sr=native, target_sr=rate)
    return finish_audio(samples, name=name), rate


class TTSEngine(ABC):
    """Base class of voxlab's offline TTS engines.

    Subclasses set :attr:`name`, :attr:`description` and :attr:`install_hint`, and
    implement :meth:`missing`, :meth:`voices` and :meth:`_synthesize`. Heavy libraries
    (onnxruntime, ...) are imported inside methods, so listing engines stays cheap.

    Keyword options given to :func:`~voxlab.generation.neural.engines.get_engine` (e.g.
    ``checkpoint=...``) reach the subclass constructor; engines that take none refuse them.
    """

    #: Registry name (``--engine``).
    name: ClassVar[str] = ""
    #: One line: method and where it comes from.
    description: ClassVar[str] = ""
    #: One line saying how to install what is missing.
    install_hint: ClassVar[str] = ""
    #: Method family, for quality tables: "formant", "diphone", "hts", "vits", ...
    family: ClassVar[str] = ""

    def __init__(self, **options: Any) -> None:
        if options:
            raise ConfigError(
                f"engine {self.name!r} takes no options, got {', '.join(sorted(options))}"
            )

    # -- availability ---------------------------------------------------------------
    @abstractmethod
    def missing(self) -> str | None:
        """None when the engine can run; otherwise what is missing and how to install it."""

    def available(self) -> bool:
        """True when the engine can speak here (program, packages and assets present)."""
        return self.missing() is None

    def require(self) -> None:
        """Raises :class:`EngineUnavailableError` (with the install hint) if unavailable."""
        reason = self.missing()
        if reason is not None:
            raise EngineUnavailableError(f"TTS engine {self.name!r} is not available: {reason}")

    # -- voices -----------------------------------------------------------------------
    @abstractmethod
    def voices(self) -> list[Voice]:
        """The voices found offline (empty when the engine is unavailable)."""

    @property
    @abstractmethod
    def default_voice(self) -> str:
        """Voice id used when none is given."""

    def voice(self, voice_id: str | None = None) -> Voice:
        """The record of ``voice_id`` (the default voice when None).

        Raises:
            EngineUnavailableError: The engine is not installed.
            UnknownVoiceError: No such voice; the message lists known ones.
        """
        self.require()
        wanted = voice_id or self.default_voice
        records = self.voices()
        for record in records:
            if record.id == wanted:
                return record
        known = ", ".join(v.id for v in records[:12]) + (" ..." if len(records) > 12 else "")
        raise UnknownVoiceError(
            f"{self.name} has no voice {wanted!r}; known: {known or 'none'} "
            f"(see `voxlab voices --engine {self.name}`)"
        )

    # -- synthesis --------------------------------------------------------------------
    def synthesize(
        self,
        text: str,
        *,
        voice: str | None = None,
        speed: float = 1.0,
        seed: int = 0,
        sample_rate: int | None = None,
    ) -> Generated:
        """Speaks ``text``.

        Args:
            text: What to say (plain text).
            voice: Voice id (see :meth:`voices`); the engine's default when None.
            speed: Speaking-rate multiplier, 1.0 = the voice's natural rate (2.0 = twice
                as fast; VITS-style engines use ``length_scale = 1 / speed``).
            seed: Seed of every random draw (same seed -> same samples).
            sample_rate: Output rate in Hz; the voice's native rate when None.

        Returns:
            ``Generated`` with float32 mono samples, system ``"<engine>:<voice>"`` and the
            parameters (engine, voice, text, speed, seed).

        Raises:
            EngineUnavailableError: The engine or the voice's assets are not installed.
            UnknownVoiceError: Unknown voice.
            EngineError: Empty text or the engine failed.
        """
        text = check_text(text, engine=self.name)
        speed = check_speed(speed, engine=self.name)
        record = self.voice(voice)
        audio, native, extra = self._synthesize(text, record, speed=speed, seed=int(seed))
        samples, rate = to_rate(audio, native, sample_rate, name=f"{self.name} {record.id}")
        params = {
            "engine": self.name,
            "voice": record.id,
            "language": record.language,
            "text": text,
            "speed": speed,
            "seed": int(seed),
            **dict(extra),
        }
        return Generated(samples, rate, f"{self.name}:{record.id}", params)

    @abstractmethod
    def _synthesize(
        self, text: str, voice: Voice, *, speed: float, seed: int
    ) -> tuple[np.ndarray, int, Mapping[str, Any]]:
        """Engine-specific synthesis: ``(samples, native rate, extra params)``."""
