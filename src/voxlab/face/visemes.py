"""Phoneme -> viseme table and timed-phoneme events (input of the talking face).

A viseme is a mouth shape shared by phonemes that look alike. Each class has two
controls, the jaw/lip ``opening`` in ``[0, 1]`` and the lip ``spread`` in ``[-1, 1]``
(negative = rounded/protruded), the two curves :class:`voxlab.face.talk.TalkingFace`
renders. The table is data: the symbols of espeak-ng's phoneme mnemonics (``-x``:
``@``, ``3``, ``V``, ``S``, ``T``...) and of IPA (Piper and VITS voices, ``espeak-ng --ipa``)
map to the classes below; the classes follow the usual lip-sync groups (closed
bilabials, labiodentals, dentals, alveolars, post-alveolars, velars, rounded vowels...).

Symbols that are no sound of their own take a neighbour's shape: stress marks and word
gaps the next phoneme's (the lips move ahead of the sound), length marks the previous
one's. Punctuation, sentence marks (``^``, ``$``) and pauses close the mouth.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from pathlib import Path

from voxlab.face.errors import FaceError

#: Controls ``(opening, spread)`` of each viseme class.
VISEME_CONTROLS: dict[str, tuple[float, float]] = {
    "rest": (0.0, 0.0),  # pauses
    "closed": (0.0, 0.0),  # p b m: lips pressed together
    "labiodental": (0.12, 0.15),  # f v: lower lip to upper teeth
    "dental": (0.2, 0.3),  # θ ð: tongue between the teeth
    "sibilant": (0.18, 0.6),  # s z: teeth close, lips spread
    "alveolar": (0.25, 0.3),  # t d n l ɾ
    "postalveolar": (0.25, -0.4),  # ʃ ʒ tʃ dʒ: lips protruded
    "rhotic": (0.3, -0.3),  # ɹ r ɚ-colouring
    "palatal": (0.3, 0.6),  # j
    "velar": (0.35, 0.0),  # k g ŋ x
    "glottal": (0.5, 0.0),  # h ʔ
    "labial_glide": (0.15, -0.9),  # w ʍ: rounded, nearly closed
    "open": (0.95, 0.05),  # a ɑ æ ɐ ʌ ɒ-like open vowels
    "open_rounded": (0.8, -0.5),  # ɔ ɒ
    "mid_front": (0.6, 0.55),  # e ɛ
    "mid_central": (0.5, 0.0),  # ə ɜ ɘ ɵ ᵻ ɨ
    "close_front": (0.35, 0.9),  # i ɪ
    "mid_rounded": (0.65, -0.7),  # o ø œ
    "close_rounded": (0.35, -1.0),  # u ʊ y ʏ ʉ ɯ
    "unknown": (0.3, 0.0),
}

_CLASS_SYMBOLS = {
    "closed": "p b m ɓ ʙ ɱ",
    "labiodental": "f v ʋ ⱱ ɸ β",
    "dental": "θ ð T D",
    "sibilant": "s z ɕ ʑ ʂ ʐ",
    "alveolar": "t d n l ɾ ɫ ɬ ɮ ɭ ɳ ʈ ɖ ɗ ɺ L",
    "postalveolar": "ʃ ʒ ʧ ʤ S Z tS dZ",
    "rhotic": "r ɹ ɻ ɽ ʀ ʁ ɚ ɝ ˞ R",
    "palatal": "j ç ʝ ɲ ʎ c ɟ J",
    "velar": "k g ɡ ŋ x ɣ ɰ ʟ q ɢ ɴ χ N",
    "glottal": "h ɦ ʔ ħ ʕ ʜ ʢ ʡ ?",
    "labial_glide": "w ʍ ɥ W",
    "open": "a ɑ æ ɐ ʌ ɶ A V &",
    "open_rounded": "ɔ ɒ ɞ O 0",
    "mid_front": "e ɛ E",
    "mid_central": "ə ɜ ɘ ɵ ᵻ ɨ ɤ @ 3",
    "close_front": "i ɪ I",
    "mid_rounded": "o ø œ Y",
    "close_rounded": "u ʊ y ʏ ʉ ɯ U",
}

#: Symbol -> viseme class (espeak-ng mnemonics and IPA).
SYMBOL_CLASS: dict[str, str] = {
    sym: cls for cls, syms in _CLASS_SYMBOLS.items() for sym in syms.split()
}

#: Symbols that take the next phoneme's shape (stress marks, word gaps).
TAKE_NEXT = frozenset({"ˈ", "ˌ", "'", " "})
#: Symbols that keep the previous phoneme's shape (length marks, modifiers).
TAKE_PREVIOUS = frozenset({"ː", "ˑ", ":", "ʰ", "ʲ", "ʷ", "ˠ", "ˤ", "ʼ", "\u0303", "\u0329"})
#: Pauses: punctuation, sentence begin/end marks, silence symbols.
PAUSES = frozenset('^$_|‖.,;:!?¡¿—…"«»“”()-') | {"", "_:", "sil", "sp", "pau"}


def viseme_class(symbol: str) -> str:
    """The viseme class of one phoneme symbol (``"unknown"`` when not in the table).

    Tries the whole symbol, then without stress/length marks, then its first character
    (espeak-ng's two-letter mnemonics such as ``aI``, ``oU`` start with their nucleus).
    """
    sym = symbol.strip()
    if sym in PAUSES or not sym:
        return "rest"
    if sym in SYMBOL_CLASS:
        return SYMBOL_CLASS[sym]
    bare = "".join(ch for ch in sym if ch not in TAKE_NEXT and ch not in TAKE_PREVIOUS)
    if bare in SYMBOL_CLASS:
        return SYMBOL_CLASS[bare]
    if bare and bare[0] in SYMBOL_CLASS:
        return SYMBOL_CLASS[bare[0]]
    return "unknown"


def resolve_visemes(events: Sequence[tuple[float, float, str]]) -> list[tuple[float, float, str]]:
    """``(start, end, viseme class)`` per event; marks take their neighbour's class.

    Args:
        events: ``(start_s, end_s, symbol)`` in time order.
    """
    classes: list[str | None] = []
    for _, _, sym in events:
        if sym in TAKE_NEXT:
            classes.append(None)
        elif sym in TAKE_PREVIOUS:
            classes.append("<")
        else:
            classes.append(viseme_class(sym))
    out: list[str] = ["rest"] * len(classes)
    for i, cls in enumerate(classes):  # length marks: previous shape
        if cls == "<":
            out[i] = out[i - 1] if i else "rest"
        elif cls is not None:
            out[i] = cls
    nxt = "rest"
    for i in range(len(classes) - 1, -1, -1):  # stress marks, word gaps: next shape
        if classes[i] is None:
            out[i] = nxt
        else:
            nxt = out[i]
    return [(float(s), float(e), out[i]) for i, (s, e, _) in enumerate(events)]


def check_events(data: object, *, name: str = "phoneme events") -> list[tuple[float, float, str]]:
    """Validate timed phonemes: a list of ``[start_s, end_s, symbol]``.

    A mapping with a ``"phonemes"`` key is accepted too: a ``Generated.params`` dict, a
    ``Generated.provenance()`` (under ``"params"``) or the ``provenance.json`` of
    ``voxlab av make`` (under ``"speech"``).

    Raises:
        FaceError: Not a list of ``[start, end, symbol]`` with ``0 <= start <= end``,
            finite times in time order; the message names ``name`` and the entry.
    """
    if isinstance(data, dict):
        inner = data
        for key in ("speech", "params"):  # provenance.json of `av make`, Generated params
            if "phonemes" not in inner and isinstance(inner.get(key), dict):
                inner = inner[key]
        inner = inner.get("phonemes")
        if inner is None:
            raise FaceError(
                f"{name}: no 'phonemes' list in the JSON object; give "
                '[[start_s, end_s, "symbol"], ...] or {"phonemes": [...]}'
            )
        data = inner
    if not isinstance(data, list) or not data:
        raise FaceError(
            f'{name}: expected a non-empty JSON list of [start_s, end_s, "symbol"] events'
        )
    out: list[tuple[float, float, str]] = []
    last = 0.0
    for i, ev in enumerate(data):
        ok = isinstance(ev, (list, tuple)) and len(ev) == 3 and isinstance(ev[2], str)
        ok = ok and all(isinstance(t, (int, float)) and not isinstance(t, bool) for t in ev[:2])
        if not ok or not all(math.isfinite(float(t)) for t in ev[:2]):
            raise FaceError(
                f'{name}: event {i} is {ev!r}; each event is [start_s, end_s, "symbol"] '
                "with finite numbers"
            )
        start, end = float(ev[0]), float(ev[1])
        if start < 0 or end < start or start < last - 1e-6:
            raise FaceError(
                f"{name}: event {i} {ev!r} is out of order (times must satisfy "
                "0 <= start <= end and start >= the previous start)"
            )
        last = start
        out.append((start, end, ev[2]))
    return out


def read_events(path: str | os.PathLike) -> list[tuple[float, float, str]]:
    """Timed phonemes from a JSON file (see :func:`check_events`).

    Raises:
        FaceError: Missing or unreadable file, invalid JSON, malformed events.
    """
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise FaceError(f"{p}: phoneme events file not found; check the path") from exc
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise FaceError(
            f"{p}: not a JSON phoneme events file ({type(exc).__name__}: {exc}); give "
            '[[start_s, end_s, "symbol"], ...]'
        ) from exc
    return check_events(data, name=str(p))
