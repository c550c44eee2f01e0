"""The stored clock of an evening: read it, and apply moderator actions atomically (WATCH/MULTI)."""
from __future__ import annotations

import json
import time

import redis

from .errors import PleinError
from .program import Program
from .store import Keys
from .timeline import Clock, State, apply, initial_clock, merge_runs, runs_between, state_at

MAX_RUNS = 500  # stored runs of phases; each clock action adds at most a few


class ClockService:
    """Owns the clock key; `now` is injectable so tests can play with time."""

    def __init__(self, r: redis.Redis, program: Program, *, speed: float = 1.0,
                 start: float | None = None, now=time.time):
        self.r = r
        self.program = program
        self.keys = Keys(program.slug)
        self.speed = speed
        self.start = start
        self.now = now

    def setup(self, *, reset: bool = False) -> Clock:
        """Create the clock if there is none (or replace it when `reset`); return what is stored."""
        fresh = initial_clock(self.program, self.now(), speed=self.speed, start=self.start)
        if reset:
            old = self.get(create=False)
            if old is not None:
                fresh = Clock(fresh.anchor, fresh.durations, fresh.speed, None, old.version + 1)
            with self.r.pipeline() as pipe:  # a new evening: what ran before is not this one's
                pipe.set(self.keys.clock, json.dumps(fresh.to_dict()))
                pipe.delete(self.keys.runs)
                pipe.execute()
            return fresh
        if self.r.set(self.keys.clock, json.dumps(fresh.to_dict()), nx=True):
            self.r.delete(self.keys.runs)
        return self.get()

    def get(self, *, create: bool = True) -> Clock | None:
        raw = self.r.get(self.keys.clock)
        if raw is None:
            return self.setup() if create else None
        return self._decode(raw)

    def read_state(self, reads, now: float | None = None):
        """`state()` as part of a batch of reads (a clock not made yet is made afterwards: one more trip)."""
        def parse(replies):
            clock = self._decode(replies[0]) if replies[0] is not None else self.get()
            return state_at(self.program, clock, self.now() if now is None else now)
        return reads.add(lambda pipe: pipe.get(self.keys.clock), parse)

    def _decode(self, raw: str) -> Clock:
        clock = Clock.from_dict(json.loads(raw))
        if len(clock.durations) != len(self.program.phases):
            # The program file changed under a stored clock: keep the anchor, take the new phases.
            clock = Clock(clock.anchor, initial_clock(self.program, self.now(), speed=clock.speed).durations,
                          clock.speed, clock.paused_at, clock.version)
        return clock

    def state(self, now: float | None = None) -> State:
        return state_at(self.program, self.get(), self.now() if now is None else now)

    @staticmethod
    def _runs(raw: str | None) -> tuple[float, list]:
        """The stored runs: (the instant of the clock's last action, [[phase id, start, end], ...])."""
        if not raw:
            return 0.0, []
        data = json.loads(raw)
        return float(data["since"]), data["runs"]

    def played(self, now: float | None = None) -> list[dict]:
        """When each phase actually ran, oldest first: what the clock's earlier versions ran up to their
        replacement (kept in Redis at every action) and what the current clock ran since its last action.
        A phase running now has `ends_at` None."""
        now = self.now() if now is None else now
        with self.r.pipeline(transaction=True) as pipe:
            pipe.get(self.keys.clock)
            pipe.get(self.keys.runs)
            raw_clock, raw_runs = pipe.execute()
        if raw_clock is None:
            return []
        clock = self._decode(raw_clock)
        since, stored = self._runs(raw_runs)
        runs = merge_runs(stored, runs_between(self.program, clock, since, now))
        current = state_at(self.program, clock, now).current
        out = [{"phase": phase, "starts_at": start, "ends_at": end} for phase, start, end in runs]
        if current is not None:
            if out and out[-1]["phase"] == current.phase.id and out[-1]["ends_at"] >= now:
                out[-1]["ends_at"] = None
            else:  # it began at this very instant
                out.append({"phase": current.phase.id, "starts_at": max(current.starts_at, since), "ends_at": None})
        return out

    def act(self, action: str, minutes=None, *, phase: str | None = None, audit=None, actor=None) -> State:
        """Apply an action; concurrent moderators are serialised by an optimistic transaction. With an
        audit log and an actor, the log entry is written in the same transaction as the clock."""
        self.get()  # creates the clock if there is none yet
        for _ in range(20):
            with self.r.pipeline() as pipe:
                try:
                    pipe.watch(self.keys.clock, self.keys.runs)
                    clock = self._decode(pipe.get(self.keys.clock))
                    since, runs = self._runs(pipe.get(self.keys.runs))
                    at = self.now()
                    new = apply(self.program, clock, action, at, minutes, phase)
                    # What the old clock ran up to now is history: the new one may place those phases elsewhere.
                    runs = merge_runs(runs, runs_between(self.program, clock, since, at))[-MAX_RUNS:]
                    pipe.multi()
                    pipe.set(self.keys.clock, json.dumps(new.to_dict()))
                    pipe.set(self.keys.runs, json.dumps({"since": at, "runs": runs}))
                    if audit is not None:
                        details = {"action": action, "version": new.version}
                        if action == "extend":
                            details["minutes"] = minutes
                        if action == "jump":
                            details["phase"] = phase
                        audit.queue(pipe, audit.entry(actor, "clock", details))
                    pipe.execute()
                    return state_at(self.program, new, at)
                except redis.WatchError:
                    continue
        raise PleinError("clock_busy", 409)
