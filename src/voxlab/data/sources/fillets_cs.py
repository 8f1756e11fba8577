"""fillets-ng-data-cs (Debian): Czech game dialogue of Fish Fillets NG, several actors.

Ogg Vorbis lines named ``<level>-<character>-<line>.ogg``. The two fish (``m``: the small
fish, ``v``: the big fish) speak most lines and get one speaker id each; every other
character's lines share the speaker id ``fillets-cs-other`` (their actors are not named
per character, so they are never split across train and eval). No transcripts (the
dialogue text lives in the game scripts of another package). Licence: GPL-2.
"""

from __future__ import annotations

from pathlib import Path

from voxlab.data.sources._base import RawFile, SpeechSource, audio_files, register_source

ROOT = Path("/usr/share/games/fillets-ng/sound")
_MAIN = {"m": "fillets-cs-small-fish", "v": "fillets-cs-big-fish"}


def speaker_of(path: Path) -> str:
    """Speaker id from a dialogue file name (``vit-m-hlava.ogg`` -> the small fish)."""
    parts = path.stem.split("-")
    if len(parts) >= 3 and parts[1] in _MAIN:
        return _MAIN[parts[1]]
    if len(parts) == 2 and parts[0] in _MAIN:
        return _MAIN[parts[0]]
    return "fillets-cs-other"


def _scan(root: Path) -> list[RawFile]:
    return [
        RawFile(path, speaker_of(path))
        for path in audio_files(root, ".ogg")
        if path.parent.name == "cs"
    ]


SOURCE = register_source(
    SpeechSource(
        name="fillets-cs",
        package="fillets-ng-data-cs",
        registry="debian",
        language="cs",
        licence="GPL-2",
        copyright="Ivo and Pavel Danihelka, ALTAR interactive",
        description="Czech game dialogue, several voice actors, Ogg Vorbis",
        root=ROOT,
        scan=_scan,
    )
)
