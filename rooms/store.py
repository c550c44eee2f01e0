"""Redis access: the key layout of an evening and the connection.

Every key of an event lives under `plein:{<slug>}:` (the braces are a cluster hash tag: one event,
one slot, so multi-key scripts work on Redis Cluster too). Only the services in `rooms/` use these.
"""
from __future__ import annotations

import redis


class Keys:
    """The names of every Redis key of one event."""

    def __init__(self, slug: str):
        self.slug = slug
        self.prefix = f"plein:{{{slug}}}:"

    def __call__(self, *parts: str) -> str:
        return self.prefix + ":".join(parts)

    # secrets
    @property
    def secret(self) -> str:
        return self("secret")

    @property
    def moderator_key(self) -> str:
        return self("moderator-key")

    # clock
    @property
    def clock(self) -> str:
        return self("clock")

    # participants
    def participant(self, pid: str) -> str:
        return self("participant", pid)

    @property
    def participants(self) -> str:
        return self("participants")

    @property
    def tokens(self) -> str:
        return self("tokens")

    @property
    def emails(self) -> str:
        """Lowercased e-mail address -> participant id (imported registrations)."""
        return self("emails")

    def sockets(self, pid: str) -> str:
        """The Socket.IO sids a participant is connected with now (any worker)."""
        return self("sockets", pid)

    # presence (rooms/presence.py)
    @property
    def presence(self) -> str:
        return self("presence")

    def worker(self, worker_id: str) -> str:
        return self("worker", worker_id)

    def worker_seen(self, worker_id: str) -> str:
        return self("worker-seen", worker_id)

    @property
    def workers(self) -> str:
        """The ids of the workers counted as alive at the last look (to notice one that stops beating)."""
        return self("workers")

    # the moderator console (rooms/console.py)
    @property
    def console_dirty(self) -> str:
        return self("console", "dirty")

    @property
    def console_slot(self) -> str:
        """Held for a second by whichever worker sends the console push: at most one push a second."""
        return self("console", "slot")

    @property
    def audit(self) -> str:
        return self("audit")

    @property
    def broadcasts(self) -> str:
        return self("broadcasts")

    def help_item(self, request_id: str) -> str:
        """One help request as JSON (a key of its own: writers of different requests never collide)."""
        return self("help", "item", request_id)

    def help_of(self, pid: str) -> str:
        """The id of this participant's open help request (what their asks watch)."""
        return self("help", "of", pid)

    @property
    def help_open(self) -> str:
        """pid -> the id of their open help request: the index the console lists."""
        return self("help", "open")

    @property
    def hosts(self) -> str:
        """pid -> JSON list of the session ids they host."""
        return self("hosts")

    @property
    def host_links(self) -> str:
        """session id -> the secret of its host link (random; re-issued by a moderator or a key rotation)."""
        return self("hosts", "links")

    def host_revoked(self, session_id: str) -> str:
        """pids whose host rights in this session a moderator took away: its link does not give them back."""
        return self("hosts", "revoked", session_id)

    @property
    def signup_closed(self) -> str:
        return self("signup", "closed")

    def seated_at(self, round_id: str) -> str:
        """pid -> when their seat in this round last changed during the round (a switch or a move)."""
        return self("seated-at", round_id)

    @property
    def jitsi_sizes(self) -> str:
        """Jitsi room name -> JSON {count, at} from the deployment's room-size endpoint."""
        return self("jitsi", "sizes")

    @property
    def jitsi_poll(self) -> str:
        """JSON {ok, at, failures, next_at}: the poller's backoff, shared by the workers."""
        return self("jitsi", "poll")

    # seats (rooms/seats.py)
    def seats(self, round_id: str) -> str:
        return self("seats", round_id)

    def placed_ahead(self, round_id: str) -> str:
        """When whoever had no seat in a round was placed ahead of its start (the time, epoch seconds)."""
        return self("seats", round_id, "ahead")

    def chosen(self, round_id: str) -> str:
        return self("chosen", round_id)

    def taken(self, round_id: str) -> str:
        return self("taken", round_id)

    @property
    def locked(self) -> str:
        return self("locked")

    @property
    def probe(self) -> str:
        """Written (with a short expiry) by /healthz: can Redis still take writes?"""
        return self("storage", "probe")

    # ticker
    @property
    def leader(self) -> str:
        return self("ticker", "leader")

    @property
    def fired(self) -> str:
        return self("ticker", "fired")

    def warned(self, phase_id: str, start_ms: int, minutes: int) -> str:
        return self("ticker", "warned", phase_id, str(start_ms), str(minutes))

    # jitsi
    @property
    def jitsi_check(self) -> str:
        return self("jitsi", "check")

    @property
    def video_roles(self) -> str:
        """pid -> JSON {room, role, at}: the Jitsi role the participant's page says it has (rooms/video_roles.py)."""
        return self("jitsi", "roles")


def queue_channel(r: redis.Redis, slug: str) -> str:
    """The Socket.IO message-queue channel of an event. Pub/sub ignores database numbers, so the
    channel names the database too: two deployments on one Redis server stay apart, as their keys do."""
    return f"plein:{slug}:db{r.connection_pool.connection_kwargs.get('db', 0)}"


SENTINEL_SCHEME = "redis+sentinel://"


def connect(url: str, *, binary: bool = False) -> redis.Redis:
    """A client (with its own pool) that returns str (bytes with `binary`, for the notes' Yjs updates), with
    timeouts so a dead Redis fails fast. The pool waits (up to 10 s) for a free connection when a burst of
    handlers holds all 256, rather than failing at once.

    `redis+sentinel://[:password@]host:port[,host:port...]/<db>/<service>` asks the sentinels for the primary
    of that service, and again after each lost connection, so a failover is followed by itself (the same URL
    form as python-socketio's message queue, whose parser this uses)."""
    options = dict(decode_responses=not binary, socket_connect_timeout=3, socket_timeout=5,
                   health_check_interval=30, retry_on_timeout=True)
    if url.startswith(SENTINEL_SCHEME):
        from redis.sentinel import Sentinel
        from socketio.redis_manager import parse_redis_sentinel_url
        sentinels, service, auth = parse_redis_sentinel_url(url)
        if not service:
            raise ValueError(f"{url}: name the service after the database, as in {SENTINEL_SCHEME}host:26379/0/mymaster")
        sentinel = Sentinel(sentinels, sentinel_kwargs={"socket_connect_timeout": 1, "socket_timeout": 1}, **auth)
        return sentinel.master_for(service, max_connections=256, **options)
    pool = redis.BlockingConnectionPool.from_url(url, max_connections=256, timeout=10, **options)
    return redis.Redis(connection_pool=pool)
