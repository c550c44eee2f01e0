"""Hardening (issue 9, items 13 and 14) on real server processes: reserved and unknown socket events,
deep socket payloads, and secrets kept out of the access log (gunicorn as the Procfile runs it)."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time

import pytest
import requests

from rooms.store import Keys
from support import MODERATOR_KEY, ROOT, SECRET_KEY, SLUG, free_port, stop_process

pytestmark = pytest.mark.socket

KEYS = Keys(SLUG)


def test_a_socket_from_another_origin_is_refused_even_with_the_cookie(server):
    """Cross-site WebSocket hijacking: a foreign page's socket would carry the moderator's cookie. The
    WebSocket handshake is refused for any origin but our own (Socket.IO's check, kept)."""
    import websocket
    s = requests.Session()
    assert s.get(f"{server.url}/e/{SLUG}/moderator?key={MODERATOR_KEY}", allow_redirects=False).status_code == 303
    cookie = "Cookie: " + "; ".join(f"{c.name}={c.value}" for c in s.cookies)
    url = server.url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    own = websocket.create_connection(url, header=[cookie], origin=server.url, timeout=5)
    assert own.recv().startswith("0{")  # the Engine.IO open packet
    own.close()
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        websocket.create_connection(url, header=[cookie], origin="https://evil.example", timeout=5)
    assert refused.value.status_code == 400


def test_a_spoofed_disconnect_leaves_the_participant_connected(server, listen, r):
    anna = listen(server, server.join("Anna")["token"])
    anna.wait_for(lambda d: True)
    assert len(r.hgetall(KEYS.presence)) == 1
    answer = anna.call("disconnect", "transport close")
    assert answer["error"]["code"] == "reserved_event"
    assert len(r.hgetall(KEYS.presence)) == 1  # the console still shows Anna
    # ... and she still hears the clock.
    version = server.clock("start").json()["version"]
    anna.wait_for(lambda d: d["version"] == version)


def test_a_spoofed_connect_is_refused_and_changes_nobody(server, listen, r):
    joined = server.join("Anna")
    anna = listen(server, joined["token"])
    bert_token = server.join("Bert")["token"]
    anna.wait_for(lambda d: True)
    answer = anna.call("connect", ["ignored", {"token": bert_token}])
    assert answer["error"]["code"] == "reserved_event"
    answer = anna.call("connect", {"token": bert_token})
    assert answer["error"]["code"] == "reserved_event"
    # Only Anna's socket is present, and it is still Anna's: a help request goes out in her name.
    assert [json.loads(v)["pid"] for v in r.hvals(KEYS.presence)] == [joined["id"]]
    assert anna.call("help:ask", {"text": "Geen beeld"})["request"]["name"] == "Anna"


def test_an_unknown_event_gets_a_coded_answer(server, listen):
    anna = listen(server, server.join("Anna")["token"])
    answer = anna.call("nonsense:event", {"x": 1})
    assert answer["error"]["code"] == "unknown_event"
    assert "nonsense:event" in answer["error"]["message"]


def raw_call(listener, packet_json: str, timeout: float = 5.0):
    """Send an EVENT packet whose JSON is written by hand (a client library cannot encode 5,000 levels)
    and wait for its acknowledgement."""
    import threading
    got, box = threading.Event(), []
    ack = listener.sio._generate_ack_id("/", lambda *args: (box.extend(args), got.set()))
    listener.sio.eio.send(f"2{ack}{packet_json}")
    assert got.wait(timeout), "no acknowledgement"
    return box[0] if box else None


@pytest.mark.parametrize("depth", [40, 5000])
def test_a_deeply_nested_socket_payload_is_refused_with_a_code(server, listen, depth):
    anna = listen(server, server.join("Anna")["token"])
    answer = raw_call(anna, '["help:ask",' + "[" * depth + "]" * depth + "]")
    assert answer["error"]["code"] == "json_too_deep"
    assert anna.call("state:get")["ok"] is True  # the connection lives on
    assert "RecursionError" not in server.output()


# -- 13: secrets out of the access log -----------------------------------------------------------------

def procfile_command(port: int) -> list[str]:
    """The Procfile's web command with $PORT filled in, plus an access log on stdout."""
    line = (ROOT / "Procfile").read_text().split("web:", 1)[1].strip()
    return [sys.executable, "-m"] + line.replace("$PORT", str(port)).split() + ["--access-logfile", "-"]


@pytest.fixture
def gunicorn(r, redis_url, tmp_path, fake_jitsi):
    port = free_port()
    log = tmp_path / "gunicorn.log"
    env = {**os.environ, "REDIS_URL": redis_url, "PLEIN_MODERATOR_KEY": MODERATOR_KEY,
           "PLEIN_SECRET_KEY": SECRET_KEY, "PLEIN_INSTANCE": str(tmp_path / "instance"),
           "JITSI_DOMAIN": fake_jitsi.domain, "JITSI_EXTERNAL_API_URL": fake_jitsi.script_url}
    with open(log, "w") as out:
        proc = subprocess.Popen(procfile_command(port), cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(url + "/healthz", timeout=1).status_code == 200:
                break
        except requests.RequestException:
            time.sleep(0.2)
    yield url, log
    stop_process(proc)


def test_moderator_and_personal_links_leave_no_secret_in_gunicorns_access_log(gunicorn, r):
    url, log = gunicorn
    token = _personal_token(r)
    event = f"{url}/e/{SLUG}"
    s = requests.Session()
    moderator = s.get(f"{event}/moderator?key={MODERATOR_KEY}", allow_redirects=False)
    assert moderator.status_code == 303 and "key=" not in moderator.headers["Location"]
    personal = requests.get(f"{event}/p/{token}", allow_redirects=False,
                            headers={"Referer": f"{event}/p/{token}?key={MODERATOR_KEY}"})
    assert personal.status_code == 303 and token not in personal.headers["Location"]
    wrong = requests.get(f"{event}/moderator?lang=en&key=wrong-key-but-still-a-secret")
    assert wrong.status_code == 403
    host = requests.get(f"{event}/host/zaal-1/0123456789abcdef0123456789abcdef", allow_redirects=False)
    assert host.status_code == 404
    # Every request is in the log (read it once all four are written), and no secret.
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and len(re.findall(r'"GET /e/', log.read_text())) < 4:
        time.sleep(0.1)
    text = log.read_text()
    assert len(re.findall(r'"GET /e/', text)) >= 4, text
    for secret in (MODERATOR_KEY, token, "wrong-key-but-still-a-secret", "0123456789abcdef0123456789abcdef"):
        assert secret not in text
    assert "key=[hidden]" in text and "/p/[hidden]" in text


def _personal_token(r) -> str:
    """A personal link's token, made as `plein import-registrations` makes them."""
    from rooms.program import load_program
    from rooms.registrations import import_registrations, parse_registrations
    from support import SEED
    program = load_program(SEED)
    rows, problems = parse_registrations("name,email\nAnna,anna@example.org\n", program)
    assert not problems
    result = import_registrations(r, program, rows, "http://x")
    return result.imported[0].token


def test_plein_serve_writes_no_request_log(server, r):
    """`plein serve` runs gevent's WSGI server without an access log: only its banner names the key."""
    token = _personal_token(r)
    event = f"{server.url}/e/{SLUG}"
    assert requests.get(f"{event}/moderator?key={MODERATOR_KEY}", allow_redirects=False).status_code == 303
    assert requests.get(f"{event}/p/{token}", allow_redirects=False).status_code == 303
    assert requests.get(f"{event}/moderator?key=wrong-key-but-still-a-secret").status_code == 403
    output = server.output()
    assert token not in output and "wrong-key-but-still-a-secret" not in output
    assert [line.split()[0] for line in output.splitlines() if MODERATOR_KEY in line] == ["Moderator:"]
