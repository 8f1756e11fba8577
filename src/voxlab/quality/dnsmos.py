"""Predicted MOS with DNSMOS P.835 (SIG, BAK, OVRL) and P.808.

DNSMOS (Reddy et al., ICASSP 2022) is Microsoft's non-intrusive speech quality predictor
from the Deep Noise Suppression challenge. Its ONNX networks ship in the PyPI package
``speechmos`` (MIT licence, Microsoft); voxlab loads those files with onnxruntime and runs
its own copy of the documented feature pipeline, which matches ``speechmos.dnsmos.run``
(see the tests):

- 16 kHz audio shorter than 9.01 s is repeated until it is at least that long;
- 9.01 s windows every second; each window goes to the P.835 network (raw waveform), whose
  three outputs are mapped by the published cubic polynomials, and (minus its last 160
  samples) as a 120-band log-mel spectrogram (FFT 321, hop 160, dB relative to the
  window's peak, ``(dB + 40) / 40``) to the P.808 network;
- the scores are averaged over windows.
"""

from __future__ import annotations

import importlib.util
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from voxlab.errors import AudioError, CheckpointError

SAMPLE_RATE = 16_000
_WINDOW_S = 9.01
_P808_FFT = 321
_P808_MELS = 120
# Cubic maps of the raw P.835 outputs (DNSMOS, non-personalised), highest power first.
_POLY = {
    "sig": (-0.08397278, 1.22083953, 0.0052439),
    "bak": (-0.13166888, 1.60915514, -0.39604546),
    "ovrl": (-0.06766283, 1.11546468, 0.04602535),
}


@dataclass(frozen=True)
class DnsmosScores:
    """DNSMOS predictions on the 1-5 MOS scale.

    Attributes:
        sig: Speech signal quality (P.835 SIG).
        bak: Background noise quality (P.835 BAK).
        ovrl: Overall quality (P.835 OVRL).
        p808: P.808 overall MOS.
    """

    sig: float
    bak: float
    ovrl: float
    p808: float

    def to_dict(self) -> dict[str, float]:
        """Plain-dict form."""
        return asdict(self)


def dnsmos_model_dir() -> Path:
    """Folder of DNSMOS's ONNX files inside the installed ``speechmos`` package.

    Raises:
        CheckpointError: speechmos is not installed or lacks the files.
    """
    spec = importlib.util.find_spec("speechmos")
    if spec is None or not spec.submodule_search_locations:
        raise CheckpointError(
            "DNSMOS needs the ONNX models of the PyPI package `speechmos`; install them with "
            "`pip install 'voxlab[quality]'`"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "dnsmos_models"
    for name in ("sig_bak_ovr.onnx", "model_v8.onnx"):
        if not (path / name).is_file():
            raise CheckpointError(f"{path / name} is missing; reinstall speechmos")
    return path


@lru_cache(maxsize=1)
def _sessions():
    try:
        import onnxruntime as ort
    except ImportError as exc:
        raise CheckpointError(
            "DNSMOS needs onnxruntime; install it with `pip install 'voxlab[quality]'`"
        ) from exc
    folder = dnsmos_model_dir()
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    make = lambda name: ort.InferenceSession(  # noqa: E731
        str(folder / name), sess_options=opts, providers=["CPUExecutionProvider"]
    )
    return make("sig_bak_ovr.onnx"), make("model_v8.onnx")


@lru_cache(maxsize=1)
def _p808_filterbank() -> np.ndarray:
    """Slaney mel filters on the exact bin frequencies of the odd 321-point FFT.

    The bin centres are ``k * sr / n_fft`` (``numpy.fft.rfftfreq``, as librosa >= 0.10
    uses); an even-size formula would shift them by up to 25 Hz and the P.808 score by ~0.1.

    Shape:
        ``(120, 161)``
    """
    from voxlab.features.functional import mel_frequencies

    freqs = np.fft.rfftfreq(_P808_FFT, 1.0 / SAMPLE_RATE)
    edges = mel_frequencies(_P808_MELS + 2, fmin=0.0, fmax=SAMPLE_RATE / 2.0)
    ramps = edges[:, None] - freqs[None, :]
    widths = np.diff(edges)
    lower = -ramps[:-2] / widths[:-1, None]
    upper = ramps[2:] / widths[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    return weights * (2.0 / (edges[2:] - edges[:-2]))[:, None]


def p808_features(window: np.ndarray) -> np.ndarray:
    """The P.808 network's input: normalised log-mel of one window (minus 160 samples).

    Power spectrogram (Hann, FFT 321, hop 160, centred with zero padding), 120 slaney mel
    bands, dB relative to the peak floored 80 dB below it, then ``(dB + 40) / 40``.

    Shape:
        ``(time,) -> (frames, 120)``
    """
    import torch

    from voxlab.features.functional import spectrogram

    x = torch.from_numpy(np.asarray(window[:-160], dtype=np.float32))
    power = spectrogram(x, n_fft=_P808_FFT, hop_length=160).double().numpy()
    mel = _p808_filterbank() @ power
    db = 10.0 * np.log10(np.maximum(mel, 1e-10)) - 10.0 * np.log10(max(mel.max(), 1e-10))
    db = np.maximum(db, db.max() - 80.0)
    return ((db + 40.0) / 40.0).T.astype(np.float32)


def dnsmos(audio: np.ndarray, sample_rate: int = SAMPLE_RATE) -> DnsmosScores:
    """DNSMOS of one utterance.

    Args:
        audio: Mono samples in [-1, 1] at 16 kHz. Shape: ``(time,)``.
        sample_rate: Must be 16000 (resample first with :func:`voxlab.audio.resample`).

    Returns:
        The four MOS predictions, averaged over 9.01 s windows.

    Raises:
        AudioError: Wrong rate, empty or non-finite audio.
    """
    if sample_rate != SAMPLE_RATE:
        raise AudioError(f"DNSMOS needs 16 kHz audio, got {sample_rate} Hz; resample it first")
    x = np.asarray(audio, dtype=np.float32).reshape(-1)
    if x.size == 0 or not np.isfinite(x).all():
        raise AudioError("DNSMOS needs non-empty audio without NaN/Inf samples")
    length = int(_WINDOW_S * SAMPLE_RATE)
    while x.size < length:
        x = np.concatenate([x, x])
    n_windows = int(np.floor(x.size / SAMPLE_RATE) - _WINDOW_S) + 1
    primary, p808 = _sessions()
    sums = np.zeros(4)
    count = 0
    for k in range(n_windows):
        window = x[k * SAMPLE_RATE : k * SAMPLE_RATE + length]
        if window.size < length:
            continue
        raw = primary.run(None, {"input_1": window[None, :]})[0][0]
        mos = [np.polyval(_POLY[name], float(v)) for name, v in zip(_POLY, raw)]
        mel = p808_features(window)[None]
        sums += [*mos, float(p808.run(None, {"input_1": mel})[0][0][0])]
        count += 1
    sig, bak, ovrl, p = (sums / count).tolist()
    return DnsmosScores(sig=sig, bak=bak, ovrl=ovrl, p808=p)
