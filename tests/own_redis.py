"""A redis-server of a test's own (Debian's binary, a free loopback port), for faults the shared Redis must
never see: kill it, restart it on the same port, fill it up, or run a primary, a replica and a sentinel.

Imported as `own_redis` (the tests folder is on sys.path through its conftest.py).
"""
from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import redis

from support import free_port, redis_answers, stop_process

BINARY = shutil.which("redis-server") or "/usr/bin/redis-server"


class OwnRedis:
    """One redis-server child process. `persist`: an append-only file synced at every write, so a kill -9
    loses nothing acknowledged; otherwise no persistence at all."""

    def __init__(self, folder: Path, *args: str, persist: bool = False, port: int | None = None,
                 sentinel: bool = False):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.args = args
        self.persist = persist
        self.sentinel = sentinel
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def argv(self) -> list[str]:
        if self.sentinel:  # sentinel mode needs a config file it can rewrite
            conf = self.folder / "sentinel.conf"
            if not conf.exists():
                conf.write_text("\n".join(self.args) + "\n")
            return [BINARY, str(conf), "--sentinel", "--port", str(self.port), "--bind", "127.0.0.1",
                    "--dir", str(self.folder), "--daemonize", "no"]
        keep = ["--appendonly", "yes", "--appendfsync", "always"] if self.persist else ["--appendonly", "no"]
        return [BINARY, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", *keep,
                "--dir", str(self.folder), "--daemonize", "no", *self.args]

    def start(self, timeout: float = 10.0) -> "OwnRedis":
        self.log = open(self.folder / f"redis-{self.port}.log", "a")
        self.proc = subprocess.Popen(self.argv(), stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while not self.answers():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server on {self.port} did not start: "
                                   f"{(self.folder / f'redis-{self.port}.log').read_text()[-2000:]}")
            time.sleep(0.02)
        return self

    def answers(self) -> bool:
        return redis_answers(f"redis://127.0.0.1:{self.port}", connect_timeout=0.2, timeout=0.5)

    def client(self, **options) -> redis.Redis:
        return redis.Redis(port=self.port, decode_responses=True, **options)

    def stop(self, kill: bool = True) -> None:
        """kill -9 by default: what a crash or a lost machine does."""
        if self.proc is not None:
            stop_process(self.proc, timeout=10, kill=kill)
            self.proc = None
            self.log.close()
