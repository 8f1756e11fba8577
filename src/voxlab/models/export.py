"""ONNX export of the countermeasures.

The exported graph takes a float32 waveform batch ``(batch, time)`` named ``waveform`` and
returns ``logits`` ``(batch, 2)`` ordered ``[spoof, bona fide]``, like the PyTorch model in
eval mode. AASIST accepts any length, so its time axis is exported as dynamic (the graph
pooling keeps ``floor(nodes * ratio)`` nodes computed inside the graph). RawGAT-ST's node
projections are sized for exactly ``config.num_samples`` (64,600) samples, so it is always
exported with that fixed length; asking for a dynamic time axis warns and exports the fixed
one. Export the plain model (``build_model``/``load_pretrained``), not the output of
:func:`voxlab.models.fast.optimize_for_inference`, which uses oneDNN-specific kernels.
"""

from __future__ import annotations

import copy
import json
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from voxlab.errors import ConfigError

DEFAULT_OPSET = 17


def _fixed_length(model: nn.Module) -> int | None:
    return getattr(model, "fixed_input_samples", None)


def export_onnx(
    model: nn.Module,
    path: str | Path,
    *,
    example_length: int = 64600,
    dynamic_time: bool = True,
    dynamic_batch: bool = True,
    opset: int = DEFAULT_OPSET,
) -> Path:
    """Export ``model`` (in eval mode) to an ONNX file.

    Args:
        model: A plain voxlab countermeasure (AASIST, RawGAT-ST, ...); not modified.
        path: Output ``.onnx`` file (parent folders are created).
        example_length: Samples of the tracing input (ignored by fixed-length models).
        dynamic_time: Export a symbolic time axis. Fixed-length models (RawGAT-ST) warn and
            export their one accepted length instead.
        dynamic_batch: Export a symbolic batch axis.
        opset: ONNX opset version.

    Returns:
        The path written.

    Raises:
        ConfigError: onnx is not installed, or ``model`` is an inference-optimised module.

    Shape:
        The graph maps ``waveform (batch, time)`` to ``logits (batch, 2)``.
    """
    try:
        import onnx
    except ImportError as exc:  # pragma: no cover - onnx is a dev/onnx extra
        raise ConfigError("ONNX export needs onnx: pip install 'voxlab[onnx]'") from exc
    from voxlab.models.fast import FastAASIST, FastRawGATST

    if isinstance(model, (FastAASIST, FastRawGATST)):
        raise ConfigError(
            "export the plain model, not the optimize_for_inference() one (its kernels are "
            "oneDNN-specific); ONNX Runtime applies its own graph optimisations"
        )
    fixed = _fixed_length(model)
    if fixed is not None:
        if dynamic_time:
            warnings.warn(
                f"{type(model).__name__} accepts exactly {fixed} samples: exporting a fixed "
                "time axis",
                UserWarning,
                stacklevel=2,
            )
        dynamic_time = False
        example_length = fixed

    net = copy.deepcopy(model).eval()
    example = torch.zeros(1, example_length)
    example[0, ::97] = 0.1  # non-degenerate input for tracing
    axes: dict[int, str] = {}
    if dynamic_batch:
        axes[0] = "batch"
    if dynamic_time:
        axes[1] = "time"
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer/deprecation chatter
        torch.onnx.export(
            net,
            (example,),
            str(path),
            dynamo=False,
            input_names=["waveform"],
            output_names=["logits"],
            dynamic_axes={"waveform": axes, "logits": {0: "batch"} if dynamic_batch else {}},
            opset_version=opset,
        )
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto)
    config = getattr(model, "config", None)
    meta = {
        "producer": "voxlab",
        "model_class": type(model).__name__,
        "logits_order": "spoof,bonafide",
        "sample_rate": str(getattr(config, "sample_rate", 16000)),
        "fixed_length": str(fixed or ""),
    }
    if config is not None and hasattr(config, "__dataclass_fields__"):
        import dataclasses

        meta["config"] = json.dumps(dataclasses.asdict(config))
    for key, value in meta.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(proto, str(path))
    return path


def run_onnx(path: str | Path, waveform: np.ndarray, *, threads: int | None = None) -> np.ndarray:
    """Run an exported model with ONNX Runtime on the CPU.

    Args:
        path: File written by :func:`export_onnx`.
        waveform: Float waveforms. Shape: ``(batch, time)``.
        threads: Intra-op threads (ONNX Runtime's default when ``None``).

    Returns:
        Logits ``[spoof, bona fide]``. Shape: ``(batch, 2)``.
    """
    try:
        import onnxruntime as ort
    except ImportError as exc:  # pragma: no cover
        raise ConfigError("running ONNX needs onnxruntime: pip install 'voxlab[onnx]'") from exc
    options = ort.SessionOptions()
    if threads is not None:
        options.intra_op_num_threads = threads
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    batch = np.ascontiguousarray(waveform, dtype=np.float32)
    return session.run(["logits"], {"waveform": batch})[0]
