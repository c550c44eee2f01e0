"""Who is asking: a participant (bearer token or session cookie) or a moderator (key or cookie); the language."""
from __future__ import annotations

import functools
import secrets

from flask import current_app, g, request, session

from rooms.audit import Actor
from rooms.errors import PleinError
from rooms.i18n import languages
from rooms.evening import Evening
from rooms.participants import Participant


def evening() -> Evening:
    return current_app.extensions["plein"]


def bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None


def current_participant() -> Participant | None:
    """From `Authorization: Bearer <token>`, else from the session cookie."""
    if "participant" not in g:
        ev = evening()
        token = bearer()
        if token:
            g.participant = ev.participants.by_token(token)
        elif session.get("event") == ev.program.slug:
            g.participant = ev.participants.get(session.get("pid"))
        else:
            g.participant = None
    return g.participant


def is_moderator() -> bool:
    """A moderator key as bearer token, or a session that exchanged one (same key still valid)."""
    ev = evening()
    token = bearer()
    if token:
        return ev.is_moderator_key(token)
    return session.get("event") == ev.program.slug and ev.is_moderator_fingerprint(session.get("moderator"))


def moderator_required(view):
    """Refuse unless the request comes from a moderator: 401 when nobody is signed in, 403 for a participant
    (as the console actions of server/moderation.py answer)."""
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if not is_moderator():
            raise PleinError("moderator_only", 403 if current_participant() else 401)
        return view(*args, **kwargs)
    return wrapped


def participant_required(view):
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if current_participant() is None:
            raise PleinError("unauthorized", 401)
        return view(*args, **kwargs)
    return wrapped


def sign_in(participant: Participant) -> None:
    session.clear()
    session.permanent = True
    session["event"] = evening().program.slug
    session["pid"] = participant.id


def sign_in_moderator(name: str | None = None) -> None:
    """The cookie keeps a fingerprint of the key, not the key: a new key signs every moderator out.
    Each sign-in gets its own id, so the audit log tells two moderators with the same name apart."""
    keep = session.get("moderator_name") if name is None else name
    session.clear()
    session.permanent = True
    session["event"] = evening().program.slug
    session["moderator"] = evening().moderator_fingerprint()
    session["moderator_id"] = secrets.token_hex(4)
    if keep:
        session["moderator_name"] = keep


def moderator_actor(name: str | None, actor_id: str) -> Actor:
    return Actor("moderator", name or f"Moderator {actor_id[:4]}", actor_id)


def participant_actor(participant: Participant) -> Actor:
    hosts = evening().hosts.of(participant.id)
    return Actor("host" if hosts else "participant", participant.name, participant.id, hosts)


def current_actor() -> Actor | None:
    """Who makes this request: a moderator (key or cookie), a participant or host, or nobody."""
    if is_moderator():
        if bearer():
            return moderator_actor("API", "api")
        return moderator_actor(session.get("moderator_name"), session.get("moderator_id", "----"))
    participant = current_participant()
    return participant_actor(participant) if participant else None


def links() -> dict:
    """The evening's public addresses (PLEIN_PUBLIC_URL, else as this request reached us). The moderator
    link carries its key in the fragment, which browsers never send: no log on the way sees it."""
    base = current_app.config["PLEIN_PUBLIC_URL"] or request.host_url.rstrip("/")
    ev = evening()
    event = f"{base}/e/{ev.program.slug}"
    return {"event": event, "live": f"{event}/live", "moderator": moderator_link(event, ev.moderator_key)}


def moderator_link(event_url: str, key: str) -> str:
    """`…/moderator#key=<key>` (web/static/moderator-link.js signs in with it); `?key=` still works."""
    return f"{event_url}/moderator#key={key}"


def host_links() -> dict[str, str]:
    """session id -> its host link (made on first use; a new one after a re-issue or a key rotation)."""
    ev = evening()
    base = links()["event"]
    return {s.id: f"{base}/host/{s.id}/{ev.host_token(s.id)}" for p in ev.program.rounds for s in p.sessions}


def language() -> str:
    """`?lang=` (remembered in a cookie by the NL|EN switch), else that cookie, else the evening's own language
    (`language` in the program; Dutch for the seed). A browser's Accept-Language does not count for the
    pages: a Chromium set to English would open a Dutch evening in English. A program calling the JSON API
    without the pages' session (a bearer token, or no cookie at all) may still ask with Accept-Language."""
    lang = request.args.get("lang") or request.cookies.get("plein_lang")
    if lang in languages():
        return lang
    scripted = request.headers.get("Authorization") or current_app.config["SESSION_COOKIE_NAME"] not in request.cookies
    if request.path.startswith("/api/") and scripted:
        asked = request.accept_languages.best_match(languages())
        if asked:
            return asked
    return evening().program.language
