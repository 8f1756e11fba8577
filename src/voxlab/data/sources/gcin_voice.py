"""gcin-voice (Debian): Mandarin syllables read by two speakers (Ogg Vorbis).

One folder per syllable in Zhuyin (bopomofo) with its tone digit; ``3.ogg`` and ``5.ogg``
are the two speakers. The transcript is the folder name (a Zhuyin syllable). Licences
differ per speaker: ``3.ogg`` GPL-3 or LGPL-3 ((c) 2014 Edward Der-Hua Liu), ``5.ogg``
CC-BY-3 (ChionMeilin, voice of Chu Lo).
"""

from __future__ import annotations

from pathlib import Path

from voxlab.data.sources._base import RawFile, SpeechSource, audio_files, register_source

ROOT = Path("/usr/share/gcin-voice/ogg")
SPEAKERS = {"3": "gcin-voice-3", "5": "gcin-voice-5"}
LICENCES = {"gcin-voice-3": "GPL-3 or LGPL-3", "gcin-voice-5": "CC-BY-3"}


def _scan(root: Path) -> list[RawFile]:
    return [
        RawFile(path, SPEAKERS[path.stem], path.parent.name)
        for path in audio_files(root, ".ogg")
        if path.stem in SPEAKERS
    ]


SOURCE = register_source(
    SpeechSource(
        name="gcin-voice",
        package="gcin-voice",
        registry="debian",
        language="zh",
        licence="GPL-3 or LGPL-3 (speaker 3.ogg); CC-BY-3 (speaker 5.ogg)",
        copyright="2014 Edward Der-Hua Liu; ChionMeilin (voice of Chu Lo)",
        description="Mandarin syllables (Zhuyin + tone), 2 speakers, Ogg Vorbis",
        root=ROOT,
        scan=_scan,
    )
)
