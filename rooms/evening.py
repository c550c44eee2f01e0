"""One evening: the services over one program and one Redis, and the `state` messages they produce.

Socket.IO room names live here too, so the server and the ticker agree on them. A transition is sent
as one message per session (everyone in it gets the same payload), never one per participant.
"""
from __future__ import annotations

import hmac
import json
import secrets
import time
from dataclasses import dataclass

import redis

from .audit import Actor, AuditLog
from .clock import ClockService
from .console import Broadcasts, HelpDesk, Hosts
from .jitsi import JitsiSettings, RoomService, check_deployment
from .limits import Limits
from .errors import PleinError
from .occupancy import RoomSizes
from .overview import overview
from .participants import Participant, ParticipantService
from .presence import Presence
from .program import Phase, Program
from .seats import SeatService
from .storage import Storage
from .store import Keys
from .timeline import State, state_dict
from .video_roles import VideoRoles

WARN_MINUTES = (5, 1)
# Program minutes before a round starts at which whoever chose nothing is placed (and their sockets moved into
# their session's Socket.IO room), so that the round's start itself only emits.
PLACE_AHEAD_MINUTES = 1
# At the round's start, who joined from this long before the placement ahead on is checked for a seat: join times
# come from the workers' clocks (NTP keeps them within milliseconds) and a sign-up's write may land a moment after
# its time was read. Anyone it still missed is seated as soon as their page connects or asks its state.
JOIN_CLOCK_MARGIN = 10.0
MODERATOR_KEY_MIN = 22  # characters of a configured key: 128 bits as URL-safe base64

# Scripts for the ticker. Leader: keep the lock only if it is still ours.
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
# Fire once: set the marker only if it differs; 1 when this call changed it.
_FIRE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
return 1
"""


def channel_all(slug: str) -> str:
    """Socket.IO room of every participant of the event."""
    return f"{slug}:all"


def channel_session(slug: str, session_id: str) -> str:
    """Socket.IO room of everyone placed in one session (session ids are unique in a program)."""
    return f"{slug}:session:{session_id}"


def channel_moderators(slug: str, fingerprint: str) -> str:
    """The moderators signed in with the current key: a rotation leaves the old sockets in a room
    that nothing is sent to any more."""
    return f"{slug}:moderators:{fingerprint[:16]}"


def channel_hosts(slug: str, session_id: str) -> str:
    """Socket.IO room of the hosts of one session (they get that room's presence)."""
    return f"{slug}:hosts:{session_id}"


def channel_note(slug: str, session_id: str) -> str:
    """Socket.IO room of the participants' sockets that joined one session's note (its updates and cards)."""
    return f"{slug}:notes:{session_id}"


def channel_note_moderators(slug: str, session_id: str, fingerprint: str) -> str:
    """The same for moderators signed in with the current key: after a rotation the old sockets stay in a room
    that no note update or card reaches any more."""
    return f"{slug}:notes-moderators:{fingerprint[:16]}:{session_id}"


def note_of(slug: str, channel: str) -> str | None:
    """The session id of a note room (either kind), else None."""
    for prefix in (f"{slug}:notes:", f"{slug}:notes-moderators:"):
        if channel.startswith(prefix):
            return channel[len(prefix):].split(":")[-1]
    return None


def channel_participant(slug: str, pid: str) -> str:
    """Socket.IO room of one participant's sockets (all tabs), for personal messages."""
    return f"{slug}:participant:{pid}"


@dataclass(frozen=True)
class Push:
    """One message to send: event name, Socket.IO room (or rooms: one message to all of them), payload."""

    event: str
    to: str | list[str]
    data: dict


@dataclass(frozen=True)
class Regroup:
    """Move these sockets (on any worker) out of some Socket.IO rooms and into others, before what follows."""

    sids: tuple[str, ...]
    leave: tuple[str, ...] = ()
    enter: tuple[str, ...] = ()


@dataclass(frozen=True)
class Disconnect:
    """Close these sockets (on any worker), after what came before."""

    sids: tuple[str, ...]


class Evening:
    """Everything the server needs for one event, all storage through Redis."""

    def __init__(self, program: Program, r: redis.Redis, *, jitsi: JitsiSettings,
                 secret: str | None = None, moderator_key: str | None = None,
                 speed: float = 1.0, start: float | None = None, presence_ttl: float = 15.0,
                 limits: dict | None = None, rate_limits: bool = True, storage_headroom: int | None = None,
                 now=time.time):
        self.program = program
        self.r = r
        self.keys = Keys(program.slug)
        self.now = now
        self.tz = program.tz
        self.jitsi = jitsi
        self.secret = self._stored_secret(self.keys.secret, secret)
        if moderator_key is not None and len(moderator_key) < MODERATOR_KEY_MIN:
            raise ValueError(f"the moderator key must be at least {MODERATOR_KEY_MIN} characters (128 bits); "
                             "leave PLEIN_MODERATOR_KEY unset to have one generated")
        self.configured_moderator_key = moderator_key
        self._stored_secret(self.keys.moderator_key, None)
        self.clock = ClockService(r, program, speed=speed, start=start, now=now)
        self.participants = ParticipantService(r, program)
        self.presence = Presence(r, self.keys, ttl=presence_ttl, now=now)
        self.seats = SeatService(r, program)
        self.rooms = RoomService(program, self.secret, jitsi)
        self.audit = AuditLog(r, self.keys, self.tz, now=now)
        self.limits = Limits(r, self.keys, limits, enabled=rate_limits)
        self.storage = Storage(r, self.keys, storage_headroom)
        self.broadcasts = Broadcasts(r, self.keys, self.limits, now=now)
        self.help = HelpDesk(r, self.keys, self.limits, now=now)
        self.hosts = Hosts(r, self.keys)
        self.video_roles = VideoRoles(r, self.keys, self.limits, now=now)
        self.sizes = RoomSizes(r, self.keys, jitsi.room_size_url if jitsi.polls_room_sizes else "", jitsi.muc, interval=jitsi.room_size_interval,
                               now=now)
        self.notify = lambda pushes: None  # where out-of-band notices go; the server sets its sender
        # More that a transition tells, beyond `state` (the server's brainstorm notes add `notes:state`)
        self.transition_hooks: list = []
        self._renew = r.register_script(_RENEW)
        self._fire = r.register_script(_FIRE)

    def _stored_secret(self, key: str, given: str | None) -> str:
        """The configured value, else the one kept in Redis, else a new one (shared by every worker)."""
        if given:
            return given
        self.r.set(key, secrets.token_urlsafe(32), nx=True)
        return self.r.get(key)

    @property
    def moderator_key(self) -> str:
        """The configured key, else the one in Redis (read each time: a rotation reaches every worker)."""
        return self.configured_moderator_key or self.r.get(self.keys.moderator_key) or \
            self._stored_secret(self.keys.moderator_key, None)

    def rotate_moderator_key(self, actor: Actor) -> str:
        """A new key: every moderator signed in with the old one is signed out."""
        if self.configured_moderator_key:
            raise PleinError("key_configured", 409)
        key = secrets.token_urlsafe(32)
        with self.r.pipeline() as pipe:
            pipe.set(self.keys.moderator_key, key)
            pipe.delete(self.keys.host_links)  # whoever had the old moderator page had every host link too
            self.audit.queue(pipe, self.audit.entry(actor, "rotate_key", {}))
            pipe.execute()
        return key

    def is_moderator_key(self, candidate) -> bool:
        """Constant-time comparison with the moderator key."""
        return isinstance(candidate, str) and hmac.compare_digest(candidate.encode(), self.moderator_key.encode())

    def moderator_fingerprint(self) -> str:
        """What a moderator's session cookie holds instead of the key itself."""
        return hmac.new(self.secret.encode(), self.moderator_key.encode(), "sha256").hexdigest()

    def note_rooms(self, session_id: str) -> list[str]:
        """Where a note's updates and cards go: its participants' sockets and the current key's moderators."""
        slug = self.program.slug
        return [channel_note(slug, session_id), channel_note_moderators(slug, session_id, self.moderator_fingerprint())]

    def moderators_channel(self) -> str:
        """The Socket.IO room of the moderators signed in with the current key."""
        return channel_moderators(self.program.slug, self.moderator_fingerprint())

    def host_token(self, session_id: str) -> str:
        """The secret part of a session's host link (given to the hosts the program names): random, made on
        first use, kept in Redis until a moderator re-issues it or rotates the moderator key."""
        with self.r.pipeline() as pipe:
            pipe.hsetnx(self.keys.host_links, session_id, secrets.token_hex(16))
            pipe.hget(self.keys.host_links, session_id)
            return pipe.execute()[1]

    def is_host_token(self, session_id: str, candidate) -> bool:
        current = self.r.hget(self.keys.host_links, session_id) if isinstance(session_id, str) else None
        return isinstance(candidate, str) and current is not None and hmac.compare_digest(candidate, current)

    def reissue_host_link(self, actor: Actor, session_id: str) -> str:
        """A new host link for a session: the old one stops working (hosts it made keep their rights)."""
        token = secrets.token_hex(16)
        with self.r.pipeline() as pipe:
            pipe.hset(self.keys.host_links, session_id, token)
            self.audit.queue(pipe, self.audit.entry(actor, "host_link", {"session": session_id}))
            pipe.execute()
        return token

    def is_moderator_fingerprint(self, candidate) -> bool:
        return isinstance(candidate, str) and hmac.compare_digest(candidate, self.moderator_fingerprint())

    # -- state messages -------------------------------------------------------------------------

    def state(self) -> State:
        return self.clock.state()

    def public_state(self, state: State | None = None) -> dict:
        """The state without a room (HTTP GET /state, moderators)."""
        return state_dict(state or self.state(), self.tz)

    def state_for(self, participant: Participant, state: State | None = None) -> dict:
        """A participant's own `state`: their room with its JWT, and their next room ahead of time."""
        state = state or self.state()
        placements = self.seats_now(participant.id, state)
        hosts = self.hosts.of(participant.id)
        data = state_dict(state, self.tz)

        def wire(room, slot):
            # A session host is a Jitsi moderator in their own session's room, and only there.
            user = {"id": participant.id, "name": participant.name,
                    "moderator": bool(room and room.session and room.session.id in hosts)}
            return self.rooms.wire(room, user, slot and slot.ends_at, state.now)
        data["room"] = wire(self.rooms.room(state.current, placements), state.current)
        data["next_room"] = wire(self.rooms.room(state.next, placements), state.next)
        data["hosting"] = sorted(hosts)
        return data

    def seats_now(self, pid: str, state: State) -> dict[str, str]:
        """The participant's seats; someone without one in the running round is placed now (a late joiner), and
        so is someone without one in the coming round once that round's placement ahead has happened."""
        seats = self.seats.seats(pid)
        cur, nxt = state.current, state.next
        if cur is not None and cur.phase.kind == "round" and cur.phase.id not in seats:
            self._seat_one(pid, cur.phase.id, seats)
        if (nxt is not None and nxt.phase.kind == "round" and nxt.phase.id not in seats
                and self.r.exists(self.keys.placed_ahead(nxt.phase.id))):
            self._seat_one(pid, nxt.phase.id, seats)
        return seats

    def _seat_one(self, pid: str, round_id: str, seats: dict[str, str]) -> None:
        placed = self.seats.place(round_id, pid)
        if placed:
            seats[round_id] = placed[0].session
            self.notify(self._overflow_notice(round_id, placed))

    def _overflow_notice(self, round_id: str, placed) -> list[Push]:
        """Tell the moderators when Plein had to seat people in a full session."""
        overflow = [p for p in placed if p.overflow]
        if not overflow:
            return []
        return [Push("seats:overflow", self.moderators_channel(), {
            "round": round_id, "count": len(overflow), "sessions": sorted({p.session for p in overflow})})]

    def transition_pushes(self, state: State) -> list[Push]:
        """The O(sessions) messages that tell everyone the new state: one per session of a round."""
        base = state_dict(state, self.tz)
        pushes = [Push("state", self.moderators_channel(), {**base, "room": None})]
        slug = self.program.slug
        cur = state.current
        if cur is not None and cur.phase.kind == "round":
            for session in cur.phase.sessions:
                room = self.rooms.wire(self.rooms.session_room(cur, session))
                pushes.append(Push("state", channel_session(slug, session.id), {**base, "room": room}))
        else:
            room = self.rooms.wire(self.rooms.room(cur, {}))
            pushes.append(Push("state", channel_all(slug), {**base, "room": room}))
        return pushes

    def channels_for(self, participant: Participant, state: State | None = None) -> list[str]:
        """The Socket.IO rooms a participant's socket belongs in: the event, itself, each seat's session,
        and for a host the hosts' room of each session they host."""
        slug = self.program.slug
        seats = self.seats_now(participant.id, state or self.state())
        return [channel_all(slug), channel_participant(slug, participant.id),
                *(channel_session(slug, sid) for sid in seats.values()),
                *(channel_hosts(slug, sid) for sid in sorted(self.hosts.of(participant.id)))]

    def room_changes(self, participant: Participant, current: set[str], state: State | None = None) -> tuple:
        """(leave, enter): how a socket now in the Socket.IO rooms `current` comes to match the participant's seats
        (a regroup it missed heals here). Only session and host rooms are left; the rest is not ours to touch."""
        slug = self.program.slug
        wanted = set(self.channels_for(participant, state))
        ours = (channel_session(slug, ""), channel_hosts(slug, ""))
        return tuple(sorted(c for c in current - wanted if c.startswith(ours))), tuple(sorted(wanted - current))

    def resync_pushes(self, state: State, since: float) -> list[Push]:
        """What a worker whose sockets may have missed messages since `since` sends them again: the state of every
        room (as at a transition: O(sessions)) and the broadcasts since then (pages skip those they have)."""
        pushes = self.transition_pushes(state)
        for hook in self.transition_hooks:
            pushes.extend(hook(state))
        slug = self.program.slug
        for item in self.broadcasts.recent(limit=50, since=since):
            target = item["session"] and item["session"]["id"]
            pushes.append(Push("broadcast", channel_session(slug, target) if target else channel_all(slug), item))
        return pushes

    # -- choices --------------------------------------------------------------------------------

    def round_status(self, rnd: Phase, state: State) -> str:
        """upcoming | running | over, by the clock."""
        if state.status in ("waiting", "before"):
            return "upcoming"
        if state.status == "ended":
            return "over"
        index = self.program.index(rnd.id)
        if index == state.current.index:
            return "running"
        return "upcoming" if index > state.current.index else "over"

    def choose(self, participant: Participant, body) -> tuple[dict, list]:
        """Apply `{"<round id>": "<session id>" | null}`; returns the participant's seats and what to send."""
        if not isinstance(body, dict) or not body:
            raise PleinError("bad_json")
        state = self.state()
        locked = self.seats.locked()
        wanted: dict[str, str | None] = {}
        for round_id, session_id in body.items():
            rnd = self.program.phase(round_id) if isinstance(round_id, str) else None
            if rnd is None or rnd.kind != "round":
                raise PleinError("unknown_round", round=str(round_id)[:40])
            if session_id is not None and (not isinstance(session_id, str) or rnd.session(session_id) is None):
                raise PleinError("unknown_session", round=rnd.id, session=str(session_id)[:40])
            status = self.round_status(rnd, state)
            where = {"round": rnd.id}  # so a page can show the refusal next to that round
            if status == "over":
                raise PleinError("round_over", 409, details=where, title=rnd.title)
            if rnd.id in locked:
                raise PleinError("choices_locked", 409, details=where, title=rnd.title)
            if status == "running":
                if not rnd.switching:
                    raise PleinError("switching_off", 409, details=where, title=rnd.title)
                if session_id is None:
                    raise PleinError("cannot_withdraw", 409, details=where, title=rnd.title)
            wanted[rnd.id] = session_id
        before = self.seats.seats(participant.id)
        self.seats.choose(participant.id, wanted)
        for round_id in [r for r, sid in wanted.items() if sid is None]:
            # Withdrawn after the round's placement ahead: placed again now, since its start only places newcomers.
            if self.r.exists(self.keys.placed_ahead(round_id)):
                self._seat_one(participant.id, round_id, {})
        after = self.seats.seats(participant.id)
        self._seated_now(participant.id, before, after, state)
        return self.me(participant), self._regroup(participant, before, after, state)

    def _seated_now(self, pid: str, before: dict, after: dict, state: State) -> None:
        """Remember when a seat in the running round changed (the console's 'here since')."""
        cur = state.current
        if cur is not None and cur.phase.kind == "round" and before.get(cur.phase.id) != after.get(cur.phase.id):
            with self.r.pipeline() as pipe:
                pipe.hset(self.keys.seated_at(cur.phase.id), pid, f"{state.now:.3f}")
                pipe.set(self.keys.console_dirty, "1")
                pipe.execute()

    def move(self, actor: Actor, pid, session_id, round_id=None) -> tuple[dict, list]:
        """A moderator puts one participant in another session of a round (the running one by default):
        their page moves at once and tells them. Capacity and locks do not stop a moderator; the answer
        says when the session is now over capacity."""
        participant = self.participants.get(pid) if isinstance(pid, str) else None
        if participant is None:
            raise PleinError("unknown_participant", 404)
        state = self.state()
        if round_id is None:
            cur = state.current
            if cur is None or cur.phase.kind != "round":
                raise PleinError("no_running_round", 409)
            rnd = cur.phase
        else:
            rnd = self.program.phase(round_id) if isinstance(round_id, str) else None
            if rnd is None or rnd.kind != "round":
                raise PleinError("unknown_round", round=str(round_id)[:40])
        session = rnd.session(session_id) if isinstance(session_id, str) else None
        if session is None:
            raise PleinError("unknown_session", round=rnd.id, session=str(session_id)[:40])
        before = self.seats.seats(participant.id)
        old = rnd.session(before[rnd.id]) if rnd.id in before else None
        taken = self.seats.move(rnd.id, participant.id, session.id)
        after = {**before, rnd.id: session.id}
        self._seated_now(participant.id, before, after, state)
        self.audit.record(actor, "move", {"participant": {"id": participant.id, "name": participant.name},
                                          "round": rnd.id, "from": old and old.id, "to": session.id})
        pushes = self._regroup(participant, before, after, state)
        if pushes:
            pushes.insert(1, Push("moved", channel_participant(self.program.slug, participant.id), {
                "round": rnd.id, "from": old and {"id": old.id, "title": old.title},
                "to": {"id": session.id, "title": session.title}, "by": actor.name}))
        result = {"participant": {"id": participant.id, "name": participant.name}, "round": rnd.id,
                  "from": old and old.id, "to": session.id, "taken": taken, "capacity": session.capacity,
                  "over_capacity": taken > session.capacity}
        return result, pushes

    # -- sign-up ---------------------------------------------------------------------------------

    def signup_open(self) -> bool:
        return not self.r.exists(self.keys.signup_closed)

    def set_signup(self, actor: Actor, open_: bool) -> bool:
        with self.r.pipeline() as pipe:
            if open_:
                pipe.delete(self.keys.signup_closed)
            else:
                pipe.set(self.keys.signup_closed, "1")
            self.audit.queue(pipe, self.audit.entry(actor, "signup", {"open": open_}))
            pipe.execute()
        return open_

    def sign_up(self, raw_name, address: str = "") -> tuple[Participant, str]:
        """A new participant, unless a moderator has closed sign-up or this address signs up too fast."""
        if not self.signup_open():
            raise PleinError("signup_closed", 403)
        self.storage.guard()
        self.limits.take("signup", address or "-")
        return self.participants.create(raw_name)

    def where(self, pid: str, state: State | None = None) -> dict | None:
        """The room a participant is in now, as the console and help requests name it."""
        state = state or self.state()
        room = self.rooms.room(state.current, self.seats.seats(pid))
        if room is None:
            return None
        return {"session": room.session and room.session.id, "title": room.title, "name": room.name}

    def _regroup(self, participant: Participant, before: dict, after: dict, state: State) -> list:
        """Move the participant's sockets to their new sessions and send them their state (a new room if the
        change was in the running round)."""
        slug = self.program.slug
        # Out of a session is out of its note too: its updates and cards no longer reach these sockets.
        leave = tuple(c for r, s in before.items() if after.get(r) != s
                      for c in (channel_session(slug, s), channel_note(slug, s)))
        enter = tuple(channel_session(slug, s) for r, s in after.items() if before.get(r) != s)
        if not leave and not enter:
            return []
        out: list = [Regroup(tuple(self.presence.sockets(participant.id)), leave, enter)]
        out.append(Push("state", channel_participant(slug, participant.id), self.state_for(participant, state)))
        return out

    def me(self, participant: Participant) -> dict:
        seats = self.seats.seats(participant.id)
        return {"id": participant.id, "name": participant.name,
                "choices": self.seats.chosen(participant.id, seats), "placements": seats}

    def rounds_overview(self) -> list[dict]:
        """For moderators: per round and session the capacity and how many chose, were placed, are connected."""
        occupancy = self.seats.occupancy()
        online = self.presence.connected({pid for seats, _ in occupancy.values() for pid in seats})
        locked = self.seats.locked()
        out = []
        for rnd in self.program.rounds:
            seats, chosen = occupancy[rnd.id]
            per = {s.id: {"id": s.id, "title": s.title, "capacity": s.capacity, "chosen": 0, "placed": 0,
                          "connected": 0} for s in rnd.sessions}
            for pid, sid in seats.items():
                if sid in per:
                    per[sid]["chosen" if pid in chosen else "placed"] += 1
                    per[sid]["connected"] += pid in online
            out.append({"id": rnd.id, "title": rnd.title, "locked": rnd.id in locked, "switching": rnd.switching,
                        "sessions": list(per.values())})
        return out

    # -- the ticker -----------------------------------------------------------------------------

    def hold_leadership(self, worker_id: str, ttl_ms: int = 3000) -> bool:
        """Take or keep the ticker lock; it expires so another worker takes over after a crash."""
        if self.r.set(self.keys.leader, worker_id, nx=True, px=ttl_ms):
            return True
        return bool(self._renew(keys=[self.keys.leader], args=[worker_id, ttl_ms]))

    def release_leadership(self, worker_id: str) -> None:
        if self.r.get(self.keys.leader) == worker_id:
            self.r.delete(self.keys.leader)

    def marker(self, state: State) -> str:
        """What identifies a transition: the clock version, the phase and the status."""
        cur = state.current
        return f"{state.version}|{cur.index if cur else '-'}|{state.status}|{int(state.paused)}"

    def due(self, state: State | None = None) -> list[Push]:
        """Pushes that are due now and not yet sent by anyone (stored markers survive restarts)."""
        state = state or self.state()
        pushes: list = []
        if self._fire(keys=[self.keys.fired], args=[self.marker(state)]):
            pushes.extend(self._place_round(state))
            pushes.extend(self.transition_pushes(state))
            for hook in self.transition_hooks:
                pushes.extend(hook(state))
            self.presence.changed()  # everyone changes room: the console follows
        pushes.extend(self._warnings(state))
        pushes.extend(self._place_ahead(state))
        return pushes

    def _place_round(self, state: State) -> list:
        """At a round's start, seat whoever has no seat yet and move their sockets, before the round's pushes.
        When the round was placed ahead, only who joined since (less the clock margin) is looked at, so the
        start costs what its newcomers cost; without it (a moderator skipped ahead), everyone is."""
        cur = state.current
        if cur is None or cur.phase.kind != "round":
            return []
        ahead = self.r.get(self.keys.placed_ahead(cur.phase.id))
        since = float(ahead) - JOIN_CLOCK_MARGIN if ahead else None
        return self._seat_and_move(cur.phase.id, self.seats.place(cur.phase.id, since=since))

    def _place_ahead(self, state: State) -> list:
        """One program minute before a round starts, once: seat whoever chose nothing and move their sockets into
        their session's room (the round's start then only emits). Choosing stays open; a seat Plein gave is
        swapped for a choice like any other."""
        nxt = state.next
        if state.paused or state.status not in ("before", "running") or nxt is None or nxt.phase.kind != "round":
            return []
        if (nxt.starts_at - state.now) * state.speed > PLACE_AHEAD_MINUTES * 60:
            return []
        if not self.r.set(self.keys.placed_ahead(nxt.phase.id), f"{state.now:.3f}", nx=True):
            return []
        return self._seat_and_move(nxt.phase.id, self.seats.place(nxt.phase.id))

    def _seat_and_move(self, round_id: str, placed) -> list:
        slug = self.program.slug
        sockets = self.presence.sockets_of(p.pid for p in placed)
        out: list = [Regroup(tuple(sockets[p.pid]), enter=(channel_session(slug, p.session),))
                     for p in placed if sockets[p.pid]]
        return out + self._overflow_notice(round_id, placed)

    def seconds_to_next(self, state: State) -> float | None:
        """How long until the next transition or warning is due (None: nothing while paused or over)."""
        if state.paused:
            return None
        cur, nxt = state.current, state.next
        if cur is None and not (state.status == "before" and nxt):
            return None
        times = [nxt.starts_at] if cur is None else [cur.ends_at]
        if cur is not None and cur.phase.kind == "round":
            times += [cur.ends_at - m * 60 / state.speed for m in WARN_MINUTES]
        if nxt is not None and nxt.phase.kind == "round":
            times.append(nxt.starts_at - PLACE_AHEAD_MINUTES * 60 / state.speed)
        ahead = [t - state.now for t in times if t > state.now]
        return min(ahead) if ahead else 0.0

    def _warnings(self, state: State) -> list[Push]:
        cur = state.current
        if cur is None or cur.phase.kind != "round" or state.paused:
            return []
        remaining_program_minutes = (cur.ends_at - state.now) * state.speed / 60
        for i, minutes in enumerate(WARN_MINUTES):
            lower = WARN_MINUTES[i + 1] if i + 1 < len(WARN_MINUTES) else 0
            if lower < remaining_program_minutes <= minutes:
                key = self.keys.warned(cur.phase.id, int(cur.starts_at * 1000), minutes)
                if self.r.set(key, "1", nx=True, ex=86400):
                    wire = state_dict(state, self.tz)
                    data = {"minutes": minutes, "phase": cur.phase.id,
                            "ends_at": wire["phase"]["ends_at"], "server_time": wire["server_time"]}
                    return [Push("clock:warning", channel_all(self.program.slug), data),
                            Push("clock:warning", self.moderators_channel(), data)]
        return []

    # -- the moderator console --------------------------------------------------------------------

    def console_pushes(self) -> list[Push]:
        """The console's overview for the moderators (and each room's part for its hosts), if something
        changed; the one-second slot in Redis makes this at most one push a second in the deployment."""
        if not self.r.set(self.keys.console_slot, "1", nx=True, px=950):
            return []
        with self.r.pipeline() as pipe:
            pipe.get(self.keys.console_dirty)
            pipe.delete(self.keys.console_dirty)
            dirty, _ = pipe.execute()
        if not dirty and not self.presence.lapsed():  # a worker that died shows as its sockets leaving
            return []
        data = overview(self)
        slug = self.program.slug
        pushes = [Push("console", self.moderators_channel(), data)]
        pushes += [Push("host:room", channel_hosts(slug, room["session"]), room)
                   for room in data["rooms"] if room["hosts"] and room["session"]]
        return pushes

    def video_rooms(self, state: State | None = None) -> list[str]:
        """The Jitsi rooms in use now: the running round's sessions, else the plenary room."""
        cur = (state or self.state()).current
        if cur is None:
            return []
        if cur.phase.kind == "round":
            return [self.rooms.session_room(cur, s).name for s in cur.phase.sessions]
        room = self.rooms.room(cur, {})
        return [room.name] if room else []

    def last_jitsi_check(self) -> dict | None:
        raw = self.r.get(self.keys.jitsi_check)
        return json.loads(raw) if raw else None

    def check_jitsi(self, timeout: float = 3.0) -> dict:
        """Check the deployment now and keep the result for every worker's moderator page."""
        result = check_deployment(self.jitsi, timeout)
        self.r.set(self.keys.jitsi_check, json.dumps(result))
        return result
