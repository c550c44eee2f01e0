"""One connection's events must not crowd out everyone else's.

python-socketio runs every incoming event in a handler of its own, at once: a page that emits 1,000 events
without waiting has 1,000 handlers competing with everybody's (a `state:get` from someone else waited 1.8 s
behind such a flood). Here each connection gets at most PER_CONNECTION handlers running at a time; the rest
wait their turn, so a flood delays only its own connection. Past QUEUE waiting events, one that expects an
answer is answered at once with `rate_limited` (nothing is done, nothing stored), so a flood also cannot
pile up memory; an event without an answer (a notes update) always waits its turn, never dropped.

This is scheduling state of this process's own connections (a connection lives in one process), not state
of the evening, so it lives here and not in Redis. It wraps python-socketio's `_handle_event_internal`, the
function that runs one event's handler; tests/socket/test_abuse.py shows it holds for the pinned version.
"""
from __future__ import annotations

import threading

from socketio import packet

from rooms.errors import PleinError

PER_CONNECTION = 4  # handlers of one connection running at once (PLEIN_SOCKET_CONCURRENCY)
QUEUE = 64  # events of one connection waiting before those with an answer are refused at once (PLEIN_SOCKET_QUEUE)


class _Gate:
    """Admits one connection's events in arrival order, at most PER_CONNECTION running at a time (a plain
    semaphore need not wake its waiters in order, and the notes rely on a connection's order)."""

    __slots__ = ("cond", "next", "admitted", "running", "width")

    def __init__(self, width: int = PER_CONNECTION):
        self.width = width
        self.cond = threading.Condition()
        self.next = 0  # the ticket the next arriving event draws
        self.admitted = 0  # the ticket admitted next
        self.running = 0

    def enter(self, ticket: int) -> None:
        with self.cond:
            while ticket != self.admitted or self.running >= self.width:
                self.cond.wait()
            self.admitted += 1
            self.running += 1
            self.cond.notify_all()  # the next ticket may go ahead too, if a slot is free

    def leave(self) -> None:
        with self.cond:
            self.running -= 1
            self.cond.notify_all()


def install(server, per_connection: int = PER_CONNECTION, queue: int = QUEUE) -> None:
    """Put the per-connection gate in front of every event handler of this python-socketio server."""
    gates: dict[str, _Gate] = {}
    run = server._handle_event_internal

    def handle(srv, sid, eio_sid, data, namespace, id):
        gate = gates.get(sid) or gates.setdefault(sid, _Gate(per_connection))
        with gate.cond:  # drawn before any wait, so in the order the events arrived
            waiting = gate.next - gate.admitted
            refuse = waiting >= queue and id is not None
            if not refuse:
                ticket = gate.next
                gate.next += 1
        if refuse:
            error = PleinError("rate_limited", 429, details={"retry_after": 1}, seconds=1).to_dict()
            srv._send_packet(eio_sid, srv.packet_class(packet.ACK, namespace=namespace, id=id, data=[error]))
            return
        gate.enter(ticket)
        try:
            run(srv, sid, eio_sid, data, namespace, id)
        finally:
            gate.leave()

    server._handle_event_internal = handle

    def forget(sid: str) -> None:
        gates.pop(sid, None)

    server.plein_forget_gate = forget
