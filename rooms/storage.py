"""How full Redis is, seen from Plein: so that a full Redis stops participants' writes with a clear
"storage full" before it stops the moderators.

Redis refuses every write once its memory passes `maxmemory` (with the recommended policy `noeviction`,
see docs/deploy.md), the clock and a moderator's sign-in included. So participants' writes are refused
by Plein a little earlier, once Redis is within the headroom of its limit (PLEIN_STORAGE_HEADROOM bytes;
by default 5% of maxmemory, at least 1 MiB): the moderators, the clock and the heartbeats keep that room.
A Redis without maxmemory is never full here; its machine's memory is the operator's to watch.
"""
from __future__ import annotations

import time

import redis

from .errors import PleinError
from .store import Keys

MIB = 1024 * 1024
CHECK_EVERY = 1.0  # seconds a worker reuses its last look at Redis's memory


def is_full_error(exc: Exception) -> bool:
    """Redis refused a write for want of memory (a command, a transaction or a script)."""
    return isinstance(exc, redis.exceptions.OutOfMemoryError) or (
        isinstance(exc, redis.exceptions.ResponseError) and "used memory > 'maxmemory'" in str(exc))


def storage_error(exc: redis.RedisError) -> PleinError:
    """The coded error for a Redis call that failed: storage full, or storage out of reach."""
    return PleinError("storage_full" if is_full_error(exc) else "redis_down", 503)


class Storage:
    def __init__(self, r: redis.Redis, keys: Keys, headroom: int | None = None, now=time.monotonic):
        self.r = r
        self.keys = keys
        self.headroom = headroom
        self.now = now
        # A cache of Redis's own figures (not state): one INFO a second per worker at most.
        self._checked = -CHECK_EVERY
        self._full = False

    def full(self) -> bool:
        """True when Redis is within the headroom of its maxmemory."""
        if self.now() - self._checked >= CHECK_EVERY:
            info = self.r.info("memory")
            limit, used = int(info.get("maxmemory", 0)), int(info.get("used_memory", 0))
            headroom = self.headroom if self.headroom is not None else max(MIB, limit // 20)
            self._full = bool(limit) and used >= limit - headroom
            self._checked = self.now()
        return self._full

    def guard(self) -> None:
        """Refuse a participant's write while Redis is (nearly) full: the room left is the moderators'."""
        if self.full():
            raise PleinError("storage_full", 503)

    def health(self) -> str:
        """"ok", "full" (writes refused, by Redis or for participants by Plein) or "down"."""
        try:
            self.r.set(self.keys.probe, "1", px=10_000)
            return "full" if self.full() else "ok"
        except redis.RedisError as exc:
            return "full" if is_full_error(exc) else "down"
