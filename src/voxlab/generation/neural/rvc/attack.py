"""RVC as an attack system of the corpus builder (id ``R01``, kind ``"checkpoint"``).

A "checkpoint" system runs a model the user supplies; voxlab ships no RVC voice. The
files are named by environment variables, so that every corpus worker process sees them;
R01 is offered (registered) only when the two required ones are set:

==========================  ======================================================
``VOXLAB_RVC_MODEL``         the RVC export (``weights/<name>.pth``), required
``VOXLAB_RVC_HUBERT``        HuBERT/ContentVec (``hubert_base.pt``), required
``VOXLAB_RVC_INDEX``         the voice's ``added_*.index``, optional
``VOXLAB_RVC_F0``            ``harvest`` (default), ``dio`` or ``rmvpe``
``VOXLAB_RVC_RMVPE``         ``rmvpe.pt``, for ``VOXLAB_RVC_F0=rmvpe``
``VOXLAB_RVC_TRANSPOSE``     semitones, default 0
==========================  ======================================================

Example::

    export VOXLAB_RVC_MODEL=weights/alice.pth VOXLAB_RVC_HUBERT=hubert_base.pt
    voxlab corpus make out/ --attacks V01,R01

The spoof keeps the source utterance's speaker label (the RVC voice is not a corpus
speaker); its provenance records the voice, the options and the seed. Output is resampled
to the corpus rate. The converter is loaded once per process.
"""

from __future__ import annotations

import functools
import os

from voxlab.errors import ConfigError
from voxlab.generation.attacks import ATTACKS, AttackInput, register_attack
from voxlab.generation.base import Generated

MODEL_ENV, HUBERT_ENV, INDEX_ENV = "VOXLAB_RVC_MODEL", "VOXLAB_RVC_HUBERT", "VOXLAB_RVC_INDEX"
F0_ENV, TRANSPOSE_ENV, RMVPE_ENV = "VOXLAB_RVC_F0", "VOXLAB_RVC_TRANSPOSE", "VOXLAB_RVC_RMVPE"


@functools.lru_cache(maxsize=2)
def _converter(model: str, hubert: str, index: str | None, rmvpe: str | None):
    from voxlab.generation.neural.rvc.pipeline import RVCConverter

    return RVCConverter.load(model, hubert, index, rmvpe=rmvpe)


def rvc_attack(item: AttackInput) -> Generated:
    """Convert the utterance with the RVC voice named by the environment."""
    from voxlab.audio import resample
    from voxlab.generation.neural.rvc.pipeline import ConvertOptions

    converter = _converter(
        os.environ[MODEL_ENV],
        os.environ[HUBERT_ENV],
        os.environ.get(INDEX_ENV) or None,
        os.environ.get(RMVPE_ENV) or None,
    )
    try:
        transpose = float(os.environ.get(TRANSPOSE_ENV, "0") or 0)
    except ValueError:
        raise ConfigError(f"${TRANSPOSE_ENV} must be a number of semitones") from None
    options = ConvertOptions(
        f0_method=os.environ.get(F0_ENV) or "harvest", transpose=transpose, seed=item.seed
    )
    out = converter.convert(item.audio, item.sample_rate, options)
    audio = resample(out.audio, orig_sr=out.sample_rate, target_sr=item.sample_rate)
    return Generated(audio, item.sample_rate, out.system, out.params)


def ensure_registered() -> bool:
    """Register ``R01`` when ``$VOXLAB_RVC_MODEL`` and ``$VOXLAB_RVC_HUBERT`` are set.

    Called when :mod:`voxlab.generation.attacks` is imported (also in every spawned
    corpus worker, which inherits the environment). Without a configured voice the system
    is not offered, so ``--attacks all`` never selects a system that cannot run.

    Returns:
        Whether R01 is registered.
    """
    if "R01" in ATTACKS:
        return True
    if not (os.environ.get(MODEL_ENV) and os.environ.get(HUBERT_ENV)):
        return False
    register_attack(
        "R01",
        "rvc",
        f"RVC voice conversion with the user's voice (${MODEL_ENV}, ${HUBERT_ENV}, "
        f"optional ${INDEX_ENV})",
        kind="checkpoint",
        requires=(f"env:{MODEL_ENV}", f"env:{HUBERT_ENV}"),
    )(rvc_attack)
    return True


ensure_registered()
