"""Durable state of the service: tokens, jobs and per-file results, through SQLAlchemy.

SQLite (in WAL mode) is the embedded default; any SQLAlchemy URL works (PostgreSQL for
several replicas). Results have the primary key ``(job_id, idx)`` and are inserted with
"on conflict do nothing", so a file that is scored twice (a worker killed between scoring
and committing, then resumed) still has exactly one result row.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from voxlab.errors import ConfigError, VoxlabError

TOKEN_PREFIX = "vxl_"
JOB_STATES = ("queued", "running", "done", "failed")

metadata = MetaData()

tokens = Table(
    "tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", Float, nullable=False),
    Column("revoked_at", Float, nullable=True),
)

jobs = Table(
    "jobs",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("token_id", Integer, ForeignKey("tokens.id"), nullable=True),
    Column("idempotency_key", String(200), nullable=True),
    Column("status", String(16), nullable=False),
    Column("total", Integer, nullable=False),
    Column("model", String(100), nullable=False),
    Column("policy", String(20), nullable=True),
    Column("segments", Boolean, nullable=False, default=False),
    Column("source", Text, nullable=False),
    Column("error", Text, nullable=True),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    UniqueConstraint("token_id", "idempotency_key", name="uq_job_idempotency"),
)

items = Table(
    "items",
    metadata,
    Column("job_id", String(32), ForeignKey("jobs.id"), primary_key=True),
    Column("idx", Integer, primary_key=True),
    Column("path", Text, nullable=False),
    Column("name", Text, nullable=False),
)

results = Table(
    "results",
    metadata,
    Column("job_id", String(32), ForeignKey("jobs.id"), primary_key=True),
    Column("idx", Integer, primary_key=True),
    Column("status", String(16), nullable=False),
    Column("row", Text, nullable=False),
    Column("created_at", Float, nullable=False),
)


class TokenError(VoxlabError):
    """A request's token is missing, unknown or revoked."""

    def __init__(self, message: str, *, revoked: bool = False) -> None:
        super().__init__(message)
        self.revoked = revoked


@dataclass(frozen=True)
class TokenInfo:
    """An authenticated caller."""

    id: int
    name: str


@dataclass(frozen=True)
class JobItem:
    """One file of a job."""

    idx: int
    path: str
    name: str


def hash_token(token: str) -> str:
    """SHA-256 hex digest of a token (tokens are 256-bit random, so no salt is needed)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


class JobStore:
    """Tokens, jobs and results in one SQL database.

    Args:
        url: SQLAlchemy URL (``sqlite:////srv/voxlab/voxlab.db``,
            ``postgresql+psycopg://user@host/db``...).
    """

    def __init__(self, url: str) -> None:
        try:
            self.engine = create_engine(url, future=True, pool_pre_ping=True)
        except (SQLAlchemyError, ImportError, ValueError) as exc:
            raise ConfigError(
                f"database_url {url!r}: {exc} (check the URL and its driver)"
            ) from None
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        try:
            metadata.create_all(self.engine)
        except SQLAlchemyError as exc:
            raise ConfigError(f"cannot open the job database {url!r}: {exc}") from None

    def close(self) -> None:
        """Release the connection pool."""
        self.engine.dispose()

    # ------------------------------------------------------------------ tokens

    def create_token(self, name: str) -> str:
        """Make a new token called ``name``; only its hash is stored.

        Returns:
            The token, shown once.
        """
        if not name.strip():
            raise ConfigError("a token needs a --name (who or what uses it)")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self.engine.begin() as conn:
            conn.execute(
                insert(tokens).values(
                    name=name, token_hash=hash_token(token), created_at=time.time()
                )
            )
        return token

    def revoke_token(self, *, name: str | None = None, token: str | None = None) -> int:
        """Revoke the live tokens called ``name`` or the token ``token``.

        Returns:
            How many tokens were revoked.
        """
        if (name is None) == (token is None):
            raise ConfigError("revoke takes exactly one of --name or --token")
        cond = (
            tokens.c.name == name if name is not None else tokens.c.token_hash == hash_token(token)
        )
        with self.engine.begin() as conn:
            done = conn.execute(
                update(tokens)
                .where(cond, tokens.c.revoked_at.is_(None))
                .values(revoked_at=time.time())
            )
        return int(done.rowcount or 0)

    def list_tokens(self) -> list[dict[str, Any]]:
        """Name, creation and revocation times of every token (never the token)."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(tokens).order_by(tokens.c.id)).mappings().all()
        return [
            {
                "name": r["name"],
                "created_at": r["created_at"],
                "revoked": r["revoked_at"] is not None,
            }
            for r in rows
        ]

    def check_token(self, token: str | None) -> TokenInfo:
        """The caller behind ``token``.

        Raises:
            TokenError: Missing or unknown (``revoked=False``) or revoked (``revoked=True``).
        """
        if not token:
            raise TokenError("missing token: send 'Authorization: Bearer TOKEN'")
        with self.engine.connect() as conn:
            row = (
                conn.execute(select(tokens).where(tokens.c.token_hash == hash_token(token)))
                .mappings()
                .first()
            )
        if row is None:
            raise TokenError("unknown token (create one with `voxlab serve token create`)")
        if row["revoked_at"] is not None:
            raise TokenError(f"token {row['name']!r} was revoked", revoked=True)
        return TokenInfo(id=row["id"], name=row["name"])

    # ------------------------------------------------------------------ jobs

    def create_job(
        self,
        files: Sequence[tuple[str, str]],
        *,
        model: str,
        policy: str | None,
        segments: bool,
        source: dict[str, Any],
        token_id: int | None,
        idempotency_key: str | None = None,
    ) -> tuple[str, bool]:
        """Record a job and its files (``(path, display name)`` pairs) as queued.

        Returns:
            ``(job id, created)``; ``created`` is False when ``idempotency_key`` was already
            used by this token, and the id is that earlier job's.
        """
        if idempotency_key is not None:
            existing = self.find_idempotent(token_id, idempotency_key)
            if existing is not None:
                return existing, False
        job_id = uuid.uuid4().hex
        now = time.time()
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(jobs).values(
                        id=job_id, token_id=token_id, idempotency_key=idempotency_key,
                        status="queued", total=len(files), model=model, policy=policy,
                        segments=segments, source=json.dumps(source), created_at=now,
                        updated_at=now,
                    )
                )  # fmt: skip
                if files:
                    conn.execute(
                        insert(items),
                        [
                            {"job_id": job_id, "idx": i, "path": p, "name": n}
                            for i, (p, n) in enumerate(files)
                        ],
                    )
        except IntegrityError:  # the same key raced in from another request
            existing = self.find_idempotent(token_id, idempotency_key)
            if existing is None:
                raise
            return existing, False
        return job_id, True

    def find_idempotent(self, token_id: int | None, key: str) -> str | None:
        """Id of the job this token submitted with idempotency key ``key``, if any."""
        with self.engine.connect() as conn:
            return conn.execute(
                select(jobs.c.id).where(jobs.c.token_id == token_id, jobs.c.idempotency_key == key)
            ).scalar()

    def job(self, job_id: str) -> dict[str, Any] | None:
        """A job's state: id, status, done, errors, total, model, times; ``None`` if unknown."""
        with self.engine.connect() as conn:
            row = conn.execute(select(jobs).where(jobs.c.id == job_id)).mappings().first()
            if row is None:
                return None
            counts = dict(
                conn.execute(
                    select(results.c.status, func.count())
                    .where(results.c.job_id == job_id)
                    .group_by(results.c.status)
                ).all()
            )
        return self._job_dict(row, counts)

    @staticmethod
    def _job_dict(row, counts: dict[str, int]) -> dict[str, Any]:
        done = int(sum(counts.values()))
        return {
            "id": row["id"],
            "status": row["status"],
            "done": done,
            "total": row["total"],
            "errors": int(counts.get("error", 0)),
            "model": row["model"],
            "policy": row["policy"],
            "segments": bool(row["segments"]),
            "source": json.loads(row["source"]),
            "error": row["error"],
            "created_at": row["created_at"],
            "updated_at": row["updated_at"],
            "token_id": row["token_id"],
        }

    def list_jobs(self, *, token_id: int | None = None, limit: int = 50) -> list[dict[str, Any]]:
        """The newest jobs (of one token when given), newest first."""
        query = select(jobs).order_by(jobs.c.created_at.desc()).limit(limit)
        if token_id is not None:
            query = query.where(jobs.c.token_id == token_id)
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
            counts: dict[str, dict[str, int]] = {}
            ids = [r["id"] for r in rows]
            if ids:
                for job_id, status, n in conn.execute(
                    select(results.c.job_id, results.c.status, func.count())
                    .where(results.c.job_id.in_(ids))
                    .group_by(results.c.job_id, results.c.status)
                ).all():
                    counts.setdefault(job_id, {})[status] = n
        return [self._job_dict(r, counts.get(r["id"], {})) for r in rows]

    def unfinished_jobs(self) -> list[str]:
        """Ids of queued or running jobs, oldest first (the work to resume)."""
        with self.engine.connect() as conn:
            return list(
                conn.execute(
                    select(jobs.c.id)
                    .where(jobs.c.status.in_(("queued", "running")))
                    .order_by(jobs.c.created_at)
                ).scalars()
            )

    def set_status(self, job_id: str, status: str, *, error: str | None = None) -> None:
        """Move a job to ``status``."""
        if status not in JOB_STATES:
            raise ValueError(f"unknown job status {status!r}")
        with self.engine.begin() as conn:
            conn.execute(
                update(jobs)
                .where(jobs.c.id == job_id)
                .values(status=status, error=error, updated_at=time.time())
            )

    def pending_items(self, job_id: str, *, limit: int) -> list[JobItem]:
        """Up to ``limit`` files of a job that have no result yet, in order."""
        done = select(results.c.idx).where(results.c.job_id == job_id)
        query = (
            select(items.c.idx, items.c.path, items.c.name)
            .where(items.c.job_id == job_id, items.c.idx.not_in(done))
            .order_by(items.c.idx)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [JobItem(*row) for row in conn.execute(query).all()]

    def add_results(self, job_id: str, rows: Sequence[tuple[int, dict[str, Any]]]) -> int:
        """Store result rows ``(idx, row)`` in one transaction; existing ones are kept.

        Returns:
            How many rows were new.
        """
        if not rows:
            return 0
        now = time.time()
        values = [
            {
                "job_id": job_id,
                "idx": idx,
                "status": str(row.get("status", "ok")),
                "row": json.dumps(row),
                "created_at": now,
            }
            for idx, row in rows
        ]
        dialect = self.engine.dialect.name
        with self.engine.begin() as conn:
            if dialect in ("sqlite", "postgresql"):
                module = __import__(f"sqlalchemy.dialects.{dialect}", fromlist=["insert"])
                stmt = module.insert(results).on_conflict_do_nothing()
                return int(conn.execute(stmt, values).rowcount or 0)
            new = 0
            for value in values:  # portable fallback: one savepoint per row
                try:
                    with conn.begin_nested():
                        conn.execute(insert(results).values(**value))
                    new += 1
                except IntegrityError:
                    pass
            return new

    def iter_results(self, job_id: str) -> Iterator[dict[str, Any]]:
        """The job's result rows in file order (display names as ``path``)."""
        query = (
            select(results.c.row, items.c.name)
            .join(items, (items.c.job_id == results.c.job_id) & (items.c.idx == results.c.idx))
            .where(results.c.job_id == job_id)
            .order_by(results.c.idx)
        )
        with self.engine.connect() as conn:
            for text, name in conn.execute(query):
                row = json.loads(text)
                row["path"] = name
                yield row
