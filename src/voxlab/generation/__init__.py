"""Offline speech generation: espeak-ng TTS, WORLD, vocoders, voice conversion, spoof corpora.

Everything here is classic signal processing with no model weights, deterministic given a
seed, and returns :class:`~voxlab.generation.base.Generated` (audio plus provenance).

- :mod:`.tts`: espeak-ng text to speech.
- :mod:`.world`: WORLD analysis/synthesis and mel-cepstral coding.
- :mod:`.vocoders`: WORLD, Griffin-Lim and LPC copy-synthesis.
- :mod:`.vc`: WORLD transforms and joint-density GMM voice conversion.
- :mod:`.attacks`: the registry of named spoofing systems (``V01``-``V08``).
- :mod:`.corpus`: the ASVspoof 2019 LA-style corpus builder.
"""

from voxlab.generation.attacks import ATTACKS, AttackInput, TargetSpeaker, get_attack
from voxlab.generation.base import Generated, write_generated
from voxlab.generation.corpus import CorpusConfig, make_corpus
from voxlab.generation.tts import EspeakVoice, synthesize

__all__ = [
    "ATTACKS",
    "AttackInput",
    "CorpusConfig",
    "EspeakVoice",
    "Generated",
    "TargetSpeaker",
    "get_attack",
    "make_corpus",
    "synthesize",
    "write_generated",
]
