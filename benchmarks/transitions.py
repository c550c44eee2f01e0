"""Benchmark: how fast a moderator's clock change reaches every participant, and what it costs.

Starts `plein serve` on a free port (Redis: --redis-url, else database 12 of 127.0.0.1:6379, else an
embedded redis-server), signs up N participants over HTTP, connects each with a real Socket.IO
client over WebSocket, then advances the clock R times and reports:
  - join throughput (HTTP sign-ups per second), choices per second (all at once, capacity checked
    atomically in Redis) and connect time,
  - latency from the HTTP response of each `advance` to the new `state` at each client (p50/p95/p99/max),
  - how many messages the server published per transition on the Socket.IO Redis channel
    (the design promises O(sessions), not O(participants)).
Prints figures only; it asserts nothing about time.

    python benchmarks/transitions.py --participants 300 --rounds 5
"""
from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

import redis
import requests
import socketio

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SLUG = "cooperatieve-stad-2022"
KEY = "benchmark-moderator-key-0123456789"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pick_redis(url: str | None, tmp: Path):
    candidates = [url] if url else ["redis://127.0.0.1:6379/12"]
    for candidate in candidates:
        try:
            redis.Redis.from_url(candidate, socket_connect_timeout=1).ping()
            return candidate, None
        except redis.ConnectionError:
            if url:
                raise SystemExit(f"No Redis answers at {url}")
    from rooms.embedded import EmbeddedRedis
    embedded = EmbeddedRedis(tmp / "redis")
    return embedded.start(), embedded


def bench_redis(url: str | None, prefix: str):
    """A flushed Redis for a benchmark and the environment of the `plein serve` processes on it.
    Returns (redis_url, client, env, embedded server or None); `bench_done` cleans up."""
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    redis_url, embedded = pick_redis(url, tmp)
    r = redis.Redis.from_url(redis_url)
    r.flushdb()
    # Every client here comes from one address and acts as fast as it can: the rate limits are for people.
    env = {**os.environ, "REDIS_URL": redis_url, "PLEIN_MODERATOR_KEY": KEY, "PLEIN_INSTANCE": str(tmp / "instance"),
           "PLEIN_RATE_LIMITS": "off",
           "JITSI_EXTERNAL_API_URL": f"http://127.0.0.1:{free_port()}/external_api.js"}
    return redis_url, r, env, embedded


def bench_done(r: redis.Redis, embedded) -> None:
    r.flushdb()
    if embedded:
        embedded.stop()


def start_worker(port: int, env: dict, program: Path | None = None) -> subprocess.Popen:
    """`plein serve` on this port (the seed evening, or `program`), once it answers /healthz."""
    args = [sys.executable, "-m", "server.cli", "serve", "--port", str(port)]
    if program is not None:
        args += ["--program", str(program)]
    proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            requests.get(f"http://127.0.0.1:{port}/healthz", timeout=0.5)
            return proc
        except requests.RequestException:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("plein serve did not start")


def quick_disconnect(client) -> None:
    """Disconnect a python-socketio client without websocket-client's 3 s wait for the server's close frame
    (the client's own read loop takes that frame; the server has the close either way)."""
    try:
        ws = getattr(client.eio, "ws", None)
        if ws is not None:
            ws.close = partial(ws.close, timeout=0.2)
        client.disconnect()
    except Exception:
        pass


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5, help="how many clock advances to measure")
    parser.add_argument("--redis-url")
    args = parser.parse_args()

    redis_url, r, env, embedded = bench_redis(args.redis_url, "plein-bench-")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_worker(port, env)
    clients: list[socketio.Client] = []
    try:
        n = args.participants
        http = requests.Session()
        t0 = time.perf_counter()
        with ThreadPoolExecutor(16) as pool:
            tokens = list(pool.map(lambda i: requests.post(
                f"{base}/api/events/{SLUG}/participants", json={"name": f"Deelnemer {i}"}, timeout=30
            ).json()["token"], range(n)))
        join_secs = time.perf_counter() - t0

        # Everyone picks a session of round I at once; the sessions' capacities must hold.
        from rooms.program import load_program
        program = load_program(ROOT / "config/events/cooperatieve-stad-2022.toml")
        ronde = program.phase("ronde-1")

        def pick(i: int) -> int:
            return requests.put(f"{base}/api/events/{SLUG}/participants/me/choices",
                                json={ronde.id: ronde.sessions[i % len(ronde.sessions)].id},
                                headers={"Authorization": f"Bearer {tokens[i]}"}, timeout=30).status_code

        t0 = time.perf_counter()
        with ThreadPoolExecutor(16) as pool:
            picks = list(pool.map(pick, range(n)))
        choose_secs = time.perf_counter() - t0
        event = requests.get(f"{base}/api/events/{SLUG}", timeout=30).json()
        taken = {s["id"]: s["taken"] for p in event["phases"] if p["id"] == ronde.id for s in p["sessions"]}
        over = [sid for sid, k in taken.items() if k > ronde.session(sid).capacity]

        received: dict[int, list[float]] = {}
        lock = threading.Lock()

        def make_client(token: str) -> socketio.Client:
            c = socketio.Client(reconnection=False)

            @c.on("state")
            def on_state(data):
                now = time.perf_counter()
                with lock:
                    received.setdefault(data["version"], []).append(now)

            c.connect(base, auth={"token": token}, transports=["websocket"], wait_timeout=30)
            return c

        t0 = time.perf_counter()
        with ThreadPoolExecutor(16) as pool:
            clients = list(pool.map(make_client, tokens))
        connect_secs = time.perf_counter() - t0

        # Count what the server publishes on the Socket.IO Redis channel per transition.
        pubsub = r.pubsub()
        from rooms.store import queue_channel
        pubsub.subscribe(queue_channel(r, SLUG))
        pubsub.get_message(timeout=1)

        headers = {"Authorization": f"Bearer {KEY}"}
        latencies: list[float] = []
        published: list[int] = []
        sessions: list[int] = []
        actions = ["start"] + ["advance"] * (args.rounds - 1)
        for action in actions:
            sent = time.perf_counter()
            resp = http.post(f"{base}/api/events/{SLUG}/clock", json={"action": action}, headers=headers, timeout=30)
            answered = time.perf_counter()
            resp.raise_for_status()
            state = resp.json()
            version = state["version"]
            deadline = time.time() + 30
            while time.time() < deadline:
                with lock:
                    if len(received.get(version, [])) >= n:
                        break
                time.sleep(0.005)
            with lock:
                arrivals = list(received.get(version, []))
            latencies += [a - answered for a in arrivals]
            count = 0
            while pubsub.get_message(timeout=0.2) is not None:
                count += 1
            published.append(count)
            phase = program.phase(state["phase"]["id"])
            sessions.append(len(phase.sessions) or 1)
            missing = n - len(arrivals)
            print(f"  {action:<8} -> {state['phase']['id']:<12} answered in {1000 * (answered - sent):6.1f} ms, "
                  f"{len(arrivals)}/{n} clients, {count} messages published for {sessions[-1]} room(s)"
                  + (f", {missing} MISSING" if missing else ""))

        ms = [1000 * x for x in latencies]
        print(f"\nparticipants        {n}")
        print(f"sign-ups            {n / join_secs:8.1f} per second (16 concurrent HTTP clients)")
        print(f"choices             {n / choose_secs:8.1f} per second ({picks.count(200)} accepted, "
              f"{picks.count(409)} full; {'OVER CAPACITY: ' + ', '.join(over) if over else 'no session over capacity'})")
        print(f"socket connects     {n / connect_secs:8.1f} per second")
        if ms:
            print(f"state latency (ms)  p50 {statistics.median(ms):.1f}  p95 {percentile(ms, 95):.1f}  "
                  f"p99 {percentile(ms, 99):.1f}  max {max(ms):.1f}   (from the HTTP answer to each client)")
        print(f"messages/transition {statistics.mean(published):.1f} published on Redis "
              f"(sessions + moderators; independent of the {n} participants)")
        return 0
    finally:
        with ThreadPoolExecutor(16) as pool:  # one by one, each close waits seconds for a frame that never comes
            list(pool.map(quick_disconnect, clients))
        server.terminate()
        server.wait(timeout=15)
        bench_done(r, embedded)


if __name__ == "__main__":
    sys.exit(main())
