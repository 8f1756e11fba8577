"""festvox-ru (Debian): 620 read Russian sentences by one male speaker, with transcripts.

The recordings of the ``msu_ru_nsh_clunits`` Festival voice (16 kHz WAV) and their
sentences from ``etc/txt.done.data`` (stress marks ``+`` removed). Licence: BSD-like,
(c) 2005 Nickolay V. Shmyrev (``/usr/share/doc/festvox-ru/copyright``).
"""

from __future__ import annotations

import re
from pathlib import Path

from voxlab.data.sources._base import RawFile, SpeechSource, audio_files, register_source

ROOT = Path("/usr/share/festival/voices/russian/msu_ru_nsh_clunits")
_LINE = re.compile(r'^\(\s*(\S+)\s+"(.*)"\s*\)\s*$')


def read_prompts(path: Path) -> dict[str, str]:
    """``{utterance id: sentence}`` from a Festvox ``txt.done.data`` (stress marks removed)."""
    prompts: dict[str, str] = {}
    if not path.is_file():
        return prompts
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        match = _LINE.match(line.strip())
        if match:
            prompts[match.group(1)] = match.group(2).replace("+", "").strip()
    return prompts


def _scan(root: Path) -> list[RawFile]:
    prompts = read_prompts(root / "etc" / "txt.done.data")
    return [
        RawFile(path, "festvox-ru-nsh", prompts.get(path.stem))
        for path in audio_files(root / "wav", ".wav")
    ]


SOURCE = register_source(
    SpeechSource(
        name="festvox-ru",
        package="festvox-ru",
        registry="debian",
        language="ru",
        licence="BSD-like",
        copyright="2005 Nickolay V. Shmyrev",
        description="620 read Russian sentences, 1 male speaker, 16 kHz, transcripts",
        root=ROOT,
        scan=_scan,
    )
)
