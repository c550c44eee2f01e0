"""A small Yjs client in Python: a pycrdt Doc synced with a Plein note over python-socketio.

It speaks the wire contract of docs/protocol.md as a browser would: handler first, `notes:join`, its
own sync step 1, answers the server's step 1 with step 2, sends each local transaction as an update.
Used by the notes tests and by benchmarks/notes.py.
"""
from __future__ import annotations

import random
import threading
import time

import socketio
from pycrdt import Doc, Text

from rooms import yprotocol
from rooms.notes import integrated


class NoteClient:
    def __init__(self, url: str, auth: dict, session: str, name: str = "client", reconnect: bool = False,
                 recheck: bool = True, resyncs: bool = True):
        self.url, self.auth, self.session, self.name = url, auth, session, name
        self.doc = Doc()
        self.text = self.doc.get("notes", type=Text)
        self.lock = threading.RLock()
        self.cond = threading.Condition(self.lock)
        self.errors: list[dict] = []
        self.states: list[dict] = []
        self.events: list[tuple[str, object]] = []
        self.awareness: list[tuple] = []
        self.queries = 0
        self.received = 0  # updates applied from the server
        self.synced = False  # got step 2 since the last (re)join
        self.join_answer: dict | None = None
        self.on_update = None  # callback(update bytes, arrival monotonic time) for the benchmark
        self.on_sent = None  # callback(update bytes, send monotonic time) for the benchmark
        self._remote = False
        self.joined = False  # updates are sent only after notes:join on this connection
        self.pending: list[bytes] = []
        self.unsent: list[bytes] = []  # local updates made while not joined: sent after the (re-)join
        self.resyncs = resyncs  # send our step 1 every `resync_seconds` of the join answer, as the browser does
        self._resyncer: threading.Thread | None = None
        self.closed = False
        self.recheck = recheck  # re-apply updates yrs left pending (costly; the benchmark turns it off)
        self._websockets: list = []  # every connection's WebSocket: one cut by a dead server is closed here
        self.local = 0  # local transactions
        self.sent = 0  # of them sent as updates
        self.sio = socketio.Client(reconnection=reconnect, reconnection_delay=0.2, reconnection_delay_max=1)
        # python-engineio's client hands every received message to a new thread; a binary event (a placeholder
        # packet, then its attachment) can then be reassembled from the wrong frames, and messages overtake each
        # other. Handle them in the read loop instead, one by one in arrival order, as a browser does.
        trigger = self.sio.eio._trigger_event

        def in_order(event, *args, **kwargs):
            if event == "message":
                kwargs["run_async"] = False
            return trigger(event, *args, **kwargs)
        self.sio.eio._trigger_event = in_order
        self.sio.on("notes:message", self._on_message)
        self.sio.on("notes:error", self._on_error)
        self.sio.on("notes:state", lambda d: self._keep("notes:state", d, self.states))
        self.sio.on("cards:changed", lambda d: self._keep("cards:changed", d))
        self.sio.on("cards:removed", lambda d: self._keep("cards:removed", d))
        self.sio.on("connect", self._on_connect)
        self.doc.observe(self._on_local)

    # -- connection -----------------------------------------------------------------------------

    def connect(self) -> "NoteClient":
        self.sio.connect(self.url, auth=self.auth, transports=["websocket"], wait_timeout=10)
        return self

    def _on_connect(self):
        self.joined = False
        self._websockets.append(getattr(self.sio.eio, "ws", None))
        if self.join_answer is not None:  # a reconnect: join again and resync in the background
            threading.Thread(target=self._rejoin, daemon=True).start()

    def _rejoin(self):
        try:
            self.join()
        except Exception as exc:  # the tests look at errors
            with self.cond:
                self.errors.append({"code": "rejoin_failed", "message": repr(exc)})

    def join(self) -> dict:
        with self.cond:
            self.synced = False
        answer = self.sio.call("notes:join", {"session": self.session}, timeout=10)
        self.join_answer = answer
        if "error" not in answer:
            with self.lock:
                self.joined = True
                sv = self.doc.get_state()
                unsent, self.unsent = self.unsent, []
            for update in unsent:  # most went along in our step 2 already; Yjs ignores what it has
                self.sio.emit("notes:message", (self.session, yprotocol.update(update)))
            self.sio.emit("notes:message", (self.session, yprotocol.step1(sv)))
            every = (answer.get("limits") or {}).get("resync_seconds")
            if every and self.resyncs and self._resyncer is None:
                self._resyncer = threading.Thread(target=self._resync_loop, args=(every,), daemon=True)
                self._resyncer.start()
        return answer

    def _resync_loop(self, every: float):
        """Our step 1 again every `resync_seconds`, as the browser does (the server answers with its step 2)."""
        while not self.closed:
            time.sleep(every)
            if self.sio.connected and self.joined:
                with self.lock:
                    sv = self.doc.get_state()
                try:
                    self.sio.emit("notes:message", (self.session, yprotocol.step1(sv)))
                except Exception:  # disconnected meanwhile: the re-join resyncs
                    pass

    def close(self):
        self.closed = True
        if self.sio.connected:
            ws = getattr(self.sio.eio, "ws", None)
            if ws is not None:
                from functools import partial
                ws.close = partial(ws.close, timeout=0.2)
            self.sio.disconnect()
        for ws in self._websockets:
            if ws is not None and getattr(ws, "sock", None) is not None:
                ws.shutdown()

    # -- messages -------------------------------------------------------------------------------

    def _keep(self, event, data, also=None):
        with self.cond:
            self.events.append((event, data))
            if also is not None:
                also.append(data)
            self.cond.notify_all()

    def _on_error(self, data):
        with self.cond:
            self.errors.append(data)
            self.cond.notify_all()

    def _on_message(self, session_id, data):
        arrived = time.monotonic()
        msg = yprotocol.decode(data)
        with self.cond:
            if msg.kind == "step1":
                reply = yprotocol.step2(self.doc.get_update(msg.payload))
            elif msg.kind in ("step2", "update"):
                reply = None
                self._remote = True
                try:
                    self._apply(msg.payload)
                finally:
                    self._remote = False
                self.received += 1
                if msg.kind == "step2":
                    self.synced = True
            elif msg.kind == "awareness":
                reply = None
                self.awareness.extend(msg.awareness)
            else:
                reply = None
                self.queries += 1
            self.cond.notify_all()
        if reply is not None:
            self.sio.emit("notes:message", (self.session, reply))
        if msg.kind == "update" and self.on_update:
            self.on_update(msg.payload, arrived)

    def _apply(self, update: bytes):
        """Apply a remote update; keep those yrs holds as pending and apply them again after later ones
        (pycrdt 0.14 does not always integrate a pending update by itself once its predecessor arrives)."""
        self.doc.apply_update(update)
        if not self.recheck:
            return
        self.pending.append(update)
        for _ in range(10):
            state = self.doc.get_state()
            clocks = yprotocol.decode_state_vector(state)
            still = [u for u in self.pending if not integrated(u, state, clocks)]
            if not still or len(still) == len(self.pending):
                self.pending = still
                return
            self.pending = still
            for u in still:
                self.doc.apply_update(u)

    def _on_local(self, event):
        if self._remote:
            return
        self.local += 1
        if not (self.sio.connected and self.joined):
            self.unsent.append(event.update)
            return
        try:
            self.sent += 1
            if self.on_sent:
                self.on_sent(event.update, time.monotonic())
            self.sio.emit("notes:message", (self.session, yprotocol.update(event.update)))
        except Exception:  # disconnected meanwhile: the resync after the reconnect carries it
            pass

    def send(self, raw: bytes):
        self.sio.emit("notes:message", (self.session, raw))

    # -- editing --------------------------------------------------------------------------------

    def value(self) -> str:
        with self.lock:
            return str(self.text)

    def insert(self, index: int, s: str):
        # (pycrdt counts a Text's positions in UTF-8 bytes: tests type ASCII, so positions are characters)
        with self.lock:
            self.text.insert(min(index, len(self.text)), s)

    def random_edit(self, rng: random.Random, tag: str):
        """Insert a few characters, or (a third of the time) delete a few."""
        with self.lock:
            n = len(self.text)
            if n > 4 and rng.random() < 0.33:
                start = rng.randrange(n)
                del self.text[start:min(n, start + rng.randint(1, 3))]
            else:
                self.text.insert(rng.randint(0, n), tag)

    def wait(self, predicate, timeout: float = 10.0):
        deadline = time.monotonic() + timeout
        with self.cond:
            while not predicate():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{self.name}: condition not met within {timeout} s "
                                         f"(text {str(self.text)[:80]!r}, errors {self.errors[-3:]})")
                self.cond.wait(left)

    def wait_synced(self, timeout: float = 10.0):
        self.wait(lambda: self.synced, timeout)
