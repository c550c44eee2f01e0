"""The Socket.IO message queue over Redis, and what a worker does after it was deaf.

python-socketio's RedisManager carries every emit and room change between workers. Its listener waits
1, 2, 4 ... 60 s between tries after losing Redis, so after an outage a worker stayed deaf for seconds
and the messages published meanwhile were lost for its sockets. `QueueManager` tries again every quarter
second, and when it listens again it calls `heal`: this worker puts each of its own sockets back in the
Socket.IO rooms the participant belongs in and resends the current `state` (one message per session,
to its own sockets only) and the broadcasts of the gap. The URL may be `redis+sentinel://` (see
rooms/store.py).
"""
from __future__ import annotations

import logging
import time

import redis
import socketio

from rooms.evening import Regroup, channel_participant

from .pushes import send

log = logging.getLogger("plein.queue")

RETRY_SECONDS = 0.25  # between tries while Redis is away: a refused connection costs next to nothing
HEAL_MARGIN = 5.0  # seconds before the listener was lost whose broadcasts are sent again


class QueueManager(socketio.RedisManager):
    """RedisManager with a prompt, bounded retry, that reports each time it listens again after a loss."""

    def __init__(self, url: str, channel: str, on_return=None):
        # Fail fast while Redis is away; keepalive so a vanished host is noticed without a message.
        super().__init__(url, channel=channel, redis_options={"socket_connect_timeout": 3, "socket_keepalive": True})
        self.on_return = on_return

    def _redis_listen_with_retries(self):  # the upstream generator, with its back-off replaced
        lost_at = None
        while True:
            try:
                self._redis_connect()
                self.pubsub.subscribe(self.channel)
                if lost_at is not None:
                    log.warning("message queue: listening again after %.1f s", time.time() - lost_at)
                    if self.on_return is not None:
                        self.server.start_background_task(self.on_return, lost_at)
                    lost_at = None
                yield from self.pubsub.listen()
            except Exception as exc:  # noqa: BLE001 (as upstream: whatever broke, listen again)
                if lost_at is None:
                    lost_at = time.time()
                    log.warning("message queue: lost Redis (%s); trying again every %.2f s", exc, RETRY_SECONDS)
                self.server.sleep(RETRY_SECONDS)


def local_participants(server, slug: str) -> dict[str, set[str]]:
    """pid -> the sids this worker holds for them (every participant socket is in its own personal room)."""
    prefix = channel_participant(slug, "")
    rooms = server.manager.rooms.get("/", {})
    return {room[len(prefix):]: set(sids) for room, sids in list(rooms.items())
            if isinstance(room, str) and room.startswith(prefix) and sids}


def heal(app, lost_at: float) -> None:
    """After the queue was deaf: this worker's sockets back in their rooms, then the state and the gap's broadcasts."""
    from .app import socketio
    ev = app.extensions["plein"]
    started = time.monotonic()
    try:
        state = ev.state()
        local = local_participants(socketio.server, ev.program.slug)
        regrouped = 0
        with app.app_context():
            for pid, sids in local.items():
                participant = ev.participants.get(pid)
                if participant is None:
                    continue
                for sid in sids:
                    # This socket's rooms first, then the seats, and moved at once: a regroup that arrives
                    # meanwhile is not undone by a stale look.
                    leave, enter = ev.room_changes(participant, set(socketio.server.rooms(sid, namespace="/")), state)
                    if leave or enter:
                        send([Regroup((sid,), leave, enter)])  # a local sid: moved here, nothing published
                        regrouped += 1
            send(ev.resync_pushes(ev.state(), since=lost_at - HEAL_MARGIN), local=True)
        ev.presence.changed()
        log.warning("message queue: resent the state to %d participants' sockets (%d regrouped) in %.0f ms",
                    len(local), regrouped, (time.monotonic() - started) * 1000)
    except redis.RedisError as exc:  # gone again: the next return heals
        log.warning("message queue: heal: %s", exc)
    except Exception:
        log.exception("message queue: heal")
