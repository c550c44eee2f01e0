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


def token_hash(token: str) -> str:
    """Tokens are stored only as their SHA-256."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_participant(name: str) -> tuple["Participant", str]:
    """A fresh id and bearer token for a (cleaned) name."""
    return Participant(secrets.token_hex(8), name), secrets.token_urlsafe(32)


class ParticipantService:
    """Owns every participant key of one event."""

    def __init__(self, r: redis.Redis, program: Program):
        self.r = r
        self.program = program
        self.keys = Keys(program.slug)

    def create(self, raw_name) -> tuple[Participant, str]:
        """Sign up a participant; returns it and its bearer token (only its hash is stored)."""
        name = clean_name(raw_name)
        participant, token = new_participant(name)
        with self.r.pipeline() as pipe:  # MULTI/EXEC: all of it or nothing
            self.write(pipe, participant, token)
            pipe.execute()
        return participant, token

    def write(self, pipe, participant: "Participant", token: str, email: str | None = None) -> None:
        """Queue the writes that make a participant exist (inside the caller's MULTI)."""
        now = time.time()
        fields = {"name": participant.name, "created_at": f"{now:.3f}"}
        if email:
            fields["email"] = email
            pipe.hset(self.keys.emails, email.lower(), participant.id)
        pipe.hset(self.keys.participant(participant.id), mapping=fields)
        pipe.hset(self.keys.tokens, token_hash(token), participant.id)
        pipe.zadd(self.keys.participants, {participant.id: now})

    def get(self, pid: str | None) -> Participant | None:
        if not pid or not isinstance(pid, str) or len(pid) > 64:
            return None
        name = self.r.hget(self.keys.participant(pid), "name")
        return None if name is None else Participant(pid, name)

    def by_token(self, token) -> Participant | None:
        if not isinstance(token, str) or not 10 <= len(token) <= 200:
            return None
        return self.get(self.r.hget(self.keys.tokens, token_hash(token)))

    def connect(self, pid: str, sid: str) -> None:
        """Remember a socket of this participant, so any worker can move it between Socket.IO rooms."""
        with self.r.pipeline() as pipe:
            pipe.sadd(self.keys.sockets(pid), sid)
            pipe.expire(self.keys.sockets(pid), 86400)
            pipe.execute()

    def disconnect(self, pid: str, sid: str) -> None:
        self.r.srem(self.keys.sockets(pid), sid)

    def sockets(self, pid: str) -> set[str]:
        return self.r.smembers(self.keys.sockets(pid))

    def connected(self, pids) -> set[str]:
        """Which of these participants have at least one socket now."""
        pids = list(pids)
        with self.r.pipeline(transaction=False) as pipe:
            for pid in pids:
                pipe.exists(self.keys.sockets(pid))
            return {pid for pid, n in zip(pids, pipe.execute()) if n}

    def count(self) -> int:
        return self.r.zcard(self.keys.participants)
