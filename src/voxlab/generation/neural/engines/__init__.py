"""Offline TTS engines behind one interface: espeak-ng, Piper, Kokoro-82M, festival (+ VITS).

Each engine (:class:`TTSEngine`) says whether it can run here (``available()``, with a
one-line install hint when not), lists its :class:`Voice` records and speaks text into a
:class:`~voxlab.generation.base.Generated` (system id ``"<engine>:<voice>"``)::

    from voxlab.generation.neural.engines import get_engine, installed_engines
    out = get_engine("kokoro").synthesize("Hello there.", voice="af_heart", seed=0)
    for engine in installed_engines():
        print(engine.name, [v.id for v in engine.voices()][:3])

The CLI is ``voxlab tts --engine NAME`` and ``voxlab voices``.
"""

from voxlab.generation.neural.engines.base import (
    EngineError,
    EngineUnavailableError,
    TTSEngine,
    UnknownEngineError,
    UnknownVoiceError,
    Voice,
)
from voxlab.generation.neural.engines.registry import (
    ENGINE_MODULES,
    all_engines,
    engine_class,
    engine_names,
    get_engine,
    installed_engines,
    register_engine,
)

__all__ = [
    "ENGINE_MODULES",
    "EngineError",
    "EngineUnavailableError",
    "TTSEngine",
    "UnknownEngineError",
    "UnknownVoiceError",
    "Voice",
    "all_engines",
    "engine_class",
    "engine_names",
    "get_engine",
    "installed_engines",
    "register_engine",
]
