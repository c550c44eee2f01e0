"""The JSON API under /api/events/<slug>/ and /healthz. Views stay thin: the services do the work."""
from __future__ import annotations

import redis
from flask import Blueprint, jsonify, make_response, request
from werkzeug.exceptions import HTTPException

from rooms import calendar
from rooms.errors import PleinError
from rooms.timeline import iso

from .auth import (current_participant, evening, language, links, moderator_required, participant_required,
                   sign_in)
from .pushes import send

bp = Blueprint("api", __name__)


@bp.url_value_preprocessor
def check_slug(endpoint, values):
    """Every /api/events/<slug>/ route answers 404 for another event than the one served."""
    if values and "slug" in values and values.pop("slug") != evening().program.slug:
        raise PleinError("not_found", 404)


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
    phases = []
    for i, p in enumerate(program.phases):
        start, end = times.get(i, (p.starts_at.timestamp(), p.ends_at.timestamp()))
        phases.append({
            "id": p.id, "kind": p.kind, "title": p.title,
            "starts_at": iso(start, tz), "ends_at": iso(end, tz),
            "planned_starts_at": p.starts_at.isoformat(), "planned_ends_at": p.ends_at.isoformat(),
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
    participant, token = evening().participants.create(json_body().get("name"))
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
    body = calendar.personal_calendar(ev.program, ev.seats.seats(participant.id), links()["live"], participant.name)
    return ics_response(body, "mijn-avond")


@bp.get("/api/events/<slug>/rounds")
@moderator_required
def rounds():
    return jsonify({"rounds": evening().rounds_overview()})


@bp.post("/api/events/<slug>/rounds/<round_id>/lock")
@moderator_required
def lock_round(round_id):
    ev = evening()
    rnd = ev.program.phase(round_id)
    if rnd is None or rnd.kind != "round":
        raise PleinError("unknown_round", 404, round=round_id[:40])
    locked = json_body().get("locked")
    if not isinstance(locked, bool):
        raise PleinError("bad_field", field="locked")
    ev.seats.lock(rnd.id, locked)
    return jsonify({"rounds": ev.rounds_overview()})


def ics_response(body: bytes, name: str):
    response = make_response(body)
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{evening().program.slug}-{name}.ics"'
    return response


@bp.post("/api/events/<slug>/clock")
@moderator_required
def clock():
    body = json_body()
    action = body.get("action")
    if not isinstance(action, str):
        raise PleinError("bad_field", field="action")
    minutes = body.get("minutes")
    ev = evening()
    state = ev.clock.act(action, minutes, by="api")
    send(ev.due(state))
    return jsonify(ev.public_state(state))


@bp.post("/api/events/<slug>/jitsi-check")
@moderator_required
def jitsi_check():
    """Check now that the Jitsi deployment serves external_api.js (short timeout, never fails)."""
    return jsonify(evening().check_jitsi(timeout=3.0))


@bp.get("/healthz")
def healthz():
    try:
        evening().r.ping()
    except redis.RedisError:
        return jsonify({"status": "degraded", "redis": "down"}), 503
    return jsonify({"status": "ok", "redis": "ok"})


def register_error_handlers(app) -> None:
    """Coded JSON errors for the API; pages get the same text in their own templates."""

    def wants_json() -> bool:
        return request.path.startswith("/api/") or request.path == "/healthz"

    @app.errorhandler(PleinError)
    def plein_error(exc: PleinError):
        if wants_json():
            return jsonify(exc.to_dict(language())), exc.status
        from .pages import error_page
        return error_page(exc.message(language()), exc.status)

    @app.errorhandler(redis.RedisError)
    def redis_error(exc):
        app.logger.warning("Redis error: %s", exc)
        return plein_error(PleinError("redis_down", 503))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if exc.code is None or exc.code < 400:
            return exc
        code = {404: "no_such_path", 405: "method_not_allowed", 413: "too_large"}.get(exc.code, "http_error")
        return plein_error(PleinError(code, exc.code))
