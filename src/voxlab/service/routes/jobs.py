"""``/v1/jobs``: durable batch jobs over uploads or an allow-listed server folder."""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

from fastapi import (
    APIRouter,
    Depends,
    File,
    Form,
    Header,
    HTTPException,
    Query,
    Request,
    UploadFile,
)
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, StreamingResponse

from voxlab.detection.results import CSV_COLUMNS, judged_text
from voxlab.errors import VoxlabError
from voxlab.service.auth import require_token
from voxlab.service.routes._common import state_of
from voxlab.service.store import TokenInfo
from voxlab.service.uploads import (
    PayloadTooLargeError,
    resolve_allowed_folder,
    safe_filename,
    sniff_audio,
)

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])

#: Fields of a job clients see (no server paths).
PUBLIC_FIELDS = ("id", "status", "done", "total", "errors", "model", "policy", "error",
                 "created_at", "updated_at")  # fmt: skip


def public(job: dict) -> dict:
    """A job as clients see it: state and progress, plus where its files came from."""
    out = {k: job[k] for k in PUBLIC_FIELDS}
    source = job["source"]
    out["source"] = {"kind": source.get("kind"), "folder": source.get("folder")}
    return out


@router.post("", status_code=202, summary="Submit a batch job")
async def create_job(
    request: Request,
    files: list[UploadFile] | None = File(None, description="One or more audio files."),
    folder: str | None = Form(None, description="A server-side folder the admin allowed."),
    model: str | None = Form(None, description="Model name (default: the server's)."),
    policy: str | None = Form(None, description="official, full or windows."),
    segments: bool = Form(False, description="Add per-window scores."),
    idempotency_key: str | None = Header(None, description="Resubmitting returns the same job."),
    token: TokenInfo = Depends(require_token),
):
    """Queue a job; returns ``{"id": ...}`` at once (202). Poll ``GET /v1/jobs/{id}``.

    Send multipart ``files`` and/or a ``folder`` inside ``allowed_folders``. A repeated
    ``Idempotency-Key`` returns the first job (200) instead of making a new one.
    """
    from voxlab.audio.discovery import find_audio_files
    from voxlab.detection.policies import POLICIES

    state = state_of(request)
    config = state.config
    if idempotency_key is not None:
        existing = await run_in_threadpool(state.store.find_idempotent, token.id, idempotency_key)
        if existing is not None:
            return JSONResponse({"id": existing, "created": False}, status_code=200)
    if policy is not None and policy not in POLICIES:
        raise VoxlabError(f"unknown policy {policy!r}; choose one of {', '.join(POLICIES)}")
    model = model or config.default_model
    if model not in state.pool.allowed():
        raise VoxlabError(f"model {model!r} is not served here; see GET /v1/models")
    entries: list[tuple[str, str]] = []
    source: dict = {"kind": "upload" if files else "folder"}
    if folder:
        root = await run_in_threadpool(resolve_allowed_folder, folder, config.allowed_folders)
        found = await run_in_threadpool(find_audio_files, [root])
        entries += [(str(p), str(p.relative_to(root))) for p in found]
        source["folder"] = folder
    if files:
        upload_dir = state.work_dir("uploads") / uuid.uuid4().hex
        upload_dir.mkdir()
        source["upload_dir"] = str(upload_dir)
        try:
            for index, upload in enumerate(files):
                entries.append(await _save(upload, upload_dir, index, config))
        except VoxlabError:
            await run_in_threadpool(_remove, upload_dir)
            raise
    if not entries:
        raise HTTPException(422, "send one or more multipart 'files', or a 'folder'")
    if len(entries) > config.max_job_files:
        raise PayloadTooLargeError(
            f"{len(entries)} files is over the limit of {config.max_job_files} per job"
        )
    job_id, created = await run_in_threadpool(
        lambda: state.store.create_job(
            entries, model=model, policy=policy, segments=segments, source=source,
            token_id=token.id, idempotency_key=idempotency_key,
        )
    )  # fmt: skip
    if not created and "upload_dir" in source:
        await run_in_threadpool(_remove, Path(source["upload_dir"]))
    state.runner.wake()
    return JSONResponse(
        {"id": job_id, "created": created, "total": len(entries), "status": "queued"},
        status_code=202 if created else 200,
    )


async def _save(upload: UploadFile, folder: Path, index: int, config) -> tuple[str, str]:
    name = safe_filename(upload.filename, default=f"file{index}")
    head = await upload.read(64)
    try:
        sniff_audio(head)
    except VoxlabError as exc:
        raise type(exc)(f"{name}: {exc}") from None
    target = folder / f"{index:06d}_{name}"
    size = len(head)
    with open(target, "wb") as out:
        out.write(head)
        while chunk := await upload.read(1 << 20):
            size += len(chunk)
            if size > config.max_upload_bytes:
                raise PayloadTooLargeError(
                    f"{name}: the upload is over the limit of {config.max_upload_mb:g} MiB"
                )
            out.write(chunk)
    return str(target), name


def _remove(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


def _owned(request: Request, job_id: str, token: TokenInfo) -> dict:
    job = state_of(request).store.job(job_id)
    if job is None or (job["token_id"] is not None and job["token_id"] != token.id):
        raise HTTPException(404, f"no job {job_id!r} (for this token)")
    return job


@router.get("", summary="Your recent jobs")
def list_jobs(
    request: Request,
    limit: int = Query(50, ge=1, le=500),
    token: TokenInfo = Depends(require_token),
) -> list[dict]:
    """The newest jobs submitted with this token, newest first."""
    return [public(j) for j in state_of(request).store.list_jobs(token_id=token.id, limit=limit)]


@router.get("/{job_id}", summary="A job's state and progress")
def get_job(job_id: str, request: Request, token: TokenInfo = Depends(require_token)) -> dict:
    """``status`` (queued, running, done, failed), ``done`` and ``total`` files, ``errors``."""
    return public(_owned(request, job_id, token))


@router.get("/{job_id}/results", summary="A job's results: JSONL (default) or CSV")
def job_results(
    job_id: str,
    request: Request,
    format: str = Query("jsonl", pattern="^(jsonl|csv)$", description="jsonl or csv."),
    token: TokenInfo = Depends(require_token),
):
    """One row per finished file, in submission order (the `voxlab detect` row)."""
    _owned(request, job_id, token)
    rows = state_of(request).store.iter_results(job_id)
    if format == "csv":
        return StreamingResponse(
            _csv(rows), media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{job_id}.csv"'},
        )  # fmt: skip
    return StreamingResponse(
        (json.dumps(r) + "\n" for r in rows), media_type="application/x-ndjson",
        headers={"Content-Disposition": f'attachment; filename="{job_id}.jsonl"'},
    )  # fmt: skip


def _csv(rows: Iterator[dict]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        flat = dict(row)
        flat["logit_spoof"], flat["logit_bonafide"] = flat.pop("logits", None) or (None, None)
        flat["judged"] = judged_text(
            row.get("judged_start"), row.get("judged_end"), row.get("duration")
        )
        writer.writerow(flat)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()
