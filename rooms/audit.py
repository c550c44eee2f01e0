"""The audit log: every moderator action with who, when and what, kept in Redis (newest last).

Entries are written in the same MULTI as the change they describe where the service allows it
(the clock), else right after it. The log is capped at MAX_ENTRIES; exported as CSV for the
organiser's records.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import time
from dataclasses import dataclass, field

import redis

from .store import Keys

MAX_ENTRIES = 20000


@dataclass(frozen=True)
class Actor:
    """Who does something: a moderator (console or API key), a session host, or a participant."""

    kind: str  # moderator | host | participant
    name: str
    id: str = ""
    sessions: frozenset[str] = field(default_factory=frozenset)  # what a host hosts

    @property
    def is_moderator(self) -> bool:
        return self.kind == "moderator"

    def hosts(self, session_id: str | None) -> bool:
        return session_id is not None and session_id in self.sessions

    def to_dict(self) -> dict:
        return {"kind": self.kind, "name": self.name, "id": self.id}


def spreadsheet_safe(cell: str) -> str:
    """A name typed by a participant must not become a formula when the CSV is opened in a spreadsheet."""
    return "'" + cell if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell


def spreadsheet_row(cells) -> list[str]:
    """A CSV row of which no cell can become a formula: every CSV Plein writes goes through here."""
    return [spreadsheet_safe(str(cell)) for cell in cells]


class AuditLog:
    def __init__(self, r: redis.Redis, keys: Keys, tz, now=time.time):
        self.r = r
        self.keys = keys
        self.tz = tz
        self.now = now

    def entry(self, actor: Actor, action: str, details: dict) -> dict:
        return {"at": round(self.now(), 3), "who": actor.to_dict(), "action": action, "details": details}

    def queue(self, pipe, entry: dict) -> None:
        """Add an entry inside the caller's pipeline (and flag the console as changed)."""
        pipe.rpush(self.keys.audit, json.dumps(entry, ensure_ascii=False))
        pipe.ltrim(self.keys.audit, -MAX_ENTRIES, -1)
        pipe.set(self.keys.console_dirty, "1")

    def record(self, actor: Actor, action: str, details: dict) -> dict:
        entry = self.entry(actor, action, details)
        with self.r.pipeline() as pipe:
            self.queue(pipe, entry)
            pipe.execute()
        return entry

    def recent(self, n: int = 30) -> list[dict]:
        """The newest `n` entries, newest first."""
        return [self.wire(json.loads(x)) for x in reversed(self.r.lrange(self.keys.audit, -n, -1))]

    def all(self) -> list[dict]:
        return [self.wire(json.loads(x)) for x in self.r.lrange(self.keys.audit, 0, -1)]

    def wire(self, entry: dict) -> dict:
        """An entry with its time in the event's time zone."""
        return {**entry, "at": dt.datetime.fromtimestamp(entry["at"], self.tz).isoformat(timespec="seconds")}

    def csv(self) -> str:
        """The whole log, oldest first: time, role, name, id, action, details (JSON)."""
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["time", "role", "name", "id", "action", "details"])
        for e in self.all():
            who = e["who"]
            writer.writerow(spreadsheet_row((
                e["at"], who["kind"], who["name"], who["id"], e["action"],
                json.dumps(e["details"], ensure_ascii=False, sort_keys=True))))
        return out.getvalue()
