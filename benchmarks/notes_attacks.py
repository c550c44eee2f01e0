"""Figures for docs/reliability.md ("Notes"): what one participant's attacks on a brainstorm note cost.

Starts one `plein serve` (Redis: --redis-url, else database 12 of 127.0.0.1:6379, else an embedded one) on
tests/data/notes.toml, starts the round, and runs each attack with pycrdt clients (tests/notes/yclient.py):

  fill       one person sends 33 updates of 32 KB (32,700 characters); how long until the note is full, and is a second
             person's edit still stored afterwards
  pending    one person sends 250 well-formed 1 KB updates that can never integrate (the second half of an edit),
             then a second person types: relay latency of those keystrokes, `notes:join` time, /healthz max
  awareness  one socket sends 20 awareness messages with 2000 new client ids each: JSON kept in Redis for that
             socket, handling time of the last message, size of the removal relayed when it leaves
  sockets    one person on 5 sockets sends 8 updates on each at once under PLEIN_NOTES_RATE=10: how many the
             server took in that second (per connection: all 40)
  cost       (no server; this version only) a note of ~800 KiB: rebuilding it from Redis, against checking and
             storing one keystroke with the cached note, and a join's state vector

Prints figures only; it asserts nothing.

    python benchmarks/notes_attacks.py [--only fill,pending,awareness,sockets]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time

import requests

from transitions import KEY, ROOT, SLUG, bench_done, bench_redis, free_port

sys.path.insert(0, str(ROOT / "tests" / "notes"))
from notes import SESSION, start_worker  # noqa: E402

PREFIX = f"plein:{{{SLUG}}}:notes:{SESSION}:"


class Evening:
    def __init__(self, env: dict, extra: dict | None = None):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.api = f"{self.base}/api/events/{SLUG}"
        self.proc = start_worker(self.port, {**env, **(extra or {})})
        self.clients = []

    def person(self, name: str) -> str:
        token = requests.post(f"{self.api}/participants", json={"name": name}, timeout=30).json()["token"]
        requests.put(f"{self.api}/participants/me/choices", json={"ronde-1": SESSION},
                     headers={"Authorization": f"Bearer {token}"}, timeout=30).raise_for_status()
        return token

    def start(self):
        requests.post(f"{self.api}/clock", json={"action": "start"}, headers={"Authorization": f"Bearer {KEY}"},
                      timeout=30).raise_for_status()

    def client(self, token: str, name: str, recheck: bool = True):
        from yclient import NoteClient
        c = NoteClient(self.base, {"token": token}, SESSION, name, recheck=recheck, resyncs=False).connect()
        self.clients.append(c)
        c.join()
        c.wait_synced(30)
        return c

    def close(self):
        for c in self.clients:
            try:
                c.close()
            except Exception:
                pass
        self.proc.terminate()
        self.proc.wait(timeout=15)


def codes(c) -> list[str]:
    with c.lock:
        return [e["code"] for e in c.errors]


def fill(env, r):
    ev = Evening(env)
    try:
        mallory, anna = ev.person("Mallory"), ev.person("Anna")
        ev.start()
        m = ev.client(mallory, "mallory")
        t0 = time.monotonic()
        for i in range(33):
            m.insert(len(m.value()), chr(ord("a") + i % 26) * 32700)  # each update just under 32 KiB
        full_at = None
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            stored = int(r.hget(PREFIX + "meta", "bytes") or 0)
            if full_at is None and stored > 1_000_000:
                full_at = time.monotonic() - t0
            if len(codes(m)) + stored // 32000 >= 33:
                break
            time.sleep(0.02)
        time.sleep(0.5)
        stored = int(r.hget(PREFIX + "meta", "bytes") or 0)
        a = ev.client(anna, "anna")
        for i in range(20):  # another person writes 20 lines of 100 characters
            a.insert(len(a.value()), f"regel {i:02d} " + "o" * 90 + "\n")
            time.sleep(0.05)
        time.sleep(1.0)
        text = requests.get(f"{ev.api}/notes/{SESSION}.json", headers={"Authorization": f"Bearer {KEY}"},
                            timeout=30).json()["text"]
        took = sum(f"regel {i:02d} " in text for i in range(20))
        print(f"fill       33 x 32 KB from one person: stored {stored / 1024:.0f} KiB"
              f"{f', note full after {full_at:.2f} s' if full_at else ', note not full'}; "
              f"refusals {sorted(set(codes(m)))}; then another person's 20 lines: {took}/20 stored "
              f"{sorted(set(codes(a)))}")
    finally:
        ev.close()


def pending(env, r):
    from rooms import yprotocol
    ev = Evening(env)
    try:
        mallory, anna, bram = ev.person("Mallory"), ev.person("Anna"), ev.person("Bram")
        ev.start()
        m = ev.client(mallory, "mallory")
        from pycrdt import Doc, Text
        for i in range(250):
            # the second half of someone's edit without its first: 1 KB that can never integrate
            d = Doc()
            t = d.get("notes", type=Text)
            halves: list[bytes] = []
            d.observe(lambda e: halves.append(e.update))
            t.insert(0, "x")
            t.insert(1, "y" * 1000)
            m.send(yprotocol.update(halves[1]))
            if i % 50 == 49:
                time.sleep(1.0)  # under the rate limit
        time.sleep(1.5)
        stream = r.xlen(PREFIX + "stream")
        a, b = ev.client(anna, "anna", recheck=False), ev.client(bram, "bram", recheck=False)
        sent, got = {}, {}
        a.on_sent = lambda u, t: sent.__setitem__(bytes(u), t)
        b.on_update = lambda u, t: got.__setitem__(bytes(u), t)
        health: list[float] = []
        stop = threading.Event()

        def probe():
            while not stop.is_set():
                t = time.monotonic()
                requests.get(f"{ev.base}/healthz", timeout=30)
                health.append(time.monotonic() - t)
                time.sleep(0.1)
        prober = threading.Thread(target=probe)
        prober.start()
        for i in range(40):
            a.insert(0, "k")
            time.sleep(0.1)
        time.sleep(2.0)
        joins = []
        for _ in range(5):
            t = time.monotonic()
            b.sio.call("notes:join", {"session": SESSION}, timeout=30)
            joins.append(time.monotonic() - t)
        stop.set()
        prober.join()
        ms = [1000 * (got[u] - t) for u, t in sent.items() if u in got]
        p50 = f"{statistics.median(ms):.1f}" if ms else "-"
        print(f"pending    250 updates that never integrate: {stream} stream entries kept; then relay p50 {p50} ms "
              f"({len(ms)}/{len(sent)} relayed), notes:join p50 {1000 * statistics.median(joins):.0f} ms, "
              f"/healthz max {1000 * max(health):.0f} ms; refusals {sorted(set(codes(m)))}")
    finally:
        ev.close()


def awareness(env, r):
    from rooms import yprotocol
    ev = Evening(env)
    try:
        mallory, anna = ev.person("Mallory"), ev.person("Anna")
        ev.start()
        m, a = ev.client(mallory, "mallory"), ev.client(anna, "anna")
        times = []
        for i in range(20):
            before = len(a.awareness)
            t = time.monotonic()
            m.send(yprotocol.awareness([(10**12 + k, 1, {}) for k in range(i * 2000, i * 2000 + 2000)]))
            deadline = time.monotonic() + 5
            while len(a.awareness) == before and time.monotonic() < deadline and len(codes(m)) <= i:
                time.sleep(0.002)
            times.append(time.monotonic() - t)
        kept = sum(len(v) for v in r.hgetall(PREFIX + "aware").values())
        sizes = []
        a.sio.on("notes:message", lambda s, d: sizes.append(len(d)))
        m.close()
        deadline = time.monotonic() + 5
        while not sizes and time.monotonic() < deadline:
            time.sleep(0.05)
        print(f"awareness  20 messages x 2000 new client ids from one socket: {kept / 1024:.1f} KiB kept in Redis, "
              f"first {1000 * times[0]:.0f} ms, last {1000 * times[-1]:.0f} ms to handle, removal relayed on leave "
              f"{max(sizes) / 1024 if sizes else 0:.1f} KiB; refusals {len(codes(m))}")
    finally:
        ev.close()


def sockets(env, r):
    ev = Evening(env, {"PLEIN_NOTES_RATE": "10"})
    try:
        anna = ev.person("Anna")
        ev.start()
        tabs = [ev.client(anna, f"tab{i}") for i in range(5)]
        before = r.xlen(PREFIX + "stream")
        second = int(time.time()) + 1
        time.sleep(second - time.time() + 0.05)
        threads = [threading.Thread(target=lambda t=t, i=i: [t.insert(0, str(i)) for _ in range(8)])
                   for i, t in enumerate(tabs)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        time.sleep(0.8)
        took = r.xlen(PREFIX + "stream") - before
        print(f"sockets    one person, 5 sockets x 8 updates at once, PLEIN_NOTES_RATE=10: {took} stored in that "
              f"second, {sum(codes(t).count('notes_rate_limited') for t in tabs)} refused for the rate")
    finally:
        ev.close()


def cost(env, r):
    """What checking one update costs on a big note (no server): the store's own calls, on the Redis."""
    import random

    from pycrdt import Doc, Text

    from rooms.notes import NoteLimits, NoteStore
    from rooms.store import Keys, connect
    doc = Doc()
    text = doc.get("notes", type=Text)
    rng = random.Random(1)
    for _ in range(20000):
        text.insert(rng.randint(0, len(text)), "abcd")
    for _ in range(3000):
        start = rng.randrange(len(text) - 5)
        del text[start:start + 3]
    snapshot = doc.get_update()
    r.set(PREFIX + "snapshot", snapshot)
    r.hset(PREFIX + "meta", mapping={"bytes": len(snapshot), "version": 1})
    store = NoteStore(connect(env["REDIS_URL"], binary=True), Keys(SLUG),
                      NoteLimits(rate_limits=False, person_bytes=10**9, max_note_bytes=10**9))
    updates: list[bytes] = []
    doc.observe(lambda e: updates.append(e.update))

    def timed(fn, n=50):
        times = []
        for _ in range(n):
            t = time.perf_counter()
            fn()
            times.append(1000 * (time.perf_counter() - t))
        return statistics.median(times)
    rebuild = timed(lambda: store.doc(SESSION), 20)  # what every join and step 1 cost before (and more with pending)
    store.state_vector(SESSION)  # fills the cache

    for _ in range(200):  # keystrokes typed somewhere in the note
        text.insert(rng.randint(0, len(text)), "k")
    typed = iter(updates)
    check = timed(lambda: store.append(SESSION, {"id": "p", "name": "P"}, next(typed)), 200)
    join = timed(lambda: store.state_vector(SESSION), 50)
    print(f"cost       a note of {len(snapshot) / 1024:.0f} KiB ({len(text)} characters): rebuilding it from Redis "
          f"p50 {rebuild:.1f} ms; checking and storing one keystroke against the cached note p50 {check:.2f} ms; "
          f"a join's state vector p50 {join:.2f} ms")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="fill,pending,awareness,sockets,cost")
    parser.add_argument("--redis-url")
    args = parser.parse_args()
    redis_url, r, env, embedded = bench_redis(args.redis_url, "plein-bench-attacks-")
    import redis as redis_py
    rb = redis_py.Redis.from_url(redis_url)
    try:
        for name in args.only.split(","):
            rb.flushdb()
            globals()[name](env, rb)
    finally:
        bench_done(r, embedded)
    return 0


if __name__ == "__main__":
    sys.exit(main())
