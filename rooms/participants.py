"""Participants: sign-up with a display name and bearer tokens."""
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

    def count(self) -> int:
        return self.r.zcard(self.keys.participants)

    def names(self, pids) -> dict[str, str]:
        """pid -> display name, for many at once."""
        pids = list(pids)
        with self.r.pipeline(transaction=False) as pipe:
            for pid in pids:
                pipe.hget(self.keys.participant(pid), "name")
            return {pid: name for pid, name in zip(pids, pipe.execute()) if name is not None}

    def joined(self) -> list[tuple[str, float]]:
        """Every participant with the time they joined, in join order."""
        return self.r.zrange(self.keys.participants, 0, -1, withscores=True)
