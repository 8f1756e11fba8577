"""The FastAPI application behind ``voxlab serve``: state, middleware, errors, routers.

Build it with :func:`create_app`; run it with uvicorn (``voxlab serve`` does). Models,
the job store, the batchers and the job worker live in one :class:`ServiceState` on
``app.state.voxlab``; they start in the lifespan and stop gracefully (queued requests
answered, the running job checkpointed) when the server shuts down.
"""

from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from voxlab._version import __version__
from voxlab.errors import AudioError, ConfigError, DurationError, VoxlabError
from voxlab.service.auth import RateLimiter
from voxlab.service.batching import QueueFullError
from voxlab.service.config import ServiceConfig
from voxlab.service.jobs import JobRunner
from voxlab.service.metrics import Metrics
from voxlab.service.models import ModelPool
from voxlab.service.store import JobStore
from voxlab.service.uploads import ForbiddenPathError, PayloadTooLargeError, UnsupportedMediaError

logger = logging.getLogger("voxlab.service")
STATIC_DIR = Path(__file__).parent / "static"


@dataclass
class ServiceState:
    """Everything the routes share."""

    config: ServiceConfig
    store: JobStore
    pool: ModelPool
    metrics: Metrics
    limiter: RateLimiter
    runner: JobRunner
    started: float

    def watermark_key(self):
        """The server-side watermark key (never sent to clients)."""
        from voxlab.watermark import WatermarkKey
        from voxlab.watermark.provenance import generation_key

        if self.config.watermark_key is not None:
            return WatermarkKey.load(self.config.watermark_key)
        return generation_key()

    def work_dir(self, name: str) -> Path:
        """A folder under the data directory (created)."""
        path = Path(self.config.data_dir) / name
        path.mkdir(parents=True, exist_ok=True)
        return path


def build_state(config: ServiceConfig) -> ServiceState:
    """Open the store and prepare (not yet load) the models and the job worker."""
    Path(config.data_dir).mkdir(parents=True, exist_ok=True)
    metrics = Metrics()
    store = JobStore(config.url)
    pool = ModelPool(config, metrics)
    runner = JobRunner(
        store, pool, chunk=config.job_chunk, max_seconds=config.max_seconds,
        on_file=lambda status: metrics.files_scored.inc(status=status),
    )  # fmt: skip
    return ServiceState(
        config=config, store=store, pool=pool, metrics=metrics,
        limiter=RateLimiter(config.rate_limit_per_minute), runner=runner, started=time.time(),
    )  # fmt: skip


def _status_for(exc: VoxlabError) -> int:
    if isinstance(exc, QueueFullError):
        return 429
    if isinstance(exc, (PayloadTooLargeError, DurationError)):
        return 413
    if isinstance(exc, (UnsupportedMediaError, AudioError)):
        return 415
    if isinstance(exc, ForbiddenPathError):
        return 403
    if isinstance(exc, ConfigError):
        return 400
    return 400


def create_app(config: ServiceConfig | None = None, *, preload: bool = True) -> FastAPI:
    """The voxlab web application.

    Args:
        config: Service configuration (defaults when None).
        preload: Load the default model at startup (so the first request is warm).

    Returns:
        A FastAPI app; run it with ``uvicorn.run(app)`` or ``voxlab serve``.
    """
    from voxlab.service.routes import detect, jobs, system, tts, watermark

    config = config or ServiceConfig()
    state = build_state(config)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        if preload:
            try:
                state.pool.get(config.default_model)
            except VoxlabError as exc:  # serve anyway; requests for it will say why
                logger.warning("default model not loaded", extra={"error": str(exc)})
        state.runner.start()
        logger.info("service started", extra={"data_dir": str(config.data_dir)})
        try:
            yield
        finally:
            logger.info("shutting down: checkpointing jobs, finishing queued requests")
            state.runner.stop()
            state.pool.close()
            state.store.close()
            logger.info("service stopped")

    app = FastAPI(
        title="voxlab",
        version=__version__,
        description=(
            "Detect synthetic speech, detect and embed watermarks, generate labelled "
            "speech, and run durable batch jobs. Send `Authorization: Bearer TOKEN` on "
            "every /v1 route (tokens: `voxlab serve token create --name NAME`)."
        ),
        lifespan=lifespan,
    )
    app.state.voxlab = state

    @app.middleware("http")
    async def observe(request: Request, call_next):
        start = time.perf_counter()
        length = request.headers.get("content-length")
        limit = config.max_upload_bytes * (64 if request.url.path == "/v1/jobs" else 1) + 65536
        if length is not None and length.isdigit() and int(length) > limit:
            response = JSONResponse(
                {"detail": f"request body of {int(length)} bytes is over the limit of "
                           f"{config.max_upload_mb:g} MiB per file", "error": "too_large"},
                status_code=413,
            )  # fmt: skip
        else:
            response = await call_next(request)
        seconds = time.perf_counter() - start
        route = request.scope.get("route")
        template = getattr(route, "path", None) or (
            "static" if request.url.path.startswith("/ui") else "unmatched"
        )
        state.metrics.requests.inc(
            route=template, method=request.method, status=str(response.status_code)
        )
        state.metrics.latency.observe(seconds, route=template)
        logger.info(
            "request",
            extra={
                "method": request.method, "path": request.url.path, "route": template,
                "status": response.status_code, "ms": round(seconds * 1000, 2),
                "token": getattr(request.state, "token_name", None),
            },
        )  # fmt: skip
        return response

    @app.exception_handler(VoxlabError)
    async def voxlab_error(request: Request, exc: VoxlabError):
        status = _status_for(exc)
        headers = {}
        if isinstance(exc, QueueFullError):
            state.metrics.rejected.inc(reason="queue_full")
            headers["Retry-After"] = str(exc.retry_after)
        return JSONResponse(
            {"detail": str(exc), "error": type(exc).__name__}, status_code=status, headers=headers
        )

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException):
        return JSONResponse(
            {"detail": exc.detail, "error": "http"},
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    for module in (detect, watermark, tts, jobs, system):
        app.include_router(module.router)

    @app.get("/", include_in_schema=False)
    async def home():
        return RedirectResponse("/ui/")

    app.mount("/ui", StaticFiles(directory=STATIC_DIR, html=True), name="ui")
    return app
