"""The program clock: exact examples of every action, and properties over random programs and actions."""
from __future__ import annotations

import datetime as dt
import json
import math
from zoneinfo import ZoneInfo

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from rooms.program import PHASE_KINDS, Phase, Program, Session, parse_program
from rooms.timeline import (
    ACTIONS,
    MAX_EXTEND_MINUTES,
    Clock,
    ClockError,
    State,
    apply,
    initial_clock,
    iso,
    planned_durations,
    slot_dict,
    state_at,
    state_dict,
)

pytestmark = pytest.mark.unit

UTC = ZoneInfo("UTC")
AMS = ZoneInfo("Europe/Amsterdam")
DAY = 86400.0
EPS = 1e-5  # float slack for sums of epoch seconds (~2e9, so one ulp is ~2.4e-7)


def make_program(minutes: list[int], kinds: list[str] | None = None,
                 start: dt.datetime = dt.datetime(2030, 6, 3, 16, 0, tzinfo=UTC)) -> Program:
    """Contiguous phases p0, p1, ... of these lengths, built directly (no file)."""
    phases, t = [], start
    for i, m in enumerate(minutes):
        kind = kinds[i] if kinds else "plenary"
        sessions = (Session(f"s{i}", f"S{i}", "talk", 10),) if kind == "round" else ()
        phases.append(Phase(f"p{i}", kind, f"P{i}", t, t + dt.timedelta(minutes=m), sessions))
        t += dt.timedelta(minutes=m)
    return Program("test", "Test", str(start.tzinfo), start.date(), tuple(phases))


P = make_program([10, 20, 30], ["plenary", "round", "plenary"])  # 600 s, 1200 s, 1800 s
T0 = P.phases[0].starts_at.timestamp()
END = T0 + 3600


def clock_at(anchor: float | None = T0, durations=(600.0, 1200.0, 1800.0), **kw) -> Clock:
    return Clock(anchor, tuple(float(d) for d in durations), **kw)


def spans(state: State, base: float = T0) -> list[tuple[str, float, float]]:
    return [(s.phase.id, s.starts_at - base, s.ends_at - base) for s in state.schedule]


def refused(code: str, clock: Clock, action: str, at: float, minutes=None, program: Program = P) -> ClockError:
    with pytest.raises(ClockError) as info:
        apply(program, clock, action, at, minutes)
    assert info.value.code == code
    assert str(info.value)  # a readable message for the moderator
    return info.value


# --------------------------------------------------------------------------- initial_clock

def test_initial_clock_future_date_is_anchored_at_the_planned_start():
    clock = initial_clock(P, T0 - DAY)
    assert clock == Clock(T0, (600.0, 1200.0, 1800.0), 1.0, None, 1)
    state = state_at(P, clock, T0 - DAY)
    assert state.status == "before" and state.current is None and state.remaining is None
    assert state.next.phase.id == "p0" and state.next.starts_at == T0
    assert spans(state) == [("p0", 0, 600), ("p1", 600, 1800), ("p2", 1800, 3600)]


def test_initial_clock_while_the_evening_runs():
    clock = initial_clock(P, T0 + 700)
    assert clock.anchor == T0
    state = state_at(P, clock, T0 + 700)
    assert state.status == "running"
    assert state.current.phase.id == "p1" and state.current.index == 1
    assert state.remaining == 1100
    assert state.next.phase.id == "p2"


def test_initial_clock_in_the_last_second_still_runs():
    state = state_at(P, initial_clock(P, END - 1), END - 1)
    assert (state.status, state.current.phase.id, state.remaining, state.next) == ("running", "p2", 1, None)


@pytest.mark.parametrize("now", [END, END + 1, T0 + 30 * DAY])
def test_initial_clock_after_the_evening_waits_for_the_moderator(now):
    clock = initial_clock(P, now)
    assert clock.anchor is None and clock.version == 1
    state = state_at(P, clock, now)
    assert state.status == "waiting"
    assert state.current is None and state.remaining is None and state.schedule == ()
    assert (state.next.phase.id, state.next.starts_at, state.next.ends_at) == ("p0", T0, T0 + 600)


def test_initial_clock_explicit_start():
    start = T0 + 30 * DAY + 0.25
    clock = initial_clock(P, T0 + 30 * DAY, start=start)
    assert clock.anchor == start
    assert spans(state_at(P, clock, start), start) == [("p0", 0, 600), ("p1", 600, 1800), ("p2", 1800, 3600)]


def test_initial_clock_speed_divides_the_durations():
    clock = initial_clock(P, T0, speed=60, start=T0)
    assert clock.durations == (10.0, 20.0, 30.0) and clock.speed == 60
    assert planned_durations(P, 4) == (150.0, 300.0, 450.0)


@pytest.mark.parametrize("speed", [0, -1, math.nan])
def test_initial_clock_bad_speed(speed):
    with pytest.raises(ClockError) as info:
        initial_clock(P, T0, speed=speed)
    assert info.value.code == "bad_speed"


def test_an_unknown_action_is_refused():
    refused("bad_action", clock_at(), "skip", T0 + 10)


# --------------------------------------------------------------------------- start

def test_start_from_waiting():
    clock = clock_at(None)
    new = apply(P, clock, "start", T0 + DAY)
    assert new == Clock(T0 + DAY, (600.0, 1200.0, 1800.0), 1.0, None, 2)
    state = state_at(P, new, T0 + DAY)
    assert state.status == "running" and state.current.phase.id == "p0" and state.remaining == 600


def test_start_before_the_planned_time_begins_now():
    new = apply(P, clock_at(), "start", T0 - 3600)
    assert new.anchor == T0 - 3600 and new.version == 2
    assert spans(state_at(P, new, T0)) == [("p0", -3600, -3000), ("p1", -3000, -1800), ("p2", -1800, 0)]


def test_start_is_refused_while_a_phase_runs():
    err = refused("already_running", clock_at(), "start", T0 + 100)
    assert "'P0'" in str(err)  # names the phase that runs


def test_start_after_the_end_plays_the_evening_again_at_planned_lengths():
    clock = clock_at(durations=(100, 1300, 5))  # moved around earlier
    new = apply(P, clock, "start", END + 50)
    assert new.anchor == END + 50 and new.durations == (600.0, 1200.0, 1800.0)


# --------------------------------------------------------------------------- advance

def test_advance_before_the_evening_is_start():
    assert apply(P, clock_at(), "advance", T0 - 100) == Clock(T0 - 100, (600.0, 1200.0, 1800.0), 1.0, None, 2)
    assert apply(P, clock_at(None), "advance", T0 + DAY) == Clock(T0 + DAY, (600.0, 1200.0, 1800.0), 1.0, None, 2)


def test_advance_ends_the_current_phase_now_and_later_phases_shift_by_as_much():
    new = apply(P, clock_at(), "advance", T0 + 100)
    assert new.durations == (100.0, 1200.0, 1800.0) and new.anchor == T0 and new.version == 2
    state = state_at(P, new, T0 + 100)
    assert state.current.phase.id == "p1" and state.remaining == 1200
    assert spans(state) == [("p0", 0, 100), ("p1", 100, 1300), ("p2", 1300, 3100)]


def test_advance_on_the_last_phase_ends_the_evening():
    new = apply(P, clock_at(), "advance", T0 + 3000)
    assert new.durations == (600.0, 1200.0, 1200.0)
    assert state_at(P, new, T0 + 3000).status == "ended"
    assert state_at(P, new, T0 + 2999.5).current.phase.id == "p2"


def test_advance_after_the_end_is_refused():
    refused("no_next_phase", clock_at(), "advance", END)
    refused("no_next_phase", clock_at(), "advance", END + DAY)


def test_advance_at_the_very_start_of_a_phase_skips_it():
    new = apply(P, clock_at(), "advance", T0 + 600)  # p1 has just begun
    state = state_at(P, new, T0 + 600)
    assert new.durations == (600.0, 0.0, 1800.0)
    assert state.current.phase.id == "p2" and state.remaining == 1800


def test_a_phase_of_length_zero_is_skipped():
    program = make_program([0, 10, 0, 0, 20])
    clock = initial_clock(program, T0 - 60)
    before = state_at(program, clock, T0 - 60)
    assert before.status == "before" and before.next.phase.id == "p1"
    at_start = state_at(program, clock, T0)
    assert at_start.current.phase.id == "p1" and at_start.next.phase.id == "p4"
    assert state_at(program, clock, T0 + 600).current.phase.id == "p4"
    advanced = apply(P, clock_at(), "advance", T0 + 600)  # p1 ends as it begins: length 0
    assert state_at(P, advanced, T0 + 10).next.phase.id == "p2"


# --------------------------------------------------------------------------- back

def test_back_from_phase_zero_is_refused():
    refused("no_previous_phase", clock_at(), "back", T0 + 10)


@pytest.mark.parametrize("clock, at", [(clock_at(), T0 - 10), (clock_at(None), T0 + DAY)])
def test_back_before_the_evening_is_refused(clock, at):
    refused("no_previous_phase", clock, "back", at)


def test_back_restarts_the_previous_phase_and_then_the_current_one():
    clock = clock_at(durations=(100, 1200, 1800))  # p0 was cut short: p1 runs 100..1300
    new = apply(P, clock, "back", T0 + 700)
    assert new.anchor == T0 + 700 and new.durations == (600.0, 1200.0, 1800.0) and new.version == 2
    state = state_at(P, new, T0 + 700)
    assert state.current.phase.id == "p0" and state.remaining == 600
    assert spans(state) == [("p0", 700, 1300), ("p1", 1300, 2500), ("p2", 2500, 4300)]


def test_back_keeps_earlier_phases_and_later_lengths():
    clock = clock_at(durations=(600, 400, 900))  # p2 runs 1000..1900, shortened
    new = apply(P, clock, "back", T0 + 1500)
    # p1 again from now at its planned 1200 s, then p2 at its planned 1800 s; p0 keeps its place.
    assert new.durations == (600.0, 1200.0, 1800.0) and new.anchor == T0 + 900
    assert spans(state_at(P, new, T0 + 1500)) == [("p0", 900, 1500), ("p1", 1500, 2700), ("p2", 2700, 4500)]


def test_back_after_the_end_plays_the_last_phase_again():
    new = apply(P, clock_at(durations=(600, 1200, 60)), "back", T0 + 5000)
    assert new.durations == (600.0, 1200.0, 1800.0) and new.anchor == T0 + 5000 - 1800
    state = state_at(P, new, T0 + 5000)
    assert state.status == "running" and state.current.phase.id == "p2" and state.remaining == 1800
    assert state.current.starts_at == T0 + 5000


# --------------------------------------------------------------------------- extend

def test_extend_later_moves_the_end_and_every_later_phase():
    new = apply(P, clock_at(), "extend", T0 + 700, 10)
    assert new.durations == (600.0, 1800.0, 1800.0) and new.version == 2
    state = state_at(P, new, T0 + 700)
    assert state.remaining == 1700
    assert spans(state) == [("p0", 0, 600), ("p1", 600, 2400), ("p2", 2400, 4200)]


def test_extend_earlier():
    new = apply(P, clock_at(), "extend", T0 + 700, -5)
    assert spans(state_at(P, new, T0 + 700)) == [("p0", 0, 600), ("p1", 600, 1500), ("p2", 1500, 3300)]


def test_extend_fractional_minutes():
    new = apply(P, clock_at(), "extend", T0 + 700, 0.5)
    assert new.durations[1] == 1230


def test_shortening_never_ends_before_now():
    new = apply(P, clock_at(), "extend", T0 + 1000, -15)  # 800 s left, 900 s taken off
    assert new.durations == (600.0, 400.0, 1800.0)
    state = state_at(P, new, T0 + 1000)
    assert state.current.phase.id == "p2" and state.current.starts_at == T0 + 1000
    assert spans(state) == [("p0", 0, 600), ("p1", 600, 1000), ("p2", 1000, 2800)]


@pytest.mark.parametrize("minutes", [MAX_EXTEND_MINUTES, -MAX_EXTEND_MINUTES])
def test_extend_limits_are_accepted(minutes):
    new = apply(P, clock_at(), "extend", T0 + 100, minutes)
    assert new.durations[0] == max(600 + minutes * 60, 100)


@pytest.mark.parametrize("minutes", [0, 0.0, True, False, "5", None, math.nan, math.inf, -math.inf,
                                     1000, MAX_EXTEND_MINUTES + 1, -MAX_EXTEND_MINUTES - 0.5, [5]])
def test_extend_bad_minutes_are_refused(minutes):
    refused("bad_minutes", clock_at(), "extend", T0 + 100, minutes)


@pytest.mark.parametrize("clock, at", [(clock_at(), T0 - 1), (clock_at(), END), (clock_at(None), T0)])
def test_extend_without_a_running_phase_is_refused(clock, at):
    refused("no_current_phase", clock, "extend", at, 5)


# --------------------------------------------------------------------------- pause / resume

def test_pause_freezes_the_remaining_time_and_resume_shifts_the_rest():
    paused = apply(P, clock_at(), "pause", T0 + 700)
    assert paused.paused_at == T0 + 700 and paused.version == 2
    assert paused.anchor == T0 and paused.durations == (600.0, 1200.0, 1800.0)
    for now in (T0 + 700, T0 + 1800, T0 + 5000, T0 + DAY):
        state = state_at(P, paused, now)
        assert state.paused and state.status == "running"
        assert state.current.phase.id == "p1" and state.remaining == 1100
        assert state.current.ends_at == now + 1100 and state.next.starts_at == now + 1100
    resumed = apply(P, paused, "resume", T0 + 1700)  # held 1000 s
    assert resumed == Clock(T0, (600.0, 2200.0, 1800.0), 1.0, None, 3)
    state = state_at(P, resumed, T0 + 1700)
    assert not state.paused and state.remaining == 1100
    assert spans(state) == [("p0", 0, 600), ("p1", 600, 2800), ("p2", 2800, 4600)]
    assert state_at(P, resumed, T0 + 1800).remaining == 1000  # the countdown runs again


def test_pause_before_the_evening_moves_the_start():
    paused = apply(P, clock_at(), "pause", T0 - 100)
    state = state_at(P, paused, T0 + 500)
    assert state.status == "before" and state.paused and state.next.starts_at == T0 + 600
    resumed = apply(P, paused, "resume", T0 + 50)
    assert resumed.anchor == T0 + 150 and resumed.durations == (600.0, 1200.0, 1800.0)


def test_double_pause_is_refused():
    refused("already_paused", apply(P, clock_at(), "pause", T0 + 10), "pause", T0 + 20)


def test_resume_when_not_paused_is_refused():
    refused("not_paused", clock_at(), "resume", T0 + 10)


@pytest.mark.parametrize("clock, at", [(clock_at(None), T0), (clock_at(), END), (clock_at(), END + 10)])
def test_pause_without_a_countdown_is_refused(clock, at):
    refused("not_running", clock, "pause", at)


def test_extend_while_paused_stays_paused_with_more_time():
    paused = apply(P, clock_at(), "pause", T0 + 700)
    new = apply(P, paused, "extend", T0 + 900, 10)
    assert new.paused_at == T0 + 900 and new.version == 3
    for now in (T0 + 900, T0 + 4000):
        state = state_at(P, new, now)
        assert state.paused and state.current.phase.id == "p1" and state.remaining == 1700


def test_advance_while_paused_holds_the_next_phase_at_its_full_length():
    paused = apply(P, clock_at(), "pause", T0 + 700)
    new = apply(P, paused, "advance", T0 + 900)
    assert new.paused_at == T0 + 900
    # p1 ran 600..900 (the 200 s held while paused count as its time)
    assert new.durations[:2] == (600.0, 300.0)
    for now in (T0 + 900, T0 + 9000):
        state = state_at(P, new, now)
        assert state.paused and state.current.phase.id == "p2" and state.remaining == 1800


def test_start_while_paused_before_the_evening_runs_unpaused():
    paused = apply(P, clock_at(), "pause", T0 - 100)
    new = apply(P, paused, "start", T0 - 50)
    assert new == Clock(T0 - 50, (600.0, 1200.0, 1800.0), 1.0, None, 3)


# --------------------------------------------------------------------------- speed, versions, storage

def test_speed_divides_durations_and_extend_minutes():
    clock = initial_clock(P, T0, speed=60, start=T0)
    state = state_at(P, clock, T0 + 15)
    assert state.speed == 60 and state.current.phase.id == "p1" and state.remaining == 15
    new = apply(P, clock, "extend", T0 + 15, 10)  # 10 minutes at speed 60: 10 seconds
    assert new.durations == (10.0, 30.0, 30.0) and new.speed == 60
    assert spans(state_at(P, new, T0 + 15)) == [("p0", 0, 10), ("p1", 10, 40), ("p2", 40, 70)]
    back = apply(P, new, "back", T0 + 20)
    assert back.durations == (10.0, 20.0, 30.0) and back.anchor == T0 + 20


def test_versions_grow_by_one_per_accepted_action_only():
    steps = [
        ("start", T0, None, None),
        ("start", T0 + 5, None, "already_running"),
        ("extend", T0 + 10, 5, None),
        ("resume", T0 + 15, None, "not_paused"),
        ("pause", T0 + 20, None, None),
        ("pause", T0 + 25, None, "already_paused"),
        ("advance", T0 + 30, None, None),
        ("resume", T0 + 40, None, None),
        ("back", T0 + 50, None, None),
        ("back", T0 + 55, None, "no_previous_phase"),
        ("extend", T0 + 60, 0, "bad_minutes"),
        ("advance", T0 + 60, None, None),
    ]
    clock, accepted = clock_at(None), 0
    for action, at, minutes, code in steps:
        if code is not None:
            refused(code, clock, action, at, minutes)
            continue
        new = apply(P, clock, action, at, minutes)
        assert new.version == clock.version + 1
        clock, accepted = new, accepted + 1
    assert (clock.version, accepted) == (8, 7)
    assert state_at(P, clock, T0 + 60).current.phase.id == "p1"


def test_clock_round_trips_through_a_dict_and_json():
    clocks = [clock_at(), clock_at(None), Clock(T0 + 0.125, (1.5, 0.0, 30.0), 60.0, T0 + 3.5, 42)]
    for clock in clocks:
        d = clock.to_dict()
        assert Clock.from_dict(d) == clock
        assert Clock.from_dict(json.loads(json.dumps(d))) == clock
    assert clocks[2].to_dict() == {"anchor": T0 + 0.125, "durations": [1.5, 0.0, 30.0], "speed": 60.0,
                                   "paused_at": T0 + 3.5, "version": 42}
    restored = Clock.from_dict({"anchor": 5, "durations": [1, 2, 3], "speed": 1, "paused_at": None, "version": 7})
    assert restored.durations == (1.0, 2.0, 3.0) and isinstance(restored.speed, float)


def test_state_dict_wire_form():
    clock = apply(P, clock_at(), "pause", T0 + 700.25)
    state = state_at(P, clock, T0 + 800)
    ams = lambda seconds: dt.datetime.fromtimestamp(T0 + seconds, AMS).isoformat(timespec="milliseconds")  # noqa: E731
    assert state_dict(state, AMS) == {
        "version": 2, "status": "running",
        "phase": {"id": "p1", "kind": "round", "title": "P1", "starts_at": ams(600), "ends_at": ams(1899.75)},
        "next": {"id": "p2", "kind": "plenary", "title": "P2", "starts_at": ams(1899.75), "ends_at": ams(3699.75)},
        "server_time": ams(800), "speed": 1.0, "paused": True, "remaining": 1099.75,
    }
    assert iso(T0, AMS) == "2030-06-03T18:00:00.000+02:00"
    assert slot_dict(None, AMS) is None
    waiting = state_dict(state_at(P, clock_at(None), T0), UTC)
    assert waiting["phase"] is None and waiting["remaining"] is None and waiting["status"] == "waiting"


# --------------------------------------------------------------------------- the seed evening, and DST

def test_seed_evening_at_speed_600_lasts_36_seconds_in_program_order(seed):
    t0 = 1_700_000_000.0
    clock = initial_clock(seed, t0 - 1000, speed=600, start=t0)
    seen = []
    for k in range(0, 36 * 20):
        state = state_at(seed, clock, t0 + k / 20)
        assert state.status == "running"
        if not seen or seen[-1] != state.current.phase.id:
            seen.append(state.current.phase.id)
    assert seen == [p.id for p in seed.phases]
    assert state_at(seed, clock, t0 - 0.001).status == "before"
    assert state_at(seed, clock, t0 + 36).status == "ended"
    assert state_at(seed, clock, t0 + 35.99).current.phase.id == "afsluiting"
    last = state_at(seed, clock, t0).schedule[-1]
    assert last.ends_at - t0 == pytest.approx(36, abs=1e-9)
    assert [round(s.ends_at - s.starts_at, 9) for s in state_at(seed, clock, t0).schedule] == \
        [6, 1.5, 6, 1.5, 6, 1.5, 4.5, 6, 3]


def test_seed_evening_at_its_own_time(seed):
    t0 = seed.phases[0].starts_at.timestamp()
    clock = initial_clock(seed, t0 - 60)
    for p in seed.phases:
        state = state_at(seed, clock, p.starts_at.timestamp())
        assert state.current.phase.id == p.id
        assert (state.current.starts_at, state.current.ends_at) == (p.starts_at.timestamp(), p.ends_at.timestamp())


def test_planned_times_survive_a_clock_change():
    """Phase i starts at anchor + sum of earlier durations: across DST that is the planned instant."""
    text = """
[event]
slug = "nacht"
title = "Nacht"
timezone = "Europe/Amsterdam"
date = 2022-03-27
[[phases]]
id = "voor"
kind = "plenary"
title = "Voor"
start = "01:00"
end = "01:30"
[[phases]]
id = "door"
kind = "plenary"
title = "Door"
start = "01:30"
end = "04:00"
[[phases]]
id = "na"
kind = "plenary"
title = "Na"
start = "04:30"
end = "05:00"
"""
    program = parse_program(text)
    clock = initial_clock(program, program.phases[0].starts_at.timestamp() - 60)
    schedule = state_at(program, clock, 0).schedule
    for slot in schedule:
        assert (slot.starts_at, slot.ends_at) == (slot.phase.starts_at.timestamp(), slot.phase.ends_at.timestamp())
    assert [s.ends_at - s.starts_at for s in schedule] == [1800, 5400, 1800, 1800]


# --------------------------------------------------------------------------- jump and end

def test_jump_forward_ends_the_running_phase_now_and_skips_the_ones_between():
    new = apply(P, clock_at(), "jump", T0 + 100, phase="p2")
    assert new == Clock(T0, (100.0, 0.0, 1800.0), 1.0, None, 2)
    state = state_at(P, new, T0 + 100)
    assert state.current.phase.id == "p2" and state.remaining == 1800 and state.next is None
    assert spans(state) == [("p0", 0, 100), ("p1", 100, 100), ("p2", 100, 1900)]


def test_jump_to_the_next_phase_is_advance():
    assert apply(P, clock_at(), "jump", T0 + 100, phase="p1").durations == \
        apply(P, clock_at(), "advance", T0 + 100).durations


def test_jump_back_plays_the_target_and_what_followed_again_at_planned_lengths():
    clock = clock_at(durations=(600, 900, 1500))  # shortened earlier
    new = apply(P, clock, "jump", T0 + 2000, phase="p0")  # p2 runs since 1500
    assert new == Clock(T0 + 2000, (600.0, 1200.0, 1800.0), 1.0, None, 2)
    state = state_at(P, new, T0 + 2000)
    assert state.current.phase.id == "p0" and state.remaining == 600 and state.next.phase.id == "p1"


def test_jump_back_keeps_the_phases_before_the_target():
    clock = clock_at(durations=(300, 900, 1800))
    new = apply(P, clock, "jump", T0 + 1000, phase="p1")  # p2 runs since 1200
    assert new.durations == (300.0, 1200.0, 1800.0) and new.anchor == T0 + 700  # p0 keeps its 300 s
    state = state_at(P, new, T0 + 1000)
    assert state.current.phase.id == "p1" and state.current.starts_at == T0 + 1000 and state.remaining == 1200


def test_jump_to_the_running_phase_restarts_it():
    new = apply(P, clock_at(durations=(600, 500, 1800)), "jump", T0 + 700, phase="p1")
    assert new.durations == (600.0, 1200.0, 1800.0) and new.anchor == T0 + 100
    state = state_at(P, new, T0 + 700)
    assert state.current.phase.id == "p1" and state.remaining == 1200


@pytest.mark.parametrize("clock, at", [(clock_at(), T0 - 500), (clock_at(None), T0 + DAY)],
                         ids=["before", "waiting"])
def test_jump_before_the_evening_starts_there_now(clock, at):
    new = apply(P, clock, "jump", at, phase="p1")
    assert new == Clock(at, (0.0, 1200.0, 1800.0), 1.0, None, 2)
    state = state_at(P, new, at)
    assert state.status == "running" and state.current.phase.id == "p1" and state.remaining == 1200


def test_jump_after_the_end_plays_from_the_target_again():
    new = apply(P, clock_at(), "jump", END + 60, phase="p1")
    state = state_at(P, new, END + 60)
    assert state.current.phase.id == "p1" and state.current.starts_at == END + 60 and state.remaining == 1200
    assert new.durations == (600.0, 1200.0, 1800.0)


def test_jump_while_paused_holds_the_target_at_its_full_length():
    paused = apply(P, clock_at(), "pause", T0 + 100)
    new = apply(P, paused, "jump", T0 + 400, phase="p2")
    assert new.paused_at == T0 + 400 and new.version == 3
    for now in (T0 + 400, T0 + 4000):
        state = state_at(P, new, now)
        assert state.paused and state.current.phase.id == "p2" and state.remaining == 1800


def test_jump_at_speed_uses_scaled_planned_lengths():
    clock = initial_clock(P, T0 - 10, speed=60.0)
    new = apply(P, clock, "jump", T0 + 1, phase="p2")
    assert state_at(P, new, T0 + 1).remaining == pytest.approx(30.0)


@pytest.mark.parametrize("phase", [None, "", "p9", 2, ["p1"]])
def test_jump_to_an_unknown_phase_is_refused(phase):
    with pytest.raises(ClockError) as info:
        apply(P, clock_at(), "jump", T0 + 10, phase=phase)
    assert info.value.code == "unknown_phase" and info.value.status == 400


def test_end_ends_the_evening_now():
    new = apply(P, clock_at(), "end", T0 + 700)
    assert new == Clock(T0, (600.0, 100.0, 0.0), 1.0, None, 2)
    state = state_at(P, new, T0 + 700)
    assert state.status == "ended" and state.current is None and state.next is None
    assert spans(state)[-1] == ("p2", 700, 700)


def test_end_while_paused_ends_the_pause_too():
    paused = apply(P, clock_at(), "pause", T0 + 100)
    new = apply(P, paused, "end", T0 + 900)
    assert new.paused_at is None and new.version == 3
    state = state_at(P, new, T0 + 900)
    assert state.status == "ended" and not state.paused


@pytest.mark.parametrize("clock, at", [(clock_at(), T0 - 500), (clock_at(None), T0 + DAY)],
                         ids=["before", "waiting"])
def test_end_before_the_evening_ends_it_without_playing_anything(clock, at):
    new = apply(P, clock, "end", at)
    assert new.anchor == at and new.durations == (0.0, 0.0, 0.0)
    assert state_at(P, new, at).status == "ended"


@pytest.mark.parametrize("at", [END, END + DAY])
def test_end_after_the_end_is_refused(at):
    refused("already_ended", clock_at(), "end", at)
    refused("already_ended", apply(P, clock_at(), "end", T0 + 10), "end", T0 + 20)


def test_start_after_end_plays_the_evening_again():
    ended = apply(P, clock_at(), "end", T0 + 700)
    again = apply(P, ended, "start", T0 + 800)
    assert state_at(P, again, T0 + 800).current.phase.id == "p0" and again.version == 3


# --------------------------------------------------------------------------- properties

def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@st.composite
def programs(draw) -> Program:
    """1-8 phases of random kinds and lengths, with or without gaps, written as TOML and parsed."""
    n = draw(st.integers(1, 8))
    t = draw(st.integers(0, 120))
    lines = ['[event]', 'slug = "eigenschap"', 'title = "Eigenschap"', 'timezone = "Europe/Amsterdam"',
             'date = 2030-06-03']
    written = []
    for i in range(n):
        gap = draw(st.sampled_from([0, 0, 0, 5, 15, 30]))
        if gap and written:
            written.append(("gap", t, t + gap))
        t += gap
        length = draw(st.integers(1, 120))
        kind = draw(st.sampled_from(PHASE_KINDS))
        lines += ['[[phases]]', f'id = "f{i}"', f'kind = "{kind}"', f'title = "F{i}"',
                  f'start = "{_hhmm(t)}"', f'end = "{_hhmm(t + length)}"']
        if kind == "round":
            for j in range(draw(st.integers(1, 3))):
                lines += ['[[phases.sessions]]', f'id = "f{i}-s{j}"', f'title = "S{j}"',
                          f'kind = "{draw(st.sampled_from(["talk", "brainstorm"]))}"',
                          f'capacity = {draw(st.integers(1, 500))}']
        written.append((f"f{i}", t, t + length))
        t += length
    program = parse_program("\n".join(lines) + "\n")
    # The parser keeps the written phases in order and fills exactly the gaps with breaks.
    got = [(p.id if not p.filled else "gap", p.starts_at.hour * 60 + p.starts_at.minute,
            p.ends_at.hour * 60 + p.ends_at.minute) for p in program.phases]
    assert got == written
    assert all(a.ends_at == b.starts_at for a, b in zip(program.phases, program.phases[1:]))
    return program


@st.composite
def built_programs(draw) -> Program:
    """Programs made in code, which may hold phases of length 0 (a file cannot)."""
    minutes = draw(st.lists(st.integers(0, 90), min_size=1, max_size=8))
    kinds = draw(st.lists(st.sampled_from(PHASE_KINDS), min_size=len(minutes), max_size=len(minutes)))
    return make_program(minutes, kinds)


ANY_PROGRAM = st.one_of(programs(), built_programs())
MINUTES = st.sampled_from([-60, -30, -5, -1, 1, 5, 10, 30, 0.5, 0, 1000, "5", True])
# The last element picks the target of a jump: a phase index, or one past the program (an unknown id).
STEPS = st.lists(st.tuples(st.sampled_from(ACTIONS), st.integers(0, 3600), MINUTES, st.integers(0, 8)), max_size=30)


def target_id(program: Program, index: int) -> str:
    return program.phases[index].id if index < len(program.phases) else "no-such-phase"


def _bad_minutes(m) -> bool:
    return isinstance(m, bool) or not isinstance(m, (int, float)) or m == 0 or abs(m) > MAX_EXTEND_MINUTES or m != m


def expected_refusal(program: Program, clock: Clock, action: str, at: float, minutes, phase=None) -> set[str]:
    """The codes with which an action may be refused, from the documented rules alone (empty: accept).

    When two rules apply at once (extend with bad minutes while nothing runs), either code is fine.
    """
    state = state_at(program, clock, at)
    if action == "jump":
        return set() if program.phase(phase) is not None else {"unknown_phase"}
    if action == "end":
        return {"already_ended"} if state.status == "ended" else set()
    if action == "pause":
        if clock.paused_at is not None:
            return {"already_paused"}
        return {"not_running"} if state.status in ("waiting", "ended") else set()
    if action == "resume":
        return set() if clock.paused_at is not None else {"not_paused"}
    if action == "start":
        return {"already_running"} if state.current is not None else set()
    if action == "advance":
        return {"no_next_phase"} if state.status == "ended" else set()
    if action == "back":
        if state.status in ("waiting", "before") or (state.current is not None and state.current.index == 0):
            return {"no_previous_phase"}
        return set()
    codes = set()
    if state.current is None:
        codes.add("no_current_phase")
    if _bad_minutes(minutes):
        codes.add("bad_minutes")
    return codes


def sample_instants(state: State, at: float) -> list[float]:
    out = {at, at + 0.5, at + 61, at + 3600, at + 10 * 3600}
    for s in state.schedule:
        out.update({s.starts_at, s.ends_at, (s.starts_at + s.ends_at) / 2, s.starts_at - 0.25})
    return sorted(t for t in out if t >= at)


def check_state(program: Program, clock: Clock, now: float) -> State:
    state = state_at(program, clock, now)
    assert state.version == clock.version and state.now == now and state.speed == clock.speed
    assert state.paused == (clock.paused_at is not None)
    if clock.anchor is None:
        assert state.status == "waiting" and state.current is None and state.schedule == ()
        assert state.next.phase == program.phases[0]
        return state
    sched = state.schedule
    assert [s.phase for s in sched] == list(program.phases)
    assert [s.index for s in sched] == list(range(len(program.phases)))
    for s in sched:
        assert s.ends_at >= s.starts_at  # no negative durations
    for a, b in zip(sched, sched[1:]):
        assert a.ends_at == b.starts_at  # contiguous, never overlapping
    containing = [s for s in sched if s.starts_at <= now < s.ends_at]
    assert len(containing) <= 1
    assert state.current == (containing[0] if containing else None)
    if now < sched[0].starts_at:
        assert state.status == "before"
        assert state.next == next((s for s in sched if s.ends_at > s.starts_at), None)
    elif now >= sched[-1].ends_at:
        assert state.status == "ended" and state.next is None
    else:
        assert state.status == "running" and state.current is not None
        assert state.next == next((s for s in sched[state.current.index + 1:] if s.ends_at > s.starts_at), None)
        assert 0 < state.remaining <= state.current.ends_at - state.current.starts_at
    return state


def check_rule(program: Program, old: Clock, new: Clock, action: str, at: float, minutes, phase=None) -> None:
    """'Every later phase keeps its length and shifts by as much as the current phase's end moved.'"""
    before, after = state_at(program, old, at), state_at(program, new, at)
    planned = planned_durations(program, old.speed)
    length = lambda s: s.ends_at - s.starts_at  # noqa: E731
    assert new.speed == old.speed
    if action in ("jump", "end"):
        check_jump(program, old, new, before, after, at, phase if action == "jump" else None)
        return
    if action == "pause":
        assert new.paused_at == at and after.paused
        assert after.schedule == before.schedule
        return
    if action == "resume":
        assert new.paused_at is None
        assert after.schedule == before.schedule  # the held time is kept, nothing else moves
        return
    starts = action == "start" or (action == "advance" and before.status in ("waiting", "before"))
    if old.paused_at is not None:
        # still paused, now holding from this instant; starting the evening (also by advance) unpauses
        assert new.paused_at == (None if starts else at)
    cur = before.current
    if action == "start" or (action == "advance" and cur is None):
        assert new.anchor == at and new.durations == planned
        return
    i = cur.index if cur is not None else len(program.phases) - 1
    if action == "back":
        target = i if cur is None else i - 1
        assert after.schedule[target].starts_at == pytest.approx(at, abs=EPS)
        assert new.durations[target] == planned[target]
        if cur is not None:
            assert new.durations[i] == planned[i]
        assert new.durations[:target] == pytest.approx([length(s) for s in before.schedule[:target]], abs=EPS)
        assert new.durations[i + 1:] == pytest.approx([length(s) for s in before.schedule[i + 1:]], abs=EPS)
        return
    if action == "advance":
        assert after.schedule[i].ends_at == pytest.approx(at, abs=EPS)
    else:  # extend
        wanted = max(cur.ends_at + minutes * 60 / old.speed, at)
        assert after.schedule[i].ends_at == pytest.approx(wanted, abs=EPS)
    moved = after.schedule[i].ends_at - before.schedule[i].ends_at
    assert after.schedule[:i] == before.schedule[:i]
    for b, a in zip(before.schedule[i + 1:], after.schedule[i + 1:]):
        assert length(a) == pytest.approx(length(b), abs=EPS)
        assert a.starts_at == pytest.approx(b.starts_at + moved, abs=EPS)


def check_jump(program, old, new, before, after, at, phase) -> None:
    """jump: the target begins now at its planned length; end: nothing runs any more, from now on."""
    planned = planned_durations(program, old.speed)
    length = lambda s: s.ends_at - s.starts_at  # noqa: E731
    cur = before.current
    if phase is None:  # end
        assert new.paused_at is None
        assert after.status == "ended" and after.schedule[-1].ends_at == pytest.approx(at, abs=EPS)
        if cur is not None:
            assert after.schedule[:cur.index] == before.schedule[:cur.index]  # what was played stays
            assert after.schedule[cur.index].ends_at == pytest.approx(at, abs=EPS)
        return
    if old.paused_at is not None and before.status in ("running", "ended"):
        assert new.paused_at == at  # a pause holds
    target = program.index(phase)
    assert after.schedule[target].starts_at == pytest.approx(at, abs=EPS)
    assert new.durations[target] == planned[target]
    if before.status in ("waiting", "before"):
        assert new.durations[target:] == planned[target:]
        assert all(d == 0 for d in new.durations[:target])  # the evening starts at the target
    elif cur is not None and target > cur.index:
        assert after.schedule[cur.index].ends_at == pytest.approx(at, abs=EPS)  # the running phase ends now
        assert all(length(s) == pytest.approx(0, abs=EPS) for s in after.schedule[cur.index + 1:target])
        assert after.schedule[:cur.index] == before.schedule[:cur.index]
        for b, a in zip(before.schedule[target + 1:], after.schedule[target + 1:]):
            assert length(a) == pytest.approx(length(b), abs=EPS)  # later phases keep their length
    else:  # back to an earlier phase, the running one again, or any phase after the end
        last = cur.index if cur is not None else len(planned) - 1
        assert new.durations[target:last + 1] == planned[target:last + 1]
        assert [length(s) for s in after.schedule[:target]] == pytest.approx(
            [length(s) for s in before.schedule[:target]], abs=EPS)  # earlier phases keep what they had
        for b, a in zip(before.schedule[last + 1:], after.schedule[last + 1:]):
            assert length(a) == pytest.approx(length(b), abs=EPS)


@settings(max_examples=200, deadline=None)
@given(program=ANY_PROGRAM, speed=st.sampled_from([1.0, 60.0, 600.0]), offset=st.integers(-7200, 26 * 3600),
       start=st.one_of(st.none(), st.integers(-3600, 3600)), steps=STEPS)
def test_random_actions_keep_the_schedule_sound(program, speed, offset, start, steps):
    planned_start = program.phases[0].starts_at.timestamp()
    at = planned_start + offset
    clock = initial_clock(program, at, speed=speed, start=None if start is None else at + start)
    assert clock.version == 1 and clock.durations == planned_durations(program, speed)
    for action, seconds, minutes, index in steps:
        at += seconds / speed
        phase = target_id(program, index)
        expected = expected_refusal(program, clock, action, at, minutes, phase)
        try:
            new = apply(program, clock, action, at, minutes, phase)
        except ClockError as exc:
            assert exc.code in expected, (action, exc.code, expected)
            event(f"refused {action}: {exc.code}")
            continue
        event(f"accepted {action} ({state_at(program, clock, at).status}{', paused' if clock.paused_at else ''})")
        assert not expected, (action, expected)
        assert new.version == clock.version + 1
        assert all(d >= 0 for d in new.durations) and len(new.durations) == len(program.phases)
        assert Clock.from_dict(json.loads(json.dumps(new.to_dict()))) == new
        check_rule(program, clock, new, action, at, minutes, phase)
        clock = new
        first = check_state(program, clock, at)
        instants = sample_instants(first, at)
        if clock.paused_at is None:
            for now in instants:
                assert check_state(program, clock, now).schedule == first.schedule  # a running clock is fixed
        else:
            for now in instants:
                state = check_state(program, clock, now)
                # while paused the countdown stands still, whatever `now` says
                assert state.status == first.status
                assert (state.current is None) == (first.current is None)
                if first.current is not None:
                    assert state.current.index == first.current.index
                    assert state.remaining == pytest.approx(first.remaining, abs=EPS)
                    assert state.current.starts_at == first.current.starts_at


@settings(max_examples=200, deadline=None)
@given(program=ANY_PROGRAM, speed=st.sampled_from([1.0, 60.0, 600.0]))
def test_an_undisturbed_evening_plays_every_phase_in_order(program, speed):
    t0 = 2_000_000_000.0
    clock = initial_clock(program, t0, speed=speed, start=t0)
    total = sum(p.duration for p in program.phases) / speed
    state = state_at(program, clock, t0)
    assert state.schedule[-1].ends_at - t0 == pytest.approx(total, abs=EPS)
    assert state_at(program, clock, t0 + total + EPS).status == "ended"
    for slot in (s for s in state.schedule if s.ends_at > s.starts_at):
        mid = state_at(program, clock, (slot.starts_at + slot.ends_at) / 2)
        assert mid.current.phase == slot.phase
        assert mid.remaining == pytest.approx((slot.ends_at - slot.starts_at) / 2, abs=EPS)
