"""HTML pages: the event page with the join form, the live page, the moderator page."""
from __future__ import annotations

import json

from flask import Blueprint, make_response, redirect, render_template, request, url_for

from rooms.errors import PleinError

from .api import event_dict
from .auth import current_participant, evening, is_moderator, language, links, sign_in, sign_in_moderator
from . import i18n as strings

bp = Blueprint("pages", __name__)


@bp.url_value_preprocessor
def check_slug(endpoint, values):
    if values and "slug" in values and values.pop("slug") != evening().program.slug:
        raise PleinError("not_found", 404)


@bp.url_defaults
def add_slug(endpoint, values):
    if endpoint.startswith("pages.") and endpoint != "pages.index":
        values.setdefault("slug", evening().program.slug)


@bp.after_request
def remember_language(response):
    lang = request.args.get("lang")
    if lang in strings.LANGUAGES:
        response.set_cookie("plein_lang", lang, max_age=365 * 24 * 3600, samesite="Lax")
    return response


def render(template: str, http_status: int = 200, **context):
    """Render with what every page needs: language, its strings, the event, the Jitsi notice."""
    ev = evening()
    lang = language()
    context.setdefault("participant", current_participant())
    html = render_template(
        template, lang=lang, t=strings.table(lang), program=ev.program, jitsi=ev.jitsi, **context)
    response = make_response(html, http_status)
    response.headers["Cache-Control"] = "no-store"
    return response


def error_page(message: str, status: int):
    return render("error.html", status, message=message, status=status)


def page_config(**extra) -> str:
    """JSON for the page's script (in a <script type=application/json>, so no HTML escaping issues)."""
    ev = evening()
    lang = language()
    data = {
        "slug": ev.program.slug, "lang": lang, "strings": strings.table(lang),
        "timezone": ev.program.timezone, "event": event_dict(),
        "jitsi": {"domain": ev.jitsi.domain, "script_url": ev.jitsi.script_url,
                  "public": ev.jitsi.is_public, "token_required": ev.jitsi.uses_tokens},
        **extra,
    }
    return json.dumps(data, ensure_ascii=False).replace("</", "<\\/")


@bp.get("/")
def index():
    return redirect(url_for("pages.event", slug=evening().program.slug))


@bp.get("/e/<slug>")
def event():
    return render("event.html", event=event_dict(), state=evening().public_state(), name="", error=None)


@bp.post("/e/<slug>/join")
def join():
    name = request.form.get("name", "")
    try:
        participant, _token = evening().sign_up(name)
    except PleinError as exc:
        # Keep what they typed; say what is wrong, in their language.
        return render("event.html", 400, event=event_dict(), state=evening().public_state(),
                      name=name[:200], error=exc.message(language()))
    sign_in(participant)
    return redirect(url_for("pages.choose"), 303)


@bp.get("/e/<slug>/choose")
def choose():
    """Pick a session per round (until each round starts); then on to the live page."""
    participant = current_participant()
    if participant is None:
        return redirect(url_for("pages.event"))
    ev = evening()
    return render("choose.html", config=page_config(
        participant={"id": participant.id, "name": participant.name}, me=ev.me(participant)))


@bp.get("/e/<slug>/live")
def live():
    participant = current_participant()
    if participant is None:
        return redirect(url_for("pages.event"))
    return render("live.html", config=page_config(
        participant={"id": participant.id, "name": participant.name}, me=evening().me(participant)))


@bp.get("/e/<slug>/p/<token>")
def personal_link(token):
    """A personal link (from an import): sign in with its token and go to the live page."""
    participant = evening().participants.by_token(token)
    if participant is None:
        raise PleinError("bad_link", 404)
    sign_in(participant)
    return redirect(url_for("pages.live"), 303)


@bp.get("/e/<slug>/moderator")
def moderator():
    key = request.args.get("key")
    if key is not None:
        if not evening().is_moderator_key(key):
            return render("moderator_login.html", 403, error=strings.table(language())["moderator_bad_key"])
        sign_in_moderator()
        return redirect(url_for("pages.moderator"), 303)  # the key leaves the address bar and history
    if not is_moderator():
        return render("moderator_login.html", error=None)
    ev = evening()
    return render("moderator.html", config=page_config(
        moderator=True, participants=ev.participants.count(), jitsi_check=ev.last_jitsi_check(),
        links={"participant": links()["event"], "moderator": links()["moderator"]}))


@bp.post("/e/<slug>/moderator")
def moderator_login():
    key = request.form.get("key", "").strip()
    if not evening().is_moderator_key(key):
        return render("moderator_login.html", 403, error=strings.table(language())["moderator_bad_key"])
    sign_in_moderator()
    return redirect(url_for("pages.moderator"), 303)
