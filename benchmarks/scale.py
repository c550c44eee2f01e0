"""Benchmark: Plein beside its floor, at 1,000, 2,000 and 4,000 participants on 1 and 2 workers.

For every size and worker count it runs, one after the other on the same machine and Redis:
  - the floor (benchmarks/floor.py): a bare Flask-SocketIO server with Plein's transport (gunicorn
    gevent workers from server/gunicorn_conf.py, WebSocket only, the Redis message queue) that
    broadcasts one `state`-sized message per "transition";
  - Plein under the same gunicorn settings, on a copy of the seed evening whose sessions hold everyone,
    played from Start to the end: each transition (plenary, break, round start) timed from the moderator's
    request to each page's `state`.
The same load generator drives both: Node's socket.io-client (benchmarks/loadgen/, the client and
back-off the pages use) when Node is present, else Python clients spread over processes. It reports
connects per second, p50/p99/max per transition kind, a reconnect storm after a SIGKILL of every
worker (time until every page has its state again), server RSS per participant, the load generator's
CPU beside each figure, and per transition the Redis commands and the messages published on the
Socket.IO channel (emits between workers). A summary table on stdout; --json FILE writes every figure.
Prints figures only; it asserts nothing about time.

    python benchmarks/scale.py                                   # 1,000 / 2,000 / 4,000 on 1 and 2 workers
    python benchmarks/scale.py --sizes 200 --workers 1 --transitions 4 --storm   # CI's small run
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import redis
import requests

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from transitions import KEY, ROOT, SLUG, bench_done, bench_redis, free_port, percentile  # noqa: E402

SEED = ROOT / "config" / "events" / "cooperatieve-stad-2022.toml"
TICKS = os.sysconf("SC_CLK_TCK")


# -- processes -----------------------------------------------------------------------------------------

def cpu_seconds(pid: int) -> float:
    """User + system CPU of one process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def tree(pid: int) -> list[int]:
    """The process and all its descendants."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += children.get(p, [])
    return out


def rss_kib(pid: int) -> int:
    """Resident memory of the process tree (gunicorn's master and workers), KiB."""
    total = 0
    for p in tree(pid):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


def gunicorn(app: str, port: int, workers: int, env: dict, chdir: Path | None = None) -> subprocess.Popen:
    """gunicorn with Plein's settings (server/gunicorn_conf.py), in its own process group, once it answers."""
    argv = [sys.executable, "-m", "gunicorn", "-c", "python:server.gunicorn_conf", "--workers", str(workers),
            "--bind", f"127.0.0.1:{port}"]
    if chdir:
        argv += ["--chdir", str(chdir)]
    log = tempfile.TemporaryFile()  # the server's own words, shown when it does not come up
    proc = subprocess.Popen(argv + [app], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    deadline = time.monotonic() + 60
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            answer = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
            if answer.status_code == 200:
                time.sleep(0.5 * workers)  # every worker up, not only the first
                return proc
            last = f"/healthz {answer.status_code}: {answer.text[:200]}"
        except requests.RequestException as exc:
            last = f"/healthz: {type(exc).__name__}"
        if proc.poll() is not None:
            raise SystemExit(f"{app} exited with {proc.returncode}:\n{tail(log)}")
        time.sleep(0.1)
    kill(proc)
    raise SystemExit(f"{app} did not answer within 60 s (last: {last}):\n{tail(log)}")


def tail(log, lines: int = 20) -> str:
    """The last lines a server wrote to its log file."""
    log.seek(0)
    return "\n".join(log.read().decode("utf-8", "replace").splitlines()[-lines:])


def kill(proc: subprocess.Popen, sig=signal.SIGKILL) -> None:
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


# -- the load generator ------------------------------------------------------------------------------

class LoadGen:
    """benchmarks/loadgen/loadgen.mjs (Node) or loadgen.py (Python processes), over JSON lines."""

    def __init__(self, kind: str, procs: int):
        if kind == "node":
            folder = HERE / "loadgen"
            if not (folder / "node_modules" / "socket.io-client").exists():
                subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "-s"], cwd=folder, check=True)
            argv = ["node", str(folder / "loadgen.mjs")]
        else:
            argv = [sys.executable, str(HERE / "loadgen" / "loadgen.py"), "--procs", str(procs)]
        self.kind = kind
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)

    def ask(self, **msg) -> dict:
        self.proc.stdin.write(json.dumps(msg) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise SystemExit(f"the {self.kind} load generator stopped")
        return json.loads(line)

    def cpu(self) -> float:
        return sum(cpu_seconds(p) for p in tree(self.proc.pid) if Path(f"/proc/{p}").exists())

    def close(self) -> None:
        try:
            self.ask(cmd="close")
        except (SystemExit, BrokenPipeError, ValueError):
            pass
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def loadgen_kind(wanted: str) -> str:
    if wanted != "auto":
        return wanted
    return "node" if shutil.which("node") and shutil.which("npm") else "python"


# -- Redis counters --------------------------------------------------------------------------------------

class Counters:
    """Commands Redis processed and messages published on one Socket.IO channel, around a transition."""

    def __init__(self, r: redis.Redis, channel: str):
        self.r = r
        self.pubsub = r.pubsub()
        self.pubsub.subscribe(channel)
        self.pubsub.get_message(timeout=1)
        self.idle_rate = 0.0

    def commands(self) -> int:
        return int(self.r.info("stats")["total_commands_processed"])

    def by_command(self) -> dict[str, int]:
        return {name[len("cmdstat_"):]: v["calls"] for name, v in self.r.info("commandstats").items()}

    def drain(self) -> int:
        count = 0
        while self.pubsub.get_message(timeout=0.05) is not None:
            count += 1
        return count

    def measure_idle(self, secs: float = 2.0) -> None:
        """Background commands per second (tickers, heartbeats, the console loop), to subtract."""
        self.drain()
        before, t0 = self.commands(), time.monotonic()
        time.sleep(secs)
        self.idle_rate = max(0.0, (self.commands() - before - 1) / (time.monotonic() - t0))
        self.drain()

    def close(self) -> None:
        self.pubsub.close()


# -- one run ----------------------------------------------------------------------------------------------

def summary(ms: list[float]) -> dict:
    if not ms:
        return {"p50": None, "p99": None, "max": None}
    return {"p50": round(statistics.median(ms), 1), "p99": round(percentile(ms, 99), 1), "max": round(max(ms), 1)}


def timed(gen: LoadGen, counters: Counters, n: int, fire) -> dict:
    """Fire one transition (fire() -> version) and measure it at every client."""
    counters.drain()
    per0 = counters.by_command()
    cpu0, cmd0, t0 = gen.cpu(), counters.commands(), time.time()
    version = fire()
    answer = gen.ask(cmd="collect", version=version, timeout=60)
    t1 = time.time()
    time.sleep(0.2)  # messages still in flight on the channel
    published = counters.drain()
    window = time.time() - t0
    commands = counters.commands() - cmd0 - 1 - counters.idle_rate * window
    per = {k: v - per0.get(k, 0) for k, v in counters.by_command().items()}
    top = dict(sorted(((k, v) for k, v in per.items() if v > 0), key=lambda kv: -kv[1])[:6])
    return {"ms": [t - 1000 * t0 for t in answer["times"]], "missing": answer["missing"],
            "loadgen_cpu": round(100 * (gen.cpu() - cpu0) / max(t1 - t0, 1e-3)),
            "redis_commands": max(0, round(commands)), "published": published, "version": version,
            "top_commands": top}


def run(system: str, n: int, workers: int, args, redis_url: str, r: redis.Redis, env: dict, tmp: Path) -> dict:
    r.flushdb()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    if system == "floor":
        server = gunicorn("floor:app", port, workers, {**env, "REDIS_URL": redis_url}, chdir=HERE)
        channel = "plein-floor"
        tokens = None
    else:
        program = tmp / "scale.toml"
        program.write_text(re.sub(r"capacity = \d+", f"capacity = {max(n, 1)}", SEED.read_text()))
        server = gunicorn("server.wsgi:app", port, workers, {**env, "PLEIN_PROGRAM": str(program)})
        from rooms.store import queue_channel
        channel = queue_channel(r, SLUG)
        with ThreadPoolExecutor(16) as pool:
            tokens = list(pool.map(lambda i: requests.post(
                f"{base}/api/events/{SLUG}/participants", json={"name": f"Deelnemer {i}"}, timeout=60
            ).json()["token"], range(n)))
    gen = LoadGen(loadgen_kind(args.loadgen), args.python_procs)
    counters = Counters(r, channel)
    result = {"system": system, "workers": workers, "participants": n, "loadgen": gen.kind}
    try:
        rss0 = rss_kib(server.pid)
        cpu0, t0 = gen.cpu(), time.time()
        connected = gen.ask(cmd="connect", url=base, tokens=tokens, count=n, concurrency=args.concurrency)
        result["connect"] = {"per_second": round(connected["connected"] / max(connected["secs"], 1e-3)),
                             "connected": connected["connected"], "failed": connected["failed"],
                             "loadgen_cpu": round(100 * (gen.cpu() - cpu0) / max(time.time() - t0, 1e-3))}
        if connected["error"]:
            result["connect"]["error"] = connected["error"]
        result["connect"]["not_greeted"] = gen.ask(cmd="greeted", timeout=30)["missing"]
        time.sleep(1.0)
        result["rss_per_participant_kib"] = round((rss_kib(server.pid) - rss0) / max(n, 1), 1)
        result["rss_total_mib"] = round(rss_kib(server.pid) / 1024, 1)
        counters.measure_idle()

        transitions: list[dict] = []
        if system == "floor":
            size = args.payload_bytes
            for i in range(args.transitions):
                def fire(v=i + 1):
                    requests.post(f"{base}/broadcast", json={"version": v, "bytes": size}, timeout=60)
                    return v
                transitions.append({"kind": "broadcast", **timed(gen, counters, n, fire)})
        else:
            from rooms.program import load_program
            program = load_program(tmp / "scale.toml")
            headers = {"Authorization": f"Bearer {KEY}"}
            action = "start"
            previous: dict = {}
            for _ in range(args.transitions):
                answer: dict = {}
                ahead = False
                if previous.get("phase") and not args.no_ahead:
                    index = program.index(previous["phase"]["id"])
                    coming = program.phases[index + 1] if index + 1 < len(program.phases) else None
                    if coming is not None and coming.kind == "round":
                        ahead = place_ahead(base, headers, r, gen, coming.id)

                def fire(a=action):
                    resp = requests.post(f"{base}/api/events/{SLUG}/clock", json={"action": a}, headers=headers,
                                         timeout=60)
                    resp.raise_for_status()
                    answer.update(resp.json())
                    return answer["version"]
                measured = timed(gen, counters, n, fire)
                if answer.get("status") == "ended" or not answer.get("phase"):
                    kind = "end"
                else:
                    kind = program.phase(answer["phase"]["id"]).kind
                    if kind == "round":
                        kind = "round start" if ahead else "round start, not placed ahead"
                transitions.append({"kind": kind, **measured})
                if kind == "end":
                    break
                previous = answer
                action = "advance"
        result["transitions"] = {}
        for kind in dict.fromkeys(t["kind"] for t in transitions):
            of_kind = [t for t in transitions if t["kind"] == kind]
            ms = [x for t in of_kind for x in t["ms"]]
            result["transitions"][kind] = {
                "count": len(of_kind), **summary(ms), "missing": sum(t["missing"] for t in of_kind),
                "loadgen_cpu": max(t["loadgen_cpu"] for t in of_kind),
                "redis_commands": round(statistics.mean(t["redis_commands"] for t in of_kind)),
                "published": round(statistics.mean(t["published"] for t in of_kind), 1),
                "top_commands": of_kind[-1]["top_commands"]}

        if args.storm:
            gen.ask(cmd="storm_arm")
            killed = time.time()
            kill(server)
            if system == "floor":
                server = gunicorn("floor:app", port, workers, {**env, "REDIS_URL": redis_url}, chdir=HERE)
            else:
                server = gunicorn("server.wsgi:app", port, workers, {**env, "PLEIN_PROGRAM": str(tmp / "scale.toml")})
            up = time.time()
            back = gen.ask(cmd="storm_wait", timeout=90)
            secs = [t / 1000 - killed for t in back["times"]]
            result["storm"] = {"restart_secs": round(up - killed, 2),
                               "all_back_secs": round(max(secs), 2) if secs else None,
                               "p50_back_secs": round(statistics.median(secs), 2) if secs else None,
                               "missing": back["missing"]}
        return result
    finally:
        gen.close()
        counters.close()
        kill(server, signal.SIGTERM)


def place_ahead(base: str, headers: dict, r: redis.Redis, gen: LoadGen, round_id: str) -> bool:
    """As the clock would: bring the phase before a round to its last minute, so the ticker places whoever chose
    nothing ahead of the round (and moves their sockets); then the moderator's Next is timed. False when the
    placement ahead did not happen within 30 s."""
    from rooms.store import Keys
    state = requests.get(f"{base}/api/events/{SLUG}/state", timeout=30).json()
    left = state["phase"]["ends_at"] if state.get("phase") else None
    if left is None:
        return False
    import datetime as dt
    seconds = dt.datetime.fromisoformat(left).timestamp() - time.time()
    if seconds > 50:
        resp = requests.post(f"{base}/api/events/{SLUG}/clock", headers=headers, timeout=60,
                             json={"action": "extend", "minutes": -round((seconds - 45) / 60, 3)})
        resp.raise_for_status()
        gen.ask(cmd="collect", version=resp.json()["version"], timeout=60)
    key = Keys(SLUG).placed_ahead(round_id)
    deadline = time.monotonic() + 30
    while not r.exists(key) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1.0)  # the regroups it sent travel through the message queue
    return bool(r.exists(key))


# -- output -------------------------------------------------------------------------------------------

def table(results: list[dict]) -> str:
    floors = {(x["workers"], x["participants"]): x for x in results if x["system"] == "floor"}
    lines = ["| system | workers | participants | transition | p50 ms | p99 ms | max ms | p99 vs floor | missing "
             "| loadgen CPU % | Redis commands | published |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for x in results:
        floor = floors.get((x["workers"], x["participants"]))
        floor_p99 = floor and floor["transitions"].get("broadcast", {}).get("p99")
        for kind, t in x["transitions"].items():
            ratio = f"{t['p99'] / floor_p99:.2f}" if floor_p99 and t["p99"] is not None else ""
            lines.append(f"| {x['system']} | {x['workers']} | {x['participants']} | {kind} | {t['p50']} | {t['p99']} "
                         f"| {t['max']} | {ratio} | {t['missing']} | {t['loadgen_cpu']} | {t['redis_commands']} "
                         f"| {t['published']} |")
    lines += ["", "| system | workers | participants | connects/s | loadgen CPU % | RSS KiB/participant | RSS MiB "
              "| storm: all back s | storm p50 s |", "|---|---|---|---|---|---|---|---|---|"]
    for x in results:
        storm = x.get("storm", {})
        lines.append(f"| {x['system']} | {x['workers']} | {x['participants']} | {x['connect']['per_second']} "
                     f"| {x['connect']['loadgen_cpu']} | {x['rss_per_participant_kib']} | {x['rss_total_mib']} "
                     f"| {storm.get('all_back_secs', '')} | {storm.get('p50_back_secs', '')} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,2000,4000", help="participants, comma-separated")
    parser.add_argument("--workers", default="1,2", help="worker counts, comma-separated")
    parser.add_argument("--transitions", type=int, default=12,
                        help="transitions per run (the seed evening has 11 and its end)")
    parser.add_argument("--storm", action="store_true", help="also kill every worker and time the reconnect storm")
    parser.add_argument("--systems", default="floor,plein")
    parser.add_argument("--no-ahead", action="store_true",
                        help="press Next without letting the clock reach a round's last minute first (no placement "
                             "ahead: the round's start places everyone)")
    parser.add_argument("--loadgen", choices=["auto", "node", "python"], default="auto")
    parser.add_argument("--python-procs", type=int, default=max(2, (os.cpu_count() or 2)),
                        help="processes of the Python load generator")
    parser.add_argument("--concurrency", type=int, default=200, help="connects in flight at once")
    parser.add_argument("--payload-bytes", type=int, default=0,
                        help="the floor's message size (default: the size of Plein's `state` message)")
    parser.add_argument("--redis-url")
    parser.add_argument("--verbose", action="store_true", help="also the Redis commands most called per transition")
    parser.add_argument("--json", metavar="FILE")
    args = parser.parse_args()

    redis_url, r, env, embedded = bench_redis(args.redis_url, "plein-scale-")
    tmp = Path(tempfile.mkdtemp(prefix="plein-scale-"))
    if not args.payload_bytes:
        args.payload_bytes = state_size(env, redis_url, r, tmp)
    results = []
    try:
        for workers in [int(w) for w in args.workers.split(",")]:
            for n in [int(s) for s in args.sizes.split(",")]:
                for system in args.systems.split(","):
                    print(f"== {system}, {workers} worker(s), {n} participants", flush=True)
                    result = run(system, n, workers, args, redis_url, r, env, tmp)
                    for kind, t in result["transitions"].items():
                        print(f"   {kind:<12} p50 {t['p50']} ms  p99 {t['p99']} ms  max {t['max']} ms  "
                              f"missing {t['missing']}  loadgen CPU {t['loadgen_cpu']}%  "
                              f"Redis {t['redis_commands']} commands, {t['published']} published", flush=True)
                        if args.verbose:
                            print(f"      most called: {t['top_commands']}", flush=True)
                    print(f"   connects {result['connect']['per_second']}/s, RSS "
                          f"{result['rss_per_participant_kib']} KiB/participant"
                          + (f", storm: all back in {result['storm']['all_back_secs']} s" if "storm" in result else ""),
                          flush=True)
                    results.append(result)
    finally:
        bench_done(r, embedded)
    machine = {"cpus": os.cpu_count(), "load": os.getloadavg(), "python": sys.version.split()[0],
               "payload_bytes": args.payload_bytes}
    print(f"\nmachine: {machine}\n")
    print(table(results))
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": machine, "results": results}, indent=1))
    return 0


def state_size(env: dict, redis_url: str, r: redis.Redis, tmp: Path) -> int:
    """Bytes of one participant's `state` in a round of the seed evening, for the floor's message."""
    r.flushdb()
    port = free_port()
    server = gunicorn("server.wsgi:app", port, 1, env)
    try:
        base = f"http://127.0.0.1:{port}"
        token = requests.post(f"{base}/api/events/{SLUG}/participants", json={"name": "Maat"}, timeout=30).json()["token"]
        requests.post(f"{base}/api/events/{SLUG}/clock", json={"action": "start"},
                      headers={"Authorization": f"Bearer {KEY}"}, timeout=30).raise_for_status()
        state = requests.get(f"{base}/api/events/{SLUG}/participants/me/state",
                             headers={"Authorization": f"Bearer {token}"}, timeout=30).json()
        return len(json.dumps(state, separators=(",", ":")).encode())
    finally:
        kill(server, signal.SIGTERM)
        r.flushdb()


if __name__ == "__main__":
    sys.exit(main())
