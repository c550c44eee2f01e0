"""A loopback HTTPS server playing a Jitsi Meet deployment for the browser tests (no Jitsi can run here).

It serves Jitsi's real `external_api.js` (built from the pinned @jitsi/react-native-sdk by
web/build-jitsi.mjs), so the page under test drives the real IFrame API. The iframe that API opens
(`https://<domain>/<room>?jwt=...#config...&userInfo.displayName=...`) gets a small page instead of
the Jitsi Meet app: tests/jitsi_fake/meet.js, which talks back through js-utils' real postis
transport exactly as jitsi-meet's modules/API/API.js does (`ready`, `video-conference-joined`,
`participant-role-changed`, `video-conference-left`, `video-ready-to-close`; commands such as
`video-hangup` and `local-subject` arrive as transport events).

The server records what a real deployment would see: every load of a room page with its FULL URL
(hash included, which only the page itself can read, so the page posts it back), hang-ups, commands,
who is in which room. It decides each joiner's role the way the real deployments do (`mode`).
"""
from __future__ import annotations

import base64
import datetime
import http.server
import ipaddress
import json
import os
import shutil
import ssl
import subprocess
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
WEB = ROOT / "web"
FAKE = ROOT / "tests" / "jitsi_fake"
BUILD = FAKE / "build"  # gitignored; web/build-jitsi.mjs writes external_api.js and transport.js here
BUILD_FILES = ("external_api.js", "transport.js")

# How a deployment hands out the moderator role (see issue 8 and deploy/jitsi/):
MODES = (
    "token",     # Prosody with mod_token_affiliation, auto-owner off (and JaaS): the JWT's claims decide
    "everyone",  # docker-jitsi-meet with AUTH_TYPE=jwt and jicofo's auto-owner: every token holder
    "first",     # Debian packages' default: the first occupant of the room (the next one when they leave)
    "nobody",
)


# -- building the real IFrame API -------------------------------------------------------------------

def _stale(target: Path, *sources: Path) -> bool:
    return not target.exists() or any(s.exists() and s.stat().st_mtime > target.stat().st_mtime for s in sources)


def ensure_build() -> str | None:
    """Build external_api.js and transport.js when missing or older than the lockfile or the build script
    (running `npm ci` first when web/node_modules is missing or older than web/package-lock.json).
    None when the build is there; else why it cannot be made (no npm, or the build failed)."""
    lock, script = WEB / "package-lock.json", WEB / "build-jitsi.mjs"
    installed = WEB / "node_modules" / ".package-lock.json"  # npm writes it at every install
    if not any(_stale(BUILD / name, lock, script) for name in BUILD_FILES):
        return None
    npm, node = shutil.which("npm"), shutil.which("node")
    if not npm or not node:
        return ("the browser tests need Node 20 and npm to build Jitsi's external_api.js "
                "(cd web && npm ci && node build-jitsi.mjs)")
    steps = ([[npm, "ci", "--no-audit", "--no-fund"]] if _stale(installed, lock) else []) + [[node, "build-jitsi.mjs"]]
    for step in steps:
        done = subprocess.run(step, cwd=WEB, capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            return f"`{' '.join(step)}` in web/ failed ({done.returncode}):\n{done.stdout[-2000:]}{done.stderr[-2000:]}"
    return None


# -- a certificate for 127.0.0.1, localhost and the public deployments the tests stand in for -------

def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate (its own CA, so `REQUESTS_CA_BUNDLE` can trust it) and its key."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Plein test Jitsi")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=7))
        .add_extension(x509.SubjectAlternativeName([
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost"),
            x509.DNSName("8x8.vc"), x509.DNSName("meet.jit.si")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    cert_file, key_file = folder / "fake-jitsi.pem", folder / "fake-jitsi.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


# -- reading what the IFrame API put in the room URL ---------------------------------------------------

def parse_hash(fragment: str) -> dict:
    """`a=1&config.subject=%22x%22`: the IFrame API JSON-encodes every value (jitsi_meet_external_api_id is a number)."""
    out = {}
    for part in fragment.split("&"):
        if not part:
            continue
        key, _, value = part.partition("=")
        text = unquote(value)
        try:
            out[key] = json.loads(text)
        except ValueError:
            out[key] = text
    return out


def jwt_claims(token: str | None) -> dict | None:
    """The payload of a JWT, unverified (Jitsi's Prosody verifies; the fake only reads the claims)."""
    if not token or token.count(".") != 2:
        return None
    payload = token.split(".")[1]
    try:
        return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except ValueError:
        return None


def token_role(claims: dict | None) -> str:
    """What mod_token_affiliation makes of a token: moderator for `moderator` true/"true" or an owner/moderator
    `affiliation` in context.user."""
    user = ((claims or {}).get("context") or {}).get("user") or {}
    if user.get("moderator") in (True, "true") or user.get("affiliation") in ("owner", "moderator"):
        return "moderator"
    return "participant"


# -- the server -------------------------------------------------------------------------------------

class FakeJitsi:
    """Jitsi on https://127.0.0.1:<port>; `mode` decides roles (see MODES), `roles` overrides by display name.

    Trusted by browsers through `ignore_https_errors`, by server processes through REQUESTS_CA_BUNDLE=`ca_bundle`.
    Read by tests: `loads` (one dict per room page opened: url, path, room, tenant, query, hash, jwt, claims,
    display_name, subject, api_id, id, role), `hangups`, `commands`, `leaves`, `occupants` (room -> ids in
    join order), `requests` (every GET path). `wait_for(predicate)` waits on them.
    """

    def __init__(self, folder: Path):
        self.cert_file, key_file = make_certificate(folder)
        # For REQUESTS_CA_BUNDLE of a server process: this certificate and whatever was trusted before.
        self.ca_bundle = folder / "ca-bundle.pem"
        before = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
        if not before:
            import certifi
            before = certifi.where()
        self.ca_bundle.write_text(self.cert_file.read_text() + "\n" + Path(before).read_text(errors="replace"))
        self.mode = "token"
        self.roles: dict[str, str] = {}  # display name -> role, over the mode
        self.role_before_join = False  # send participant-role-changed before video-conference-joined
        self.script: bytes | None = None  # served instead of the real external_api.js (a wrong script)
        self.clock_skew = 0.0  # seconds added to the Date header (a deployment whose clock is off)
        self.cond = threading.Condition()
        self.reset()
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.cert_file, key_file)
        self.httpd = _TLSServer(("127.0.0.1", 0), _handler(self), ctx)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def reset(self):
        """Forget everything recorded and go back to mode "token" (between tests)."""
        with self.cond:
            self.mode, self.role_before_join, self.script, self.clock_skew = "token", False, None, 0.0
            self.roles = {}
            self.requests: list[str] = []
            self.loads: list[dict] = []
            self.hangups: list[dict] = []
            self.commands: list[dict] = []
            self.leaves: list[dict] = []
            self.occupants: dict[str, list[str]] = {}
            self.current: dict[str, str] = {}  # participant id -> role now
            self.keys: dict[str, str] = {}  # the page's own key -> participant id
            self.gone: set[str] = set()  # keys of pages that left before their join arrived
            self._next_id = 0
            self.cond.notify_all()

    @property
    def domain(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def origin(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def script_url(self) -> str:
        return f"{self.origin}/external_api.js"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def serve_as(self, context, host: str = "8x8.vc"):
        """Let a Playwright browser context reach this server as https://<host>/ (JaaS's 8x8.vc, meet.jit.si):
        every request to that host is forwarded here; the page keeps its https://<host> origin and URL.
        The forwarding runs only while the test is in a Playwright call: wait with page.wait_for_function, or
        pass `page=` to wait_for / wait_load."""
        from playwright.sync_api import Error as PlaywrightError

        def forward(route):
            url = urlsplit(route.request.url)
            target = self.origin + url.path + (f"?{url.query}" if url.query else "")
            try:
                route.fulfill(response=route.fetch(url=target, max_redirects=0))
            except PlaywrightError:  # the page closed while a request (the role's long poll) was under way
                pass
        context.route(f"https://{host}/**", forward)

    def wait_for(self, predicate, timeout: float = 10.0, what: str = "the fake Jitsi", page=None):
        """predicate(self) -> a true value, re-checked at every record; that value, or AssertionError at the timeout.
        With `page`, wait inside Playwright (page.wait_for_timeout) so that the route handlers of serve_as run:
        Playwright's sync API runs them only while the test is in one of its calls."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                value = predicate(self)
                if value:
                    return value
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{what}: not within {timeout} s; loads {self.summary()}, "
                                         f"hangups {self.hangups}, commands {self.commands}")
                if page is None:
                    self.cond.wait(left)
                else:
                    self.cond.release()
                    try:
                        page.wait_for_timeout(50)
                    finally:
                        self.cond.acquire()

    def summary(self) -> list[tuple]:
        return [(load["room"], load["display_name"], load["role"]) for load in self.loads]

    def loads_of(self, name: str | None = None) -> list[dict]:
        """The room pages opened by one display name (every one with name=None)."""
        with self.cond:
            return [load for load in self.loads if name is None or load["display_name"] == name]

    def wait_load(self, name: str, count: int = 1, timeout: float = 10.0, page=None) -> dict:
        """The `count`-th room page opened by `name` (1 = the first), once it is there (`page`: see wait_for)."""
        return self.wait_for(lambda f: len(f.loads_of(name)) >= count and f.loads_of(name)[count - 1], timeout,
                             f"load #{count} by {name!r}", page)

    # -- the page's calls (under self.cond) --

    def set_role(self, display_name: str, role: str) -> None:
        """Change the role of whoever is in a room under this name now (a moderator granting or taking rights
        inside Jitsi): their page gets `participant-role-changed`."""
        with self.cond:
            for load in self.loads:
                if load["display_name"] == display_name and load["id"] in self.current:
                    self.current[load["id"]] = role
            self.cond.notify_all()

    def _join(self, href: str) -> dict:
        url = urlsplit(href)
        parts = [p for p in url.path.split("/") if p]
        fragment = parse_hash(url.fragment)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        token = query.get("jwt") or fragment.get("jwt")
        claims = jwt_claims(token)
        user = fragment.get("userInfo.displayName")
        room = unquote(parts[-1]) if parts else ""
        pid = f"{self._next_id:08x}"
        self._next_id += 1
        occupants = self.occupants.setdefault(room, [])
        if user in self.roles:
            role = self.roles[user]
        elif self.mode == "token":
            role = token_role(claims)
        elif self.mode == "everyone":
            role = "moderator"
        elif self.mode == "first":
            role = "moderator" if not any(self.current.get(o) == "moderator" for o in occupants) else "participant"
        else:
            role = "participant"
        occupants.append(pid)
        self.current[pid] = role
        load = {
            "url": href, "path": url.path, "room": room, "tenant": "/".join(parts[:-1]), "query": query,
            "hash": fragment, "jwt": token, "claims": claims, "display_name": user,
            "subject": fragment.get("config.subject"), "api_id": fragment.get("jitsi_meet_external_api_id"),
            "id": pid, "role": role, "at": time.time(),
        }
        self.loads.append(load)
        return {"id": pid, "role": role, "room": room, "displayName": user,
                "roleFirst": self.role_before_join}

    def _leave(self, pid: str, why: str):
        for room, occupants in self.occupants.items():
            if pid in occupants:
                occupants.remove(pid)
                self.leaves.append({"id": pid, "room": room, "why": why, "at": time.time()})
                was = self.current.pop(pid, None)
                # jicofo's auto-owner ("first"): when the moderator goes, the longest-present occupant gets it.
                if self.mode == "first" and was == "moderator" and occupants \
                        and not any(self.current.get(o) == "moderator" for o in occupants):
                    self.current[occupants[0]] = "moderator"

    def _room_of(self, pid: str) -> str | None:
        return next((load["room"] for load in self.loads if load["id"] == pid), None)

    def _record(self, body: dict) -> dict:
        kind, pid = body.get("type"), str(body.get("id", ""))
        key = str(body.get("key", ""))
        if kind == "join":
            answer = self._join(str(body.get("href", "")))
            self.keys[key] = answer["id"]
            if key in self.gone:
                self._leave(answer["id"], "gone")
            return answer
        if kind == "hangup":
            self.hangups.append({"id": pid, "room": self._room_of(pid), "source": body.get("source"), "at": time.time()})
            self._leave(pid, "hangup")
        elif kind == "command":
            self.commands.append({"id": pid, "room": self._room_of(pid), "name": body.get("name"),
                                  "args": body.get("args") or [], "at": time.time()})
        elif kind == "leave":  # the iframe went away without a hang-up (disposed, or the page reloaded)
            if key in self.keys:
                self._leave(self.keys[key], "gone")
            else:
                self.gone.add(key)
        return {"ok": True}


class _TLSServer(http.server.ThreadingHTTPServer):
    """TLS per connection, in the connection's own thread (a slow handshake never blocks the others)."""
    daemon_threads = True

    def __init__(self, address, handler, ctx: ssl.SSLContext):
        self.ctx = ctx
        super().__init__(address, handler)

    def finish_request(self, request, client_address):
        try:
            wrapped = self.ctx.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return  # a client that did not trust the certificate, or went away
        try:
            super().finish_request(wrapped, client_address)
        finally:
            wrapped.close()

    def handle_error(self, request, client_address):
        pass  # a page torn down mid-request (dispose) is normal here


def _handler(fake: FakeJitsi):
    page = (FAKE / "meet.html").read_text(encoding="utf-8")

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def date_time_string(self, timestamp=None):
            return super().date_time_string((time.time() if timestamp is None else timestamp) + fake.clock_skew)

        def _send(self, status: int, body: bytes, ctype: str, cache: bool = False):
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "max-age=3600" if cache else "no-store")
            self.end_headers()
            self.wfile.write(body)

        def _file(self, path: Path):
            if not path.exists():
                self._send(404, b"not built: cd web && npm ci && node build-jitsi.mjs", "text/plain")
            else:
                self._send(200, path.read_bytes(), "application/javascript; charset=utf-8")

        def do_GET(self):
            url = urlsplit(self.path)
            with fake.cond:
                fake.requests.append(self.path)
            if url.path.endswith("/external_api.js") and fake.script is not None:
                self._send(200, fake.script, "application/javascript")
            elif url.path.endswith("/external_api.js"):  # also JaaS's /<AppID>/external_api.js
                self._file(BUILD / "external_api.js")
            elif url.path == "/__fake/transport.js":
                self._file(BUILD / "transport.js")
            elif url.path == "/__fake/meet.js":
                self._file(FAKE / "meet.js")
            elif url.path == "/__fake/role":
                self._role(parse_qs(url.query))
            elif url.path in ("/", "/favicon.ico") or url.path.startswith("/__fake/") or url.path.endswith(".js"):
                self._send(404, b"", "text/plain")
            else:
                self._send(200, page.encode(), "text/html; charset=utf-8")

        def _role(self, query: dict):
            """Long poll: the participant's role once it differs from `known` (or after 20 s)."""
            pid, known = query.get("id", [""])[0], query.get("known", [""])[0]
            with fake.cond:
                fake.cond.wait_for(lambda: fake.current.get(pid, "none") != known, timeout=20)
                role = fake.current.get(pid, "none")
            self._send(200, json.dumps({"role": role}).encode(), "application/json")

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            try:
                body = json.loads(self.rfile.read(length) or b"{}")
            except ValueError:
                body = {}
            if self.path != "/__fake/record" or not isinstance(body, dict):
                self._send(404, b"", "text/plain")
                return
            with fake.cond:
                answer = fake._record(body)
                fake.cond.notify_all()
            self._send(200, json.dumps(answer).encode(), "application/json")

    return Handler


if __name__ == "__main__":  # `python tests/fake_jitsi.py`: build, then serve until Ctrl-C (to look at it by hand)
    problem = ensure_build()
    if problem:
        raise SystemExit(problem)
    server = FakeJitsi(Path(os.environ.get("TMPDIR", "/tmp")) / "fake-jitsi")
    print(f"serving {server.script_url} (certificate {server.cert_file})")
    threading.Event().wait()
