"""pocketsphinx-testdata (Debian): CMU Sphinx test utterances with transcripts.

LibriVox "Sense and Sensibility" sentences and "cards" commands (16 kHz WAV with
transcripts), plus the headerless 16 kHz 16-bit PCM test recordings (``*.raw``).
Each group is its own speaker id. Licence: BSD-2 ((c) Carnegie Mellon University).
"""

from __future__ import annotations

import re
from pathlib import Path

from voxlab.data.sources._base import RawFile, SpeechSource, audio_files, register_source

ROOT = Path("/usr/share/pocketsphinx/test/data")
_LINE = re.compile(r"^(.*)\(([^()]+)\)\s*$")


def read_transcription(path: Path) -> dict[str, str]:
    """``{file id: text}`` from a Sphinx ``.transcription`` file (``<s>`` tags removed)."""
    out: dict[str, str] = {}
    if not path.is_file():
        return out
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        match = _LINE.match(line.strip())
        if match:
            text = re.sub(r"</?s>", " ", match.group(1))
            out[match.group(2).strip()] = " ".join(text.split())
    return out


def _scan(root: Path) -> list[RawFile]:
    files: list[RawFile] = []
    for group in ("librivox", "cards"):
        folder = root / group
        texts = read_transcription(folder / "transcription")
        texts.update(read_transcription(folder / f"{group}.transcription"))
        files += [
            RawFile(path, f"pocketsphinx-{group}", texts.get(path.stem))
            for path in audio_files(folder, ".wav")
        ]
    for path in audio_files(root, ".raw"):
        files.append(RawFile(path, f"pocketsphinx-{path.stem.split('.')[0]}", None, 16_000))
    return files


SOURCE = register_source(
    SpeechSource(
        name="pocketsphinx",
        package="pocketsphinx-testdata",
        registry="debian",
        language="en",
        licence="BSD-2",
        copyright="1995-2014 Carnegie Mellon University",
        description="LibriVox sentences and commands (16 kHz, transcripts), raw PCM tests",
        root=ROOT,
        scan=_scan,
    )
)
