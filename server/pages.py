"""HTML pages: the event page with the join form, the live page, the moderator page."""
from __future__ import annotations

import io

import markdown
import redis
import segno
from flask import (Blueprint, current_app, make_response, redirect, render_template, request, send_file, session,
                   url_for)
from jinja2.utils import htmlsafe_json_dumps
from markupsafe import Markup

from rooms.errors import PleinError
from rooms.i18n import bcp47, clock_time, locale_name, long_date
from rooms.storage import is_full_error

from .api import event_dict
from rooms.participants import clean_name

from .auth import (current_participant, evening, host_links, is_moderator, language, links, moderator_actor,
                   participant_actor, sign_in, sign_in_moderator)
from . import config
from .moderation import grant_host
from .pushes import send
from . import i18n as strings

bp = Blueprint("pages", __name__)


@bp.url_value_preprocessor
def check_slug(endpoint, values):
    if values and "slug" in values and values.pop("slug") != evening().program.slug:
        raise PleinError("not_found", 404)


@bp.url_defaults
def add_slug(endpoint, values):
    if endpoint.startswith("pages.") and endpoint not in ("pages.index", "pages.docs"):
        values.setdefault("slug", evening().program.slug)


@bp.after_request
def remember_language(response):
    lang = request.args.get("lang")
    if lang in strings.languages():
        response.set_cookie("plein_lang", lang, max_age=365 * 24 * 3600, samesite="Lax")
    return response


def render(template: str, http_status: int = 200, **context):
    """Render with what every page needs: language, its strings, the event, the Jitsi notice."""
    ev = evening()
    lang = language()
    context.setdefault("participant", current_participant())
    html = render_template(
        template, lang=lang, t=strings.table(lang), program=ev.program, jitsi=ev.jitsi,
        languages=[(code, locale_name(code), bcp47(code)) for code in strings.languages()], lang_tag=bcp47(lang),
        long_date=lambda day: long_date(day, lang),
        hhmm=lambda moment: clock_time(moment, lang, ev.program.timezone), **context)
    response = make_response(html, http_status)
    response.headers["Cache-Control"] = "no-store"
    return response


def error_page(message: str, status: int):
    return render("error.html", status, message=message, status=status)


def page_config(**extra) -> str:
    """JSON for the page's script, in a <script type=application/json>. Every <, > and & is a \\u escape:
    HTML does not end a script element at the first `</script>` after a `<!--<script>` (a name could
    swallow the rest of the page), so no markup character may appear in it at all."""
    ev = evening()
    lang = language()
    data = {
        "slug": ev.program.slug, "lang": lang, "strings": strings.table(lang).for_script(),
        "timezone": ev.program.timezone, "event": event_dict(),
        "jitsi": {"domain": ev.jitsi.domain, "script_url": ev.jitsi.script_url,
                  "public": ev.jitsi.is_public, "token_required": ev.jitsi.uses_tokens},
        **extra,
    }
    return htmlsafe_json_dumps(data, ensure_ascii=False)


@bp.get("/")
def index():
    return redirect(url_for("pages.event", slug=evening().program.slug))


def event_page(status: int = 200, name: str = "", error: str | None = None):
    ev = evening()
    host = session.get("host_invite")
    host_session = next((s for p in ev.program.rounds for s in p.sessions if s.id == host), None)
    return render("event.html", status, event=event_dict(), state=ev.public_state(), name=name, error=error,
                  signup_open=ev.signup_open(), host_session=host_session)


@bp.get("/e/<slug>/invite")
def invite():
    """The invitation kit: one printable page with the join link, its QR code and the program."""
    return render("invite.html", event=event_dict(), link=links()["event"])


@bp.get("/e/<slug>/invite/qr.<fmt>")
def invite_qr(fmt):
    """The join link as a QR code, SVG or PNG (`?download=1` as a file)."""
    if fmt not in ("svg", "png"):
        raise PleinError("no_such_path", 404)
    code = segno.make(links()["event"], error="m")
    out = io.BytesIO()
    code.save(out, kind=fmt, scale=1 if fmt == "svg" else 12, border=4)
    out.seek(0)
    return send_file(out, mimetype="image/svg+xml" if fmt == "svg" else "image/png",
                     as_attachment=request.args.get("download") == "1",
                     download_name=f"{evening().program.slug}-qr.{fmt}", max_age=0)


DOCS = {"deploy": "Deploying Plein", "protocol": "Plein's wire protocol"}


@bp.get("/docs/<name>")
def docs(name):
    """docs/<name>.md rendered, for the links in the pages (the console's Jitsi warning links here)."""
    if name not in DOCS or not (config.ROOT / "docs" / f"{name}.md").is_file():
        raise PleinError("no_such_path", 404)
    text = (config.ROOT / "docs" / f"{name}.md").read_text(encoding="utf-8")
    body = markdown.markdown(text, extensions=["tables", "fenced_code", "toc"], output_format="html")
    return render("docs.html", title=DOCS[name], body=Markup(body))


@bp.get("/e/<slug>")
def event():
    return event_page()


@bp.post("/e/<slug>/join")
def join():
    name = request.form.get("name", "")
    try:
        participant, _token = evening().sign_up(name, request.remote_addr)
    except PleinError as exc:
        # Keep what they typed; say what is wrong, in their language (403 when sign-up is closed).
        return event_page(exc.status, name=name[:200], error=exc.message(language()))
    host = session.get("host_invite")
    sign_in(participant)
    if host:
        return become_host(participant, host)
    # Straight into the evening: the live page invites to choose a session, it never stands in the way.
    return redirect(url_for("pages.live"), 303)


@bp.get("/e/<slug>/host/<session_id>/<token>")
def host_link(session_id, token):
    """A session's host link: a signed-in participant becomes its host; anyone else signs up first."""
    ev = evening()
    if not ev.is_host_token(session_id, token):
        raise PleinError("bad_link", 404)
    participant = current_participant()
    if participant is None:
        session["host_invite"] = session_id
        return redirect(url_for("pages.event"), 303)
    return become_host(participant, session_id)


def become_host(participant, session_id: str):
    session.pop("host_invite", None)
    _, pushes = grant_host(evening(), participant_actor(participant), participant, session_id, True)
    send(pushes)
    return redirect(url_for("pages.live"), 303)


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


@bp.get("/e/<slug>/p")
def personal_link_page():
    """A personal link (from an import), `/p#<token>`: the token is in the fragment, which only the page's
    script reads (static/personal-link.js); it posts it with the form below."""
    return render("personal_link.html")


@bp.post("/e/<slug>/p")
def personal_link_form():
    return sign_in_with_token(request.form.get("token", "").strip())


@bp.get("/e/<slug>/p/<token>")
def personal_link(token):
    """An older personal link with the token in the path: signs in just the same."""
    return sign_in_with_token(token)


def sign_in_with_token(token: str):
    """Sign in with a personal link's token and go to the live page."""
    participant = evening().participants.by_token(token) if token else None
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
        record_sign_in()
        return redirect(url_for("pages.moderator"), 303)  # the key leaves the address bar and history
    if not is_moderator():
        return render("moderator_login.html", error=None)
    ev = evening()
    base = links()["event"]
    return render("moderator.html", config=page_config(
        moderator=True, participants=ev.participants.count(), jitsi_check=ev.last_jitsi_check(),
        moderator_name=session.get("moderator_name"), config_key=bool(ev.configured_moderator_key),
        links={"participant": base, "moderator": links()["moderator"], "hosts": host_links()}))


@bp.post("/e/<slug>/moderator")
def moderator_login():
    key = request.form.get("key", "").strip()
    raw_name = request.form.get("name", "")
    if not evening().is_moderator_key(key):
        return render("moderator_login.html", 403, error=strings.table(language())["moderator_bad_key"],
                      name=raw_name[:60])
    try:
        name = clean_name(raw_name, organiser=True) if raw_name.strip() else None
    except PleinError as exc:
        return render("moderator_login.html", 400, error=exc.message(language()), name=raw_name[:60])
    sign_in_moderator(name)
    record_sign_in()
    return redirect(url_for("pages.moderator"), 303)


def record_sign_in() -> None:
    """Moderator sign-ins go into the audit log too: who had the console, and when. A full Redis does not keep
    a moderator out (the sign-in is in the cookie); the log then misses that line."""
    try:
        evening().audit.record(moderator_actor(session.get("moderator_name"), session["moderator_id"]), "sign_in", {})
    except redis.RedisError as exc:
        if not is_full_error(exc):
            raise
        current_app.logger.warning("moderator sign-in not in the audit log: %s", exc)
