"""asterisk-prompt-fr-armelle and asterisk-prompt-es-co (Debian): GSM telephone prompts.

8 kHz GSM 06.10 files (``.gsm``, headerless), decoded in-process by
:func:`voxlab.audio.load` (libsndfile/PyAV read GSM 06.10; no sox needed). French: voice
actor Armelle Desjardins, (c) 2006 Michel Gutierrez, BSD-style licence (Debian packaging
GPL-2+). Colombian Spanish: voice of July E. Jiménez, (c) 2006 Avatar Ltda., GPL-2.
"""

from __future__ import annotations

from pathlib import Path

from voxlab.data.sources._base import SpeechSource, one_speaker_scanner, register_source

SOUNDS = Path("/usr/share/asterisk/sounds")


FR = register_source(
    SpeechSource(
        name="asterisk-fr-armelle",
        package="asterisk-prompt-fr-armelle",
        registry="debian",
        language="fr",
        licence="BSD-style (recordings); GPL-2+ (Debian packaging)",
        copyright="2006 Michel Gutierrez (voice: Armelle Desjardins)",
        description="French IVR prompts, 1 female speaker, 8 kHz GSM",
        root=SOUNDS / "fr",
        scan=one_speaker_scanner("asterisk-fr-armelle", ".gsm"),
    )
)

ES = register_source(
    SpeechSource(
        name="asterisk-es-co",
        package="asterisk-prompt-es-co",
        registry="debian",
        language="es",
        licence="GPL-2",
        copyright="2006 Avatar Ltda. (voice: July E. Jiménez)",
        description="Colombian Spanish IVR prompts, 1 female speaker, 8 kHz GSM",
        root=SOUNDS / "es",
        scan=one_speaker_scanner("asterisk-es-co-july", ".gsm"),
    )
)
