"""The load generator of benchmarks/scale.py without Node: python-socketio clients spread over processes.

Same JSON-lines protocol on stdin/stdout as loadgen.mjs (see there). Each child process holds its share of
the clients (one thread pool for connecting; the clients' own threads read), with the back-off the pages
use (1 s, at most 5 s, randomised by half); the parent forwards each command and merges the answers.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor


def now_ms() -> float:
    return time.time() * 1000


def child(conn, url: str, tokens: list, count: int, concurrency: int) -> None:
    import socketio
    clients: list[dict] = []
    lock = threading.Lock()

    def make(token):
        c = {"arrivals": {}, "storm": None}
        sio = socketio.Client(reconnection=True, reconnection_delay=1, reconnection_delay_max=5, randomization_factor=0.5)

        @sio.on("state")
        def on_state(data=None):
            t = now_ms()
            with lock:
                v = (data or {}).get("version")
                c["arrivals"].setdefault(v, t)
                storm = c["storm"]
                if storm is not None and storm["down"] and storm["back"] is None:
                    storm["back"] = t

        @sio.on("disconnect")
        def on_disconnect(*_):
            with lock:
                if c["storm"] is not None:
                    c["storm"]["down"] = True

        c["sio"] = sio
        try:
            sio.connect(url, auth={"token": token, "lang": "nl"} if token else {"lang": "nl"},
                        transports=["websocket"], wait_timeout=30)
            c["error"] = None
        except Exception as exc:  # counted, not fatal
            c["error"] = str(exc)
        return c

    def wait(predicate, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with lock:
                if predicate():
                    return
            time.sleep(0.005)

    while True:
        msg = conn.recv()
        cmd = msg["cmd"]
        if cmd == "connect":
            with ThreadPoolExecutor(max(1, concurrency)) as pool:
                clients.extend(pool.map(make, tokens if tokens else [None] * count))
            errors = [c["error"] for c in clients if c["error"]]
            conn.send({"connected": sum(1 for c in clients if c["sio"].connected), "failed": len(errors),
                       "error": errors[0] if errors else None})
        elif cmd == "collect":
            v = msg["version"]
            wait(lambda: all(v in c["arrivals"] for c in clients), msg.get("timeout", 30))
            with lock:
                conn.send({"times": [c["arrivals"][v] for c in clients if v in c["arrivals"]]})
        elif cmd == "greeted":
            wait(lambda: all(c["arrivals"] for c in clients), msg.get("timeout", 30))
            with lock:
                conn.send({"missing": sum(1 for c in clients if not c["arrivals"])})
        elif cmd == "storm_arm":
            with lock:
                for c in clients:
                    c["storm"] = {"down": False, "back": None}
            conn.send({})
        elif cmd == "storm_wait":
            wait(lambda: all(c["storm"] and c["storm"]["back"] is not None for c in clients), msg.get("timeout", 60))
            with lock:
                conn.send({"times": [c["storm"]["back"] for c in clients if c["storm"] and c["storm"]["back"]]})
        elif cmd == "close":
            with ThreadPoolExecutor(32) as pool:
                list(pool.map(lambda c: c["sio"].disconnect(), clients))
            conn.send({})
            return


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--procs", type=int, default=2)
    args = parser.parse_args()
    children: list[tuple] = []
    total = 0
    for line in sys.stdin:
        msg = json.loads(line)
        cmd = msg["cmd"]
        if cmd == "connect":
            tokens, count = msg.get("tokens"), msg.get("count") or 0
            n = len(tokens) if tokens else count
            total = n
            started = time.monotonic()
            for i in range(args.procs):
                share = tokens[i::args.procs] if tokens else []
                share_count = len(range(i, n, args.procs))
                if not share_count:
                    continue
                parent, other = mp.Pipe()
                proc = mp.Process(target=child, args=(other, msg["url"], share, share_count,
                                                      max(1, (msg.get("concurrency") or 200) // args.procs)))
                proc.start()
                children.append((parent, proc))
            for parent, _ in children:
                parent.send(msg)
            answers = [parent.recv() for parent, _ in children]
            errors = [a["error"] for a in answers if a["error"]]
            reply = {"ok": "connect", "connected": sum(a["connected"] for a in answers),
                     "failed": sum(a["failed"] for a in answers), "error": errors[0] if errors else None,
                     "secs": time.monotonic() - started}
        else:
            for parent, _ in children:
                parent.send(msg)
            answers = [parent.recv() for parent, _ in children]
            reply = {"ok": cmd}
            if cmd in ("collect", "storm_wait"):
                times = [t for a in answers for t in a["times"]]
                reply.update(times=times, missing=total - len(times))
            elif cmd == "greeted":
                reply["missing"] = sum(a["missing"] for a in answers)
        print(json.dumps(reply), flush=True)
        if cmd == "close":
            break
    for _, proc in children:
        proc.join(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
