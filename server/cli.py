"""The `plein` command: `plein serve` runs the evening, `plein check FILE` validates a program file."""
from __future__ import annotations

import argparse
import sys
import time


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="plein", description="Plein: online civic evenings in Jitsi rooms.")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the evening (HTTP + Socket.IO, gevent)")
    serve.add_argument("--program", help="program file (default: PLEIN_PROGRAM or the seed evening)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=5000, help="port (default 5000)")
    serve.add_argument("--speed", type=float, help="time scale for rehearsals: 60 plays an hour in a minute")
    serve.add_argument("--start", metavar="now|ISO-TIME",
                       help="anchor the first phase now (or at this time) instead of at its planned time")

    check = sub.add_parser("check", help="validate a program file and print its phases and rooms")
    check.add_argument("file")

    args = parser.parse_args(argv)
    if args.command == "check":
        return check_command(args.file)
    return serve_command(args)


def check_command(path: str) -> int:
    from rooms.program import ProgramError, load_program

    try:
        program = load_program(path)
    except ProgramError as exc:
        print(f"{path}: {len(exc.problems)} problem(s):", file=sys.stderr)
        for problem in exc.problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    print(summary(program))
    return 0


def summary(program) -> str:
    """A readable table of the phases and their rooms."""
    from rooms.jitsi import foyer_phase

    lines = [f"{program.title}  ({program.slug})",
             f"{program.date:%A %d %B %Y}, {program.timezone}", ""]
    lines.append(f"{'time':<13} {'kind':<8} {'id':<16} {'title':<40} rooms")
    lines.append("-" * 110)
    for i, p in enumerate(program.phases):
        when = f"{p.starts_at:%H:%M}-{p.ends_at:%H:%M}"
        if p.kind == "round":
            rooms = f"{len(p.sessions)} parallel sessions"
        elif p.kind == "plenary":
            rooms = "1 plenary room"
        else:
            host = foyer_phase(program, i)
            rooms = f"foyer: room of '{host.id}'" if host else "foyer room"
            rooms += "  [filled from a gap]" if p.filled else ""
        lines.append(f"{when:<13} {p.kind:<8} {p.id:<16} {p.title[:40]:<40} {rooms}")
        for s in p.sessions:
            hosts = f"  hosts: {', '.join(s.hosts)}" if s.hosts else ""
            lines.append(f"{'':<13} {'':<8} - {s.id:<26} {s.kind:<10} capacity {s.capacity:<5} {s.title}{hosts}")
    places = min((sum(s.capacity for s in r.sessions) for r in program.rounds), default=0)
    lines += ["", f"{len(program.phases)} phases, {len(program.rounds)} rounds, "
              f"{sum(len(r.sessions) for r in program.rounds)} sessions; fewest places in a round: {places}"]
    return "\n".join(lines)


def serve_command(args) -> int:
    # gevent must patch the standard library before anything else imports socket or threading.
    from gevent import monkey
    monkey.patch_all()

    import signal

    from rooms.embedded import EmbeddedRedisError
    from rooms.program import ProgramError

    from .app import create_app, socketio
    from .pushes import send

    overrides = {"PLEIN_ASYNC_MODE": "gevent"}
    if args.program:
        overrides["PLEIN_PROGRAM"] = args.program
    if args.speed is not None:
        if not (args.speed > 0 and args.speed != float("inf")):
            print("--speed must be a number greater than 0", file=sys.stderr)
            return 2
        overrides["PLEIN_SPEED"] = args.speed
    if args.start:
        overrides["PLEIN_START"] = time.time() if args.start == "now" else args.start
    try:
        app = create_app(overrides)
    except ProgramError as exc:
        print(f"The program file has {len(exc.problems)} problem(s):", file=sys.stderr)
        for problem in exc.problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    except EmbeddedRedisError as exc:
        print(str(exc), file=sys.stderr)
        return 1

    ev = app.extensions["plein"]
    with app.app_context():
        if args.start:
            ev.clock.setup(reset=True)
        else:
            stored = ev.clock.get()
            if args.speed is not None and stored.speed != args.speed:
                print(f"Note: the stored clock runs at speed {stored.speed:g}; --speed applies with --start "
                      f"(e.g. --start now --speed {args.speed:g}).", file=sys.stderr)
        send(ev.due())
    print_banner(app, args, ev)

    def stop(signum, frame):
        raise SystemExit(0)
    signal.signal(signal.SIGTERM, stop)
    try:
        socketio.run(app, host=args.host, port=args.port, log_output=False)
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        embedded = app.extensions.get("plein.embedded_redis")
        if embedded:
            embedded.stop()
    return 0


def print_banner(app, args, ev) -> None:
    base = app.config["PLEIN_PUBLIC_URL"] or f"http://{'localhost' if args.host in ('127.0.0.1', '0.0.0.0') else args.host}:{args.port}"
    state = ev.state()
    jitsi = ev.check_jitsi(timeout=3.0)
    print(f"\nPlein: {ev.program.title} ({ev.program.slug})")
    print(f"  Redis:        {app.config['REDIS_URL']}"
          + ("  (embedded, data in instance folder)" if app.extensions.get("plein.embedded_redis") else ""))
    print(f"  Clock:        {state.status}, speed {state.speed:g}, version {state.version}")
    if state.status == "waiting":
        print("                The program's date has passed: the evening waits for the moderator's start.")
    print(f"  Jitsi:        {ev.jitsi.domain} ({'JWT' if ev.jitsi.uses_tokens else 'no tokens'})"
          f" - external_api.js: {jitsi['detail']}")
    if ev.jitsi.is_public:
        print("                meet.jit.si cuts embedded calls after 5 minutes: use a self-hosted or JaaS "
              "deployment for a real evening.")
    print(f"\n  Participants: {base}/e/{ev.program.slug}")
    print(f"  Moderator:    {base}/e/{ev.program.slug}/moderator?key={ev.moderator_key}\n", flush=True)


if __name__ == "__main__":
    sys.exit(main())
