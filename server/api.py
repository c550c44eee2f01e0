"""The JSON API under /api/events/<slug>/ and /healthz. Views stay thin: the services do the work."""
from __future__ import annotations

import redis
from flask import Blueprint, jsonify, make_response, request, session
from werkzeug.exceptions import HTTPException

from rooms import calendar
from rooms.errors import PleinError
from rooms.participants import clean_name
from rooms.storage import storage_error
from rooms.timeline import iso

from rooms.evening import Push
from rooms.overview import help_wire, room_view

from . import moderation
from .auth import (current_actor, current_participant, evening, host_links, is_moderator, language, links,
                   moderator_required, participant_required, sign_in, sign_in_moderator)
from .pushes import send

bp = Blueprint("api", __name__)


@bp.url_value_preprocessor
def check_slug(endpoint, values):
    """Every /api/events/<slug>/ route answers 404 for another event than the one served."""
    if values and "slug" in values and values.pop("slug") != evening().program.slug:
        raise PleinError("not_found", 404)


@bp.before_request
def storage_room():
    """While Redis is (nearly) full only moderators write: what room is left keeps the clock going."""
    if request.method in ("POST", "PUT", "PATCH", "DELETE") and request.path.startswith("/api/") and not is_moderator():
        evening().storage.guard()


def json_body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise PleinError("bad_json")
    return body


def event_dict() -> dict:
    """The program with each phase's effective times (planned times while waiting) and places left."""
    ev = evening()
    program, tz = ev.program, ev.program.tz
    state = ev.state()
    times = {s.index: (s.starts_at, s.ends_at) for s in state.schedule}
    taken = ev.seats.taken()
    locked = ev.seats.locked()
    ran: dict[str, list] = {p.id: [] for p in program.phases}
    for run in ev.clock.played(state.now):
        ran.setdefault(run["phase"], []).append({
            "starts_at": iso(run["starts_at"], tz),
            "ends_at": None if run["ends_at"] is None else iso(run["ends_at"], tz)})
    phases = []
    for i, p in enumerate(program.phases):
        start, end = times.get(i, (p.starts_at.timestamp(), p.ends_at.timestamp()))
        phases.append({
            "id": p.id, "kind": p.kind, "title": p.title,
            "starts_at": iso(start, tz), "ends_at": iso(end, tz),
            "planned_starts_at": p.starts_at.isoformat(), "planned_ends_at": p.ends_at.isoformat(),
            "ran": ran[p.id],
            "sessions": [{"id": s.id, "title": s.title, "kind": s.kind, "capacity": s.capacity,
                          "hosts": list(s.hosts), "description": s.description,
                          "taken": taken[p.id][s.id], "places_left": max(0, s.capacity - taken[p.id][s.id])}
                         for s in p.sessions],
        })
        if p.kind == "round":
            phases[-1].update({"switching": p.switching, "locked": p.id in locked,
                               "status": ev.round_status(p, state)})
    return {"slug": program.slug, "title": program.title, "timezone": program.timezone,
            "date": program.date.isoformat(), "description": program.description, "phases": phases}


@bp.get("/api/events/<slug>")
def get_event():
    return jsonify(event_dict())


@bp.get("/api/events/<slug>/state")
def get_state():
    return jsonify(evening().public_state())


@bp.post("/api/events/<slug>/participants")
def create_participant():
    participant, token = evening().sign_up(json_body().get("name"), request.remote_addr)
    sign_in(participant)
    return jsonify({"id": participant.id, "name": participant.name, "token": token}), 201


@bp.get("/api/events/<slug>/participants/me/state")
@participant_required
def my_state():
    return jsonify(evening().state_for(current_participant()))


@bp.get("/api/events/<slug>/participants/me")
@participant_required
def me():
    return jsonify(evening().me(current_participant()))


@bp.put("/api/events/<slug>/participants/me/choices")
@participant_required
def choose():
    ev = evening()
    result, pushes = ev.choose(current_participant(), json_body())
    send(pushes)
    return jsonify(result)


@bp.get("/api/events/<slug>/calendar.ics")
def program_calendar():
    return ics_response(calendar.program_calendar(evening().program, links()["event"]), "programma")


@bp.get("/api/events/<slug>/participants/me/calendar.ics")
@participant_required
def my_calendar():
    ev = evening()
    participant = current_participant()
    body = calendar.personal_calendar(ev.program, ev.seats.seats(participant.id), links()["live"], participant.name,
                                      language())
    return ics_response(body, "mijn-avond")


@bp.get("/api/events/<slug>/rounds")
@moderator_required
def rounds():
    return jsonify({"rounds": evening().rounds_overview()})


@bp.post("/api/events/<slug>/rounds/<round_id>/lock")
def lock_round(round_id):
    return jsonify(moderation.run("lock", current_actor(), {**json_body(), "round": round_id}))


def ics_response(body: bytes, name: str):
    response = make_response(body)
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{evening().program.slug}-{name}.ics"'
    return response


@bp.post("/api/events/<slug>/clock")
def clock():
    """start | advance | back | extend (minutes) | pause | resume | jump (phase) | end."""
    return jsonify(moderation.run("clock", current_actor(), json_body()))


# -- the moderator console ----------------------------------------------------------------------

@bp.get("/api/events/<slug>/console")
def console():
    return jsonify(moderation.run("console", current_actor(), {}))


@bp.post("/api/events/<slug>/broadcasts")
def broadcast():
    return jsonify(moderation.run("broadcast", current_actor(), json_body())), 201


@bp.post("/api/events/<slug>/participants/<pid>/move")
def move(pid):
    return jsonify(moderation.run("move", current_actor(), {**json_body(), "participant": pid}))


@bp.post("/api/events/<slug>/participants/<pid>/host")
def host(pid):
    return jsonify(moderation.run("host", current_actor(), {**json_body(), "participant": pid}))


@bp.post("/api/events/<slug>/sessions/<session_id>/host-link")
def reissue_host_link(session_id):
    """A new host link for a session; the old one stops working."""
    return jsonify(moderation.run("host:link", current_actor(), {"session": session_id}))


@bp.post("/api/events/<slug>/sessions/<session_id>/cards/<card_id>/hide")
def hide_card(session_id, card_id):
    """Hide an idea card, or show it again with {"hidden": false} (moderators, the session's host)."""
    body = {"hidden": True, **json_body()} if request.content_length else {"hidden": True}
    return jsonify(moderation.run("cards:hide", current_actor(), {**body, "session": session_id, "card": card_id}))


@bp.post("/api/events/<slug>/notes/<session_id>/hide")
def hide_contributions(session_id):
    """Take everything one participant wrote out of a note: {"participant": id} (moderators, the session's host)."""
    return jsonify(moderation.run("notes:hide", current_actor(), {**json_body(), "session": session_id}))


@bp.post("/api/events/<slug>/participants/<pid>/remove")
def remove_participant(pid):
    """Take a participant out of the evening (moderator, or the host of the room they are in)."""
    return jsonify(moderation.run("remove", current_actor(), {"participant": pid}))


@bp.put("/api/events/<slug>/signup")
def signup():
    return jsonify(moderation.run("signup", current_actor(), json_body()))


@bp.post("/api/events/<slug>/help/<request_id>/answer")
def help_answer(request_id):
    return jsonify(moderation.run("help:answer", current_actor(), {**json_body(), "id": request_id}))


@bp.post("/api/events/<slug>/help/<request_id>/done")
def help_done(request_id):
    return jsonify(moderation.run("help:done", current_actor(), {"id": request_id}))


@bp.get("/api/events/<slug>/audit")
@moderator_required
def audit():
    return jsonify({"entries": evening().audit.all()})


@bp.get("/api/events/<slug>/audit.csv")
@moderator_required
def audit_csv():
    response = make_response(evening().audit.csv().encode("utf-8-sig"))  # a BOM, so spreadsheets read UTF-8
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{evening().program.slug}-logboek.csv"'
    return response


@bp.post("/api/events/<slug>/moderator-key/rotate")
@moderator_required
def rotate_moderator_key():
    """A new moderator key; every other moderator must sign in again (this one stays signed in by cookie)."""
    ev = evening()
    actor = current_actor()
    signed_out = ev.moderators_channel()  # the old key's room: its sockets hear this, then nothing more
    key = ev.rotate_moderator_key(actor)
    if not request.headers.get("Authorization"):
        sign_in_moderator()
    send([Push("auth:revoked", signed_out, {"by": actor.name})])
    return jsonify({"key": key, "link": links()["moderator"], "hosts": host_links()})  # host links: new ones too


@bp.put("/api/events/<slug>/moderators/me")
@moderator_required
def name_moderator():
    """The name a signed-in moderator goes by in the audit log."""
    if request.headers.get("Authorization"):
        raise PleinError("cookie_only")
    name = clean_name(json_body().get("name"), organiser=True)
    session["moderator_name"] = name
    return jsonify({"name": name})


@bp.get("/api/events/<slug>/sessions/<session_id>/room")
def session_room(session_id):
    """Who is in one session's room now: for moderators and that session's hosts."""
    actor = current_actor()
    if actor is None or not (actor.is_moderator or actor.hosts(session_id)):
        raise PleinError("host_only", 403 if actor else 401)
    room = room_view(evening(), session_id)
    if room is None:
        raise PleinError("session_not_running", 409)
    return jsonify(room)


# -- help and messages, for participants ------------------------------------------------------------

@bp.post("/api/events/<slug>/participants/me/help")
@participant_required
def ask_help():
    ev = evening()
    participant = current_participant()
    item = ev.help.ask(participant, json_body().get("text"), ev.where(participant.id))
    return jsonify(help_wire(item, ev.tz)), 201


@bp.get("/api/events/<slug>/participants/me/help")
@participant_required
def my_help():
    ev = evening()
    item = ev.help.of(current_participant().id)
    return jsonify({"request": item and help_wire(item, ev.tz)})


@bp.post("/api/events/<slug>/participants/me/help/done")
@participant_required
def my_help_done():
    """'Gelukt, bedankt': the participant closes their own request."""
    ev = evening()
    participant = current_participant()
    item = ev.help.of(participant.id)
    if item is None:
        raise PleinError("unknown_help", 404)
    item = ev.help.done(item["id"], by=participant.name)
    return jsonify(help_wire(item, ev.tz))


@bp.get("/api/events/<slug>/participants/me/broadcasts")
@participant_required
def my_broadcasts():
    """The latest messages from the moderators meant for this participant (everyone, or their room)."""
    ev = evening()
    state = ev.state()
    room = ev.where(current_participant().id, state)
    sessions = {room["session"]} if room and room["session"] else set()
    return jsonify({"broadcasts": ev.broadcasts.recent(sessions, state.current and state.current.phase.id)})


@bp.post("/api/events/<slug>/jitsi-check")
@moderator_required
def jitsi_check():
    """Check now that the Jitsi deployment serves external_api.js (short timeout, never fails)."""
    return jsonify(evening().check_jitsi(timeout=3.0))


@bp.get("/healthz")
def healthz():
    """200 only when Redis takes writes: "down" (out of reach) and "full" (writes refused) are 503."""
    redis_health = evening().storage.health()
    if redis_health != "ok":
        return jsonify({"status": "degraded", "redis": redis_health}), 503
    return jsonify({"status": "ok", "redis": "ok"})


def register_error_handlers(app) -> None:
    """Coded JSON errors for the API; pages get the same text in their own templates."""

    def wants_json() -> bool:
        return request.path.startswith("/api/") or request.path == "/healthz"

    @app.errorhandler(PleinError)
    def plein_error(exc: PleinError):
        headers = {"Retry-After": str(exc.details["retry_after"])} if "retry_after" in exc.details else {}
        if wants_json():
            return jsonify(exc.to_dict(language())), exc.status, headers
        from .pages import error_page
        return error_page(exc.message(language()), exc.status)

    @app.errorhandler(redis.RedisError)
    def redis_error(exc):
        app.logger.warning("Redis error: %s", exc)
        return plein_error(storage_error(exc))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if exc.code is None or exc.code < 400:
            return exc
        code = {404: "no_such_path", 405: "method_not_allowed", 413: "too_large"}.get(exc.code, "http_error")
        return plein_error(PleinError(code, exc.code))
