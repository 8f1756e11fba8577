"""``POST /v1/tts``: text to speech, labelled (watermark + AI-generated tag) on the way out."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from fastapi import APIRouter, BackgroundTasks, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from voxlab.service.auth import require_token
from voxlab.service.routes._common import state_of

router = APIRouter(prefix="/v1", tags=["generation"])


class TTSRequest(BaseModel):
    """What to say and how."""

    text: str = Field(..., min_length=1, max_length=2000, description="What to say.")
    voice: str = Field("en-us", description="espeak-ng voice.")
    variant: str | None = Field(None, description="Variant: f1-f5, m1-m8, klatt...")
    speed: int = Field(160, ge=80, le=450, description="Words per minute.")
    pitch: int = Field(50, ge=0, le=99, description="Base pitch.")
    format: str = Field("wav", pattern="^(wav|flac|ogg|mp3)$", description="Output format.")


@router.post("/tts", summary="Speak text; the file carries the watermark and the AI label",
             response_class=FileResponse)  # fmt: skip
async def tts(
    request: Request, body: TTSRequest, background: BackgroundTasks, _token=Depends(require_token)
):
    """Speak text with espeak-ng (16 kHz); the file is labelled.

    It carries the watermark (server key, payload naming the system) and the
    AI-generated tag. Details come in the ``X-Voxlab-Generated`` header (JSON).
    """
    from voxlab.generation.base import write_generated
    from voxlab.generation.tts import EspeakVoice, synthesize

    state = state_of(request)
    spec = EspeakVoice(voice=body.voice, variant=body.variant, speed=body.speed, pitch=body.pitch)
    generated = await run_in_threadpool(synthesize, body.text, spec)
    handle = tempfile.NamedTemporaryFile(
        suffix=f".{body.format}", dir=state.work_dir("tmp"), delete=False
    )
    handle.close()
    out = Path(handle.name)
    await run_in_threadpool(
        write_generated, generated, out, metadata={"comment": f"voxlab serve tts {spec.name}"},
        watermark=True, key=state.watermark_key(),
    )  # fmt: skip
    background.add_task(out.unlink, missing_ok=True)
    info = {
        "system": generated.system, "voice": spec.name, "duration": round(generated.duration, 3),
        "sample_rate": generated.sample_rate, "watermarked": True, "ai_label": True,
    }  # fmt: skip
    return FileResponse(
        out, filename=f"voxlab-tts.{body.format}", headers={"X-Voxlab-Generated": json.dumps(info)}
    )
