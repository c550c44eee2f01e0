"""Benchmark: one participant attacking the evening, everyone else going on (issue 9's figures).

Starts `plein serve` on a free port (Redis as benchmarks/transitions.py picks it, rate limits ON: that is what
is measured) and, while one participant floods, measures what another participant sees:
  - a help flood: one socket emits N `help:ask` without waiting; how long until every answer is back, the
    answers' codes, and another participant's `state:get` latency during the flood (p50/max);
  - a sign-up flood: N sign-ups from one address as fast as possible; how many got in.
Prints figures only; it asserts nothing about time.

    python benchmarks/abuse.py --flood 1000
"""
from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import requests
import socketio

from transitions import ROOT, SLUG, bench_done, bench_redis, free_port, quick_disconnect, start_worker

PROGRAM = ROOT / "tests" / "data" / "console.toml"


def connect(base: str, token: str) -> socketio.Client:
    client = socketio.Client(reconnection=False)
    client.connect(base, auth={"token": token}, transports=["websocket"], wait_timeout=10)
    return client


def watch(base, token, go, stop, out) -> None:
    """The other participant: state:get every 50 ms; (quiet latencies, latencies during the flood) at the end."""
    client = connect(base, token)
    go.set()
    quiet, during = [], []
    now = quiet
    while not stop.is_set():
        if not out.empty():
            out.get()
            now = during
        t = time.perf_counter()
        client.call("state:get", timeout=30)
        now.append((time.perf_counter() - t) * 1000)
        time.sleep(0.05)
    quick_disconnect(client)
    out.put((quiet, during))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flood", type=int, default=1000, help="events (and sign-ups) in each flood")
    parser.add_argument("--redis-url")
    args = parser.parse_args()

    redis_url, r, env, embedded = bench_redis(args.redis_url, "plein-abuse-")
    env.pop("PLEIN_RATE_LIMITS", None)  # measured with the limits a real evening has
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    api = f"{base}/api/events/{SLUG}"
    server = start_worker(port, env, PROGRAM)
    clients = []
    try:
        requests.post(api + "/clock", json={"action": "start"}, headers={"Authorization": f"Bearer {env['PLEIN_MODERATOR_KEY']}"},
                      timeout=10)
        flooder = connect(base, requests.post(api + "/participants", json={"name": "Flood"}, timeout=10).json()["token"])
        clients.append(flooder)
        other_token = requests.post(api + "/participants", json={"name": "Other"}, timeout=10).json()["token"]

        # The other participant, in a process of its own (not sharing this one's interpreter with the flood's
        # answers), asks for their state every 50 ms: first quietly, then while the flood runs.
        ctx = multiprocessing.get_context("fork")
        out = ctx.Queue()
        go, stop = ctx.Event(), ctx.Event()
        watcher = ctx.Process(target=watch, args=(base, other_token, go, stop, out))
        watcher.start()
        go.wait(30)
        time.sleep(1.0)
        out.put("flood")
        answers: list = []
        done = threading.Event()

        def answered(data=None):
            answers.append(data)
            if len(answers) == args.flood:
                done.set()

        t0 = time.perf_counter()
        for _ in range(args.flood):
            flooder.emit("help:ask", {"text": "help!"}, callback=answered)
        done.wait(120)
        flood_secs = time.perf_counter() - t0
        stop.set()
        quiet, during = out.get(timeout=60)
        watcher.join(30)
        codes = Counter("ok" if a.get("ok") else a["error"]["code"] for a in answers)

        t0 = time.perf_counter()
        with ThreadPoolExecutor(16) as pool:
            statuses = Counter(pool.map(lambda i: requests.post(api + "/participants", json={"name": f"Bot {i}"},
                                                                timeout=30).status_code, range(args.flood)))
        signup_secs = time.perf_counter() - t0

        print(f"help flood: {args.flood} help:ask from one socket answered in {flood_secs:.2f} s: {dict(codes)}")
        print(f"  another participant's state:get meanwhile: n {len(during)}, "
              f"p50 {statistics.median(during):.0f} ms, max {max(during):.0f} ms "
              f"(before the flood: p50 {statistics.median(quiet):.0f} ms, max {max(quiet):.0f} ms)")
        print(f"sign-up flood: {args.flood} sign-ups from one address in {signup_secs:.2f} s: "
              f"{statuses.get(201, 0)} in, {statuses.get(429, 0)} refused (rate_limited)")
    finally:
        for client in clients:
            quick_disconnect(client)
        server.terminate()
        server.wait(15)
        bench_done(r, embedded)
    return 0


if __name__ == "__main__":
    sys.exit(main())
