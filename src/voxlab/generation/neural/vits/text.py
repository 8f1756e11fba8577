"""VITS text front end: the official 178-symbol table, ``add_blank`` and espeak phonemes.

The official English models (``ljs_base``, ``vctk_base``) are trained on
``english_cleaners2``: ASCII transliteration, lower case, abbreviation expansion and
espeak-ng IPA phonemes with stress marks and the punctuation kept. voxlab phonemizes with
``espeak-ng --ipa`` itself (one call per punctuation-delimited chunk, punctuation put back
between chunks), so no phonemizer package is needed. Symbol table and ``add_blank``
(a 0 between every symbol and at both ends) are facts of jaywalnut310/vits ``text/``.
"""

from __future__ import annotations

import re
import unicodedata

from voxlab.errors import ConfigError

PAD = "_"
PUNCTUATION = ';:,.!?¡¿—…"«»“” '
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
LETTERS_IPA = (
    "ɑɐɒæɓʙβɔɕçɗɖðʤəɘɚɛɜɝɞɟʄɡɠɢʛɦɧħɥʜɨɪʝɭɬɫɮʟɱɯɰŋɳɲɴøɵɸθœɶʘɹɺɾɻʀʁɽʂʃʈʧʉʊʋⱱʌɣɤʍχʎʏʑʐʒʔʡʕʢǀǁǂǃ"
    "ˈˌːˑʼʴʰʱʲʷˠˤ˞↓↑→↗↘'\u0329'ᵻ"
)

#: The official symbol list: pad, punctuation, letters, IPA (178 entries; ids = positions).
SYMBOLS: tuple[str, ...] = (PAD, *PUNCTUATION, *LETTERS, *LETTERS_IPA)
# the apostrophe appears twice upstream; the later position wins in the id table
SYMBOL_TO_ID: dict[str, int] = {s: i for i, s in enumerate(SYMBOLS)}

_ABBREVIATIONS = [
    (re.compile(rf"\b{abbr}\.", re.IGNORECASE), full)
    for abbr, full in [
        ("mrs", "misess"), ("mr", "mister"), ("dr", "doctor"), ("st", "saint"),
        ("co", "company"), ("jr", "junior"), ("maj", "major"), ("gen", "general"),
        ("drs", "doctors"), ("rev", "reverend"), ("lt", "lieutenant"), ("hon", "honorable"),
        ("sgt", "sergeant"), ("capt", "captain"), ("esq", "esquire"), ("ltd", "limited"),
        ("col", "colonel"), ("ft", "fort"),
    ]
]  # fmt: skip
_CHUNK = re.compile(r'([;:,.!?¡¿—…"«»“”]+)')
_LANG_SWITCH = re.compile(r"\([a-z\-]+\)")


def intersperse(ids: list[int], item: int = 0) -> list[int]:
    """``add_blank``: ``[item, s1, item, s2, ..., sN, item]`` (length ``2N + 1``)."""
    out = [item] * (2 * len(ids) + 1)
    out[1::2] = ids
    return out


def symbols_to_ids(phonemes: str, *, strict: bool = False) -> list[int]:
    """Map a cleaned (phonemised) string to symbol ids.

    Args:
        phonemes: Text made of :data:`SYMBOLS`.
        strict: Raise on unknown characters instead of skipping them (upstream skips).

    Raises:
        ConfigError: ``strict`` and a character is not in the table.
    """
    ids = []
    for ch in phonemes:
        idx = SYMBOL_TO_ID.get(ch)
        if idx is None:
            if strict:
                raise ConfigError(f"symbol {ch!r} is not in the VITS symbol table")
            continue
        ids.append(idx)
    return ids


def _ascii(text: str) -> str:
    try:
        from unidecode import unidecode

        return unidecode(text)
    except ImportError:  # NFKD and drop combining marks: the common Latin cases
        decomposed = unicodedata.normalize("NFKD", text)
        return "".join(c for c in decomposed if not unicodedata.combining(c))


def espeak_ipa(text: str, *, language: str = "en-us") -> str:
    """IPA of ``text`` from ``espeak-ng -q --ipa`` (stress marks kept, one line).

    Raises:
        EspeakNotFoundError: espeak-ng is not installed.
        EspeakError: espeak-ng failed.
    """
    from voxlab.generation.tts import EspeakError, _run

    proc = _run(["-q", "--ipa", "-v", language], text=text)
    if proc.returncode != 0:
        detail = proc.stderr.decode("utf-8", "replace").strip()
        raise EspeakError(f"espeak-ng --ipa failed for voice {language!r}: {detail}")
    out = proc.stdout.decode("utf-8", "replace")
    out = _LANG_SWITCH.sub("", out).replace("\u200d", "").replace("_", "")
    return " ".join(out.split())


def english_cleaners2(text: str, *, language: str = "en-us") -> str:
    """The official ``english_cleaners2`` with espeak-ng as the phonemizer.

    ASCII, lower case, abbreviations expanded, then espeak IPA per chunk between
    punctuation marks, the marks kept, whitespace collapsed.
    """
    text = _ascii(text).lower()
    for pattern, full in _ABBREVIATIONS:
        text = pattern.sub(full, text)
    pieces = []
    for part in _CHUNK.split(text):
        if not part:
            continue
        if _CHUNK.fullmatch(part):
            pieces.append(part)
        elif part.strip():
            lead = " " if part[0].isspace() else ""
            tail = " " if part[-1].isspace() else ""
            pieces.append(lead + espeak_ipa(part, language=language) + tail)
        else:
            pieces.append(" ")
    return re.sub(r"\s+", " ", "".join(pieces)).strip()


def text_to_ids(
    text: str,
    *,
    cleaners: list[str] | tuple[str, ...] = ("english_cleaners2",),
    add_blank: bool = True,
    language: str = "en-us",
) -> list[int]:
    """Text -> the symbol ids a VITS model reads (``get_text`` of the official demo).

    Args:
        text: Raw text.
        cleaners: The config's ``data.text_cleaners``; ``english_cleaners2`` and
            ``english_cleaners`` / ``basic_cleaners`` (no phonemes) are known.
        add_blank: The config's ``data.add_blank``.
        language: espeak-ng voice for the phonemes.

    Raises:
        ConfigError: An unknown cleaner, or text with no speakable symbol.
    """
    cleaned = text
    for name in cleaners:
        if name == "english_cleaners2":
            cleaned = english_cleaners2(cleaned, language=language)
        elif name == "english_cleaners":  # phonemes without stress marks or punctuation
            cleaned = english_cleaners2(cleaned, language=language)
            cleaned = re.sub(r"\s+", " ", re.sub(r'[ˈˌ;:,.!?¡¿—…"«»“”]', " ", cleaned)).strip()
        elif name in ("basic_cleaners", "transliteration_cleaners"):
            cleaned = re.sub(r"\s+", " ", _ascii(cleaned).lower()).strip()
        else:
            raise ConfigError(
                f"unknown VITS text cleaner {name!r}; voxlab knows english_cleaners2, "
                "english_cleaners, basic_cleaners and transliteration_cleaners. Pass symbol "
                "ids to model.infer() yourself for other front ends."
            )
    ids = symbols_to_ids(cleaned)
    if not ids:
        raise ConfigError(f"text {text!r} has no symbol VITS can speak")
    return intersperse(ids) if add_blank else ids
