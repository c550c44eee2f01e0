"""Real server processes, real Socket.IO clients over WebSocket, a real Redis."""
from __future__ import annotations

import time

import jwt
import pytest
import requests
import socketio

pytestmark = pytest.mark.socket


def test_connection_without_valid_token_is_refused(server):
    from support import Listener
    for auth in (None, {"token": "not-a-real-token-at-all"}, {"token": 42}, {"moderator_key": "wrong"},
                 {"token": "x", "lang": "en"}):
        client = Listener(server.url, auth)
        with pytest.raises(socketio.exceptions.ConnectionError):
            client.connect()
        assert client.error["data"]["code"] == "unauthorized"
        english = isinstance(auth, dict) and auth.get("lang") == "en"
        assert client.error["data"]["message"].startswith("You are not" if english else "Je bent niet")


def test_participant_gets_state_on_connect_and_the_moderator_start_reaches_everyone(server, listen):
    clients = [listen(server, server.join(f"Deelnemer {i}")["token"]) for i in range(6)]
    for c in clients:
        first = c.wait_for(lambda d: True)
        assert first["status"] == "waiting" and first["phase"] is None and first["room"] is None
        assert first["next"]["id"] == "in-beeld"
    sent = time.monotonic()
    resp = server.clock("start")
    assert resp.status_code == 200, resp.text
    assert resp.json()["phase"]["id"] == "in-beeld"
    rooms = []
    for c in clients:
        s = c.wait_for(lambda d: d["phase"] and d["phase"]["id"] == "in-beeld", timeout=1.0)
        assert s["version"] == resp.json()["version"]
        assert s["room"]["domain"] and s["room"]["session"]["id"] in ("wonen-energie", "voedsel-zorg")
        rooms.append(s["room"]["session"]["id"])
    assert time.monotonic() - sent < 1.0  # every control reaches every participant within a second
    # provisional placement: fewest participants so far, ties by program order
    assert rooms.count("wonen-energie") == rooms.count("voedsel-zorg") == 3


def test_advance_back_extend_pause_resume_reach_all_participants(server, listen):
    a = listen(server, server.join("Anna")["token"])
    b = listen(server, server.join("Bram")["token"])
    assert server.clock("start").status_code == 200
    for action, check in [
        ("advance", lambda d: d["phase"]["id"] == "pauze-1700"),
        ("advance", lambda d: d["phase"]["id"] == "ronde-1"),
        ("back", lambda d: d["phase"]["id"] == "pauze-1700"),
        ("pause", lambda d: d["paused"] is True),
        ("resume", lambda d: d["paused"] is False),
    ]:
        version = server.clock(action).json()["version"]
        for c in (a, b):
            c.wait_for(lambda d: d["version"] == version and check(d), timeout=1.0)
    before = server.clock("advance").json()
    after = server.clock("extend", 10).json()
    assert after["phase"]["id"] == before["phase"]["id"] == "ronde-1"
    from datetime import datetime
    moved = datetime.fromisoformat(after["phase"]["ends_at"]) - datetime.fromisoformat(before["phase"]["ends_at"])
    assert moved.total_seconds() == pytest.approx(600, abs=0.01)
    for c in (a, b):
        c.wait_for(lambda d: d["version"] == after["version"] and d["phase"]["ends_at"] == after["phase"]["ends_at"],
                   timeout=1.0)


def test_each_participant_is_told_their_own_room(server, listen):
    tokens = [server.join(name)["token"] for name in ("A", "B", "C")]
    clients = [listen(server, t) for t in tokens]
    server.clock("start")
    server.clock("advance")
    server.clock("advance")  # ronde-1: three sessions, one participant each
    rooms = [c.wait_for(lambda d: d["phase"] and d["phase"]["id"] == "ronde-1", 1.0)["room"] for c in clients]
    assert sorted(r["session"]["id"] for r in rooms) == sorted(
        ["toekomst-wooncooperatie", "toolkit-energietransitie", "cooperatieve-tech"])
    assert len({r["name"] for r in rooms}) == 3
    for room in rooms:
        assert room["name"].replace("-", "").isalnum() and room["name"] == room["name"].lower()
        assert len(room["name"]) < 100


def test_reconnect_lands_in_the_same_room_with_the_same_countdown(server, listen):
    token = server.join("Sanne")["token"]
    first = listen(server, token)
    server.clock("start")
    before = first.wait_for(lambda d: d["phase"] is not None)
    first.close()
    again = listen(server, token).wait_for(lambda d: True)
    assert again["room"]["name"] == before["room"]["name"]
    assert again["phase"]["ends_at"] == before["phase"]["ends_at"]
    assert again["version"] == before["version"]


def test_session_cookie_authenticates_the_socket(server, listen):
    http = requests.Session()
    resp = http.post(f"{server.url}/e/cooperatieve-stad-2022/join", data={"name": "Cookie"}, allow_redirects=False)
    assert resp.status_code == 303
    cookie = "; ".join(f"{k}={v}" for k, v in http.cookies.items())
    state = listen(server, headers={"Cookie": cookie}).wait_for(lambda d: True)
    assert state["status"] == "waiting"


def test_moderator_socket_gets_state_without_a_room(server, listen):
    from support import MODERATOR_KEY
    mod = listen(server, auth={"moderator_key": MODERATOR_KEY})
    assert mod.wait_for(lambda d: True)["room"] is None
    server.clock("start")
    assert mod.wait_for(lambda d: d["phase"] is not None, 1.0)["room"] is None


def test_clock_api_refuses_without_key_and_bad_bodies(server):
    url = server.api("/clock")
    assert requests.post(url, json={"action": "start"}).status_code == 401
    wrong = server.clock("start", key="wrong-key")
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "moderator_only"
    from support import MODERATOR_KEY
    auth = {"Authorization": f"Bearer {MODERATOR_KEY}"}
    for body, code in [({"action": "fly"}, "bad_action"), ({}, "bad_field"), ([1], "bad_json"),
                       ({"action": "extend", "minutes": "5"}, "bad_minutes")]:
        resp = requests.post(url, json=body, headers=auth)
        assert resp.status_code == 400 and resp.json()["error"]["code"] == code, (body, resp.text)
    resp = requests.post(url, data="action=start", headers={**auth, "Content-Type": "text/plain"})
    assert resp.status_code == 400 and resp.json()["error"]["code"] == "bad_json"
    assert requests.get(server.api("/state")).json()["version"] == 1  # nothing changed


def test_rehearsal_at_speed_600_plays_every_phase_in_order(start_server, listen):
    """`plein serve --start now --speed 600`: the seed evening in about 36 s, a room in every phase."""
    server = start_server("--start", "now", "--speed", "600")
    client = listen(server, server.join("Repetitie")["token"])
    from rooms.program import load_program
    from support import SEED
    expected = [p.id for p in load_program(SEED).phases]
    client.wait_for(lambda d: d["status"] == "ended", timeout=45)
    seen = []
    for s in client.states():
        if s["phase"] and (not seen or seen[-1][0] != s["phase"]["id"]):
            seen.append((s["phase"]["id"], s["room"]))
    assert [p for p, _ in seen] == expected
    assert all(room and room["name"] for _, room in seen)
    warnings = [d for e, d in client.events if e == "clock:warning"]
    assert [(w["phase"], w["minutes"]) for w in warnings] == [
        (rid, m) for rid in ("in-beeld", "ronde-1", "ronde-2", "ronde-3") for m in (5, 1)]


def test_two_workers_share_the_evening_and_fire_each_transition_once(start_server, listen):
    a = start_server("--start", "now", "--speed", "600")
    b = start_server("--speed", "600")  # joins the stored clock; its ticker competes for the lock
    client_b = listen(b, a.join("Over twee werkers")["token"])
    resp = b.clock("advance")  # a control on worker B ...
    assert resp.status_code == 200
    client_b.wait_for(lambda d: d["version"] == resp.json()["version"], 1.0)  # ... reaches a client of B
    client_b.wait_for(lambda d: d["status"] == "ended", timeout=45)
    changes = [(s["version"], s["phase"] and s["phase"]["id"], s["status"]) for s in client_b.states()]
    assert len(changes) == len(set(changes)), changes  # no transition sent twice


def test_a_restarted_ticker_takes_over_without_repeating(start_server, listen):
    a = start_server("--start", "now", "--speed", "600")
    b = start_server()
    client = listen(b, b.join("Failover")["token"])
    client.wait_for(lambda d: d["phase"] and d["phase"]["id"] == "pauze-1700", timeout=20)
    a.stop(kill=True)  # the leader (probably) dies; the lock expires and b's ticker leads
    client.wait_for(lambda d: d["phase"] and d["phase"]["id"] == "opening", timeout=30)
    changes = [(s["version"], s["phase"] and s["phase"]["id"]) for s in client.states()]
    assert len(changes) == len(set(changes)), changes


def test_jwt_for_exactly_the_participants_room(start_server, listen):
    secret = "jitsi-app-secret-for-tests-0123456789"
    server = start_server(env={"JITSI_APP_ID": "plein-test", "JITSI_APP_SECRET": secret})
    joined = server.join("Jet de Jong")
    client = listen(server, joined["token"])
    server.clock("start")
    shared = client.wait_for(lambda d: d["phase"] is not None, 1.0)
    assert shared["room"]["token_required"] is True and "jwt" not in shared["room"]  # one message per session
    mine = client.call("state:get")["state"]
    room = mine["room"]
    claims = jwt.decode(room["jwt"], secret, algorithms=["HS256"], audience="jitsi")
    assert claims["iss"] == "plein-test" and claims["room"] == room["name"] == shared["room"]["name"]
    assert claims["context"]["user"] == {"id": joined["id"], "name": "Jet de Jong", "moderator": "false",
                                         "affiliation": "member"}
    assert claims["nbf"] <= time.time() < claims["exp"]
    assert claims["sub"] == "127.0.0.1"
    nxt = jwt.decode(mine["next_room"]["jwt"], secret, algorithms=["HS256"], audience="jitsi")
    assert nxt["room"] == mine["next_room"]["name"] != room["name"]
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(room["jwt"], "another-secret-entirely-0123456789", algorithms=["HS256"], audience="jitsi")


def test_the_procfile_web_process_serves_websockets(r, redis_url, tmp_path, listen):
    """The Procfile's gunicorn line (gevent worker) serves the app and Socket.IO over WebSocket."""
    import os
    import shlex
    import subprocess
    import sys
    from pathlib import Path

    from support import MODERATOR_KEY, ROOT, SECRET_KEY, ServerProcess, free_port, stop_process
    line = next(l for l in (ROOT / "Procfile").read_text().splitlines() if l.startswith("web:"))
    port = free_port()
    argv = shlex.split(line[len("web:"):].replace("$PORT", str(port)))
    argv[0] = str(Path(sys.executable).with_name(argv[0]))
    env = {**os.environ, "REDIS_URL": redis_url, "PLEIN_MODERATOR_KEY": MODERATOR_KEY, "PLEIN_SECRET_KEY": SECRET_KEY,
           "PLEIN_INSTANCE": str(tmp_path / "instance")}
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        server = ServerProcess(redis_url, tmp=tmp_path, jitsi=None)
        server.url, server.port = f"http://127.0.0.1:{port}", port
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(server.url + "/healthz", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.2)
        client = listen(server, server.join("Gunicorn")["token"])
        assert client.wait_for(lambda d: True)["status"] == "waiting"
        version = server.clock("start").json()["version"]
        assert client.wait_for(lambda d: d["version"] == version, 1.0)["room"]["name"]
        client.close()  # gunicorn's graceful stop waits for open WebSockets
    finally:
        stop_process(proc, timeout=30)


@pytest.mark.parametrize("kill", [False, True], ids=["stopped", "killed"])
def test_plein_serve_without_redis_url_runs_its_own_redis_and_keeps_the_evening(start_server, tmp_path, kill):
    """The README's first command: no Redis service; a restart keeps participants and the clock; exit (even by
    SIGKILL, through the parent-death signal) stops the embedded redis-server, which keeps its data."""
    from pathlib import Path
    env = {"REDIS_URL": "", "PLEIN_INSTANCE": str(tmp_path / "own-instance")}
    first = start_server(env=env)
    joined = first.join("Blijft bewaard")
    started = first.clock("start").json()
    pid = int((tmp_path / "own-instance" / "redis" / "redis.pid").read_text())

    def running(pid: int) -> bool:  # a zombie (exited, not yet reaped by init) is not running
        try:
            return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
        except OSError:
            return False

    assert running(pid)
    first.stop(kill=kill)
    for _ in range(100):
        if not running(pid):
            break
        time.sleep(0.05)
    assert not running(pid), "the embedded redis-server outlived plein serve"
    second = start_server(env=env)
    me = requests.get(second.api("/participants/me/state"), headers={"Authorization": f"Bearer {joined['token']}"})
    assert me.status_code == 200
    assert me.json()["version"] == started["version"] and me.json()["phase"]["id"] == "in-beeld"


def test_two_deployments_on_one_redis_server_do_not_hear_each_other(start_server, redis_url, listen):
    """Same event, two databases of one Redis server: pub/sub is server-wide, so the queue channel names the db."""
    import redis as redis_client
    base, _, db = redis_url.rpartition("/")
    other_url = f"{base}/{(int(db) + 1) % 16}"
    redis_client.Redis.from_url(other_url).flushdb()
    a = start_server()
    b = start_server(env={"REDIS_URL": other_url})
    here = listen(a, a.join("Hier")["token"])
    there = listen(b, b.join("Daar")["token"])
    a.clock("start")
    version = a.clock("advance").json()["version"]  # the break: one push to every participant of the event
    here.wait_for(lambda d: d["version"] == version and d["phase"]["id"] == "pauze-1700", 2.0)
    time.sleep(0.5)
    assert [s["status"] for s in there.states()] == ["waiting"]
    redis_client.Redis.from_url(other_url).flushdb()
