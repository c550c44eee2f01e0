"""Benchmark: live notes under the Etherpad load model, and what a note costs in Redis.

Starts `plein serve` (--workers processes, one Redis: --redis-url, else database 12 of 127.0.0.1:6379,
else an embedded redis-server) on tests/data/notes.toml, seats E editors in one brainstorm, starts the
round, and connects each editor as a pycrdt Yjs client over Socket.IO (tests/notes/yclient.py), spread
over the workers. Each editor types --chars characters every --interval seconds at a random place (one
update per burst, as a browser editor sends one transaction; --per-keystroke: one update per character)
for --duration seconds. Reports:
  - relay latency: from an editor's emit of an update to each other editor receiving it (p50/p95/p99/max),
  - whether every update reached every other editor, and whether all texts converged to the text in Redis,
  - stored bytes of the note after compaction (snapshot + stream), and per character of text.
Prints figures only; it asserts nothing about time.

    python benchmarks/notes.py --editors 30 --duration 20
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import redis
import requests

from transitions import ROOT, SLUG, free_port, percentile, pick_redis

sys.path.insert(0, str(ROOT / "tests" / "notes"))
KEY = "benchmark-moderator-key-0123456789"
PROGRAM = ROOT / "tests" / "data" / "notes.toml"
SESSION = "idee"


def start_worker(port: int, env: dict) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "server.cli", "serve", "--port", str(port), "--program",
                             str(PROGRAM)], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            requests.get(f"http://127.0.0.1:{port}/healthz", timeout=0.5)
            return proc
        except requests.RequestException:
            time.sleep(0.1)
    raise SystemExit("plein serve did not start")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--editors", type=int, default=30)
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of typing")
    parser.add_argument("--interval", type=float, default=0.4, help="seconds between an editor's bursts")
    parser.add_argument("--chars", type=int, default=4, help="characters per burst")
    parser.add_argument("--per-keystroke", action="store_true", help="one update per character, not per burst")
    parser.add_argument("--workers", type=int, default=2, help="server processes sharing the Redis")
    parser.add_argument("--redis-url")
    args = parser.parse_args()

    from rooms.notes import NoteStore
    from rooms.store import Keys, connect_binary
    from yclient import NoteClient

    tmp = Path(tempfile.mkdtemp(prefix="plein-bench-notes-"))
    redis_url, embedded = pick_redis(args.redis_url, tmp)
    r = redis.Redis.from_url(redis_url)
    r.flushdb()
    env = {**os.environ, "REDIS_URL": redis_url, "PLEIN_MODERATOR_KEY": KEY, "PLEIN_INSTANCE": str(tmp / "instance"),
           "JITSI_EXTERNAL_API_URL": f"http://127.0.0.1:{free_port()}/external_api.js"}
    ports = [free_port() for _ in range(args.workers)]
    workers = [start_worker(port, env) for port in ports]
    bases = [f"http://127.0.0.1:{port}" for port in ports]
    clients: list = []
    try:
        api = f"{bases[0]}/api/events/{SLUG}"
        tokens = []
        for i in range(args.editors):
            token = requests.post(f"{api}/participants", json={"name": f"Schrijver {i}"}, timeout=30).json()["token"]
            requests.put(f"{api}/participants/me/choices", json={"ronde-1": SESSION},
                         headers={"Authorization": f"Bearer {token}"}, timeout=30).raise_for_status()
            tokens.append(token)
        requests.post(f"{api}/clock", json={"action": "start"}, headers={"Authorization": f"Bearer {KEY}"},
                      timeout=30).raise_for_status()

        sent_at: dict[bytes, float] = {}
        latencies: list[float] = []
        lock = threading.Lock()

        origin: dict[bytes, tuple[int, int]] = {}
        seen: dict[tuple[int, int], int] = {}
        violations = [0]

        def on_sent(update, at, who=None):
            with lock:
                sent_at[update] = at

        def on_update(update, at, me=None):
            with lock:
                if update in origin and me is not None:
                    author, n = origin[update]
                    if seen.get((me, author), -1) > n:
                        violations[0] += 1
                    seen[(me, author)] = n
                start = sent_at.get(update)
                if start is not None:
                    latencies.append(at - start)

        for i, token in enumerate(tokens):
            # The server relays one connection's updates in order and through one Redis channel, so each editor
            # gets them in causal order: no need for the client's costly re-check of pending updates.
            c = NoteClient(bases[i % len(bases)], {"token": token}, SESSION, f"e{i}", recheck=False)
            def sent_hook(u, t, i=i, c=c):
                with lock:
                    origin[u] = (i, c.sent)
                on_sent(u, t)
            c.on_sent, c.on_update = sent_hook, (lambda u, t, i=i: on_update(u, t, i))
            clients.append(c.connect())
        for c in clients:
            c.join()
            c.wait_synced(30)

        # ASCII only: pycrdt 0.14 counts Text positions in UTF-8 bytes, so a random position could fall inside a
        # multi-byte character (a browser's Yjs counts UTF-16 units and has no such problem).
        words = "de buurt cooperatie energie samen wonen zorg voedsel fonds ".split()
        stop_at = time.monotonic() + args.duration

        def type_(c, seed):
            rng = random.Random(seed)
            time.sleep(rng.uniform(0, args.interval))
            while time.monotonic() < stop_at:
                burst = (rng.choice(words) + " ")[:args.chars].ljust(args.chars)
                with c.lock:
                    at = rng.randint(0, len(c.text))
                if args.per_keystroke:
                    for k, ch in enumerate(burst):
                        c.insert(at + k, ch)
                else:
                    c.insert(at, burst)
                time.sleep(args.interval)

        threads = [threading.Thread(target=type_, args=(c, i)) for i, c in enumerate(clients)]
        t0 = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        typed = time.monotonic() - t0

        # let the last relays arrive, then check convergence against Redis
        store = NoteStore(connect_binary(redis_url), Keys(SLUG))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            stored_text = store.text(SESSION)
            if all(c.value() == stored_text for c in clients):
                break
            time.sleep(0.2)
        converged = all(c.value() == stored_text for c in clients)
        if not converged and os.environ.get("NOTES_BENCH_DEBUG"):
            print("per-author order violations", violations[0])
            texts = {c.value() for c in clients}
            print("distinct client texts", len(texts), "store among them", stored_text in texts)
            for t in list(texts)[:3]:
                k = next((i for i, (x, y) in enumerate(zip(t, stored_text)) if x != y), None)
                print("first difference at", k, repr(t[k - 10:k + 20]) if k else "", repr(stored_text[k - 10:k + 20]) if k else "")
        updates = sum(c.sent for c in clients)
        expected = updates * (args.editors - 1)
        errors = [e["code"] for c in clients for e in c.errors]
        before = store.stored_bytes(SESSION), store.stream_length(SESSION)
        store.compact(SESSION)
        after = store.stored_bytes(SESSION), store.stream_length(SESSION)
        same = store.text(SESSION) == stored_text

        ms = [1000 * x for x in latencies]
        mode = "one update per keystroke" if args.per_keystroke else "one update per burst"
        print(f"editors             {args.editors} in one note, {args.workers} worker process(es), one Redis")
        print(f"load                {args.chars} characters every {args.interval * 1000:.0f} ms each ({mode}); "
              f"{updates} updates in {typed:.1f} s = {updates / typed:.1f} updates/s")
        if ms:
            print(f"relay latency (ms)  p50 {statistics.median(ms):.1f}  p95 {percentile(ms, 95):.1f}  "
                  f"p99 {percentile(ms, 99):.1f}  max {max(ms):.1f}   (emit -> each other editor, {len(ms)} deliveries)")
        print(f"delivered           {len(ms)}/{expected} relays{'' if len(ms) >= expected else ' (MISSING some)'}; "
              f"errors: {', '.join(sorted(set(errors))) or 'none'}")
        print(f"converged           {'yes' if converged else 'NO'}: {len(stored_text)} characters, "
              f"every editor's text == the text rebuilt from Redis")
        print(f"stored bytes        {before[0]} before the final compaction ({before[1]} stream entries), "
              f"{after[0]} after ({after[1]} entries; text unchanged: {'yes' if same else 'NO'})")
        if stored_text:
            print(f"bytes per character {after[0] / len(stored_text):.2f} after compaction")
        return 0 if converged and same else 1
    finally:
        for c in clients:
            try:
                c.close()
            except Exception:
                pass
        for w in workers:
            w.terminate()
            w.wait(timeout=15)
        r.flushdb()
        if embedded:
            embedded.stop()


if __name__ == "__main__":
    sys.exit(main())
