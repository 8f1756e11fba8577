"""The job worker: scores the files of queued jobs, commits results chunk by chunk.

Jobs and their files live in the database, so the worker keeps no state of its own: it
asks for the files of the oldest unfinished job that have no result yet, scores a chunk
of them through the model's batcher (sharing forwards with interactive requests, but
leaving them half of the queue), and commits the chunk's rows in one transaction. After
a crash (``kill -9``) the next start simply continues: finished files are not redone,
and a chunk scored but not committed is scored again and inserted once.
"""

from __future__ import annotations

import logging
import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from voxlab.detection.results import DetectionResult
from voxlab.errors import VoxlabError
from voxlab.service.models import ModelPool, decode, result_dict, submit
from voxlab.service.store import JobStore

logger = logging.getLogger(__name__)


class JobRunner:
    """A background thread that works through unfinished jobs, oldest first.

    Args:
        store: The job database.
        pool: Warm models.
        chunk: Files scored and committed at a time.
        max_seconds: Longest audio accepted per file.
        on_file: Called with each finished row's status (metrics).
    """

    def __init__(
        self,
        store: JobStore,
        pool: ModelPool,
        *,
        chunk: int = 16,
        max_seconds: float | None = None,
        on_file=None,
    ) -> None:
        self.store = store
        self.pool = pool
        self.chunk = chunk
        self.max_seconds = max_seconds
        self.on_file = on_file
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="job-runner", daemon=True)

    def start(self) -> None:
        """Start working (resuming any job a previous run left unfinished)."""
        self._thread.start()

    def wake(self) -> None:
        """Look for new work now."""
        self._wake.set()

    def stop(self, *, timeout: float | None = 60.0) -> None:
        """Finish and commit the current chunk, then stop (the job resumes next start)."""
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _loop(self) -> None:
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="job-decode") as decoders:
            while not self._stop.is_set():
                try:
                    pending = self.store.unfinished_jobs()
                except Exception:  # database hiccup: log, wait, retry
                    logger.exception("cannot list unfinished jobs")
                    pending = []
                if not pending:
                    self._wake.wait(1.0)
                    self._wake.clear()
                    continue
                self._run_job(pending[0], decoders)

    def _run_job(self, job_id: str, decoders: ThreadPoolExecutor) -> None:
        job = self.store.job(job_id)
        if job is None:
            return
        if job["status"] == "queued":
            logger.info("job started", extra={"job": job_id, "total": job["total"]})
        else:
            logger.info("job resumed", extra={"job": job_id, "done": job["done"]})
        self.store.set_status(job_id, "running")
        try:
            loaded = self.pool.get(job["model"])
            detector = loaded.for_policy(job["policy"])
        except VoxlabError as exc:
            self.store.set_status(job_id, "failed", error=str(exc))
            logger.warning("job failed", extra={"job": job_id, "error": str(exc)})
            return
        segments = bool(job["segments"])
        limit = max(1, loaded.batcher.queue_size // 2)
        while not self._stop.is_set():
            batch = self.store.pending_items(job_id, limit=self.chunk)
            if not batch:
                break

            def read(item, det=detector):
                try:
                    return decode(det, item.path, max_seconds=self.max_seconds)
                except VoxlabError as exc:
                    return exc
                except Exception as exc:  # one odd file never stops the job
                    return VoxlabError(f"{item.name}: unexpected {type(exc).__name__}: {exc}")

            decoded = list(decoders.map(read, batch))
            futures = [
                None if isinstance(d, Exception) else submit(loaded, d, block=True, limit=limit)
                for d in decoded
            ]
            rows = []
            for item, data, futs in zip(batch, decoded, futures):
                if futs is None:
                    row = DetectionResult.failed(item.name, str(data), model=detector.name)
                    row = row.to_dict()
                else:
                    try:
                        logits = np.concatenate([f.result() for f in futs])
                        row = result_dict(
                            detector, logits, data, path=item.name, segments=segments,
                            calibration=loaded.calibration,
                        )  # fmt: skip
                    except Exception as exc:
                        message = f"{item.name}: the model failed on this input: {exc}"
                        row = DetectionResult.failed(item.name, message, model=detector.name)
                        row = row.to_dict()
                rows.append((item.idx, row))
            new = self.store.add_results(job_id, rows)
            if self.on_file is not None:
                for _, row in rows[:new]:
                    self.on_file(row["status"])
        if self._stop.is_set():
            logger.info("job checkpointed for shutdown", extra={"job": job_id})
            return
        self.store.set_status(job_id, "done")
        logger.info("job done", extra={"job": job_id})
        upload_dir = job["source"].get("upload_dir")
        if upload_dir:
            shutil.rmtree(Path(upload_dir), ignore_errors=True)
