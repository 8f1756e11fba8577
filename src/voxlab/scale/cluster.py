"""A throwaway single-node Ray cluster on this machine (tests, benchmarks, trying things out).

``ray start --head --block`` runs in its own process group, so that stopping it ends
exactly the processes it started (no machine-wide ``ray stop``).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from voxlab.errors import ConfigError


@contextlib.contextmanager
def local_cluster(
    temp_dir: str | os.PathLike | None = None,
    *,
    num_cpus: int = 2,
    object_store_mb: int = 200,
    timeout: float = 120.0,
) -> Iterator[str]:
    """Start a head node on this machine; yields its address (``HOST:PORT``).

    Token authentication and usage statistics are switched off for it (the environment
    of this process is changed while the cluster runs, so that drivers here connect).

    Args:
        temp_dir: Ray's session folder; a short new one under /tmp when None (Ray's
            socket paths must stay under the 107-character limit of Unix sockets).
        num_cpus: Logical CPUs the node offers.
        object_store_mb: Object store size.
        timeout: Seconds to wait for the cluster to accept drivers.

    Raises:
        ConfigError: Ray is missing or the cluster did not come up.
    """
    try:
        import ray
    except ImportError as exc:
        raise ConfigError("a local Ray cluster needs ray: pip install 'voxlab[scale]'") from exc
    from voxlab.service.testing import free_port

    port = free_port()
    saved = {k: os.environ.get(k) for k in ("RAY_AUTH_MODE", "RAY_USAGE_STATS_ENABLED")}
    os.environ.update(RAY_AUTH_MODE="disabled", RAY_USAGE_STATS_ENABLED="0")
    if temp_dir is None:
        import tempfile

        temp_dir = tempfile.mkdtemp(prefix="vxray", dir="/tmp")
    Path(temp_dir).mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        [sys.executable, "-m", "ray.scripts.scripts", "start", "--head", "--block",
         "--node-ip-address", "127.0.0.1", "--port", str(port), "--num-cpus", str(num_cpus),
         "--include-dashboard", "false", "--object-store-memory",
         str(object_store_mb * 1024**2), "--temp-dir", str(Path(temp_dir).resolve())],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    address = f"127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while not _listening(port):  # ray.init waits long on a dead address: check first
            if time.monotonic() > deadline or proc.poll() is not None:
                raise ConfigError(
                    f"the local Ray cluster did not start (exit code {proc.poll()}); "
                    f"see {temp_dir}/session_latest/logs"
                )
            time.sleep(0.5)
        while True:
            try:
                ray.init(address=address, include_dashboard=False, log_to_driver=False)
                ray.shutdown()
                break
            except (ConnectionError, RuntimeError) as exc:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise ConfigError(f"the local Ray cluster did not start: {exc}") from None
                time.sleep(1)
        yield address
    finally:
        # `ray start --block` stops an idle node itself on SIGTERM (~2 s), but one that ran
        # jobs waits for each worker's graceful exit (> 15 s measured); after a short grace
        # period the whole group is killed (its workers exit when their raylet is gone).
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(3)
        except subprocess.TimeoutExpired:
            pass
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(30)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _listening(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        sock.settimeout(1.0)
        return sock.connect_ex(("127.0.0.1", port)) == 0
