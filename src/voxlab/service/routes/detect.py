"""``POST /v1/detect``: the JSON row ``voxlab detect --format json`` gives for one upload."""

from __future__ import annotations

import asyncio

import numpy as np
from fastapi import APIRouter, Depends, File, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool

from voxlab.errors import AudioError, DurationError
from voxlab.service.auth import require_token
from voxlab.service.models import decode, result_dict, submit
from voxlab.service.routes._common import read_upload, state_of
from voxlab.service.uploads import PayloadTooLargeError, UnsupportedMediaError

router = APIRouter(prefix="/v1", tags=["detection"])


@router.post("/detect", summary="Is this audio synthetic?")
async def detect(
    request: Request,
    file: UploadFile | None = File(None, description="The audio (or send it as the raw body)."),
    model: str | None = Query(None, description="Model name (GET /v1/models)."),
    policy: str | None = Query(
        None, description="auto (default, as voxlab detect), official, full or windows."
    ),
    segments: bool = Query(False, description="Add per-window scores."),
    window: float = Query(4.0375, gt=0, description="Window (s), windows policy."),
    hop: float = Query(2.0, gt=0, description="Hop (s), windows policy."),
    filename: str | None = Query(None, description="Name to report for a raw-body upload."),
    _token=Depends(require_token),
) -> dict:
    """Score one file; the answer is the row `voxlab detect --format json` prints for it.

    Fields: path, status, score (bona fide logit; higher = more bona fide), logits
    ``[spoof, bona fide]``, p_spoof, verdict, threshold, duration, model, policy, score_min,
    and segments when asked. Not audio: 415; too large or too long: 413; queue full: 429.
    """
    state = state_of(request)
    data, name, _ = await read_upload(request, file, filename=filename)
    loaded = await run_in_threadpool(state.pool.get, model)
    detector = loaded.for_policy(policy, window=window, hop=hop)
    try:
        decoded = await run_in_threadpool(
            decode, detector, data, max_seconds=state.config.max_seconds
        )
    except DurationError as exc:
        raise PayloadTooLargeError(f"{name}: {_reason(exc)}") from None
    except AudioError as exc:
        raise UnsupportedMediaError(f"{name}: cannot decode the audio: {_reason(exc)}") from None
    futures = submit(loaded, decoded)
    outputs = [await asyncio.wrap_future(f) for f in futures]
    return result_dict(
        detector, np.concatenate(outputs), decoded, path=name, segments=segments,
        calibration=loaded.calibration,
    )  # fmt: skip


def _reason(exc: Exception) -> str:
    """The error message without the decoder's name for in-memory input."""
    text = str(exc)
    for prefix in ("<bytes>: ", "<memory>: ", "bytes: "):
        text = text.removeprefix(prefix)
    return text
