"""Choices within capacity, placement, switching, locks, calendars: in process on the real test Redis."""
from __future__ import annotations

import pytest

from support import MODERATOR_KEY, SEED, participant

pytestmark = pytest.mark.redis

API = "/api/events/cooperatieve-stad-2022"
MOD = {"Authorization": f"Bearer {MODERATOR_KEY}"}


def small_program(tmp_path, capacity: int = 2, switching: bool = True):
    """The seed evening with every session's capacity set (and switching on or off in round I)."""
    text = SEED.read_text(encoding="utf-8")
    for n in ("300", "200"):
        text = text.replace(f"capacity = {n}", f"capacity = {capacity}")
    if not switching:
        text = text.replace('title = "Break-out sessies ronde I"', 'title = "Break-out sessies ronde I"\nswitching = false')
    path = tmp_path / "small.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_choose_change_and_withdraw_move_the_place(client):
    assert client.post(API + "/participants", json={"name": "Anna"}).status_code == 201
    resp = client.put(API + "/participants/me/choices", json={"ronde-1": "incubator"})
    assert resp.status_code == 400 and resp.get_json()["error"]["code"] == "unknown_session"
    resp = client.put(API + "/participants/me/choices", json={"ronde-1": "cooperatieve-tech", "ronde-3": "overwaarde"})
    assert resp.status_code == 200
    assert resp.get_json()["choices"] == {"ronde-1": "cooperatieve-tech", "ronde-3": "overwaarde"}
    sessions = {s["id"]: s for p in client.get(API).get_json()["phases"] for s in p["sessions"]}
    assert sessions["cooperatieve-tech"]["taken"] == 1 and sessions["cooperatieve-tech"]["places_left"] == 199
    client.put(API + "/participants/me/choices", json={"ronde-1": "toolkit-energietransitie", "ronde-3": None})
    sessions = {s["id"]: s for p in client.get(API).get_json()["phases"] for s in p["sessions"]}
    assert sessions["cooperatieve-tech"]["taken"] == 0 and sessions["toolkit-energietransitie"]["taken"] == 1
    assert sessions["overwaarde"]["taken"] == 0
    me = client.get(API + "/participants/me").get_json()
    assert me["choices"] == {"ronde-1": "toolkit-energietransitie"} and me["name"] == "Anna"


@pytest.mark.parametrize("body, code", [
    ({"opening": "x"}, "unknown_round"), ({"nope": "x"}, "unknown_round"), ({"ronde-1": 3}, "unknown_session"),
    ([], "bad_json"), ({}, "bad_json"), ("ronde-1", "bad_json"),
])
def test_bad_choice_bodies(client, r, body, code):
    client.post(API + "/participants", json={"name": "Bram"})
    resp = client.put(API + "/participants/me/choices", json=body)
    assert resp.status_code == 400 and resp.get_json()["error"]["code"] == code
    assert not [k for k in r.keys("*") if ":seats:" in k or ":taken:" in k]


def test_choices_need_a_participant(client):
    assert client.put(API + "/participants/me/choices", json={"ronde-1": "incubator"}).status_code == 401
    assert client.get(API + "/participants/me").status_code == 401


def test_a_full_session_refuses_with_suggestions_and_changes_nothing(make_app, tmp_path):
    app = make_app(PLEIN_PROGRAM=str(small_program(tmp_path, capacity=1)))
    first = participant(app, "Eerste")
    assert first.put(API + "/participants/me/choices", json={"ronde-1": "cooperatieve-tech"}).status_code == 200
    second = participant(app, "Tweede")
    resp = second.put(API + "/participants/me/choices", json={"ronde-3": "incubator", "ronde-1": "cooperatieve-tech"})
    assert resp.status_code == 409
    error = resp.get_json()["error"]
    assert error["code"] == "session_full" and error["round"] == "ronde-1" and error["session"] == "cooperatieve-tech"
    assert "vol" in error["message"]
    assert [s["id"] for s in error["suggestions"]] == ["toekomst-wooncooperatie", "toolkit-energietransitie"]
    assert second.get(API + "/participants/me").get_json()["choices"] == {}  # all or nothing: ronde-3 not taken
    # keeping one's own seat in a full session is fine
    assert first.put(API + "/participants/me/choices", json={"ronde-1": "cooperatieve-tech"}).status_code == 200


def test_rules_while_a_round_runs_and_after(make_app, tmp_path):
    app = make_app(PLEIN_PROGRAM=str(small_program(tmp_path, capacity=5, switching=False)))
    c = participant(app, "Chris")
    ev = app.extensions["plein"]
    ev.clock.act("start")
    # in-beeld runs and allows switching
    resp = c.put(API + "/participants/me/choices", json={"in-beeld": "voedsel-zorg"})
    assert resp.status_code == 200 and resp.get_json()["placements"]["in-beeld"] == "voedsel-zorg"
    resp = c.put(API + "/participants/me/choices", json={"in-beeld": None})
    assert resp.status_code == 409 and resp.get_json()["error"]["code"] == "cannot_withdraw"
    ev.clock.act("advance")
    ev.clock.act("advance")  # ronde-1 runs; its program says switching = false
    resp = c.put(API + "/participants/me/choices", json={"ronde-1": "incubator"})
    assert resp.get_json()["error"]["code"] == "unknown_session"
    resp = c.put(API + "/participants/me/choices", json={"ronde-1": "cooperatieve-tech"})
    assert resp.status_code == 409 and resp.get_json()["error"]["code"] == "switching_off"
    resp = c.put(API + "/participants/me/choices", json={"in-beeld": "wonen-energie"})
    assert resp.status_code == 409 and resp.get_json()["error"]["code"] == "round_over"
    assert resp.get_json()["error"]["round"] == "in-beeld"
    assert c.get(API).get_json()["phases"][2]["status"] == "running"


def test_a_locked_round_refuses_choices_until_unlocked(client):
    client.post(API + "/participants", json={"name": "Dana"})
    assert client.post(API + "/rounds/ronde-2/lock", json={"locked": True}).status_code == 403  # a participant, not a moderator
    resp = client.post(API + "/rounds/ronde-2/lock", json={"locked": True}, headers=MOD)
    assert resp.status_code == 200 and [x["locked"] for x in resp.get_json()["rounds"]] == [False, False, True, False]
    resp = client.put(API + "/participants/me/choices", json={"ronde-2": "samensturing"})
    assert resp.status_code == 409 and resp.get_json()["error"]["code"] == "choices_locked"
    for bad in ({"locked": "yes"}, {}):
        assert client.post(API + "/rounds/ronde-2/lock", json=bad, headers=MOD).status_code == 400
    assert client.post(API + "/rounds/opening/lock", json={"locked": True}, headers=MOD).status_code == 404
    client.post(API + "/rounds/ronde-2/lock", json={"locked": False}, headers=MOD)
    assert client.put(API + "/participants/me/choices", json={"ronde-2": "samensturing"}).status_code == 200


def test_round_start_places_whoever_did_not_choose(make_app, tmp_path):
    """Most free places first (ties: program order), in join order; never over capacity while room is left."""
    app = make_app(PLEIN_PROGRAM=str(small_program(tmp_path, capacity=2)))
    ev = app.extensions["plein"]
    chooser = participant(app, "Kiezer")
    chooser.put(API + "/participants/me/choices", json={"in-beeld": "wonen-energie"})
    others = [participant(app, f"P{i}") for i in range(3)]
    ev.clock.act("start")
    pushes = ev.due()
    seats = ev.seats.members("in-beeld")
    assert sorted(seats.values()) == ["voedsel-zorg", "voedsel-zorg", "wonen-energie", "wonen-energie"]
    me = [c.get(API + "/participants/me").get_json() for c in others]
    # the first placed goes to voedsel-zorg (2 free against 1), the next to wonen-energie (tie: program order)
    assert [m["placements"]["in-beeld"] for m in me] == ["voedsel-zorg", "wonen-energie", "voedsel-zorg"]
    assert all(m["choices"] == {} for m in me)
    assert not [p for p in pushes if getattr(p, "event", "") == "seats:overflow"]
    # a late joiner finds every session full: the least full one (ties: program order), and moderators are told
    told = []
    ev.notify = told.extend
    late = participant(app, "Laat")
    state = late.get(API + "/participants/me/state").get_json()
    assert state["room"]["session"]["id"] == "wonen-energie"
    assert [(p.event, p.data["count"], p.data["sessions"]) for p in told] == [("seats:overflow", 1, ["wonen-energie"])]
    overview = {s["id"]: s for s in ev.rounds_overview()[0]["sessions"]}
    assert overview["wonen-energie"]["chosen"] == 1
    assert sum(s["placed"] for s in overview.values()) == 4 and overview["wonen-energie"]["placed"] == 2


def test_overflow_is_told_to_the_moderators(make_app, tmp_path):
    app = make_app(PLEIN_PROGRAM=str(small_program(tmp_path, capacity=1)))
    ev = app.extensions["plein"]
    for i in range(3):
        participant(app, f"P{i}")
    ev.clock.act("start")
    pushes = ev.due()
    overflow = [p for p in pushes if getattr(p, "event", "") == "seats:overflow"]
    assert len(overflow) == 1 and overflow[0].data["round"] == "in-beeld" and overflow[0].data["count"] == 1
    assert sorted(ev.seats.members("in-beeld").values()) == ["voedsel-zorg", "wonen-energie", "wonen-energie"]


def test_moderator_overview_counts_connected(make_app, tmp_path):
    app = make_app()
    ev = app.extensions["plein"]
    a, b = participant(app, "A"), participant(app, "B")
    a.put(API + "/participants/me/choices", json={"ronde-1": "incubator".replace("incubator", "cooperatieve-tech")})
    b.put(API + "/participants/me/choices", json={"ronde-1": "cooperatieve-tech"})
    pid = a.get(API + "/participants/me").get_json()["id"]
    ev.presence.connect(pid, "sid-1", "worker-1")
    rounds = app.test_client().get(API + "/rounds", headers=MOD).get_json()["rounds"]
    tech = next(s for s in rounds[1]["sessions"] if s["id"] == "cooperatieve-tech")
    assert tech == {"id": "cooperatieve-tech", "title": tech["title"], "capacity": 200, "chosen": 2, "placed": 0,
                    "connected": 1}
    ev.presence.disconnect(pid, "sid-1")
    rounds = app.test_client().get(API + "/rounds", headers=MOD).get_json()["rounds"]
    assert next(s for s in rounds[1]["sessions"] if s["id"] == "cooperatieve-tech")["connected"] == 0


def test_calendars_are_valid_icalendar(client):
    from icalendar import Calendar
    client.post(API + "/participants", json={"name": "Eva"})
    client.put(API + "/participants/me/choices", json={"ronde-3": "incubator"})
    resp = client.get(API + "/participants/me/calendar.ics")
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("text/calendar")
    assert "attachment" in resp.headers["Content-Disposition"]
    cal = Calendar.from_ical(resp.data)
    events = cal.walk("VEVENT")
    assert len(events) == 9
    ronde3 = next(e for e in events if str(e["UID"]).startswith("cooperatieve-stad-2022-ronde-3"))
    assert "De Amsterdamse coöperatieven incubator" in str(ronde3["SUMMARY"])
    assert ronde3.decoded("DTSTART").isoformat() == "2022-01-17T20:30:00+01:00"
    assert ronde3["DTSTART"].params["TZID"] == "Europe/Amsterdam"
    assert "/e/cooperatieve-stad-2022/live" in str(ronde3["URL"])
    assert cal.walk("VTIMEZONE")
    program = Calendar.from_ical(client.get(API + "/calendar.ics").data)
    assert [str(e["SUMMARY"]) for e in program.walk("VEVENT")][4] == "Plenaire opening"


def test_personal_link_signs_in(client, app):
    ev = app.extensions["plein"]
    person, token = ev.participants.create("Gerrit")
    resp = client.get(f"/e/cooperatieve-stad-2022/p/{token}")
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/e/cooperatieve-stad-2022/live")
    assert client.get(API + "/participants/me").get_json()["id"] == person.id
    resp = app.test_client().get("/e/cooperatieve-stad-2022/p/not-a-valid-token-at-all")
    assert resp.status_code == 404 and "niet (meer) geldig" in resp.get_data(as_text=True)


def test_whoever_chose_nothing_is_placed_a_minute_ahead_so_the_round_start_only_emits(make_app, monkeypatch):
    """Placement (and moving sockets) one program minute before a round, then again for late joiners: the round's
    start itself places only who joined since, and regroups no socket that was placed ahead."""
    from rooms.evening import JOIN_CLOCK_MARGIN, PLACE_AHEAD_MINUTES, Push, Regroup
    app = make_app()
    ev = app.extensions["plein"]
    clock = {"t": 1_900_000_000.0}
    ev.clock.now = lambda: clock["t"]
    monkeypatch.setattr("rooms.participants.time.time", lambda: clock["t"])  # join times on the same clock
    chooser = participant(app, "Kiezer")
    chooser.put(API + "/participants/me/choices", json={"ronde-1": "cooperatieve-tech"})
    quiet = [participant(app, f"Stil {i}") for i in range(3)]
    pids = [c.get(API + "/participants/me").get_json()["id"] for c in quiet]
    for i, pid in enumerate(pids):
        ev.presence.connect(pid, f"sid-{i}", "worker-1")
    ev.clock.act("start")
    ev.due()
    ev.clock.act("advance")  # the break before round I
    ev.due()
    state = ev.state()
    assert state.current.phase.kind == "break" and state.next.phase.id == "ronde-1"
    assert list(ev.seats.members("ronde-1").values()) == ["cooperatieve-tech"]  # 15 minutes to go: nobody placed
    # The ticker wakes for the placement ahead, not only for the round's start.
    ahead_at = state.next.starts_at - PLACE_AHEAD_MINUTES * 60
    assert ev.seconds_to_next(state) == pytest.approx(ahead_at - clock["t"])

    clock["t"] = ahead_at - 1
    assert ev.due() == [] and len(ev.seats.members("ronde-1")) == 1
    clock["t"] = ahead_at + 1
    ahead = ev.due()
    seats = ev.seats.members("ronde-1")
    assert set(seats) >= set(pids) and len(seats) == 4
    moved = {sid for item in ahead if isinstance(item, Regroup) for sid in item.sids}
    assert moved == {"sid-0", "sid-1", "sid-2"}
    assert all(item.enter == (f"cooperatieve-stad-2022:session:{seats[pids[int(sid[-1])]]}",)
               for item in ahead if isinstance(item, Regroup) for sid in item.sids)
    assert ev.due() == []  # once

    # Late joiners: one whose page asks for its state is placed at once; one who never connects, at the start.
    late = participant(app, "Laat")
    assert late.get(API + "/participants/me/state").get_json()["next_room"]["session"]
    late_pid = late.get(API + "/participants/me").get_json()["id"]
    assert late_pid in ev.seats.members("ronde-1")
    silent = participant(app, "Stil laat")
    silent_pid = silent.get(API + "/participants/me").get_json()["id"]
    assert silent_pid not in ev.seats.members("ronde-1")
    # A placed participant who withdraws in the last minute is placed again at once (the start only places newcomers).
    quiet[0].put(API + "/participants/me/choices", json={"ronde-1": "cooperatieve-tech"})
    quiet[0].put(API + "/participants/me/choices", json={"ronde-1": None})
    assert pids[0] in ev.seats.members("ronde-1")

    calls = []
    place = ev.seats.place
    ev.seats.place = lambda *a, **k: calls.append(k) or place(*a, **k)
    clock["t"] = state.next.starts_at + 1
    start = ev.due()
    assert calls == [{"since": pytest.approx(ahead_at + 1 - JOIN_CLOCK_MARGIN)}]  # who joined since, not everyone
    assert silent_pid in ev.seats.members("ronde-1")
    assert not [item for item in start if isinstance(item, Regroup)]  # nobody had a socket to move
    states = [item for item in start if isinstance(item, Push) and item.event == "state"]
    assert len(states) == 1 + len(ev.program.phase("ronde-1").sessions)  # moderators + one per session


def test_a_moderator_who_skips_ahead_into_a_round_still_gets_everyone_placed(make_app):
    """No placement ahead happened (the moderator pressed Next in the break): the start places everyone."""
    from rooms.evening import Regroup
    app = make_app()
    ev = app.extensions["plein"]
    quiet = participant(app, "Stil")
    pid = quiet.get(API + "/participants/me").get_json()["id"]
    ev.presence.connect(pid, "sid-q", "worker-1")
    ev.clock.act("start")
    ev.due()
    ev.clock.act("advance")
    ev.due()
    ev.clock.act("advance")  # straight into round I
    pushes = ev.due()
    assert pid in ev.seats.members("ronde-1")
    assert [item.sids for item in pushes if isinstance(item, Regroup)] == [("sid-q",)]
