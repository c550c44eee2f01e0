"""What a page's (re)connect costs in Redis: after a restart 2,000 pages come back at once, so each connect
reads what it needs in one round trip (a second only to read an open help request; a bearer token is looked up
in one more), not one per service. The Socket.IO handler is a few lines over `Evening.arrive`."""
from __future__ import annotations

import pytest
from redis.connection import Connection

from support import participant

pytestmark = pytest.mark.redis

API = "/api/events/cooperatieve-stad-2022"


@pytest.fixture
def round_trips(monkeypatch):
    """Counts the requests sent to Redis (a pipeline is one)."""
    sent = []
    original = Connection.send_packed_command

    def counting(self, command, check_health=True):
        sent.append(command)
        return original(self, command, check_health)

    monkeypatch.setattr(Connection, "send_packed_command", counting)
    return sent


def arrive(ev, pid, round_trips, sid="sid-1"):
    round_trips.clear()
    arrival = ev.arrive(pid, sid, "worker-1")
    return len(round_trips), arrival


def test_a_page_connects_in_one_round_trip(app, round_trips):
    ev = app.extensions["plein"]
    page = participant(app, "Snel Terug")
    me = page.get(API + "/participants/me").get_json()
    page.put(API + "/participants/me/choices", json={"ronde-1": "cooperatieve-tech"})
    ev.clock.act("start")
    ev.due()
    app.test_client().post(API + "/broadcasts", json={"text": "Welkom allemaal"},
                           headers={"Authorization": "Bearer " + app.config["PLEIN_MODERATOR_KEY"]})
    first_trips, first = arrive(ev, me["id"], round_trips)  # seats a late joiner in the running round: writes
    trips, arrival = arrive(ev, me["id"], round_trips, "sid-2")
    assert trips == 1, f"{trips} round trips"
    assert arrival.participant.name == "Snel Terug"
    again = ev.state_for(arrival.participant)
    assert {k: arrival.state[k] for k in ("room", "next_room", "hosting", "phase", "version")} == \
        {k: again[k] for k in ("room", "next_room", "hosting", "phase", "version")}
    assert arrival.state["room"]["session"]["id"] == first.state["room"]["session"]["id"]
    slug = ev.program.slug
    assert set(arrival.channels) == set(ev.channels_for(arrival.participant))
    assert f"{slug}:session:cooperatieve-tech" in arrival.channels
    assert [b["text"] for b in arrival.broadcasts] == ["Welkom allemaal"] and arrival.help is None
    assert ev.presence.sockets(me["id"]) == {"sid-1", "sid-2"}  # counted, as before

    # An open help request is read in a second round trip.
    assert page.post(API + "/participants/me/help", json={"text": "Ik hoor niets"}).status_code in (200, 201)
    trips, arrival = arrive(ev, me["id"], round_trips, "sid-3")
    assert trips == 2 and arrival.help["messages"][0]["text"] == "Ik hoor niets"


def test_a_removed_or_unknown_participant_is_refused_and_not_counted(app, round_trips):
    ev = app.extensions["plein"]
    page = participant(app, "Weg")
    pid = page.get(API + "/participants/me").get_json()["id"]
    ev.participants.remove(pid, 0.0)
    assert ev.arrive(pid, "sid-x", "worker-1") is None
    assert ev.arrive("nobody-at-all", "sid-y", "worker-1") is None
    assert ev.presence.sockets(pid) == set() and not ev.r.hexists(ev.keys.presence, "sid-x")


def test_the_console_reads_everyones_name_in_one_command(app, round_trips):
    """The console's overview names everyone present, every second while people come and go."""
    ev = app.extensions["plein"]
    pids = [participant(app, f"Naam {i}").get("/api/events/cooperatieve-stad-2022/participants/me").get_json()["id"]
            for i in range(30)]
    round_trips.clear()
    names = ev.participants.names(pids)
    assert len(round_trips) == 1 and names[pids[7]] == "Naam 7" and len(names) == 30
    # A participant from before the names hash: still named (one more trip for such stragglers).
    ev.r.hdel(ev.keys.names, pids[3])
    round_trips.clear()
    assert ev.participants.names(pids)[pids[3]] == "Naam 3" and len(round_trips) == 2
