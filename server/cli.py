"""The `plein` command: `plein serve` runs the evening, `plein check FILE` validates a program file,
`plein import-registrations FILE.csv` creates participants from a ticketing tool's export, `plein jitsi check`
checks the video deployment."""
from __future__ import annotations

import argparse
import sys
import time
import unicodedata

# Bidirectional controls reorder what a terminal shows (a title could make a line read otherwise).
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def visible(text) -> str:
    """Text from a file or a CSV, safe to print: control and bidi characters as escapes (an ESC from a
    program file would otherwise reach the terminal and could rewrite what it shows)."""
    return "".join(
        c if c == "\n" or (unicodedata.category(c) != "Cc" and c not in BIDI_CONTROLS)
        else (f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}")
        for c in str(text))


def say(*parts, file=None) -> None:
    """print(), with visible() applied: everything the commands print may quote a file."""
    print(visible(" ".join(str(p) for p in parts)), file=file or sys.stdout, flush=True)


def print_problems(header: str, problems) -> None:
    say(f"{header} {len(problems)} problem(s):", file=sys.stderr)
    for problem in problems:
        say(f"  - {problem}", file=sys.stderr)


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
    serve.add_argument("--workers", type=positive_int, default=1, metavar="N",
                       help="gunicorn gevent worker processes (default 1); more than one needs REDIS_URL")

    check = sub.add_parser("check", help="validate a program file and print its phases and rooms")
    check.add_argument("file")

    imp = sub.add_parser(
        "import-registrations", help="create participants with their choices from a CSV (see the README)",
        description="Create a participant for every row of a CSV (name, email, one column per round) "
                    "with their choices and a personal link. Exit status: 0 all rows imported, "
                    "1 some rows rejected (the rest imported), 2 nothing imported (a file-level problem).")
    imp.add_argument("file", help="the CSV: UTF-8 (BOM or not), ';' or ',' between fields")
    imp.add_argument("--program", help="program file (default: PLEIN_PROGRAM or the seed evening)")
    imp.add_argument("--out", metavar="LINKS.csv",
                     help="where to write name,email,link for the mailing (default: <FILE>-links.csv next to "
                          "FILE); never overwritten")
    imp.add_argument("--base-url", help="base of the links (default: PLEIN_PUBLIC_URL or http://localhost:5000)")
    imp.add_argument("--dry-run", action="store_true", help="check and report only; write nothing")

    rotate = sub.add_parser(
        "rotate-moderator-key", help="replace the moderator key: every moderator signed in with the old one is "
                                     "signed out; prints the new moderator link")
    rotate.add_argument("--program", help="program file (default: PLEIN_PROGRAM or the seed evening)")
    rotate.add_argument("--base-url", help="base of the link (default: PLEIN_PUBLIC_URL or http://localhost:5000)")

    jitsi = sub.add_parser("jitsi", help="the Jitsi deployment")
    jitsi_sub = jitsi.add_subparsers(dest="jitsi_command", required=True)
    jitsi_sub.add_parser(
        "check", help="check the configured Jitsi deployment (JITSI_* settings): mode, IFrame API, a sample token, "
                      "clock skew, room sizes",
        description="Exit status: 0 when the deployment is fit for an evening, 1 with every problem listed.")

    translations = sub.add_parser(
        "translations", help="the language catalogues (rooms/translations): check, update, or start a language",
        description="check: list messages missing, untranslated, fuzzy or unused in a catalogue (exit status 1 "
                    "when there are any). update: add the code's new messages to every catalogue and drop the "
                    "ones it no longer has. new LANG: start a catalogue for LANG with every message untranslated.")
    translations.add_argument("action", choices=["check", "update", "new"])
    translations.add_argument("lang", nargs="?", help="with new: the language code, e.g. de or fr")

    args = parser.parse_args(argv)
    if args.command == "translations":
        return translations_command(args)
    if args.command == "jitsi":
        return jitsi_check_command()
    if args.command == "rotate-moderator-key":
        return rotate_command(args)
    if args.command == "check":
        return check_command(args.file)
    if args.command == "import-registrations":
        return import_command(args)
    return serve_command(args)


def translations_command(args) -> int:
    from . import catalogues

    if args.action == "new":
        if not args.lang:
            say("plein translations new: name the language, e.g. `plein translations new de`", file=sys.stderr)
            return 2
        say(f"Started {catalogues.new(args.lang)}; translate it with Poedit or Weblate.")
        return 0
    if args.action == "update":
        catalogues.update()
    problems = catalogues.problems()
    for problem in problems:
        say(f"  - {problem}", file=sys.stderr)
    say(f"{len(problems)} message(s) to translate or remove." if problems else "Every catalogue is complete.")
    return 1 if problems else 0


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return value


def check_command(path: str) -> int:
    from rooms.program import ProgramError, load_program

    try:
        program = load_program(path)
    except ProgramError as exc:
        print_problems(f"{path}:", exc.problems)
        return 1
    say(summary(program))
    return 0


def jitsi_check_command() -> int:
    """`plein jitsi check`: what the JITSI_* settings give, checked against the deployment itself."""
    from rooms.jitsi import check_report
    from rooms.occupancy import RoomSizes

    from . import config
    from .app import jitsi_settings

    settings = jitsi_settings(config.from_env())
    sizes = RoomSizes(None, None, settings.room_size_url, settings.muc) if settings.polls_room_sizes else None
    lines, problems = check_report(settings, sizes=sizes)
    print("\n".join(lines))
    if problems:
        print(f"\n{len(problems)} problem(s):", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    print("\nThe Jitsi deployment is fit for an evening.")
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
            rooms = f"{len(p.sessions)} parallel sessions" + ("" if p.switching else ", no switching")
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


SHOW_LINKS = 50  # print the links themselves up to this many


def import_command(args) -> int:
    """`plein import-registrations`: 0 all imported, 1 some rows rejected, 2 nothing imported."""
    from pathlib import Path

    import redis

    from rooms.audit import spreadsheet_row
    from rooms.program import ProgramError, load_program
    from rooms.registrations import (ImportConflict, RegistrationFileError, import_registrations,
                                     parse_registrations, rejected_lines)

    from . import config

    def fail(message: str) -> int:
        say(f"{args.file}: {message}; nothing was imported", file=sys.stderr)
        return 2

    cfg = config.from_env()
    try:
        program = load_program(args.program or cfg["PLEIN_PROGRAM"])
    except ProgramError as exc:
        print_problems("The program file has", exc.problems)
        return 2
    path = Path(args.file)
    try:
        data = path.read_bytes()
    except OSError as exc:
        return fail(f"cannot be read ({exc.strerror})")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        return fail(f"line {line} is not UTF-8 text (save it as \"CSV UTF-8\")")
    try:
        rows, problems = parse_registrations(text, program)
    except RegistrationFileError as exc:
        return fail(str(exc))
    total = len(rows) + len(rejected_lines(problems))

    out = None
    if not args.dry_run:
        if args.out:
            out = Path(args.out)
            if out.exists():
                return fail(f"--out {out} already exists (links in it could not be made again: "
                            "only their hash is stored); choose another file")
        else:
            out = path.with_name(f"{path.stem}-links.csv")
            n = 2
            while out.exists():  # an earlier import's links: keep them
                out, n = path.with_name(f"{path.stem}-links-{n}.csv"), n + 1
        try:
            out_file = open(out, "x", encoding="utf-8", newline="")  # reserved before anything is written
        except OSError as exc:
            return fail(f"cannot write {out} ({exc.strerror})")

    base_url = (args.base_url or cfg["PLEIN_PUBLIC_URL"] or "http://localhost:5000").rstrip("/")
    embedded = client = None
    try:
        client, embedded = _cli_redis(cfg)
        result = import_registrations(client, program, rows, base_url, dry_run=args.dry_run)
    except (ImportConflict, redis.RedisError, OSError, RuntimeError) as exc:  # RuntimeError: EmbeddedRedisError
        if out is not None:
            out_file.close()
            out.unlink(missing_ok=True)
        return fail(str(exc) if isinstance(exc, ImportConflict) else f"Redis: {exc}")
    finally:
        if client is not None:
            client.close()
        if embedded is not None:
            embedded.stop()

    problems = sorted(problems + result.problems, key=lambda p: (not p.note, p.line))
    for problem in problems:
        say(problem)
    imported = result.imported
    if args.dry_run:
        print(f"dry run: would import {len(imported)} of {total} rows; nothing was written")
    else:
        print(f"imported {len(imported)} of {total} rows")
        if imported:
            import csv
            try:
                with out_file:
                    writer = csv.writer(out_file)
                    writer.writerow(["name", "email", "link"])
                    for item in imported:
                        # An email such as =HYPERLINK("http://…")@x.nl is a valid address and a formula.
                        writer.writerow(spreadsheet_row((item.row.name, item.row.email, item.link)))
            except OSError as exc:
                # The participants exist and only the tokens' hashes are stored: print every link.
                print(f"cannot write {out} ({exc.strerror}); the links:", file=sys.stderr)
                for item in imported:
                    say(f"  {item.row.name} <{item.row.email}>  {item.link}")
                return 1
            if len(imported) <= SHOW_LINKS:
                for item in imported:
                    say(f"  {item.row.name} <{item.row.email}>  {item.link}")
            print(f"links (name,email,link): {out}")
        else:
            out_file.close()
            out.unlink(missing_ok=True)
    return 0 if len(imported) == total else 1


def rotate_command(args) -> int:
    """A new moderator key in Redis (when none is configured in PLEIN_MODERATOR_KEY)."""
    import redis

    from rooms.audit import Actor
    from rooms.errors import PleinError
    from rooms.evening import Evening
    from rooms.jitsi import JitsiSettings
    from rooms.program import ProgramError, load_program

    from . import config
    from .auth import moderator_link

    cfg = config.from_env()
    if cfg["PLEIN_MODERATOR_KEY"]:
        print("plein: the moderator key is set in PLEIN_MODERATOR_KEY; change it there and restart", file=sys.stderr)
        return 1
    try:
        program = load_program(args.program or cfg["PLEIN_PROGRAM"])
    except ProgramError as exc:
        say(f"plein: {exc}", file=sys.stderr)
        return 2
    client = embedded = None
    try:
        client, embedded = _cli_redis(cfg)
        key = Evening(program, client, jitsi=JitsiSettings()).rotate_moderator_key(Actor("moderator", "CLI", "cli"))
    except (redis.RedisError, OSError, RuntimeError, PleinError) as exc:
        print(f"plein: {exc}", file=sys.stderr)
        return 1
    finally:
        if client is not None:
            client.close()
        if embedded is not None:
            embedded.stop()
    base = (args.base_url or cfg["PLEIN_PUBLIC_URL"] or "http://localhost:5000").rstrip("/")
    print("New moderator key; every moderator must sign in again with the new link:")
    print(f"  {moderator_link(f'{base}/e/{program.slug}', key)}")
    return 0


def _cli_redis(cfg):
    """The server's Redis: REDIS_URL, else the embedded one (the running server's, or started for this
    command: then it is returned as well, to be stopped afterwards)."""
    import os

    from flask import Flask

    from rooms.embedded import EmbeddedRedis
    from rooms.store import connect

    embedded = None
    url = cfg["REDIS_URL"]
    if not url:
        # The same instance folder as create_app's.
        instance = Flask("server.app", instance_path=os.environ.get("PLEIN_INSTANCE") or None).instance_path
        server = EmbeddedRedis(os.path.join(instance, "redis"))
        url = server.running_url()
        if url is None:
            url, embedded = server.start(), server
    client = connect(url)
    try:
        client.ping()
    except Exception:
        client.close()
        if embedded is not None:
            embedded.stop()
        raise
    return client, embedded


def serve_command(args) -> int:
    # gevent must patch the standard library before anything else imports socket or threading.
    from gevent import monkey
    monkey.patch_all()

    import signal

    from rooms.embedded import EmbeddedRedisError
    from rooms.errors import PleinError
    from rooms.program import ProgramError
    from rooms.timeline import check_speed

    from .app import create_app, socketio
    from .pushes import send

    overrides = {"PLEIN_ASYNC_MODE": "gevent"}
    if args.program:
        overrides["PLEIN_PROGRAM"] = args.program
    if args.speed is not None:
        try:
            check_speed(args.speed)
        except PleinError as exc:
            print(f"plein serve: --speed {args.speed:g}: {exc.message('en')} ({exc.code})", file=sys.stderr)
            return 2
        overrides["PLEIN_SPEED"] = args.speed
    if args.start:
        overrides["PLEIN_START"] = time.time() if args.start == "now" else args.start
    busy = port_problem(args.host, args.port)
    if busy:  # before anything starts: no clock re-anchored, no ticker, no embedded Redis for nothing
        print(f"plein serve: {busy}", file=sys.stderr)
        return 2
    if args.workers > 1:
        from . import config
        if not config.from_env()["REDIS_URL"]:
            # Each worker would start the embedded Redis of the same folder and stop it on exit, under the others.
            print(f"plein serve: --workers {args.workers} needs a Redis that all workers share: set REDIS_URL "
                  "(the embedded Redis serves one worker)", file=sys.stderr)
            return 2
        overrides["PLEIN_TICKER"] = False  # this process only sets the clock and prints the banner
    try:
        app = create_app(overrides)
    except ProgramError as exc:
        print_problems("The program file has", exc.problems)
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
        if args.workers == 1:
            send(ev.due())
    print_banner(app, args, ev)
    if args.workers > 1:
        return exec_gunicorn(args, overrides)

    # Under gevent a plain signal handler runs in whatever greenlet is current (the ticker, a request);
    # gevent's handler runs from the hub, and killing the main greenlet unwinds through `finally` below.
    import gevent
    main = gevent.getcurrent()
    for signum in (signal.SIGTERM, signal.SIGINT):
        gevent.signal_handler(signum, gevent.kill, main, SystemExit)
    try:
        socketio.run(app, host=args.host, port=args.port, log_output=False)
    except (KeyboardInterrupt, SystemExit):
        pass
    except OSError as exc:  # taken between the check above and now
        print(f"plein serve: {port_problem(args.host, args.port) or exc.strerror}", file=sys.stderr)
        return 2
    finally:
        try:  # this worker's sockets stop counting now rather than when its heartbeat expires
            ev.presence.stop(app.extensions["plein.worker"])
        except Exception:  # Redis may already be gone; the expiry covers it
            pass
        embedded = app.extensions.get("plein.embedded_redis")
        if embedded:
            embedded.stop()
    return 0


def exec_gunicorn(args, overrides: dict) -> int:
    """Become gunicorn with N gevent workers (server/gunicorn_conf.py, as the Procfile runs it). The clock is
    set already; the workers read the program and speed from the environment, and their tickers elect a
    leader in Redis."""
    import os
    env = dict(os.environ)
    env.pop("PLEIN_START", None)  # anchored above, once: a worker starting later must not re-anchor it
    for name in ("PLEIN_PROGRAM", "PLEIN_SPEED"):
        if name in overrides:
            env[name] = str(overrides[name])
    argv = [sys.executable, "-m", "gunicorn", "-c", "python:server.gunicorn_conf", "--workers", str(args.workers),
            "--bind", f"[{args.host}]:{args.port}" if ":" in args.host else f"{args.host}:{args.port}",
            "server.wsgi:app"]
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, argv, env)
    return 0  # not reached


def port_problem(host: str, port: int) -> str | None:
    """Why `plein serve` cannot listen on host:port (one line naming --port), or None when it can."""
    import errno
    import socket

    probe = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server itself binds
    try:
        probe.bind((host, port))
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            return f"port {port} on {host} is already in use (another plein serve?); choose another with --port"
        if exc.errno == errno.EACCES:
            return f"port {port} needs privileges this user does not have; choose one above 1023 with --port"
        return f"cannot listen on {host}:{port} ({exc.strerror}); check --host and --port"
    finally:
        probe.close()
    return None


def print_banner(app, args, ev) -> None:
    from rooms.jitsi import summary_line
    from .auth import moderator_link

    base = app.config["PLEIN_PUBLIC_URL"] or f"http://{'localhost' if args.host in ('127.0.0.1', '0.0.0.0') else args.host}:{args.port}"
    state = ev.state()
    jitsi = ev.check_jitsi(timeout=3.0)
    say(f"\nPlein: {ev.program.title} ({ev.program.slug})")
    print(f"  Redis:        {app.config['REDIS_URL']}"
          + ("  (embedded, data in instance folder)" if app.extensions.get("plein.embedded_redis") else ""))
    if args.workers > 1:
        print(f"  Workers:      {args.workers} gunicorn gevent processes (server/gunicorn_conf.py)")
    print(f"  Clock:        {state.status}, speed {state.speed:g}, version {state.version}")
    if state.status == "waiting":
        print("                The program's date has passed: the evening waits for the moderator's start.")
    elif state.status == "ended":
        print("                The evening has ended: pages show it as over. To play it again: --start now.")
    print(f"  Jitsi:        {summary_line(ev.jitsi)}; external_api.js: {jitsi['detail']}"
          " (plein jitsi check says more)")
    print(f"\n  Participants: {base}/e/{ev.program.slug}")
    print(f"  Moderator:    {moderator_link(f'{base}/e/{ev.program.slug}', ev.moderator_key)}\n", flush=True)


if __name__ == "__main__":
    sys.exit(main())
