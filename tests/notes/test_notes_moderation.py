"""Moderating a brainstorm's content (issue 9, item 6): a moderator or the session's host hides an idea card; it
leaves every list, vote, yield and export, and the audit log keeps it."""
from __future__ import annotations

import pytest
import requests

from notes_support import MOD, NOTES_PROGRAM, mute, seat

pytestmark = pytest.mark.socket


def test_a_host_hides_a_card_and_a_moderator_shows_it_again(start_server, listen):
    server = start_server("--program", str(NOTES_PROGRAM), jitsi=None)
    anna, bram, cor = seat(server, "Anna"), seat(server, "Bram"), seat(server, "Cor")
    server.clock("start")
    assert server.call("POST", f"/participants/{bram['id']}/host", {"session": "idee", "host": True}).status_code == 200
    a, b, c = (mute(listen(server, p["token"])) for p in (anna, bram, cor))
    for client in (a, b, c):
        client.call("notes:join", {"session": "idee"})
    rude = a.call("cards:add", {"session": "idee", "text": "Iets kwetsends"})["card"]
    good = c.call("cards:add", {"session": "idee", "text": "Een buurtfonds"})["card"]

    assert c.call("mod:cards:hide", {"session": "idee", "card": rude["id"], "hidden": True})["error"]["code"] == \
        "moderator_only"
    mark = c.mark()
    done = b.call("mod:cards:hide", {"session": "idee", "card": rude["id"], "hidden": True})
    assert done["ok"] is True and done["result"]["id"] == rude["id"]
    assert c.wait_for(lambda d: d["card"] == rude["id"], 5, event="cards:removed", start=mark) == \
        {"session": "idee", "card": rude["id"]}
    assert [x["id"] for x in c.call("cards:list", {"session": "idee"})["cards"]] == [good["id"]]
    assert c.call("cards:vote", {"session": "idee", "card": rude["id"]})["error"]["code"] == "unknown_card"
    export = requests.get(server.api("/notes/idee.json"), headers=MOD, timeout=5).json()
    assert [x["text"] for x in export["cards"]] == ["Een buurtfonds"]
    markdown = requests.get(server.api("/sessions/idee/notes.md"), headers=MOD, timeout=5).text
    assert "Iets kwetsends" not in markdown and "Een buurtfonds" in markdown
    entries = server.call("GET", "/audit").json()["entries"]
    hid = next(e for e in entries if e["action"] == "card_hide")
    assert hid["who"]["name"] == "Bram" and hid["details"]["text"] == "Iets kwetsends"
    assert hid["details"]["participant"]["name"] == "Anna" and hid["details"]["hidden"] is True

    # A moderator puts it back (HTTP, the same action).
    back = server.call("POST", f"/sessions/idee/cards/{rude['id']}/hide", {"hidden": False})
    assert back.status_code == 200, back.text
    assert {x["id"] for x in c.call("cards:list", {"session": "idee"})["cards"]} == {rude["id"], good["id"]}
    assert server.call("POST", "/sessions/idee/cards/nope/hide").json()["error"]["code"] == "unknown_card"
