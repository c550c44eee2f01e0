"""Browser-facing safety: the Origin check on cookie-authenticated writes, and the security headers.

A cookie travels with any request the browser makes, including a form another site submits
(a login CSRF on the join form, a same-site `text/plain` form on a body-less moderator POST). Every
state-changing request that is not authorised by a bearer token must therefore come
from one of our own pages: its `Origin` (else its `Referer`) must be this host, `PLEIN_PUBLIC_URL`
or one of `PLEIN_CORS_ORIGINS`. Browsers send `Origin` on every POST/PUT/DELETE; a request with
neither header is refused when it carries our session cookie (a program without a cookie, such as
curl signing up, has nothing a forged request could ride on). Nothing is stored, so 200 sign-ups
from one hall cost nothing extra.
"""
from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask import request

from rooms.errors import PleinError
from rooms.jitsi import JitsiSettings

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
HOST_RE = re.compile(r"^[A-Za-z0-9.\-]+(:[0-9]+)?$|^\[[0-9A-Fa-f:.]+\](:[0-9]+)?$")


def origin_of(url: str) -> str | None:
    """'https://host[:port]' of a URL, or None for anything that is not an http(s) URL."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc.lower()}"


def request_origin() -> str | None:
    """Where the browser says this request comes from: `Origin`, else the origin of `Referer`."""
    origin = request.headers.get("Origin")
    if origin:
        return None if origin == "null" else origin_of(origin)
    referer = request.headers.get("Referer")
    return origin_of(referer) if referer else None


def own_origins(config) -> set[str]:
    """Origins our own pages have: this host (either scheme: TLS may end at a proxy that keeps Host),
    the public URL, and the configured CORS origins."""
    host = request.host.lower()
    allowed = {f"http://{host}", f"https://{host}"}
    for url in [config["PLEIN_PUBLIC_URL"], *config["PLEIN_CORS_ORIGINS"]]:
        origin = origin_of(url) if url else None
        if origin:
            allowed.add(origin)
    return allowed


def check_same_origin(config) -> None:
    """Refuse a cookie-authenticated write that did not come from one of our pages (403 cross_site)."""
    scheme = request.headers.get("Authorization", "").partition(" ")[0]
    if request.method in SAFE_METHODS or scheme.lower() == "bearer":
        # Reads change nothing; a bearer token is a header no foreign page can make a browser send
        # (unlike Basic credentials, which a browser may attach by itself).
        return
    origin = request_origin()
    if origin is None and not request.headers.get("Origin") and not request.headers.get("Referer"):
        # Not a browser (every browser sends Origin on a write): fine unless it rides on our cookie.
        if config["SESSION_COOKIE_NAME"] not in request.cookies:
            return
    if origin not in own_origins(config):
        raise PleinError("cross_site", 403)


def content_security_policy(jitsi: JitsiSettings, host: str) -> str:
    """Scripts from us and the Jitsi deployment's external_api.js; frames only from that deployment;
    sockets to this host; never framed by anyone else."""
    script = origin_of(jitsi.script_url)
    frames = [f"https://{jitsi.domain}"] + ([script] if script and script != f"https://{jitsi.domain}" else [])
    scripts = ["'self'"] + ([script] if script else [])
    sockets = f" ws://{host} wss://{host}" if HOST_RE.match(host) else ""
    return "; ".join([
        "default-src 'self'",
        "script-src " + " ".join(scripts),
        "frame-src " + " ".join(frames),
        f"connect-src 'self'{sockets}",
        "img-src 'self' data: blob:",
        # The notes editor (CodeMirror) injects <style> elements where constructable sheets are missing.
        "style-src 'self' 'unsafe-inline'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


def init_app(app, jitsi: JitsiSettings) -> None:
    """Check every write's origin before the view runs; add the security headers to every response."""

    @app.before_request
    def same_origin_writes():
        check_same_origin(app.config)

    @app.after_request
    def security_headers(response):
        response.headers["Content-Security-Policy"] = content_security_policy(jitsi, request.host)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"  # frame-ancestors for browsers without CSP 2
        response.headers["Referrer-Policy"] = "same-origin"  # links carry keys and tokens
        return response
