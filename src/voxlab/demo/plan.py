"""What the demo builds, sized to the machine, and what each stage is expected to cost.

Two sizes (``voxlab demo --size small|full``; ``auto`` picks by CPU cores):

* ``small`` (machines with fewer than 8 cores): 4 utterances per human speaker, the
  sources prepared as a 40-recording slice per speaker into ``OUT/sources``, AASIST-L
  fine-tuned for 2 epochs of at most 8 batches of 1-s crops, 16-component GMMs.
* ``full``: 12 utterances per speaker from the whole prepared sources (shared with
  ``make data`` in ``$VOXLAB_HOME/sources``), 4 full epochs of 2-s crops, 32-component
  GMMs.

The GMM sizes follow the bona fide training frames each size gives (a GMM needs a few
hundred frames per component; voxlab warns below that).

The corpus is voxlab-wild (:mod:`voxlab.generation.wild`) with the demo's attack lists:
training sees copy-synthesis (WORLD, Griffin-Lim), WORLD voice conversion and the classic
TTS systems (espeak-ng, festival); eval adds unseen vocoders (WORLD Harvest, LPC) and the
neural TTS systems (Piper, Kokoro) wherever they speak the utterance's language. espeak-ng
stays out of eval so that eval's text-to-speech spoofs are the neural ones where possible.

The cost model (seconds on an idle 2-core machine, measured with this module's constants
on the machine of the README) gives the plan line and the ETA; the ETA then follows the
machine's actual speed (:class:`voxlab.demo.progress.Progress`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

from voxlab.errors import ConfigError

DEMO_TRAIN_ATTACKS = ("V01", "V04", "V06", "V08", "V10", "W01")
DEMO_EVAL_ATTACKS = (
    "V01", "V02", "V04", "V05", "V06", "V09", "V10", "V16", "W01", "W02", "W03", "W04",
)  # fmt: skip


@dataclass(frozen=True)
class DemoSize:
    """How big the demo is.

    Attributes:
        name: ``small``, ``full`` or ``custom`` (a size with options overridden).
        per_speaker: Bona fide utterances per human speaker (voxlab-wild ``per_speaker``).
        prepare_per_speaker: Recordings per speaker prepared from each package (None: all).
        epochs: AASIST-L training epochs.
        gmm_components: Components of each LFCC-GMM class model.
        crop_seconds: Length of the random training crops of AASIST-L.
        train_steps: AASIST-L steps (batches of 16) per epoch at most (0: the whole split).
    """

    name: str
    per_speaker: int
    prepare_per_speaker: int | None
    epochs: int
    gmm_components: int
    crop_seconds: float = 1.0
    train_steps: int = 0

    def __post_init__(self) -> None:
        if self.train_steps < 0 or not 0.5 <= self.crop_seconds <= 6.0:
            raise ConfigError(
                f"train_steps must be >= 0 and crop_seconds within 0.5-6, got "
                f"{self.train_steps}, {self.crop_seconds}"
            )
        if self.per_speaker < 1 or self.epochs < 1 or self.gmm_components < 1:
            raise ConfigError(
                "per_speaker, epochs and gmm_components must be >= 1, got "
                f"{self.per_speaker}, {self.epochs}, {self.gmm_components}"
            )
        if self.prepare_per_speaker is not None and self.prepare_per_speaker < 4:
            raise ConfigError(
                f"prepare_per_speaker must be at least 4 (or all), got {self.prepare_per_speaker}"
            )

    def with_overrides(self, **changes: int | None) -> DemoSize:
        """This size with the given fields changed (``None`` values are ignored)."""
        given = {k: v for k, v in changes.items() if v is not None}
        if not given:
            return self
        return replace(self, name="custom", **given)


SIZES = {
    "small": DemoSize(
        "small",
        per_speaker=4,
        prepare_per_speaker=40,
        epochs=2,
        gmm_components=32,
        crop_seconds=1.0,
        train_steps=8,
    ),
    "full": DemoSize(
        "full",
        per_speaker=12,
        prepare_per_speaker=None,
        epochs=4,
        gmm_components=64,
        crop_seconds=2.0,
        train_steps=0,
    ),
}


def cpu_cores() -> int:
    """CPU cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def size_for(name: str = "auto", *, cores: int | None = None) -> DemoSize:
    """The size called ``name``; ``auto`` is ``full`` with 8 or more cores, else ``small``."""
    if name == "auto":
        name = "full" if (cores or cpu_cores()) >= 8 else "small"
    if name not in SIZES:
        raise ConfigError(f"unknown demo size {name!r}; use small, full or auto")
    return SIZES[name]


# Cost model: seconds of one core on the reference machine (README), per unit of work.
PREPARE_S_PER_RECORDING = 0.06
CORPUS_S_PER_FILE = 0.35
CORPUS_STARTUP_S = 20.0
GMM_S_PER_FILE_COMPONENT = 0.004
AASIST_L_S_PER_CROP_SECOND = 0.6
SCORE_S_PER_FILE = 0.2
REPORT_S = 25.0


def estimate_seconds(
    *,
    n_files: int,
    n_train: int,
    n_eval: int,
    n_dev: int,
    n_published: int,
    size: DemoSize,
    n_recordings: int,
    cores: int,
    workers: int,
) -> dict[str, float]:
    """Expected wall seconds of each stage (idle reference machine).

    Args:
        n_files: Files of the corpus (both classes, all splits).
        n_train: Training files.
        n_eval: Eval files.
        n_dev: Dev files.
        n_published: Published/shipped checkpoints to score eval with.
        size: The demo size.
        n_recordings: Recordings to prepare (0 when the sources are already prepared).
        cores: CPU cores.
        workers: Corpus build processes.
    """
    parallel = max(1, min(workers, cores))
    per_epoch = n_train if size.train_steps == 0 else min(n_train, 16 * size.train_steps)
    return {
        "sources": 2.0 + PREPARE_S_PER_RECORDING * n_recordings,
        "corpus": CORPUS_STARTUP_S + CORPUS_S_PER_FILE * n_files / parallel,
        "train lfcc-gmm": 5.0 + GMM_S_PER_FILE_COMPONENT * n_train * size.gmm_components,
        "train aasist-l": 10.0
        + AASIST_L_S_PER_CROP_SECOND * size.crop_seconds * per_epoch * size.epochs
        + SCORE_S_PER_FILE * (n_dev * size.epochs + n_eval),
        "score": SCORE_S_PER_FILE * (n_eval * n_published + 2 * n_dev) + 5.0 * n_published,
        "report": REPORT_S,
    }  # fmt: skip
