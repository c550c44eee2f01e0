"""The stored clock of an evening: read it, and apply moderator actions atomically (WATCH/MULTI)."""
from __future__ import annotations

import json
import time

import redis

from .errors import PleinError
from .program import Program
from .store import Keys
from .timeline import Clock, State, apply, initial_clock, state_at


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
            self.r.set(self.keys.clock, json.dumps(fresh.to_dict()))
            return fresh
        self.r.set(self.keys.clock, json.dumps(fresh.to_dict()), nx=True)
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

    def act(self, action: str, minutes=None, *, phase: str | None = None, audit=None, actor=None) -> State:
        """Apply an action; concurrent moderators are serialised by an optimistic transaction. With an
        audit log and an actor, the log entry is written in the same transaction as the clock."""
        self.get()  # creates the clock if there is none yet
        for _ in range(20):
            with self.r.pipeline() as pipe:
                try:
                    pipe.watch(self.keys.clock)
                    clock = self._decode(pipe.get(self.keys.clock))
                    at = self.now()
                    new = apply(self.program, clock, action, at, minutes, phase)
                    pipe.multi()
                    pipe.set(self.keys.clock, json.dumps(new.to_dict()))
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
