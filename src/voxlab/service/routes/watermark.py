"""``POST /v1/watermark/detect`` and ``/v1/watermark/embed``, with the server's key.

The key is held server-side (``watermark_key`` in the serve config); it is never sent to
clients. Only its public id appears in results.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from fastapi import APIRouter, BackgroundTasks, Depends, File, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse

from voxlab.errors import AudioError, DurationError
from voxlab.service.auth import require_token
from voxlab.service.routes._common import read_upload, state_of
from voxlab.service.uploads import PayloadTooLargeError, UnsupportedMediaError

router = APIRouter(prefix="/v1/watermark", tags=["watermark"])

#: Output container per sniffed input container (embedding keeps the format when it can).
OUTPUT_SUFFIX = {"wav": ".wav", "flac": ".flac", "ogg": ".ogg", "mp3": ".mp3", "m4a": ".m4a"}


def _spool(state, data: bytes, suffix: str) -> Path:
    handle, name = tempfile.mkstemp(suffix=suffix, dir=state.work_dir("tmp"))
    with os.fdopen(handle, "wb") as out:
        out.write(data)
    return Path(name)


@router.post("/detect", summary="Look for voxlab's watermark and the AI-generated tag")
async def watermark_detect(
    request: Request,
    file: UploadFile | None = File(None, description="The audio (or the raw body)."),
    _token=Depends(require_token),
) -> dict:
    """The watermark detection row for one upload.

    Fields: marked, score (z), p_value, payload (when its CRC matched), crc_ok, marked
    segments in seconds, ai_label and the label text.
    """
    from voxlab.watermark import detect_file

    state = state_of(request)
    data, name, kind = await read_upload(request, file)
    path = _spool(state, data, f".{kind}")
    try:
        item = await run_in_threadpool(
            detect_file, path, state.watermark_key(), max_seconds=state.config.max_seconds
        )
    except DurationError as exc:
        raise PayloadTooLargeError(f"{name}: {exc}".replace(str(path), name)) from None
    except AudioError as exc:
        raise UnsupportedMediaError(f"{name}: {exc}".replace(f"{path}: ", "")) from None
    finally:
        path.unlink(missing_ok=True)
    row = item.to_dict()
    row["path"] = name
    return row


@router.post(
    "/embed",
    summary="Embed the watermark (and the AI label); returns the marked file",
    response_class=FileResponse,
)
async def watermark_embed(
    request: Request,
    background: BackgroundTasks,
    file: UploadFile = File(..., description="The audio to mark."),
    payload: str | None = Form(None, description="32-bit payload, 8 hex digits."),
    message: str | None = Form(None, description="Text whose SHA-256 gives the payload."),
    strength: float | None = Form(None, ge=0, le=3, description="Watermark strength."),
    label: bool = Form(True, description="Write the AI-generated tag."),
    _token=Depends(require_token),
):
    """The marked file in the input's format (WAV for containers voxlab cannot write).

    The summary (payload, duration, SNR) comes in the ``X-Voxlab-Watermark`` header as JSON.
    """
    import json

    from voxlab.watermark import DEFAULT_STRENGTH, embed_file, parse_payload

    state = state_of(request)
    data, name, kind = await read_upload(request, file)
    value = parse_payload(payload=payload, message=message)
    src = _spool(state, data, f".{kind}")
    suffix = OUTPUT_SUFFIX.get(kind, ".wav")
    dst = src.with_name(src.stem + "_marked" + suffix)
    try:
        summary = await run_in_threadpool(
            embed_file, src, dst, state.watermark_key(), value,
            strength=DEFAULT_STRENGTH if strength is None else strength, label=label,
        )  # fmt: skip
    except AudioError as exc:
        dst.unlink(missing_ok=True)
        raise UnsupportedMediaError(f"{name}: {exc}".replace(f"{src}: ", "")) from None
    finally:
        src.unlink(missing_ok=True)
    background.add_task(dst.unlink, missing_ok=True)
    public = {k: summary[k] for k in ("payload", "duration", "sample_rate", "channels", "snr_db")}
    out_name = Path(name).stem + "_marked" + suffix
    return FileResponse(dst, filename=out_name, headers={"X-Voxlab-Watermark": json.dumps(public)})
