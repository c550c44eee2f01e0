"""Who may see and write a note, limits and refusals, awareness, idea cards and the exports, through a real server."""
from __future__ import annotations

import io
import json
import time
import zipfile

import pytest
import redis
import requests

from notes_support import MOD, mute, seat
from rooms import yprotocol
from support import MODERATOR_KEY, SLUG

pytestmark = pytest.mark.socket


def stored(redis_url: str, session: str = "idee") -> tuple:
    """Everything Redis holds for a note (stream entries and snapshot)."""
    rb = redis.Redis.from_url(redis_url)
    try:
        prefix = f"plein:{{{SLUG}}}:notes:{session}:"
        return tuple(rb.xrange(prefix + "stream")), rb.get(prefix + "snapshot"), rb.hget(prefix + "meta", "bytes")
    finally:
        rb.close()


def codes(client) -> list[str]:
    with client.lock:
        return [e["code"] for e in client.errors]


def wait_code(client, code: str, timeout: float = 5.0):
    client.wait(lambda: code in [e["code"] for e in client.errors], timeout)


def test_who_may_see_a_note_and_when_it_is_writable(notes_server, note_clients, listen, redis_url):
    server = notes_server(env={"PLEIN_NOTES_GRACE_SECONDS": "0"})  # no grace for offline edits after the round
    anna, bram = seat(server, "Anna", "idee"), seat(server, "Bram", "ander")
    talker = seat(server, "Cor", "praat")
    a = note_clients(server.url, anna["token"])
    answer = a.join()
    assert answer["readonly"] is True and answer["reason"] == "notes_not_open" and answer["round"] == "ronde-1"
    assert answer["limits"] == {"max_update_bytes": 32768, "max_note_bytes": 1048576, "updates_per_second": 60,
                                "card_max_chars": 280, "resync_seconds": 15, "person_bytes": 262144,
                                "person_bytes_per_minute": 65536, "awareness_clients": 2, "awareness_bytes": 2048}
    a.wait_synced()
    # before the round: refused, nothing stored
    a.insert(0, "te vroeg")
    wait_code(a, "notes_not_open")
    assert stored(redis_url) == ((), None, None)
    # someone in another session, a talk session, an unknown one, no payload
    b = mute(listen(server, bram["token"]))
    assert b.call("notes:join", {"session": "idee"})["error"]["code"] == "notes_forbidden"
    assert b.call("notes:join", {"session": "praat"})["error"]["code"] == "not_brainstorm"
    assert b.call("notes:join", {"session": "nergens"})["error"]["code"] == "no_such_session"
    assert b.call("notes:join", "idee")["error"]["code"] == "bad_json"
    assert b.call("cards:add", {"session": "idee", "text": "stiekem"})["error"]["code"] == "notes_forbidden"
    en = listen(server, auth={"token": talker["token"], "lang": "en"})
    assert en.call("notes:join", {"session": "idee"})["error"]["message"].startswith("The notes of 'Brainstorm idee'")
    # a moderator may join any note
    mod = mute(listen(server, auth={"moderator_key": MODERATOR_KEY}))
    assert mod.call("notes:join", {"session": "ander"})["readonly"] is True
    # the round starts: writable, and the joined socket hears so
    assert server.clock("start").status_code == 200
    a.wait(lambda: any(s["readonly"] is False for s in a.states))
    a2 = note_clients(server.url, anna["token"], name="second tab")
    a2.join()
    # the edit refused before the start is stored now: at the start the server asked for what it lacked
    a2.wait(lambda: a2.value() == "te vroeg")
    a.insert(0, "Hallo ")
    a2.wait(lambda: a2.value() == "Hallo te vroeg")
    # the round ends: read-only for everyone, and readable by everyone
    assert server.clock("advance").status_code == 200
    a.wait(lambda: any(s["reason"] == "notes_closed" for s in a.states))
    closed = [s for s in a.states if s["reason"] == "notes_closed"][-1]
    assert closed["readonly"] and closed["message"].startswith("De sessie is voorbij") and " / The session" in closed["message"]
    before = stored(redis_url)
    a.insert(0, "te laat ")
    wait_code(a, "notes_closed")
    assert stored(redis_url) == before
    late = b.call("notes:join", {"session": "idee"})
    assert late["readonly"] is True and late["reason"] == "notes_closed"
    assert b.call("cards:add", {"session": "idee", "text": "te laat"})["error"]["code"] == "notes_closed"


def test_refusals_change_nothing(notes_server, note_clients, listen, redis_url):
    server = notes_server(env={"PLEIN_NOTES_MAX_UPDATE_BYTES": "2048", "PLEIN_NOTES_MAX_NOTE_BYTES": "6000"})
    anna = seat(server, "Anna")
    server.clock("start")
    a = note_clients(server.url, anna["token"])
    # not joined yet
    a.send(yprotocol.update(b"\x00\x00"))
    wait_code(a, "notes_not_joined")
    a.join()
    a.wait_synced()
    a.insert(0, "begin")
    a.wait(lambda: stored(redis_url)[0] != ())
    before = stored(redis_url)
    garbage = [b"", b"\x07", b"\x00\x02\x05abc", b"\x00\x02\x03\xff\xff\xff", b"\x00\x02\x03abc",
               yprotocol.update(b"not a yjs update at all"), b"\x01\x02\x01\x05", b"\x00\x00\x02\x05"]
    for raw in garbage:
        a.send(raw)
    a.sio.emit("notes:message", ("idee", "a string, not bytes"))
    a.sio.emit("notes:message", ("idee",))
    a.wait(lambda: codes(a).count("note_message_malformed") == len(garbage) + 2)
    assert stored(redis_url) == before
    # one update over the limit
    a.insert(0, "x" * 3000)
    wait_code(a, "note_update_too_large")
    assert stored(redis_url) == before
    a.send(b"\x00\x02" + b"\x80\x20" + b"y" * 4096)  # a message bigger than the limit, refused before decoding
    a.wait(lambda: codes(a).count("note_update_too_large") == 2)
    # the note fills up
    b = note_clients(server.url, anna["token"], name="fresh")
    b.join()
    b.wait_synced()
    for i in range(8):
        b.insert(0, f"{i}" * 1000)
    wait_code(b, "note_too_large")
    rb = redis.Redis.from_url(redis_url)
    assert int(rb.hget(f"plein:{{{SLUG}}}:notes:idee:meta", "bytes")) <= 6000
    rb.close()
    en = note_clients(server.url, auth={"token": anna["token"], "lang": "en"})
    en.send(b"\x09")
    en.wait(lambda: en.errors and en.errors[0]["message"].startswith("Open this session's notes first"))


def test_rate_limit_lets_a_fast_typist_through_and_loses_nothing_beyond_it(notes_server, note_clients, redis_url):
    from test_notes_sync import text_from_redis
    server = notes_server()  # the default: 60 updates a second per connection
    anna = seat(server, "Anna")
    server.clock("start")
    a = note_clients(server.url, anna["token"])
    a.join()
    a.wait_synced()
    for i in range(30):  # 30 keystrokes in one second, each its own update
        a.insert(i, "t")
        time.sleep(1 / 30)
    time.sleep(0.3)
    assert codes(a) == []
    assert text_from_redis(redis_url)[0] == "t" * 30
    # a burst far beyond: refused with the coded error, then the server asks for what it lacks
    limited = notes_server(env={"PLEIN_NOTES_RATE": "10"})
    bram = seat(limited, "Bram")
    b = note_clients(limited.url, bram["token"], name="burst")
    b.join()
    b.wait_synced()
    for i in range(40):
        b.insert(0, "b")
    wait_code(b, "notes_rate_limited")
    b.wait(lambda: text_from_redis(redis_url)[0] == b.value(), timeout=5)
    assert b.value() == "b" * 40 + "t" * 30


def test_awareness_is_relayed_and_removed_when_a_socket_leaves(notes_server, note_clients):
    server = notes_server()
    anna, bram = seat(server, "Anna"), seat(server, "Bram")
    server.clock("start")
    a, b = note_clients(server.url, anna["token"]), note_clients(server.url, bram["token"])
    a.join()
    b.join()
    a.wait(lambda: a.queries >= 1)  # b's join asked the others for their awareness
    a.send(yprotocol.awareness([(4242, 3, {"user": {"name": "Anna", "color": "#c00"}, "cursor": None})]))
    b.wait(lambda: (4242, 3, {"user": {"name": "Anna", "color": "#c00"}, "cursor": None}) in b.awareness)
    assert a.sio.call("notes:leave", {"session": "idee"}) == {"ok": True}
    b.wait(lambda: (4242, 4, None) in b.awareness)
    assert a.sio.call("notes:leave", {"session": "idee"}) == {"ok": True}  # again: harmless
    # a socket that disconnects is removed the same way
    b2 = note_clients(server.url, bram["token"], name="b2")
    b2.join()
    b2.send(yprotocol.awareness([(777, 1, {"user": {"name": "Bram"}})]))
    b.wait(lambda: (777, 1, {"user": {"name": "Bram"}}) in b.awareness)
    b2.close()
    b.wait(lambda: (777, 2, None) in b.awareness)


def test_idea_cards(notes_server, listen):
    server = notes_server()
    anna, bram, cor = seat(server, "Anna"), seat(server, "Bram"), seat(server, "Cor", "ander")
    a, b, c = (mute(listen(server, p["token"])) for p in (anna, bram, cor))
    assert a.call("cards:add", {"session": "idee", "text": "te vroeg"})["error"]["code"] == "notes_not_open"
    server.clock("start")
    a.call("notes:join", {"session": "idee"})
    b.call("notes:join", {"session": "idee"})
    mark = b.mark()
    first = a.call("cards:add", {"session": "idee", "text": "  Een gedeelde server  "})["card"]
    assert first["text"] == "Een gedeelde server" and first["votes"] == 0 and first["voted"] is False
    assert first["author"] == {"id": anna["id"], "name": "Anna"}
    pushed = b.wait_for(lambda d: d["card"]["id"] == first["id"], event="cards:changed", start=mark)
    assert "voted" not in pushed["card"] and pushed["session"] == "idee"
    second = b.call("cards:add", {"session": "idee", "text": "Samen inkopen"})["card"]
    third = a.call("cards:add", {"session": "idee", "text": "Een fonds"})["card"]
    for bad, code in [("", "card_missing"), ("   ", "card_missing"), ("x" * 281, "card_too_long"),
                      ("a\tb", "card_control"), (None, "card_missing")]:
        assert a.call("cards:add", {"session": "idee", "text": bad})["error"]["code"] == code
    assert a.call("cards:add", {"session": "idee", "text": "é" * 280})["card"]["text"] == "é" * 280
    # votes: one per participant, toggled
    assert b.call("cards:vote", {"session": "idee", "card": third["id"]}) == {"card": third["id"], "voted": True, "votes": 1}
    assert a.call("cards:vote", {"session": "idee", "card": third["id"]})["votes"] == 2
    assert a.call("cards:vote", {"session": "idee", "card": second["id"]})["votes"] == 1
    assert a.call("cards:vote", {"session": "idee", "card": second["id"]}) == {"card": second["id"], "voted": False, "votes": 0}
    assert b.call("cards:vote", {"session": "idee", "card": second["id"]})["votes"] == 1
    listed = b.call("cards:list", {"session": "idee"})["cards"]
    assert [x["id"] for x in listed][:3] == [third["id"], second["id"], first["id"]]  # votes, then oldest first
    assert [x["voted"] for x in listed][:3] == [True, True, False]
    # edit and withdraw: own cards only
    assert b.call("cards:edit", {"session": "idee", "card": first["id"], "text": "van mij"})["error"]["code"] == "card_not_yours"
    assert b.call("cards:withdraw", {"session": "idee", "card": first["id"]})["error"]["code"] == "card_not_yours"
    edited = a.call("cards:edit", {"session": "idee", "card": first["id"], "text": "Een gedeelde server voor iedereen"})["card"]
    assert edited["text"].endswith("voor iedereen") and edited["created_at"] == first["created_at"]
    mark = b.mark()
    assert a.call("cards:withdraw", {"session": "idee", "card": third["id"]}) == {"ok": True, "card": third["id"]}
    b.wait_for(lambda d: d == {"session": "idee", "card": third["id"]}, event="cards:removed", start=mark)
    assert a.call("cards:vote", {"session": "idee", "card": third["id"]})["error"]["code"] == "unknown_card"
    assert a.call("cards:edit", {"session": "idee", "card": "nope", "text": "x"})["error"]["code"] == "unknown_card"
    assert a.call("cards:vote", {"session": "idee"})["error"]["code"] == "bad_field"
    # someone of another session may not, until the round is over; then nobody may write
    assert c.call("cards:list", {"session": "idee"})["error"]["code"] == "notes_forbidden"
    server.clock("advance")
    assert len(c.call("cards:list", {"session": "idee"})["cards"]) == 3
    assert a.call("cards:vote", {"session": "idee", "card": second["id"]})["error"]["code"] == "notes_closed"
    assert a.call("cards:edit", {"session": "idee", "card": first["id"], "text": "x"})["error"]["code"] == "notes_closed"
    # a moderator's join answer has the cards too
    mod = mute(listen(server, auth={"moderator_key": MODERATOR_KEY}))
    assert len(mod.call("notes:join", {"session": "idee"})["cards"]) == 3


def test_exports(notes_server, note_clients, listen):
    server = notes_server()
    anna, cor = seat(server, "Anna"), seat(server, "Cor", "ander")
    server.clock("start")
    a = note_clients(server.url, anna["token"])
    a.join()
    a.wait_synced()
    a.insert(0, "Wat we willen:\n- een coöperatie")
    s = mute(listen(server, anna["token"]))
    for i, text in enumerate(["idee een", "idee twee", "idee drie", "idee vier", "idee vijf", "idee zes"]):
        card = s.call("cards:add", {"session": "idee", "text": text})["card"]
        if i == 4:
            s.call("cards:vote", {"session": "idee", "card": card["id"]})
    time.sleep(0.3)
    participant_md = server.api("/sessions/idee/notes.md")
    bearer = {"Authorization": f"Bearer {anna['token']}"}
    got = requests.get(participant_md, headers=bearer, timeout=5)
    assert got.status_code == 200 and got.headers["Content-Type"].startswith("text/markdown")
    assert f'filename="{SLUG}-idee.md"' in got.headers["Content-Disposition"]
    body = got.text
    assert body.startswith("# Brainstorm idee\n") and "Wat we willen:\n- een coöperatie" in body
    assert body.index("idee vijf (1 stemmen/votes) — Anna") < body.index("idee een (0")
    assert requests.get(participant_md, timeout=5).status_code == 401
    other = requests.get(participant_md, headers={"Authorization": f"Bearer {cor['token']}"}, timeout=5)
    assert other.status_code == 403 and other.json()["error"]["code"] == "notes_forbidden"
    assert requests.get(server.api("/sessions/praat/notes.md"), headers=bearer, timeout=5).status_code == 400
    assert requests.get(server.api("/sessions/nee/notes.md"), headers=bearer, timeout=5).status_code == 404
    # moderators
    assert requests.get(server.api("/notes/idee.md"), headers=MOD, timeout=5).text == body
    assert requests.get(server.api("/notes/idee.md"), headers=bearer, timeout=5).status_code == 403
    assert requests.get(server.api("/notes/idee.json"), timeout=5).status_code == 401
    data = requests.get(server.api("/notes/idee.json"), headers=MOD, timeout=5).json()
    assert data["text"] == "Wat we willen:\n- een coöperatie" and data["readonly"] is False
    assert data["session"] == {"id": "idee", "title": "Brainstorm idee", "round": "ronde-1"}
    assert len(data["cards"]) == 6 and data["cards"][0]["text"] == "idee vijf" and "voted" not in data["cards"][0]
    zipped = requests.get(server.api("/notes.zip"), headers=MOD, timeout=5)
    assert zipped.status_code == 200 and zipped.headers["Content-Type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(zipped.content)).namelist()
    assert sorted(names) == sorted(f"{SLUG}-{s}.{ext}" for s in ("idee", "ander", "later") for ext in ("md", "json"))
    inside = json.loads(zipfile.ZipFile(io.BytesIO(zipped.content)).read(f"{SLUG}-idee.json"))
    assert inside["text"] == data["text"]
    assert requests.get(server.api("/notes.zip"), headers=bearer, timeout=5).status_code == 403
    # the yield: nothing for participants until a brainstorm's round is over; moderators see all
    assert requests.get(server.api("/yield"), headers=bearer, timeout=5).json() == {"sessions": []}
    assert requests.get(server.api("/yield"), timeout=5).status_code == 401
    assert len(requests.get(server.api("/yield"), headers=MOD, timeout=5).json()["sessions"]) == 3
    server.clock("advance")
    got = requests.get(server.api("/yield"), headers={"Authorization": f"Bearer {cor['token']}"}, timeout=5).json()
    assert [x["id"] for x in got["sessions"]] == ["idee", "ander"]
    idee = got["sessions"][0]
    assert idee["text"] == data["text"] and idee["round"] == "ronde-1" and len(idee["cards"]) == 5
    assert idee["cards"][0]["text"] == "idee vijf"
    # after the round everyone may download the Markdown
    assert requests.get(participant_md, headers={"Authorization": f"Bearer {cor['token']}"}, timeout=5).status_code == 200
