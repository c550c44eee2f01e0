"""Participants: sign-up with a display name, bearer tokens, and placement in every round."""
from __future__ import annotations

import hashlib
import secrets
import time
import unicodedata
from dataclasses import dataclass

import redis

from .errors import PleinError
from .program import Program
from .store import Keys

NAME_MAX = 60

# Place one participant in the least-filled session of a round (ties: program order), atomically,
# unless already placed. KEYS: placement hash, counts hash. ARGV: participant id, session ids...
_PLACE = """
local current = redis.call('HGET', KEYS[1], ARGV[1])
if current then return current end
local best, best_n = nil, nil
for i = 2, #ARGV do
  local n = tonumber(redis.call('HGET', KEYS[2], ARGV[i]) or '0')
  if best_n == nil or n < best_n then best, best_n = ARGV[i], n end
end
redis.call('HSET', KEYS[1], ARGV[1], best)
redis.call('HINCRBY', KEYS[2], best, 1)
return best
"""


@dataclass(frozen=True)
class Participant:
    id: str
    name: str


def clean_name(raw) -> str:
    """The display name as stored: NFC, trimmed, 1-60 characters, no control characters."""
    if not isinstance(raw, str):
        raise PleinError("name_missing")
    name = unicodedata.normalize("NFC", raw).strip()
    if not name:
        raise PleinError("name_missing")
    if any(unicodedata.category(c) in ("Cc", "Cs", "Zl", "Zp") for c in name):
        raise PleinError("name_control")
    if len(name) > NAME_MAX:
        raise PleinError("name_too_long", max=NAME_MAX)
    return name


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ParticipantService:
    """Owns every participant key of one event."""

    def __init__(self, r: redis.Redis, program: Program):
        self.r = r
        self.program = program
        self.keys = Keys(program.slug)
        self._place = r.register_script(_PLACE)

    def create(self, raw_name) -> tuple[Participant, str]:
        """Sign up a participant; returns it and its bearer token (only its hash is stored)."""
        name = clean_name(raw_name)
        pid = secrets.token_hex(8)
        token = secrets.token_urlsafe(32)
        with self.r.pipeline() as pipe:  # MULTI/EXEC: all of it or nothing
            pipe.hset(self.keys.participant(pid), mapping={"name": name, "created_at": f"{time.time():.3f}"})
            pipe.hset(self.keys.tokens, _token_hash(token), pid)
            pipe.zadd(self.keys.participants, {pid: time.time()})
            pipe.execute()
        participant = Participant(pid, name)
        self.ensure_placed(participant.id)
        return participant, token

    def get(self, pid: str | None) -> Participant | None:
        if not pid or not isinstance(pid, str) or len(pid) > 64:
            return None
        name = self.r.hget(self.keys.participant(pid), "name")
        return None if name is None else Participant(pid, name)

    def by_token(self, token) -> Participant | None:
        if not isinstance(token, str) or not 10 <= len(token) <= 200:
            return None
        return self.get(self.r.hget(self.keys.tokens, _token_hash(token)))

    def ensure_placed(self, pid: str) -> dict[str, str]:
        """Place the participant in every round not yet placed (provisional: fewest so far); return all."""
        placements = {}
        for rnd in self.program.rounds:
            placements[rnd.id] = self._place(
                keys=[self.keys.placement(rnd.id), self.keys.counts(rnd.id)],
                args=[pid, *[s.id for s in rnd.sessions]],
            )
        return placements

    def placements(self, pid: str) -> dict[str, str]:
        """Round id -> session id for this participant (only sessions that still exist)."""
        rounds = self.program.rounds
        with self.r.pipeline(transaction=False) as pipe:
            for rnd in rounds:
                pipe.hget(self.keys.placement(rnd.id), pid)
            values = pipe.execute()
        return {rnd.id: sid for rnd, sid in zip(rounds, values) if sid and rnd.session(sid)}

    def count(self) -> int:
        return self.r.zcard(self.keys.participants)
