"""Thread settings for numpy work: BLAS on one thread where its products are small.

numpy's matrix products go to a multi-threaded BLAS (OpenBLAS). For the small products of
voxlab's signal code (a few hundred frames times a few dozen bands) waking the BLAS
threads costs more than the arithmetic, and on a busy machine, where those threads wait
for a core, much more: the watermark detector took 1.5-2.0 s on a 5-s file at load 3.4
with the default threads and 0.55 s on one (``benchmarks/cli_startup.py`` prints the
in-process figure). One thread also keeps results bit-identical whatever the machine and
its thread settings, since BLAS may split its sums differently for different thread counts.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypeVar

F = TypeVar("F", bound=Callable)


def one_blas_thread():
    """Context in which BLAS (numpy's matrix products) runs on one thread."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


def on_one_blas_thread(func: F) -> F:
    """Decorator: ``func`` runs inside :func:`one_blas_thread`."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with one_blas_thread():
            return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
