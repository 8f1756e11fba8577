"""Turn the paths a user types (files and folders) into a list of audio files."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from voxlab.audio.backends import AUDIO_EXTENSIONS


def find_audio_files(
    paths: Iterable[str | os.PathLike],
    *,
    recursive: bool = True,
    extensions: Iterable[str] = AUDIO_EXTENSIONS,
) -> list[Path]:
    """Expand files and directories into audio file paths, in a stable order.

    Files named explicitly are kept whatever their extension (and even when missing, so
    that the caller reports them as errors rather than silently dropping them); folders
    contribute the files whose extension is an audio one, sorted, recursively by default.

    Args:
        paths: Files and/or directories.
        recursive: Descend into sub-folders.
        extensions: Lower-case extensions with the dot that count as audio in folders.

    Returns:
        Paths without duplicates, explicit files first in the order given, folder contents
        sorted.
    """
    wanted = {e.lower() for e in extensions}
    found: list[Path] = []
    seen: set[Path] = set()

    def add(path: Path) -> None:
        key = path.resolve() if path.exists() else path
        if key not in seen:
            seen.add(key)
            found.append(path)

    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            pattern = "**/*" if recursive else "*"
            for child in sorted(path.glob(pattern)):
                if child.suffix.lower() in wanted and child.is_file():
                    add(child)
        else:
            add(path)
    return found
