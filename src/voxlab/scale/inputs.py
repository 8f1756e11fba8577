"""What to scan: files and folders, or a JSONL manifest of utterances."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from voxlab.errors import DataError


def resolve_inputs(paths: Sequence[str | os.PathLike]) -> list[str]:
    """The audio files to scan, in a stable order.

    Args:
        paths: Files and folders (recursive), or one ``.jsonl`` manifest
            (:func:`voxlab.data.manifest.read_manifest`; relative paths are resolved
            against the manifest's folder).

    Returns:
        File paths as strings (explicit files are kept even when missing, so they are
        reported as error rows).

    Raises:
        DataError: Nothing to scan, or an unreadable manifest.
    """
    from voxlab.audio.discovery import find_audio_files

    if len(paths) == 1 and Path(paths[0]).suffix.lower() == ".jsonl" and Path(paths[0]).is_file():
        from voxlab.data.manifest import read_manifest

        files = [u.path for u in read_manifest(paths[0])]
    else:
        files = [str(p) for p in find_audio_files(paths)]
    if not files:
        raise DataError(f"nothing to scan in {', '.join(map(str, paths))}: no audio files found")
    return files
