"""Bona fide sources of the corpus builder: espeak-ng stand-in speakers or a folder.

Stand-in speakers are fixed espeak-ng configurations (language voice, variant, pitch,
speed) reading sentences of their language. A folder of recordings gives one speaker per
subfolder, or per ``speaker`` column of a ``metadata.csv`` (``path,speaker[,text]``), or,
for a flat folder of files, per file-name prefix (``alice_001.wav`` -> ``alice``);
transcripts come from that column or from ``<stem>.txt`` / ``<stem>.lab`` beside the audio.
"""

from __future__ import annotations

import csv
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voxlab.errors import DataError
from voxlab.generation.tts import EspeakVoice

#: Sentences per language (short, phonetically varied; the English ones are Harvard
#: sentences, which are in the public domain).
SENTENCES: dict[str, tuple[str, ...]] = {
    "en": (
        "The birch canoe slid on the smooth planks.",
        "Glue the sheet to the dark blue background.",
        "It's easy to tell the depth of a well.",
        "These days a chicken leg is a rare dish.",
        "Rice is often served in round bowls.",
        "The juice of lemons makes fine punch.",
        "The box was thrown beside the parked truck.",
        "The hogs were fed chopped corn and garbage.",
        "Four hours of steady work faced us.",
        "A large size in stockings is hard to sell.",
        "The boy was there when the sun rose.",
        "A rod is used to catch pink salmon.",
        "The source of the huge river is the clear spring.",
        "Kick the ball straight and follow through.",
        "Help the woman get back to her feet.",
        "A pot of tea helps to pass the evening.",
    ),
    "de": (
        "Der Zug nach Hamburg fährt heute etwas später ab.",
        "Im Garten blühen im Frühling viele bunte Blumen.",
        "Meine Schwester liest jeden Abend ein kurzes Buch.",
        "Das Wetter am Wochenende soll sonnig und warm werden.",
        "Wir treffen uns morgen früh vor dem alten Rathaus.",
        "Der Bäcker an der Ecke hat frisches Brot gebacken.",
        "Bitte schließen Sie das Fenster, es wird kalt.",
        "Die Kinder spielen im Park mit einem roten Ball.",
        "Nach dem Essen gehen wir gemeinsam spazieren.",
        "Das Museum ist montags leider geschlossen.",
    ),
    "fr": (
        "Le train pour Lyon partira avec un peu de retard.",
        "Les enfants jouent dans le jardin après l'école.",
        "Ma voisine prépare une tarte aux pommes délicieuse.",
        "Il fait beau aujourd'hui, allons nous promener.",
        "La bibliothèque ouvre ses portes à neuf heures.",
        "Nous avons visité un petit village au bord de la mer.",
        "Le chat dort tranquillement sur le canapé rouge.",
        "Pouvez-vous fermer la fenêtre, s'il vous plaît?",
        "Le marché du samedi propose des fruits frais.",
        "Mon frère apprend à jouer de la guitare.",
    ),
    "es": (
        "El tren a Madrid sale con un poco de retraso.",
        "Los niños juegan en el parque después de clase.",
        "Mi abuela prepara una sopa muy rica los domingos.",
        "Hace buen tiempo, vamos a dar un paseo por la playa.",
        "La tienda de la esquina abre a las nueve.",
        "Visitamos un pueblo pequeño en las montañas.",
        "El perro duerme tranquilo junto a la puerta.",
        "Por favor, cierra la ventana que hace frío.",
        "El mercado del sábado tiene frutas frescas.",
        "Mi hermano aprende a tocar el piano.",
    ),
}

#: Language voices of the stand-in speakers, with the sentence bank each one reads.
VOICES: tuple[tuple[str, str], ...] = (
    ("en-us", "en"),
    ("en-gb", "en"),
    ("en-gb-scotland", "en"),
    ("en-gb-x-rp", "en"),
    ("en-us-nyc", "en"),
    ("de", "de"),
    ("fr-fr", "fr"),
    ("es", "es"),
)
VARIANTS: tuple[str | None, ...] = (
    None, "f1", "f2", "f3", "f4", "f5", "m1", "m2", "m3", "m4", "m5", "m6", "m7",
)  # fmt: skip


@dataclass(frozen=True)
class SourceSpeaker:
    """A bona fide speaker of the corpus.

    Attributes:
        id: Speaker id written to the protocols.
        voice: Its espeak-ng configuration (stand-in speakers and TTS targets).
        language: Sentence-bank language of a stand-in speaker.
        files: ``(path, text)`` recordings of a folder speaker (empty for stand-ins).
    """

    id: str
    voice: EspeakVoice
    language: str = "en"
    files: tuple[tuple[str, str | None], ...] = ()


def espeak_speakers(n: int, *, seed: int) -> list[SourceSpeaker]:
    """``n`` distinct stand-in speakers (voice, variant, pitch, speed), chosen by ``seed``.

    English voices are two thirds of the pool; pitch is drawn by variant gender
    (female variants higher) so the speakers differ in F0 as real ones do.
    """
    if n < 1:
        raise DataError(f"the number of speakers must be positive, got {n}")
    rng = np.random.default_rng(seed)
    combos = [(v, lang, var) for v, lang in VOICES for var in VARIANTS]
    weights = np.array([2.0 if lang == "en" else 1.0 for _, lang, _ in combos])
    if n > len(combos):
        raise DataError(f"at most {len(combos)} espeak stand-in speakers, asked for {n}")
    order = rng.choice(len(combos), size=n, replace=False, p=weights / weights.sum())
    speakers = []
    for index, pick in enumerate(order):
        voice, lang, variant = combos[int(pick)]
        female = variant is not None and variant.startswith("f")
        pitch = int(rng.integers(55, 80) if female else rng.integers(25, 55))
        speed = int(rng.integers(135, 186))
        speakers.append(
            SourceSpeaker(
                id=f"ESP_{index + 1:04d}",
                voice=EspeakVoice(voice=voice, variant=variant, pitch=pitch, speed=speed),
                language=lang,
            )
        )
    return speakers


def sentence(language: str, index: int) -> str:
    """The ``index``-th sentence (cyclic) of a language's bank."""
    bank = SENTENCES[language]
    return bank[index % len(bank)]


_SPEAKER_ID = re.compile(r"[^A-Za-z0-9_.\-]+")


def _clean_id(name: str) -> str:
    cleaned = _SPEAKER_ID.sub("_", name.strip())
    if not cleaned:
        raise DataError(f"speaker name {name!r} is empty after removing spaces and symbols")
    return cleaned


def _transcript(audio: Path) -> str | None:
    for ext in (".txt", ".lab"):
        side = audio.with_suffix(ext)
        if side.is_file():
            text = side.read_text(encoding="utf-8", errors="replace").strip()
            return text or None
    return None


#: The bona fide folder layouts the builder reads, for error messages.
LAYOUT = (
    "use one subfolder per speaker (recordings/alice/001.wav, recordings/bob/001.wav), "
    "a flat folder named <speaker>_<take> (recordings/alice_001.wav), or a metadata.csv "
    "with columns path,speaker[,text]; transcripts (for TTS attacks and V07) go in the text "
    "column or in <stem>.txt beside each file"
)


def _flat_speakers(base: Path, extensions) -> dict[str, list[tuple[str, str | None]]]:
    """Speakers of a flat folder, from the file-name prefix before ``_`` or ``-``."""
    files = sorted(p for p in base.iterdir() if p.is_file() and p.suffix.lower() in extensions)
    if not files:
        return {}
    groups: dict[str, list[tuple[str, str | None]]] = {}
    for path in files:
        match = re.match(r"([^_\-]+)[_\-]", path.stem)
        name = _clean_id(match.group(1)) if match else ""
        groups.setdefault(name, []).append((path.name, _transcript(path)))
    if "" in groups or all(len(v) == 1 for v in groups.values()):
        warnings.warn(
            f"{base}: flat folder without <speaker>_<take> file names, read as ONE speaker "
            f"({len(files)} files); {LAYOUT}",
            stacklevel=3,
        )
        return {
            _clean_id(base.resolve().name) or "speaker": [(p.name, _transcript(p)) for p in files]
        }
    warnings.warn(
        f"{base}: flat folder, speakers from file-name prefixes: {', '.join(sorted(groups))}",
        stacklevel=3,
    )
    return groups


def folder_speakers(root: str | Path, *, seed: int) -> list[SourceSpeaker]:
    """Speakers and recordings of a bona fide folder.

    Args:
        root: A folder with one subfolder per speaker (audio searched recursively), a
            folder with ``metadata.csv`` (``path,speaker[,text]``; paths relative to it), or
            a flat folder of ``<speaker>_<take>`` files (one speaker if names have no
            prefix; a warning says which reading was used).
        seed: Picks each speaker's espeak-ng stand-in voice (for TTS attacks).

    Raises:
        DataError: Missing folder, no audio, a malformed CSV, or a listed file missing.
    """
    from voxlab.audio.backends import AUDIO_EXTENSIONS

    base = Path(root).expanduser()
    if not base.is_dir():
        raise DataError(f"bona fide folder not found: {base} (or pass `espeak` for stand-ins)")
    by_speaker: dict[str, list[tuple[str, str | None]]] = {}
    meta = base / "metadata.csv"
    if meta.is_file():
        with meta.open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            if not reader.fieldnames or not {"path", "speaker"} <= set(reader.fieldnames):
                raise DataError(f"{meta}: needs a header with columns path,speaker[,text]")
            for lineno, row in enumerate(reader, start=2):
                path = base / (row.get("path") or "")
                if not path.is_file():
                    raise DataError(f"{meta}:{lineno}: audio file not found: {path}")
                text = (row.get("text") or "").strip() or _transcript(path)
                rel = path.relative_to(base).as_posix()
                by_speaker.setdefault(_clean_id(row["speaker"]), []).append((rel, text))
    else:
        for folder in sorted(p for p in base.iterdir() if p.is_dir()):
            files = sorted(
                p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_EXTENSIONS
            )
            if files:
                by_speaker[_clean_id(folder.name)] = [
                    (p.relative_to(base).as_posix(), _transcript(p)) for p in files
                ]
    if not by_speaker:
        by_speaker = _flat_speakers(base, AUDIO_EXTENSIONS)
    if not by_speaker:
        raise DataError(f"no recordings found in {base}: {LAYOUT}")
    pool = len(VOICES) * len(VARIANTS)
    stand_ins = espeak_speakers(min(len(by_speaker), pool), seed=seed)
    return [
        SourceSpeaker(
            id=name,
            voice=stand_ins[i % pool].voice,
            language=stand_ins[i % pool].language,
            files=tuple(files),
        )
        for i, (name, files) in enumerate(sorted(by_speaker.items()))
    ]


def normalise_text(text: str | None) -> str:
    """Lower-case words only (to find parallel utterances with the same transcript)."""
    return " ".join(re.findall(r"\w+", (text or "").lower()))
