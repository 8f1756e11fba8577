"""The Ray Data pipeline of ``voxlab scan --engine ray``.

Three stages, streamed: file paths -> decoding tasks (``map_batches`` with a function:
stateless, as many in parallel as the cluster has CPUs) -> inference actors
(``map_batches`` with a class: each actor loads the :class:`~voxlab.detection.Detector`
once and scores batches of files in one forward) -> rows streamed back to the driver,
which appends them to the JSONL file as they come (so an interrupted scan resumes).
Decoded inputs travel through the object store as float32 bytes.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np

from voxlab.errors import ConfigError, SilentAudioWarning, VoxlabError


def _decode_batch(batch: dict[str, np.ndarray], *, options_json: str) -> dict[str, list]:
    """Ray task: decode files and cut them into model inputs (the detector's policy)."""
    from voxlab.audio import load
    from voxlab.detection.policies import InputPolicy, segment

    options = json.loads(options_json)
    policy = InputPolicy(
        name=options["policy_name"], window=options["window"], hop=options["hop"],
        length=options["length"],
    )  # fmt: skip
    out: dict[str, list] = {k: [] for k in ("path", "error", "n_samples", "n_inputs", "length",
                                            "inputs", "spans")}  # fmt: skip
    for path in batch["path"]:
        path = str(path)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", SilentAudioWarning)
                wave, _ = load(path, sr=16_000, mono=True, max_seconds=options["max_seconds"])
            inputs, spans = segment(wave, policy)
            lengths = {len(x) for x in inputs}
            stacked = np.stack(inputs) if len(lengths) == 1 else None
            if stacked is None:
                raise VoxlabError(f"{path}: inputs of different lengths")
            out["error"].append("")
            out["n_samples"].append(int(len(wave)))
            out["n_inputs"].append(int(stacked.shape[0]))
            out["length"].append(int(stacked.shape[1]))
            out["inputs"].append(stacked.astype(np.float32).tobytes())
            out["spans"].append(np.asarray(spans, dtype=np.float64).tobytes())
        except VoxlabError as exc:
            _error(out, str(exc))
        except Exception as exc:  # one odd file never stops the scan
            _error(out, f"{path}: unexpected {type(exc).__name__}: {exc}")
        out["path"].append(path)
    return out


def _error(out: dict[str, list], message: str) -> None:
    out["error"].append(message)
    for key in ("n_samples", "n_inputs", "length"):
        out[key].append(0)
    out["inputs"].append(b"")
    out["spans"].append(b"")


class _Scorer:
    """Ray actor: one warm detector; scores a batch of decoded files in one forward."""

    def __init__(self, options_json: str) -> None:
        import torch

        from voxlab.scale.scan import ScanOptions, _key

        fields = json.loads(options_json)["options"]
        self.options = ScanOptions(**fields)
        threads = int(os.environ.get("VOXLAB_SCAN_TORCH_THREADS", "1"))
        torch.set_num_threads(threads)
        self.detector = self.options.detector()
        self.calibrate = self.options.calibrate(self.detector)
        self.key = _key(self.options)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, list]:
        from voxlab.detection.results import DetectionResult
        from voxlab.scale.scan import watermark_row

        paths = [str(p) for p in batch["path"]]
        ok = [i for i, e in enumerate(batch["error"]) if not e]
        inputs = {
            i: np.frombuffer(batch["inputs"][i], dtype=np.float32).reshape(
                int(batch["n_inputs"][i]), int(batch["length"][i])
            )
            for i in ok
        }
        logits: dict[int, Any] = {}
        by_length: dict[int, list[int]] = {}
        for i in ok:
            by_length.setdefault(inputs[i].shape[1], []).append(i)
        for group in by_length.values():
            try:
                flat = self.detector.logits(np.concatenate([inputs[i] for i in group]))
            except RuntimeError as exc:
                for i in group:
                    logits[i] = VoxlabError(f"{paths[i]}: the model failed on this input: {exc}")
                continue
            offset = 0
            for i in group:
                n = inputs[i].shape[0]
                logits[i] = flat[offset : offset + n]
                offset += n
        rows = []
        for i, path in enumerate(paths):
            error = batch["error"][i] or (
                str(logits[i]) if isinstance(logits.get(i), Exception) else ""
            )
            if error:
                rows.append(DetectionResult.failed(path, error, model=self.detector.name).to_dict())
                continue
            spans = np.frombuffer(batch["spans"][i], dtype=np.float64).reshape(-1, 2)
            result = self.detector._result(  # the library's assembly (aggregation, verdict)
                logits[i], spans, int(batch["n_samples"][i]), path=path,
                segments=self.options.segments,
            )  # fmt: skip
            row = self.calibrate(result).to_dict()
            if self.key is not None:
                row["watermark"] = watermark_row(path, self.key, self.options.max_seconds)
            rows.append(row)
        return {"row": [json.dumps(r) for r in rows]}


def ray_rows(
    files: list[str],
    options,
    *,
    address: str | None = None,
    actors: int | None = None,
    decode_batch: int = 16,
) -> Iterator[dict[str, Any]]:
    """Score ``files`` on a Ray cluster; yields one row per file as batches finish.

    Args:
        files: Audio files (readable from every node: a shared or object-store path).
        options: :class:`~voxlab.scale.scan.ScanOptions`.
        address: Cluster address; ``None`` starts a local Ray instance.
        actors: Inference actors; default one per cluster CPU (GPUs: one per GPU).
        decode_batch: Files per decoding task.

    Raises:
        ConfigError: Ray is not installed or the cluster cannot be reached.
    """
    try:
        import ray
    except ImportError as exc:
        raise ConfigError(
            "the ray engine needs Ray: pip install 'voxlab[scale]' (or use --engine local)"
        ) from exc
    from dataclasses import asdict

    policy = _input_policy(options)
    started_here = not ray.is_initialized()
    if started_here:
        try:
            ray.init(
                address=address, include_dashboard=False, log_to_driver=False,
                configure_logging=False, ignore_reinit_error=True,
            )  # fmt: skip
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise ConfigError(f"cannot reach the Ray cluster at {address!r}: {exc}") from None
    try:
        resources = ray.cluster_resources()
        gpus = int(resources.get("GPU", 0))
        cpus = max(1, int(resources.get("CPU", 1)))
        pool = actors or (gpus if gpus else cpus)
        decode_json = json.dumps({
            "policy_name": policy.name, "window": policy.window, "hop": policy.hop,
            "length": policy.length,
            "max_seconds": options.max_seconds,
        })  # fmt: skip
        scorer_json = json.dumps({"options": asdict(options)})
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False
        context.verbose_stats_logs = False
        blocks = max(1, min(len(files), 4 * cpus))
        # Small scans: smaller batches, so that every actor gets work.
        share = max(1, -(-len(files) // pool))
        decode_batch = max(1, min(decode_batch, share))
        score_batch = max(1, min(options.batch_size, share))
        dataset = ray.data.from_items([{"path": f} for f in files], override_num_blocks=blocks)
        # Logical CPUs: actors take 3/4 of a CPU each, so decoding tasks always find room.
        dataset = dataset.map_batches(
            _decode_batch, batch_size=decode_batch, fn_kwargs={"options_json": decode_json},
            num_cpus=0.25,
        )  # fmt: skip
        dataset = dataset.map_batches(
            _Scorer, batch_size=score_batch, fn_constructor_kwargs={"options_json": scorer_json},
            compute=ray.data.ActorPoolStrategy(size=pool),
            num_cpus=0.25 if gpus else 0.75, num_gpus=1 if gpus else 0,
        )  # fmt: skip
        for batch in dataset.iter_batches(batch_size=None, batch_format="numpy"):
            for text in batch["row"]:
                yield json.loads(text)
    finally:
        if started_here:
            ray.shutdown()


def _input_policy(options):
    """The input policy the detector will use (decoding must cut inputs the same way)."""
    from voxlab import pretrained
    from voxlab.detection.policies import InputPolicy

    if options.checkpoint is None and options.model in pretrained.names():
        # Catalogue models take the official 4.04-s input: the Detector keeps the policy.
        return InputPolicy(name=options.policy or "auto")
    return options.detector().policy
