"""``/healthz``, ``/metrics`` (Prometheus text) and ``/v1/models``."""

from __future__ import annotations

import time

from fastapi import APIRouter, Depends, Request
from fastapi.responses import PlainTextResponse

from voxlab.service.auth import require_token
from voxlab.service.routes._common import state_of

router = APIRouter(tags=["system"])


@router.get("/healthz", summary="Liveness and readiness")
def healthz(request: Request) -> dict:
    """``ok`` while the database answers; the warm models and uptime."""
    from sqlalchemy import text

    state = state_of(request)
    with state.store.engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    return {
        "status": "ok",
        "models_loaded": state.pool.loaded(),
        "uptime_s": round(time.time() - state.started, 1),
    }


@router.get("/metrics", response_class=PlainTextResponse, summary="Prometheus metrics")
def metrics(request: Request) -> PlainTextResponse:
    """Requests, latency histogram, queue depth, batch sizes, model load times."""
    return PlainTextResponse(
        state_of(request).metrics.render(), media_type="text/plain; version=0.0.4"
    )


@router.get("/v1/models", tags=["detection"], summary="Models this server serves")
def models(request: Request, _token=Depends(require_token)) -> dict:
    """Catalogue entries the server allows: licence, training data, EER, threshold, loaded."""
    from voxlab import pretrained

    state = state_of(request)
    loaded = set(state.pool.loaded())
    out = []
    for name in state.pool.allowed():
        row = {
            "name": name,
            "loaded": name in loaded,
            "default": name == state.config.default_model,
        }
        if name in pretrained.names():
            entry = pretrained.get_entry(name)
            row.update(
                architecture=entry.model, license=entry.license,
                training_data=entry.training_data, eer_percent=entry.eer_percent,
                threshold=entry.threshold,
            )  # fmt: skip
        out.append(row)
    return {"models": out, "limits": state.config.public()}
