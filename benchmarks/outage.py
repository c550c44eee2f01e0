"""Benchmark: a Redis restart under two workers with many participants: how soon is every page back in its room?

Starts its own redis-server (Debian's binary, append-only file, a free port), two `plein serve` workers on it,
signs up N participants and connects each with a real Socket.IO client (half on each worker), starts the
evening and moves it to the break. Then kills redis-server for --outage seconds, starts it again on the same
port, advances into round I at once (an advance cannot be accepted while Redis is away) and reports:
  - when the advance was accepted, and when each client got its room of round I, counted from Redis's return
    (p50/p95/max; clients still missing after 30 s are counted),
  - what each worker's heal cost (from its log: sockets put back in their rooms, milliseconds).
Prints figures only; it asserts nothing about time.

    python benchmarks/outage.py --participants 200 --outage 8
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
import socketio

from transitions import KEY, ROOT, SLUG, free_port, percentile, quick_disconnect

sys.path.insert(0, str(ROOT / "tests"))
from own_redis import OwnRedis  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=200)
    parser.add_argument("--outage", type=float, default=8.0, help="seconds Redis stays away")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="plein-outage-"))
    store = OwnRedis(tmp / "redis", persist=True).start()
    env = {**os.environ, "REDIS_URL": store.url, "PLEIN_MODERATOR_KEY": KEY, "PLEIN_INSTANCE": str(tmp / "instance"),
           "PLEIN_RATE_LIMITS": "off", "PYTHONUNBUFFERED": "1",
           "JITSI_EXTERNAL_API_URL": f"http://127.0.0.1:{free_port()}/external_api.js"}
    workers, logs, clients = [], [], []
    try:
        for i in range(2):
            port = free_port()
            logs.append(tmp / f"worker-{i}.log")
            workers.append((f"http://127.0.0.1:{port}", subprocess.Popen(
                [sys.executable, "-m", "server.cli", "serve", "--port", str(port)], cwd=ROOT, env=env,
                stdout=open(logs[-1], "w"), stderr=subprocess.STDOUT)))
        for base, _ in workers:
            for _ in range(300):
                try:
                    if requests.get(base + "/healthz", timeout=0.5).ok:
                        break
                except requests.RequestException:
                    pass
                time.sleep(0.1)
        a = workers[0][0]
        n = args.participants
        with ThreadPoolExecutor(16) as pool:
            tokens = list(pool.map(lambda i: requests.post(f"{a}/api/events/{SLUG}/participants",
                                                           json={"name": f"Deelnemer {i}"}, timeout=30).json()["token"],
                                   range(n)))
        arrived: dict[tuple[int, int], float] = {}  # (client, version) -> first state of that version with a room
        lock = threading.Lock()
        target: dict = {}

        def make_client(i: int) -> socketio.Client:
            c = socketio.Client(reconnection=False)

            @c.on("state")
            def on_state(data):
                if data.get("room"):  # the advance's push can come before its HTTP answer: keep every version's
                    with lock:
                        arrived.setdefault((i, data.get("version")), time.monotonic())

            c.connect(workers[i % 2][0], auth={"token": tokens[i]}, transports=["websocket"], wait_timeout=30)
            return c

        with ThreadPoolExecutor(16) as pool:
            clients = list(pool.map(make_client, range(n)))
        headers = {"Authorization": f"Bearer {KEY}"}

        def clock(action: str) -> requests.Response:
            return requests.post(f"{a}/api/events/{SLUG}/clock", json={"action": action}, headers=headers, timeout=30)

        clock("start")
        clock("advance")
        store.stop(kill=True)
        time.sleep(args.outage)
        store.start()
        back = time.monotonic()
        while (resp := clock("advance")).status_code != 200:
            time.sleep(0.05)
        accepted = time.monotonic() - back
        target.update(resp.json())

        def got() -> dict[int, float]:
            with lock:
                return {i: t for (i, v), t in arrived.items() if v == target["version"]}
        deadline = time.monotonic() + 30
        while len(got()) < n and time.monotonic() < deadline:
            time.sleep(0.01)
        times = [t - back for t in got().values()]
        print(f"{n} participants on 2 workers, Redis away {args.outage:g} s; advance into "
              f"{target['phase']['id']} accepted {accepted:.2f} s after Redis returned")
        if times:
            print(f"  in their room of {target['phase']['id']}: {len(times)}/{n}; from Redis's return "
                  f"p50 {percentile(times, 50):.2f} s, p95 {percentile(times, 95):.2f} s, max {max(times):.2f} s")
        if len(times) < n:
            missing = [i for i in range(n) if i not in got()]
            print(f"  MISSING after 30 s: {len(missing)} (on worker 0: {sum(i % 2 == 0 for i in missing)}, "
                  f"on worker 1: {sum(i % 2 for i in missing)})")
        for i, log in enumerate(logs):
            heals = re.findall(r"resent the state to (\d+) participants' sockets \((\d+) regrouped\) in (\d+) ms",
                               log.read_text(errors="replace"))
            for who, regrouped, ms in heals:
                print(f"  worker {i}: heal of {who} participants ({regrouped} regrouped) in {ms} ms")
    finally:
        with ThreadPoolExecutor(32) as pool:
            list(pool.map(quick_disconnect, clients))
        for _, proc in workers:
            proc.terminate()
            proc.wait(timeout=15)
        store.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
