"""A broadcast belongs to the phase it was sent in, or to the whole evening when the moderator says so: over real
server processes, real Socket.IO clients and a real Redis (a page that connects later, the API, a worker's resync)."""
from __future__ import annotations

import requests

import pytest

from support import MODERATOR_KEY, SLUG

pytestmark = pytest.mark.socket


def test_a_later_phase_gets_only_what_holds_for_the_evening(server, listen, r):
    early = server.join("Vroeg")
    server.clock("start")
    phase = server.call("POST", "/broadcasts", {"text": "Alleen nu"}).json()
    evening = server.call("POST", "/broadcasts", {"text": "De hele avond", "lifetime": "evening"}).json()
    assert (phase["phase"], phase["lifetime"]) == ("in-beeld", "phase")
    assert (evening["phase"], evening["lifetime"]) == ("in-beeld", "evening")
    same = listen(server, early["token"])  # still in the phase: both are replayed
    same.wait_for(lambda d: d["id"] == phase["id"], event="broadcast")
    assert {b["id"] for b in same.received("broadcast")} == {phase["id"], evening["id"]}

    assert server.clock("advance").status_code == 200
    late = server.join("Laat")
    client = listen(server, late["token"])
    client.wait_for(lambda d: d["id"] == evening["id"], event="broadcast")
    assert [b["id"] for b in client.received("broadcast")] == [evening["id"]]
    mine = requests.get(server.api("/participants/me/broadcasts"),
                        headers={"Authorization": f"Bearer {late['token']}"}, timeout=5)
    assert mine.status_code == 200 and [b["id"] for b in mine.json()["broadcasts"]] == [evening["id"]]


def test_the_api_list_follows_the_phase(app, client, r):
    from support import participant
    anna = participant(app, "Anna")
    headers = {"Authorization": f"Bearer {MODERATOR_KEY}"}
    assert client.post(f"/api/events/{SLUG}/clock", json={"action": "start"}, headers=headers).status_code == 200
    now = client.post(f"/api/events/{SLUG}/broadcasts", json={"text": "Nu"}, headers=headers).get_json()
    always = client.post(f"/api/events/{SLUG}/broadcasts", json={"text": "Altijd", "lifetime": "evening"},
                         headers=headers).get_json()
    listed = anna.get(f"/api/events/{SLUG}/participants/me/broadcasts").get_json()["broadcasts"]
    assert [b["id"] for b in listed] == [now["id"], always["id"]]
    assert client.post(f"/api/events/{SLUG}/clock", json={"action": "advance"}, headers=headers).status_code == 200
    listed = anna.get(f"/api/events/{SLUG}/participants/me/broadcasts").get_json()["broadcasts"]
    assert [b["id"] for b in listed] == [always["id"]]
    # A worker's resync after a blip sends again only what still holds.
    ev = app.extensions["plein"]
    resent = [p.data["id"] for p in ev.resync_pushes(ev.state(), 0) if p.event == "broadcast"]
    assert resent == [always["id"]]


@pytest.mark.parametrize("lifetime", ["forever", 3, ""])
def test_a_bad_lifetime_is_refused_with_a_code_and_changes_nothing(app, client, r, lifetime):
    headers = {"Authorization": f"Bearer {MODERATOR_KEY}", "Accept-Language": "nl"}
    resp = client.post(f"/api/events/{SLUG}/broadcasts", json={"text": "Hoi", "lifetime": lifetime}, headers=headers)
    assert resp.status_code == 400
    error = resp.get_json()["error"]
    assert error["code"] in ("bad_lifetime", "bad_field")
    if lifetime == "forever":
        assert error["code"] == "bad_lifetime" and "phase, evening" in error["message"]
    assert r.llen(f"plein:{{{SLUG}}}:broadcasts") == 0
