"""Background tasks of every worker.

The clock ticker: the worker holding the Redis lock fires transitions. Transitions and warnings are
marked in Redis before they are sent, so neither a second worker nor a restart sends one twice; a
worker that dies loses the lock within its expiry and another takes over.

The console loop, once a second: keeps this worker's sockets counted (presence heartbeat); sends the
moderator console's overview when something changed, at most once a second for the whole deployment
(whoever takes the one-second slot in Redis sends it); polls the Jitsi room sizes when due.
"""
from __future__ import annotations

import logging
import os

import redis

from .pushes import send

log = logging.getLogger("plein.ticker")


def start(app) -> None:
    """Start the ticker once per app (a second call is a no-op)."""
    from .app import socketio
    if app.extensions.get("plein.ticker"):
        return
    app.extensions["plein.ticker"] = True
    socketio.start_background_task(run, app)
    socketio.start_background_task(console_loop, app)


def run(app) -> None:
    from .app import socketio
    ev = app.extensions["plein"]
    worker = app.extensions["plein.worker"]
    interval = app.config["PLEIN_TICK_SECONDS"]
    leading = False
    while True:
        pause = 1.0
        try:
            is_leader = ev.hold_leadership(worker)
            if is_leader != leading:
                log.info("ticker %s (pid %d) %s", worker[:8], os.getpid(), "leads" if is_leader else "follows")
                leading = is_leader
            pause = interval if leading else 1.0
            if is_leader:
                state = ev.state()
                with app.app_context():
                    send(ev.due(state))
                # Wake just after the next transition or warning is due, so none is late or skipped.
                ahead = ev.seconds_to_next(state)
                if ahead is not None:
                    pause = min(interval, max(0.005, ahead + 0.002))
        except redis.RedisError as exc:  # Redis away for a moment: keep trying, never die
            log.warning("ticker: %s", exc)
            socketio.sleep(1)
        except Exception:  # a bug must not stop the clock for everyone
            log.exception("ticker")
            socketio.sleep(1)
        socketio.sleep(pause)


def console_loop(app) -> None:
    from .app import socketio
    ev = app.extensions["plein"]
    worker = app.extensions["plein.worker"]
    while True:
        try:
            ev.presence.beat(worker)
            with app.app_context():
                send(ev.console_pushes())
                if ev.sizes.due():
                    ev.sizes.poll(ev.video_rooms())
        except redis.RedisError as exc:
            log.warning("console loop: %s", exc)
        except Exception:
            log.exception("console loop")
        socketio.sleep(1.0)
