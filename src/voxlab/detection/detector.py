"""``Detector``: the one inference API for countermeasures (arrays, files, folders).

The CLI, a web service and a Ray job all call this class; none re-implements scoring.
Scores follow the ASVspoof convention: the bona fide logit, higher = more bona fide, with
logits kept in the official order ``[spoof, bona fide]``.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from torch import nn

from voxlab.detection.policies import InputPolicy, aggregate, segment
from voxlab.detection.results import DetectionResult, Segment, softmax_p_spoof
from voxlab.errors import ConfigError, NoSpeechError, SilentAudioWarning, VoxlabError

logger = logging.getLogger(__name__)


def _fixed_length(model: nn.Module) -> int | None:
    """Input length a model insists on, or ``None`` when it accepts any length."""
    return getattr(model, "fixed_input_samples", None)


class Detector:
    """Scores audio with a countermeasure model.

    Args:
        model: A network mapping waveforms ``(batch, time)`` at 16 kHz to logits
            ``(batch, 2)`` ordered ``[spoof, bona fide]``.
        name: Model name reported in results.
        threshold: Verdict threshold on the score (bona fide logit); ``None`` compares
            the two logits instead (``p_spoof >= 0.5`` means spoof).
        policy: Input policy (name or :class:`InputPolicy`); ``None`` takes the model's
            ``default_policy`` attribute (``"full"`` for the whole-utterance baselines),
            else ``"official"``.
        batch_size: Model inputs per forward pass.
        device: Torch device (``"cpu"``, ``"cuda"``...).
        sample_rate: Rate the model expects; arrays at other rates are resampled.

    Note:
        On a busy machine, OpenMP threads that spin while waiting can cost more CPU than
        the inference itself (issue 15). The ``voxlab`` CLI sets
        ``OMP_WAIT_POLICY=PASSIVE``; library users should export it before Python starts
        (it is read once, when torch loads OpenMP, so a Detector cannot change it).
        On a CUDA device the model runs in strict float32 (:func:`strict_float32`) and
        without the CPU tiling of :mod:`voxlab.models.fast`, so scores equal the CPU's.
    """

    def __init__(
        self,
        model: nn.Module,
        *,
        name: str = "model",
        threshold: float | None = None,
        policy: InputPolicy | str | None = None,
        batch_size: int = 16,
        device: str | torch.device = "cpu",
        sample_rate: int = 16_000,
    ) -> None:
        if batch_size < 1:
            raise ConfigError(f"batch_size must be >= 1, got {batch_size}")
        if policy is None:
            policy = getattr(model, "default_policy", "official")
        if isinstance(policy, str):
            policy = InputPolicy(name=policy, sample_rate=sample_rate)
        fixed = _fixed_length(model)
        if policy.name == "auto":
            if getattr(model, "default_policy", "official") == "full":
                policy = InputPolicy(name="full", sample_rate=policy.sample_rate)
            elif fixed is not None and policy.window_samples != fixed:
                policy = replace(policy, window=fixed / policy.sample_rate, length=fixed)
        self.policy = policy
        if fixed is not None and self.policy.name == "full":
            raise ConfigError(
                f"{name} accepts exactly {fixed} samples; use --policy official or windows"
            )
        if (
            fixed is not None
            and self.policy.name == "windows"
            and (self.policy.window_samples != fixed)
        ):
            raise ConfigError(
                f"{name} accepts exactly {fixed} samples; use --window {fixed / sample_rate}"
            )
        self.device = torch.device(device)
        self.model = model.to(self.device).eval()
        self.name = name
        self.threshold = threshold
        self.batch_size = batch_size
        self.sample_rate = sample_rate

    # ------------------------------------------------------------------ construction

    @classmethod
    def from_pretrained(
        cls,
        name: str,
        *,
        checkpoint: str | os.PathLike | None = None,
        download: bool = True,
        threshold: float | None = None,
        optimize: bool = True,
        **kwargs,
    ) -> Detector:
        """A detector for a published checkpoint from :mod:`voxlab.pretrained`.

        Args:
            name: Catalogue name (``aasist``, ``aasist-l``, ``aasist-asvspoof5``,
                ``rawgat-st``, ``rawgat-st-add``).
            checkpoint: Explicit checkpoint file (skips the lookup).
            download: Allow downloading when no local copy exists.
            threshold: Override the catalogue's documented threshold.
            optimize: Use the inference-optimised (numerically equivalent) model.
            **kwargs: Passed to :class:`Detector` (policy, batch_size, device).
        """
        from voxlab import pretrained

        entry = pretrained.get_entry(name)
        model = pretrained.load_pretrained(name, checkpoint=checkpoint, download=download)
        if optimize:
            model = _optimized(model, kwargs.get("device", "cpu"))
        return cls(
            model,
            name=name,
            threshold=entry.threshold if threshold is None else threshold,
            **kwargs,
        )

    @classmethod
    def from_checkpoint(
        cls,
        path: str | os.PathLike,
        *,
        model: str | None = None,
        threshold: float | None = None,
        optimize: bool = True,
        ssl_config: str | os.PathLike | None = None,
        **kwargs,
    ) -> Detector:
        """A detector from a checkpoint file.

        Args:
            path: A voxlab checkpoint (``.safetensors`` with its JSON sidecar) or an
                official/plain state dict (``.pth``), which needs ``model``.
            model: Registry architecture name (or a catalogue name) for plain state dicts.
            threshold: Verdict threshold on the bona fide logit.
            optimize: Use the inference-optimised (numerically equivalent) model.
            ssl_config: Front-end config JSON of an SSL model (``ssl-aasist``,
                ``xlsr-sls``, ``ssl-pool``); by default read off the checkpoint's shapes.
            **kwargs: Passed to :class:`Detector`.
        """
        from voxlab.models.checkpoints import load_checkpoint, load_checkpoint_into
        from voxlab.models.registry import available_models, build_model, get_spec

        path = Path(path)
        loader = None
        if model is not None and model in available_models():
            loader = get_spec(model).checkpoint_loader
        if ssl_config is not None and loader is None:
            raise ConfigError(
                f"--ssl-config applies to the SSL models (ssl-aasist, xlsr-sls, ssl-pool), "
                f"not to {model or 'a voxlab checkpoint'}; pass --model ssl-aasist or drop it"
            )
        sidecar = path.with_suffix(".json")
        if path.suffix == ".safetensors" and sidecar.exists() and model is None:
            net = load_checkpoint(path)
            name = path.stem
        else:
            if model is None:
                raise ConfigError(
                    f"{path}: a plain state dict needs --model (one of "
                    f"{', '.join(available_models())})"
                )
            from voxlab import pretrained

            if loader is not None:  # sized from the checkpoint (SSL models)
                net = loader(path, ssl_config=ssl_config)
            elif model in pretrained.names():
                return cls.from_pretrained(
                    model, checkpoint=path, threshold=threshold, optimize=optimize, **kwargs
                )
            else:
                net = load_checkpoint_into(build_model(model), path)
            name = model
        net.eval()
        if optimize:
            net = _optimized(net, kwargs.get("device", "cpu"))
        return cls(net, name=name, threshold=threshold, **kwargs)

    # ------------------------------------------------------------------ arrays

    @torch.inference_mode()
    def logits(self, inputs: np.ndarray | torch.Tensor) -> np.ndarray:
        """Raw model logits for a batch of equal-length inputs, in mini-batches.

        Shape:
            ``(n, time) -> (n, 2)`` ordered ``[spoof, bona fide]``.
        """
        batch = torch.as_tensor(np.asarray(inputs, dtype=np.float32))
        if batch.ndim != 2:
            raise ConfigError(f"inputs must be (n, time), got shape {tuple(batch.shape)}")
        outs = []
        with strict_float32():
            for start in range(0, batch.shape[0], self.batch_size):
                chunk = batch[start : start + self.batch_size].to(self.device)
                outs.append(self.model(chunk).float().cpu())
        return torch.cat(outs).numpy()

    def score(
        self,
        audio: np.ndarray,
        *,
        sample_rate: int | None = None,
        segments: bool = False,
        path: str | None = None,
    ) -> DetectionResult:
        """Score one waveform.

        Args:
            audio: Mono samples. Shape: ``(time,)``.
            sample_rate: Rate of ``audio``; resampled to the model's rate when it differs.
            segments: Include per-window scores.
            path: Name to report.

        Returns:
            The :class:`DetectionResult`.
        """
        from voxlab.audio import resample

        wave = np.asarray(audio, dtype=np.float32)
        if wave.ndim != 1 or wave.size == 0:
            raise ConfigError(f"audio must be a non-empty 1-D array, got shape {wave.shape}")
        if not np.isfinite(wave).all():
            raise ConfigError("audio contains NaN or Inf samples")
        if sample_rate is not None and sample_rate != self.sample_rate:
            wave = resample(wave, orig_sr=sample_rate, target_sr=self.sample_rate)
        _refuse_silence(wave, path or "audio")
        inputs, spans = segment(wave, self.policy)
        if self.policy.name == "full":
            window_logits = np.concatenate([self.logits(x[None]) for x in inputs])
        else:
            window_logits = self.logits(np.stack(inputs))
        return self._result(window_logits, spans, len(wave), path=path, segments=segments)

    def _result(
        self,
        window_logits: np.ndarray,
        spans: np.ndarray,
        n_samples: int,
        *,
        path: str | None,
        segments: bool,
    ) -> DetectionResult:
        agg = aggregate(window_logits)
        logits = [float(v) for v in agg["logits"]]
        score = agg["score"]
        if self.threshold is None:
            bonafide = logits[1] > logits[0]
        else:
            bonafide = score >= self.threshold
        segs = None
        if segments:
            segs = [
                Segment(
                    start=round(float(s), 4),
                    end=round(float(e), 4),
                    score=float(lg[1]),
                    p_spoof=softmax_p_spoof(lg),
                )
                for (s, e), lg in zip(spans, window_logits)
            ]
        return DetectionResult(
            path=path,
            status="ok",
            score=score,
            logits=logits,
            p_spoof=softmax_p_spoof(logits),
            verdict="bonafide" if bonafide else "spoof",
            threshold=self.threshold,
            duration=round(n_samples / self.sample_rate, 4),
            model=self.name,
            policy=self.policy.effective(n_samples),
            judged_start=round(float(spans[:, 0].min()), 4),
            judged_end=round(float(spans[:, 1].max()), 4),
            score_min=agg["score_min"],
            segments=segs,
        )

    # ------------------------------------------------------------------ files

    def score_files(
        self,
        paths: Iterable[str | os.PathLike],
        *,
        workers: int = 2,
        segments: bool = False,
        max_seconds: float | None = None,
    ) -> Iterator[DetectionResult]:
        """Score files, streaming one result per file in input order.

        Decoding runs in ``workers`` threads, one chunk of files ahead of inference, so
        that reading overlaps with the model. A file that cannot be read or scored yields
        an error result; the others go on.

        Args:
            paths: Audio files (any format :func:`voxlab.audio.load` reads).
            workers: Decoding threads.
            segments: Include per-window scores.
            max_seconds: Refuse files longer than this.

        Yields:
            One :class:`DetectionResult` per path.
        """
        paths = [str(p) for p in paths]
        chunk = max(self.batch_size, 1)
        chunks = [paths[i : i + chunk] for i in range(0, len(paths), chunk)]
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            pending: list[Future] | None = None
            for index in range(len(chunks)):
                current = pending or [pool.submit(self._decode, p, max_seconds) for p in chunks[0]]
                if index + 1 < len(chunks):  # read ahead while the model works
                    pending = [pool.submit(self._decode, p, max_seconds) for p in chunks[index + 1]]
                else:
                    pending = None
                yield from self._score_decoded(
                    chunks[index], [f.result() for f in current], segments
                )

    def _decode(self, path: str, max_seconds: float | None):
        from voxlab.audio import load

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", SilentAudioWarning)
                wave, _ = load(path, sr=self.sample_rate, mono=True, max_seconds=max_seconds)
            _refuse_silence(wave, path)
            inputs, spans = segment(wave, self.policy)
            return wave.shape[0], inputs, spans
        except VoxlabError as exc:
            return exc
        except Exception as exc:  # never lose the batch to one odd file
            logger.debug("unexpected error reading %s", path, exc_info=True)
            return VoxlabError(f"{path}: unexpected {type(exc).__name__}: {exc}")

    def _score_decoded(
        self, paths: Sequence[str], decoded: Sequence, segments: bool
    ) -> Iterator[DetectionResult]:
        ok = [(p, d) for p, d in zip(paths, decoded) if not isinstance(d, Exception)]
        window_logits: dict[str, np.ndarray] = {}
        try:
            if self.policy.name == "full":
                for path, (_, inputs, _) in ok:
                    window_logits[path] = self.logits(inputs[0][None])
            elif ok:
                stacked = np.stack([x for _, (_, inputs, _) in ok for x in inputs])
                flat = self.logits(stacked)
                offset = 0
                for path, (_, inputs, _) in ok:
                    window_logits[path] = flat[offset : offset + len(inputs)]
                    offset += len(inputs)
        except RuntimeError as exc:  # e.g. out of memory on one batch: retry file by file
            logger.warning("batch failed (%s); scoring file by file", exc)
            window_logits = self._one_by_one(ok)
        for path, item in zip(paths, decoded):
            if isinstance(item, Exception):
                yield DetectionResult.failed(path, str(item), model=self.name)
            elif isinstance(window_logits.get(path), Exception):
                yield DetectionResult.failed(path, str(window_logits[path]), model=self.name)
            else:
                n_samples, _, spans = item
                yield self._result(
                    window_logits[path], spans, n_samples, path=path, segments=segments
                )

    def _one_by_one(self, ok) -> dict:
        out: dict = {}
        for path, (_, inputs, _) in ok:
            try:
                out[path] = np.concatenate([self.logits(x[None]) for x in inputs])
            except RuntimeError as exc:
                out[path] = VoxlabError(f"{path}: the model failed on this input: {exc}")
        return out


def _refuse_silence(wave: np.ndarray, name: str) -> None:
    """Raises :class:`NoSpeechError` for silent or near-silent audio (no verdict on it)."""
    from voxlab.audio.io import silence_note

    note = silence_note(wave)
    if note is not None:
        raise NoSpeechError(
            f"{name}: the audio is {note}: there is nothing to judge, so no verdict is given "
            "(check the recording level, the channel or the file)"
        )


@contextmanager
def strict_float32() -> Iterator[None]:
    """Run CUDA convolutions and matrix products in full float32, then restore the flags.

    PyTorch lets cuDNN convolutions use TF32 by default (10-bit mantissa products on
    Ampere and later GPUs). Measured on an H200 (``benchmarks/gpu_paths.py``), that moves
    the published AASIST's logits by up to 0.12 and RawGAT-ST's by 0.012, against
    ``<= 1e-5`` in float32, so the same file could get another verdict on a GPU than on
    the CPU. A no-op on machines without CUDA.
    """
    cudnn, matmul = torch.backends.cudnn, torch.backends.cuda.matmul
    saved = cudnn.allow_tf32, matmul.allow_tf32
    cudnn.allow_tf32 = matmul.allow_tf32 = False
    try:
        yield
    finally:
        cudnn.allow_tf32, matmul.allow_tf32 = saved


def _optimized(model: nn.Module, device: str | torch.device = "cpu") -> nn.Module:
    """The inference-optimised equivalent of ``model`` when voxlab has one for it.

    The optimisations (folded batch norms, channels-last time tiles sized for CPU caches)
    are for the CPU; on a GPU the tiles only add kernel launches (on an H200 in float32 the
    tiled AASIST ran at 252 utterances/s against 629 for the plain model, batch 64), so
    other devices get the plain model.
    """
    if torch.device(device).type != "cpu":
        return model
    try:
        from voxlab.models.fast import optimize_for_inference
    except ImportError:
        return model
    return optimize_for_inference(model)
