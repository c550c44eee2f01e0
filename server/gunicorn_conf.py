"""gunicorn's settings for Plein, shared by the Procfile and `plein serve --workers N`.

    gunicorn -c python:server.gunicorn_conf --bind 0.0.0.0:$PORT server.wsgi:app

- gevent workers: one process holds thousands of WebSocket connections.
- No fixed cap on connections per worker: a participant's page is one WebSocket, so the limit that
  counts is the process's file descriptors (`ulimit -n`). The soft limit is raised to the hard one
  here, and each worker takes as many connections as that allows, less a reserve for Redis, logs and
  the Jitsi checks. gunicorn's own default (1,000) refused participant 1,001 on a worker.
- Workers: `WEB_CONCURRENCY` (gunicorn reads it), else `--workers`/`-w`, else 1. Several workers need a
  shared Redis (`REDIS_URL`); Socket.IO runs WebSocket-only, so they need no sticky sessions.
- Secrets of links masked in every log line (server.logs.MaskingLogger).
"""
from __future__ import annotations

import resource

# File descriptors a worker keeps for itself beyond its participants' sockets (Redis pools, the
# message queue's listener, log files, outgoing Jitsi checks).
RESERVE_FDS = 256


def open_files_limit() -> int:
    """Raise the soft limit on open files to the hard one (allowed without privileges); return it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        hard = max(soft, 1 << 20) if soft != resource.RLIM_INFINITY else 1 << 20
    if soft == resource.RLIM_INFINITY or soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError):
            pass
    return soft


def connections_per_worker(limit: int) -> int:
    return max(limit - RESERVE_FDS, 100)


worker_class = "gevent"
worker_connections = connections_per_worker(open_files_limit())
graceful_timeout = 20
logger_class = "server.logs.MaskingLogger"
