"""Run ``voxlab serve`` as a real subprocess on a free loopback port (tests, benchmarks)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from voxlab.errors import VoxlabError


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def create_token(data_dir: str | os.PathLike, name: str = "test", *, env=None) -> str:
    """Run ``voxlab serve token create`` and return its last stdout line (the token)."""
    out = subprocess.run(
        [sys.executable, "-m", "voxlab", "serve", "token", "create", "--name", name,
         "--data-dir", str(data_dir)],
        check=True, capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    return out.stdout.strip().splitlines()[-1]


class ServerProcess:
    """``voxlab serve`` on 127.0.0.1 in a subprocess; a context manager.

    Args:
        data_dir: The server's ``--data-dir``.
        env: Extra environment (``VOXLAB_SERVE_*`` settings, ``VOXLAB_MODEL_DIR``...).
        port: Port (a free one when None).
        args: Extra command-line arguments.
        log: File receiving the server's stderr/stdout.
    """

    def __init__(
        self,
        data_dir: str | os.PathLike,
        *,
        env: dict[str, str] | None = None,
        port: int | None = None,
        args: list[str] | None = None,
        log: str | os.PathLike | None = None,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.env = {**os.environ, **(env or {})}
        self.port = port or free_port()
        self.args = list(args or [])
        self.log_path = Path(log) if log else self.data_dir / "server.log"
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:8123``."""
        return f"http://127.0.0.1:{self.port}"

    def start(self, *, timeout: float = 120.0) -> ServerProcess:
        """Start the server and wait until ``/healthz`` answers."""
        import httpx

        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "voxlab", "serve", "--host", "127.0.0.1",
             "--port", str(self.port), "--data-dir", str(self.data_dir), *self.args],
            stdout=log, stderr=subprocess.STDOUT, env=self.env,
        )  # fmt: skip
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise VoxlabError(
                    f"voxlab serve exited with {self.proc.returncode}; see {self.log_path}:\n"
                    + self.log_path.read_text(errors="replace")[-2000:]
                )
            try:
                if httpx.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.kill()
        raise VoxlabError(f"voxlab serve did not answer within {timeout:g} s; see {self.log_path}")

    def kill(self) -> None:
        """``kill -9`` the server (no shutdown handlers run)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(30)

    def stop(self, *, timeout: float = 60.0) -> int | None:
        """SIGTERM (graceful shutdown), then SIGKILL after ``timeout``; the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.proc.returncode

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
