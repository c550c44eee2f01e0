"""Brainstorm notes: one Yjs document per brainstorm session, kept in Redis only.

Storage per note (keys under `plein:{<slug>}:notes:<session>:`):
- `stream`: a Redis stream, one entry (`u` = the binary Yjs v1 update) per accepted update. An update is
  appended here before anyone else hears of it.
- `snapshot`: one Yjs update (made with a pycrdt Doc's `get_update()`) holding what the compactor folded.
- `meta`: hash with `bytes` (snapshot + stream payload bytes: the note's stored size, for the note-size
  limit) and `version` (how many compactions committed; fences a compactor that lost its lock).
- `compacting`: the compactor's lock (SET NX PX).
- `aware`: hash socket id -> JSON {client id: clock} of the awareness client ids that socket announced.
- `rate:<socket id>:<second>`: the per-connection counters of the rate limit (expire after 2 s).

The note = snapshot + every stream entry, applied into a pycrdt Doc in stream order. Yjs holds an
update whose predecessors are missing ("pending") and applies it when they arrive, so the order of the
stream does not matter. The compactor folds into the snapshot only entries that the folded Doc has
fully integrated (structs within its state vector, deletions of known items); a pending entry stays in
the stream until its predecessors are stored. It removes exactly the folded entries (XDEL by id), so
entries appended while it worked are never lost.
"""
from __future__ import annotations

import json
import logging
import secrets
import time
from dataclasses import dataclass

import redis
from pycrdt import Doc, Text
from pycrdt import get_update as diff_update

from . import yprotocol
from .errors import PleinError
from .program import Phase, Session
from .store import Keys

log = logging.getLogger("plein.notes")

ROOT = "notes"  # the root Y.Text of every note
FOLD_BATCH = 5000  # stream entries one compaction reads at most


@dataclass(frozen=True)
class NoteLimits:
    max_update_bytes: int = 32 * 1024
    max_note_bytes: int = 1024 * 1024
    updates_per_second: int = 60
    compact_every: int = 200  # stream entries that trigger a compaction
    resync_seconds: int = 15  # how often a client sends its sync step 1 again (heals a relay a dying worker lost)

    def wire(self, card_max_chars: int) -> dict:
        return {"max_update_bytes": self.max_update_bytes, "max_note_bytes": self.max_note_bytes,
                "updates_per_second": self.updates_per_second, "card_max_chars": card_max_chars,
                "resync_seconds": self.resync_seconds}


# Append one update: rate limit of the connection, note-size limit, XADD, stored size. Returns
# {'ok', id, stream length} or {'rate'} / {'size'}.
_APPEND = """
local n = redis.call('INCR', KEYS[3])
if n == 1 then redis.call('PEXPIRE', KEYS[3], 2000) end
if n > tonumber(ARGV[3]) then return {'rate'} end
local size = tonumber(redis.call('HGET', KEYS[2], 'bytes') or '0')
if size + string.len(ARGV[1]) > tonumber(ARGV[2]) then return {'size'} end
local id = redis.call('XADD', KEYS[1], '*', 'u', ARGV[1])
redis.call('HINCRBY', KEYS[2], 'bytes', string.len(ARGV[1]))
return {'ok', id, redis.call('XLEN', KEYS[1])}
"""

# Rate limit only (awareness messages).
_COUNT = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], 2000) end
if n > tonumber(ARGV[1]) then return 0 end
return 1
"""

# Commit a compaction: only while holding the lock and if nobody committed since we read.
# ARGV: token, version read, snapshot, bytes delta, ids to delete...
_COMMIT = """
if redis.call('GET', KEYS[3]) ~= ARGV[1] then return -1 end
if (redis.call('HGET', KEYS[2], 'version') or '0') ~= ARGV[2] then return -2 end
redis.call('SET', KEYS[4], ARGV[3])
local removed = 0
for i = 5, #ARGV, 500 do
  local last = math.min(i + 499, #ARGV)
  removed = removed + redis.call('XDEL', KEYS[1], unpack(ARGV, i, last))
end
redis.call('HINCRBY', KEYS[2], 'bytes', ARGV[4])
redis.call('HINCRBY', KEYS[2], 'version', 1)
return removed
"""

_UNLOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def check_update(update: bytes) -> None:
    """Refuse bytes that do not decode as a Yjs v1 update (a scratch Doc applies them)."""
    try:
        Doc().apply_update(update)
    except Exception:  # pycrdt raises ValueError (or a Rust panic exception) for garbage
        raise yprotocol.Malformed("not a Yjs update") from None


def integrated(update: bytes, state: bytes, clocks: dict[int, int]) -> bool:
    """Whether a doc with this state vector holds all of `update`: no struct beyond the state vector
    (else the doc holds it as pending) and no deletion of an item the doc has not got."""
    rest = diff_update(update, state)
    try:
        deletions = yprotocol.decode_delete_set(rest)
    except yprotocol.Malformed:  # structs left over: pending in the doc
        return False
    return all(clock + length <= clocks.get(client, 0) for client, clock, length in deletions)


class NoteStore:
    """The notes of one event in Redis (a client with binary replies)."""

    def __init__(self, rb: redis.Redis, keys: Keys, limits: NoteLimits = NoteLimits(), now=time.time):
        self.r = rb
        self.keys = keys
        self.limits = limits
        self.now = now
        self._append = rb.register_script(_APPEND)
        self._count = rb.register_script(_COUNT)
        self._commit = rb.register_script(_COMMIT)
        self._unlock = rb.register_script(_UNLOCK)

    def key(self, session_id: str, part: str) -> str:
        return self.keys("notes", session_id, part)

    # -- writing --------------------------------------------------------------------------------

    def append(self, session_id: str, socket_id: str, update: bytes) -> tuple[str, int]:
        """Store one checked update; returns (stream id, stream length). Raises the coded errors."""
        if len(update) > self.limits.max_update_bytes:
            raise PleinError("note_update_too_large", 413, max=self.limits.max_update_bytes)
        second = int(self.now())
        result = self._append(
            keys=[self.key(session_id, "stream"), self.key(session_id, "meta"),
                  self.key(session_id, f"rate:{socket_id}:{second}")],
            args=[update, self.limits.max_note_bytes, self.limits.updates_per_second])
        status = result[0].decode() if isinstance(result[0], bytes) else result[0]
        if status == "rate":
            raise PleinError("notes_rate_limited", 429, max=self.limits.updates_per_second)
        if status == "size":
            raise PleinError("note_too_large", 413, max=self.limits.max_note_bytes)
        entry = result[1].decode() if isinstance(result[1], bytes) else result[1]
        return entry, int(result[2])

    def allow_awareness(self, session_id: str, socket_id: str) -> None:
        """Awareness messages: twice the update rate per connection."""
        second = int(self.now())
        if not self._count(keys=[self.key(session_id, f"arate:{socket_id}:{second}")],
                           args=[2 * self.limits.updates_per_second]):
            raise PleinError("notes_rate_limited", 429, max=2 * self.limits.updates_per_second)

    # -- reading --------------------------------------------------------------------------------

    def load(self, session_id: str) -> tuple[bytes | None, list[tuple[bytes, bytes]], dict]:
        """Snapshot, stream entries [(id, update)] and meta, read in one transaction (a compaction
        cannot fall between reading the snapshot and reading the stream)."""
        with self.r.pipeline(transaction=True) as pipe:
            pipe.get(self.key(session_id, "snapshot"))
            pipe.xrange(self.key(session_id, "stream"), "-", "+")
            pipe.hgetall(self.key(session_id, "meta"))
            snapshot, entries, meta = pipe.execute()
        return snapshot, [(eid, fields[b"u"]) for eid, fields in entries], meta

    def doc(self, session_id: str) -> Doc:
        """The note as stored: a fresh Doc from the snapshot and every stream entry."""
        snapshot, entries, _ = self.load(session_id)
        return build(snapshot, [u for _, u in entries])

    def text(self, session_id: str) -> str:
        return str(self.doc(session_id).get(ROOT, type=Text))

    def state_vector(self, session_id: str) -> bytes:
        return self.doc(session_id).get_state()

    def diff(self, session_id: str, state_vector: bytes) -> bytes:
        """What a client with this state vector lacks (sync step 2); also pending entries, which the
        doc cannot encode, so that the client holds them as Redis does."""
        snapshot, entries, _ = self.load(session_id)
        doc = build(snapshot, [u for _, u in entries])
        diff = doc.get_update(state_vector)
        state = doc.get_state()
        clocks = yprotocol.decode_state_vector(state)
        pending = [u for _, u in entries if not integrated(u, state, clocks)]
        if not pending:
            return diff
        from pycrdt import merge_updates
        return merge_updates(diff, *pending)

    def stored_bytes(self, session_id: str) -> int:
        return int(self.r.hget(self.key(session_id, "meta"), "bytes") or 0)

    def stream_length(self, session_id: str) -> int:
        return int(self.r.xlen(self.key(session_id, "stream")))

    # -- compaction -----------------------------------------------------------------------------

    def compact(self, session_id: str, lock_ms: int = 15000) -> dict | None:
        """Fold the integrated stream entries into a new snapshot. None when another compactor holds
        the lock (or committed first); else {"folded", "kept", "snapshot_bytes"}."""
        token = secrets.token_hex(8)
        lock = self.key(session_id, "compacting")
        if not self.r.set(lock, token, nx=True, px=lock_ms):
            return None
        try:
            with self.r.pipeline(transaction=True) as pipe:
                pipe.get(self.key(session_id, "snapshot"))
                pipe.xrange(self.key(session_id, "stream"), "-", "+", count=FOLD_BATCH)
                pipe.hget(self.key(session_id, "meta"), "version")
                old, raw_entries, version = pipe.execute()
            entries = [(eid, fields[b"u"]) for eid, fields in raw_entries]
            doc = build(old, [u for _, u in entries])
            state = doc.get_state()
            clocks = yprotocol.decode_state_vector(state)
            folded = [(eid, u) for eid, u in entries if integrated(u, state, clocks)]
            snapshot = doc.get_update()
            delta = len(snapshot) - len(old or b"") - sum(len(u) for _, u in folded)
            result = self._commit(
                keys=[self.key(session_id, "stream"), self.key(session_id, "meta"), lock,
                      self.key(session_id, "snapshot")],
                args=[token, version or b"0", snapshot, delta, *(eid for eid, _ in folded)])
            if result < 0:
                return None
            return {"folded": len(folded), "kept": len(entries) - len(folded), "snapshot_bytes": len(snapshot)}
        finally:
            self._unlock(keys=[lock], args=[token])

    # -- awareness ------------------------------------------------------------------------------

    def remember_awareness(self, session_id: str, socket_id: str, entries) -> None:
        """Keep the newest clock of each client id this socket announced (to remove them on leave)."""
        key = self.key(session_id, "aware")
        raw = self.r.hget(key, socket_id)
        known = {int(k): v for k, v in json.loads(raw).items()} if raw else {}
        for client, clock, state in entries:
            if state is None:
                known.pop(client, None)
            elif clock >= known.get(client, -1):
                known[client] = clock
        with self.r.pipeline() as pipe:
            if known:
                pipe.hset(key, socket_id, json.dumps(known))
            else:
                pipe.hdel(key, socket_id)
            pipe.expire(key, 24 * 3600)
            pipe.execute()

    def forget_awareness(self, session_id: str, socket_id: str) -> bytes | None:
        """The awareness message that removes this socket's client ids (None if it announced none)."""
        key = self.key(session_id, "aware")
        with self.r.pipeline() as pipe:
            pipe.hget(key, socket_id)
            pipe.hdel(key, socket_id)
            raw, _ = pipe.execute()
        if not raw:
            return None
        known = json.loads(raw)
        return yprotocol.awareness([(int(c), clock + 1, None) for c, clock in known.items()])


def build(snapshot: bytes | None, updates) -> Doc:
    """A Doc from a snapshot and updates in any order. Yrs (pycrdt 0.14) does not always integrate an update
    it held as pending once the missing one arrives, so updates not yet integrated are applied again until
    they all are, or no pass makes progress (some predecessor is really missing: they stay pending)."""
    doc = Doc()
    doc.get(ROOT, type=Text)
    if snapshot:
        doc.apply_update(snapshot)
    left = list(updates)
    for _ in range(10):
        for update in left:
            try:
                doc.apply_update(update)
            except Exception:
                log.warning("a stored note update does not apply; skipped")
        state = doc.get_state()
        clocks = yprotocol.decode_state_vector(state)
        still = [u for u in left if not integrated(u, state, clocks)]
        if not still or len(still) == len(left):
            break
        left = still
    return doc


# -- who may see and write ----------------------------------------------------------------------

@dataclass(frozen=True)
class NoteAccess:
    round: Phase
    session: Session
    readonly: bool
    reason: str | None  # notes_not_open | notes_closed


def find_session(program, session_id) -> tuple[Phase, Session]:
    """The round and brainstorm session with this id; `no_such_session` or `not_brainstorm`."""
    if not isinstance(session_id, str) or not session_id:
        raise PleinError("bad_field", field="session")
    for rnd in program.rounds:
        session = rnd.session(session_id)
        if session is not None:
            if session.kind != "brainstorm":
                raise PleinError("not_brainstorm", 400, title=session.title)
            return rnd, session
    raise PleinError("no_such_session", 404, session=session_id[:40])


def access(ev, participant, session_id, state=None) -> NoteAccess:
    """Whether `participant` (None: a moderator) may see this session's note, and whether it is writable.
    Raises the coded refusals."""
    rnd, session = find_session(ev.program, session_id)
    state = state or ev.state()
    status = ev.round_status(rnd, state)
    if participant is not None and status != "over":
        seated = ev.seats.seats(participant.id).get(rnd.id) == session.id
        if not seated and session.id not in ev.hosts.of(participant.id):
            raise PleinError("notes_forbidden", 403, title=session.title)
    reason = {"upcoming": "notes_not_open", "over": "notes_closed"}.get(status)
    return NoteAccess(rnd, session, reason is not None, reason)


def brainstorms(program) -> list[tuple[Phase, Session]]:
    return [(rnd, s) for rnd in program.rounds for s in rnd.sessions if s.kind == "brainstorm"]
