"""Dynamic batching: concurrent requests share one model forward, on a worker thread.

Requests put their model inputs (one or several equal-length windows) in a bounded queue
and get a :class:`~concurrent.futures.Future`. One worker thread per model takes the
oldest request, waits up to ``max_wait_ms`` for more inputs of the same length to reach
``max_batch``, stacks them, runs one forward pass and hands each request its rows. The
event loop never runs the model. When the queue is full, :meth:`DynamicBatcher.submit`
raises :class:`QueueFullError` (the API answers 429 with ``Retry-After``) instead of
letting memory grow.
"""

from __future__ import annotations

import collections
import logging
import math
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field

import numpy as np

from voxlab.errors import VoxlabError

logger = logging.getLogger(__name__)


class QueueFullError(VoxlabError):
    """The inference queue is full; retry after :attr:`retry_after` seconds."""

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(eq=False)  # identity: removing one request must not compare arrays
class _Request:
    inputs: np.ndarray
    future: Future
    enqueued: float = field(default_factory=time.monotonic)


class DynamicBatcher:
    """Groups model inputs from concurrent callers into batched forwards.

    Args:
        forward: Maps a batch of equal-length inputs to outputs row by row.
            Shape: ``(batch, time) -> (batch, ...)``.
        max_batch: Most inputs per forward (a single larger request runs alone).
        max_wait_ms: How long the oldest request may wait for company.
        queue_size: Most inputs waiting; more raises :class:`QueueFullError`.
        name: Name for logs and the thread.
        on_batch: Called after each forward with ``(n_inputs, seconds)`` (metrics).
    """

    def __init__(
        self,
        forward: Callable[[np.ndarray], np.ndarray],
        *,
        max_batch: int = 16,
        max_wait_ms: float = 10.0,
        queue_size: int = 64,
        name: str = "model",
        on_batch: Callable[[int, float], None] | None = None,
    ) -> None:
        self.forward = forward
        self.max_batch = max_batch
        self.max_wait = max_wait_ms / 1000.0
        self.queue_size = queue_size
        self.name = name
        self.on_batch = on_batch
        self._queue: collections.deque[_Request] = collections.deque()
        self._pending = 0  # inputs waiting in the queue
        self._cond = threading.Condition()
        self._stopping = False
        self._rate = 0.0  # inputs per second, smoothed (for Retry-After)
        self._thread = threading.Thread(target=self._loop, name=f"batcher-{name}", daemon=True)
        self._thread.start()

    @property
    def depth(self) -> int:
        """Inputs waiting in the queue."""
        return self._pending

    def retry_after(self) -> int:
        """Seconds after which a refused request may find room (at least 1)."""
        if self._rate <= 0:
            return 1
        return max(1, math.ceil(self._pending / self._rate))

    def submit(
        self,
        inputs: Sequence[np.ndarray] | np.ndarray,
        *,
        block: bool = False,
        limit: int | None = None,
    ) -> Future:
        """Queue equal-length inputs; the future gives their outputs in order.

        Args:
            inputs: Model inputs. Shape: ``(n, time)``.
            block: Wait for room instead of raising (background jobs).
            limit: Queue depth this caller may fill up to (default: the whole queue);
                background jobs use less so that interactive requests keep room.

        Raises:
            QueueFullError: No room and ``block`` is False.
            RuntimeError: The batcher is shut down.
        """
        batch = np.ascontiguousarray(
            np.stack(list(inputs)) if not isinstance(inputs, np.ndarray) else inputs,
            dtype=np.float32,
        )
        if batch.ndim != 2 or batch.shape[0] == 0:
            raise ValueError(f"inputs must be (n, time) with n >= 1, got {batch.shape}")
        cap = min(self.queue_size, limit or self.queue_size)
        n = batch.shape[0]
        future: Future = Future()
        with self._cond:
            while True:
                if self._stopping:
                    raise RuntimeError(f"the {self.name} batcher is shut down")
                # A request larger than the queue may enter an empty queue.
                if self._pending == 0 or self._pending + n <= cap:
                    break
                if not block:
                    raise QueueFullError(
                        f"the {self.name} inference queue is full ({self._pending} inputs "
                        "waiting); retry later",
                        retry_after=self.retry_after(),
                    )
                self._cond.wait(0.5)
            self._queue.append(_Request(batch, future))
            self._pending += n
            self._cond.notify_all()
        return future

    def _take(self) -> list[_Request] | None:
        with self._cond:
            while not self._queue:
                if self._stopping:
                    return None
                self._cond.wait()
            deadline = self._queue[0].enqueued + self.max_wait
            length = self._queue[0].inputs.shape[1]
            while True:
                ready = sum(r.inputs.shape[0] for r in self._queue if r.inputs.shape[1] == length)
                remaining = deadline - time.monotonic()
                if ready >= self.max_batch or remaining <= 0 or self._stopping:
                    break
                self._cond.wait(remaining)
            taken: list[_Request] = []
            count = 0
            for request in list(self._queue):
                if request.inputs.shape[1] != length:
                    continue
                if taken and count + request.inputs.shape[0] > self.max_batch:
                    break
                taken.append(request)
                count += request.inputs.shape[0]
            for request in taken:
                self._queue.remove(request)
            self._pending -= count
            self._cond.notify_all()
            return taken

    def _loop(self) -> None:
        while True:
            taken = self._take()
            if taken is None:
                return
            live = [r for r in taken if r.future.set_running_or_notify_cancel()]
            if not live:
                continue
            stacked = np.concatenate([r.inputs for r in live])
            start = time.perf_counter()
            try:
                outputs = np.asarray(self.forward(stacked))
            except Exception as exc:  # hand the failure to every caller of this batch
                logger.warning("%s forward failed on %d inputs: %s", self.name, len(stacked), exc)
                for request in live:
                    request.future.set_exception(exc)
                continue
            seconds = time.perf_counter() - start
            rate = len(stacked) / max(seconds, 1e-6)
            self._rate = rate if self._rate == 0 else 0.8 * self._rate + 0.2 * rate
            if self.on_batch is not None:
                self.on_batch(len(stacked), seconds)
            offset = 0
            for request in live:
                n = request.inputs.shape[0]
                request.future.set_result(outputs[offset : offset + n])
                offset += n

    def close(self, *, timeout: float | None = 30.0) -> None:
        """Finish the queued requests, then stop the worker thread."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        # _take keeps returning queued work until the queue is empty.
        self._thread.join(timeout)
