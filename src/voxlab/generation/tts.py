"""Text to speech with espeak-ng (formant synthesis, > 100 languages, no model weights).

espeak-ng is a Debian/Ubuntu package (``apt-get install -y espeak-ng``); this module runs
the ``espeak-ng`` program, reads its 22.05 kHz WAV output and resamples it with soxr. The
text goes through standard input, never through the command line, so any text is safe.
espeak-ng is deterministic: the same text and voice give the same samples.

A voice is a language voice (``en-us``, ``de``, ``fr-fr``, ...) optionally combined with a
variant (``f3``, ``m2``, ``klatt``, ``Annie``, ...) as ``en-us+f3``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

from voxlab.errors import ConfigError, VoxlabError
from voxlab.generation.base import Generated, finish_audio

SYSTEM = "espeak-ng"
#: espeak-ng's native output rate.
NATIVE_RATE = 22_050
_NAME = re.compile(r"^[A-Za-z0-9_\-]+$")


class EspeakNotFoundError(VoxlabError):
    """The ``espeak-ng`` program is not installed or not on PATH."""


class EspeakError(VoxlabError):
    """espeak-ng refused the voice or the text."""


@dataclass(frozen=True)
class EspeakVoice:
    """An espeak-ng speaking configuration (what makes a stand-in "speaker").

    Attributes:
        voice: Language voice name, e.g. ``"en-us"``, ``"de"``, ``"fr-fr"``.
        variant: Variant name without ``+`` (``"f3"``, ``"m2"``, ``"klatt"``), or None.
        speed: Words per minute (80-450).
        pitch: Base pitch, 0-99 (espeak-ng's ``-p``).
        amplitude: Loudness, 0-200 (espeak-ng's ``-a``).
        word_gap: Extra pause between words in units of 10 ms.
    """

    voice: str = "en-us"
    variant: str | None = None
    speed: int = 160
    pitch: int = 50
    amplitude: int = 100
    word_gap: int = 0

    def __post_init__(self) -> None:
        for name in ("voice", "variant"):
            value = getattr(self, name)
            if value is not None and not _NAME.match(value):
                raise ConfigError(
                    f"espeak-ng {name} {value!r} is not a voice name (letters, digits, - and _); "
                    "see `espeak-ng --voices` and `espeak-ng --voices=variant`"
                )
        for name, low, high in (
            ("speed", 80, 450),
            ("pitch", 0, 99),
            ("amplitude", 0, 200),
            ("word_gap", 0, 100),
        ):
            value = getattr(self, name)
            if not low <= int(value) <= high:
                raise ConfigError(f"espeak-ng {name} must be in [{low}, {high}], got {value}")

    @property
    def name(self) -> str:
        """espeak-ng's ``-v`` argument (``voice`` or ``voice+variant``)."""
        return self.voice if self.variant is None else f"{self.voice}+{self.variant}"

    def to_dict(self) -> dict:
        """Plain-dict form (for manifests)."""
        return asdict(self)


def espeak_path() -> str:
    """Path of the ``espeak-ng`` program.

    Raises:
        EspeakNotFoundError: It is not on PATH.
    """
    path = shutil.which("espeak-ng")
    if path is None:
        raise EspeakNotFoundError(
            "espeak-ng is not installed or not on PATH; install it with "
            "`apt-get install -y espeak-ng` (Debian/Ubuntu) or `brew install espeak-ng` (macOS)"
        )
    return path


def _run(args: list[str], *, text: str | None = None) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(
            [espeak_path(), *args],
            input=None if text is None else text.encode("utf-8"),
            capture_output=True,
            timeout=120,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise EspeakError(f"espeak-ng took longer than {exc.timeout} s") from exc


def list_voices(language: str | None = None) -> list[str]:
    """Language voice names that espeak-ng offers (``espeak-ng --voices[=LANG]``).

    Args:
        language: Only voices for this language (e.g. ``"en"``); all when None.

    Returns:
        Voice names usable as :attr:`EspeakVoice.voice`, sorted, without MBROLA voices.
    """
    arg = "--voices" if language is None else f"--voices={language}"
    proc = _run([arg])
    names = set()
    for line in proc.stdout.decode("utf-8", "replace").splitlines()[1:]:
        fields = line.split()
        if len(fields) >= 5 and fields[1] != "variant" and not fields[4].startswith("mb/"):
            names.add(fields[1])
    return sorted(names)


def list_variants() -> list[str]:
    """Variant names (``espeak-ng --voices=variant``), usable as :attr:`EspeakVoice.variant`."""
    proc = _run(["--voices=variant"])
    names = []
    for line in proc.stdout.decode("utf-8", "replace").splitlines()[1:]:
        fields = line.split()
        if len(fields) >= 5 and fields[-1].startswith("!v/"):
            names.append(fields[-1][3:])
    return sorted(names)


@lru_cache(maxsize=1)
def _variants() -> frozenset[str]:
    return frozenset(list_variants())


def synthesize(
    text: str,
    voice: EspeakVoice | None = None,
    *,
    sample_rate: int = 16_000,
) -> Generated:
    """Speaks ``text`` with espeak-ng.

    Args:
        text: What to say (any language the voice reads; plain text, no SSML).
        voice: Speaking configuration; the default is American English at 160 wpm.
        sample_rate: Output rate in Hz (resampled from espeak-ng's 22,050 Hz with soxr).

    Returns:
        ``Generated`` with float32 mono samples (scaled to a 0.95 peak only when resampling
        overshoots full scale), system ``"espeak-ng"`` and the voice and text as parameters.

    Raises:
        EspeakNotFoundError: espeak-ng is not installed.
        EspeakError: Unknown voice/variant, empty text, or no audio produced.
    """
    from voxlab.audio import load

    voice = voice or EspeakVoice()
    if voice.variant is not None and voice.variant not in _variants():
        raise EspeakError(
            f"unknown espeak-ng variant {voice.variant!r}; see `espeak-ng --voices=variant` "
            "(e.g. f1-f5, m1-m8, klatt)"
        )
    if not text or not text.strip():
        raise EspeakError("nothing to say: the text is empty")
    with tempfile.TemporaryDirectory(prefix="voxlab-espeak-") as tmp:
        out = Path(tmp) / "speech.wav"
        args = [
            "-v",
            voice.name,
            "-s",
            str(voice.speed),
            "-p",
            str(voice.pitch),
            "-a",
            str(voice.amplitude),
            "-g",
            str(voice.word_gap),
            "-w",
            os.fspath(out),
            "--stdin",
        ]
        proc = _run(args, text=text)
        err = proc.stderr.decode("utf-8", "replace").strip()
        if proc.returncode != 0 or not out.is_file() or out.stat().st_size <= 44:
            raise EspeakError(
                f"espeak-ng failed for voice {voice.name!r} (exit {proc.returncode}): "
                f"{err or 'no audio produced'}; check the name with `espeak-ng --voices`"
            )
        samples, _ = load(out, sr=sample_rate)
    return Generated(
        audio=finish_audio(samples, name=f"espeak-ng voice {voice.name}"),
        sample_rate=sample_rate,
        system=SYSTEM,
        params={"text": text, **voice.to_dict()},
    )
