"""The video side's own count per room, from the Jitsi deployment's `mod_muc_size` endpoint.

`GET <JITSI_ROOM_SIZE_URL>?room=<name>&domain=<base domain>` answers `{"participants": n}`, or 404
when the room is empty (nobody has created it yet). The module looks the room up as
`<name>@<muc_mapper_domain_prefix>.<domain>`, so `domain` is the MUC domain less its first label
(`conference.meet.example.org` -> `meet.example.org`). One worker at a time polls (a Redis lock that
lasts one interval); results and the backoff are kept in Redis for every worker's console. A
deployment that does not answer is retried later and later (doubling, at most 5 minutes), and its
counts show as unknown, never as an error on the page.
"""
from __future__ import annotations

import json
import time

import redis
import requests

from .store import Keys

MAX_BACKOFF = 300.0
MIN_INTERVAL = 1.0  # the console loop that polls runs once a second (server/ticker.py)


class RoomSizes:
    def __init__(self, r: redis.Redis, keys: Keys, url: str, muc_domain: str, *, interval: float = 10.0,
                 timeout: float = 2.0, now=time.time, http=None):
        self.r = r
        self.keys = keys
        self.url = url
        self.muc_domain = muc_domain
        # mod_muc_size puts its MUC prefix ("conference", "muc") in front of the domain it is given.
        self.base_domain = muc_domain.split(".", 1)[1] if "." in muc_domain else muc_domain
        # Never below the loop's period: counts older than 3 intervals show as unknown, so a shorter interval
        # than the polls can keep up with would make them flap.
        self.interval = max(MIN_INTERVAL, interval)
        self.timeout = timeout
        self.now = now
        self.http = http or requests.Session()

    @property
    def enabled(self) -> bool:
        return bool(self.url)

    def _status(self) -> dict:
        raw = self.r.get(self.keys.jitsi_poll)
        return json.loads(raw) if raw else {"failures": 0, "next_at": 0, "ok": None}

    def due(self) -> bool:
        """Time to poll, and this worker holds the poll for one interval."""
        if not self.enabled or self.now() < self._status()["next_at"]:
            return False
        return bool(self.r.set(self.keys("jitsi", "poll", "lock"), "1", nx=True, px=int(self.interval * 1000)))

    def size(self, room: str) -> int:
        """One room's count; raises requests.RequestException or ValueError when the answer is unusable."""
        response = self.http.get(self.url, params={"room": room, "domain": self.base_domain}, timeout=self.timeout)
        if response.status_code == 404:
            return 0
        response.raise_for_status()
        count = response.json().get("participants")
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ValueError(f"unexpected answer {response.text[:80]!r}")
        return count

    def poll(self, rooms: list[str]) -> bool:
        """Ask for every room; True when a count changed. On the first failure stop and back off."""
        now = self.now()
        status = self._status()
        counts = {}
        try:
            for room in rooms:
                counts[room] = self.size(room)
        except (requests.RequestException, ValueError) as exc:
            failures = status["failures"] + 1
            delay = min(MAX_BACKOFF, self.interval * 2 ** failures)
            self.r.set(self.keys.jitsi_poll, json.dumps(
                {"ok": False, "failures": failures, "next_at": now + delay, "at": now, "error": str(exc)[:200]}))
            self.r.set(self.keys.console_dirty, "1")
            return True
        old = self.r.hgetall(self.keys.jitsi_sizes)
        with self.r.pipeline() as pipe:
            pipe.delete(self.keys.jitsi_sizes)
            if counts:
                pipe.hset(self.keys.jitsi_sizes, mapping={k: json.dumps({"count": v, "at": now}) for k, v in counts.items()})
            pipe.set(self.keys.jitsi_poll, json.dumps({"ok": True, "failures": 0, "next_at": 0, "at": now}))
            pipe.execute()
        changed = {k: json.loads(v)["count"] for k, v in old.items()} != counts or status.get("ok") is not True
        if changed:
            self.r.set(self.keys.console_dirty, "1")
        return changed

    def read(self, rooms: list[str]) -> dict[str, dict]:
        """room name -> {"count": n | None, "status": "ok" | "unknown" | "off"}."""
        if not self.enabled:
            return {room: {"count": None, "status": "off"} for room in rooms}
        status = self._status()
        fresh_after = self.now() - 3 * self.interval
        stored = dict(zip(rooms, self.r.hmget(self.keys.jitsi_sizes, rooms))) if rooms else {}
        out = {}
        for room in rooms:
            value = json.loads(stored[room]) if stored.get(room) else None
            if status.get("ok") and value and value["at"] >= fresh_after:
                out[room] = {"count": value["count"], "status": "ok"}
            else:
                out[room] = {"count": None, "status": "unknown"}
        return out
