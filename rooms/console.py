"""What the moderator console adds to an evening: broadcasts, help requests, session hosts, closing
sign-up. Every piece of state is in Redis; each service returns what to send and the server sends it.

Texts typed by moderators and participants are cleaned the same way (`clean_text`): NFC, trimmed,
1..max characters, no control characters except line breaks.
"""
from __future__ import annotations

import json
import secrets
import time
import unicodedata

import redis

from .audit import Actor
from .errors import PleinError
from .limits import Limits
from .participants import Participant
from .store import Keys

BROADCAST_MAX = 500
HELP_MAX = 500
HELP_MESSAGES_MAX = 20  # a participant's messages in one request: at most 10 KB, however often they ask
BROADCASTS_KEPT = 50
BROADCAST_REPLAY_SECONDS = 3 * 3600  # a page that connects later still sees what was said this long ago
# How long a broadcast holds: until the phase it was sent in ends (the default), or to the end of the evening.
LIFETIMES = ("phase", "evening")


def clean_text(raw, *, max_len: int, code: str, required: bool = True) -> str:
    """A message as stored; raises `<code>_missing`, `<code>_too_long` or `<code>_control`."""
    if raw is None and not required:
        return ""
    if not isinstance(raw, str):
        raise PleinError(f"{code}_missing")
    text = unicodedata.normalize("NFC", raw).replace("\r\n", "\n").strip()
    if not text and required:
        raise PleinError(f"{code}_missing")
    if any(unicodedata.category(c) in ("Cc", "Cs") and c != "\n" for c in text):
        raise PleinError(f"{code}_control")
    if len(text) > max_len:
        raise PleinError(f"{code}_too_long", max=max_len)
    return text


class Broadcasts:
    """Messages from the moderators to everyone or to one session's room."""

    def __init__(self, r: redis.Redis, keys: Keys, limits: Limits, now=time.time):
        self.r = r
        self.keys = keys
        self.limits = limits
        self.now = now

    def create(self, actor: Actor, raw_text, session: dict | None, *, phase: str | None,
               lifetime: str = "phase") -> dict:
        """`phase`: the id of the phase running now (None before the first one); `lifetime`: one of LIFETIMES."""
        text = clean_text(raw_text, max_len=BROADCAST_MAX, code="message")
        if lifetime not in LIFETIMES:
            raise PleinError("bad_lifetime", allowed=", ".join(LIFETIMES))
        if not actor.is_moderator:  # a moderator can steer the whole evening anyway; a host gets a limit
            self.limits.take("broadcast", actor.id)
        item = {"id": secrets.token_hex(6), "text": text, "from": actor.name, "at": round(self.now(), 3),
                "session": session, "phase": phase, "lifetime": lifetime}
        with self.r.pipeline() as pipe:
            pipe.lpush(self.keys.broadcasts, json.dumps(item, ensure_ascii=False))
            pipe.ltrim(self.keys.broadcasts, 0, BROADCASTS_KEPT - 1)
            pipe.execute()
        return item

    def recent(self, sessions: set[str] | None, phase: str | None, limit: int = 5,
               since: float | None = None) -> list[dict]:
        """The latest broadcasts still worth showing to someone in these sessions (None: all) while `phase` runs
        (None: before the first phase or after the last), oldest first; `since`: only those sent from then on.
        A broadcast for its phase only is over once another phase runs."""
        return self.pick(self.r.lrange(self.keys.broadcasts, 0, BROADCASTS_KEPT - 1), sessions, phase, limit, since)

    def read_kept(self, reads):
        """The kept broadcasts as part of a batch of reads; `pick` chooses from them as `recent` does."""
        return reads.add(lambda pipe: pipe.lrange(self.keys.broadcasts, 0, BROADCASTS_KEPT - 1), lambda v: v[0])

    def pick(self, kept: list, sessions: set[str] | None, phase: str | None, limit: int = 5,
             since: float | None = None) -> list[dict]:
        since = max(self.now() - BROADCAST_REPLAY_SECONDS, since or 0)
        out = []
        for raw in kept:
            item = json.loads(raw)
            if item["at"] < since:
                break
            if item.get("lifetime", "phase") == "phase" and item.get("phase") != phase:
                continue
            target = item["session"] and item["session"]["id"]
            if sessions is None or target is None or target in sessions:
                out.append(item)
            if len(out) == limit:
                break
        return out[::-1]


class HelpDesk:
    """Help requests: one open request per participant; moderators answer and mark them done."""

    def __init__(self, r: redis.Redis, keys: Keys, limits: Limits, now=time.time):
        self.r = r
        self.keys = keys
        self.limits = limits
        self.now = now

    def _item_key(self, request_id) -> str:
        if not (isinstance(request_id, str) and 0 < len(request_id) < 40 and request_id.isalnum()):
            raise PleinError("unknown_help", 404)
        return self.keys.help_item(request_id)

    def get(self, request_id) -> dict:
        raw = self.r.get(self._item_key(request_id))
        if raw is None:
            raise PleinError("unknown_help", 404)
        return json.loads(raw)

    def _save(self, pipe, item: dict) -> None:
        pipe.set(self.keys.help_item(item["id"]), json.dumps(item, ensure_ascii=False))
        if item["status"] == "done":
            pipe.delete(self.keys.help_of(item["pid"]))
            pipe.hdel(self.keys.help_open, item["pid"])
        else:
            pipe.set(self.keys.help_of(item["pid"]), item["id"])
            pipe.hset(self.keys.help_open, item["pid"], item["id"])
        pipe.set(self.keys.console_dirty, "1")

    def _transact(self, watches: tuple[str, ...], build) -> dict:
        """Read with `build(pipe)`, then save what it returns, as one optimistic transaction: retried when
        another worker wrote in between, so no two answers or asks overwrite each other. Each request and
        each participant's pointer to it are keys of their own, so only writers of the same request can
        collide (its participant and the moderators answering it), never a whole venue asking at once."""
        for _ in range(20):
            with self.r.pipeline() as pipe:
                try:
                    pipe.watch(*watches)
                    item = build(pipe)
                    pipe.multi()
                    self._save(pipe, item)
                    pipe.execute()
                    return item
                except redis.WatchError:
                    continue
        raise PleinError("busy", 409)

    def ask(self, participant: Participant, raw_text, room: dict | None) -> dict:
        """Open a request (or add to the open one): who, where, what; never loses an earlier text."""
        text = clean_text(raw_text, max_len=HELP_MAX, code="help", required=False)
        self.limits.take("help", participant.id)
        now = round(self.now(), 3)
        said = [{"from": "participant", "name": participant.name, "text": text, "at": now}] if text else []

        def build(pipe) -> dict:
            open_id = pipe.get(self.keys.help_of(participant.id))
            raw = None
            if open_id:
                pipe.watch(self.keys.help_item(open_id))  # a moderator's answer to it must not be overwritten
                raw = pipe.get(self.keys.help_item(open_id))
            if not raw:
                return {"id": secrets.token_hex(6), "pid": participant.id, "name": participant.name,
                        "room": room, "asked_at": now, "at": now, "status": "open", "messages": said}
            item = json.loads(raw)
            if said and sum(m["from"] == "participant" for m in item["messages"]) >= HELP_MESSAGES_MAX:
                raise PleinError("help_too_many", 409, max=HELP_MESSAGES_MAX)
            item.update(room=room, at=now, status="open")
            item["messages"].extend(said)
            return item

        return self._transact((self.keys.help_of(participant.id),), build)

    def _change(self, request_id, change) -> dict:
        key = self._item_key(request_id)

        def build(pipe) -> dict:
            raw = pipe.get(key)
            if raw is None:
                raise PleinError("unknown_help", 404)
            return change(json.loads(raw))

        return self._transact((key,), build)

    def answer(self, actor: Actor, request_id, raw_text) -> dict:
        text = clean_text(raw_text, max_len=HELP_MAX, code="message")
        now = round(self.now(), 3)

        def change(item):
            item["messages"].append({"from": actor.kind, "name": actor.name, "text": text, "at": now})
            item.update(status="answered" if item["status"] != "done" else "done", at=now)
            return item
        return self._change(request_id, change)

    def done(self, request_id, by: str) -> dict:
        now = round(self.now(), 3)

        def change(item):
            if item["status"] == "done":
                raise PleinError("help_done_already", 409)
            item.update(status="done", at=now, done_by=by)
            return item
        return self._change(request_id, change)

    def of(self, pid: str) -> dict | None:
        """The participant's open (or answered, not yet done) request."""
        return self.item(self.r.get(self.keys.help_of(pid)))

    def read_open_id(self, reads, pid: str):
        """The id of the participant's open request (for `item`) as part of a batch of reads."""
        return reads.add(lambda pipe: pipe.get(self.keys.help_of(pid)), lambda v: v[0])

    def item(self, request_id: str | None) -> dict | None:
        raw = self.r.get(self.keys.help_item(request_id)) if request_id else None
        return json.loads(raw) if raw else None

    def pending(self) -> list[dict]:
        """Every request not done yet, oldest first."""
        ids = list(self.r.hvals(self.keys.help_open))
        items = [json.loads(x) for x in (self.r.mget([self.keys.help_item(i) for i in ids]) if ids else []) if x]
        return sorted(items, key=lambda x: x["asked_at"])


class Hosts:
    """Session hosts: participants with host rights in their own session's room only."""

    def __init__(self, r: redis.Redis, keys: Keys):
        self.r = r
        self.keys = keys

    def of(self, pid: str) -> frozenset[str]:
        return self._parse(self.r.hget(self.keys.hosts, pid))

    def read_of(self, reads, pid: str):
        """`of` as part of a batch of reads."""
        return reads.add(lambda pipe: pipe.hget(self.keys.hosts, pid), lambda v: self._parse(v[0]))

    @staticmethod
    def _parse(raw) -> frozenset[str]:
        return frozenset(json.loads(raw)) if raw else frozenset()

    def set(self, pid: str, session_id: str, on: bool) -> frozenset[str]:
        for _ in range(20):
            with self.r.pipeline() as pipe:
                try:
                    pipe.watch(self.keys.hosts)
                    raw = pipe.hget(self.keys.hosts, pid)
                    sessions = set(json.loads(raw)) if raw else set()
                    (sessions.add if on else sessions.discard)(session_id)
                    pipe.multi()
                    if sessions:
                        pipe.hset(self.keys.hosts, pid, json.dumps(sorted(sessions)))
                    else:
                        pipe.hdel(self.keys.hosts, pid)
                    pipe.set(self.keys.console_dirty, "1")
                    pipe.execute()
                    return frozenset(sessions)
                except redis.WatchError:
                    continue
        raise PleinError("busy", 409)

    def revoke(self, pid: str, session_id: str, revoked: bool) -> None:
        """A moderator took (or gave back) this participant's host rights: the session's link obeys that."""
        (self.r.sadd if revoked else self.r.srem)(self.keys.host_revoked(session_id), pid)

    def revoked(self, pid: str, session_id: str) -> bool:
        return bool(self.r.sismember(self.keys.host_revoked(session_id), pid))

    def all(self) -> dict[str, list[str]]:
        """session id -> pids hosting it."""
        out: dict[str, list[str]] = {}
        for pid, raw in self.r.hgetall(self.keys.hosts).items():
            for sid in json.loads(raw):
                out.setdefault(sid, []).append(pid)
        return out
