"""Checks on what clients send: content sniffing, size limits and server-side folders.

A file is accepted as audio only when its first bytes match a known audio container
(the extension and the declared content type are not trusted); the decoder then has the
last word. Server-side folders must lie inside an allow-listed root after resolving
symbolic links and ``..``, so no request can reach outside them.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from voxlab.errors import VoxlabError


class UnsupportedMediaError(VoxlabError):
    """The upload is not audio voxlab can read (HTTP 415)."""


class PayloadTooLargeError(VoxlabError):
    """The upload is larger or longer than the service allows (HTTP 413)."""


class ForbiddenPathError(VoxlabError):
    """A server-side path outside the allow-list (HTTP 403)."""


def sniff_audio(head: bytes) -> str:
    """The audio container that ``head`` (the first bytes of a file) starts with.

    Args:
        head: At least the first 12 bytes of the upload.

    Returns:
        ``wav``, ``flac``, ``ogg``, ``mp3``, ``m4a``, ``webm``, ``aiff``, ``caf`` or ``au``.

    Raises:
        UnsupportedMediaError: Empty, or the bytes match no audio container; the message
            says what the bytes look like.
    """
    if not head:
        raise UnsupportedMediaError("the upload is empty (0 bytes)")
    checks = (
        (head[:4] == b"RIFF" and head[8:12] == b"WAVE", "wav"),
        (head[:4] in (b"RF64", b"BW64"), "wav"),
        (head[:4] == b"fLaC", "flac"),
        (head[:4] == b"OggS", "ogg"),
        (head[:3] == b"ID3", "mp3"),
        (len(head) > 1 and head[0] == 0xFF and (head[1] & 0xE0) == 0xE0, "mp3"),
        (head[4:8] == b"ftyp", "m4a"),
        (head[:4] == b"\x1a\x45\xdf\xa3", "webm"),
        (head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"), "aiff"),
        (head[:4] == b"caff", "caf"),
        (head[:4] == b".snd", "au"),
    )
    for ok, kind in checks:
        if ok:
            return kind
    raise UnsupportedMediaError(f"not an audio file: the content looks like {_describe(head)}")


def _describe(head: bytes) -> str:
    """A short human guess of what non-audio bytes are."""
    signatures = (
        (b"%PDF", "a PDF document"), (b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"),
        (b"GIF8", "a GIF image"), (b"PK\x03\x04", "a ZIP archive"), (b"\x7fELF", "a program (ELF)"),
        (b"RIFF", "a RIFF file that is not WAVE"), (b"\x80\x02", "a Python pickle"),
        (b"\x80\x04", "a Python pickle"), (b"\x80\x05", "a Python pickle"),
    )  # fmt: skip
    for magic, what in signatures:
        if head.startswith(magic):
            return what
    stripped = head.lstrip()
    if stripped[:1] in (b"{", b"[") or stripped[:5].lower() in (b"<html", b"<!doc", b"<?xml"):
        return "text (JSON/HTML/XML)"
    try:
        head.decode("utf-8")
        return "plain text"
    except UnicodeDecodeError:
        return f"unknown binary data (starts with {head[:8].hex()})"


_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_filename(name: str | None, *, default: str = "upload") -> str:
    """A file name without directories or odd characters (for storing uploads)."""
    base = os.path.basename((name or "").replace("\\", "/")) or default
    cleaned = _SAFE.sub("_", base).strip("._") or default
    return cleaned[:120]


def resolve_allowed_folder(folder: str, allowed: tuple[Path, ...] | list[Path]) -> Path:
    """The real path of ``folder`` when it lies inside one of the ``allowed`` roots.

    Relative folders are taken relative to the first allowed root.

    Raises:
        ForbiddenPathError: No allow-list, or the folder resolves outside every root.
        VoxlabError: The folder does not exist.
    """
    if not allowed:
        raise ForbiddenPathError(
            "server-side folders are disabled: the admin lists them under allowed_folders"
        )
    roots = [Path(root).expanduser().resolve() for root in allowed]
    raw = Path(folder)
    candidate = (raw if raw.is_absolute() else roots[0] / raw).resolve()
    for root in roots:
        if candidate == root or root in candidate.parents:
            if not candidate.is_dir():
                raise VoxlabError(f"folder {folder!r} does not exist on the server")
            return candidate
    raise ForbiddenPathError(
        f"folder {folder!r} is outside the allowed folders; ask the admin to allow it"
    )
