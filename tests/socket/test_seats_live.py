"""Seats over real server processes: a rush on one session, placement and switching moving live sockets."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from support import SEED

pytestmark = pytest.mark.socket


def program_with(tmp_path, **capacities) -> str:
    """The seed evening with some sessions' capacities changed."""
    text = SEED.read_text(encoding="utf-8")
    for session_id, capacity in capacities.items():
        start = text.index(f'id = "{session_id}"')
        at = text.index("capacity = ", start)
        end = text.index("\n", at)
        text = text[:at] + f"capacity = {capacity}" + text[end:]
    path = tmp_path / "program.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def choose(server, token: str, body: dict) -> requests.Response:
    return requests.put(server.api("/participants/me/choices"), json=body,
                        headers={"Authorization": f"Bearer {token}"}, timeout=30)


def test_a_rush_on_one_session_over_two_workers_never_exceeds_its_capacity(start_server, tmp_path):
    """200 participants choose a session of capacity 50 at the same instant: exactly 50 get it, 150 a 409."""
    program = program_with(tmp_path, **{"cooperatieve-tech": 50})
    # 200 sign-ups from this one address in a second or two: more than a hall's burst (PLEIN_LIMIT_SIGNUP)
    roomy = {"PLEIN_LIMIT_SIGNUP": "200/600"}
    servers = [start_server("--program", program, env=roomy), start_server("--program", program, env=roomy)]
    with ThreadPoolExecutor(32) as pool:
        tokens = list(pool.map(lambda i: servers[i % 2].join(f"Deelnemer {i}")["token"], range(200)))
    gate = threading.Barrier(50)

    def rush(i: int) -> int:
        if i < 50:
            gate.wait()  # the first fifty leave together; the rest follow as threads free up
        return choose(servers[i % 2], tokens[i], {"ronde-1": "cooperatieve-tech"}).status_code

    with ThreadPoolExecutor(50) as pool:
        codes = list(pool.map(rush, range(200)))
    assert codes.count(200) == 50 and codes.count(409) == 150
    event = requests.get(servers[0].api("")).json()
    tech = next(s for p in event["phases"] for s in p["sessions"] if s["id"] == "cooperatieve-tech")
    assert tech["taken"] == 50 and tech["places_left"] == 0
    refused = choose(servers[1], tokens[-1], {"ronde-1": "cooperatieve-tech"}).json()["error"]
    assert refused["code"] == "session_full" and refused["suggestions"][0]["places_left"] == 200


def test_people_placed_at_the_round_start_hear_the_rest_of_the_round(server, listen):
    """Placed at the start, their sockets join the session's room first: a later extend reaches them."""
    quiet = [server.join(f"Geen keuze {i}") for i in range(3)]
    clients = [listen(server, p["token"]) for p in quiet]
    version = server.clock("start").json()["version"]
    rooms = [c.wait_for(lambda d: d["version"] == version and d["phase"] is not None, 2.0)["room"] for c in clients]
    assert all(room and room["session"] for room in rooms)
    assert sorted(r["session"]["id"] for r in rooms) == ["voedsel-zorg", "wonen-energie", "wonen-energie"]
    extended = server.clock("extend", 5).json()
    for c, room in zip(clients, rooms):
        got = c.wait_for(lambda d: d["version"] == extended["version"], 2.0)
        assert got["room"]["name"] == room["name"]


def test_switching_mid_round_moves_the_participant_at_once(server, listen):
    joined = server.join("Wisselaar")
    client = listen(server, joined["token"])
    assert choose(server, joined["token"], {"in-beeld": "wonen-energie"}).status_code == 200
    server.clock("start")
    before = client.wait_for(lambda d: d["phase"] is not None, 2.0)["room"]
    assert before["session"]["id"] == "wonen-energie"
    mark = client.mark()
    assert choose(server, joined["token"], {"in-beeld": "voedsel-zorg"}).status_code == 200
    moved = client.wait_for(lambda d: d["room"] and d["room"]["session"]["id"] == "voedsel-zorg", 2.0, start=mark)
    assert moved["room"]["name"] != before["name"] and "jwt" not in moved["room"]  # no token auth configured
    extended = server.clock("extend", 1).json()
    got = client.wait_for(lambda d: d["version"] == extended["version"], 2.0)
    assert got["room"]["session"]["id"] == "voedsel-zorg"  # the socket left the old session's room
    assert not [s for s in client.states()[mark:] if s["room"] and s["room"]["session"]["id"] == "wonen-energie"]
