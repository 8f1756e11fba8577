"""``voxlab features``: extract one kind of acoustic feature from an audio file to ``.npy``."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from voxlab.errors import ConfigError

if TYPE_CHECKING:  # numpy and torch load when the command runs, not at start-up
    import numpy as np

KINDS = ("mfcc", "lfcc", "cqcc", "mel", "f0", "energy", "zcr", "lpc", "formants")
F0_METHODS = ("dio", "harvest", "yin")

_LAYOUT = {
    "mfcc": "20 MFCCs (40 mel bands, 25 ms Hann window)",
    "lfcc": "60 = 20 LFCCs (c0 = log energy) + deltas + delta-deltas (ASVspoof LFCC-LCNN)",
    "cqcc": "60 = 20 CQCCs (c0..c19) + deltas + delta-deltas (ASVspoof CQCC, B=96, d=16)",
    "mel": "80 log-mel bands in dB",
    "f0": "2 = F0 in Hz (0 when unvoiced), voiced flag (0/1)",
    "energy": "1 = frame RMS",
    "zcr": "1 = zero-crossing rate (fraction of samples)",
    "lpc": "order+1 = LPC [1, a1..ap], order = 2 + sr/1000",
    "formants": "8 = F1..F4 then B1..B4 in Hz (NaN when not found)",
}


def _frame_params(sample_rate: int, hop_ms: float) -> tuple[int, int, int]:
    hop = max(1, int(round(sample_rate * hop_ms / 1000)))
    win = int(round(0.025 * sample_rate))
    n_fft = 1 << max(4, math.ceil(math.log2(win)))
    return hop, win, n_fft


def compute(
    samples: np.ndarray,
    *,
    kind: str,
    sample_rate: int,
    hop_ms: float = 10.0,
    f0_method: str = "dio",
) -> tuple[np.ndarray, dict]:
    """Compute ``kind`` on mono samples.

    Returns:
        ``(features, extra)``: features as ``(frames, dims)`` float32 and what the plot
        needs (hop in samples, the feature image or tracks).
    """
    import numpy as np
    import torch

    from voxlab import features as vf
    from voxlab.features.lpc import frame_lpc

    if kind not in KINDS:
        raise ConfigError(f"unknown feature kind {kind!r}; choose one of {', '.join(KINDS)}")
    if not hop_ms > 0:
        raise ConfigError(f"--hop-ms must be positive, got {hop_ms}")
    x = torch.from_numpy(np.ascontiguousarray(samples, dtype=np.float32))
    sr = sample_rate
    hop, win, n_fft = _frame_params(sr, hop_ms)
    extra: dict = {"hop": hop}
    if kind == "mfcc":
        out = vf.mfcc(x, sample_rate=sr, n_mfcc=20, n_fft=n_fft, win_length=win,
                      hop_length=hop, n_mels=40)  # fmt: skip
    elif kind == "lfcc":
        win20 = int(round(0.02 * sr))
        out = vf.lfcc(x, sample_rate=sr, win_length=win20, hop_length=hop,
                      n_fft=max(512, 1 << math.ceil(math.log2(win20))))  # fmt: skip
    elif kind == "cqcc":
        out = vf.cqcc(x, sample_rate=sr)
        extra["hop"] = None  # CQCC frames tile the whole signal evenly
    elif kind == "mel":
        out = vf.log_mel(x, sample_rate=sr, n_fft=n_fft, win_length=win, hop_length=hop,
                         n_mels=80)  # fmt: skip
    elif kind == "f0":
        if f0_method not in F0_METHODS:
            raise ConfigError(f"--f0-method must be one of {', '.join(F0_METHODS)}")
        if f0_method == "yin":
            f0, voiced = vf.f0_yin(x, sample_rate=sr, hop_length=hop)
        else:
            f0, voiced = vf.f0_world(x, sample_rate=sr, hop_length=hop, method=f0_method)
        out = torch.stack([f0, voiced.to(f0.dtype)])
    elif kind == "energy":
        out = vf.rms(x, frame_length=win, hop_length=hop).unsqueeze(0)
    elif kind == "zcr":
        out = vf.zero_crossing_rate(x, frame_length=win, hop_length=hop).unsqueeze(0)
    elif kind == "lpc":
        out = frame_lpc(x, order=int(2 + sr // 1000), frame_length=win, hop_length=hop,
                        pre_emphasis=0.97)  # fmt: skip
    else:
        freqs, bws = vf.formants(x, sample_rate=sr, n_formants=4, frame_length=win,
                                 hop_length=hop)  # fmt: skip
        out = torch.cat([freqs, bws])
    return out.T.contiguous().numpy().astype(np.float32), extra


def _plot(kind: str, samples: np.ndarray, feats: np.ndarray, extra: dict, sr: int, path: Path):
    import numpy as np

    from voxlab import plots

    hop = extra["hop"]
    period = hop / sr if hop else None
    title = f"{kind}: {feats.shape[0]} frames x {feats.shape[1]} dims"
    if kind == "f0":
        f0 = np.where(feats[:, 1] > 0, feats[:, 0], np.nan)
        return plots.spectrogram_with_tracks(
            samples, [f0], sample_rate=sr, path=path, labels=["F0"], title=title,
            max_freq=min(sr / 2, 1000.0), frame_period=period,
        )  # fmt: skip
    if kind == "formants":
        tracks = [feats[:, i] for i in range(4)]
        return plots.spectrogram_with_tracks(
            samples, tracks, sample_rate=sr, path=path, labels=["F1", "F2", "F3", "F4"],
            title=title, max_freq=min(sr / 2, 5000.0), frame_period=period,
        )  # fmt: skip
    if kind in ("energy", "zcr"):
        return plots.waveform_and_curves(
            samples, feats.T, sample_rate=sr, path=path, ylabel=kind, title=title,
            frame_period=period,
        )  # fmt: skip
    ylabel = {"mel": "mel band", "lpc": "LPC coefficient a1..ap"}.get(kind, "coefficient")
    image = feats.T
    if kind == "lpc":
        image = image[1:]  # a_0 is always 1
    if kind in ("mfcc", "lfcc", "cqcc"):
        # c0 dwarfs the rest: show each coefficient standardised over time.
        image = (image - image.mean(1, keepdims=True)) / (image.std(1, keepdims=True) + 1e-9)
        ylabel = "coefficient (z-scored per row)"
    return plots.waveform_and_image(
        samples, image, sample_rate=sr, path=path, title=title, ylabel=ylabel,
        cmap="magma" if kind == "mel" else "viridis",
    )  # fmt: skip


def features_command(
    file: Path = typer.Argument(..., help="Audio file (wav, flac, mp3, ...)."),
    kind: str = typer.Option(..., "--kind", "-k", help=f"One of: {', '.join(KINDS)}."),
    out: Path = typer.Option(..., "--out", "-o", help="Output .npy file (frames x dims)."),
    plot: Path | None = typer.Option(None, "--plot", help="Also write a PNG figure here."),
    sr: int = typer.Option(16000, "--sr", help="Resample to this rate (Hz) before analysis."),
    hop_ms: float = typer.Option(10.0, "--hop-ms", help="Frame hop in ms (not for cqcc)."),
    f0_method: str = typer.Option("dio", "--f0-method", help="dio, harvest or yin."),
) -> None:
    """Extract acoustic features from FILE and save them as a float32 .npy array.

    The array is laid out frames x dims (one row per frame; frames are centred every
    --hop-ms, except CQCC whose frames tile the signal evenly). Dims per kind:

      mfcc      20 MFCCs (40 mel bands, 25 ms Hann window)
      lfcc      60 = 20 LFCCs (c0 = log energy) + deltas + delta-deltas
      cqcc      60 = 20 CQCCs (c0..c19) + deltas + delta-deltas
      mel       80 log-mel bands (dB)
      f0        2 = F0 in Hz (0 when unvoiced), voiced flag (0/1)
      energy    1 = frame RMS
      zcr       1 = zero-crossing rate
      lpc       order+1 = [1, a1..ap], order = 2 + sr/1000
      formants  8 = F1..F4 then B1..B4 in Hz (NaN when not found)

    --plot draws the waveform over the feature image (F0 and formants: over a spectrogram).

    Examples:
        voxlab features speech.wav --kind mfcc --out speech_mfcc.npy --plot speech_mfcc.png
        voxlab features speech.flac --kind f0 --f0-method harvest --out f0.npy
    """
    import numpy as np

    from voxlab.audio import load

    if kind not in KINDS:
        raise typer.BadParameter(f"{kind!r} is not one of {', '.join(KINDS)}", param_hint="--kind")
    if out.suffix != ".npy":
        raise ConfigError(f"--out must end in .npy, got {out}")
    samples, _info = load(file, sr=sr, mono=True)
    feats, extra = compute(samples, kind=kind, sample_rate=sr, hop_ms=hop_ms, f0_method=f0_method)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.save(out, feats)
    message = f"wrote {out}: {feats.shape[0]} frames x {feats.shape[1]} dims ({_LAYOUT[kind]})"
    if plot is not None:
        _plot(kind, samples, feats, extra, sr, plot)
        message += f"; plot {plot}"
    typer.echo(message)


def register(app: typer.Typer) -> None:
    """Add ``voxlab features`` to ``app``."""
    app.command("features")(features_command)
