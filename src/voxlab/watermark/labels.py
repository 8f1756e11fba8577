"""The explicit label: a metadata tag saying the audio is AI-generated.

:func:`label_metadata` gives the tags :func:`voxlab.audio.save` writes (WAV LIST/INFO
ICMT/ISFT, FLAC and Ogg Vorbis comments, ID3 COMM for MP3, MP4 comment); :func:`read_label`
finds them again with :func:`voxlab.audio.tags.read_tags`.
"""

from __future__ import annotations

import os

from voxlab._version import __version__
from voxlab.audio.tags import read_tags

#: Text every voxlab label starts with.
AI_LABEL = "AI-generated audio"


def label_metadata(*, key_id: str | None = None, extra: str | None = None) -> dict[str, str]:
    """Tags stating that the audio is AI-generated (and watermarked, when ``key_id`` is given).

    Args:
        key_id: Public fingerprint of the watermark key (never the key itself).
        extra: Free text appended to the comment (e.g. the generating system).

    Returns:
        ``{"comment": ..., "software": ...}`` for :func:`voxlab.audio.save`.
    """
    comment = f"{AI_LABEL} (synthetic speech made with voxlab"
    if key_id:
        comment += f"; watermarked, key id {key_id}"
    comment += ")"
    if extra:
        comment += f"; {extra}"
    return {"comment": comment, "software": f"voxlab {__version__}"}


def read_label(path: str | os.PathLike) -> str | None:
    """The AI-generated label of a file, if any tag carries one.

    Args:
        path: Audio file.

    Returns:
        The tag's text, or None when no tag says the audio is AI-generated.
    """
    for value in read_tags(path).values():
        if AI_LABEL.lower() in value.lower() or "ai-generated" in value.lower():
            return value
    return None
