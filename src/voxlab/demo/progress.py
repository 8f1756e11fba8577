"""Overall progress of the demo: one line per stage with the elapsed time and an ETA.

The demo knows its stages and an estimate of each one's cost (from its sizes, see
:mod:`voxlab.demo.plan`). Each finished stage rescales the estimates of the ones left by
how fast this machine turned out to be (actual / estimated seconds so far), so the ETA
follows the machine's load. Lines are plain text (no carriage returns), so a log file or
a pipe reads cleanly; while a long stage runs, a heartbeat line repeats every
``heartbeat_s`` seconds with what the stage has done so far when it can tell.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


def _duration(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


class Progress:
    """Stage-by-stage progress with an ETA.

    Args:
        estimates: Stage name -> estimated seconds, in run order.
        log: Where lines go (one call per line).
        heartbeat_s: Seconds between heartbeat lines of a running stage (0: none).
        clock: Time source (seconds).
        cpu: CPU-seconds used so far (this process and its finished children), or None.
    """

    def __init__(
        self,
        estimates: dict[str, float],
        *,
        log: Callable[[str], None] = print,
        heartbeat_s: float = 60.0,
        clock: Callable[[], float] = time.perf_counter,
        cpu: Callable[[], float] | None = None,
    ) -> None:
        self.estimates = {k: max(float(v), 1.0) for k, v in estimates.items()}
        self.actual: dict[str, float] = {}
        self.cpu_used: dict[str, float] = {}
        self._cpu = cpu
        self._cpu_t0 = 0.0
        self.log = log
        self.heartbeat_s = heartbeat_s
        self.clock = clock
        self.started = clock()
        self._stage: str | None = None
        self._stage_t0 = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._counter: Callable[[], tuple[str, float | None]] | None = None

    # ------------------------------------------------------------------ estimates

    def speed(self) -> float:
        """Actual / estimated seconds over the finished stages (1.0 before any)."""
        done = [k for k in self.actual if k in self.estimates]
        if not done:
            return 1.0
        return sum(self.actual[k] for k in done) / sum(self.estimates[k] for k in done)

    def remaining(self, *, running_for: float = 0.0, done: float | None = None) -> float:
        """Estimated seconds left: the running stage's rest and every later stage.

        Args:
            running_for: Seconds the running stage has taken so far.
            done: Share of the running stage done, when it can tell (its rest is then
                extrapolated from its own pace once 5 % is done).
        """
        factor = self.speed()
        left = 0.0
        for name, est in self.estimates.items():
            if name in self.actual:
                continue
            scaled = est * factor
            if name == self._stage:
                if done is not None and done >= 0.05:
                    scaled = running_for * (1.0 - done) / done
                else:
                    scaled = max(scaled - running_for, 0.1 * scaled)
            left += scaled
        return left

    def fraction(self, *, running_for: float = 0.0, done: float | None = None) -> float:
        """Share of the whole run done (by time spent vs time still expected)."""
        spent = self.clock() - self.started
        left = self.remaining(running_for=running_for, done=done)
        return spent / max(spent + left, 1e-9)

    # ------------------------------------------------------------------ stages

    def start(
        self, name: str, what: str, *, counter: Callable[[], tuple[str, float | None]] | None = None
    ) -> None:
        """Announce a stage.

        Args:
            name: Stage name (a key of the estimates).
            what: What it does, in words.
            counter: Returns a short "done so far" text and the share of the stage done
                (or None) for the heartbeat lines.
        """
        self._stage, self._stage_t0, self._counter = name, self.clock(), counter
        self._cpu_t0 = self._cpu() if self._cpu is not None else 0.0
        index = list(self.estimates).index(name) + 1 if name in self.estimates else 0
        est = self.estimates.get(name, 0.0) * self.speed()
        self.log(
            f"[demo] [{index}/{len(self.estimates)}] {what} (about {_duration(est)}; "
            f"overall {100 * self.fraction():.0f} %, ETA {_duration(self.remaining())})"
        )
        if self.heartbeat_s > 0:
            self._stop.clear()
            self._thread = threading.Thread(target=self._beat, daemon=True)
            self._thread.start()

    def done(self, name: str, note: str = "") -> float:
        """Finish a stage; returns its seconds."""
        self._halt()
        seconds = self.clock() - self._stage_t0
        self.actual[name] = seconds
        self._stage = None
        extra = f"; {note}" if note else ""
        if self._cpu is not None:
            self.cpu_used[name] = self._cpu() - self._cpu_t0
            extra += f"; {self.cpu_used[name]:.0f} CPU-s"
        self.log(
            f"[demo] {name}: done in {_duration(seconds)}{extra} (overall "
            f"{100 * self.fraction():.0f} %, ETA {_duration(self.remaining())})"
        )
        return seconds

    def _halt(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _beat(self) -> None:
        while not self._stop.wait(self.heartbeat_s):
            running = self.clock() - self._stage_t0
            so_far, done = "", None
            if self._counter is not None:
                try:
                    text, done = self._counter()
                    so_far = f" {text};" if text else ""
                except OSError:
                    so_far, done = "", None
            self.log(
                f"[demo] ... {self._stage}:{so_far} {_duration(running)} so far (overall "
                f"{100 * self.fraction(running_for=running, done=done):.0f} %, "
                f"ETA {_duration(self.remaining(running_for=running, done=done))})"
            )

    def close(self) -> None:
        """Stop a heartbeat left running (after an error)."""
        self._halt()
