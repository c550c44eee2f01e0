"""`plein serve` starting where it cannot listen, and on an evening that is over (issue 10, item 14)."""
from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from support import ROOT, free_port

pytestmark = pytest.mark.socket


def serve(redis_url: str, tmp_path, *args: str) -> subprocess.CompletedProcess:
    env = {"REDIS_URL": redis_url, "PLEIN_INSTANCE": str(tmp_path), "PATH": "/usr/bin:/bin",
           "JITSI_EXTERNAL_API_URL": f"http://127.0.0.1:{free_port()}/external_api.js"}
    return subprocess.run([sys.executable, "-m", "server.cli", "serve", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


def test_a_busy_port_is_one_clear_line_and_touches_nothing(r, redis_url, tmp_path):
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    try:
        done = serve(redis_url, tmp_path, "--port", str(port), "--start", "now")
    finally:
        taken.close()
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"plein serve: port {port} on 127.0.0.1 is already in use (another plein serve?); choose another with --port"]
    assert "Traceback" not in done.stdout + done.stderr
    assert r.keys("*") == []  # the clock was not anchored, nothing was written


def test_serve_says_when_the_evening_has_ended(start_server):
    server = start_server()
    server.clock("start")
    assert server.clock("end").status_code == 200
    server.stop()
    server.start()  # the same evening, clock kept in Redis
    assert "The evening has ended" in server.output()
