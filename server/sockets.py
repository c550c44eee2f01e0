"""Socket.IO handlers: thin, each a few lines over the services in rooms/.

A connection is a participant (auth token or session cookie) or a moderator (key or cookie); any
other connection is refused. Participants join the Socket.IO rooms of their sessions, so a
transition reaches them with one message per session.
"""
from __future__ import annotations

import redis
from flask import current_app, request, session
from flask_socketio import ConnectionRefusedError, emit, join_room, leave_room, rooms

from rooms.errors import PleinError
from rooms.i18n import languages
from rooms.storage import storage_error
from rooms.overview import help_wire

from . import moderation, notes
from .app import socketio
from .auth import evening, moderator_actor, participant_actor
from .jsonbody import MAX_DEPTH, TOO_DEEP_EVENT


def _spoofed() -> bool:
    """A `connect` or `disconnect` the client sent as an ordinary event (any packet may name one).
    Socket.IO's own run while the socket counts as not (or no longer) connected; a client's event
    is only handled while it is connected."""
    return socketio.server.manager.is_connected(request.sid, request.namespace)


def _refusal(code: str, **params) -> dict:
    return PleinError(code, **params).to_dict(session.get("socket_lang", "nl"))


def _who(auth) -> tuple[str, str | None] | None:
    """('participant', pid) or ('moderator', None) or None. A participant is not yet checked for removal here:
    `Evening.arrive` does that within the one round trip of the connect."""
    ev = evening()
    auth = auth if isinstance(auth, dict) else {}
    if auth.get("token") is not None:
        pid = ev.participants.pid_of_token(auth.get("token"))
        return ("participant", pid) if pid else None
    if auth.get("moderator_key") is not None:
        return ("moderator", None) if ev.is_moderator_key(auth.get("moderator_key")) else None
    if session.get("event") != ev.program.slug:
        return None
    if ev.is_moderator_fingerprint(session.get("moderator")):
        return ("moderator", None)
    pid = session.get("pid")
    return ("participant", pid) if isinstance(pid, str) and pid else None


def _lang(auth) -> str:
    lang = auth.get("lang") if isinstance(auth, dict) else None
    return lang if lang in languages() else "nl"


@socketio.on("connect")
def on_connect(auth=None):
    if _spoofed():  # e.g. a second `connect` naming another participant's token
        return _refusal("reserved_event", event="connect")
    try:
        _connect(auth)
    except redis.RedisError as exc:  # storage away or full: a coded refusal the page tries again after
        pid = session.get("socket_pid")
        if pid:
            try:
                evening().presence.disconnect(pid, request.sid)
            except redis.RedisError:
                pass
        error = storage_error(exc).to_dict(_lang(auth))["error"]
        raise ConnectionRefusedError(error["message"], error) from None


def _connect(auth) -> None:
    who = _who(auth)
    if who is None:
        _refuse_unauthorized(auth)
    ev = evening()
    notes.nodelay(request.environ)
    kind, pid = who
    session["socket_role"] = kind
    session["socket_lang"] = _lang(auth)
    if kind == "moderator":
        # The key's fingerprint, checked again at every moderator event: a rotated key ends this too.
        session["socket_moderator"] = ev.moderator_fingerprint()
        if isinstance(auth, dict) and auth.get("moderator_key") is not None:  # a program with the key, as over HTTP
            session["moderator_name"], session["moderator_id"] = "API", "api"
        join_room(ev.moderators_channel())
        emit("state", {**ev.public_state(), "room": None})
        return
    session["socket_pid"] = pid
    # Counted, and everything read, in one round trip: 2,000 pages coming back after a restart cost 2,000 trips.
    arrival = ev.arrive(pid, request.sid, current_app.extensions["plein.worker"])
    if arrival is None:  # removed, or a cookie of a participant who no longer exists
        session.pop("socket_pid", None)
        _refuse_unauthorized(auth)
    for channel in arrival.channels:
        join_room(channel)
    emit("state", arrival.state)
    # What was said to everyone (or this room) while this page was away, and an open help request.
    for item in arrival.broadcasts:
        emit("broadcast", item)
    if arrival.help is not None:
        emit("help:status", help_wire(arrival.help, ev.tz))


def _refuse_unauthorized(auth):
    error = PleinError("unauthorized", 401).to_dict(_lang(auth))["error"]
    raise ConnectionRefusedError(error["message"], error)  # the client sees {message, data: {code, message}}


@socketio.on("disconnect")
def on_disconnect(*_reason):
    if _spoofed():  # it would have shown a connected participant as gone
        return _refusal("reserved_event", event="disconnect")
    socketio.server.plein_forget_gate(request.sid)
    notes.on_disconnect()
    pid = session.get("socket_pid")
    if pid:
        evening().presence.disconnect(pid, request.sid)


@socketio.on("state:get")
def on_state_get(_data=None):
    """A participant's own state (with the JWT for their room), e.g. after a shared transition push."""
    ev = evening()
    if session.get("socket_role") == "moderator":
        return {"ok": True, "state": {**ev.public_state(), "room": None}}
    participant = ev.participants.get(session.get("socket_pid"))
    if participant is None:
        return PleinError("unauthorized", 401).to_dict()
    state = ev.state()
    _sync_rooms(ev, participant, state)
    return {"ok": True, "state": ev.state_for(participant, state)}


def _sync_rooms(ev, participant, state) -> None:
    """Make this socket's session rooms match the participant's seats (a missed regroup heals here)."""
    leave, enter = ev.room_changes(participant, set(rooms()), state)
    for channel in leave:
        leave_room(channel)
    for channel in enter:
        join_room(channel)


def socket_actor():
    """The actor of this connection, checked now (a rotated key or a revoked host right counts at once)."""
    ev = evening()
    if session.get("socket_role") == "moderator":
        if not ev.is_moderator_fingerprint(session.get("socket_moderator")):
            raise PleinError("moderator_only", 401)
        return moderator_actor(session.get("moderator_name"), session.get("moderator_id", "api"))
    participant = ev.participants.get(session.get("socket_pid"))
    return participant_actor(participant) if participant else None


def _moderator_event(name: str):
    def handler(data=None):
        return {"ok": True, "result": moderation.run(name, socket_actor(), data)}
    handler.__name__ = "on_mod_" + name.replace(":", "_")
    socketio.on_event("mod:" + name, handler)


for _name in moderation.ACTIONS:
    _moderator_event(_name)

notes.register(socketio)


@socketio.on("help:ask")
def on_help_ask(data=None):
    """A participant asks the moderators for help (same as POST .../participants/me/help)."""
    ev = evening()
    participant = ev.participants.get(session.get("socket_pid"))
    if participant is None:
        return PleinError("unauthorized", 401).to_dict()
    if not isinstance(data, dict):
        return PleinError("bad_json").to_dict()
    ev.storage.guard()
    item = ev.help.ask(participant, data.get("text"), ev.where(participant.id))
    return {"ok": True, "request": help_wire(item, ev.tz)}


@socketio.on("jitsi:role")
def on_jitsi_role(data=None):
    """The page says which Jitsi role it got in its room: a claim for the console's warning, never a right."""
    participant = evening().participants.get(session.get("socket_pid"))
    if participant is None:
        return PleinError("unauthorized", 401).to_dict(session.get("socket_lang", "nl"))
    return {"ok": True, "claim": evening().video_roles.report(participant.id, data)}


@socketio.on(TOO_DEEP_EVENT)
def on_too_deep(*_args):
    """What a packet nested too deeply decodes as (server/jsonbody.py): answered with a code."""
    return _refusal("json_too_deep", max=MAX_DEPTH)


@socketio.on("*")
def on_unknown(event, *_args):
    """An event nobody handles gets a coded answer instead of silence (the client's ack would time out)."""
    return _refusal("unknown_event", event=str(event)[:60])


@socketio.on_error_default
def on_error(exc):
    """A handler that failed answers with a coded error instead of silence."""
    socketio.server.logger.warning("socket handler error on %s: %r", request.event.get("message"), exc)
    if isinstance(exc, redis.RedisError):
        exc = storage_error(exc)  # storage full or out of reach, said as such
    if isinstance(exc, PleinError):
        return exc.to_dict(session.get("socket_lang", "nl"))
    return PleinError("server_error", 500).to_dict(session.get("socket_lang", "nl"))
