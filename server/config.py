"""Settings, read from the environment (see the README's configuration table)."""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED_PROGRAM = ROOT / "config" / "events" / "cooperatieve-stad-2022.toml"


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    try:
        return float(raw)
    except ValueError:
        raise SystemExit(f"{name}={raw!r} is not a number") from None


def _int(name: str, default: int, minimum: int = 1) -> int:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SystemExit(f"{name}={raw!r} is not a whole number") from None
    if value < minimum:
        raise SystemExit(f"{name}={raw!r} must be at least {minimum}")
    return value


def _bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    return raw.strip().lower() in ("1", "true", "yes", "on")


def _rates() -> dict:
    from rooms.limits import rates_from
    try:
        return rates_from(os.environ.get)
    except ValueError as exc:
        raise SystemExit(str(exc)) from None


def _switch(name: str) -> bool:
    """An on/off switch that is on unless set to off (off, 0, false, no)."""
    return (os.environ.get(name) or "on").strip().lower() not in ("off", "0", "false", "no")


def _log_level() -> str:
    from .logs import LEVELS
    level = (os.environ.get("PLEIN_LOG_LEVEL") or "INFO").strip().upper()
    if level not in LEVELS:
        raise SystemExit(f"PLEIN_LOG_LEVEL={os.environ.get('PLEIN_LOG_LEVEL')!r}: use one of {', '.join(LEVELS)}")
    return level


def from_env() -> dict:
    """The app config as the environment sets it; `create_app(test_config)` may override any key."""
    env = os.environ.get
    return {
        "PLEIN_PROGRAM": env("PLEIN_PROGRAM") or str(SEED_PROGRAM),
        "REDIS_URL": env("REDIS_URL") or None,  # None: start the embedded redis-server
        "SECRET_KEY": env("PLEIN_SECRET_KEY") or None,  # None: generated once, kept in Redis
        "PLEIN_MODERATOR_KEY": env("PLEIN_MODERATOR_KEY") or None,  # None: generated once, kept in Redis
        "PLEIN_PUBLIC_URL": (env("PLEIN_PUBLIC_URL") or "").rstrip("/"),
        "PLEIN_SPEED": _float("PLEIN_SPEED", 1.0),
        "PLEIN_START": env("PLEIN_START") or None,  # ISO time; `plein serve --start now` also sets it
        "PLEIN_ASYNC_MODE": env("PLEIN_ASYNC_MODE") or "gevent",
        "PLEIN_LOG_LEVEL": _log_level(),
        "PLEIN_TICKER": _bool("PLEIN_TICKER", True),
        "PLEIN_TICK_SECONDS": _float("PLEIN_TICK_SECONDS", 0.2),
        "PLEIN_CORS_ORIGINS": [o for o in (env("PLEIN_CORS_ORIGINS") or "").split(",") if o.strip()],
        "JITSI_DOMAIN": env("JITSI_DOMAIN") or "meet.jit.si",
        "JITSI_EXTERNAL_API_URL": env("JITSI_EXTERNAL_API_URL") or "",
        "JITSI_APP_ID": env("JITSI_APP_ID") or "",
        "JITSI_APP_SECRET": env("JITSI_APP_SECRET") or "",
        "JITSI_JWT_AUDIENCE": env("JITSI_JWT_AUDIENCE") or "jitsi",
        "JITSI_JWT_SUBJECT": env("JITSI_JWT_SUBJECT") or "",
        "JITSI_JWT_TTL": int(_float("JITSI_JWT_TTL", 3600)),
        "JITSI_ROOM_SIZE_URL": env("JITSI_ROOM_SIZE_URL") or "",
        "JITSI_MUC_DOMAIN": env("JITSI_MUC_DOMAIN") or "",
        "JITSI_ROOM_SIZE_INTERVAL": _float("JITSI_ROOM_SIZE_INTERVAL", 10.0),
        # JaaS (8x8.vc): all three, or none (rooms/jitsi.py, docs/deploy.md)
        "JITSI_JAAS_APP_ID": (env("JITSI_JAAS_APP_ID") or "").strip(),
        "JITSI_JAAS_KEY_ID": (env("JITSI_JAAS_KEY_ID") or "").strip(),
        "JITSI_JAAS_PRIVATE_KEY_FILE": env("JITSI_JAAS_PRIVATE_KEY_FILE") or "",
        "PLEIN_PRESENCE_TTL": _float("PLEIN_PRESENCE_TTL", 15.0),
        # rate limits per person or address (rooms/limits.py, and the notes' own); `PLEIN_RATE_LIMITS=off`
        # lifts them all, for load tests on loopback only
        "PLEIN_RATE_LIMITS": _switch("PLEIN_RATE_LIMITS"),
        "PLEIN_LIMITS": _rates(),
        # one connection's events: how many run at once, how many may wait (server/fairness.py)
        "PLEIN_SOCKET_CONCURRENCY": _int("PLEIN_SOCKET_CONCURRENCY", 4),
        "PLEIN_SOCKET_QUEUE": _int("PLEIN_SOCKET_QUEUE", 64),
        # behind a reverse proxy: how many proxies' X-Forwarded-For to trust for the client's address
        "PLEIN_PROXY_HOPS": _int("PLEIN_PROXY_HOPS", 0, minimum=0),
        # Bytes below Redis's maxmemory kept for moderators and the clock (participants' writes stop there);
        # unset: 5% of maxmemory, at least 1 MiB (rooms/storage.py).
        "PLEIN_STORAGE_HEADROOM": _int("PLEIN_STORAGE_HEADROOM", 0, minimum=0) or None,
        # brainstorm notes (rooms/notes.py; docs/deploy.md)
        "PLEIN_NOTES_MAX_UPDATE_BYTES": _int("PLEIN_NOTES_MAX_UPDATE_BYTES", 32 * 1024),
        "PLEIN_NOTES_MAX_NOTE_BYTES": _int("PLEIN_NOTES_MAX_NOTE_BYTES", 1024 * 1024),
        "PLEIN_NOTES_RATE": _int("PLEIN_NOTES_RATE", 60),
        "PLEIN_NOTES_COMPACT_EVERY": _int("PLEIN_NOTES_COMPACT_EVERY", 200),
        "PLEIN_NOTES_RESYNC_SECONDS": _int("PLEIN_NOTES_RESYNC_SECONDS", 15),
        "PLEIN_NOTES_PERSON_BYTES": _int("PLEIN_NOTES_PERSON_BYTES", 256 * 1024),
        "PLEIN_NOTES_PERSON_BYTES_PER_MINUTE": _int("PLEIN_NOTES_PERSON_BYTES_PER_MINUTE", 64 * 1024),
        "PLEIN_NOTES_AWARENESS_CLIENTS": _int("PLEIN_NOTES_AWARENESS_CLIENTS", 2),
        "PLEIN_NOTES_AWARENESS_BYTES": _int("PLEIN_NOTES_AWARENESS_BYTES", 2048),
        "PLEIN_NOTES_SNAPSHOTS": _int("PLEIN_NOTES_SNAPSHOTS", 30),
        "PLEIN_NOTES_SNAPSHOT_SECONDS": _int("PLEIN_NOTES_SNAPSHOT_SECONDS", 60),
        "PLEIN_NOTES_GRACE_SECONDS": _int("PLEIN_NOTES_GRACE_SECONDS", 120, minimum=0),
        "SESSION_COOKIE_NAME": "plein_session",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _bool("PLEIN_SECURE_COOKIES", False),
        "PERMANENT_SESSION_LIFETIME": 7 * 24 * 3600,
        # Only a request that changes the session sends the cookie: a slow read begun before a change (the
        # Jitsi check, the console's polls) otherwise sends the old cookie back after the new one.
        "SESSION_REFRESH_EACH_REQUEST": False,
        "MAX_CONTENT_LENGTH": 64 * 1024,
        "JSON_SORT_KEYS": False,
    }
