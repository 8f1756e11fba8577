"""``espeak`` engine: the registry's adapter over :mod:`voxlab.generation.tts` (espeak-ng).

Formant synthesis, > 100 languages, no model weights, deterministic. Voice ids are
espeak-ng language voices (``en-us``, ``de``, ``fr-fr``...), optionally with a variant
(``en-us+f3``, ``de+m2``; see ``espeak-ng --voices=variant``). ``speed`` multiplies
voxlab's default 160 words per minute. Licence: espeak-ng is GPL-3.0-or-later (Debian
package ``espeak-ng``). Timed phonemes come from libespeak-ng's phoneme events (the same
library and samples as the program, in a fresh helper process) and are recorded in
``params["phonemes"]``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from voxlab.generation import tts as espeak_tts
from voxlab.generation.neural.engines.base import TTSEngine, UnknownVoiceError, Voice
from voxlab.generation.neural.engines.registry import register_engine

#: Words per minute at speed 1.0 (voxlab's espeak default).
BASE_WPM = 160
_LICENCE = "GPL-3.0-or-later (espeak-ng)"


@lru_cache(maxsize=1)
def _voice_table() -> tuple[tuple[str, str | None], ...]:
    """``(language voice, gender)`` rows of ``espeak-ng --voices`` (no MBROLA voices)."""
    proc = espeak_tts._run(["--voices"])
    rows = {}
    for line in proc.stdout.decode("utf-8", "replace").splitlines()[1:]:
        fields = line.split()
        if len(fields) >= 5 and fields[1] != "variant" and not fields[4].startswith("mb/"):
            gender = {"M": "male", "F": "female"}.get(fields[2].rsplit("/", 1)[-1])
            rows.setdefault(fields[1], gender)
    return tuple(sorted(rows.items()))


def _variant_gender(variant: str) -> str | None:
    if len(variant) >= 2 and variant[0] in "fm" and variant[1:].isdigit():
        return "female" if variant[0] == "f" else "male"
    return None


@register_engine
class EspeakEngine(TTSEngine):
    """espeak-ng formant synthesis through :func:`voxlab.generation.tts.synthesize`.

    Args:
        pitch: Base pitch 0-99 (espeak-ng ``-p``).
        amplitude: Loudness 0-200 (``-a``).
        word_gap: Extra pause between words, units of 10 ms (``-g``).
        wpm: Words per minute at speed 1.0 (default 160).
    """

    name = "espeak"
    description = "espeak-ng formant synthesis (rule-based, > 100 languages, no weights)"
    install_hint = "apt-get install -y espeak-ng (Debian/Ubuntu) or brew install espeak-ng"
    family = "formant"

    def __init__(
        self, *, pitch: int = 50, amplitude: int = 100, word_gap: int = 0, wpm: int = BASE_WPM
    ) -> None:
        super().__init__()
        espeak_tts.EspeakVoice(pitch=pitch, amplitude=amplitude, word_gap=word_gap, speed=wpm)
        self.pitch, self.amplitude, self.word_gap, self.wpm = pitch, amplitude, word_gap, wpm

    def missing(self) -> str | None:
        """None when ``espeak-ng`` is on PATH, else the install hint."""
        if shutil.which("espeak-ng") is None:
            return f"the espeak-ng program is not on PATH; install it: {self.install_hint}"
        return None

    @property
    def default_voice(self) -> str:
        """American English."""
        return "en-us"

    def voices(self) -> list[Voice]:
        """espeak-ng's language voices (variants combine with any of them: ``en-us+f3``)."""
        if not self.available():
            return []
        return [self._record(lang, gender) for lang, gender in _voice_table()]

    def _record(self, voice_id: str, gender: str | None) -> Voice:
        return Voice(
            id=voice_id,
            engine=self.name,
            language=voice_id.split("+", 1)[0],
            gender=gender,
            sample_rate=espeak_tts.NATIVE_RATE,
            licence=_LICENCE,
            source="Debian package espeak-ng",
            description="espeak-ng formant voice",
        )

    def voice(self, voice_id: str | None = None) -> Voice:
        """Language voice, or ``language+variant`` (any variant espeak-ng knows)."""
        wanted = voice_id or self.default_voice
        base, _, variant = wanted.partition("+")
        record = super().voice(base)
        if not variant:
            return record
        if variant not in espeak_tts._variants():
            raise UnknownVoiceError(
                f"espeak has no variant {variant!r} (in voice {wanted!r}); see "
                "`espeak-ng --voices=variant` (e.g. f1-f5, m1-m8, klatt)"
            )
        return self._record(wanted, _variant_gender(variant) or record.gender)

    def _synthesize(
        self, text: str, voice: Voice, *, speed: float, seed: int
    ) -> tuple[np.ndarray, int, Mapping[str, Any]]:
        base, _, variant = voice.id.partition("+")
        wpm = int(round(min(max(self.wpm * speed, 80), 450)))
        spec = espeak_tts.EspeakVoice(
            voice=base,
            variant=variant or None,
            speed=wpm,
            pitch=self.pitch,
            amplitude=self.amplitude,
            word_gap=self.word_gap,
        )
        out = espeak_tts.synthesize(text, spec, sample_rate=espeak_tts.NATIVE_RATE)
        extra: dict[str, Any] = {"wpm": wpm, "pitch": self.pitch, "amplitude": self.amplitude}
        events = phoneme_events(text, spec, total=len(out.audio))
        if events is not None:
            extra["phonemes"] = events
        return out.audio, out.sample_rate, extra


# -- timed phonemes through libespeak-ng (the library the espeak-ng program runs) ---------
_HELPER = Path(__file__).with_name("_espeak_events.py")


def phoneme_events(
    text: str, spec: espeak_tts.EspeakVoice, *, total: int | None = None
) -> list[list] | None:
    """Timed phonemes ``[start_s, end_s, mnemonic]`` of what espeak-ng says for ``text``.

    libespeak-ng (the library behind the ``espeak-ng`` program, same samples when started
    fresh: it runs in a helper process, see
    :mod:`voxlab.generation.neural.engines._espeak_events`) reports each phoneme's first
    output sample; a phoneme lasts until the next one starts. Symbols are espeak-ng's
    mnemonics (``-x``: ``b``, ``0``, ``eI``, ``_:`` for pauses...). Silence before the
    first phoneme and after the last (the program pads its file) is a ``_``.

    Args:
        text: What was said.
        spec: The voice settings the audio was made with.
        total: Length in samples (22.05 kHz) of the program's output; the last pause is
            extended to it.

    Returns:
        The events, or None when the library is missing or disagrees with ``total``.
    """
    request = {"voice": spec.name, "rate": spec.speed, "volume": spec.amplitude,
               "pitch": spec.pitch, "word_gap": spec.word_gap, "text": text}  # fmt: skip
    try:
        proc = subprocess.run([sys.executable, "-I", os.fspath(_HELPER)],
                              input=json.dumps(request), capture_output=True, text=True,
                              timeout=120, check=False)  # fmt: skip
        reply = json.loads(proc.stdout) if proc.returncode == 0 else None
    except (OSError, subprocess.SubprocessError, ValueError):
        reply = None
    if not reply or not reply.get("marks"):
        return None
    marks = [(int(sample), str(sym)) for sample, sym in reply["marks"]]
    rate = espeak_tts.NATIVE_RATE
    end = int(reply["samples"]) if total is None else total
    if int(reply["samples"]) > end:
        return None
    if marks[0][0] > 0:
        marks.insert(0, (0, "_"))
    edges = [m[0] for m in marks[1:]] + [end]
    return [[round(s / rate, 4), round(e / rate, 4), sym]
            for (s, sym), e in zip(marks, edges, strict=True)]  # fmt: skip
