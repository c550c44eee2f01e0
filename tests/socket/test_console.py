"""The moderator console over real server processes, real Socket.IO clients and a real Redis."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import jwt
import pytest
import requests

from support import CONSOLE_PROGRAM, MODERATOR_KEY, ROOT, SLUG, redis_snapshot

pytestmark = pytest.mark.socket

PROGRAM = ("--program", str(CONSOLE_PROGRAM))
KEYS = f"plein:{{{SLUG}}}:"


def rooms_by_session(console: dict) -> dict[str, dict]:
    return {room["session"]: room for room in console["rooms"] if room["session"]}


def join_and_connect(server, listen, n: int, prefix: str = "Deelnemer"):
    """n participants signed up and connected side by side: [(joined, listener)] in sign-up order."""
    joined = [server.join(f"{prefix} {i:02d}") for i in range(n)]
    with ThreadPoolExecutor(16) as pool:
        clients = list(pool.map(lambda p: listen(server, p["token"]), joined))
    return list(zip(joined, clients))


def test_fifty_participants_in_five_rooms_counts_broadcast_and_move(start_server, listen):
    """The issue's socket test: counts match per room, a room broadcast reaches exactly that room, a move reaches
    exactly that participant and the counts follow."""
    server = start_server(*PROGRAM)
    mod = listen(server, auth={"moderator_key": MODERATOR_KEY})
    assert server.clock("start").json()["phase"]["id"] == "vijf"
    people = join_and_connect(server, listen, 50)
    room_of = {}
    for joined, client in people:
        room_of[joined["id"]] = client.wait_for(lambda d: d["room"] is not None)["room"]["session"]["id"]
    assert Counter(room_of.values()) == {f"zaal-{i}": 10 for i in range(1, 6)}

    pushed = mod.wait_for(lambda d: d["totals"]["connected"] == 50, 5, event="console")
    fetched = server.call("GET", "/console").json()
    for console in (pushed, fetched):
        assert console["totals"] == {"participants": 50, "connected": 50, "not_connected": 0}
        rooms = rooms_by_session(console)
        assert sorted(rooms) == [f"zaal-{i}" for i in range(1, 6)]
        for sid, room in rooms.items():
            assert room["count"] == 10 and room["seated"] == 10 and room["capacity"] == 20
            assert {p["id"] for p in room["present"]} == {pid for pid, s in room_of.items() if s == sid}
            assert room["jitsi"] == {"count": None, "status": "off"}
        assert console["not_connected"] == [] and console["jitsi_sizes"] is False

    # A broadcast to one room reaches exactly that room's sockets.
    marks = {joined["id"]: client.mark() for joined, client in people}
    mod_mark = mod.mark()
    resp = server.call("POST", "/broadcasts", {"text": "Zaal drie: nog vijf minuten", "session": "zaal-3"})
    assert resp.status_code == 201, resp.text
    item = resp.json()
    assert item["session"] == {"id": "zaal-3", "title": "Zaal drie"} and item["from"] == "API"
    for joined, client in people:
        if room_of[joined["id"]] == "zaal-3":
            assert client.wait_for(lambda d: d["id"] == item["id"], 3, event="broadcast") == item
    time.sleep(0.5)
    got = {joined["id"] for joined, client in people if client.received("broadcast", marks[joined["id"]])}
    assert got == {pid for pid, s in room_of.items() if s == "zaal-3"}
    assert not mod.received("broadcast", mod_mark)

    # A move reaches exactly that participant, at once, and the console follows.
    mover, mover_client = next((j, c) for j, c in people if room_of[j["id"]] == "zaal-3")
    marks = {joined["id"]: client.mark() for joined, client in people}
    resp = server.call("POST", f"/participants/{mover['id']}/move", {"session": "zaal-1"})
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"participant": {"id": mover["id"], "name": mover["name"]}, "round": "vijf",
                           "from": "zaal-3", "to": "zaal-1", "taken": 11, "capacity": 20, "over_capacity": False}
    moved = mover_client.wait_for(lambda d: True, 3, event="moved", start=marks[mover["id"]])
    assert moved == {"round": "vijf", "from": {"id": "zaal-3", "title": "Zaal drie"},
                     "to": {"id": "zaal-1", "title": "Zaal een"}, "by": "API"}
    state = mover_client.wait_for(lambda d: d["room"]["session"]["id"] == "zaal-1", 3, start=marks[mover["id"]])
    assert state["phase"]["id"] == "vijf"
    console = mod.wait_for(lambda d: rooms_by_session(d)["zaal-1"]["count"] == 11, 5, event="console")
    assert rooms_by_session(console)["zaal-3"]["count"] == 9
    assert mover["id"] in {p["id"] for p in rooms_by_session(console)["zaal-1"]["present"]}
    time.sleep(0.3)
    assert [j["id"] for j, c in people if c.received("moved", marks[j["id"]])] == [mover["id"]]
    # Its sockets changed Socket.IO rooms too: a broadcast to zaal-3 no longer reaches them, one to zaal-1 does.
    mark = mover_client.mark()
    old = server.call("POST", "/broadcasts", {"text": "Alleen drie", "session": "zaal-3"}).json()
    new = server.call("POST", "/broadcasts", {"text": "Alleen een", "session": "zaal-1"}).json()
    mover_client.wait_for(lambda d: d["id"] == new["id"], 3, event="broadcast", start=mark)
    assert old["id"] not in {b["id"] for b in mover_client.received("broadcast", mark)}


MOD_EVENTS = [
    ("mod:clock", {"action": "advance"}),
    ("mod:clock", {"action": "end"}),
    ("mod:broadcast", {"text": "Iedereen!"}),
    ("mod:broadcast", {"text": "Mijn zaal", "session": "zaal-1"}),
    ("mod:move", {"participant": "<self>", "session": "zaal-2"}),
    ("mod:signup", {"open": False}),
    ("mod:lock", {"round": "twee", "locked": True}),
    ("mod:host", {"participant": "<self>", "session": "zaal-1", "host": True}),
    ("mod:help:answer", {"id": "<help>", "text": "Klik op de knop"}),
    ("mod:help:done", {"id": "<help>"}),
    ("mod:console", {}),
    ("mod:console", None),
    ("mod:clock", "advance"),
]


def test_every_moderator_event_from_a_participant_is_refused_and_changes_nothing(start_server, listen, r):
    server = start_server(*PROGRAM)
    mod = listen(server, auth={"moderator_key": MODERATOR_KEY})
    server.clock("start")
    me = server.join("Nieuwsgierig")
    other = server.join("Buur")
    client = listen(server, auth={"token": me["token"], "lang": "en"})
    neighbour = listen(server, other["token"])
    client.wait_for(lambda d: d["room"] is not None)
    asked = client.call("help:ask", {"text": "Ik kom er niet uit"})
    assert asked["ok"] is True and asked["request"]["status"] == "open"
    help_id = asked["request"]["id"]
    mod.wait_for(lambda d: d["help"] and d["totals"]["connected"] == 2, 5, event="console")  # all told: now quiet
    before, version = redis_snapshot(r), server.call("GET", "/state").json()["version"]
    audit = len(server.call("GET", "/audit").json()["entries"])
    marks = (client.mark(), neighbour.mark(), mod.mark())
    for event, body in MOD_EVENTS:
        if isinstance(body, dict):
            body = {k: {"<self>": me["id"], "<help>": help_id}.get(v, v) for k, v in body.items()}
        answer = client.call(event, body)
        assert answer == {"error": {"code": "moderator_only", "message": "Only a moderator can do this."}}, event
    time.sleep(0.5)
    assert redis_snapshot(r) == before
    assert server.call("GET", "/state").json()["version"] == version
    assert len(server.call("GET", "/audit").json()["entries"]) == audit
    for listener, mark in zip((client, neighbour, mod), marks):
        assert [e for e, _ in listener.events[mark:]] == [], listener.events[mark:]
    # The same events from the moderator's socket are done (one, to show the difference).
    answer = mod.call("mod:help:answer", {"id": help_id, "text": "Klik op de knop"})
    assert answer["ok"] is True and answer["result"]["status"] == "answered"
    assert client.wait_for(lambda d: d["id"] == help_id, 3, event="help:answer")["messages"][-1]["from"] == "moderator"


def test_help_request_over_sockets_reaches_the_console_and_back(start_server, listen):
    server = start_server(*PROGRAM)
    server.clock("start")
    mod = listen(server, auth={"moderator_key": MODERATOR_KEY})
    joined = server.join("Hulpvrager")
    client = listen(server, joined["token"])
    room = client.wait_for(lambda d: d["room"] is not None)["room"]
    assert client.call("help:ask", None)["error"]["code"] == "bad_json"
    assert client.call("help:ask", {"text": "x" * 501})["error"]["code"] == "help_too_long"
    request_ = client.call("help:ask", {"text": "ik kom er niet uit"})["request"]
    assert request_["name"] == "Hulpvrager" and request_["room"]["session"] == room["session"]["id"]
    console = mod.wait_for(lambda d: d["help"], 5, event="console")
    assert [(h["id"], h["status"], h["messages"][0]["text"]) for h in console["help"]] == [
        (request_["id"], "open", "ik kom er niet uit")]
    answered = mod.call("mod:help:answer", {"id": request_["id"], "text": "Ververs de pagina"})["result"]
    got = client.wait_for(lambda d: d["status"] == "answered", 3, event="help:answer")
    assert got == answered and got["messages"][-1]["text"] == "Ververs de pagina"
    # A page that reconnects is told about its open request.
    client.close()
    again = listen(server, joined["token"])
    assert again.wait_for(lambda d: True, 3, event="help:status")["id"] == request_["id"]
    done = mod.call("mod:help:done", {"id": request_["id"]})["result"]
    assert again.wait_for(lambda d: True, 3, event="help:done") == done and done["status"] == "done"
    mod.wait_for(lambda d: not d["help"], 5, event="console")
    assert mod.call("mod:help:done", {"id": request_["id"]})["error"]["code"] == "help_done_already"
    assert mod.call("mod:help:done", {"id": "nope"})["error"]["code"] == "unknown_help"


def test_console_pushes_at_most_once_a_second_and_a_killed_workers_sockets_disappear(start_server, listen):
    """Two workers with a 2 s presence expiry: 30 participants connect in a burst (the console follows, at most
    one push a second); then the worker holding half of them is killed and its sockets stop counting."""
    env = {"PLEIN_PRESENCE_TTL": "2"}
    a = start_server(env=env)
    b = start_server(env=env)
    mod = listen(b, auth={"moderator_key": MODERATOR_KEY})
    people = [b.join(f"P{i}") for i in range(30)]
    start = time.monotonic()
    for i, p in enumerate(people):
        listen(a if i % 2 == 0 else b, p["token"])
        time.sleep(0.08)
    mod.wait_for(lambda d: d["totals"]["connected"] == 30, 5, event="console")
    # let the burst settle, then count the pushes that came with it
    time.sleep(1.5)
    times = [t for (e, _), t in zip(mod.events, mod.times) if e == "console" and t >= start]
    gaps = [later - earlier for earlier, later in zip(times, times[1:])]
    assert len(times) >= 2 and min(gaps) > 0.75, gaps  # a 950 ms slot in Redis, plus delivery jitter
    assert len(times) <= (times[-1] - start) + 1.5
    # Nothing changes: no pushes.
    quiet = mod.mark()
    time.sleep(1.5)
    assert not mod.received("console", quiet)

    a.stop(kill=True)  # no disconnect handler runs; only the expiry of its heartbeat tells
    killed = time.monotonic()
    pushed = mod.wait_for(lambda d: d["totals"]["connected"] == 15, 6, event="console", start=quiet)
    assert time.monotonic() - killed < 5
    assert pushed["totals"] == {"participants": 30, "connected": 15, "not_connected": 15}
    names = {p["name"] for p in pushed["not_connected"]}
    assert names == {f"P{i}" for i in range(0, 30, 2)}
    fetched = b.call("GET", "/console").json()
    assert fetched["totals"] == pushed["totals"]


def test_jitsi_room_sizes_beside_ours_and_unknown_when_jitsi_fails(start_server, listen, room_size, r):
    server = start_server(*PROGRAM, env={"JITSI_ROOM_SIZE_URL": room_size.url, "JITSI_MUC_DOMAIN": "muc.meet.test",
                                         "JITSI_ROOM_SIZE_INTERVAL": "0.2"})  # 1 s at least
    server.clock("start")
    rooms = rooms_by_session(server.call("GET", "/console").json())
    room_size.sizes = {rooms["zaal-1"]["jitsi_room"]: 4, rooms["zaal-2"]["jitsi_room"]: 0}

    def console_when(predicate, timeout=5.0):
        deadline = time.monotonic() + timeout
        while True:
            resp = server.call("GET", "/console")
            assert resp.status_code == 200
            if predicate(rooms_by_session(resp.json())) or time.monotonic() > deadline:
                return resp.json()
            time.sleep(0.1)

    console = console_when(lambda rs: rs["zaal-1"]["jitsi"]["status"] == "ok")
    assert console["jitsi_sizes"] is True
    jitsi = {sid: room["jitsi"] for sid, room in rooms_by_session(console).items()}
    assert jitsi == {"zaal-1": {"count": 4, "status": "ok"}, "zaal-2": {"count": 0, "status": "ok"},
                     **{f"zaal-{i}": {"count": 0, "status": "ok"} for i in (3, 4, 5)}}  # 404: nobody there
    assert {domain for _, domain in room_size.requests} == {"meet.test"}  # the module adds its "muc." itself
    assert {room for room, _ in room_size.requests} == {room["jitsi_room"] for room in rooms.values()}

    room_size.mode = "500"
    console = console_when(lambda rs: rs["zaal-1"]["jitsi"]["status"] == "unknown")
    assert rooms_by_session(console)["zaal-1"]["jitsi"] == {"count": None, "status": "unknown"}
    backoff = json.loads(r.get(KEYS + "jitsi:poll"))
    assert backoff["ok"] is False and backoff["failures"] >= 1 and "500" in backoff["error"]
    assert backoff["next_at"] - backoff["at"] == pytest.approx(2 ** backoff["failures"])  # 1 s, doubling
    asked = len(room_size.requests)
    if backoff["next_at"] - time.time() > 1.2:
        time.sleep(1.0)  # waiting out the backoff: nobody asked meanwhile
        assert len(room_size.requests) == asked

    room_size.close()  # stops answering altogether: the page still works, the counts stay unknown
    resp = server.call("GET", "/console")
    assert resp.status_code == 200
    assert {room["jitsi"]["status"] for room in resp.json()["rooms"]} == {"unknown"}


def test_key_rotation_signs_moderator_sockets_out(start_server, listen, r):
    server = start_server(env={"PLEIN_MODERATOR_KEY": ""})  # generated, kept in Redis, so it can rotate
    old = r.get(KEYS + "moderator-key")
    assert len(old) >= 22
    mod = listen(server, auth={"moderator_key": old})
    participant = listen(server, server.join("Blijft")["token"])
    assert mod.call("mod:console")["ok"] is True
    resp = server.call("POST", "/moderator-key/rotate", key=old)
    assert resp.status_code == 200, resp.text
    new = resp.json()["key"]
    assert new != old and resp.json()["link"].endswith(f"/e/{SLUG}/moderator#key={new}")
    assert mod.wait_for(lambda d: True, 3, event="auth:revoked") == {"by": "API"}
    refused = mod.call("mod:console")
    assert refused["error"]["code"] == "moderator_only"
    assert mod.call("mod:clock", {"action": "start"})["error"]["code"] == "moderator_only"
    assert server.call("GET", "/console", key=old).status_code == 401
    assert server.call("GET", "/console", key=new).status_code == 200
    assert participant.call("state:get")["ok"] is True  # participants are not affected
    fresh = listen(server, auth={"moderator_key": new})
    assert fresh.call("mod:console")["ok"] is True
    # The signed-out socket hears nothing more of the evening: no clock, no console overview.
    old_mark, fresh_mark = mod.mark(), fresh.mark()
    assert server.call("POST", "/clock", {"action": "start"}, key=new).status_code == 200
    fresh.wait_for(lambda d: d["phase"] is not None, 3, start=fresh_mark)
    fresh.wait_for(lambda d: True, 3, event="console", start=fresh_mark)
    time.sleep(1.5)  # past the next console push
    assert mod.received("state", old_mark) == [] and mod.received("console", old_mark) == []
    entries = server.call("GET", "/audit", key=new).json()["entries"]
    assert [e["action"] for e in entries] == ["rotate_key", "clock"]


def test_plein_rotate_moderator_key_command(r, redis_url):
    env = {**os.environ, "REDIS_URL": redis_url, "PLEIN_MODERATOR_KEY": "", "PLEIN_PUBLIC_URL": "https://plein.test"}
    r.set(KEYS + "moderator-key", "the-old-key-0123456789abcdef")
    done = subprocess.run([sys.executable, "-m", "server.cli", "rotate-moderator-key"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    new = r.get(KEYS + "moderator-key")
    assert new != "the-old-key-0123456789abcdef" and len(new) >= 43
    assert f"https://plein.test/e/{SLUG}/moderator#key={new}" in done.stdout
    entry = json.loads(r.lindex(KEYS + "audit", -1))
    assert entry["action"] == "rotate_key" and entry["who"] == {"kind": "moderator", "name": "CLI", "id": "cli"}
    env["PLEIN_MODERATOR_KEY"] = "a-configured-moderator-key-0123456789"
    refused = subprocess.run([sys.executable, "-m", "server.cli", "rotate-moderator-key"], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=30)
    assert refused.returncode == 1 and "PLEIN_MODERATOR_KEY" in refused.stderr
    assert r.get(KEYS + "moderator-key") == new


def moderator_page_config(server) -> dict:
    """The moderator page's JSON config (host links and all), as a signed-in moderator sees it."""
    page = requests.Session()
    html = page.get(f"{server.url}/e/{SLUG}/moderator?key={MODERATOR_KEY}", timeout=5).text
    return json.loads(html.split('id="plein-config">', 1)[1].split("</script>", 1)[0])


def test_a_host_steers_their_own_room_only(start_server, listen):
    """Host link -> host rights in that room: Jitsi moderator there (JWT), broadcasts and help to that room,
    the room's presence pushed; refused elsewhere and for moderator-only actions."""
    secret = "jitsi-app-secret-for-tests-0123456789"
    server = start_server(*PROGRAM, env={"JITSI_APP_ID": "plein-test", "JITSI_APP_SECRET": secret})
    server.clock("start")
    mod = listen(server, auth={"moderator_key": MODERATOR_KEY})
    http = requests.Session()
    assert http.post(f"{server.url}/e/{SLUG}/join", data={"name": "Hanna Host"}, allow_redirects=False).status_code == 303
    link = moderator_page_config(server)["links"]["hosts"]["zaal-2"]
    assert link.startswith(f"{server.url}/e/{SLUG}/host/zaal-2/")
    assert http.get(link, allow_redirects=False, timeout=5).headers["Location"].endswith(f"/e/{SLUG}/live")
    cookie = "; ".join(f"{k}={v}" for k, v in http.cookies.items())
    host = listen(server, headers={"Cookie": cookie})
    mine = host.call("state:get")["state"]
    assert mine["hosting"] == ["zaal-2"] and mine["room"]["session"]["id"] == "zaal-2"
    claims = jwt.decode(mine["room"]["jwt"], secret, algorithms=["HS256"], audience="jitsi")
    assert claims["context"]["user"]["moderator"] == "true" and claims["context"]["user"]["affiliation"] == "owner"
    nxt = jwt.decode(mine["next_room"]["jwt"], secret, algorithms=["HS256"], audience="jitsi")
    assert nxt["context"]["user"]["moderator"] == "false" and nxt["context"]["user"]["affiliation"] == "member"

    guest = server.join("Gast")
    guest_client = listen(server, guest["token"])
    guest_room = guest_client.wait_for(lambda d: d["room"] is not None)["room"]["session"]["id"]
    server.call("POST", f"/participants/{guest['id']}/move", {"session": "zaal-2"})
    if guest_room != "zaal-2":
        guest_client.wait_for(lambda d: True, 3, event="moved")
    sent = host.call("mod:broadcast", {"text": "Welkom in zaal twee", "session": "zaal-2"})
    assert sent["ok"] is True and sent["result"]["from"] == "Hanna Host"
    assert guest_client.wait_for(lambda d: d["id"] == sent["result"]["id"], 3, event="broadcast")
    for event, body, code in [
        ("mod:broadcast", {"text": "Andere zaal", "session": "zaal-3"}, "host_only"),
        ("mod:broadcast", {"text": "Iedereen"}, "host_only"),
        ("mod:clock", {"action": "advance"}, "moderator_only"),
        ("mod:move", {"participant": guest["id"], "session": "zaal-3"}, "moderator_only"),
        ("mod:console", {}, "moderator_only"),
    ]:
        assert host.call(event, body)["error"]["code"] == code, event
    room = host.wait_for(lambda d: guest["id"] in {p["id"] for p in d["present"]}, 5, event="host:room")
    assert room["session"] == "zaal-2" and [h["name"] for h in room["hosts"]] == ["Hanna Host"]
    asked = guest_client.call("help:ask", {"text": "Geen geluid"})["request"]
    answer = host.call("mod:help:answer", {"id": asked["id"], "text": "Zet je microfoon aan"})
    assert answer["ok"] is True and answer["result"]["messages"][-1]["from"] == "host"
    assert guest_client.wait_for(lambda d: True, 3, event="help:answer")["messages"][-1]["name"] == "Hanna Host"
    entries = server.call("GET", "/audit").json()["entries"]
    assert ("participant", "Hanna Host", "host") in {(e["who"]["kind"], e["who"]["name"], e["action"]) for e in entries}
    assert ("host", "broadcast") in {(e["who"]["kind"], e["action"]) for e in entries}
