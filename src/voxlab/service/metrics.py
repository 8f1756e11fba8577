"""Prometheus metrics in the text exposition format (version 0.0.4), without dependencies.

Counters, gauges and histograms with labels, thread-safe, rendered by ``GET /metrics``.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence

#: Request latency buckets in seconds (Prometheus' defaults, extended for slow models).
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(names: Sequence[str], values: Sequence[str], extra: str = "") -> str:
    parts = [f'{n}="{_escape(str(v))}"' for n, v in zip(names, values)]
    if extra:
        parts.append(extra)
    return "{" + ",".join(parts) + "}" if parts else ""


def _number(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


class _Metric:
    kind = "untyped"

    def __init__(self, name: str, help_text: str, labels: Sequence[str] = ()) -> None:
        self.name = name
        self.help = help_text
        self.label_names = tuple(labels)
        self._lock = threading.Lock()

    def header(self) -> list[str]:
        return [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} {self.kind}"]


class Counter(_Metric):
    """A monotonically increasing count."""

    kind = "counter"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._values: dict[tuple[str, ...], float] = {}

    def inc(self, amount: float = 1.0, **labels: str) -> None:
        """Add ``amount`` to the series with ``labels``."""
        key = tuple(str(labels[n]) for n in self.label_names)
        with self._lock:
            self._values[key] = self._values.get(key, 0.0) + amount

    def value(self, **labels: str) -> float:
        """Current value of one series."""
        return self._values.get(tuple(str(labels[n]) for n in self.label_names), 0.0)

    def render(self) -> list[str]:
        """Lines of the text exposition format."""
        with self._lock:
            items = sorted(self._values.items())
        return self.header() + [
            f"{self.name}{_labels(self.label_names, k)} {_number(v)}" for k, v in items
        ]


class Gauge(_Metric):
    """A value read when scraped (from a callback) or set explicitly."""

    kind = "gauge"

    def __init__(self, *args, read: Callable[[], dict[tuple[str, ...], float]] | None = None, **kw):
        super().__init__(*args, **kw)
        self._values: dict[tuple[str, ...], float] = {}
        self._read = read

    def set(self, value: float, **labels: str) -> None:
        """Set the series with ``labels``."""
        with self._lock:
            self._values[tuple(str(labels[n]) for n in self.label_names)] = float(value)

    def render(self) -> list[str]:
        """Lines of the text exposition format."""
        with self._lock:
            values = dict(self._values)
        if self._read is not None:
            values.update(self._read())
        return self.header() + [
            f"{self.name}{_labels(self.label_names, k)} {_number(v)}"
            for k, v in sorted(values.items())
        ]


class Histogram(_Metric):
    """Observations counted in cumulative buckets, with their sum and count."""

    kind = "histogram"

    def __init__(self, *args, buckets: Sequence[float] = LATENCY_BUCKETS, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.buckets = tuple(sorted(buckets))
        self._series: dict[tuple[str, ...], list[float]] = {}

    def observe(self, value: float, **labels: str) -> None:
        """Record one observation."""
        key = tuple(str(labels[n]) for n in self.label_names)
        with self._lock:
            series = self._series.setdefault(key, [0.0] * (len(self.buckets) + 2))
            for i, bound in enumerate(self.buckets):
                if value <= bound:
                    series[i] += 1
            series[-2] += value
            series[-1] += 1

    def render(self) -> list[str]:
        """Lines of the text exposition format."""
        lines = self.header()
        with self._lock:
            items = sorted((k, list(v)) for k, v in self._series.items())
        for key, series in items:
            for bound, count in zip(self.buckets, series):
                le = f'le="{_number(bound)}"'
                lines.append(
                    f"{self.name}_bucket{_labels(self.label_names, key, le)} {_number(count)}"
                )
            inf = _labels(self.label_names, key, 'le="+Inf"')
            lines.append(f"{self.name}_bucket{inf} {_number(series[-1])}")
            lines.append(f"{self.name}_sum{_labels(self.label_names, key)} {_number(series[-2])}")
            lines.append(f"{self.name}_count{_labels(self.label_names, key)} {_number(series[-1])}")
        return lines


class Metrics:
    """The service's metrics, rendered together."""

    def __init__(self) -> None:
        self.requests = Counter(
            "voxlab_http_requests_total", "HTTP requests by route, method and status.",
            ("route", "method", "status"),
        )  # fmt: skip
        self.latency = Histogram(
            "voxlab_http_request_duration_seconds", "HTTP request latency by route.", ("route",)
        )
        self.rejected = Counter(
            "voxlab_rejected_total", "Requests refused (reason: queue_full, rate_limit...).",
            ("reason",),
        )  # fmt: skip
        self.batch_size = Histogram(
            "voxlab_batch_inputs", "Model inputs per batched forward.", ("model",),
            buckets=(1, 2, 4, 8, 16, 32, 64),
        )  # fmt: skip
        self.forward_seconds = Histogram(
            "voxlab_forward_seconds", "Seconds per batched forward.", ("model",)
        )
        self.model_load_seconds = Gauge(
            "voxlab_model_load_seconds", "Seconds it took to load each model.", ("model",)
        )
        self.files_scored = Counter(
            "voxlab_job_files_total", "Job files finished, by status.", ("status",)
        )
        self.queue_depth = Gauge(
            "voxlab_queue_depth", "Model inputs waiting in each batcher queue.", ("model",)
        )
        self.models_loaded = Gauge("voxlab_models_loaded", "Models loaded and warm.")
        self._all: list[_Metric] = [
            self.requests, self.latency, self.rejected, self.batch_size, self.forward_seconds,
            self.model_load_seconds, self.files_scored, self.queue_depth, self.models_loaded,
        ]  # fmt: skip

    def render(self) -> str:
        """All metrics in the Prometheus text format."""
        lines: list[str] = []
        for metric in self._all:
            lines.extend(metric.render())
        return "\n".join(lines) + "\n"
