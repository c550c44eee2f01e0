"""Jitsi rooms: which room a participant belongs in, its unguessable name, its JWT, the deployment check."""
from __future__ import annotations

import email.utils
import hashlib
import hmac
import json
import time
import warnings
from dataclasses import dataclass, field

import jwt
import requests

from .program import Phase, Program, Session
from .timeline import Slot

PUBLIC_DOMAIN = "meet.jit.si"
JAAS_DOMAIN = "8x8.vc"
# Open deployments that cut embedded calls after 5 minutes (meet.jit.si; 8x8.vc without a JaaS account).
DEMO_DOMAINS = (PUBLIC_DOMAIN, JAAS_DOMAIN)
NBF_LEEWAY = 30  # seconds a token is valid before it was made, for a Jitsi whose clock runs a little behind


@dataclass(frozen=True)
class JitsiSettings:
    """Which Jitsi deployment the rooms are on, in one of three modes (`mode`):

    - "open": no tokens; anyone with a room name gets in, and Jitsi alone decides who is moderator;
    - "tokens": a self-hosted Jitsi with token auth (HS256 with `app_id`/`app_secret`);
    - "jaas": 8x8's Jitsi as a Service (RS256 with `jaas_private_key`, `kid` = `jaas_key_id`).
    """

    domain: str = PUBLIC_DOMAIN
    external_api_url: str = ""  # default: https://<domain>/external_api.js (JaaS: https://8x8.vc/<AppID>/...)
    app_id: str = ""
    app_secret: str = field(default="", repr=False)
    audience: str = "jitsi"
    subject: str = ""  # default: the domain
    token_ttl: int = 3600  # seconds a token stays valid after the phase it is for has ended
    room_size_url: str = ""  # mod_muc_size endpoint, e.g. https://meet.example.org/room-size
    muc_domain: str = ""  # default: conference.<domain>
    room_size_interval: float = 10.0
    jaas_app_id: str = ""  # vpaas-magic-cookie-...
    jaas_key_id: str = ""  # the API key's id, sent as the token header's `kid`
    jaas_private_key: str = field(default="", repr=False)  # PEM; never sent to a browser or written to a log

    @classmethod
    def jaas(cls, app_id: str, key_id: str, private_key: str, **others) -> "JitsiSettings":
        """JaaS: the domain is 8x8.vc and the script comes from the AppID's own path."""
        return cls(domain=JAAS_DOMAIN, jaas_app_id=app_id, jaas_key_id=key_id, jaas_private_key=private_key,
                   **others)

    @property
    def mode(self) -> str:
        if self.jaas_app_id:
            return "jaas"
        return "tokens" if self.app_id and self.app_secret else "open"

    @property
    def host(self) -> str:
        return self.domain.split(":")[0].lower()

    @property
    def muc(self) -> str:
        return self.muc_domain or f"conference.{self.host}"

    @property
    def script_url(self) -> str:
        if self.external_api_url:
            return self.external_api_url
        if self.mode == "jaas":
            return f"https://{self.domain}/{self.jaas_app_id}/external_api.js"
        return f"https://{self.domain}/external_api.js"

    @property
    def uses_tokens(self) -> bool:
        return self.mode != "open"

    @property
    def polls_room_sizes(self) -> bool:
        """JaaS has no mod_muc_size endpoint to ask."""
        return bool(self.room_size_url) and self.mode != "jaas"

    @property
    def is_public(self) -> bool:
        """meet.jit.si (and 8x8.vc without JaaS) cut embedded calls after 5 minutes: a demo, not an evening."""
        return self.mode != "jaas" and self.host in DEMO_DOMAINS

    @property
    def kid(self) -> str:
        """JaaS names a key `<AppID>/<key id>`; the key id alone is completed with the AppID."""
        key = self.jaas_key_id
        return key if "/" in key else f"{self.jaas_app_id}/{key}"

    def jitsi_room(self, name: str) -> str:
        """The room name as the IFrame API wants it: JaaS rooms live under the AppID."""
        return f"{self.jaas_app_id}/{name}" if self.mode == "jaas" else name


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
            "jitsi_room": self.settings.jitsi_room(room.name),
            "title": room.title,
            "session": None if room.session is None else {
                "id": room.session.id, "title": room.session.title, "kind": room.session.kind},
            "token_required": self.settings.uses_tokens,
        }
        if self.settings.uses_tokens and user is not None:
            out["jwt"] = self.token(room.name, user, valid_until, now)
        return out

    def token(self, room_name: str, user: dict, valid_until: float | None = None, now: float | None = None) -> str:
        """A short-lived JWT for exactly this room, for the configured mode (see `token_claims`)."""
        return sign(self.settings, token_claims(self.settings, room_name, user, valid_until, now))


def sign(s: JitsiSettings, claims: dict) -> str:
    """HS256 with the app secret (self-hosted), RS256 with the private key and its `kid` (JaaS)."""
    if s.mode == "jaas":
        return jwt.encode(claims, s.jaas_private_key, algorithm="RS256", headers={"kid": s.kid})
    return jwt.encode(claims, s.app_secret, algorithm="HS256")


def token_claims(s: JitsiSettings, room_name: str, user: dict, valid_until: float | None = None,
                 now: float | None = None) -> dict:
    """The claims of a room token. `user` is {id, name, moderator}: moderator only for that room's host.

    - Self-hosted (HS256): `iss` the app id, `aud`, `sub` the domain, `room`, and `context.user` with
      `moderator` ("true"/"false") and `affiliation` ("owner"/"member"). Stock Jitsi reads neither claim:
      Prosody's token_affiliation module (shipped with jitsi-meet since 2026, jitsi-contrib's copy before)
      takes `affiliation == "owner"` or `moderator == "true"`, and only with jicofo's auto-owner and
      jicofo's own authentication off (deploy/jitsi/); without it Jitsi picks its own moderators, and the
      console warns. The string, not a boolean: older token utilities put claims into presence with
      `:text(v)`, which fails on a boolean.
    - JaaS (RS256): `aud` "jitsi", `iss` "chat", `sub` the AppID, `room` the bare name (Jitsi adds the
      tenant from `sub`), `context.user.moderator` as the string "true"/"false" (JaaS reads it), and
      `context.features` switching off what an evening does not offer (livestreaming, recording,
      transcription, outbound and SIP calls).
    Both: `nbf` NBF_LEEWAY seconds back, `exp` token_ttl after the phase the token is for.
    """
    now = time.time() if now is None else now
    exp = max(now, valid_until or now) + s.token_ttl
    host = bool(user.get("moderator", False))
    times = {"iat": int(now), "nbf": int(now) - NBF_LEEWAY, "exp": int(exp)}
    if s.mode == "jaas":
        return {
            "aud": "jitsi", "iss": "chat", "sub": s.jaas_app_id, "room": room_name, **times,
            "context": {
                "user": {"id": user["id"], "name": user["name"], "moderator": "true" if host else "false"},
                "features": {"livestreaming": "false", "recording": "false", "transcription": "false",
                             "outbound-call": "false", "sip-outbound-call": "false"},
            },
        }
    return {
        "iss": s.app_id, "aud": s.audience, "sub": s.subject or s.host, "room": room_name, **times,
        "context": {"user": {"id": user["id"], "name": user["name"], "moderator": "true" if host else "false",
                             "affiliation": "owner" if host else "member"}},
    }


MIN_SECRET_BYTES = 32  # HS256 wants a key at least as long as its hash
SKEW_WARN = 20  # seconds: tokens carry nbf NBF_LEEWAY back, so a Jitsi this far behind is close to refusing them


def sample_token(s: JitsiSettings, now: float | None = None) -> tuple[dict, dict]:
    """Sign a token for a sample host in a sample room, as the rooms will: (header, claims).
    Raises ValueError when the configured key cannot sign (a JaaS key that is not an RSA private key)."""
    user = {"id": "plein-check", "name": "Plein check", "moderator": True}
    claims = token_claims(s, "plein-check", user, now=now)
    try:
        with warnings.catch_warnings():  # a short HS256 secret is reported by check_report, not as a warning
            warnings.simplefilter("ignore")
            token = sign(s, claims)
    except (ValueError, TypeError, jwt.PyJWTError) as exc:
        raise ValueError(type(exc).__name__) from None
    return jwt.get_unverified_header(token), claims


def check_deployment(settings: JitsiSettings, timeout: float = 3.0, now=time.time) -> dict:
    """Does the deployment serve external_api.js, and how far is its clock from ours (`skew`, seconds,
    theirs minus ours, from the answer's Date header)? Never raises: unreachable is a finding."""
    url = settings.script_url
    result = {"url": url, "checked_at": now(), "ok": False, "skew": None}
    try:
        resp = requests.get(url, timeout=timeout)
    except requests.RequestException as exc:
        result["detail"] = f"unreachable: {type(exc).__name__}"
        return result
    result["skew"] = _skew(resp.headers.get("Date"), now())
    if resp.status_code != 200:
        result["detail"] = f"HTTP {resp.status_code}"
    elif "JitsiMeetExternalAPI" not in resp.text:
        result["detail"] = "answered, but not with the Jitsi IFrame API"
    else:
        result["ok"] = True
        result["detail"] = "ok"
    return result


def _skew(date_header: str | None, ours: float) -> float | None:
    try:
        theirs = email.utils.parsedate_to_datetime(date_header).timestamp() if date_header else None
    except (TypeError, ValueError):
        return None
    return None if theirs is None else round(theirs - ours, 1)


MODE_TEXT = {
    "open": "open deployment without tokens: Jitsi alone decides who is moderator",
    "tokens": "self-hosted with HS256 tokens: hosts are moderators only with mod_token_affiliation "
              "and jicofo's auto-owner off (deploy/jitsi/)",
    "jaas": "JaaS (8x8.vc) with RS256 tokens: hosts are moderators, participants are not",
}


def summary_line(s: JitsiSettings) -> str:
    """One line for `plein serve`: mode, where, and what it means for the evening."""
    where = f"{s.domain} (AppID {s.jaas_app_id})" if s.mode == "jaas" else s.domain
    line = f"{where}: {MODE_TEXT[s.mode]}"
    if s.is_public:
        line += f"; {s.host} cuts embedded calls after 5 minutes: a demo, not an evening"
    return line


def check_report(s: JitsiSettings, timeout: float = 5.0, sizes=None, now=time.time) -> tuple[list[str], list[str]]:
    """`plein jitsi check`: (lines to print, problems). Secrets and keys are never in either."""
    lines = [f"Mode:        {s.mode} - {MODE_TEXT[s.mode]}", f"Domain:      {s.domain}"]
    problems: list[str] = []
    if s.is_public:
        problems.append(f"{s.host} cuts embedded calls after 5 minutes"
                        + (" and asks someone to log in before a room opens" if s.host == PUBLIC_DOMAIN else "")
                        + ": use a self-hosted Jitsi or JaaS for an evening")
    script = check_deployment(s, timeout, now=now)
    lines.append(f"IFrame API:  {script['url']} - {script['detail']}")
    if not script["ok"]:
        problems.append(f"external_api.js at {script['url']}: {script['detail']}")
    if script["skew"] is not None:
        lines.append(f"Clock:       the Jitsi server's clock is {script['skew']:+.1f} s from this machine's")
        if abs(script["skew"]) > SKEW_WARN and s.uses_tokens:
            problems.append(f"clocks differ by {abs(script['skew']):.0f} s (more than {SKEW_WARN} s): tokens are "
                            f"valid from {NBF_LEEWAY} s before they are made, so Jitsi may refuse them; "
                            "run NTP on both machines")
    if s.mode == "tokens" and len(s.app_secret.encode()) < MIN_SECRET_BYTES:
        problems.append(f"JITSI_APP_SECRET is shorter than {MIN_SECRET_BYTES} bytes: a guessable secret lets "
                        "anyone make tokens, moderator rights included")
    if s.mode == "jaas" and not s.kid.startswith(f"{s.jaas_app_id}/"):
        problems.append(f"JITSI_JAAS_KEY_ID {s.jaas_key_id!r} belongs to another AppID than JITSI_JAAS_APP_ID: "
                        "JaaS names a key <AppID>/<key id>")
    if s.uses_tokens:
        try:
            header, claims = sample_token(s, now=now())
        except ValueError as exc:
            problems.append(f"cannot sign a token with the configured key ({exc})")
        else:
            lines.append("Sample token (a host in room plein-check; the secret is not shown):")
            lines.append("  header: " + json.dumps(header, sort_keys=True))
            lines.append("  claims: " + json.dumps(claims, sort_keys=True, ensure_ascii=False))
    else:
        lines.append("Tokens:      none (anyone with a room's name can enter it)")
    if s.polls_room_sizes and sizes is not None:
        try:
            count = sizes.size("plein-check")
        except (requests.RequestException, ValueError) as exc:
            problems.append(f"room-size endpoint {s.room_size_url}: {str(exc)[:120]}")
        else:
            lines.append(f"Room sizes:  {s.room_size_url} answers (a test room has {count})")
    elif s.mode == "jaas":
        lines.append("Room sizes:  not polled on JaaS")
    else:
        lines.append("Room sizes:  not configured (JITSI_ROOM_SIZE_URL)")
    return lines, problems
