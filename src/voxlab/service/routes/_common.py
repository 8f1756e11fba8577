"""Helpers shared by the routes: reading uploads within limits."""

from __future__ import annotations

from fastapi import Request, UploadFile

from voxlab.service.uploads import PayloadTooLargeError, safe_filename, sniff_audio


def state_of(request: Request):
    """The :class:`~voxlab.service.app.ServiceState` of the app."""
    return request.app.state.voxlab


async def read_upload(
    request: Request, file: UploadFile | None, *, filename: str | None = None
) -> tuple[bytes, str, str]:
    """The audio a request carries: a multipart ``file`` field or the raw body.

    Returns:
        ``(bytes, display name, sniffed container)``.

    Raises:
        PayloadTooLargeError: Over ``max_upload_mb``.
        UnsupportedMediaError: Empty or not audio (the reason is in the message).
    """
    config = state_of(request).config
    limit = config.max_upload_bytes
    if file is not None:
        data = await file.read(limit + 1)
        name = safe_filename(file.filename)
    else:  # raw body: read at most limit + 1 bytes, whatever the client declared
        chunks, size = [], 0
        async for chunk in request.stream():
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                break
        data = b"".join(chunks)
        name = safe_filename(filename or request.headers.get("x-filename"))
    if len(data) > limit:
        raise PayloadTooLargeError(
            f"{name}: the upload is over the limit of {config.max_upload_mb:g} MiB"
        )
    kind = sniff_audio(data[:64])
    return data, name, kind
