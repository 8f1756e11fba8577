"""Time voxlab's batched MFCC, LFCC and log-mel against librosa on the same clips.

200 four-second 16 kHz clips (tones + chirps + noise, seeded), one process. voxlab extracts
the whole batch as one ``(200, 64000)`` tensor; librosa runs per clip (as most code does)
and, where librosa accepts it, vectorised on the ``(200, 64000)`` array. librosa has no LFCC,
so its LFCC baseline is the usual recipe built on it: ``librosa.stft`` power spectrum, the
same linear filterbank, ``log10``, ``scipy.fft.dct`` and the same deltas in numpy. Each
timing is the median of ``--repeats`` runs after one warm-up. torch runs single-threaded by
default (librosa's FFTs are single-threaded too); ``--threads 0`` keeps torch's default.
Target: voxlab >= 2x librosa per clip on CPU.

    .venv/bin/python benchmarks/features.py [--clips 200] [--repeats 3] [--threads N]
"""

from __future__ import annotations

import argparse
import statistics
import time

import librosa
import numpy as np
import scipy.fft
import torch

from voxlab import features as vf
from voxlab.testing import chirp, noise, tone

SR = 16_000
MEL = dict(n_fft=512, hop_length=160, win_length=400, n_mels=40)


def make_clips(n: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    clips = []
    for i in range(n):
        f = float(rng.uniform(80, 400))
        y = tone(f, seconds=4.0) + chirp(100, 4000, seconds=4.0) + noise(seconds=4.0, seed=i)
        clips.append(y)
    return np.stack(clips).astype(np.float32)


def _np_deltas(x: np.ndarray) -> np.ndarray:
    padded = np.concatenate([x[..., :1], x, x[..., -1:]], axis=-1)
    return padded[..., 2:] - padded[..., :-2]


def librosa_lfcc(y: np.ndarray, fb: np.ndarray) -> np.ndarray:
    """The LCNN LFCC recipe on librosa + numpy (same definition as voxlab's default)."""
    y = np.concatenate([y[..., :1], y[..., 1:] - 0.97 * y[..., :-1]], axis=-1)
    power = (
        np.abs(librosa.stft(y, n_fft=512, hop_length=160, win_length=320, window="hamming")) ** 2
    )
    eps = np.finfo(np.float32).eps
    ceps = scipy.fft.dct(np.log10(np.einsum("fk,...kt->...ft", fb, power) + eps), axis=-2,
                         norm="ortho")  # fmt: skip
    ceps[..., 0, :] = np.log10(power.sum(-2) / 512 + eps)
    d1 = _np_deltas(ceps)
    return np.concatenate([ceps, d1, _np_deltas(d1)], axis=-2)


def timeit(fn, repeats: int) -> float:
    fn()  # warm-up (caches, allocator)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--threads", type=int, default=1,
        help="torch threads (default 1, like numpy's FFT that librosa uses; 0 = torch default)",
    )  # fmt: skip
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    clips = make_clips(args.clips)
    batch = torch.from_numpy(clips)
    fb = vf.linear_filterbank(sample_rate=SR, n_fft=512, n_filters=20).numpy()

    # Same numbers first: the comparison is only fair if the outputs agree.
    ours = vf.mfcc(batch[:2], sample_rate=SR, n_mfcc=20, **MEL).numpy()
    ref = librosa.feature.mfcc(y=clips[:2], sr=SR, n_mfcc=20, **MEL)
    mfcc_err = float(np.abs(ours - ref).max())
    ours = vf.lfcc(batch[:2], sample_rate=SR).numpy()
    lfcc_err = float(np.abs(ours - librosa_lfcc(clips[:2], fb)).max())

    cases = {
        "mfcc": (
            lambda: vf.mfcc(batch, sample_rate=SR, n_mfcc=20, **MEL),
            lambda: [librosa.feature.mfcc(y=c, sr=SR, n_mfcc=20, **MEL) for c in clips],
            lambda: librosa.feature.mfcc(y=clips, sr=SR, n_mfcc=20, **MEL),
        ),
        "log_mel": (
            lambda: vf.log_mel(batch, sample_rate=SR, **MEL),
            lambda: [
                librosa.power_to_db(librosa.feature.melspectrogram(y=c, sr=SR, **MEL))
                for c in clips
            ],
            lambda: librosa.power_to_db(librosa.feature.melspectrogram(y=clips, sr=SR, **MEL)),
        ),
        "lfcc": (
            lambda: vf.lfcc(batch, sample_rate=SR),
            lambda: [librosa_lfcc(c, fb) for c in clips],
            lambda: librosa_lfcc(clips, fb),
        ),
    }
    print(
        f"{args.clips} clips x 4 s @ 16 kHz; torch threads {torch.get_num_threads()}; "
        f"median of {args.repeats} runs (s)"
    )
    print(f"agreement on 2 clips: mfcc max |diff| {mfcc_err:.2e}, lfcc {lfcc_err:.2e}")
    header = (
        f"{'feature':<9}{'voxlab batch':>14}{'librosa/clip':>14}{'librosa vect.':>15}"
        f"{'ratio/clip':>12}{'ratio vect.':>13}"
    )
    print(header)
    print("-" * len(header))
    for name, (ours_fn, per_clip_fn, vect_fn) in cases.items():
        t_ours = timeit(ours_fn, args.repeats)
        t_clip = timeit(per_clip_fn, args.repeats)
        t_vect = timeit(vect_fn, args.repeats)
        print(
            f"{name:<9}{t_ours:>14.3f}{t_clip:>14.3f}{t_vect:>15.3f}"
            f"{t_clip / t_ours:>11.1f}x{t_vect / t_ours:>12.1f}x"
        )
    t_cqcc = timeit(lambda: vf.cqcc(batch, sample_rate=SR), 1)
    print(f"cqcc (voxlab only, no librosa equivalent): {t_cqcc:.3f} s for the batch")


if __name__ == "__main__":
    main()
