"""Both labels on everything voxlab generates: the AI-generated tag and the watermark.

Generated audio leaves voxlab through :func:`voxlab.generation.base.write_generated`, which
calls :func:`label_generated`: the audio is watermarked with the generation key and a
payload naming the generating system, and the file gets the explicit "AI-generated" tag.
The watermark can be switched off (``--no-watermark``, e.g. for countermeasure training
corpora, where a watermark would be a shortcut a detector could learn); the tag stays.

The generation key is ``$VOXLAB_WATERMARK_KEY`` (a key file) or
``$VOXLAB_HOME/watermark.key`` (default ``~/.cache/voxlab/watermark.key``), created with
mode 600 on first use. Check a file with ``voxlab watermark detect FILE --key KEYFILE``;
the payload is :func:`system_payload` of the system id, which :func:`name_payload` turns
back into the system's name (or into a ``--message`` text the caller suspects).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import numpy as np

from voxlab.watermark.embed import embed
from voxlab.watermark.keys import WatermarkKey, as_key
from voxlab.watermark.labels import label_metadata

KeyLike = WatermarkKey | str | bytes | os.PathLike


def default_key_path() -> Path:
    """Where the generation key lives (``$VOXLAB_WATERMARK_KEY`` or the voxlab home)."""
    explicit = os.environ.get("VOXLAB_WATERMARK_KEY")
    if explicit:
        return Path(explicit).expanduser()
    home = Path(os.environ.get("VOXLAB_HOME", Path.home() / ".cache" / "voxlab")).expanduser()
    return home / "watermark.key"


def generation_key(path: str | os.PathLike | None = None) -> WatermarkKey:
    """The generation key, created (mode 600) at ``path`` on first use.

    Args:
        path: Key file; :func:`default_key_path` when None.
    """
    target = Path(path) if path is not None else default_key_path()
    if target.is_file():
        return WatermarkKey.load(target)
    key = WatermarkKey.generate()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.partial")
    key.save(tmp)
    try:  # another process may have created it meanwhile: theirs wins
        os.link(tmp, target)
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    return WatermarkKey.load(target)


def system_payload(system: str) -> int:
    """The 32-bit payload that names a generating system (first 4 bytes of its SHA-256)."""
    digest = hashlib.sha256(f"voxlab/{system}".encode()).digest()
    return int.from_bytes(digest[:4], "big")


def label_generated(
    audio: np.ndarray,
    sample_rate: int,
    *,
    system: str,
    watermark: bool = True,
    key: KeyLike | None = None,
) -> tuple[np.ndarray, dict[str, str]]:
    """Watermark generated audio and build its AI-generated tag.

    Args:
        audio: Samples. Shape: ``(time,)`` or ``(channels, time)``.
        sample_rate: Their rate in Hz.
        system: Id of the generating system (goes into the payload and the tag).
        watermark: Embed the watermark (the tag is written either way).
        key: Watermark key; the generation key when None.

    Returns:
        ``(audio, metadata)``: the (marked) samples and the tags for ``voxlab.audio.save``.
    """
    if not watermark:
        return audio, label_metadata(extra=f"system {system}; not watermarked")
    k = as_key(key) if key is not None else generation_key()
    marked = embed(audio, sample_rate, k, system_payload(system))
    payload = f"{system_payload(system):08x}"
    return marked, label_metadata(key_id=k.key_id, extra=f"system {system}; payload {payload}")


def known_systems() -> list[str]:
    """System ids voxlab itself writes into payloads without a voice suffix.

    The corpus attack ids (``V01``...; see ``voxlab corpus attacks``) and the espeak-ng
    TTS system. Engine voices (``"<engine>:<voice>"``) are found through the file's
    AI-generated tag instead (:func:`name_payload`). Imports the generators (~0.2 CPU-s).
    """
    from voxlab.generation.attacks import ATTACKS
    from voxlab.generation.tts import SYSTEM

    return [*sorted(ATTACKS), SYSTEM]


#: Prefixes of the attack-system ids (``V01``...``V99``, ``W01``...) and the TTS system id.
ID_PREFIXES = ("V", "W")
TTS_SYSTEM = "espeak-ng"


@lru_cache(maxsize=1)
def system_id_space() -> tuple[str, ...]:
    """Every id :func:`known_systems` can hold, without importing the generators.

    The attack ids follow the ``<letter><two digits>`` scheme of ``voxlab corpus
    attacks``; checking a payload against all 199 of them costs microseconds, where
    listing the registered ones costs an import of every generator. A unit test checks
    that every registered id lies in this space.
    """
    ids = [f"{p}{i:02d}" for p in ID_PREFIXES for i in range(1, 100)]
    return (*ids, TTS_SYSTEM)


def name_payload(
    payload: str | int | None,
    *,
    label: str | None = None,
    messages: Iterable[str] = (),
    systems: Iterable[str] | None = None,
) -> str | None:
    """What a decoded payload says, when it matches something voxlab can name.

    A 128-bit payload (32 hex digits) names its own text (``embed --bits 128 --message``).

    The payload is a hash, so it is checked against candidates: the system named in the
    file's AI-generated tag (``label``, verified against the payload, so a forged or
    stale tag names nothing), the ids of :func:`known_systems` (or ``systems``) and the
    caller's ``messages`` (texts given to ``voxlab watermark embed --message``).

    Args:
        payload: 8 hex digits or an int (``None``: nothing decoded).
        label: The file's AI-generated tag text, if any.
        messages: Candidate message texts.
        systems: Candidate system ids; :func:`system_id_space` when None.

    Returns:
        ``"system <id>"``, ``'message "<text>"'`` or ``None`` when nothing matches.
    """
    if payload is None:
        return None
    if isinstance(payload, str) and len(payload) == 32:  # 128 bits: text is carried as is
        from voxlab.watermark.api import payload_text

        text = payload_text(payload)
        return f'message "{text}"' if text is not None else None
    value = int(payload, 16) if isinstance(payload, str) else int(payload)
    tagged = [m.group(1) for m in re.finditer(r"system (\S+?);", label)] if label else []
    for system in tagged:
        if system_payload(system) == value:
            return f"system {system}"
    for text in messages:
        if int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:4], "big") == value:
            return f'message "{text}"'
    for system in system_id_space() if systems is None else systems:
        if system_payload(system) == value:
            return f"system {system}"
    return None
