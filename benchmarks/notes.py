"""Benchmark: live notes under the Etherpad load model, and what a note costs in Redis.

Starts `plein serve` (--workers processes, one Redis: --redis-url, else database 12 of 127.0.0.1:6379,
else an embedded redis-server) on tests/data/notes.toml, seats E editors in one brainstorm, starts the
round, and connects each editor as a pycrdt Yjs client over Socket.IO (tests/notes/yclient.py), spread
over the workers, the editors running in --client-procs processes (one Python process for 30 editors
would measure its own GIL, not the server). Each editor types --chars characters every --interval seconds at a random place (one
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
import hashlib
import multiprocessing
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

from transitions import KEY, ROOT, SLUG, bench_done, bench_redis, free_port, percentile
from transitions import start_worker as start_bench_worker

sys.path.insert(0, str(ROOT / "tests" / "notes"))
PROGRAM = ROOT / "tests" / "data" / "notes.toml"
SESSION = "idee"


def program_for(editors: int, folder: Path) -> Path:
    """tests/data/notes.toml with every session holding all the editors (its capacity of 40 refused
    editor 41 with `session_full`, so no size beyond it could be measured)."""
    copy = folder / "notes-bench.toml"
    copy.write_text(re.sub(r"capacity = (\d+)", lambda m: f"capacity = {max(int(m.group(1)), editors)}",
                           PROGRAM.read_text()))
    return copy


def start_worker(port: int, env: dict, program: Path = PROGRAM) -> subprocess.Popen:
    """A worker on the notes program."""
    return start_bench_worker(port, env, program)


def editors_process(indices, tokens, bases, redis_url, args, ready, typed, results) -> None:
    """One client process: its editors connect, join and sync, wait for all, type, wait until their texts
    equal the text in Redis, and report what they sent and received (update digest -> monotonic time)."""
    from rooms.notes import NoteStore
    from rooms.store import Keys, connect
    from yclient import NoteClient

    sent: dict[bytes, float] = {}
    received: list[tuple[bytes, float]] = []
    lock = threading.Lock()
    clients = []
    try:
        for i, token in zip(indices, tokens):
            # The server relays one connection's updates in order and through one Redis channel, so each editor
            # gets them in causal order: no need for the client's costly re-check of pending updates.
            c = NoteClient(bases[i % len(bases)], {"token": token}, SESSION, f"e{i}", recheck=False)

            def on_sent(update, at):
                with lock:
                    sent[hashlib.sha1(update).digest()] = at

            def on_update(update, at):
                with lock:
                    received.append((hashlib.sha1(update).digest(), at))
            c.on_sent, c.on_update = on_sent, on_update
            clients.append(c.connect())
        for c in clients:
            c.join()
            c.wait_synced(30)
        ready.wait(timeout=120)

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

        threads = [threading.Thread(target=type_, args=(c, i)) for i, c in zip(indices, clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        typed_until = time.monotonic()
        typed.wait(timeout=60)  # every process has stopped typing: the text in Redis is final

        # let the last relays arrive: every editor here has the text that Redis has
        store = NoteStore(connect(redis_url, binary=True), Keys(SLUG))
        deadline = time.monotonic() + 30
        stored_text = store.text(SESSION)
        while time.monotonic() < deadline and not all(c.value() == stored_text for c in clients):
            time.sleep(0.2)
            stored_text = store.text(SESSION)
        same = all(c.value() == stored_text for c in clients)
        with lock:
            results.put({"sent": dict(sent), "received": list(received), "typed_until": typed_until,
                         "updates": sum(c.sent for c in clients),
                         "errors": [e["code"] for c in clients for e in c.errors],
                         "converged": hashlib.sha1(stored_text.encode()).hexdigest() if same else None})
    finally:
        for c in clients:
            try:
                c.close()
            except Exception:
                pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--editors", type=int, default=30)
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of typing")
    parser.add_argument("--interval", type=float, default=0.4, help="seconds between an editor's bursts")
    parser.add_argument("--chars", type=int, default=4, help="characters per burst")
    parser.add_argument("--per-keystroke", action="store_true", help="one update per character, not per burst")
    parser.add_argument("--workers", type=int, default=2, help="server processes sharing the Redis")
    parser.add_argument("--client-procs", type=int, default=0,
                        help="processes the editors run in (default: one per 8 editors, at most 4)")
    parser.add_argument("--redis-url")
    args = parser.parse_args()

    from rooms.notes import NoteStore
    from rooms.store import Keys, connect

    redis_url, r, env, embedded = bench_redis(args.redis_url, "plein-bench-notes-")
    ports = [free_port() for _ in range(args.workers)]
    program = program_for(args.editors, Path(tempfile.mkdtemp(prefix="plein-bench-notes-program-")))
    workers = [start_worker(port, env, program) for port in ports]
    bases = [f"http://127.0.0.1:{port}" for port in ports]
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

        # Editors run in several client processes: 30 pycrdt clients in one Python process measure its GIL, not
        # the server. time.monotonic() is the system's monotonic clock, the same in every process here.
        procs = args.client_procs or max(1, min(4, (args.editors + 7) // 8))
        ctx = multiprocessing.get_context("fork")
        ready, typed, results = ctx.Barrier(procs + 1), ctx.Barrier(procs), ctx.Queue()
        groups = [list(range(args.editors))[k::procs] for k in range(procs)]
        children = [ctx.Process(target=editors_process, daemon=True,
                                args=(group, [tokens[i] for i in group], bases, redis_url, args, ready, typed, results))
                    for group in groups]
        for child in children:
            child.start()
        ready.wait(timeout=120)  # every editor connected, joined and synced
        t0 = time.monotonic()
        reports = [results.get(timeout=args.duration + 120) for _ in children]
        typed = max(rep["typed_until"] for rep in reports) - t0
        for child in children:
            child.join(timeout=30)

        sent_at = {h: t for rep in reports for h, t in rep["sent"].items()}
        latencies = [t - sent_at[h] for rep in reports for h, t in rep["received"] if h in sent_at]
        store = NoteStore(connect(redis_url, binary=True), Keys(SLUG))
        stored_text = store.text(SESSION)
        digest = hashlib.sha1(stored_text.encode()).hexdigest()
        converged = all(rep["converged"] == digest for rep in reports)
        updates = sum(rep["updates"] for rep in reports)
        expected = updates * (args.editors - 1)
        errors = [code for rep in reports for code in rep["errors"]]
        before = store.stored_bytes(SESSION), store.stream_length(SESSION)
        store.compact(SESSION)
        after = store.stored_bytes(SESSION), store.stream_length(SESSION)
        same = store.text(SESSION) == stored_text

        ms = [1000 * x for x in latencies]
        mode = "one update per keystroke" if args.per_keystroke else "one update per burst"
        print(f"editors             {args.editors} in one note, {args.workers} worker process(es), one Redis; "
              f"the editors in {procs} client process(es)")
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
        for w in workers:
            w.terminate()
            w.wait(timeout=15)
        bench_done(r, embedded)


if __name__ == "__main__":
    sys.exit(main())
