"""Removing a participant from the evening (issue 9, item 6), over a real server, Socket.IO clients and Redis."""
from __future__ import annotations

import time

import pytest
import requests
import socketio

from support import CONSOLE_PROGRAM, MODERATOR_KEY

pytestmark = pytest.mark.socket

PROGRAM = ("--program", str(CONSOLE_PROGRAM))


def seated(server, listen, name: str, session: str):
    joined = server.join(name)
    client = listen(server, joined["token"])
    assert server.call("POST", f"/participants/{joined['id']}/move", {"session": session}).ok
    client.wait_for(lambda d: d["room"] and d["room"]["session"]["id"] == session)
    return joined, client


def test_a_removed_participant_is_out_at_once_everywhere(start_server, listen):
    server = start_server(*PROGRAM)
    server.clock("start")
    mod = listen(server, auth={"moderator_key": MODERATOR_KEY})
    troll, troll_client = seated(server, listen, "Trol", "zaal-1")
    other, other_client = seated(server, listen, "Anna", "zaal-1")
    troll_client.call("help:ask", {"text": "haha"})
    taken = {r["session"]: r["seated"] for r in server.call("GET", "/console").json()["rooms"] if r["session"]}

    resp = server.call("POST", f"/participants/{troll['id']}/remove")
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"participant": {"id": troll["id"], "name": "Trol"}, "removed": True}
    assert troll_client.wait_for(lambda d: True, 5, event="auth:removed") == {"by": "API"}
    deadline = time.monotonic() + 5  # closed by the server (this client does not reconnect by itself)
    while troll_client.sio.connected and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not troll_client.sio.connected

    # Their token no longer opens anything: HTTP, Socket.IO.
    assert requests.get(server.api("/participants/me/state"), headers={"Authorization": f"Bearer {troll['token']}"},
                        timeout=5).status_code == 401
    again = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        again.connect(server.url, auth={"token": troll["token"]}, transports=["websocket"], wait_timeout=5)
    # Their seat is free, their help request closed, they are in no list; the audit says who did it.
    console = mod.wait_for(lambda d: troll["id"] not in {p["id"] for r in d["rooms"] for p in r["present"]}, 5,
                           event="console")
    rooms = {r["session"]: r for r in console["rooms"] if r["session"]}
    assert rooms["zaal-1"]["seated"] == taken["zaal-1"] - 1
    assert troll["id"] not in {p["id"] for p in console["not_connected"]} and console["help"] == []
    assert console["totals"]["participants"] == 1
    assert any(e["action"] == "remove" and e["details"]["participant"]["name"] == "Trol" for e in console["audit"])
    # Everyone else goes on.
    assert other_client.call("help:ask", {"text": "Ik hoor niets"})["ok"] is True
    assert server.call("POST", f"/participants/{troll['id']}/remove").status_code == 404


def test_a_host_removes_only_in_their_own_room_and_a_participant_not_at_all(start_server, listen):
    server = start_server(*PROGRAM)
    server.clock("start")
    host, host_client = seated(server, listen, "Hanna Host", "zaal-2")
    assert server.call("POST", f"/participants/{host['id']}/host", {"session": "zaal-2", "host": True}).ok
    host_client.wait_for(lambda d: d.get("hosting") == ["zaal-2"])
    mine, mine_client = seated(server, listen, "Stoorzender", "zaal-2")
    elsewhere, _ = seated(server, listen, "Elders", "zaal-3")
    assert host_client.call("mod:remove", {"participant": elsewhere["id"]})["error"]["code"] == "host_only"
    assert host_client.call("mod:remove", {"participant": host["id"]})["error"]["code"] == "remove_self"
    assert mine_client.call("mod:remove", {"participant": host["id"]})["error"]["code"] == "moderator_only"
    done = host_client.call("mod:remove", {"participant": mine["id"]})
    assert done["ok"] is True and done["result"]["removed"] is True
    assert mine_client.wait_for(lambda d: True, 5, event="auth:removed") == {"by": "Hanna Host"}
