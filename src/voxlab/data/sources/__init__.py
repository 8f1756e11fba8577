"""Real human speech shipped by packages (Debian), one module per source.

=====================  ===============================  ======  ===========================
source                 package                          lang    licence
=====================  ===============================  ======  ===========================
festvox-ru             festvox-ru                       ru      BSD-like
asterisk-it            asterisk-core-sounds-it-wav      it      CC-BY-3.0
asterisk-ru            asterisk-core-sounds-ru-wav      ru      CC-BY-3.0
asterisk-fr-armelle    asterisk-prompt-fr-armelle       fr      BSD-style
asterisk-es-co         asterisk-prompt-es-co            es      GPL-2
fillets-cs             fillets-ng-data-cs               cs      GPL-2
gcin-voice             gcin-voice                       zh      GPL-3/LGPL-3; CC-BY-3
pocketsphinx           pocketsphinx-testdata            en      BSD-2
=====================  ===============================  ======  ===========================

``make data`` installs the packages; :func:`prepare_source` (``voxlab sources prepare``)
checks every file is speech, trims silences and writes 16 kHz FLAC with a manifest.

Example:
    >>> from voxlab.data.sources import prepare_source
    >>> prepared = prepare_source("festvox-ru", per_speaker=5)
    >>> prepared.summary["minutes_kept"]
"""

from voxlab.data.sources import (  # noqa: F401  (each module registers its sources)
    asterisk_core,
    asterisk_prompts,
    festvox_ru,
    fillets_cs,
    gcin_voice,
    pocketsphinx,
)
from voxlab.data.sources._base import (
    SOURCES,
    MissingSourceError,
    RawFile,
    SpeechSource,
    get_source,
    register_source,
)
from voxlab.data.sources.checks import check_speech, content_hash, trim_silence
from voxlab.data.sources.prepare import (
    PreparedSource,
    default_sources_dir,
    load_prepared,
    prepare_source,
)

__all__ = [
    "SOURCES",
    "MissingSourceError",
    "PreparedSource",
    "RawFile",
    "SpeechSource",
    "check_speech",
    "content_hash",
    "default_sources_dir",
    "get_source",
    "load_prepared",
    "prepare_source",
    "register_source",
    "trim_silence",
]
