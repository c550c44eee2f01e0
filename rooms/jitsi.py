"""Jitsi rooms: which room a participant belongs in, its unguessable name, its JWT, the deployment check."""
from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass

import jwt
import requests

from .program import Phase, Program, Session
from .timeline import Slot

PUBLIC_DOMAIN = "meet.jit.si"


@dataclass(frozen=True)
class JitsiSettings:
    domain: str = PUBLIC_DOMAIN
    external_api_url: str = ""  # default: https://<domain>/external_api.js
    app_id: str = ""
    app_secret: str = ""
    audience: str = "jitsi"
    subject: str = ""  # default: the domain
    token_ttl: int = 3600  # seconds a token stays valid after the phase it is for has ended
    room_size_url: str = ""  # mod_muc_size endpoint, e.g. https://meet.example.org/room-size
    muc_domain: str = ""  # default: conference.<domain>
    room_size_interval: float = 10.0

    @property
    def muc(self) -> str:
        return self.muc_domain or f"conference.{self.domain.split(':')[0]}"

    @property
    def script_url(self) -> str:
        return self.external_api_url or f"https://{self.domain}/external_api.js"

    @property
    def uses_tokens(self) -> bool:
        return bool(self.app_id and self.app_secret)

    @property
    def is_public(self) -> bool:
        """meet.jit.si cuts embedded calls after 5 minutes: fine for a demo, not for an evening."""
        return self.domain.split(":")[0].lower() == PUBLIC_DOMAIN


@dataclass(frozen=True)
class Room:
    """A video room: where a participant should be during one phase."""

    name: str
    phase: Phase
    session: Session | None  # None: the plenary room (also the foyer during breaks)
    host_phase: Phase  # the phase whose room this is (a break uses a plenary's room)

    @property
    def title(self) -> str:
        return self.session.title if self.session else self.host_phase.title


def foyer_phase(program: Program, index: int) -> Phase | None:
    """The plenary whose room serves as foyer for phase `index`: the last before it, else the next."""
    phases = program.phases
    before = [p for p in phases[:index] if p.kind == "plenary"]
    if before:
        return before[-1]
    return next((p for p in phases[index + 1:] if p.kind == "plenary"), None)


class RoomService:
    """Maps (phase, placement) to rooms and hands them out in wire form."""

    def __init__(self, program: Program, secret: str, settings: JitsiSettings):
        self.program = program
        self.settings = settings
        self._key = hmac.new(secret.encode(), f"rooms:{program.slug}".encode(), hashlib.sha256).digest()

    def name(self, phase_id: str, part: str) -> str:
        """`<slug>-<part>-<hmac>`: [a-z0-9-], under 100 characters, unguessable without the secret."""
        digest = hmac.new(self._key, f"{phase_id}/{part}".encode(), hashlib.sha256).hexdigest()[:20]
        return f"{self.program.slug[:30].strip('-')}-{part[:40].strip('-')}-{digest}"

    def foyer_phase(self, index: int) -> Phase | None:
        return foyer_phase(self.program, index)

    def room(self, slot: Slot | None, placements: dict[str, str]) -> Room | None:
        """The room for this phase, given the participant's placements (round id -> session id)."""
        if slot is None:
            return None
        phase = slot.phase
        if phase.kind == "round":
            session = phase.session(placements.get(phase.id, ""))
            if session is None:
                return None
            return Room(self.name(phase.id, session.id), phase, session, phase)
        if phase.kind == "plenary":
            return Room(self.name(phase.id, phase.id), phase, None, phase)
        host = self.foyer_phase(slot.index)
        if host is None:
            return Room(self.name("foyer", "foyer"), phase, None, phase)
        return Room(self.name(host.id, host.id), phase, None, host)

    def session_room(self, slot: Slot, session: Session) -> Room:
        return Room(self.name(slot.phase.id, session.id), slot.phase, session, slot.phase)

    def wire(self, room: Room | None, user: dict | None = None, valid_until: float | None = None,
             now: float | None = None) -> dict | None:
        """The `room` object of a `state` push; with a JWT when tokens are configured and a user is given."""
        if room is None:
            return None
        out = {
            "domain": self.settings.domain,
            "name": room.name,
            "title": room.title,
            "session": None if room.session is None else {
                "id": room.session.id, "title": room.session.title, "kind": room.session.kind},
            "token_required": self.settings.uses_tokens,
        }
        if self.settings.uses_tokens and user is not None:
            out["jwt"] = self.token(room.name, user, valid_until, now)
        return out

    def token(self, room_name: str, user: dict, valid_until: float | None = None, now: float | None = None) -> str:
        """A short-lived HS256 JWT for exactly this room (self-hosted Jitsi with token auth)."""
        s = self.settings
        now = time.time() if now is None else now
        exp = max(now, valid_until or now) + s.token_ttl
        claims = {
            "iss": s.app_id, "aud": s.audience, "sub": s.subject or s.domain.split(":")[0],
            "room": room_name, "iat": int(now), "nbf": int(now) - 30, "exp": int(exp),
            # A session host is a Jitsi moderator in their own room (Prosody's token_affiliation reads
            # `moderator`; the JaaS/jitsi-meet-tokens convention reads `affiliation`).
            "context": {"user": {"id": user["id"], "name": user["name"],
                                 "moderator": bool(user.get("moderator", False)),
                                 "affiliation": "owner" if user.get("moderator") else "member"}},
        }
        return jwt.encode(claims, s.app_secret, algorithm="HS256")


def check_deployment(settings: JitsiSettings, timeout: float = 3.0) -> dict:
    """Does the deployment serve external_api.js? Never raises: unreachable is a warning."""
    url = settings.script_url
    result = {"url": url, "checked_at": time.time(), "ok": False}
    try:
        resp = requests.get(url, timeout=timeout)
    except requests.RequestException as exc:
        result["detail"] = f"unreachable: {type(exc).__name__}"
        return result
    if resp.status_code != 200:
        result["detail"] = f"HTTP {resp.status_code}"
    elif "JitsiMeetExternalAPI" not in resp.text:
        result["detail"] = "answered, but not with the Jitsi IFrame API"
    else:
        result["ok"] = True
        result["detail"] = "ok"
    return result
