"""Helpers shared by the tests: constants, loopback servers, server processes, Socket.IO listeners.

Imported as `support` (the tests folder is on sys.path through its conftest.py).
"""
from __future__ import annotations

import http.server
import os
import socket
import subprocess
import sys
import threading
import time
from functools import partial
from pathlib import Path

import requests

from fake_jitsi import FakeJitsi

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "config" / "events" / "cooperatieve-stad-2022.toml"
CONSOLE_PROGRAM = ROOT / "tests" / "data" / "console.toml"  # the seed's slug; a first round of five rooms
SLUG = "cooperatieve-stad-2022"
REDIS_URL = os.environ.get("PLEIN_TEST_REDIS_URL")  # unset: the tests start a redis-server of their own
MODERATOR_KEY = "test-moderator-key-0123456789abcdef"
SECRET_KEY = "test-secret-key-0123456789abcdef"
CHROMIUM = os.environ.get("PLEIN_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1280, "height": 800}


def redis_answers(url: str, connect_timeout: float = 1.0, timeout: float | None = None) -> bool:
    """Does a Redis answer PING at this URL?"""
    import redis
    client = redis.Redis.from_url(url, socket_connect_timeout=connect_timeout, socket_timeout=timeout)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def page_client_class():
    """Flask's test client sending `Origin: http://localhost` as a browser on our own page does: the app
    refuses cookie-authenticated writes from anywhere else (server/security.py). A test of a forged
    request passes its own Origin (or `Origin: ""` to drop it)."""
    from flask.testing import FlaskClient

    class PageClient(FlaskClient):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.environ_base["HTTP_ORIGIN"] = "http://localhost"

    return PageClient


def app_config(redis_url: str, **extra) -> dict:
    return {
        "TESTING": True, "REDIS_URL": redis_url, "PLEIN_PROGRAM": str(SEED),
        "PLEIN_TICKER": False, "PLEIN_ASYNC_MODE": "threading",
        "PLEIN_MODERATOR_KEY": MODERATOR_KEY, "SECRET_KEY": SECRET_KEY,
        "JITSI_DOMAIN": "meet.example.org", "JITSI_EXTERNAL_API_URL": "",
        **extra,
    }


def serve_loopback(handler) -> http.server.ThreadingHTTPServer:
    """An HTTP server on a free loopback port, serving from a daemon thread (`.shutdown()` stops it)."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


class StandinRoomSize:
    """A loopback stand-in for Jitsi's mod_muc_size: `GET /room-size?room=&domain=` -> {"participants": n},
    404 for a room nobody is in. `mode` makes it misbehave: "500", "garbage" (200, not JSON), "negative".
    Every request is kept as (room, domain)."""

    def __init__(self):
        import json
        from urllib.parse import parse_qs, urlsplit
        self.sizes: dict[str, int] = {}
        self.mode = "ok"
        self.requests: list[tuple[str, str]] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                url = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                outer.requests.append((query.get("room", ""), query.get("domain", "")))
                room = query.get("room", "")
                if url.path != "/room-size" or outer.mode == "500":
                    status, body = (404 if url.path != "/room-size" else 500), b"{}"
                elif outer.mode == "garbage":
                    status, body = 200, b"<html>not json</html>"
                elif outer.mode == "negative":
                    status, body = 200, b'{"participants": -3}'
                elif room in outer.sizes:
                    status, body = 200, json.dumps({"participants": outer.sizes[room]}).encode()
                else:
                    status, body = 404, b""
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = serve_loopback(Handler)
        self.port = self.httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/room-size"

    def close(self):
        """Stop answering (connections are then refused)."""
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None


# Keys that change by themselves (heartbeats, the ticker's lock, the console's one-second slot).
VOLATILE_KEYS = (":worker:", ":worker-seen:", ":workers", ":ticker:leader", ":console:", ":jitsi:poll")


def redis_snapshot(r) -> dict:
    """Every key of the test database with its value, less the volatile ones: compare before and after
    a refused action to show that it changed nothing."""
    out = {}
    for key in sorted(r.keys("*")):
        if any(part in key for part in VOLATILE_KEYS):
            continue
        kind = r.type(key)
        out[key] = {"string": r.get, "hash": r.hgetall, "set": r.smembers, "list": lambda k: r.lrange(k, 0, -1),
                    "zset": lambda k: r.zrange(k, 0, -1, withscores=True)}[kind](key)
    return out


def stop_process(proc: subprocess.Popen, timeout: float = 15, kill: bool = False) -> None:
    """Terminate (or kill) a child process and wait for it; kill it if it does not go in time."""
    if proc.poll() is not None:
        return
    proc.kill() if kill else proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class ServerProcess:
    """`plein serve` as a child process (gevent, the real ticker) on a free port."""

    def __init__(self, redis_url: str, *args: str, env: dict | None = None, tmp: Path, jitsi: FakeJitsi | None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.args = args
        self.log_path = tmp / f"server-{self.port}.log"
        self.env = {
            **os.environ, "REDIS_URL": redis_url, "PLEIN_MODERATOR_KEY": MODERATOR_KEY,
            "PLEIN_SECRET_KEY": SECRET_KEY, "PLEIN_INSTANCE": str(tmp / f"instance-{self.port}"),
            "PYTHONUNBUFFERED": "1", **(env or {}),
        }
        if jitsi is not None:
            self.env.setdefault("JITSI_DOMAIN", jitsi.domain)
            self.env.setdefault("JITSI_EXTERNAL_API_URL", jitsi.script_url)
            if "REQUESTS_CA_BUNDLE" not in (env or {}):  # the deployment check (requests) trusts the loopback Jitsi
                self.env["REQUESTS_CA_BUNDLE"] = str(jitsi.ca_bundle)
        self.proc: subprocess.Popen | None = None

    def start(self) -> "ServerProcess":
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "serve", "--port", str(self.port), *self.args],
            cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"plein serve exited with {self.proc.returncode}:\n{self.output()}")
            try:
                if requests.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"plein serve did not answer within 30 s:\n{self.output()}")

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, kill: bool = False) -> None:
        if self.proc:
            stop_process(self.proc, kill=kill)
        if getattr(self, "log", None):
            self.log.close()

    # helpers for tests
    def api(self, path: str) -> str:
        return f"{self.url}/api/events/{SLUG}{path}"

    def join(self, name: str) -> dict:
        resp = requests.post(self.api("/participants"), json={"name": name}, timeout=5)
        assert resp.status_code == 201, resp.text
        return resp.json()

    def clock(self, action: str, minutes=None, key: str = MODERATOR_KEY) -> requests.Response:
        body = {"action": action} if minutes is None else {"action": action, "minutes": minutes}
        return requests.post(self.api("/clock"), json=body, headers={"Authorization": f"Bearer {key}"}, timeout=5)

    def call(self, method: str, path: str, body=None, key: str | None = MODERATOR_KEY) -> requests.Response:
        """An API request as a moderator (the key as bearer token; key=None: anonymous)."""
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return requests.request(method, self.api(path), json=body, headers=headers, timeout=5)


class Listener:
    """A real Socket.IO client (WebSocket transport) that keeps every event it receives, in order."""

    def __init__(self, url: str, auth: dict | None = None, headers: dict | None = None, ssl_verify: bool = True):
        import socketio
        self.events: list[tuple[str, object]] = []
        self.times: list[float] = []  # time.monotonic() of each event's arrival
        self.cond = threading.Condition()
        self.sio = socketio.Client(reconnection=False, ssl_verify=ssl_verify)
        self.sio.on("*", self._record)
        self.error = None
        self.sio.on("connect_error", self._connect_error)
        self.url, self.auth, self.headers = url, auth, headers

    def _record(self, event, data=None):
        with self.cond:
            self.events.append((event, data))
            self.times.append(time.monotonic())
            self.cond.notify_all()

    def _connect_error(self, data=None):
        self.error = data

    def connect(self) -> "Listener":
        self.sio.connect(self.url, auth=self.auth, headers=self.headers or {}, transports=["websocket"],
                         wait_timeout=10)
        return self

    def states(self) -> list[dict]:
        with self.cond:
            return [d for e, d in self.events if e == "state"]

    def wait_for(self, predicate, timeout: float = 5.0, event: str = "state", start: int = 0):
        """The first `event` payload (from index `start` of all events) for which predicate holds."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for e, d in self.events[start:]:
                    if e == event and predicate(d):
                        return d
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no {event!r} matching within {timeout} s; got {self.events[-5:]}")
                self.cond.wait(left)

    def received(self, event: str, start: int = 0) -> list:
        """Every `event` payload since index `start`."""
        with self.cond:
            return [d for e, d in self.events[start:] if e == event]

    def mark(self) -> int:
        with self.cond:
            return len(self.events)

    def call(self, event: str, data=None, timeout: float = 5.0):
        return self.sio.call(event, data, timeout=timeout)

    def close(self):
        if self.sio.connected:
            ws = getattr(self.sio.eio, "ws", None)
            if ws is not None:
                # websocket-client waits up to 3 s for the server's close frame, which the client's own read
                # loop takes first; the server has the close frame (or the TCP close) either way.
                ws.close = partial(ws.close, timeout=0.2)
            self.sio.disconnect()


def participant(app, name: str):
    """A Flask test client signed in as a new participant (the sign-up cookie)."""
    c = app.test_client()
    resp = c.post(f"/api/events/{SLUG}/participants", json={"name": name})
    assert resp.status_code == 201, resp.get_data(as_text=True)
    return c


def join_to_live(page, server, name: str):
    """In a browser: join on the event page (type the name, press the button); that lands on the live page."""
    page.goto(f"{server.url}/e/{SLUG}")
    page.fill("input[name=name]", name)
    page.locator("form[action$='/join'] button[type=submit]").click()
    page.wait_for_url(f"**/e/{SLUG}/live")
    return page


def join_to_choose(page, server, name: str):
    """In a browser: join (landing on the live page), then open the choose page, as someone who wants it does."""
    join_to_live(page, server, name)
    page.goto(f"{server.url}/e/{SLUG}/choose")
    page.locator(".round-choice").first.wait_for()
    return page


def shot(page, name: str) -> Path:
    """Save a screenshot under test-artifacts/ (gitignored) for a person to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path


def clock(server, action: str, **body) -> dict:
    """A moderator's clock action on a server process; it must succeed. Returns the new state."""
    resp = server.call("POST", "/clock", {"action": action, **body})
    assert resp.status_code == 200, resp.text
    return resp.json()


def german_catalogues(tmp_path: Path) -> Path:
    """The catalogues plus de/LC_MESSAGES/messages.po: the English one with a German header and a few messages
    in German (what a translator's first save in Poedit could look like). Returns the folder."""
    import shutil

    from babel.messages.pofile import read_po, write_po

    from rooms.i18n import PACKAGED
    directory = tmp_path / "translations"
    shutil.copytree(PACKAGED, directory)
    with (PACKAGED / "en" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalog = read_po(fh, locale="de")
    catalog.locale = "de"
    catalog.get("Taal", context="lang_label").string = "Sprache"
    catalog.get(("nog {n} plaats", "nog {n} plaatsen"), context="places_left").string = (
        "noch {n} Platz", "noch {n} Plätze")
    (directory / "de" / "LC_MESSAGES").mkdir(parents=True)
    with (directory / "de" / "LC_MESSAGES" / "messages.po").open("wb") as fh:
        write_po(fh, catalog, width=0)
    return directory
