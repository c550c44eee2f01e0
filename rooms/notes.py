"""Brainstorm notes: one Yjs document per brainstorm session, kept in Redis only.

Storage per note (keys under `plein:{<slug>}:notes:<session>:`):
- `stream`: a Redis stream, one entry (`u` = the binary Yjs v1 update) per accepted update. An update is
  appended here before anyone else hears of it.
- `snapshot`: one Yjs update (made with a pycrdt Doc's `get_update()`) holding what the compactor folded.
- `meta`: hash with `bytes` (snapshot + stream payload bytes: the note's stored size, for the note-size
  limit) and `version` (how many compactions committed; fences a compactor that lost its lock).
- `compacting`: the compactor's lock (SET NX PX).
- `aware`: hash socket id -> JSON {client id: clock} of the awareness client ids that socket announced
  (at most `awareness_clients` per socket, each state at most `awareness_bytes` of JSON).
- `rate:<person>:<second>`, `arate:<person>:<second>`: per-person counters of the update and awareness rates
  (all of a person's sockets share them; every update message counts, before it is checked; expire after 2 s). `minute:<person>:<minute>`: bytes that person stored
  this minute.
- `by:bytes`, `by:updates`: hash person -> bytes / updates they stored in this note (who wrote what; the
  per-person limit); `names`: person -> display name; `period`: person -> bytes since the last history snapshot.
- `history` (list of ids, oldest first), `history:meta` (id -> JSON {at, chars, by}), `history:text` (id -> text):
  the note as it was, at most once per `snapshot_seconds` (taken before the first update of a period), at most
  `snapshots` of them and at most HISTORY_NOTES x `max_note_bytes` of text (`history:meta` field `#bytes`).
  A moderator or the session's host restores one (`restore`, one at a time: `restoring` lock): the server
  edits its own copy of the note to that text and stores and relays the edit as an ordinary update, so open
  clients converge.
- `owners`: hash Yjs client id -> the person who first wrote with it, so that a moderator or the session's
  host can take everything one person wrote out of the note (`hide_contributions`: a delete of all that
  client's items, stored and relayed like a restore; the text taken out goes to the audit log).

The note = snapshot + every stream entry, applied into a pycrdt Doc in stream order. An update is stored
only if it integrates at once into the note as stored (`yprotocol.check_integrates`: no gap, no unknown
origin or deletion; only text in the root Y.Text "notes"): nothing stored is ever pending, so an update
that Yjs would hold back forever cannot pile up. A client's update only builds on what it got from the
server, which was stored before it was relayed, so a well-behaved client's updates always integrate
(one refused after a rate refusal comes back whole with the resync). The compactor folds the integrated
entries into the snapshot and drops any that does not integrate (left by older versions). It removes
exactly the entries it read (XDEL by id), so entries appended while it worked are never lost.

Each worker keeps the note it last saw as a pycrdt Doc, keyed by the compaction version and the last stream
id it applied (`_Cached`): before it checks an update it reads only the newer stream entries; after a
compaction it rebuilds from Redis. It is a cache of what Redis holds, never the truth.
"""
from __future__ import annotations

import difflib

import json
import logging
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field

import redis
from pycrdt import Doc, Text, merge_updates
from pycrdt import get_update as diff_update

from . import yprotocol
from .errors import PleinError
from .program import Phase, Session
from .store import Keys

log = logging.getLogger("plein.notes")

ROOT = "notes"  # the root Y.Text of every note
FOLD_BATCH = 5000  # stream entries one compaction reads at most


CACHED_NOTES = 64  # notes a worker keeps as a Doc (least recently used dropped)
HISTORY_NOTES = 4  # the kept snapshots of a note hold at most this many times the note's size limit of text
BEFORE_RESTORE = "-before-restore"  # the id suffix of the snapshot a restore keeps of what it replaces
FILTER_DELETIONS = 8  # an update with more delete ranges than this is checked against the note's own deletions


@dataclass(frozen=True)
class NoteLimits:
    """Every limit has an environment variable (server/config.py, docs/deploy.md). Rate limits (updates and
    awareness per second, bytes per minute) are off with PLEIN_RATE_LIMITS=off; sizes always hold."""
    max_update_bytes: int = 32 * 1024
    max_note_bytes: int = 1024 * 1024
    updates_per_second: int = 60  # per person (all their sockets), awareness messages twice that
    compact_every: int = 200  # stream entries that trigger a compaction
    resync_seconds: int = 15  # how often a client sends its sync step 1 again (heals a relay a dying worker lost)
    person_bytes: int = 256 * 1024  # what one person may store in one note, in all
    person_bytes_per_minute: int = 64 * 1024  # ... and per minute
    awareness_clients: int = 2  # awareness client ids one socket may announce
    awareness_bytes: int = 2048  # JSON bytes of one awareness state
    snapshots: int = 30  # history snapshots kept per note
    snapshot_seconds: int = 60  # at most one history snapshot per this many seconds
    grace_seconds: int = 120  # after its round a note still takes the offline edits of those who were in it
    rate_limits: bool = True  # PLEIN_RATE_LIMITS=off: no per-second or per-minute limits (load tests)

    def wire(self, card_max_chars: int) -> dict:
        return {"max_update_bytes": self.max_update_bytes, "max_note_bytes": self.max_note_bytes,
                "updates_per_second": self.updates_per_second if self.rate_limits else 0,
                "card_max_chars": card_max_chars, "resync_seconds": self.resync_seconds,
                "person_bytes": self.person_bytes,
                "person_bytes_per_minute": self.person_bytes_per_minute if self.rate_limits else 0,
                "awareness_clients": self.awareness_clients, "awareness_bytes": self.awareness_bytes}


# Append one checked update of one person (their rate was counted before the check, `cached`): their bytes
# this minute and in this note, the note's size; then XADD and the counts of who wrote what. A limit of 0 is off.
# KEYS: stream, meta, minute:<person>:<minute>, by:bytes, by:updates, period, names
# ARGV: update, max note bytes, max bytes/minute, max person bytes, person id, person name
# Returns {'ok', id, stream length} or {'minute'} / {'person'} / {'size'}.
_APPEND = """
local len = string.len(ARGV[1])
if tonumber(ARGV[3]) > 0 and tonumber(redis.call('GET', KEYS[3]) or '0') + len > tonumber(ARGV[3]) then
  return {'minute'}
end
if tonumber(ARGV[4]) > 0 and tonumber(redis.call('HGET', KEYS[4], ARGV[5]) or '0') + len > tonumber(ARGV[4]) then
  return {'person'}
end
local size = tonumber(redis.call('HGET', KEYS[2], 'bytes') or '0')
if size + len > tonumber(ARGV[2]) then return {'size'} end
local id = redis.call('XADD', KEYS[1], '*', 'u', ARGV[1])
redis.call('HINCRBY', KEYS[2], 'bytes', len)
if tonumber(ARGV[3]) > 0 then
  redis.call('INCRBY', KEYS[3], len)
  redis.call('EXPIRE', KEYS[3], 120)
end
redis.call('HINCRBY', KEYS[4], ARGV[5], len)
redis.call('HINCRBY', KEYS[5], ARGV[5], 1)
redis.call('HINCRBY', KEYS[6], ARGV[5], len)
redis.call('HSET', KEYS[7], ARGV[5], ARGV[6])
return {'ok', id, redis.call('XLEN', KEYS[1])}
"""

# Keep one history snapshot: the text, its metadata with who wrote how much since the previous snapshot (the
# `period` hash, emptied here), and at most ARGV[4] snapshots of at most ARGV[5] bytes of text in all (the
# oldest go; the newest always stays).
# KEYS: history, history:meta, history:text, period.  ARGV: id, meta JSON, text, how many, how many bytes
_SNAPSHOT = """
local by = redis.call('HGETALL', KEYS[4])
redis.call('DEL', KEYS[4])
local meta = cjson.decode(ARGV[2])
local counts = {}
for i = 1, #by, 2 do counts[by[i]] = tonumber(by[i + 1]) end
meta['by'] = counts
redis.call('RPUSH', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], cjson.encode(meta))
redis.call('HSET', KEYS[3], ARGV[1], ARGV[3])
local bytes = redis.call('HINCRBY', KEYS[2], '#bytes', string.len(ARGV[3]))
while redis.call('LLEN', KEYS[1]) > 1 and
      (redis.call('LLEN', KEYS[1]) > tonumber(ARGV[4]) or bytes > tonumber(ARGV[5])) do
  local old = redis.call('LPOP', KEYS[1])
  bytes = redis.call('HINCRBY', KEYS[2], '#bytes', 0 - redis.call('HSTRLEN', KEYS[3], old))  -- never "-0"
  redis.call('HDEL', KEYS[2], old)
  redis.call('HDEL', KEYS[3], old)
end
return 1
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


def integrated(update: bytes, state: bytes, clocks: dict[int, int]) -> bool:
    """Whether a doc with this state vector holds all of `update`: no struct beyond the state vector
    (else the doc holds it as pending) and no deletion of an item the doc has not got."""
    rest = diff_update(update, state)
    try:
        deletions = yprotocol.decode_delete_set(rest)
    except yprotocol.Malformed:  # structs left over: pending in the doc
        return False
    return all(clock + length <= clocks.get(client, 0) for client, clock, length in deletions)


def _subtract(ranges, known: dict[int, list[tuple[int, int]]]):
    """The parts of the delete ranges [(client, clock, length)] not already in `known` (client -> sorted
    [(clock, end)] of the note's own deletions)."""
    out = []
    for client, clock, length in ranges:
        start, end = clock, clock + length
        for k_start, k_end in known.get(client, ()):
            if k_end <= start:
                continue
            if k_start >= end:
                break
            if k_start > start:
                out.append((client, start, k_start - start))
            start = max(start, k_end)
            if start >= end:
                break
        if start < end:
            out.append((client, start, end - start))
    return out


@dataclass
class _Cached:
    """One note as this worker last read it from Redis (see the module's docstring)."""
    doc: Doc
    version: bytes  # meta `version` (compactions) it was built at
    last: bytes  # the last stream id applied
    clocks: dict
    lock: threading.RLock = field(default_factory=threading.RLock)
    period: int = -1  # the history period a snapshot is known to exist for
    deletions: tuple | None = None  # (state, client -> [(clock, end)]) of the doc, computed when needed
    owners: set = field(default_factory=set)  # Yjs client ids whose person this worker has recorded

    @property
    def text(self) -> str:
        return str(self.doc.get(ROOT, type=Text))


class NoteStore:
    """The notes of one event in Redis (a client with binary replies)."""

    def __init__(self, rb: redis.Redis, keys: Keys, limits: NoteLimits = NoteLimits(), now=time.time):
        self.r = rb
        self.keys = keys
        self.limits = limits
        self.now = now
        self._append = rb.register_script(_APPEND)
        self._snapshot = rb.register_script(_SNAPSHOT)
        self._count = rb.register_script(_COUNT)
        self._commit = rb.register_script(_COMMIT)
        self._unlock = rb.register_script(_UNLOCK)
        self._cache: OrderedDict[str, _Cached] = OrderedDict()
        self._cache_lock = threading.Lock()

    def key(self, session_id: str, part: str) -> str:
        return self.keys("notes", session_id, part)

    # -- the cached note ------------------------------------------------------------------------

    def cached(self, session_id: str, count: str | None = None, limit: int = 0) -> _Cached:
        """The note as stored, brought up to date: the newer stream entries only, or a rebuild after a
        compaction. Callers hold its lock while they use it. With `count` (a rate counter key) the same
        transaction counts one more attempt there, and more than `limit` in its second raises
        `notes_rate_limited` before anything is read or checked."""
        with self._cache_lock:
            note = self._cache.get(session_id)
            if note is not None:
                self._cache.move_to_end(session_id)
        if note is None:
            note = _Cached(*self._build(session_id))
            with self._cache_lock:
                self._cache[session_id] = note
                while len(self._cache) > CACHED_NOTES:
                    self._cache.popitem(last=False)
        with note.lock:
            with self.r.pipeline(transaction=True) as pipe:
                if count:
                    pipe.incr(count)
                    pipe.pexpire(count, 2000)
                pipe.hget(self.key(session_id, "meta"), "version")
                pipe.xrange(self.key(session_id, "stream"), b"(" + note.last, "+")
                *counted, version, entries = pipe.execute()
            if counted and counted[0] > limit:
                raise PleinError("notes_rate_limited", 429, max=limit)
            if (version or b"0") != note.version:  # compacted since: the snapshot holds entries we never read
                note.doc, note.version, note.last, note.clocks = self._build(session_id)
                note.deletions = None
            elif entries:
                for eid, fields in entries:
                    try:
                        note.doc.apply_update(fields[b"u"])
                    except Exception:
                        log.warning("a stored note update does not apply; skipped")
                note.last = entries[-1][0]
                note.clocks = yprotocol.decode_state_vector(note.doc.get_state())
        return note

    def _build(self, session_id: str) -> tuple[Doc, bytes, bytes, dict]:
        """The note from Redis: (doc, compaction version, last stream id, state vector as a dict)."""
        snapshot, entries, meta = self.load(session_id)
        doc = build(snapshot, [u for _, u in entries])
        return (doc, meta.get(b"version", b"0"), entries[-1][0] if entries else b"0-0",
                yprotocol.decode_state_vector(doc.get_state()))

    def _known_deletions(self, note: _Cached) -> dict:
        state = note.doc.get_state()
        if note.deletions is None or note.deletions[0] != state:
            known: dict[int, list[tuple[int, int]]] = {}
            for client, clock, length in yprotocol.decode_delete_set(note.doc.get_update(state)):
                known.setdefault(client, []).append((clock, clock + length))
            note.deletions = (state, {c: sorted(r) for c, r in known.items()})
        return note.deletions[1]

    # -- writing --------------------------------------------------------------------------------

    def append(self, session_id: str, person: dict, update: bytes) -> tuple[str, int, bytes] | None:
        """Check one update fully against the note as stored and store what is new in it (its own bytes or
        less); returns (stream id, stream length, the stored update), or None when it brings nothing new.
        Raises Malformed / Foreign / Early or the coded limits; a refused update changes nothing."""
        lim = self.limits
        if len(update) > lim.max_update_bytes:
            raise PleinError("note_update_too_large", 413, max=lim.max_update_bytes)
        # Every attempt counts towards the person's rate, also one refused below: checking costs time.
        rate = self.key(session_id, f"rate:{person['id']}:{int(self.now())}") if lim.rate_limits else None
        note = self.cached(session_id, rate, lim.updates_per_second)
        with note.lock:
            try:
                new = diff_update(update, note.doc.get_state())  # what the note has not got yet
            except Exception:  # pycrdt raises ValueError (or a Rust panic exception) for garbage
                raise yprotocol.Malformed("not a Yjs update") from None
            parsed = yprotocol.decode_update(new, ROOT)
            yprotocol.check_integrates(parsed, note.clocks)
            if len(parsed.deletions) > FILTER_DELETIONS:  # a step 2 repeats every deletion the client knows
                fresh = _subtract(parsed.deletions, self._known_deletions(note))
                if len(fresh) < len(parsed.deletions):
                    new = yprotocol.encode_update(new[:parsed.delete_set_at], fresh)
            if new == yprotocol.EMPTY_UPDATE:
                return None
            self._history(session_id, note)
            entry, length = self._store(session_id, person, new)
            self._own(session_id, note, parsed, person["id"])
            note.doc.apply_update(new)
            note.clocks = yprotocol.decode_state_vector(note.doc.get_state())
            return entry, length, new

    def _own(self, session_id: str, note: _Cached, parsed, pid: str) -> None:
        """Remember whose Yjs client wrote which items (client id -> person, the first one to write with it), so a
        moderator can take one person's contributions out. A write only for a client this worker has not seen."""
        fresh = {s.client for s in parsed.structs if s.kind not in (yprotocol.GC, yprotocol.SKIP)} - note.owners
        if fresh:
            with self.r.pipeline(transaction=False) as pipe:
                for client in fresh:
                    pipe.hsetnx(self.key(session_id, "owners"), str(client), pid)
                pipe.execute()
            note.owners |= fresh

    def writer_name(self, session_id: str, pid) -> str | None:
        """The name of someone who wrote in this note, else None."""
        raw = self.r.hget(self.key(session_id, "names"), pid) if isinstance(pid, str) and len(pid) < 80 else None
        return raw.decode("utf-8", "replace") if raw is not None else None

    def hide_contributions(self, session_id: str, pid: str, person: dict) -> tuple[bytes, str]:
        """Take everything one person wrote out of the note: a delete of all items of their Yjs clients, stored
        as an edit of the server's (after a snapshot of the text as it was, so a restore can undo it) and
        returned for the relay, with the text it took out (for the audit log). Yjs deletes by item id, so what
        others wrote around it stays where it is."""
        owners = self.r.hgetall(self.key(session_id, "owners"))
        clients = [int(c) for c, p in owners.items() if p.decode() == pid]
        note = self.cached(session_id)
        with note.lock:
            ranges = [(c, 0, note.clocks[c]) for c in clients if note.clocks.get(c)]
            if not ranges:
                return yprotocol.EMPTY_UPDATE, ""
            before = note.text
            self._history(session_id, note, force=f"{int(self.now() * 1000)}{BEFORE_RESTORE}")
            update = yprotocol.encode_update(yprotocol.varuint(0), ranges)
            self._store(session_id, person, update, limits=False)
            note.doc.apply_update(update)
            note.clocks = yprotocol.decode_state_vector(note.doc.get_state())
            after = note.text
        removed = difflib.SequenceMatcher(None, before, after, autojunk=False)
        return update, "".join(before[i1:i2] for op, i1, i2, _, _ in removed.get_opcodes() if op in ("delete", "replace"))

    def _store(self, session_id: str, person: dict, update: bytes, limits: bool = True) -> tuple[str, int]:
        lim = self.limits
        rates = limits and lim.rate_limits
        now = self.now()
        pid = person["id"]
        result = self._append(
            keys=[self.key(session_id, "stream"), self.key(session_id, "meta"),
                  self.key(session_id, f"minute:{pid}:{int(now // 60)}"),
                  self.key(session_id, "by:bytes"), self.key(session_id, "by:updates"),
                  self.key(session_id, "period"), self.key(session_id, "names")],
            args=[update, lim.max_note_bytes if limits else 2 ** 53, lim.person_bytes_per_minute if rates else 0,
                  lim.person_bytes if limits else 0, pid, person.get("name") or ""])
        status = result[0].decode() if isinstance(result[0], bytes) else result[0]
        if status == "minute":
            raise PleinError("notes_person_minute", 429, max=lim.person_bytes_per_minute // 1024)
        if status == "person":
            raise PleinError("notes_person_full", 413, max=lim.person_bytes // 1024)
        if status == "size":
            raise PleinError("note_too_large", 413, max=lim.max_note_bytes)
        entry = result[1].decode() if isinstance(result[1], bytes) else result[1]
        return entry, int(result[2])

    def allow_awareness(self, session_id: str, person_id: str) -> None:
        """Awareness messages: twice the update rate, per person."""
        if not self.limits.rate_limits:
            return
        second = int(self.now())
        if not self._count(keys=[self.key(session_id, f"arate:{person_id}:{second}")],
                           args=[2 * self.limits.updates_per_second]):
            raise PleinError("notes_rate_limited", 429, max=2 * self.limits.updates_per_second)

    # -- history: snapshots, who wrote what, restore ------------------------------------------------

    def _history(self, session_id: str, note: _Cached, force: str | None = None) -> None:
        """Before the first update of a period: keep the note as it is now (once per period, all workers)."""
        period = int(self.now() // self.limits.snapshot_seconds)
        if force is None:
            if note.period == period:
                return
            note.period = period
            if not self.r.set(self.key(session_id, f"history:taken:{period}"), b"1", nx=True,
                              ex=2 * self.limits.snapshot_seconds + 60):
                return
        text = note.text
        at = self.now()
        sid = force or f"{int(at * 1000)}"
        self._snapshot(keys=[self.key(session_id, "history"), self.key(session_id, "history:meta"),
                             self.key(session_id, "history:text"), self.key(session_id, "period")],
                       args=[sid, json.dumps({"at": round(at, 3), "chars": len(text)}), text.encode("utf-8"),
                             self.limits.snapshots, HISTORY_NOTES * self.limits.max_note_bytes])

    def history(self, session_id: str) -> dict:
        """Snapshots (oldest first) with who wrote how much after each (what restoring it undoes), and who wrote
        how much in this note in all: {"snapshots": [...], "contributions": [...]}. Times as epoch seconds."""
        with self.r.pipeline(transaction=True) as pipe:
            pipe.lrange(self.key(session_id, "history"), 0, -1)
            pipe.hgetall(self.key(session_id, "history:meta"))
            pipe.hgetall(self.key(session_id, "period"))
            pipe.hgetall(self.key(session_id, "by:bytes"))
            pipe.hgetall(self.key(session_id, "by:updates"))
            pipe.hgetall(self.key(session_id, "names"))
            ids, metas, period, by_bytes, by_updates, names = pipe.execute()
        texts = self.r.hmget(self.key(session_id, "history:text"), ids) if ids else []
        name = {k.decode(): v.decode("utf-8", "replace") for k, v in names.items()}

        def people(counts: dict) -> list[dict]:
            return sorted(({"id": pid, "name": name.get(pid, pid), "bytes": n, "restore": pid.startswith("restore:")}
                           for pid, n in counts.items() if n), key=lambda p: -p["bytes"])

        snapshots = []
        after: dict[str, int] = {k.decode(): int(v) for k, v in period.items()}
        for sid, text in reversed(list(zip(ids, texts))):
            meta = json.loads(metas.get(sid) or b"{}")
            text = (text or b"").decode("utf-8", "replace")
            snapshots.append({"id": sid.decode(), "at": meta.get("at"), "chars": meta.get("chars", len(text)),
                              "preview": text[:120], "before_restore": sid.endswith(BEFORE_RESTORE.encode()),
                              "by": people(meta.get("by") or {}), "after": people(after)})
            for pid, n in (meta.get("by") or {}).items():
                after[pid] = after.get(pid, 0) + int(n)
        snapshots.reverse()
        contributions = sorted(({"id": k.decode(), "name": name.get(k.decode(), k.decode()), "bytes": int(v),
                                 "updates": int(by_updates.get(k, 0)), "restore": k.startswith((b"restore:", b"hide:"))}
                                for k, v in by_bytes.items()), key=lambda p: -p["bytes"])
        return {"snapshots": snapshots, "contributions": contributions}

    def restore(self, session_id: str, snapshot_id, person: dict) -> bytes:
        """Bring the note back to a snapshot's text: edit the note (a copy of it made by the server, as one more
        Yjs client) from its text now to that text, store the edit as an update and return it for the relay.
        What was written since stays in the history (the state before the restore is kept as a snapshot)."""
        raw = self.r.hget(self.key(session_id, "history:text"), snapshot_id) if isinstance(snapshot_id, str) else None
        if raw is None:
            raise PleinError("unknown_snapshot", 404)
        target = raw.decode("utf-8")
        # One restore of a note at a time, over all workers: two at once would each insert the old text.
        token = secrets.token_hex(8)
        lock = self.key(session_id, "restoring")
        if not self.r.set(lock, token, nx=True, px=10000):
            raise PleinError("busy", 409)
        try:
            return self._restore(session_id, target, person)
        finally:
            self._unlock(keys=[lock], args=[token])

    def _restore(self, session_id: str, target: str, person: dict) -> bytes:
        note = self.cached(session_id)
        with note.lock:
            current = note.text
            if current == target:
                return yprotocol.EMPTY_UPDATE
            self._history(session_id, note, force=f"{int(self.now() * 1000)}{BEFORE_RESTORE}")
            work = Doc()
            text = work.get(ROOT, type=Text)
            work.apply_update(note.doc.get_update())
            edits: list[bytes] = []
            sub = work.observe(lambda e: edits.append(e.update))
            replace(work, text, current, target)
            work.unobserve(sub)
            update = edits[0] if len(edits) == 1 else merge_updates(*edits)
            self._store(session_id, person, update, limits=False)
            note.doc.apply_update(update)
            note.clocks = yprotocol.decode_state_vector(note.doc.get_state())
        return update

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
        note = self.cached(session_id)
        with note.lock:
            return note.text

    def state_vector(self, session_id: str) -> bytes:
        note = self.cached(session_id)
        with note.lock:
            return note.doc.get_state()

    def diff(self, session_id: str, state_vector: bytes) -> bytes:
        """What a client with this state vector lacks (sync step 2)."""
        note = self.cached(session_id)
        with note.lock:
            return note.doc.get_update(state_vector)

    def stored_bytes(self, session_id: str) -> int:
        return int(self.r.hget(self.key(session_id, "meta"), "bytes") or 0)

    def stream_length(self, session_id: str) -> int:
        return int(self.r.xlen(self.key(session_id, "stream")))

    # -- compaction -----------------------------------------------------------------------------

    def compact(self, session_id: str, lock_ms: int = 15000) -> dict | None:
        """Fold the stream entries into a new snapshot; drop any that does not integrate (nothing stored now
        can be pending; older versions stored such). None when another compactor holds the lock (or committed
        first); else {"folded", "dropped", "snapshot_bytes"}."""
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
            dropped = [(eid, u) for eid, u in entries if not integrated(u, state, clocks)]
            if dropped:
                log.warning("notes %s: %d stored updates never integrate; dropped", session_id, len(dropped))
            snapshot = doc.get_update()
            delta = len(snapshot) - len(old or b"") - sum(len(u) for _, u in entries)
            result = self._commit(
                keys=[self.key(session_id, "stream"), self.key(session_id, "meta"), lock,
                      self.key(session_id, "snapshot")],
                args=[token, version or b"0", snapshot, delta, *(eid for eid, _ in entries)])
            if result < 0:
                return None
            return {"folded": len(entries) - len(dropped), "dropped": len(dropped), "snapshot_bytes": len(snapshot)}
        finally:
            self._unlock(keys=[lock], args=[token])

    # -- awareness ------------------------------------------------------------------------------

    def remember_awareness(self, session_id: str, socket_id: str, entries) -> None:
        """Keep the newest clock of each client id this socket announced (to remove them on leave). Refuses
        (`notes_awareness_too_large`, nothing kept or relayed) more client ids per socket than
        `awareness_clients` or a state over `awareness_bytes` of JSON."""
        lim = self.limits
        too_large = PleinError("notes_awareness_too_large", 413, clients=lim.awareness_clients,
                               max=lim.awareness_bytes)
        if len(entries) > 2 * lim.awareness_clients:
            raise too_large
        if any(state is not None and len(json.dumps(state, separators=(",", ":"))) > lim.awareness_bytes
               for _, _, state in entries):
            raise too_large
        key = self.key(session_id, "aware")
        raw = self.r.hget(key, socket_id)
        known = {int(k): v for k, v in json.loads(raw).items()} if raw else {}
        for client, clock, state in entries:
            if state is None:
                known.pop(client, None)
            elif clock >= known.get(client, -1):
                known[client] = clock
        if len(known) > lim.awareness_clients:
            raise too_large
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


def replace(doc: Doc, text: Text, current: str, target: str) -> None:
    """Edit `text` (whose value is `current`) into `target` in one transaction: keep the common start and end,
    replace the middle. (pycrdt counts positions in UTF-8 bytes.)"""
    start = 0
    limit = min(len(current), len(target))
    while start < limit and current[start] == target[start]:
        start += 1
    end = 0
    while end < limit - start and current[-1 - end] == target[-1 - end]:
        end += 1
    a = len(current[:start].encode("utf-8"))
    b = len(current[:len(current) - end].encode("utf-8"))
    with doc.transaction():
        if b > a:
            del text[a:b]
        middle = target[start:len(target) - end]
        if middle:
            text.insert(a, middle)


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
    late: bool = False  # closed, but within the grace after the round for someone who was in it: updates count


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


def access(ev, participant, session_id, state=None, grace: float = 0) -> NoteAccess:
    """Whether `participant` (None: a moderator) may see this session's note, and whether it is writable.
    Within `grace` seconds after the round, who was in it may still store (offline) edits: `late`.
    Raises the coded refusals."""
    rnd, session = find_session(ev.program, session_id)
    state = state or ev.state()
    status = ev.round_status(rnd, state)

    def seated() -> bool:
        return participant is None or ev.seats.seats(participant.id).get(rnd.id) == session.id \
            or session.id in ev.hosts.of(participant.id)
    if status != "over" and not seated():
        raise PleinError("notes_forbidden", 403, title=session.title)
    reason = {"upcoming": "notes_not_open", "over": "notes_closed"}.get(status)
    late = False
    if status == "over" and grace > 0 and state.schedule:
        ended = state.schedule[ev.program.index(rnd.id)].ends_at
        late = state.now - ended <= grace and seated()
    return NoteAccess(rnd, session, reason is not None, reason, late)


def brainstorms(program) -> list[tuple[Phase, Session]]:
    return [(rnd, s) for rnd in program.rounds for s in rnd.sessions if s.kind == "brainstorm"]
