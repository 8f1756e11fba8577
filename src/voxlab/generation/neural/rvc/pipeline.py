"""Voice conversion with an RVC voice: audio in, audio in the voice's timbre out.

The steps follow the official pipeline (``infer/modules/vc/pipeline.py``, CPU settings):

1. audio at 16 kHz, high-passed (5th-order Butterworth at 48 Hz, zero phase) and
   reflection-padded by 1 s on both sides (context for the edges; removed at the end);
2. F0 every 10 ms (pyworld Harvest or DIO, or the user's RMVPE model), shifted by
   ``transpose`` semitones and quantised to the coarse 1..255 bins (F0 models only);
3. content features of HuBERT/ContentVec at 50 frames/s (v1: layer 9 + final_proj, 256-d;
   v2: layer 12, 768-d), optionally pulled toward the voice's training features with its
   faiss ``.index`` (``index_rate``), then repeated x2 to 100 frames/s;
4. ``protect``: in unvoiced frames the index-free features are mixed back (weight
   ``1 - protect``) so consonants and breaths stay clear;
5. the synthesizer's ``infer`` at the voice's sample rate; the padding is cut off.

Inputs longer than 30 s are converted in segments cut at quiet points, each with 1 s of
real context on both sides (as the official tool does beyond ~41 s). Differences from the
official tool, on purpose: the output keeps the voice's own sample rate and exactly the
input's duration, and the loudness envelope is not remixed (``rms_mix_rate`` 1).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from voxlab.errors import AudioError, ConfigError
from voxlab.generation.base import Generated, finish_audio
from voxlab.generation.neural.rvc.f0 import (
    ANALYSIS_RATE,
    F0_METHODS,
    WINDOW,
    coarse_pitch,
    extract_f0,
    transpose_f0,
)
from voxlab.generation.neural.rvc.hubert import ContentEncoder, load_content_encoder
from voxlab.generation.neural.rvc.index import FeatureIndex
from voxlab.generation.neural.rvc.loading import load_rvc
from voxlab.generation.neural.rvc.rmvpe import RMVPE, load_rmvpe
from voxlab.generation.neural.rvc.synthesizer import RVCSynthesizer

#: Reflection padding added around the input (seconds; the official CPU setting x_pad=1).
PAD_SECONDS = 1.0
#: High-pass filter removing rumble before analysis (Hz, order).
HIGHPASS_HZ, HIGHPASS_ORDER = 48.0, 5
#: Shortest input converted (seconds).
MIN_SECONDS = 0.1
#: Longer inputs are cut into segments of about this length, at quiet points.
SEGMENT_SECONDS = 30.0
#: How far (seconds) from each nominal cut the quietest point is searched.
SEARCH_SECONDS = 5.0


@dataclass(frozen=True)
class ConvertOptions:
    """How to convert.

    Attributes:
        f0_method: ``"harvest"``, ``"dio"`` or ``"rmvpe"`` (needs the user's ``rmvpe.pt``).
        transpose: Pitch shift in semitones (+12 = one octave up).
        speaker: Speaker id of multi-speaker voices (row of ``emb_g``; usually 0).
        index_rate: Weight of the retrieved features (0 = ignore the index).
        protect: Unvoiced-frame protection; 0.5 or more switches it off.
        seed: Seed of the model's random draws (prior noise, sine noise).
        deterministic: Make every random draw zero instead.
    """

    f0_method: str = "harvest"
    transpose: float = 0.0
    speaker: int = 0
    index_rate: float = 0.75
    protect: float = 0.33
    seed: int = 0
    deterministic: bool = False

    def check(self) -> None:
        """Raises :class:`ConfigError` for values out of range."""
        if self.f0_method not in (*F0_METHODS, "rmvpe"):
            raise ConfigError(
                f"unknown F0 method {self.f0_method!r}; choose one of "
                f"{', '.join(F0_METHODS)} or rmvpe"
            )
        if not -48 <= self.transpose <= 48:
            raise ConfigError(f"transpose must be within +-48 semitones, got {self.transpose}")
        if not 0.0 <= self.index_rate <= 1.0:
            raise ConfigError(f"index rate must be within [0, 1], got {self.index_rate}")
        if not 0.0 <= self.protect <= 1.0:
            raise ConfigError(f"protect must be within [0, 1], got {self.protect}")


def highpass(audio: np.ndarray) -> np.ndarray:
    """Zero-phase 5th-order Butterworth high-pass at 48 Hz of 16 kHz audio."""
    from scipy.signal import butter, filtfilt

    b, a = butter(HIGHPASS_ORDER, HIGHPASS_HZ, btype="high", fs=ANALYSIS_RATE)
    if audio.size <= 3 * max(len(a), len(b)):
        return audio
    return filtfilt(b, a, audio)


def segment_bounds(x: np.ndarray, *, max_seconds: float = SEGMENT_SECONDS) -> list[tuple[int, int]]:
    """Split 16 kHz audio into segments of at most about ``max_seconds``, cut where quiet.

    Each cut lies within :data:`SEARCH_SECONDS` (or a third of ``max_seconds``) of a
    multiple of ``max_seconds``, at the 10 ms frame of least absolute amplitude, on the
    10 ms grid (so pitch frames stay aligned). Short inputs are one segment.

    Returns:
        ``(start, stop)`` sample ranges covering ``x`` in order.
    """
    length = x.size
    step = int(max_seconds * ANALYSIS_RATE)
    if length <= step + WINDOW:
        return [(0, length)]
    search = int(min(SEARCH_SECONDS, max_seconds / 3) * ANALYSIS_RATE) // WINDOW
    frames = np.abs(x[: length // WINDOW * WINDOW]).reshape(-1, WINDOW).sum(axis=1)
    cuts = [0]
    target = step // WINDOW
    while target * WINDOW < length - WINDOW:
        lo = max(cuts[-1] // WINDOW + 1, target - search)
        hi = min(len(frames), target + search + 1)
        if lo >= hi:
            break
        cuts.append((lo + int(np.argmin(frames[lo:hi]))) * WINDOW)
        target = cuts[-1] // WINDOW + step // WINDOW
    return list(zip(cuts, [*cuts[1:], length]))


def _fit_frames(feats: np.ndarray, n_frames: int) -> np.ndarray:
    """Crop, or extend by repeating the last frame, to ``n_frames`` frames.

    HuBERT yields one 50 fps frame less than the 100 fps pitch track covers; the missing
    frames lie in the trailing reflection padding (cut from the output), so repeating the
    last frame keeps the converted audio exactly as long as the input (the official
    pipeline instead shortens its output by those frames).
    """
    if feats.shape[0] >= n_frames:
        return feats[:n_frames]
    return np.concatenate([feats, np.repeat(feats[-1:], n_frames - feats.shape[0], axis=0)])


class RVCConverter:
    """An RVC voice ready to convert: synthesizer, content encoder and optional index.

    Args:
        model: The loaded synthesizer (:func:`~.loading.load_rvc`).
        content: HuBERT/ContentVec (:func:`~.hubert.load_content_encoder`); None for a
            voice that only synthesises precomputed features (:mod:`.files`).
        index: The voice's feature index, if any.
        name: Voice name (recorded in the output's provenance).
        rmvpe: An RMVPE pitch model (:func:`~.rmvpe.load_rmvpe`) for ``f0_method="rmvpe"``.

    Attributes:
        segment_seconds: Inputs longer than this are converted in segments (memory: the
            content encoder's attention grows with the square of the length).
    """

    def __init__(
        self,
        model: RVCSynthesizer,
        content: ContentEncoder | None,
        index: FeatureIndex | None = None,
        *,
        name: str = "rvc",
        rmvpe: RMVPE | None = None,
    ) -> None:
        self.model = model
        self.rmvpe = rmvpe
        self.segment_seconds = SEGMENT_SECONDS
        self.content = content
        self.index = index
        self.name = name
        if index is not None and index.dim != model.config.content_dim:
            raise ConfigError(
                f"{index.source} holds {index.dim}-d features but voice {name!r} is RVC "
                f"{model.version} ({model.config.content_dim}-d): use the index trained "
                "with this voice"
            )

    @classmethod
    def load(
        cls,
        rvc: str | Path,
        hubert: str | Path | None,
        index: str | Path | None = None,
        *,
        rmvpe: str | Path | None = None,
    ) -> RVCConverter:
        """Load an RVC export, a HuBERT checkpoint, optionally an ``.index`` and ``rmvpe.pt``.

        Raises:
            CheckpointError: Any file is missing, unsafe, corrupt or mismatched.
            ConfigError: faiss missing for an index, or the index width is wrong.
        """
        model = load_rvc(rvc)
        content = load_content_encoder(hubert) if hubert is not None else None
        feature_index = FeatureIndex.load(index) if index is not None else None
        pitch = load_rmvpe(rmvpe) if rmvpe is not None else None
        return cls(model, content, feature_index, name=Path(rvc).stem, rmvpe=pitch)

    @property
    def sample_rate(self) -> int:
        """Output sample rate in Hz (the voice's)."""
        return self.model.sampling_rate

    def convert(
        self, audio: np.ndarray, sample_rate: int, options: ConvertOptions | None = None
    ) -> Generated:
        """Convert one utterance.

        Args:
            audio: Mono samples. Shape: ``(time,)``.
            sample_rate: Their rate in Hz.
            options: How to convert (defaults: Harvest, no transposition, speaker 0).

        Returns:
            The converted audio at :attr:`sample_rate` (same duration as the input) with
            its provenance (system ``"rvc"``).

        Raises:
            AudioError: Too short, empty or non-finite input.
            ConfigError: Bad options or a speaker id the voice lacks.
        """
        from voxlab.audio import resample

        options = options or ConvertOptions()
        options.check()
        if options.f0_method == "rmvpe" and self.model.f0 and self.rmvpe is None:
            raise ConfigError(
                "F0 method rmvpe needs the RMVPE model: pass --rmvpe rmvpe.pt (RVC's "
                "assets/rmvpe/rmvpe.pt), or use --f0-method harvest"
            )
        if self.content is None:
            raise ConfigError(
                "converting audio needs HuBERT/ContentVec for the content: pass --hubert "
                "hubert_base.pt (RVC's fairseq file) or a transformers HuBERT folder"
            )
        speakers = self.model.config.spk_embed_dim
        if not 0 <= options.speaker < speakers:
            raise ConfigError(
                f"speaker {options.speaker} does not exist: voice {self.name!r} has "
                f"speakers 0..{speakers - 1}"
            )
        x = np.asarray(audio, dtype=np.float32).reshape(-1)
        if not np.isfinite(x).all():
            raise AudioError("RVC conversion: the input holds NaN or Inf samples")
        if sample_rate != ANALYSIS_RATE:
            x = resample(x, orig_sr=sample_rate, target_sr=ANALYSIS_RATE)
        if x.size < MIN_SECONDS * ANALYSIS_RATE:
            raise AudioError(
                f"RVC conversion needs at least {MIN_SECONDS:g} s of audio, got "
                f"{x.size / ANALYSIS_RATE:.3f} s"
            )
        audio_out = self._convert16k(highpass(x.astype(np.float64)), options)
        params = {
            "voice": self.name,
            "version": self.model.version,
            "f0": self.model.f0,
            "f0_method": options.f0_method if self.model.f0 else None,
            "transpose": options.transpose,
            "speaker": options.speaker,
            "index_rate": options.index_rate if self.index is not None else 0.0,
            "protect": options.protect,
            "seed": options.seed,
        }
        return Generated(
            finish_audio(audio_out, name="RVC output"), self.sample_rate, "rvc", params
        )

    def _convert16k(self, x: np.ndarray, options: ConvertOptions) -> np.ndarray:
        pad = int(PAD_SECONDS * ANALYSIS_RATE)
        padded = np.pad(x, (pad, pad), mode="reflect")
        f0 = None
        if self.model.f0:
            f0 = self._f0(padded, options.f0_method, padded.size // WINDOW)
            f0 = transpose_f0(f0, options.transpose)
        pieces = []
        with self.randomness(options):
            for start, stop in segment_bounds(x, max_seconds=self.segment_seconds):
                chunk = padded[start : stop + 2 * pad]  # the segment with 1 s of context
                frames = chunk.size // WINDOW
                first = start // WINDOW
                pitch = None if f0 is None else f0[first : first + frames]
                pieces.append(self._convert_chunk(chunk, pitch, options))
        return np.concatenate(pieces)

    def _convert_chunk(
        self, chunk: np.ndarray, f0: np.ndarray | None, options: ConvertOptions
    ) -> np.ndarray:
        n_frames = chunk.size // WINDOW
        model = self.model
        with torch.no_grad():
            wav = torch.from_numpy(chunk.astype(np.float32))[None]
            feats = self.content.features(wav, version=model.version)[0].numpy()
        original = feats
        if self.index is not None and options.index_rate > 0:
            feats = self.index.blend(feats, rate=options.index_rate)
        feats = torch.from_numpy(_fit_frames(np.repeat(feats, 2, axis=0), n_frames)[None])
        sid = torch.tensor([options.speaker])
        lengths = torch.tensor([n_frames])
        if f0 is not None:
            f0 = np.pad(f0[:n_frames], (0, max(0, n_frames - len(f0))))
            pitch = torch.from_numpy(coarse_pitch(f0))[None]
            pitchf = torch.from_numpy(f0.astype(np.float32))[None]
            if options.protect < 0.5:
                keep = _fit_frames(np.repeat(original, 2, axis=0), n_frames)
                weight = torch.where(pitchf > 0, 1.0, options.protect).unsqueeze(-1)
                feats = feats * weight + torch.from_numpy(keep[None]) * (1 - weight)
            result = model.infer(feats, lengths, pitch, pitchf, sid)
        else:
            result = model.infer(feats, lengths, sid)
        out = result[0][0, 0].numpy()
        cut = int(PAD_SECONDS * self.sample_rate)
        return out[cut : out.size - cut]

    def _f0(self, padded: np.ndarray, method: str, n_frames: int) -> np.ndarray:
        if method != "rmvpe":
            return extract_f0(padded, method=method, n_frames=n_frames)
        f0 = self.rmvpe.f0(padded)
        return np.pad(f0[:n_frames], (0, max(0, n_frames - len(f0))))

    @staticmethod
    def randomness(options: ConvertOptions):
        """Context of the model's random draws: seeded by ``options.seed``, or all zero."""
        from voxlab.generation.neural.commons import deterministic

        stack = contextlib.ExitStack()
        if options.deterministic:
            stack.enter_context(deterministic())
        else:
            stack.enter_context(torch.random.fork_rng(devices=[]))
            torch.manual_seed(options.seed)
        return stack
