"""asterisk-core-sounds-{it,ru}-wav (Debian): telephone prompts by one professional speaker.

8 kHz 16-bit WAV prompts of the Asterisk PBX; the packages ship no transcripts (the file
names only describe the prompt). Italian: Carlo Flora (male), CC-BY-3.0; Russian: provided
by Maxim Topal / ivrvoice.ru (a female voice), CC-BY-3.0 (see the packages' copyright).
"""

from __future__ import annotations

from pathlib import Path

from voxlab.data.sources._base import SpeechSource, one_speaker_scanner, register_source

SOUNDS = Path("/usr/share/asterisk/sounds")


IT = register_source(
    SpeechSource(
        name="asterisk-it",
        package="asterisk-core-sounds-it-wav",
        registry="debian",
        language="it",
        licence="CC-BY-3.0",
        copyright="2012 Carlo Flora (voice), translated by Silvia Petrin",
        description="Italian IVR prompts, 1 male professional speaker, 8 kHz WAV",
        root=SOUNDS / "it_IT_m_Carlo",
        scan=one_speaker_scanner("asterisk-it-carlo", ".wav"),
    )
)

RU = register_source(
    SpeechSource(
        name="asterisk-ru",
        package="asterisk-core-sounds-ru-wav",
        registry="debian",
        language="ru",
        licence="CC-BY-3.0",
        copyright="2010 Maxim Topal (ivrvoice.ru)",
        description="Russian IVR prompts, 1 female professional speaker, 8 kHz WAV",
        root=SOUNDS / "ru_RU_f_IvrvoiceRU",
        scan=one_speaker_scanner("asterisk-ru-ivrvoice", ".wav"),
    )
)
