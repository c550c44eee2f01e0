"""Jitsi roles as the pages report them, and the console's warning, over real server processes and Socket.IO."""
from __future__ import annotations

import jwt
import pytest

from support import CONSOLE_PROGRAM, MODERATOR_KEY, redis_snapshot

pytestmark = pytest.mark.socket

PROGRAM = ("--program", str(CONSOLE_PROGRAM))
SECRET = "jitsi-app-secret-for-tests-0123456789"


def in_room(server, listen, name: str, session: str):
    """A participant, connected and moved into `session` of the running round: (joined, client, room)."""
    joined = server.join(name)
    client = listen(server, joined["token"])
    assert server.call("POST", f"/participants/{joined['id']}/move", {"session": session}).status_code == 200
    room = client.wait_for(lambda d: d["room"] and d["room"]["session"]["id"] == session)["room"]
    return joined, client, room


def rights(mod, predicate):
    """The next console push whose `jitsi_rights` satisfies predicate: (rights, rooms by session)."""
    pushed = mod.wait_for(lambda d: predicate(d["jitsi_rights"]), 5, event="console")
    return pushed["jitsi_rights"], {r["session"]: r for r in pushed["rooms"] if r["session"]}


def test_console_shows_who_holds_jitsi_rights_and_warns_when_they_went_to_the_wrong_people(start_server, listen):
    server = start_server(*PROGRAM, env={"JITSI_APP_ID": "plein-test", "JITSI_APP_SECRET": SECRET})
    server.clock("start")
    mod = listen(server, auth={"moderator_key": MODERATOR_KEY})
    host, host_client, room = in_room(server, listen, "Hanna Host", "zaal-2")
    assert server.call("POST", f"/participants/{host['id']}/host", {"session": "zaal-2", "host": True}).ok
    guest, guest_client, guest_room = in_room(server, listen, "Gijs Gast", "zaal-2")
    other, other_client, other_room = in_room(server, listen, "Olga", "zaal-3")
    assert room["name"] == guest_room["name"] != other_room["name"]
    assert room["jitsi_room"] == room["name"]  # only JaaS puts the AppID in front

    summary, _ = rights(mod, lambda j: True)
    assert summary["status"] == "unknown" and summary["mode"] == "tokens"  # no page has said anything yet

    # The roles the tokens ask for: the host is a moderator, the others are not. No warning.
    assert host_client.call("jitsi:role", {"room": room["name"], "role": "moderator"})["ok"] is True
    assert guest_client.call("jitsi:role", {"room": room["name"], "role": "participant"})["ok"] is True
    assert other_client.call("jitsi:role", {"room": other_room["name"], "role": "participant"})["ok"] is True
    summary, rooms = rights(mod, lambda j: j["reported"] == 3)
    assert summary["status"] == "ok" and summary["non_hosts"] == [] and summary["hosts_lacking"] == []
    assert [p["name"] for p in rooms["zaal-2"]["video_roles"]["moderators"]] == ["Hanna Host"]
    assert rooms["zaal-3"]["video_roles"]["moderators"] == []

    # A participant who is not the host says Jitsi made them moderator: the first to arrive, not everyone.
    other_client.call("jitsi:role", {"room": other_room["name"], "role": "moderator"})
    summary, rooms = rights(mod, lambda j: j["status"] == "warning")
    assert summary["cause"] == "first"
    assert summary["non_hosts"] == [{"name": "Olga", "id": other["id"], "room": "Zaal drie"}]
    # ... and in a room where everyone who reported is a moderator: Jitsi makes everyone one.
    guest_client.call("jitsi:role", {"room": room["name"], "role": "moderator"})
    summary, _ = rights(mod, lambda j: j["cause"] == "everyone")
    assert {p["name"] for p in summary["non_hosts"]} == {"Olga", "Gijs Gast"}

    # A host without rights is a warning of its own.
    host_client.call("jitsi:role", {"room": room["name"], "role": "participant"})
    summary, _ = rights(mod, lambda j: j["hosts_lacking"])
    assert summary["hosts_lacking"] == [{"name": "Hanna Host", "id": host["id"], "room": "Zaal twee"}]

    # Leaving the room ("none") takes the claim away; a claim for a room one is no longer in does not count.
    guest_client.call("jitsi:role", {"room": room["name"], "role": "none"})
    host_client.call("jitsi:role", {"room": room["name"], "role": "moderator"})
    assert server.call("POST", f"/participants/{other['id']}/move", {"session": "zaal-4"}).ok
    summary, rooms = rights(mod, lambda j: j["status"] == "ok" and j["reported"] == 1)
    assert [p["name"] for p in rooms["zaal-2"]["video_roles"]["moderators"]] == ["Hanna Host"]
    assert rooms["zaal-4"]["video_roles"]["reported"] == 0


def test_a_role_report_is_a_claim_not_a_right(start_server, listen, r):
    """Saying 'moderator' changes nothing but the console's warning: the token, the host rights and every
    refusal stay as they were; a malformed report is refused with a code and stores nothing."""
    server = start_server(*PROGRAM, env={"JITSI_APP_ID": "plein-test", "JITSI_APP_SECRET": SECRET})
    server.clock("start")
    guest, client, room = in_room(server, listen, "Gijs Gast", "zaal-1")
    before = redis_snapshot(r)
    for bad in [None, "moderator", {}, {"room": room["name"]}, {"room": room["name"], "role": "owner"},
                {"room": "Zaal Een!", "role": "moderator"}, {"room": "x" * 101, "role": "moderator"},
                {"room": ["a"], "role": "moderator"}]:
        answer = client.call("jitsi:role", bad)
        assert answer["error"]["code"] == "bad_role_report", bad
        assert "Jitsi" in answer["error"]["message"]
    assert redis_snapshot(r) == before
    mod = listen(server, auth={"moderator_key": MODERATOR_KEY})
    assert mod.call("jitsi:role", {"room": room["name"], "role": "moderator"})["error"]["code"] == "unauthorized"

    assert client.call("jitsi:role", {"room": room["name"], "role": "moderator"})["ok"] is True
    state = client.call("state:get")["state"]
    claims = jwt.decode(state["room"]["jwt"], SECRET, algorithms=["HS256"], audience="jitsi")
    assert claims["context"]["user"]["moderator"] == "false" and state["hosting"] == []
    assert client.call("mod:broadcast", {"text": "Ik ben de baas", "session": "zaal-1"})["error"]["code"] == "moderator_only"
