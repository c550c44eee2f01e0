"""The console's Redis services directly: presence with expiry, the Jitsi room sizes with backoff (against the
loopback stand-in), the console push throttle, broadcasts and help requests."""
from __future__ import annotations

import json

import pytest

from rooms.errors import PleinError
from rooms.limits import Limits
from rooms.occupancy import MAX_BACKOFF, RoomSizes
from rooms.presence import Presence
from rooms.store import Keys
from support import SLUG

pytestmark = pytest.mark.redis

KEYS = Keys(SLUG)


class Clock:
    """A settable now() for the services."""

    def __init__(self, t: float = 1_700_000_000.0):
        self.t = t

    def __call__(self) -> float:
        return self.t


# -- presence ---------------------------------------------------------------------------------------

def test_presence_counts_sockets_of_live_workers(r):
    now = Clock()
    presence = Presence(r, KEYS, ttl=5, now=now)
    presence.connect("anna", "sid-1", "w1")
    now.t += 10
    presence.connect("anna", "sid-2", "w2")  # a second tab, on another worker
    presence.connect("bram", "sid-3", "w2")
    online = presence.online()
    assert set(online) == {"anna", "bram"}
    assert online["anna"].sockets == 2 and online["anna"].since == now.t - 10  # the oldest socket
    assert presence.sockets("anna") == {"sid-1", "sid-2"}
    presence.disconnect("anna", "sid-1")
    assert presence.online()["anna"].sockets == 1
    assert presence.connected(["anna", "carla"]) == {"anna"}


def test_a_dead_workers_sockets_stop_counting_and_are_swept_an_hour_later(r):
    presence = Presence(r, KEYS, ttl=5)
    presence.connect("anna", "sid-1", "w1")
    presence.connect("bram", "sid-2", "w2")
    r.delete(KEYS.worker("w1"))  # its heartbeat expired: killed, or Redis out of reach for a while
    assert set(presence.online()) == {"bram"}
    assert r.hexists(KEYS.presence, "sid-1")  # kept: the worker may only have missed beats
    presence.beat("w1")  # back
    assert set(presence.online()) == {"anna", "bram"}
    r.delete(KEYS.worker("w1"), KEYS.worker_seen("w1"))  # silent for an hour
    assert set(presence.online()) == {"bram"}
    assert not r.hexists(KEYS.presence, "sid-1") and presence.sockets("anna") == set()
    r.hset(KEYS.presence, "sid-x", "not json")
    assert set(presence.online()) == {"bram"} and not r.hexists(KEYS.presence, "sid-x")


def test_the_heartbeat_expires_after_ttl(r):
    presence = Presence(r, KEYS, ttl=0.3)
    presence.connect("anna", "sid-1", "w1")
    assert 0 < r.pttl(KEYS.worker("w1")) <= 300
    presence.beat("w1")
    assert 0 < r.pttl(KEYS.worker("w1")) <= 300 and r.ttl(KEYS.worker_seen("w1")) > 3000


def test_lapsed_tells_once_when_a_worker_stops_beating(r):
    presence = Presence(r, KEYS, ttl=5)
    assert presence.lapsed() is False
    presence.beat("w1")
    presence.connect("anna", "sid-1", "w2")
    assert presence.lapsed() is False
    r.delete(KEYS.worker("w2"))
    assert presence.lapsed() is True
    assert presence.lapsed() is False  # told once
    r.delete(KEYS.console_dirty)
    presence.beat("w2")  # back: its sockets count again, and the console is told
    assert r.get(KEYS.console_dirty) == "1"
    presence.stop("w1")  # a clean stop is a change at once, and not a lapse later
    assert presence.lapsed() is False and r.smembers(KEYS.workers) == {"w2"}


# -- Jitsi room sizes ---------------------------------------------------------------------------------

def sizes(r, room_size, now, interval=10.0) -> RoomSizes:
    return RoomSizes(r, KEYS, room_size.url, "conference.meet.test", interval=interval, timeout=1.0, now=now)


def test_room_sizes_from_the_stand_in_404_is_empty(r, room_size):
    now = Clock()
    rs = sizes(r, room_size, now)
    room_size.sizes = {"room-a": 7}
    assert rs.due() is True and rs.due() is False  # one worker polls per interval
    assert rs.poll(["room-a", "room-b"]) is True
    # mod_muc_size looks up <room>@conference.<domain>: it is given the domain without the MUC prefix
    assert room_size.requests == [("room-a", "meet.test"), ("room-b", "meet.test")]
    assert rs.read(["room-a", "room-b"]) == {"room-a": {"count": 7, "status": "ok"}, "room-b": {"count": 0, "status": "ok"}}
    assert rs.read(["room-c"]) == {"room-c": {"count": None, "status": "unknown"}}  # never asked
    r.delete(KEYS.console_dirty)
    assert rs.poll(["room-a", "room-b"]) is False and r.get(KEYS.console_dirty) is None  # nothing changed
    room_size.sizes = {"room-a": 8}
    assert rs.poll(["room-a", "room-b"]) is True and r.get(KEYS.console_dirty) == "1"
    now.t += 31  # older than three intervals: no longer trusted
    assert rs.read(["room-a"]) == {"room-a": {"count": None, "status": "unknown"}}


@pytest.mark.parametrize("mode", ["500", "garbage", "negative", "closed"])
def test_a_failing_jitsi_shows_unknown_and_backs_off_doubling(r, room_size, mode):
    now = Clock()
    rs = sizes(r, room_size, now, interval=10.0)
    room_size.sizes = {"room-a": 3}
    rs.poll(["room-a"])
    if mode == "closed":
        room_size.close()
    else:
        room_size.mode = mode
    delays = []
    for _ in range(7):
        r.delete(KEYS("jitsi", "poll", "lock"))
        assert rs.poll(["room-a"]) is True
        status = json.loads(r.get(KEYS.jitsi_poll))
        assert status["ok"] is False and status["error"]
        delays.append(status["next_at"] - now.t)
        assert rs.read(["room-a"]) == {"room-a": {"count": None, "status": "unknown"}}
        assert rs.due() is False  # not before the backoff is over
        now.t = status["next_at"]
    assert delays == [20, 40, 80, 160, MAX_BACKOFF, MAX_BACKOFF, MAX_BACKOFF]
    if mode != "closed":
        room_size.mode = "ok"
        assert rs.due() is True and rs.poll(["room-a"]) is True
        assert rs.read(["room-a"]) == {"room-a": {"count": 3, "status": "ok"}}
        assert json.loads(r.get(KEYS.jitsi_poll))["failures"] == 0


def test_room_sizes_off_without_a_url(r):
    rs = RoomSizes(r, KEYS, "", "conference.meet.test")
    assert not rs.enabled and rs.due() is False
    assert rs.read(["room-a"]) == {"room-a": {"count": None, "status": "off"}}


@pytest.mark.parametrize("muc, domain", [("conference.meet.example.org", "meet.example.org"),
                                         ("muc.meet.jitsi", "meet.jitsi"), ("conference.localhost", "localhost")])
def test_the_domain_asked_is_the_muc_domain_without_its_prefix(r, muc, domain):
    assert RoomSizes(r, KEYS, "http://127.0.0.1:9/room-size", muc).base_domain == domain


def test_the_interval_is_at_least_the_console_loops_second(r, room_size):
    assert sizes(r, room_size, Clock(), interval=0.1).interval == 1.0


# -- the console push -----------------------------------------------------------------------------------

def test_console_pushes_only_when_something_changed_and_at_most_once_a_second(app, r):
    import time
    ev = app.extensions["plein"]
    anna, _ = ev.participants.create("Anna")
    r.delete(KEYS.console_dirty)
    assert ev.console_pushes() == []  # nothing changed
    r.delete(KEYS.console_slot)
    ev.presence.connect(anna.id, "sid-1", "w1")
    pushes = ev.console_pushes()
    assert [(p.event, p.to) for p in pushes] == [("console", ev.moderators_channel())]
    assert pushes[0].data["totals"]["connected"] == 1
    ev.presence.disconnect(anna.id, "sid-1")
    assert ev.console_pushes() == []  # within the second: held back, still marked
    assert r.get(KEYS.console_dirty) == "1"
    time.sleep(1.0)
    assert ev.console_pushes()[0].data["totals"]["connected"] == 0


def test_hosts_get_their_rooms_part(make_app, r):
    from support import CONSOLE_PROGRAM
    from rooms.audit import Actor
    app = make_app(PLEIN_PROGRAM=str(CONSOLE_PROGRAM))
    ev = app.extensions["plein"]
    hanna, _ = ev.participants.create("Hanna")
    ev.clock.act("start")
    ev.due()
    ev.hosts.set(hanna.id, "zaal-2", True)
    ev.move(Actor("moderator", "M", "m"), hanna.id, "zaal-2")
    ev.presence.connect(hanna.id, "sid-1", "w1")
    r.delete(KEYS.console_slot)
    pushes = ev.console_pushes()
    assert [(p.event, p.to) for p in pushes] == [("console", ev.moderators_channel()), ("host:room", f"{SLUG}:hosts:zaal-2")]
    assert pushes[1].data["session"] == "zaal-2" and [p["name"] for p in pushes[1].data["present"]] == ["Hanna"]


# -- broadcasts and help --------------------------------------------------------------------------------

def test_broadcasts_replayed_for_three_hours_everyone_and_own_room(r):
    from rooms.audit import Actor
    from rooms.console import Broadcasts
    now = Clock()
    b = Broadcasts(r, KEYS, Limits(r, KEYS), now=now)
    mod = Actor("moderator", "Mila", "m")
    old = b.create(mod, "Oud", None, phase="een", lifetime="evening")
    now.t += 3 * 3600 + 1
    everyone = b.create(mod, "Iedereen", None, phase="een")
    room = b.create(mod, "Zaal 1", {"id": "zaal-1", "title": "Zaal een"}, phase="een")
    other = b.create(mod, "Zaal 2", {"id": "zaal-2", "title": "Zaal twee"}, phase="een")
    assert [x["id"] for x in b.recent({"zaal-1"}, "een")] == [everyone["id"], room["id"]]
    assert [x["id"] for x in b.recent(set(), "een")] == [everyone["id"]]
    assert [x["id"] for x in b.recent(None, "een")] == [everyone["id"], room["id"], other["id"]]
    assert old["id"] not in {x["id"] for x in b.recent(None, "een")}
    for i in range(60):
        b.create(mod, f"m{i}", None, phase="een")
    assert r.llen(KEYS.broadcasts) == 50 and [x["text"] for x in b.recent(None, "een", limit=2)] == ["m58", "m59"]


def test_a_broadcast_holds_for_its_phase_or_to_the_end_of_the_evening(r):
    from rooms.audit import Actor
    from rooms.console import Broadcasts
    b = Broadcasts(r, KEYS, Limits(r, KEYS), now=Clock())
    mod = Actor("moderator", "Mila", "m")
    before = b.create(mod, "Zo beginnen we", None, phase=None)
    now = b.create(mod, "Alleen nu", None, phase="een")
    always = b.create(mod, "Hele avond", None, phase="een", lifetime="evening")
    assert (now["phase"], now["lifetime"], always["lifetime"]) == ("een", "phase", "evening")
    assert [x["id"] for x in b.recent(set(), None)] == [before["id"], always["id"]]
    assert [x["id"] for x in b.recent(set(), "een")] == [now["id"], always["id"]]
    assert [x["id"] for x in b.recent(set(), "twee")] == [always["id"]]
    with pytest.raises(PleinError) as refused:
        b.create(mod, "Nooit", None, phase="een", lifetime="forever")
    assert refused.value.code == "bad_lifetime" and "phase, evening" in refused.value.message("en")
    assert r.llen(KEYS.broadcasts) == 3  # the refused one changed nothing


def test_a_participant_has_one_open_help_request(r):
    from rooms.audit import Actor
    from rooms.console import HelpDesk
    from rooms.participants import Participant
    desk = HelpDesk(r, KEYS, Limits(r, KEYS))
    anna = Participant("anna", "Anna")
    first = desk.ask(anna, "Eén", {"session": "zaal-1", "title": "Zaal een", "name": "x"})
    second = desk.ask(anna, "Twee", {"session": "zaal-2", "title": "Zaal twee", "name": "y"})
    assert second["id"] == first["id"] and [m["text"] for m in second["messages"]] == ["Eén", "Twee"]
    assert second["room"]["session"] == "zaal-2"  # where they are now
    assert [x["id"] for x in desk.pending()] == [first["id"]]
    desk.answer(Actor("moderator", "Mila", "m"), first["id"], "Oké")
    assert desk.of("anna")["status"] == "answered"
    again = desk.ask(anna, None, None)  # asking again reopens, keeps the thread
    assert again["status"] == "open" and len(again["messages"]) == 3
    desk.done(first["id"], by="Mila")
    assert desk.of("anna") is None and desk.pending() == []
    third = desk.ask(anna, "Nieuw", None)
    assert third["id"] != first["id"] and third["messages"][0]["text"] == "Nieuw"
