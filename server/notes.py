"""Brainstorm notes and idea cards: Socket.IO handlers, the `notes:state` pushes and the HTTP exports.

The wire contract is docs/protocol.md ("Brainstorm notes and idea cards"). Everything is stored in
Redis by rooms/notes.py and rooms/cards.py; these handlers check who asks and what, store, then relay.
"""
from __future__ import annotations

import io
import json
import logging
import socket
import threading
import time
import zipfile

import redis

from flask import Blueprint, current_app, jsonify, make_response, request, session
from flask_socketio import emit, join_room, leave_room, rooms

from rooms import yprotocol
from rooms.cards import CARD_MAX, Cards
from rooms.errors import PleinError
from rooms.i18n import languages
from rooms.evening import Push, channel_note, channel_note_moderators, note_of
from rooms.notes import NoteLimits, NoteStore, access, brainstorms, find_session
from rooms.storage import storage_error
from rooms.store import connect
from rooms.timeline import iso

from . import moderation
from .auth import current_actor, current_participant, evening, is_moderator

log = logging.getLogger("plein.notes")
bp = Blueprint("notes", __name__)
TOP_CARDS = 5
RESYNC_TRIES = 6  # a delayed resync tries this often (1, 2, 4, 8, 10 s apart) while Redis is away


# NoteLimits field -> the app setting (environment variable, server/config.py) that sets it
LIMIT_SETTINGS = {
    "max_update_bytes": "PLEIN_NOTES_MAX_UPDATE_BYTES", "max_note_bytes": "PLEIN_NOTES_MAX_NOTE_BYTES",
    "updates_per_second": "PLEIN_NOTES_RATE", "compact_every": "PLEIN_NOTES_COMPACT_EVERY",
    "resync_seconds": "PLEIN_NOTES_RESYNC_SECONDS", "person_bytes": "PLEIN_NOTES_PERSON_BYTES",
    "person_bytes_per_minute": "PLEIN_NOTES_PERSON_BYTES_PER_MINUTE",
    "awareness_clients": "PLEIN_NOTES_AWARENESS_CLIENTS", "awareness_bytes": "PLEIN_NOTES_AWARENESS_BYTES",
    "snapshots": "PLEIN_NOTES_SNAPSHOTS", "snapshot_seconds": "PLEIN_NOTES_SNAPSHOT_SECONDS",
    "grace_seconds": "PLEIN_NOTES_GRACE_SECONDS", "rate_limits": "PLEIN_RATE_LIMITS",
}


def init_app(app, r) -> None:
    """The notes' services for this app (a second Redis client that returns bytes)."""
    ev = app.extensions["plein"]
    limits = NoteLimits(**{name: app.config[setting] for name, setting in LIMIT_SETTINGS.items()})
    notes = app.extensions["plein.notes"] = NoteStore(connect(app.config["REDIS_URL"], binary=True), ev.keys, limits)
    app.extensions["plein.cards"] = Cards(r, ev.keys, ev.tz)
    ev.transition_hooks.append(lambda state: state_pushes(ev, notes, state))
    app.register_blueprint(bp)


def store() -> NoteStore:
    return current_app.extensions["plein.notes"]


def cards() -> Cards:
    return current_app.extensions["plein.cards"]


def both(code: str) -> str:
    """A message in every language at once, Dutch first (for a push that reaches sockets of every language)."""
    err = PleinError(code)
    return " / ".join(dict.fromkeys(err.message(lang) for lang in languages()))


# -- Socket.IO ----------------------------------------------------------------------------------

def _lang() -> str:
    return session.get("socket_lang", "nl")


def _viewer():
    """The socket's participant, or None for a moderator (checked now: a rotated key counts at once)."""
    ev = evening()
    if session.get("socket_role") == "moderator":
        if not ev.is_moderator_fingerprint(session.get("socket_moderator")):
            raise PleinError("moderator_only", 401)
        return None
    participant = ev.participants.get(session.get("socket_pid"))
    if participant is None:
        raise PleinError("unauthorized", 401)
    return participant


def _who(viewer) -> dict:
    """Author / voter identity: the participant, or the moderator's sign-in."""
    if viewer is not None:
        return {"id": viewer.id, "name": viewer.name}
    return {"id": "moderator:" + session.get("moderator_id", "api"),
            "name": session.get("moderator_name") or "Moderator"}


def _person() -> str:
    """Whose budget a message of this socket counts against: the participant (every socket of theirs), or the
    moderator's sign-in. From the socket's session, set when it connected (no Redis read)."""
    pid = session.get("socket_pid")
    return pid if pid else "moderator:" + session.get("moderator_id", "api")


def _room(session_id: str) -> str:
    """The note room this socket joins: the participants', or the current key's moderators'."""
    ev = evening()
    if session.get("socket_role") == "moderator":
        return channel_note_moderators(ev.program.slug, session_id, session.get("socket_moderator") or "")
    return channel_note(ev.program.slug, session_id)


def _joined(session_id) -> bool:
    return isinstance(session_id, str) and _room(session_id) in rooms()


def _body(data) -> dict:
    if not isinstance(data, dict):
        raise PleinError("bad_json")
    return data


def nodelay(environ) -> None:
    """Send small WebSocket frames at once (TCP_NODELAY). A binary Socket.IO event is two frames (a header,
    then the bytes); with Nagle's algorithm the second waits for the peer's delayed ACK, which adds up to
    ~40 ms to every relayed notes update. Finds the socket as simple-websocket does (gevent, gunicorn, werkzeug)."""
    sock = environ.get("werkzeug.socket") or environ.get("gunicorn.socket")
    if sock is None:
        wsgi_input = environ.get("wsgi.input")
        if wsgi_input is not None and not hasattr(wsgi_input, "raw") and hasattr(wsgi_input, "rfile"):
            wsgi_input = wsgi_input.rfile
        sock = getattr(getattr(wsgi_input, "raw", None), "_sock", None)
    try:
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except (OSError, AttributeError):
        pass  # not a TCP socket we can tune: frames are still sent, only later


def register(socketio) -> None:
    """Add the notes and cards handlers to the Socket.IO server."""
    _register_cards(socketio)

    @socketio.on("notes:join")
    def on_join(data=None):
        ev = evening()
        viewer = _viewer()
        acc = access(ev, viewer, _body(data).get("session"))
        sid = acc.session.id
        join_room(_room(sid))
        emit("notes:message", (sid, yprotocol.step1(store().state_vector(sid))))
        emit("notes:message", (sid, yprotocol.query_awareness()), to=ev.note_rooms(sid), include_self=False)
        return {"session": sid, "title": acc.session.title, "round": acc.round.id, "readonly": acc.readonly,
                "reason": acc.reason, "message": PleinError(acc.reason).message(_lang()) if acc.reason else None,
                "cards": cards().list(sid, _who(viewer)["id"]),
                "limits": store().limits.wire(CARD_MAX)}

    @socketio.on("notes:leave")
    def on_leave(data=None):
        session_id = _body(data).get("session")
        if _joined(session_id):
            _drop(session_id)
        return {"ok": True}

    @socketio.on("notes:message")
    def on_message(session_id=None, data=None, *_extra):
        # One connection's messages are handled one at a time, in the order they arrived: handlers start in
        # arrival order (each in its own greenlet) and draw a ticket before any I/O; each waits until the ones
        # before it are done (a plain lock would let a newcomer barge in ahead of waiters). So a connection's
        # updates are stored and relayed in the order the client sent them. The counter lives in the socket's
        # own environ (gone with the socket), not in a per-process table.
        order = request.environ.get("plein.notes.order")
        if order is None:
            order = request.environ.setdefault("plein.notes.order", {"next": 0, "serving": 0,
                                                                     "cond": threading.Condition()})
        cond = order["cond"]
        with cond:
            ticket = order["next"]
            order["next"] += 1
            while order["serving"] != ticket:
                cond.wait()
        try:
            _handle(socketio, session_id, data)
        finally:
            with cond:
                order["serving"] += 1
                cond.notify_all()


def _handle(socketio, session_id, data) -> None:
    try:
        _message(session_id, data)
    except yprotocol.Foreign:
        _refuse(session_id, PleinError("note_update_foreign"))
    except yprotocol.Malformed:
        _refuse(session_id, PleinError("note_message_malformed"))
    except yprotocol.Early:
        # Builds on what the store lacks: from a well-behaved client only after one of its updates was refused
        # (the rate). The resync brings both, in order.
        _refuse(session_id, PleinError("note_update_early"))
        _resync_later(socketio, session_id)
    except PleinError as exc:
        _refuse(session_id, exc)
        if exc.code == "notes_rate_limited":
            _resync_later(socketio, session_id)
        elif exc.code == "notes_person_minute":
            _resync_later(socketio, session_id, period=60)
    except redis.RedisError as exc:
        log.warning("notes: %s", exc)
        _refuse(session_id, storage_error(exc))  # full, or out of reach: said as such
        _resync_later(socketio, session_id)


def _register_cards(socketio) -> None:
    @socketio.on("cards:list")
    def on_cards_list(data=None):
        viewer = _viewer()
        acc = access(evening(), viewer, _body(data).get("session"))
        return {"session": acc.session.id, "cards": cards().list(acc.session.id, _who(viewer)["id"])}

    @socketio.on("cards:add")
    def on_cards_add(data=None):
        viewer, acc = _writable(data, limit="card")
        card = cards().add(acc.session.id, _who(viewer), data.get("text"))
        _card_changed(acc.session.id, card)
        return {"card": card}

    @socketio.on("cards:edit")
    def on_cards_edit(data=None):
        viewer, acc = _writable(data, limit="card")
        card = cards().edit(acc.session.id, data.get("card"), _who(viewer)["id"], data.get("text"))
        _card_changed(acc.session.id, card)
        return {"card": card}

    @socketio.on("cards:withdraw")
    def on_cards_withdraw(data=None):
        viewer, acc = _writable(data)
        cards().withdraw(acc.session.id, data.get("card"), _who(viewer)["id"])
        emit("cards:removed", {"session": acc.session.id, "card": data["card"]},
             to=evening().note_rooms(acc.session.id))
        return {"ok": True, "card": data["card"]}

    @socketio.on("cards:vote")
    def on_cards_vote(data=None):
        viewer, acc = _writable(data, limit="vote")
        voted, votes = cards().vote(acc.session.id, data.get("card"), _who(viewer)["id"])
        _card_changed(acc.session.id, cards().get(acc.session.id, data["card"]))
        return {"card": data["card"], "voted": voted, "votes": votes}


def _resync_later(socketio, session_id: str, period: int = 1) -> None:
    """An update that was refused (the rate, a budget per minute) or failed on Redis is not lost: at the start of
    the next second (minute) the server sends this socket its sync step 1, which the client answers with
    everything the store lacks. At most one such resync per socket is waiting (a flag held on the socket itself,
    like the message order: no Redis needed to decide, so an outage does not start a task per refusal). The task
    never raises: while Redis is away it logs one line and tries again a little later."""
    app = current_app._get_current_object()
    sid = request.sid
    flags = request.environ.setdefault("plein.notes.resync", {})
    if flags.get(session_id):
        return
    flags[session_id] = True
    now = time.time()
    delay = period - (now % period) + 0.01

    def resync():
        socketio.sleep(delay)
        try:
            with app.app_context():
                for attempt in range(RESYNC_TRIES):
                    try:
                        step1 = yprotocol.step1(store().state_vector(session_id))
                        # From now on a new refusal schedules the next resync: one refused after this step 1 was
                        # sent (the client's answer to it, say) must not wait for a resync that never comes.
                        flags[session_id] = False
                        socketio.emit("notes:message", (session_id, step1), to=sid)
                        return
                    except redis.RedisError as exc:
                        if attempt == 0:
                            log.warning("notes: resync of %s waits for Redis (%s)", session_id, exc)
                        socketio.sleep(min(2 ** attempt, 10))
                log.warning("notes: resync of %s given up; the client's own resync heals it", session_id)
        except Exception:  # a background task must not die with a traceback nobody reads; say it once
            log.warning("notes: resync of %s failed", session_id, exc_info=True)
        finally:
            flags[session_id] = False
    socketio.start_background_task(resync)


def _writable(data, limit: str | None = None):
    """The viewer and their access to a session's cards, refused when read-only; a participant's action counts
    against their per-person `limit` (rooms/limits.py) and waits when Redis is nearly full."""
    viewer = _viewer()
    acc = access(evening(), viewer, _body(data).get("session"))
    if acc.readonly:
        raise PleinError(acc.reason, 409)
    if viewer is not None:
        evening().storage.guard()
        if limit:
            evening().limits.take(limit, viewer.id)
    return viewer, acc


def _card_changed(session_id: str, card: dict) -> None:
    card = {k: v for k, v in card.items() if k != "voted"}
    emit("cards:changed", {"session": session_id, "card": card}, to=evening().note_rooms(session_id))


def _refuse(session_id, exc: PleinError) -> None:
    emit("notes:error", {"session": session_id if isinstance(session_id, str) else None,
                         **exc.to_dict(_lang())["error"]})


def _message(session_id, data) -> None:
    if not _joined(session_id):
        raise PleinError("notes_not_joined", 409)
    notes = store()
    if not isinstance(data, (bytes, bytearray)):
        raise yprotocol.Malformed("not binary")
    if len(data) > notes.limits.max_update_bytes + 16:  # room for the message's own header
        raise PleinError("note_update_too_large", 413, max=notes.limits.max_update_bytes)
    msg = yprotocol.decode(data)
    channel = evening().note_rooms(session_id)
    if msg.kind == "step1":
        yprotocol.decode_state_vector(msg.payload)
        try:
            diff = notes.diff(session_id, msg.payload)
        except ValueError:
            raise yprotocol.Malformed("state vector") from None
        emit("notes:message", (session_id, yprotocol.step2(diff)))
    elif msg.kind == "awareness":
        notes.allow_awareness(session_id, _person())
        notes.remember_awareness(session_id, request.sid, msg.awareness)
        emit("notes:message", (session_id, bytes(data)), to=channel, include_self=False)
    elif msg.kind == "query":
        emit("notes:message", (session_id, bytes(data)), to=channel, include_self=False)
    else:  # step2 or update
        if msg.payload == yprotocol.EMPTY_UPDATE:
            return
        viewer = _viewer()
        acc = access(evening(), viewer, session_id, grace=notes.limits.grace_seconds)
        if acc.readonly and not acc.late:
            raise PleinError(acc.reason, 409)
        if viewer is not None:
            evening().storage.guard()  # a nearly full Redis keeps its last room for the moderators
        stored = notes.append(session_id, _who(viewer), msg.payload)  # stored before anyone hears of it
        if stored is None:
            return  # nothing the note had not got
        _, length, _ = stored
        # The others get the update as the client's Yjs wrote it (what the store keeps is re-encoded by yrs).
        emit("notes:message", (session_id, yprotocol.update(msg.payload)), to=channel, include_self=False)
        if length >= notes.limits.compact_every:
            try:
                notes.compact(session_id)
            except Exception:  # the update is stored; a failed compaction is retried at the next one
                log.exception("compaction of %s", session_id)


def _drop(session_id: str) -> None:
    """Leave a note's room and tell the others to drop this socket's cursors."""
    removal = store().forget_awareness(session_id, request.sid)
    if removal:
        emit("notes:message", (session_id, removal), to=evening().note_rooms(session_id), include_self=False)
    leave_room(_room(session_id))


def on_disconnect() -> None:
    """Called from the disconnect handler: every note this socket had joined."""
    slug = evening().program.slug
    for channel in list(rooms()):
        session_id = note_of(slug, channel)
        if session_id:
            try:
                _drop(session_id)
            except Exception:  # a disconnect must finish even if Redis is away
                log.exception("notes: leaving %s", channel)


def state_pushes(ev, notes: NoteStore, state) -> list[Push]:
    """After a transition: `notes:state` for every brainstorm's note (an Evening transition hook)."""
    out = []
    for rnd, s in brainstorms(ev.program):
        acc = access(ev, None, s.id, state)
        channel = ev.note_rooms(s.id)
        out.append(Push("notes:state", channel, {
            "session": s.id, "readonly": acc.readonly, "reason": acc.reason,
            "message": both(acc.reason) if acc.reason else None}))
        if not acc.readonly:
            # Writable now: ask every socket of the note for what the store lacks (sync step 1), so that a
            # change refused while the note was not open yet is stored now rather than lost.
            out.append(Push("notes:message", channel, (s.id, yprotocol.step1(notes.state_vector(s.id)))))
    return out


# -- history and restore (actions of server/moderation.py: moderators, and the session's host) --------------

def history(ev, session_id: str) -> dict:
    """The note's snapshots and who wrote how much (times in the event's time zone)."""
    data = store().history(session_id)
    for snap in data["snapshots"]:
        snap["at"] = iso(snap["at"], ev.tz) if snap["at"] else None
    return {"session": session_id, **data}


def hide_contributions(ev, actor, session_id: str, participant) -> tuple[dict, list[Push]]:
    """Take one participant's writing out of a note (a moderators' action): relayed to every open client."""
    update, removed = store().hide_contributions(
        session_id, participant.id, {"id": f"hide:{actor.id or actor.kind}", "name": actor.name})
    ev.audit.record(actor, "notes_hide", {"session": session_id, "text": removed[:2000],
                                          "participant": {"id": participant.id, "name": participant.name}})
    pushes = []
    if update != yprotocol.EMPTY_UPDATE:
        pushes.append(Push("notes:message", ev.note_rooms(session_id), (session_id, yprotocol.update(update))))
    return {"session": session_id, "participant": {"id": participant.id, "name": participant.name},
            "removed_characters": len(removed), "text": store().text(session_id)}, pushes


def restore(ev, actor, session_id: str, snapshot_id) -> tuple[dict, list[Push]]:
    """Bring a note back to a snapshot: stored as an edit of the server's, relayed to every open client."""
    notes = store()
    update = notes.restore(session_id, snapshot_id, {"id": f"restore:{actor.id or actor.kind}", "name": actor.name})
    ev.audit.record(actor, "notes_restore", {"session": session_id, "snapshot": snapshot_id})
    try:
        notes.compact(session_id)  # what the restore removed stops counting towards the note's size at once
    except Exception:
        log.exception("compaction of %s after a restore", session_id)
    pushes = []
    if update != yprotocol.EMPTY_UPDATE:
        pushes.append(Push("notes:message", ev.note_rooms(session_id),
                           (session_id, yprotocol.update(update))))
    return {"session": session_id, "snapshot": snapshot_id, "text": notes.text(session_id)}, pushes


# -- HTTP ---------------------------------------------------------------------------------------

@bp.get("/api/events/<slug>/notes/<session_id>/history")
def note_history(session_id):
    return jsonify(moderation.run("notes:history", current_actor(), {"session": session_id}))


@bp.post("/api/events/<slug>/notes/<session_id>/restore")
def note_restore(session_id):
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise PleinError("bad_json")
    return jsonify(moderation.run("notes:restore", current_actor(), {**body, "session": session_id}))


@bp.url_value_preprocessor
def check_slug(endpoint, values):
    if values and "slug" in values and values.pop("slug") != evening().program.slug:
        raise PleinError("not_found", 404)


def _export(ev, session_id: str, state=None) -> dict:
    acc = access(ev, None, session_id, state)
    return {"event": ev.program.slug,
            "session": {"id": acc.session.id, "title": acc.session.title, "round": acc.round.id},
            "readonly": acc.readonly, "reason": acc.reason, "text": store().text(acc.session.id),
            "cards": cards().list(acc.session.id, with_voted=False),
            "exported_at": iso(ev.now(), ev.tz)}


def markdown(data: dict, round_title: str) -> str:
    lines = [f"# {data['session']['title']}", "", f"*{round_title}*", "", data["text"].rstrip("\n"), "",
             "## Ideeën / Ideas", ""]
    if not data["cards"]:
        lines.append("*(geen / none)*")
    for card in data["cards"]:
        text = card["text"].replace("\n", " ")
        lines.append(f"- {text} ({card['votes']} stemmen/votes) — {card['author']['name']}")
    return "\n".join(lines) + "\n"


def _md_response(ev, session_id: str):
    data = _export(ev, session_id)
    body = markdown(data, ev.program.phase(data["session"]["round"]).title)
    response = make_response(body.encode("utf-8"))
    response.headers["Content-Type"] = "text/markdown; charset=utf-8"
    response.headers["Content-Disposition"] = \
        f'attachment; filename="{ev.program.slug}-{data["session"]["id"]}.md"'
    return response


def _require_moderator():
    if not is_moderator():
        raise PleinError("moderator_only", 403 if current_participant() else 401)


@bp.get("/api/events/<slug>/sessions/<session_id>/notes.md")
def participant_markdown(session_id):
    ev = evening()
    if not is_moderator():
        participant = current_participant()
        if participant is None:
            raise PleinError("unauthorized", 401)
        access(ev, participant, session_id)
    else:
        find_session(ev.program, session_id)
    return _md_response(ev, session_id)


@bp.get("/api/events/<slug>/notes/<session_id>.md")
def moderator_markdown(session_id):
    _require_moderator()
    return _md_response(evening(), session_id)


@bp.get("/api/events/<slug>/notes/<session_id>.json")
def moderator_json(session_id):
    _require_moderator()
    return jsonify(_export(evening(), session_id))


@bp.get("/api/events/<slug>/notes.zip")
def moderator_zip():
    _require_moderator()
    ev = evening()
    state = ev.state()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for rnd, s in brainstorms(ev.program):
            data = _export(ev, s.id, state)
            name = f"{ev.program.slug}-{s.id}"
            zf.writestr(name + ".md", markdown(data, rnd.title))
            zf.writestr(name + ".json", json.dumps(data, ensure_ascii=False, indent=2))
    response = make_response(buf.getvalue())
    response.headers["Content-Type"] = "application/zip"
    response.headers["Content-Disposition"] = f'attachment; filename="{ev.program.slug}-notes.zip"'
    return response


@bp.get("/api/events/<slug>/yield")
def evening_yield():
    """The closing plenary's "Opbrengst van de avond": the brainstorms whose round is over."""
    ev = evening()
    moderator = is_moderator()
    if not moderator and current_participant() is None:
        raise PleinError("unauthorized", 401)
    state = ev.state()
    out = []
    for rnd, s in brainstorms(ev.program):
        if not moderator and ev.round_status(rnd, state) != "over":
            continue
        out.append({"id": s.id, "title": s.title, "round": rnd.id, "text": store().text(s.id),
                    "cards": cards().list(s.id, with_voted=False)[:TOP_CARDS]})
    return jsonify({"sessions": out})

