"""The times each phase actually ran, kept in Redis at every clock action (issue 10, item 9): the program list shows
a played phase as it ran, after extends, pauses, jumps, next and back, not as the planned or recomputed times."""
from __future__ import annotations

import pytest

from rooms.clock import ClockService

pytestmark = pytest.mark.redis

T0 = 1_000_000.0


class Now:
    def __init__(self, t: float):
        self.t = t

    def __call__(self) -> float:
        return self.t


def runs(service, **kw):
    return [(x["phase"], x["starts_at"], x["ends_at"]) for x in service.played(**kw)]


def test_next_extend_back_keep_the_times_the_phases_ran(r, program):
    now = Now(T0)
    clock = ClockService(r, program, speed=60, now=now)  # the waiting clock (the 2022 date has passed)
    clock.get()
    assert runs(clock) == []
    first, second = program.phases[0].id, program.phases[1].id
    clock.act("start")
    now.t += 10
    assert runs(clock) == [(first, T0, None)]  # running: its run is open
    clock.act("extend", 5)  # five minutes more (5 s at speed 60): still one run
    now.t += 20
    clock.act("advance")  # the first phase ran 30 s, not its planned length
    assert runs(clock) == [(first, T0, T0 + 30), (second, T0 + 30, None)]
    now.t += 7
    clock.act("back")  # the first phase again: its first run stays as it was, the second's short run too
    now.t += 3
    assert runs(clock) == [(first, T0, T0 + 30), (second, T0 + 30, T0 + 37), (first, T0 + 37, None)]
    # What the timeline now says about the first phase (it begins at T0 + 37) is not what the list keeps.
    state = clock.state()
    assert state.current.phase.id == first and state.current.starts_at == T0 + 37


def test_a_pause_and_natural_transitions_count_as_the_clock_ran_them(r, program):
    now = Now(T0)
    clock = ClockService(r, program, speed=60, now=now)
    clock.act("start")
    planned0 = program.phases[0].duration / 60
    planned1 = program.phases[1].duration / 60
    now.t += 2
    clock.act("pause")
    now.t += 100  # held for 100 s: the first phase grows by as much
    clock.act("resume")
    now.t += planned0 + planned1 / 2  # past the first phase's end without any action: the ticker's transition
    got = runs(clock)
    assert got[0] == (program.phases[0].id, T0, T0 + planned0 + 100)
    assert got[1] == (program.phases[1].id, T0 + planned0 + 100, None)


def test_jump_and_end_close_the_runs_and_a_reset_forgets_them(r, program):
    now = Now(T0)
    clock = ClockService(r, program, speed=60, now=now)
    clock.act("start")
    now.t += 4
    last = program.phases[-1].id
    clock.act("jump", phase=last)
    now.t += 6
    clock.act("end")
    now.t += 50
    assert runs(clock) == [(program.phases[0].id, T0, T0 + 4), (last, T0 + 4, T0 + 10)]
    clock.setup(reset=True)
    assert runs(clock) == []


def test_the_event_lists_each_phase_with_its_runs(app, client, moderator_headers):
    client.post("/api/events/cooperatieve-stad-2022/clock", json={"action": "start"}, headers=moderator_headers)
    client.post("/api/events/cooperatieve-stad-2022/clock", json={"action": "advance"}, headers=moderator_headers)
    phases = client.get("/api/events/cooperatieve-stad-2022").get_json()["phases"]
    assert len(phases[0]["ran"]) == 1 and phases[0]["ran"][0]["ends_at"] is not None
    assert phases[0]["ran"][0]["ends_at"] == phases[1]["ran"][0]["starts_at"]
    assert phases[1]["ran"][0]["ends_at"] is None  # running now
    assert phases[2]["ran"] == []

