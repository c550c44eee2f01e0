"""Who stops hearing a note (issue 9, item 11): moderator sockets of a rotated key, and a participant moved out
of the session. Real server, real Socket.IO clients."""
from __future__ import annotations

import pytest

from notes_support import NOTES_PROGRAM, mute, seat
from support import SLUG

pytestmark = pytest.mark.socket

KEYS = f"plein:{{{SLUG}}}:"


def card_events(client, start: int) -> set[str]:
    return {d["card"]["text"] for d in client.received("cards:changed", start)}


def heard_by(control, others, writer, text: str) -> dict:
    """`writer` adds a card; once `control` has it (and each other socket has answered a round trip after it),
    which of `others` got it."""
    marks = {id(c): c.mark() for c in [control, *others]}
    assert "card" in writer.call("cards:add", {"session": "idee", "text": text}), text
    control.wait_for(lambda d: d["card"]["text"] == text, 5, event="cards:changed", start=marks[id(control)])
    for other in others:
        other.call("state:get")  # a round trip through the same server after the card went out
    return {id(o): text in card_events(o, marks[id(o)]) for o in others}


def test_old_moderator_sockets_and_moved_participants_hear_no_more_of_a_note(start_server, listen, r):
    server = start_server("--program", str(NOTES_PROGRAM), env={"PLEIN_MODERATOR_KEY": ""}, jitsi=None)
    old = r.get(KEYS + "moderator-key")
    anna, bram, cor = seat(server, "Anna"), seat(server, "Bram"), seat(server, "Cor")
    server.clock("start", key=old)
    a, b, c = (mute(listen(server, p["token"])) for p in (anna, bram, cor))
    mod = mute(listen(server, auth={"moderator_key": old}))
    for client in (a, b, c, mod):
        assert client.call("notes:join", {"session": "idee"})["session"] == "idee"
    assert heard_by(a, [b, c, mod], a, "eerste idee") == {id(b): True, id(c): True, id(mod): True}

    # A new moderator key: the old key's socket hears no card (nor update) of the note any more.
    new = server.call("POST", "/moderator-key/rotate", key=old).json()["key"]
    mod.wait_for(lambda d: True, 3, event="auth:revoked")
    fresh = mute(listen(server, auth={"moderator_key": new}))
    assert fresh.call("notes:join", {"session": "idee"})["session"] == "idee"
    assert heard_by(a, [fresh, mod], b, "na de sleutel") == {id(fresh): True, id(mod): False}  # mod heard it before

    # Cor is moved to the other session: his sockets leave this note with it.
    assert server.call("POST", f"/participants/{cor['id']}/move", {"session": "ander"}, key=new).status_code == 200
    c.wait_for(lambda d: d["room"] and d["room"]["session"]["id"] == "ander", 5)
    assert heard_by(a, [c, b], a, "na de verhuizing") == {id(c): False, id(b): True}
    assert c.call("cards:add", {"session": "idee", "text": "mag niet"})["error"]["code"] == "notes_forbidden"
