"""Who is connected now, kept in Redis so every worker sees the same, and so a crashed worker's
sockets disappear by themselves.

Each worker process has an id and keeps `worker:<id>` alive with a short expiry (a heartbeat every
second, see server/ticker.py). A socket is stored with the worker that holds it; a socket whose
worker key has expired does not count. So a worker that dies (no disconnect handler ran) stops
counting its sockets within one expiry. Its entries are swept out once it has been silent for an
hour (`worker-seen:<id>`), so a worker that only missed beats for a while (Redis away) counts again
as soon as it beats.

Keys: presence (hash sid -> {"pid", "worker", "at"}), sockets:<pid> (set of sids, so any worker can
move a participant's sockets between Socket.IO rooms), worker:<id>, workers (the ids seen beating, so
the console notices when one stops: `lapsed`), console:dirty (something the moderator console shows
has changed; see server/ticker.py).
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass

import redis

from .store import Keys

SWEEP_AFTER = 3600  # seconds a silent worker's socket entries are kept before they are removed


@dataclass(frozen=True)
class Online:
    """A connected participant: since when (their oldest live socket) and with how many sockets."""

    pid: str
    since: float
    sockets: int


class Presence:
    def __init__(self, r: redis.Redis, keys: Keys, *, ttl: float = 15.0, now=time.time):
        self.r = r
        self.keys = keys
        self.ttl = ttl
        self.now = now

    # -- workers --------------------------------------------------------------------------------

    def beat(self, worker: str) -> None:
        """Keep this worker's sockets counted for another `ttl` seconds."""
        with self.r.pipeline(transaction=False) as pipe:
            pipe.set(self.keys.worker(worker), "1", px=int(self.ttl * 1000))
            pipe.set(self.keys.worker_seen(worker), "1", ex=SWEEP_AFTER)
            pipe.sadd(self.keys.workers, worker)
            *_, added = pipe.execute()
        if added:  # new, or back after missing its beats: its sockets count again
            self.changed()

    def stop(self, worker: str) -> None:
        """A worker shutting down cleanly: its sockets stop counting at once."""
        with self.r.pipeline() as pipe:
            pipe.delete(self.keys.worker(worker), self.keys.worker_seen(worker))
            pipe.srem(self.keys.workers, worker)
            pipe.execute()
        self.changed()

    def lapsed(self) -> bool:
        """True (once) when a worker stopped beating since the last look: its sockets no longer count, which
        the console must show although no disconnect was seen."""
        workers = sorted(self.r.smembers(self.keys.workers))
        if not workers:
            return False
        with self.r.pipeline(transaction=False) as pipe:
            for w in workers:
                pipe.exists(self.keys.worker(w))
            gone = [w for w, alive in zip(workers, pipe.execute()) if not alive]
        return bool(gone) and bool(self.r.srem(self.keys.workers, *gone))

    # -- sockets --------------------------------------------------------------------------------

    def connect(self, pid: str, sid: str, worker: str) -> None:
        entry = json.dumps({"pid": pid, "worker": worker, "at": round(self.now(), 3)})
        with self.r.pipeline() as pipe:
            pipe.set(self.keys.worker(worker), "1", px=int(self.ttl * 1000))
            pipe.set(self.keys.worker_seen(worker), "1", ex=SWEEP_AFTER)
            pipe.sadd(self.keys.workers, worker)
            pipe.hset(self.keys.presence, sid, entry)
            pipe.sadd(self.keys.sockets(pid), sid)
            pipe.expire(self.keys.sockets(pid), 86400)
            pipe.set(self.keys.console_dirty, "1")
            pipe.execute()

    def disconnect(self, pid: str, sid: str) -> None:
        with self.r.pipeline() as pipe:
            pipe.hdel(self.keys.presence, sid)
            pipe.srem(self.keys.sockets(pid), sid)
            pipe.set(self.keys.console_dirty, "1")
            pipe.execute()

    def sockets(self, pid: str) -> set[str]:
        """The sids of a participant (possibly one that just died: moving it is harmless)."""
        return self.r.smembers(self.keys.sockets(pid))

    def sockets_of(self, pids) -> dict[str, set[str]]:
        """The sids of many participants in one round trip."""
        pids = list(pids)
        with self.r.pipeline(transaction=False) as pipe:
            for pid in pids:
                pipe.smembers(self.keys.sockets(pid))
            return dict(zip(pids, pipe.execute()))

    def online(self) -> dict[str, Online]:
        """Every participant with at least one live socket. Sockets of dead workers are swept out here."""
        raw = self.r.hgetall(self.keys.presence)
        entries = {}
        for sid, value in raw.items():
            try:
                entry = json.loads(value)
                entries[sid] = (str(entry["pid"]), str(entry["worker"]), float(entry["at"]))
            except (ValueError, KeyError, TypeError):
                entries[sid] = None  # unreadable: sweep it
        workers = sorted({e[1] for e in entries.values() if e})
        alive, seen = set(), set()
        if workers:
            with self.r.pipeline(transaction=False) as pipe:
                for w in workers:
                    pipe.exists(self.keys.worker(w))
                    pipe.exists(self.keys.worker_seen(w))
                found = pipe.execute()
            alive = {w for w, n in zip(workers, found[0::2]) if n}
            seen = {w for w, n in zip(workers, found[1::2]) if n}
        out: dict[str, Online] = {}
        dead: list[tuple[str, str | None]] = []
        for sid, entry in entries.items():
            if entry is None or entry[1] not in seen:
                dead.append((sid, entry[0] if entry else None))
                continue
            if entry[1] not in alive:
                continue
            pid, _, at = entry
            known = out.get(pid)
            out[pid] = Online(pid, min(at, known.since) if known else at, (known.sockets if known else 0) + 1)
        if dead:
            with self.r.pipeline() as pipe:
                for sid, pid in dead:
                    pipe.hdel(self.keys.presence, sid)
                    if pid:
                        pipe.srem(self.keys.sockets(pid), sid)
                pipe.execute()
        return out

    def connected(self, pids) -> set[str]:
        """Which of these participants have a live socket now."""
        return set(pids) & set(self.online())

    # -- the console's change flag --------------------------------------------------------------

    def changed(self) -> None:
        """Something the console shows changed; the next console push (at most one a second) sends it."""
        self.r.set(self.keys.console_dirty, "1")
