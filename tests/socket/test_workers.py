"""`plein serve --workers N`: gunicorn gevent workers sharing one Redis, as the Procfile runs them."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from rooms.store import Keys
from support import ROOT, SLUG
import server.gunicorn_conf as gunicorn_conf

pytestmark = pytest.mark.socket


def test_more_than_one_worker_on_the_embedded_redis_is_refused_before_anything_starts(tmp_path):
    instance = tmp_path / "instance"
    env = {"PATH": "/usr/bin:/bin", "REDIS_URL": "", "PLEIN_INSTANCE": str(instance), "HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "server.cli", "serve", "--workers", "2", "--port", "0"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "plein serve: --workers 2 needs a Redis that all workers share: set REDIS_URL "
        "(the embedded Redis serves one worker)"]
    assert not (instance / "redis").exists()  # no embedded redis-server was started for nothing


def test_workers_must_be_a_positive_number():
    done = subprocess.run([sys.executable, "-m", "server.cli", "serve", "--workers", "0"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "--workers: '0' is not a whole number of at least 1" in done.stderr
    assert "Traceback" not in done.stderr


def test_two_workers_share_the_evening(start_server, listen, r):
    """Sockets land on both workers; a transition the moderator starts on one reaches every socket on both."""
    server = start_server("--workers", "2")
    token = server.join("Twee Werkers")["token"]
    clients = []
    keys = Keys(SLUG)
    for _ in range(40):  # the kernel hands each accept to either worker; 40 leave both empty with odds 2**-39
        clients.append(listen(server, token))
        workers = {json.loads(v)["worker"] for v in r.hgetall(keys.presence).values()}
        if len(workers) == 2 and len(clients) >= 4:
            break
    assert len(workers) == 2, "every socket landed on one worker"
    for client in clients:
        assert client.wait_for(lambda d: True)["status"] == "waiting"
    version = server.clock("start").json()["version"]
    for client in clients:
        assert client.wait_for(lambda d: d["version"] == version)["room"]["name"]
    # One ticker leads across the workers (a Redis lock), so each warning and transition goes out once.
    banner = server.output()
    assert "Plein: De Coöperatieve Stad" in banner and "Workers:      2" in banner


def test_no_fixed_cap_on_connections_per_worker():
    """gunicorn's default (1,000 per gevent worker) and the old Procfile's 2,000 refused the next participant:
    the cap now follows the file-descriptor limit, raised to its hard limit."""
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    assert gunicorn_conf.worker_connections == gunicorn_conf.connections_per_worker(soft)
    assert soft == hard or hard == resource.RLIM_INFINITY
    assert gunicorn_conf.connections_per_worker(65536) == 65536 - gunicorn_conf.RESERVE_FDS
    procfile = (ROOT / "Procfile").read_text()
    assert "--worker-connections" not in procfile and "-c python:server.gunicorn_conf" in procfile
