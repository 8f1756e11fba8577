"""Warm models: each detector loads once, behind its own dynamic batcher.

Requests for any input policy share the model and its batcher; a :class:`Detector` per
(model, policy) only cuts inputs and assembles results, exactly as ``voxlab detect`` does.
"""

from __future__ import annotations

import logging
import threading
import time
import warnings
from concurrent.futures import Future
from dataclasses import dataclass

import numpy as np

from voxlab.errors import ConfigError, SilentAudioWarning
from voxlab.service.batching import DynamicBatcher
from voxlab.service.config import ServiceConfig
from voxlab.service.metrics import Metrics

logger = logging.getLogger(__name__)


@dataclass
class Decoded:
    """Model inputs cut from one file.

    Attributes:
        n_samples: Length of the decoded audio at the model's rate.
        inputs: Equal-length model inputs. Shape: ``(n, time)``.
        spans: Seconds ``[start, end]`` each input covers. Shape: ``(n, 2)``.
    """

    n_samples: int
    inputs: np.ndarray
    spans: np.ndarray


class LoadedModel:
    """A warm detector and the batcher that feeds it."""

    def __init__(
        self, name: str, detector, config: ServiceConfig, metrics: Metrics, calibration=None
    ) -> None:
        self.name = name
        self.detector = detector
        #: ``(Calibration, file)`` when the model has one (as ``voxlab detect`` finds it).
        self.calibration = calibration
        self._detectors: dict[tuple, object] = {}
        self._lock = threading.Lock()

        def on_batch(n: int, seconds: float) -> None:
            metrics.batch_size.observe(n, model=name)
            metrics.forward_seconds.observe(seconds, model=name)

        self.batcher = DynamicBatcher(
            detector.logits,
            max_batch=config.max_batch,
            max_wait_ms=config.max_wait_ms,
            queue_size=config.queue_size,
            name=name,
            on_batch=on_batch,
        )

    def for_policy(self, policy: str | None, *, window: float = 4.0375, hop: float = 2.0):
        """The detector that cuts inputs with ``policy`` (sharing this model's weights)."""
        from voxlab.detection import Detector, InputPolicy

        if policy is None:
            return self.detector
        key = (policy, window, hop)
        with self._lock:
            if key not in self._detectors:
                base = self.detector
                self._detectors[key] = Detector(
                    base.model,
                    name=base.name,
                    threshold=base.threshold,
                    policy=InputPolicy(name=policy, window=window, hop=hop),
                    batch_size=base.batch_size,
                    device=base.device,
                    sample_rate=base.sample_rate,
                )
            return self._detectors[key]

    def close(self) -> None:
        """Finish queued work and stop the batcher."""
        self.batcher.close()


class ModelPool:
    """Loads each allowed model on first use and keeps it warm.

    Args:
        config: Service configuration (allowed models, checkpoints, batching).
        metrics: Where load times and batch sizes go.
    """

    def __init__(self, config: ServiceConfig, metrics: Metrics) -> None:
        self.config = config
        self.metrics = metrics
        self._models: dict[str, LoadedModel] = {}
        self._lock = threading.Lock()
        metrics.queue_depth._read = self._depths
        metrics.models_loaded._read = lambda: {(): float(len(self._models))}

    def _depths(self) -> dict[tuple[str, ...], float]:
        return {(name,): float(m.batcher.depth) for name, m in list(self._models.items())}

    def allowed(self) -> list[str]:
        """Names requests may ask for."""
        from voxlab import pretrained

        names = list(self.config.models) if self.config.models else pretrained.names()
        return names + [n for n in self.config.checkpoints if n not in names]

    def loaded(self) -> list[str]:
        """Names of the warm models."""
        return list(self._models)

    def get(self, name: str | None = None) -> LoadedModel:
        """The warm model ``name`` (the default model when None), loading it once.

        Raises:
            ConfigError: The model is not allowed or cannot be loaded.
        """
        name = name or self.config.default_model
        if name not in self.allowed():
            raise ConfigError(
                f"model {name!r} is not served here; choose one of {', '.join(self.allowed())}"
            )
        with self._lock:
            if name not in self._models:
                self._models[name] = self._load(name)
            return self._models[name]

    def _load(self, name: str) -> LoadedModel:
        from voxlab.detection import Detector

        start = time.perf_counter()
        checkpoint = self.config.checkpoints.get(name)
        # "auto" as `voxlab detect`: official up to the model input, windows beyond.
        kwargs = dict(batch_size=self.config.max_batch, policy="auto")
        from voxlab import pretrained

        if name in pretrained.names():
            detector = Detector.from_pretrained(
                name, checkpoint=checkpoint, download=self.config.download, **kwargs
            )
        elif checkpoint is not None:
            detector = Detector.from_checkpoint(checkpoint, **kwargs)
        else:
            raise ConfigError(f"model {name!r}: no checkpoint configured for it")
        from voxlab.detection.calibrated import calibration_for

        cal, cal_path = calibration_for(
            name, checkpoint, self.config.calibrations.get(name), name=detector.name
        )
        seconds = time.perf_counter() - start
        self.metrics.model_load_seconds.set(seconds, model=name)
        logger.info(
            "model loaded",
            extra={"model": name, "seconds": round(seconds, 3), "calibration": str(cal_path)},
        )
        calibration = None if cal is None else (cal, str(cal_path))
        return LoadedModel(name, detector, self.config, self.metrics, calibration)

    def close(self) -> None:
        """Stop every batcher (after its queued work)."""
        for model in list(self._models.values()):
            model.close()


def decode(detector, source, *, max_seconds: float | None) -> Decoded:
    """Decode audio (path or bytes) and cut it into ``detector``'s model inputs.

    This is what ``Detector.score_files`` does per file: load at the model's rate, mono,
    then its input policy.

    Raises:
        AudioError: Unreadable, empty, too long... (a subclass naming the input).
    """
    from voxlab.audio import load
    from voxlab.detection.policies import segment

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SilentAudioWarning)
        wave, _ = load(source, sr=detector.sample_rate, mono=True, max_seconds=max_seconds)
    inputs, spans = segment(wave, detector.policy)
    return Decoded(int(wave.shape[0]), np.stack(inputs), np.asarray(spans))


def submit(
    model: LoadedModel, decoded: Decoded, *, block: bool = False, limit: int | None = None
) -> list[Future]:
    """Queue a file's inputs on the model's batcher.

    Inputs of different lengths (``full`` policy) go as separate requests.

    Returns:
        Futures whose results, concatenated in order, are the inputs' logits.
    """
    return [model.batcher.submit(decoded.inputs, block=block, limit=limit)]


def result_dict(
    detector,
    logits: np.ndarray,
    decoded: Decoded,
    *,
    path: str,
    segments: bool,
    calibration: tuple | None = None,
) -> dict:
    """The JSON row ``voxlab detect --format json`` gives, from batched logits.

    Args:
        detector: The detector whose policy cut the inputs.
        logits: ``[spoof, bona fide]`` logits of the inputs. Shape: ``(n, 2)``.
        decoded: What :func:`decode` returned.
        path: Name reported in the row.
        segments: Include per-window scores.
        calibration: ``(Calibration, file)`` of the model, applied as ``voxlab detect`` does.
    """
    result = detector._result(  # the library's own assembly (aggregation, verdict)
        logits, decoded.spans, decoded.n_samples, path=path, segments=segments
    )
    if calibration is not None:
        from voxlab.detection.calibrated import apply_calibration

        result = apply_calibration(result, calibration[0], source=calibration[1])
    return result.to_dict()
