"""Notes while Redis is away (issue 9, item 10): delayed resyncs must not crash, and nothing typed is lost."""
from __future__ import annotations

import shutil
import subprocess
import time

import pytest
import redis

from notes_support import seat
from support import free_port

pytestmark = pytest.mark.socket


@pytest.fixture
def own_redis(tmp_path):
    """A redis-server of this test's own (stopped and started again, keeping its data), on a free port."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("no redis-server binary")
    port = free_port()
    cmd = [binary, "--port", str(port), "--save", "", "--appendonly", "yes", "--appendfsync", "always",
           "--dir", str(tmp_path)]
    state = {"proc": None}

    def start():
        state["proc"] = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis(port=port)
        for _ in range(100):
            try:
                client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop():
        state["proc"].terminate()
        state["proc"].wait(timeout=10)

    start()
    yield {"url": f"redis://127.0.0.1:{port}/0", "start": start, "stop": stop}
    if state["proc"].poll() is None:
        stop()


def test_delayed_resyncs_do_not_crash_while_redis_is_away(notes_server, note_clients, own_redis):
    """The fault: with Redis away, every delayed resync raised (92 tracebacks in 7 s). Now each logs one line
    and tries again; once Redis is back the refused edits are stored."""
    server = notes_server(env={"REDIS_URL": own_redis["url"], "PLEIN_NOTES_RATE": "5",
                               "PLEIN_NOTES_RESYNC_SECONDS": "60"})
    people = [seat(server, f"Schrijver {i}") for i in range(4)]
    assert server.clock("start").status_code == 200
    clients = [note_clients(server.url, p["token"], name=f"c{i}") for i, p in enumerate(people)]
    for c in clients:
        c.join()
        c.wait_synced()
    own_redis["stop"]()
    for c in clients:  # refused (Redis away): each schedules a resync
        for k in range(5):
            c.insert(0, f"{c.name}-{k} ")
    for c in clients:
        c.wait(lambda c=c: any(e["code"] == "redis_down" for e in c.errors), timeout=10)
    time.sleep(3)  # the delayed resyncs run into the outage
    own_redis["start"]()
    for c in clients:  # the retried resyncs bring every refused edit to the store and to the others
        c.wait(lambda: all(f"{other.name}-4 " in c.value() for other in clients), timeout=30)
    assert "Traceback" not in server.output(), server.output()[-3000:]
    assert server.output().count("waits for Redis") <= len(clients)  # one line per waiting socket
