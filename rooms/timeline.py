"""The program clock: planned times plus moderator adjustments -> effective times of every phase.

Pure functions, no I/O: the same (program, clock, now) gives the same answer in every process.

The model. The phases of a program are contiguous (gaps are breaks), so the effective schedule is
an `anchor` (the instant phase 0 begins, wall-clock epoch seconds) and one wall-clock duration
per phase; phase i runs from anchor + sum(durations[:i]) for durations[i] seconds. A phase of
length 0 is skipped. With a time scale (`speed` 60 plays an hour in a minute) every planned
duration, and every minute a moderator adds, is divided by the speed.

How later phases move (the rule the moderator console and the docs rely on): every later phase
keeps its length and shifts by exactly as much as the current phase's end moved.
- start:   phase 0 begins now, every phase at its planned length (refused while a phase runs).
- advance: the current phase ends now; the next begins now. Before the evening: same as start.
- back:    the previous phase begins again now at its planned length, the phase that was running
           comes after it at its planned length. After the evening: the last phase begins again.
- extend:  the current phase ends `minutes` later (negative: earlier, but never before now).
- pause:   the countdown stops; while paused the current phase grows with the time held, so on
           resume it has exactly the time left that it had when paused.
- resume:  the countdown runs again.
- jump:    phase `phase` begins now at its planned length. Forward: the running phase ends now and the
           phases in between are skipped (length 0). Backward (or the running phase itself): every
           phase from the target up to the running one gets its planned length again. Phases before
           the target keep what they had; later phases keep their length and shift. A pause holds.
- end:     the evening ends now: the running phase ends now, every later phase is skipped. A pause ends.
Every accepted action adds 1 to `version`; nothing else changes it.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from .errors import PleinError
from .program import Phase, Program

ACTIONS = ("start", "advance", "back", "extend", "pause", "resume", "jump", "end")
MAX_EXTEND_MINUTES = 240


class ClockError(PleinError):
    """A clock action that cannot be applied now (HTTP 409 unless the request itself is bad)."""

    status = 409


@dataclass(frozen=True)
class Clock:
    """What is stored: the anchor, the per-phase durations, the pause, the speed, the version."""

    anchor: float | None  # None: waiting for a moderator's start (the program's date has passed)
    durations: tuple[float, ...]
    speed: float = 1.0
    paused_at: float | None = None
    version: int = 1

    def to_dict(self) -> dict:
        return {"anchor": self.anchor, "durations": list(self.durations), "speed": self.speed,
                "paused_at": self.paused_at, "version": self.version}

    @classmethod
    def from_dict(cls, d: dict) -> "Clock":
        return cls(d["anchor"], tuple(float(x) for x in d["durations"]), float(d["speed"]),
                   d["paused_at"], int(d["version"]))


@dataclass(frozen=True)
class Slot:
    """A phase with its effective start and end (epoch seconds)."""

    index: int
    phase: Phase
    starts_at: float
    ends_at: float


@dataclass(frozen=True)
class State:
    """The clock read at one instant."""

    version: int
    status: str  # waiting | before | running | ended
    current: Slot | None
    next: Slot | None
    schedule: tuple[Slot, ...]
    now: float
    speed: float
    paused: bool

    @property
    def remaining(self) -> float | None:
        """Seconds left in the current phase (frozen while paused)."""
        return None if self.current is None else max(0.0, self.current.ends_at - self.now)


# The time scales a rehearsal may use: 3600 plays an hour in a second; 0.01 a minute in 100. Outside
# this range durations overflow or vanish (1e-300 made every phase last forever and crashed serve).
SPEED_MIN, SPEED_MAX = 0.01, 3600.0


def check_speed(speed: float) -> None:
    """Refuse a speed outside SPEED_MIN..SPEED_MAX (NaN and infinity included) with `bad_speed`."""
    if not (SPEED_MIN <= speed <= SPEED_MAX):
        raise ClockError("bad_speed", 400, min=f"{SPEED_MIN:g}", max=f"{SPEED_MAX:g}")


def planned_durations(program: Program, speed: float) -> tuple[float, ...]:
    return tuple(p.duration / speed for p in program.phases)


def initial_clock(program: Program, now: float, *, speed: float = 1.0, start: float | None = None) -> Clock:
    """A fresh clock: anchored at `start`, else at the planned time unless the evening is already over."""
    check_speed(speed)
    durations = planned_durations(program, speed)
    if start is None:
        start = program.phases[0].starts_at.timestamp()
        if start + sum(durations) <= now:
            start = None  # the date has passed: wait for the moderator
    return Clock(anchor=start, durations=durations, speed=speed)


def _effective(clock: Clock, now: float) -> tuple[float | None, list[float]]:
    """Anchor and durations with a running pause folded in up to `now`."""
    durations = list(clock.durations)
    anchor = clock.anchor
    if anchor is None or clock.paused_at is None:
        return anchor, durations
    held = max(0.0, now - clock.paused_at)
    i = _index_at(anchor, durations, clock.paused_at)
    if i is not None:
        durations[i] += held
    elif clock.paused_at < anchor:
        anchor += held
    return anchor, durations


def _index_at(anchor: float, durations: list[float], t: float) -> int | None:
    start = anchor
    for i, d in enumerate(durations):
        if start <= t < start + d:
            return i
        start += d
    return None


def _starts(anchor: float, durations: list[float]) -> list[float]:
    out, t = [], anchor
    for d in durations:
        out.append(t)
        t += d
    return out


def state_at(program: Program, clock: Clock, now: float) -> State:
    """Read the clock at `now`."""
    paused = clock.paused_at is not None
    anchor, durations = _effective(clock, now)
    if anchor is None:
        first = program.phases[0]
        slot = Slot(0, first, first.starts_at.timestamp(), first.ends_at.timestamp())
        return State(clock.version, "waiting", None, slot, (), now, clock.speed, paused)
    starts = _starts(anchor, durations)
    schedule = tuple(Slot(i, p, starts[i], starts[i] + durations[i]) for i, p in enumerate(program.phases))
    i = _index_at(anchor, durations, now)
    if i is not None:
        current = schedule[i]
        nxt = next((s for s in schedule[i + 1:] if s.ends_at > s.starts_at), None)
        status = "running"
    elif now < anchor:
        current, status = None, "before"
        nxt = next((s for s in schedule if s.ends_at > s.starts_at), None)
    else:
        current, nxt, status = None, None, "ended"
    return State(clock.version, status, current, nxt, schedule, now, clock.speed, paused)


def apply(program: Program, clock: Clock, action: str, at: float, minutes: float | None = None,
          phase: str | None = None) -> Clock:
    """Apply one moderator action at instant `at`; raise ClockError when it cannot apply now."""
    if action not in ACTIONS:
        raise ClockError("bad_action", 400, action=str(action)[:40])
    if action == "jump" and (not isinstance(phase, str) or program.phase(phase) is None):
        raise ClockError("unknown_phase", 400, phase=str(phase)[:40])
    if action == "end" and state_at(program, clock, at).status == "ended":
        raise ClockError("already_ended")
    if action == "extend" and (isinstance(minutes, bool) or not isinstance(minutes, (int, float))
                               or minutes != minutes or minutes == 0 or abs(minutes) > MAX_EXTEND_MINUTES):
        raise ClockError("bad_minutes", 400, max=MAX_EXTEND_MINUTES)
    if action == "pause":
        if clock.paused_at is not None:
            raise ClockError("already_paused")
        if state_at(program, clock, at).status in ("waiting", "ended"):
            raise ClockError("not_running")
        return replace(clock, paused_at=at, version=clock.version + 1)
    if action == "advance" and state_at(program, clock, at).status in ("waiting", "before"):
        action = "start"  # advancing into the evening is starting it, pause and all
    # Fold a running pause in up to now, act on the unpaused clock, then hold again from now.
    anchor, durations = _effective(clock, at)
    was_paused = clock.paused_at is not None
    if action == "resume" and not was_paused:
        raise ClockError("not_paused")
    running = replace(clock, anchor=anchor, durations=tuple(durations), paused_at=None)
    if action == "resume":
        new = running
    else:
        new = _act(program, running, action, at, minutes, phase)
        if was_paused and action not in ("start", "end"):
            new = replace(new, paused_at=at)
    return replace(new, version=clock.version + 1)


def _act(program: Program, clock: Clock, action: str, at: float, minutes: float | None,
         phase: str | None = None) -> Clock:
    state = state_at(program, clock, at)
    planned = planned_durations(program, clock.speed)
    durations = list(clock.durations)
    cur = state.current
    if action in ("jump", "end"):
        return _jump(program, clock, state, at, program.index(phase) if action == "jump" else None)
    if action == "start":
        if cur is not None:
            raise ClockError("already_running", title=cur.phase.title)
        return replace(clock, anchor=at, durations=planned)
    if action == "advance":
        if cur is None:
            if state.status == "ended":
                raise ClockError("no_next_phase")
            return replace(clock, anchor=at, durations=planned)
        durations[cur.index] = at - cur.starts_at
        return replace(clock, durations=tuple(durations))
    if action == "back":
        if cur is None and state.status == "ended":
            target = len(durations) - 1
        elif cur is None or cur.index == 0:
            raise ClockError("no_previous_phase")
        else:
            target = cur.index - 1
            durations[cur.index] = planned[cur.index]
        durations[target] = planned[target]
        anchor = at - sum(durations[:target])
        return replace(clock, anchor=anchor, durations=tuple(durations))
    # extend
    if cur is None:
        raise ClockError("no_current_phase")
    new = durations[cur.index] + minutes * 60 / clock.speed
    durations[cur.index] = max(new, at - cur.starts_at)
    return replace(clock, durations=tuple(durations))


def _jump(program: Program, clock: Clock, state: State, at: float, target: int | None) -> Clock:
    """Phase `target` begins now (None: the evening ends now); see the module's rules for jump and end."""
    planned = list(planned_durations(program, clock.speed))
    n = len(planned)
    cur = state.current
    if clock.anchor is None or state.status == "before":
        durations = [0.0] * n if target is None else [0.0] * target + planned[target:]
        return replace(clock, anchor=at, durations=tuple(durations))
    durations = list(clock.durations)
    last = cur.index if cur is not None else n - 1  # the running phase, or (after the end) the last one
    if cur is not None and (target is None or target > cur.index):
        durations[cur.index] = at - cur.starts_at
        stop = n if target is None else target
        durations[cur.index + 1:stop] = [0.0] * (stop - cur.index - 1)
        # The anchor stays: recomputing it as `at - sum(...)` moves every played phase by a rounding
        # error, and can leave the ended evening running for a few hundred nanoseconds.
        return replace(clock, durations=tuple(durations))
    elif target is None:  # already over: nothing runs
        target = n
    else:
        durations[target:last + 1] = planned[target:last + 1]
    return replace(clock, anchor=at - sum(durations[:target]), durations=tuple(durations))


def runs_between(program: Program, clock: Clock, since: float, until: float) -> list[tuple[str, float, float]]:
    """What ran between `since` and `until` by this clock: (phase id, start, end) of every phase that overlaps."""
    if clock.anchor is None or until <= since:
        return []
    out = []
    for slot in state_at(program, clock, until).schedule:
        start, end = max(slot.starts_at, since), min(slot.ends_at, until)
        if end > start:
            out.append((slot.phase.id, start, end))
    return out


def merge_runs(runs: list, more: list) -> list:
    """`runs` followed by `more`, a run that goes on where the last one stopped (same phase) joined to it."""
    out = [list(x) for x in runs]
    for phase, start, end in more:
        if out and out[-1][0] == phase and abs(out[-1][2] - start) < 1e-6:
            out[-1][2] = end
        else:
            out.append([phase, start, end])
    return out


def iso(ts: float, tz) -> str:
    """Epoch seconds as ISO 8601 with the offset of `tz`, to the millisecond."""
    return dt.datetime.fromtimestamp(ts, tz).isoformat(timespec="milliseconds")


def slot_dict(slot: Slot | None, tz) -> dict | None:
    """A phase as it appears in `state` pushes."""
    if slot is None:
        return None
    p = slot.phase
    return {"id": p.id, "kind": p.kind, "title": p.title,
            "starts_at": iso(slot.starts_at, tz), "ends_at": iso(slot.ends_at, tz)}


def state_dict(state: State, tz) -> dict:
    """The wire form of a State, without `room` (which is per participant)."""
    return {
        "version": state.version,
        "status": state.status,
        "phase": slot_dict(state.current, tz),
        "next": slot_dict(state.next, tz),
        "server_time": iso(state.now, tz),
        "speed": state.speed,
        "paused": state.paused,
        "remaining": None if state.remaining is None else round(state.remaining, 3),
    }
