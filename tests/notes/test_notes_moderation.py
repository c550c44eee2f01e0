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


def test_a_host_takes_one_participants_writing_out_of_the_note(notes_server, note_clients, listen, redis_url):
    """Issue 9, item 6: everything one participant wrote leaves everyone's copy, what others wrote around it
    stays; the audit log keeps the text taken out; a snapshot before it lets a restore undo it."""
    from test_notes_abuse import joined, started
    from test_notes_sync import text_from_redis, wait_converged

    server, (anna, mallory, bram) = started(notes_server, people=("Anna", "Mallory", "Bram"))
    assert server.call("POST", f"/participants/{bram['id']}/host", {"session": "idee", "host": True}).status_code == 200
    a, m = joined(note_clients, server, anna), joined(note_clients, server, mallory)
    a.insert(0, "Wij willen een fonds.")
    wait_converged([a, m], redis_url)
    m.insert(len(m.value()), " SCHELDWOORD")
    m.insert(0, "SPAM ")
    wait_converged([a, m], redis_url)
    a.insert(len(a.value()), " En een buurthuis.")
    assert wait_converged([a, m], redis_url) == "SPAM Wij willen een fonds. SCHELDWOORD En een buurthuis."

    host = listen(server, bram["token"])
    assert listen(server, anna["token"]).call(
        "mod:notes:hide", {"session": "idee", "participant": mallory["id"]})["error"]["code"] == "moderator_only"
    done = host.call("mod:notes:hide", {"session": "idee", "participant": mallory["id"]})
    assert done["ok"] is True and done["result"]["removed_characters"] == len("SPAM  SCHELDWOORD")
    assert wait_converged([a, m], redis_url) == "Wij willen een fonds. En een buurthuis."
    assert text_from_redis(redis_url)[0] == "Wij willen een fonds. En een buurthuis."
    entry = next(e for e in server.call("GET", "/audit").json()["entries"] if e["action"] == "notes_hide")
    assert entry["who"]["name"] == "Bram" and entry["details"]["participant"]["name"] == "Mallory"
    assert "SCHELDWOORD" in entry["details"]["text"] and "SPAM" in entry["details"]["text"]
    history = server.call("GET", "/notes/idee/history").json()["snapshots"]
    assert any(s["preview"].startswith("SPAM Wij") for s in history)  # the text before: restorable
    assert server.call("POST", "/notes/idee/hide", {"participant": "nobody"}).json()["error"]["code"] == \
        "unknown_participant"
