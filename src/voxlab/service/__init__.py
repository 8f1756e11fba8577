"""``voxlab serve``: detection, watermarking, generation and durable jobs over HTTP.

FastAPI + uvicorn; jobs in SQLite (WAL) or any SQLAlchemy database; dynamic batching on a
worker thread; bearer tokens stored hashed; per-token rate limits; a web page in
``static/``. The routes call the same library functions as the CLI (``Detector``, the
watermark API, the TTS engines). Import :func:`create_app` lazily: it needs the
``serve`` extra (fastapi, uvicorn, sqlalchemy, python-multipart).
"""

from voxlab.service.config import ServiceConfig, load_config

__all__ = ["ServiceConfig", "create_app", "load_config"]


def __getattr__(name: str):
    if name == "create_app":
        from voxlab.service.app import create_app

        return create_app
    raise AttributeError(name)
