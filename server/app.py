"""The Flask app factory: config, Redis, the evening's services, HTTP views, Socket.IO, the ticker."""
from __future__ import annotations

import datetime as dt
import os
import uuid
from pathlib import Path

from flask import Flask
from flask_socketio import SocketIO
from werkzeug.middleware.proxy_fix import ProxyFix

from rooms.evening import Evening
from rooms.jitsi import JitsiSettings, sample_token
from rooms.program import load_program
from rooms.store import queue_channel
from rooms.timeline import ClockError, check_speed

from . import config, db
from .jsonbody import JSONProvider, SocketJSON

WEB = config.ROOT / "web"

# Created once; bound to the app (async mode, Redis message queue) in create_app.
socketio = SocketIO()


def parse_start(value, tz) -> float | None:
    """PLEIN_START: an ISO time (naive means the program's time zone) -> epoch seconds."""
    if value in (None, ""):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        when = dt.datetime.fromisoformat(str(value))
    except ValueError:
        raise SystemExit(f"PLEIN_START={value!r} is not an ISO time such as 2022-01-17T16:00") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=tz)
    return when.timestamp()


def jitsi_settings(cfg) -> JitsiSettings:
    """The Jitsi deployment from the config: JaaS when its settings are there, else a domain (with HS256
    tokens when an app id and secret are set). Stops with a message that names the setting at fault."""
    common = dict(external_api_url=cfg["JITSI_EXTERNAL_API_URL"], token_ttl=cfg["JITSI_JWT_TTL"],
                  room_size_interval=cfg["JITSI_ROOM_SIZE_INTERVAL"])
    jaas = {name: cfg.get(name) or "" for name in ("JITSI_JAAS_APP_ID", "JITSI_JAAS_KEY_ID",
                                                    "JITSI_JAAS_PRIVATE_KEY_FILE")}
    if any(jaas.values()):
        missing = [name for name, value in jaas.items() if not value]
        if missing:
            raise SystemExit(f"JaaS needs {', '.join(missing)} as well (or none of the JITSI_JAAS_* settings)")
        try:
            pem = Path(jaas["JITSI_JAAS_PRIVATE_KEY_FILE"]).read_text()
        except OSError as exc:
            raise SystemExit(f"JITSI_JAAS_PRIVATE_KEY_FILE: cannot read it ({exc.strerror})") from None
        settings = JitsiSettings.jaas(jaas["JITSI_JAAS_APP_ID"], jaas["JITSI_JAAS_KEY_ID"], pem, **common)
        if not jaas["JITSI_JAAS_APP_ID"].startswith("vpaas-magic-cookie-"):
            raise SystemExit("JITSI_JAAS_APP_ID: a JaaS AppID starts with vpaas-magic-cookie-")
        try:  # a key that cannot sign would only show when the first participant wants a room
            sample_token(settings)
        except ValueError as exc:
            raise SystemExit(f"JITSI_JAAS_PRIVATE_KEY_FILE: not an RSA private key in PEM form ({exc})") from None
        return settings
    return JitsiSettings(
        domain=cfg["JITSI_DOMAIN"], app_id=cfg["JITSI_APP_ID"], app_secret=cfg["JITSI_APP_SECRET"],
        audience=cfg["JITSI_JWT_AUDIENCE"], subject=cfg["JITSI_JWT_SUBJECT"],
        room_size_url=cfg["JITSI_ROOM_SIZE_URL"], muc_domain=cfg["JITSI_MUC_DOMAIN"], **common,
    )


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app for one evening (the program file in PLEIN_PROGRAM)."""
    app = Flask(__name__, instance_relative_config=True, instance_path=os.environ.get("PLEIN_INSTANCE"),
                template_folder=str(WEB / "templates"), static_folder=str(WEB / "static"))
    app.config.from_mapping(config.from_env())
    if test_config:
        app.config.update(test_config)
    os.makedirs(app.instance_path, exist_ok=True)
    if app.config["PLEIN_PROXY_HOPS"]:  # the client's address (sign-up limits) from the proxies' header
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["PLEIN_PROXY_HOPS"], x_proto=1, x_host=1)

    app.json = JSONProvider(app)
    from .logs import configure as configure_logging
    configure_logging(app.config.get("PLEIN_LOG_LEVEL", "INFO"))
    try:
        check_speed(app.config["PLEIN_SPEED"])
    except ClockError as exc:
        raise SystemExit(f"PLEIN_SPEED={app.config['PLEIN_SPEED']!r}: {exc.message('en')}") from None
    program = load_program(app.config["PLEIN_PROGRAM"])
    r = db.init_app(app)
    try:
        evening = Evening(
            program, r, jitsi=jitsi_settings(app.config),
            secret=app.config["SECRET_KEY"], moderator_key=app.config["PLEIN_MODERATOR_KEY"],
            speed=app.config["PLEIN_SPEED"], start=parse_start(app.config["PLEIN_START"], program.tz),
            presence_ttl=app.config["PLEIN_PRESENCE_TTL"],
            limits=app.config["PLEIN_LIMITS"], rate_limits=app.config["PLEIN_RATE_LIMITS"],
            storage_headroom=app.config["PLEIN_STORAGE_HEADROOM"],
        )
    except ValueError as exc:  # a moderator key too short to be safe
        raise SystemExit(f"PLEIN_MODERATOR_KEY: {exc}") from None
    app.config["SECRET_KEY"] = evening.secret
    app.extensions["plein"] = evening
    app.extensions["plein.worker"] = uuid.uuid4().hex  # this process, for presence and the ticker lock
    from .pushes import send
    evening.notify = send

    from . import api, pages, security
    security.init_app(app, evening.jitsi)
    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    api.register_error_handlers(app)

    from .queue import QueueManager, heal
    socketio.init_app(
        app,
        async_mode=app.config["PLEIN_ASYNC_MODE"],
        # The message queue between workers; it listens again promptly after Redis was away, and heals.
        client_manager=QueueManager(app.config["REDIS_URL"], queue_channel(r, program.slug),
                                    on_return=lambda lost_at: heal(app, lost_at)),
        transports=["websocket"],
        json=SocketJSON,
        cors_allowed_origins=app.config["PLEIN_CORS_ORIGINS"] or None,
        ping_interval=20,
        ping_timeout=20,
        # Room for a notes update twice over the limit, so that one gets a coded error, not a cut connection.
        max_http_buffer_size=max(64 * 1024, 2 * app.config["PLEIN_NOTES_MAX_UPDATE_BYTES"] + 4096),
    )
    from . import fairness, notes, sockets  # noqa: F401  (registers the handlers on `socketio`)
    fairness.install(socketio.server, app.config["PLEIN_SOCKET_CONCURRENCY"], app.config["PLEIN_SOCKET_QUEUE"])
    notes.init_app(app, r)

    if app.config["PLEIN_TICKER"]:
        from . import ticker
        ticker.start(app)
    return app
