"""Every action of the moderator console, in one table shared by the HTTP API and Socket.IO.

`run(name, actor, body)` checks who may do it, lets the services in rooms/ decide, records it in
the audit log, sends what follows, and returns the answer. A participant or an anonymous caller
gets `moderator_only`; a session host may act in their own session's room only (`host_only`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from rooms.audit import Actor
from rooms.errors import PleinError
from rooms.evening import Disconnect, Push, Regroup, channel_all, channel_hosts, channel_participant, channel_session
from rooms.notes import find_session
from rooms.overview import help_wire, overview

from . import notes
from .auth import evening, host_links
from .pushes import send


def field(body: dict, name: str, kind, *, required: bool = True):
    """A field of a JSON body or socket payload, of the given type (bool is not an int here)."""
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise PleinError("bad_field", field=name)
    return value


def _clock(ev, actor: Actor, body: dict):
    action = field(body, "action", str)
    minutes = body.get("minutes")
    phase = body.get("phase")
    state = ev.clock.act(action, minutes, phase=phase, audit=ev.audit, actor=actor)
    return ev.public_state(state), ev.due(state)


def _session_running(ev, session_id) -> tuple:
    """A session of the running round (rooms exist only for it)."""
    state = ev.state()
    cur = state.current
    session = cur.phase.session(session_id) if cur is not None and cur.phase.kind == "round" else None
    if session is None:
        if any(p.session(session_id) for p in ev.program.rounds):
            raise PleinError("session_not_running", 409)
        raise PleinError("unknown_session", round=cur.phase.id if cur else "-", session=str(session_id)[:40])
    return session


def _broadcast(ev, actor: Actor, body: dict):
    session_id = field(body, "session", str, required=False)
    if not actor.is_moderator and not actor.hosts(session_id):
        raise PleinError("host_only", 403)
    lifetime = field(body, "lifetime", str, required=False)
    slug = ev.program.slug
    session = _session_running(ev, session_id) if session_id is not None else None
    cur = ev.state().current
    item = ev.broadcasts.create(actor, body.get("text"), session and {"id": session.id, "title": session.title},
                                phase=cur and cur.phase.id, lifetime="phase" if lifetime is None else lifetime)
    ev.audit.record(actor, "broadcast", {"session": session and session.id, "text": item["text"]})
    to = channel_session(slug, session.id) if session else channel_all(slug)
    return item, [Push("broadcast", to, item)]


def _move(ev, actor: Actor, body: dict):
    return ev.move(actor, field(body, "participant", str), field(body, "session", str),
                   field(body, "round", str, required=False))


def _signup(ev, actor: Actor, body: dict):
    return {"signup_open": ev.set_signup(actor, field(body, "open", bool))}, []


def _lock(ev, actor: Actor, body: dict):
    rnd = ev.program.phase(field(body, "round", str))
    if rnd is None or rnd.kind != "round":
        raise PleinError("unknown_round", 404, round=str(body["round"])[:40])
    locked = field(body, "locked", bool)
    ev.seats.lock(rnd.id, locked)
    ev.audit.record(actor, "lock", {"round": rnd.id, "locked": locked})
    return {"rounds": ev.rounds_overview()}, []


def _host(ev, actor: Actor, body: dict):
    """Make a participant host of a session (or no longer)."""
    participant = ev.participants.get(field(body, "participant", str))
    if participant is None:
        raise PleinError("unknown_participant", 404)
    sessions, pushes = grant_host(ev, actor, participant, field(body, "session", str), field(body, "host", bool))
    return {"participant": {"id": participant.id, "name": participant.name}, "hosting": sorted(sessions)}, pushes


def grant_host(ev, actor: Actor, participant, session_id: str, on: bool) -> tuple[frozenset, list]:
    """Host rights for one session: the hosts' Socket.IO room, a seat in that session for its round (unless
    over), and a new `state` whose JWT makes them Jitsi moderator there. Returns their sessions and pushes."""
    rnd = next((p for p in ev.program.rounds if p.session(session_id)), None)
    if rnd is None:
        raise PleinError("unknown_session", round="-", session=session_id[:40])
    if on and not actor.is_moderator and ev.hosts.revoked(participant.id, session_id):
        raise PleinError("host_revoked", 403)  # a host link cannot undo what a moderator decided
    sessions = ev.hosts.set(participant.id, session_id, on)
    if actor.is_moderator:
        ev.hosts.revoke(participant.id, session_id, not on)
    ev.audit.record(actor, "host", {"participant": {"id": participant.id, "name": participant.name},
                                    "session": session_id, "host": on})
    hosts_room = (channel_hosts(ev.program.slug, session_id),)
    sids = tuple(ev.presence.sockets(participant.id))
    pushes: list = [Regroup(sids, enter=hosts_room) if on else Regroup(sids, leave=hosts_room)]
    if on and ev.round_status(rnd, ev.state()) != "over" and ev.seats.seats(participant.id).get(rnd.id) != session_id:
        pushes += ev.move(actor, participant.id, session_id, rnd.id)[1]
    pushes.append(Push("state", channel_participant(ev.program.slug, participant.id), ev.state_for(participant)))
    return sessions, pushes


def _help_request(ev, actor: Actor, body: dict) -> dict:
    item = ev.help.get(field(body, "id", str))
    room = ev.where(item["pid"]) or {}  # the room they are in now (the console shows the same)
    if not actor.is_moderator and not actor.hosts(room.get("session")):
        raise PleinError("host_only", 403)
    return item


def _help_answer(ev, actor: Actor, body: dict):
    item = ev.help.answer(actor, _help_request(ev, actor, body)["id"], body.get("text"))
    ev.audit.record(actor, "help_answer", {"request": item["id"], "participant": item["name"],
                                           "text": item["messages"][-1]["text"]})
    wire = help_wire(item, ev.tz)
    return wire, [Push("help:answer", channel_participant(ev.program.slug, item["pid"]), wire)]


def _help_done(ev, actor: Actor, body: dict):
    item = ev.help.done(_help_request(ev, actor, body)["id"], by=actor.name)
    ev.audit.record(actor, "help_done", {"request": item["id"], "participant": item["name"]})
    wire = help_wire(item, ev.tz)
    return wire, [Push("help:done", channel_participant(ev.program.slug, item["pid"]), wire)]


def _host_link(ev, actor: Actor, body: dict):
    """Re-issue a session's host link: the old one stops working, hosts it made keep their rights."""
    session_id = field(body, "session", str)
    if not any(p.session(session_id) for p in ev.program.rounds):
        raise PleinError("unknown_session", round="-", session=session_id[:40])
    ev.reissue_host_link(actor, session_id)
    return {"session": session_id, "link": host_links()[session_id]}, []


def _remove(ev, actor: Actor, body: dict):
    """Take a participant out of the evening: a moderator anyone, a host someone in their own room. Their token,
    cookie and personal link stop working at once, their sockets are closed (on any worker), their seats free
    up for others, their open help request and host rights end. What they wrote stays (hide it separately)."""
    participant = ev.participants.get(field(body, "participant", str))
    if participant is None:
        raise PleinError("unknown_participant", 404)
    room = ev.where(participant.id) or {}
    if not actor.is_moderator and not actor.hosts(room.get("session")):
        raise PleinError("host_only", 403)
    if actor.id == participant.id:
        raise PleinError("remove_self", 409)
    state = ev.state()
    sids = tuple(ev.presence.sockets(participant.id))
    ev.participants.remove(participant.id, state.now)
    ev.seats.choose(participant.id, {r.id: None for r in ev.program.rounds if ev.round_status(r, state) != "over"})
    for session_id in ev.hosts.of(participant.id):
        ev.hosts.set(participant.id, session_id, False)
    open_help = ev.help.of(participant.id)
    if open_help is not None:
        ev.help.done(open_help["id"], by=actor.name)
    ev.video_roles.report_left(participant.id)
    ev.audit.record(actor, "remove", {"participant": {"id": participant.id, "name": participant.name},
                                      "room": room.get("title")})
    notice = {"by": actor.name}
    return ({"participant": {"id": participant.id, "name": participant.name}, "removed": True},
            [Push("auth:removed", channel_participant(ev.program.slug, participant.id), notice), Disconnect(sids)])


def _note_session(ev, actor: Actor, body: dict) -> str:
    """A brainstorm session's note: any for a moderator, their own session's for a host."""
    session_id = field(body, "session", str)
    find_session(ev.program, session_id)
    if not actor.is_moderator and not actor.hosts(session_id):
        raise PleinError("host_only", 403)
    return session_id


def _card_hide(ev, actor: Actor, body: dict):
    """Hide an idea card (or show it again): out of every list, vote, yield and export; the audit keeps its text."""
    session_id = _note_session(ev, actor, body)
    hidden = field(body, "hidden", bool)
    card = notes.cards().hide(session_id, field(body, "card", str), hidden)
    ev.audit.record(actor, "card_hide", {"session": session_id, "card": card["id"], "hidden": hidden,
                                         "text": card["text"], "participant": card["author"]})
    rooms = ev.note_rooms(session_id)
    if hidden:
        return card, [Push("cards:removed", rooms, {"session": session_id, "card": card["id"]})]
    return card, [Push("cards:changed", rooms, {"session": session_id, "card": card})]


def _notes_hide(ev, actor: Actor, body: dict):
    """Take everything one participant wrote out of a note (everyone's copy follows); the audit log keeps it."""
    session_id = _note_session(ev, actor, body)
    participant = ev.participants.get(field(body, "participant", str)) or \
        _known_writer(ev, session_id, body["participant"])
    return notes.hide_contributions(ev, actor, session_id, participant)


def _known_writer(ev, session_id: str, pid: str):
    """Someone who wrote in this note, also when removed from the evening since (their writing stays otherwise)."""
    name = notes.store().writer_name(session_id, pid)
    if name is None:
        raise PleinError("unknown_participant", 404)
    from rooms.participants import Participant
    return Participant(pid, name)


def _notes_history(ev, actor: Actor, body: dict):
    return notes.history(ev, _note_session(ev, actor, body)), []


def _notes_restore(ev, actor: Actor, body: dict):
    session_id = _note_session(ev, actor, body)
    return notes.restore(ev, actor, session_id, field(body, "snapshot", str))


def _console(ev, actor: Actor, body: dict):
    return overview(ev), []


@dataclass(frozen=True)
class Action:
    run: Callable
    hosts: bool = False  # a session host may use it, in their own room only


ACTIONS: dict[str, Action] = {
    "clock": Action(_clock),
    "broadcast": Action(_broadcast, hosts=True),
    "move": Action(_move),
    "signup": Action(_signup),
    "lock": Action(_lock),
    "host": Action(_host),
    "help:answer": Action(_help_answer, hosts=True),
    "help:done": Action(_help_done, hosts=True),
    "console": Action(_console),
    "remove": Action(_remove, hosts=True),
    "host:link": Action(_host_link),
    "notes:history": Action(_notes_history, hosts=True),
    "cards:hide": Action(_card_hide, hosts=True),
    "notes:hide": Action(_notes_hide, hosts=True),
    "notes:restore": Action(_notes_restore, hosts=True),
}


def run(name: str, actor: Actor | None, body) -> dict:
    """Do a console action as `actor`; raises PleinError (moderator_only, bad_json, ...) and changes nothing."""
    action = ACTIONS[name]
    if actor is None or not (actor.is_moderator or (action.hosts and actor.sessions)):
        raise PleinError("moderator_only", 403 if actor is not None else 401)
    body = {} if body is None else body  # an event sent without a payload: its fields are missing
    if not isinstance(body, dict):
        raise PleinError("bad_json")
    result, pushes = action.run(evening(), actor, body)
    send(pushes)
    return result
