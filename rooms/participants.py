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
from .store import Keys, Reads

NAME_MAX = 60

@dataclass(frozen=True)
class Participant:
    id: str
    name: str


# Bidi controls reorder what follows them on screen ("Anna" + U+202E + "rotaredoM" shows as "AnnaModerator").
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Letters and symbols that draw nothing (Hangul fillers, the blank Braille pattern).
BLANK_GLYPHS = frozenset("\u115f\u1160\u3164\uffa0\u2800")
# What the console signs its own messages with: no participant may look like it.
RESERVED_NAMES = ("moderator", "moderatie", "api", "plein", "organisatie", "organisator", "organiser", "organizer",
                  "admin", "beheer", "beheerder", "host")


def skeleton(name: str) -> str:
    """The name as a reader takes it in: compatibility forms folded, case, accents, spaces, punctuation and
    invisible characters gone ("M o d e r a t o r", "ＭＯＤＥＲＡＴＯＲ" and "Modérator!" all read "moderator")."""
    folded = unicodedata.normalize("NFKD", name).casefold()
    return "".join(c for c in folded if unicodedata.category(c)[0] in "LN" and c not in BLANK_GLYPHS)


def clean_name(raw, *, organiser: bool = False) -> str:
    """The display name as stored: NFC, trimmed, 1-60 characters, no control characters, something visible,
    and (but for the organisers' own names: `organiser`) not a name the console uses for itself."""
    if not isinstance(raw, str):
        raise PleinError("name_missing")
    name = unicodedata.normalize("NFC", raw).strip()
    if not name:
        raise PleinError("name_missing")
    if any(unicodedata.category(c) in ("Cc", "Cs", "Zl", "Zp") or c in BIDI_CONTROLS for c in name):
        raise PleinError("name_control")
    if len(name) > NAME_MAX:
        raise PleinError("name_too_long", max=NAME_MAX)
    if not any(unicodedata.category(c)[0] in "LNPS" and c not in BLANK_GLYPHS for c in name):  # nothing shows
        raise PleinError("name_invisible")
    letters = skeleton(name)
    if not organiser and (letters.startswith(RESERVED_NAMES[0]) or letters in RESERVED_NAMES):
        raise PleinError("name_reserved", name=name)
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
        pipe.hset(self.keys.names, participant.id, participant.name)
        pipe.hset(self.keys.tokens, token_hash(token), participant.id)
        pipe.zadd(self.keys.participants, {participant.id: now})

    def get(self, pid: str | None) -> Participant | None:
        """A participant who can act (signed up, not removed), else None: their token and cookie are void."""
        if not pid or not isinstance(pid, str) or len(pid) > 64:
            return None
        reads = Reads(self.r)
        found = self.read_get(reads, pid)
        reads.execute()
        return found()

    def read_get(self, reads: Reads, pid: str):
        """`get` as part of a batch of reads (pid already checked for type and length)."""
        def parse(replies):
            name, removed = replies[0]
            return None if name is None or removed else Participant(pid, name)
        return reads.add(lambda pipe: pipe.hmget(self.keys.participant(pid), ["name", "removed"]), parse)

    def pid_of_token(self, token) -> str | None:
        """The participant id a token names (not yet checked for removal), else None."""
        if not isinstance(token, str) or not 10 <= len(token) <= 200:
            return None
        return self.r.hget(self.keys.tokens, token_hash(token))

    def remove(self, pid: str, now: float) -> None:
        """Take a participant out of the evening: every way they sign in stops working (token, cookie, personal
        link), and they leave the lists. What they wrote stays, under their name, for the audit."""
        with self.r.pipeline() as pipe:
            pipe.hset(self.keys.participant(pid), "removed", f"{now:.3f}")
            pipe.zrem(self.keys.participants, pid)
            pipe.execute()

    def by_token(self, token) -> Participant | None:
        return self.get(self.pid_of_token(token))

    def count(self) -> int:
        return self.r.zcard(self.keys.participants)

    def names(self, pids) -> dict[str, str]:
        """pid -> display name, for many at once: one command (the console reads everyone's every second while
        people come and go). Participants who joined before the names hash existed are read one by one."""
        pids = list(pids)
        if not pids:
            return {}
        found = {pid: name for pid, name in zip(pids, self.r.hmget(self.keys.names, pids)) if name is not None}
        older = [pid for pid in pids if pid not in found]
        if older:
            with self.r.pipeline(transaction=False) as pipe:
                for pid in older:
                    pipe.hget(self.keys.participant(pid), "name")
                found.update({pid: name for pid, name in zip(older, pipe.execute()) if name is not None})
        return found

    def joined(self) -> list[tuple[str, float]]:
        """Every participant with the time they joined, in join order."""
        return self.r.zrange(self.keys.participants, 0, -1, withscores=True)
