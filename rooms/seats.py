"""Seats: where each participant is in each round, chosen by them or placed by Plein, within capacity.

A seat is one participant's session in one round. It is *chosen* (the participant picked it) or
*placed* (Plein put them there: at the round's start for whoever had not chosen, or on joining
while the round runs). A session's capacity is never exceeded by a choice: the check and the
write are one Lua script, so hundreds of simultaneous choices over several worker processes
cannot overshoot. Placement never overfills a session while another has room; only when every
session of the round is full does it put someone in the least-full one (and says so).

Keys (one event, one hash slot): seats:<round> (pid -> session), chosen:<round> (set of pids whose
seat is their own choice), taken:<round> (session -> seats taken), locked (set of round ids).
"""
from __future__ import annotations

from dataclasses import dataclass

import redis

from .errors import PleinError
from .program import Phase, Program
from .store import Keys

# Choose in several rounds at once, all or nothing.
# KEYS: per round: seats, taken, chosen.  ARGV: pid, then per round: session ('' = withdraw), capacity.
_CHOOSE = """
local pid = ARGV[1]
local n = (#ARGV - 1) / 2
for i = 1, n do
  local session = ARGV[2 * i]
  local capacity = tonumber(ARGV[2 * i + 1])
  local seats, taken = KEYS[3 * i - 2], KEYS[3 * i - 1]
  if session ~= '' and redis.call('HGET', seats, pid) ~= session then
    if tonumber(redis.call('HGET', taken, session) or '0') >= capacity then
      return {'full', tostring(i)}
    end
  end
end
for i = 1, n do
  local session = ARGV[2 * i]
  local seats, taken, chosen = KEYS[3 * i - 2], KEYS[3 * i - 1], KEYS[3 * i]
  local current = redis.call('HGET', seats, pid)
  if session == '' then
    if current then
      redis.call('HDEL', seats, pid)
      redis.call('HINCRBY', taken, current, -1)
    end
    redis.call('SREM', chosen, pid)
  else
    if current ~= session then
      redis.call('HSET', seats, pid, session)
      redis.call('HINCRBY', taken, session, 1)
      if current then redis.call('HINCRBY', taken, current, -1) end
    end
    redis.call('SADD', chosen, pid)
  end
end
return {'ok', ''}
"""

# Place participants without a seat in one round: the session with the most free places (ties:
# program order); when all are full, the least full relative to capacity. Participants in join order.
# KEYS: seats, taken, participants (zset by join time).
# ARGV: 'all', a pid, or 'since' (then ARGV[2]: a join time: only who joined from then on), then session,
# capacity pairs. Returns pid, session, overflow ('1'/'0') for each participant placed.
_PLACE = """
local first = 2
if ARGV[1] == 'since' then first = 3 end
local function best()
  local pick, pick_free, over, over_ratio = nil, nil, nil, nil
  for i = first, #ARGV, 2 do
    local s, cap = ARGV[i], tonumber(ARGV[i + 1])
    local n = tonumber(redis.call('HGET', KEYS[2], s) or '0')
    if pick_free == nil or cap - n > pick_free then pick, pick_free = s, cap - n end
    if over_ratio == nil or n / cap < over_ratio then over, over_ratio = s, n / cap end
  end
  if pick_free > 0 then return pick, 0 end
  return over, 1
end
local who
if ARGV[1] == 'all' then who = redis.call('ZRANGE', KEYS[3], 0, -1)
elseif ARGV[1] == 'since' then who = redis.call('ZRANGEBYSCORE', KEYS[3], ARGV[2], '+inf')
else who = {ARGV[1]} end
local placed = {}
for _, pid in ipairs(who) do
  if not redis.call('HGET', KEYS[1], pid) then
    local s, overflow = best()
    redis.call('HSET', KEYS[1], pid, s)
    redis.call('HINCRBY', KEYS[2], s, 1)
    table.insert(placed, pid)
    table.insert(placed, s)
    table.insert(placed, tostring(overflow))
  end
end
return placed
"""

# A moderator moves one participant: no capacity check (they decide), the seat counts as placed.
# KEYS: seats, taken, chosen.  ARGV: pid, session.  Returns the seats now taken in that session.
_MOVE = """
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur ~= ARGV[2] then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
  if cur then redis.call('HINCRBY', KEYS[2], cur, -1) end
  redis.call('HINCRBY', KEYS[2], ARGV[2], 1)
end
redis.call('SREM', KEYS[3], ARGV[1])
return tonumber(redis.call('HGET', KEYS[2], ARGV[2]) or '0')
"""


@dataclass(frozen=True)
class Placed:
    """One participant placed by Plein; `overflow` when every session of the round was full."""

    pid: str
    session: str
    overflow: bool


class SeatService:
    """Owns the seat keys of one event."""

    def __init__(self, r: redis.Redis, program: Program):
        self.r = r
        self.program = program
        self.keys = Keys(program.slug)
        self._choose = r.register_script(_CHOOSE)
        self._place = r.register_script(_PLACE)
        self._move = r.register_script(_MOVE)

    # -- reading ---------------------------------------------------------------------------------

    def seats(self, pid: str) -> dict[str, str]:
        """Round id -> session id for this participant (chosen or placed; sessions that still exist)."""
        rounds = self.program.rounds
        with self.r.pipeline(transaction=False) as pipe:
            for rnd in rounds:
                pipe.hget(self.keys.seats(rnd.id), pid)
            values = pipe.execute()
        return {rnd.id: sid for rnd, sid in zip(rounds, values) if sid and rnd.session(sid)}

    def chosen(self, pid: str, seats: dict[str, str] | None = None) -> dict[str, str]:
        """Round id -> session id for the rounds where the seat is the participant's own choice."""
        rounds = self.program.rounds
        with self.r.pipeline(transaction=False) as pipe:
            for rnd in rounds:
                pipe.sismember(self.keys.chosen(rnd.id), pid)
            mine = pipe.execute()
        seats = self.seats(pid) if seats is None else seats
        return {rnd.id: seats[rnd.id] for rnd, is_mine in zip(rounds, mine) if is_mine and rnd.id in seats}

    def taken(self) -> dict[str, dict[str, int]]:
        """Round id -> session id -> seats taken."""
        rounds = self.program.rounds
        with self.r.pipeline(transaction=False) as pipe:
            for rnd in rounds:
                pipe.hgetall(self.keys.taken(rnd.id))
            values = pipe.execute()
        return {rnd.id: {s.id: max(0, int(v.get(s.id, 0))) for s in rnd.sessions} for rnd, v in zip(rounds, values)}

    def locked(self) -> set[str]:
        return set(self.r.smembers(self.keys.locked))

    def occupancy(self) -> dict[str, tuple[dict[str, str], set[str]]]:
        """Round id -> (pid -> session, pids whose seat is chosen): everything the moderator's counts need."""
        rounds = self.program.rounds
        with self.r.pipeline(transaction=False) as pipe:
            for rnd in rounds:
                pipe.hgetall(self.keys.seats(rnd.id))
                pipe.smembers(self.keys.chosen(rnd.id))
            values = pipe.execute()
        return {rnd.id: (values[2 * i], values[2 * i + 1]) for i, rnd in enumerate(rounds)}

    def members(self, round_id: str) -> dict[str, str]:
        """pid -> session for one round."""
        return self.r.hgetall(self.keys.seats(round_id))

    # -- changing --------------------------------------------------------------------------------

    def choose(self, pid: str, wanted: dict[str, str | None]) -> None:
        """Set this participant's choices (None withdraws one); all or nothing; raises session_full."""
        keys, args = [], [pid]
        rounds = []
        for round_id, session_id in wanted.items():
            rnd = self.program.phase(round_id)
            session = rnd.session(session_id) if session_id else None
            keys += [self.keys.seats(rnd.id), self.keys.taken(rnd.id), self.keys.chosen(rnd.id)]
            args += [session.id if session else "", session.capacity if session else 0]
            rounds.append((rnd, session))
        if not rounds:
            return
        status, index = self._choose(keys=keys, args=args)
        if status == "full":
            rnd, session = rounds[int(index) - 1]
            raise PleinError("session_full", 409, title=session.title, details={
                "round": rnd.id, "session": session.id, "suggestions": self.with_room(rnd, exclude=session.id)})

    def with_room(self, rnd: Phase, exclude: str | None = None) -> list[dict]:
        """Sessions of a round that still have places, most places first."""
        taken = self.taken()[rnd.id]
        free = [(s.capacity - taken[s.id], i, s) for i, s in enumerate(rnd.sessions) if s.id != exclude]
        return [{"id": s.id, "title": s.title, "places_left": left}
                for left, _, s in sorted(free, key=lambda t: (-t[0], t[1])) if left > 0]

    def place(self, round_id: str, pid: str | None = None, since: float | None = None) -> list[Placed]:
        """Give a seat to whoever has none in this round (everyone, one participant, or those who joined from
        `since` on: then the work grows with them, not with everyone); in join order."""
        rnd = self.program.phase(round_id)
        args = ["since", repr(since)] if since is not None else ["all" if pid is None else pid]
        for s in rnd.sessions:
            args += [s.id, s.capacity]
        flat = self._place(keys=[self.keys.seats(rnd.id), self.keys.taken(rnd.id), self.keys.participants], args=args)
        return [Placed(flat[i], flat[i + 1], flat[i + 2] == "1") for i in range(0, len(flat), 3)]

    def move(self, round_id: str, pid: str, session_id: str) -> int:
        """Seat a participant in a session whatever its capacity; returns the seats taken there now."""
        return int(self._move(keys=[self.keys.seats(round_id), self.keys.taken(round_id), self.keys.chosen(round_id)],
                              args=[pid, session_id]))

    def lock(self, round_id: str, locked: bool) -> None:
        if locked:
            self.r.sadd(self.keys.locked, round_id)
        else:
            self.r.srem(self.keys.locked, round_id)
