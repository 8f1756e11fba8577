"""Bearer tokens and per-token rate limits, as FastAPI dependencies.

``Authorization: Bearer TOKEN`` is required on every ``/v1`` route: no or an unknown
token gives 401, a revoked one 403. Each token has a token bucket holding
``rate_limit_per_minute`` requests that refills continuously; an empty bucket gives 429
with ``Retry-After``.
"""

from __future__ import annotations

import math
import threading
import time

from fastapi import HTTPException, Request

from voxlab.service.store import TokenError, TokenInfo


class RateLimiter:
    """Token buckets, one per API token.

    Args:
        per_minute: Sustained requests per minute (also the burst size); 0 disables.
    """

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._buckets: dict[int, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def check(self, key: int) -> float:
        """Take one request from ``key``'s bucket.

        Returns:
            0 when allowed, else the seconds until a request will be allowed.
        """
        if self.per_minute <= 0:
            return 0.0
        rate = self.per_minute / 60.0
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key, (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + (now - last) * rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / rate


def require_token(request: Request) -> TokenInfo:
    """FastAPI dependency: the authenticated caller, after its rate limit.

    Raises:
        HTTPException: 401 (missing/unknown), 403 (revoked), 429 (rate limit).
    """
    state = request.app.state.voxlab
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise HTTPException(
            401,
            "missing token: send 'Authorization: Bearer TOKEN' "
            "(create one with `voxlab serve token create --name NAME`)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    try:
        info = state.store.check_token(token.strip())
    except TokenError as exc:
        if exc.revoked:
            raise HTTPException(403, str(exc)) from None
        raise HTTPException(401, str(exc), headers={"WWW-Authenticate": "Bearer"}) from None
    wait = state.limiter.check(info.id)
    if wait > 0:
        state.metrics.rejected.inc(reason="rate_limit")
        raise HTTPException(
            429,
            f"rate limit of {state.limiter.per_minute} requests per minute reached for "
            f"token {info.name!r}",
            headers={"Retry-After": str(max(1, math.ceil(wait)))},
        )
    request.state.token_name = info.name
    return info
