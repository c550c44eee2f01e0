"""Socket.IO handlers: thin, each a few lines over the services in rooms/.

A connection is a participant (auth token or session cookie) or a moderator (key or cookie); any
other connection is refused. Participants join the Socket.IO rooms of their sessions, so a
transition reaches them with one message per session.
"""
from __future__ import annotations

from flask import request, session
from flask_socketio import ConnectionRefusedError, emit, join_room, leave_room, rooms

from rooms.errors import PleinError
from rooms.evening import channel_moderators, channel_session

from .app import socketio
from .auth import evening


def _who(auth) -> tuple[str, object] | None:
    """('participant', Participant) or ('moderator', None) or None."""
    ev = evening()
    auth = auth if isinstance(auth, dict) else {}
    if auth.get("token") is not None:
        p = ev.participants.by_token(auth.get("token"))
        return ("participant", p) if p else None
    if auth.get("moderator_key") is not None:
        return ("moderator", None) if ev.is_moderator_key(auth.get("moderator_key")) else None
    if session.get("event") != ev.program.slug:
        return None
    if ev.is_moderator_fingerprint(session.get("moderator")):
        return ("moderator", None)
    p = ev.participants.get(session.get("pid"))
    return ("participant", p) if p else None


def _lang(auth) -> str:
    lang = auth.get("lang") if isinstance(auth, dict) else None
    return lang if lang in ("nl", "en") else "nl"


@socketio.on("connect")
def on_connect(auth=None):
    who = _who(auth)
    if who is None:
        error = PleinError("unauthorized", 401).to_dict(_lang(auth))["error"]
        raise ConnectionRefusedError(error["message"], error)  # the client sees {message, data: {code, message}}
    ev = evening()
    kind, participant = who
    session["socket_role"] = kind
    if kind == "moderator":
        join_room(channel_moderators(ev.program.slug))
        emit("state", {**ev.public_state(), "room": None})
        return
    session["socket_pid"] = participant.id
    ev.participants.connect(participant.id, request.sid)
    state = ev.state()
    for channel in ev.channels_for(participant, state):
        join_room(channel)
    emit("state", ev.state_for(participant, state))


@socketio.on("disconnect")
def on_disconnect(*_reason):
    pid = session.get("socket_pid")
    if pid:
        evening().participants.disconnect(pid, request.sid)


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
    wanted = set(ev.channels_for(participant, state))
    prefix = channel_session(ev.program.slug, "")
    current = set(rooms())
    for channel in current - wanted:
        if channel.startswith(prefix):
            leave_room(channel)
    for channel in wanted - current:
        join_room(channel)


@socketio.on_error_default
def on_error(exc):
    """A handler that failed answers with a coded error instead of silence."""
    socketio.server.logger.warning("socket handler error on %s: %r", request.event.get("message"), exc)
    if isinstance(exc, PleinError):
        return exc.to_dict()
    return {"error": {"code": "server_error", "message": "Er ging iets mis op de server. / Something went wrong on the server."}}
