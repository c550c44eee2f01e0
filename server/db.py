"""The one storage module of the app: the Redis URL (embedded server if none) and the client."""
from __future__ import annotations

import os

import redis
from flask import Flask, current_app

from rooms.embedded import EmbeddedRedis
from rooms.store import connect


def resolve_redis_url(app: Flask) -> str:
    """REDIS_URL when set; otherwise start the embedded redis-server with its data in the instance folder."""
    url = app.config.get("REDIS_URL")
    if url:
        return url
    embedded = EmbeddedRedis(os.path.join(app.instance_path, "redis"))
    url = embedded.start()
    app.extensions["plein.embedded_redis"] = embedded
    app.config["REDIS_URL"] = url
    return url


def init_app(app: Flask) -> redis.Redis:
    """Connect (and check the connection) once per app; the client has its own pool."""
    try:
        client = connect(resolve_redis_url(app))
    except ValueError as exc:  # a URL redis-py cannot read: say which setting, not a traceback
        raise SystemExit(f"REDIS_URL: {exc}") from None
    client.ping()
    app.extensions["plein.redis"] = client
    return client


def get_redis() -> redis.Redis:
    return current_app.extensions["plein.redis"]
