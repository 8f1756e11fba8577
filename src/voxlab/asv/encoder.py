"""Speaker embeddings for the offline ASV system.

``ge2e``: the GE2E speaker encoder (Wan et al., 2018) as trained by Resemble AI, whose
weights ship inside the ``resemblyzer`` wheel on PyPI (``pip install 'voxlab[asv]'``).
voxlab rebuilds the network (3-layer LSTM 40->256, linear 256->256, ReLU, L2 norm) and
loads the wheel's ``pretrained.pt`` with ``torch.load(weights_only=True)``; the
utterance embedding follows resemblyzer's ``embed_utterance`` (1.6 s partials at 1.3 per
second, averaged, L2-normalised) and matches it numerically. Preprocessing normalises the
level to -30 dBFS and trims long pauses with an energy detector (resemblyzer uses the
webrtcvad package instead, which voxlab does not need).

``mfcc``: a weight-free baseline: mean and standard deviation of 20 MFCCs (+ deltas),
L2-normalised; much weaker, but needs nothing beyond voxlab.
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from torch import nn

from voxlab.errors import CheckpointError, ConfigError

SAMPLE_RATE = 16_000
ENCODERS = ("ge2e", "mfcc")
_HOP = 160  # 10 ms
_PARTIAL_FRAMES = 160  # 1.6 s


class GE2EEncoder(nn.Module):
    """The GE2E LSTM speaker encoder (resemblyzer's architecture and parameter names).

    Shape:
        ``(batch, frames, 40) -> (batch, 256)`` (non-negative, unit L2 norm)
    """

    def __init__(self) -> None:
        super().__init__()
        self.lstm = nn.LSTM(40, 256, 3, batch_first=True)
        self.linear = nn.Linear(256, 256)
        self.relu = nn.ReLU()

    def forward(self, mels: torch.Tensor) -> torch.Tensor:
        """Embeds a batch of (non-log) mel spectrogram partials."""
        _, (hidden, _) = self.lstm(mels)
        raw = self.relu(self.linear(hidden[-1]))
        return raw / torch.norm(raw, dim=1, keepdim=True).clamp_min(1e-12)


def resemblyzer_weights() -> Path:
    """Path of ``pretrained.pt`` inside the installed resemblyzer package (not imported).

    Raises:
        CheckpointError: resemblyzer is not installed.
    """
    spec = importlib.util.find_spec("resemblyzer")
    if spec is None or not spec.submodule_search_locations:
        raise CheckpointError(
            "the GE2E speaker encoder needs the weights inside the `resemblyzer` package; "
            "install them with `pip install 'voxlab[asv]'` (or `pip install resemblyzer`), or "
            "use the weight-free baseline with encoder='mfcc' (--encoder mfcc)"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "pretrained.pt"
    if not path.is_file():
        raise CheckpointError(f"resemblyzer is installed but {path} is missing; reinstall it")
    return path


@lru_cache(maxsize=2)
def load_ge2e(path: str | None = None) -> GE2EEncoder:
    """The GE2E encoder with resemblyzer's weights (strict key match, ``weights_only``)."""
    src = Path(path) if path else resemblyzer_weights()
    try:
        checkpoint = torch.load(src, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise CheckpointError(f"cannot read the GE2E weights {src}: {exc}") from exc
    state = checkpoint.get("model_state", checkpoint) if isinstance(checkpoint, dict) else None
    if not isinstance(state, dict):
        raise CheckpointError(f"{src} holds no state dict")
    state = {k: v for k, v in state.items() if not k.startswith("similarity_")}
    model = GE2EEncoder()
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise CheckpointError(f"{src} does not match the GE2E encoder: {exc}") from exc
    return model.eval()


def normalize_volume(wav: np.ndarray, target_dbfs: float = -30.0) -> np.ndarray:
    """Raises (never lowers) the RMS level to ``target_dbfs``, as resemblyzer does."""
    rms = float(np.sqrt(np.mean(np.square(wav, dtype=np.float64))))
    if rms <= 0.0:
        return wav
    change = target_dbfs - 20.0 * np.log10(rms)
    return wav if change < 0 else (wav * 10.0 ** (change / 20.0)).astype(np.float32)


def trim_long_silences(
    wav: np.ndarray, *, window_ms: int = 30, floor_db: float = -40.0, max_silence: int = 6
) -> np.ndarray:
    """Removes pauses longer than ``max_silence`` windows (energy below peak + ``floor_db``).

    Shape:
        ``(time,) -> (kept,)``
    """
    win = SAMPLE_RATE * window_ms // 1000
    n = len(wav) // win
    if n == 0:
        return wav
    frames = wav[: n * win].reshape(n, win).astype(np.float64)
    db = 10.0 * np.log10(np.mean(frames * frames, axis=1) + 1e-12)
    voiced = db > db.max() + floor_db
    kernel = np.ones(2 * max_silence + 1)
    keep = np.convolve(voiced.astype(float), kernel, mode="same") > 0
    if not keep.any():
        return wav
    return frames[keep].reshape(-1).astype(np.float32)


def _mel(wav: np.ndarray) -> np.ndarray:
    from voxlab.features.functional import mel_spectrogram

    mel = mel_spectrogram(
        torch.from_numpy(np.asarray(wav, dtype=np.float32)),
        sample_rate=SAMPLE_RATE,
        n_fft=400,
        hop_length=_HOP,
        n_mels=40,
    )
    return mel.T.contiguous().numpy()


def partial_slices(n_samples: int, *, rate: float = 1.3, min_coverage: float = 0.75):
    """Frame ranges of the 1.6 s partials (resemblyzer's ``compute_partial_slices``)."""
    n_frames = int(np.ceil((n_samples + 1) / _HOP))
    step = int(np.round((SAMPLE_RATE / rate) / _HOP))
    steps = max(1, n_frames - _PARTIAL_FRAMES + step + 1)
    starts = list(range(0, steps, step))
    last = starts[-1]
    coverage = (n_samples - last * _HOP) / (_PARTIAL_FRAMES * _HOP)
    if coverage < min_coverage and len(starts) > 1:
        starts = starts[:-1]
    return [(s, s + _PARTIAL_FRAMES) for s in starts]


def embed_ge2e(wav: np.ndarray, *, preprocess: bool = True) -> np.ndarray:
    """GE2E utterance embedding.

    Args:
        wav: 16 kHz mono speech. Shape: ``(time,)``.
        preprocess: Level normalisation and pause trimming first.

    Returns:
        Unit-norm float32 embedding. Shape: ``(256,)``.
    """
    wav = np.asarray(wav, dtype=np.float32)
    if preprocess:
        wav = trim_long_silences(normalize_volume(wav))
    slices = partial_slices(len(wav))
    need = slices[-1][1] * _HOP
    if need >= len(wav):
        wav = np.pad(wav, (0, need - len(wav)))
    mel = _mel(wav)
    batch = torch.from_numpy(np.stack([mel[a:b] for a, b in slices]))
    with torch.no_grad():
        partials = load_ge2e()(batch).numpy()
    raw = partials.mean(axis=0)
    return (raw / np.linalg.norm(raw)).astype(np.float32)


def embed_mfcc(wav: np.ndarray) -> np.ndarray:
    """Weight-free baseline: mean and std of 20 MFCCs and their deltas, unit norm.

    Shape:
        ``(time,) -> (80,)``
    """
    from voxlab.features.functional import deltas, mfcc

    x = torch.from_numpy(trim_long_silences(normalize_volume(np.asarray(wav, np.float32))))
    feats = mfcc(x, sample_rate=SAMPLE_RATE, n_mfcc=20, n_fft=512, hop_length=_HOP, n_mels=40)
    feats = torch.cat([feats[1:], deltas(feats, width=5)[1:]])  # c0 (level) left out
    stats = torch.cat([feats.mean(dim=1), feats.std(dim=1)]).double().numpy()
    stats = stats - stats.mean()
    return (stats / np.linalg.norm(stats)).astype(np.float32)


def embed(wav: np.ndarray, *, encoder: str = "ge2e") -> np.ndarray:
    """Speaker embedding of a 16 kHz utterance with the named encoder (``ge2e``/``mfcc``)."""
    if encoder == "ge2e":
        return embed_ge2e(wav)
    if encoder == "mfcc":
        return embed_mfcc(wav)
    raise ConfigError(f"ASV encoder must be one of {ENCODERS}, got {encoder!r}")
