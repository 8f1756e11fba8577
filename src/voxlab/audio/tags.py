"""Read text tags (metadata) of audio files: WAV LIST/INFO, FLAC/Vorbis comments, ID3, MP4.

Writing goes through :func:`voxlab.audio.save` (``metadata=``); this module reads them back:
soundfile for wav/flac/ogg, PyAV container and stream metadata for everything else.
"""

from __future__ import annotations

import os
from pathlib import Path

from voxlab.audio.backends import SOUNDFILE_EXTENSIONS, SOUNDFILE_TAGS
from voxlab.errors import AudioError, AudioFileNotFoundError


def read_tags(path: str | os.PathLike) -> dict[str, str]:
    """Text tags of an audio file, keys lower-cased; empty when there are none.

    Args:
        path: Audio file.

    Returns:
        Tag name -> value.

    Raises:
        AudioError: The file is missing or cannot be opened by either backend.
    """
    p = Path(path)
    if not p.is_file():
        raise AudioFileNotFoundError(f"{p}: no such file; check the path")
    tags: dict[str, str] = {}
    if p.suffix.lower() in SOUNDFILE_EXTENSIONS:
        import soundfile as sf

        try:
            with sf.SoundFile(os.fspath(p)) as handle:
                for name in SOUNDFILE_TAGS:
                    value = getattr(handle, name, "")
                    if value:
                        tags[name] = str(value)
            return tags
        except Exception:  # not readable by libsndfile: let PyAV try
            tags = {}
    import av

    try:
        with av.open(os.fspath(p), metadata_errors="ignore") as container:
            sources = [container.metadata] + [s.metadata for s in container.streams.audio]
            for meta in sources:
                for key, value in meta.items():
                    tags.setdefault(str(key).lower(), str(value))
    except av.error.FFmpegError as exc:
        raise AudioError(f"{p}: cannot read tags ({exc})") from exc
    return tags
