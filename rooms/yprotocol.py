"""y-protocols messages (sync and awareness) in lib0 encoding, read strictly.

lib0: a varuint is 7 bits per byte, least significant group first, the high bit saying "more follows";
a varUint8Array is a varuint length and that many bytes; a varString is a varUint8Array of UTF-8.
A y-protocols message is `varuint type` then its body: 0 sync (`varuint step` 0|1|2 and a
varUint8Array), 1 awareness (a varUint8Array holding an awareness update), 3 query awareness (no body).

Anything else (unknown type, truncated or overlong varint, a length beyond the end, trailing bytes,
invalid UTF-8 or JSON in an awareness state) raises `Malformed`; nothing here touches a store.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

MESSAGE_SYNC = 0
MESSAGE_AWARENESS = 1
MESSAGE_QUERY_AWARENESS = 3
SYNC_STEP1 = 0
SYNC_STEP2 = 1
SYNC_UPDATE = 2

MAX_VARUINT_BYTES = 8  # 56 bits: more than any Yjs client id or clock (JavaScript integers stop at 53)
EMPTY_UPDATE = b"\x00\x00"  # no structs, no deletions


class Malformed(ValueError):
    """Bytes that are not a well-formed y-protocols message."""


class Decoder:
    def __init__(self, data: bytes):
        self.data = data
        self.pos = 0

    def done(self) -> bool:
        return self.pos == len(self.data)

    def varuint(self) -> int:
        value = 0
        shift = 0
        for i in range(MAX_VARUINT_BYTES):
            if self.pos >= len(self.data):
                raise Malformed("truncated varuint")
            byte = self.data[self.pos]
            self.pos += 1
            value |= (byte & 0x7F) << shift
            if byte < 0x80:
                if i > 0 and byte == 0:
                    raise Malformed("overlong varuint")
                return value
            shift += 7
        raise Malformed("varuint too long")

    def bytes(self) -> bytes:
        n = self.varuint()
        if n > len(self.data) - self.pos:
            raise Malformed("length beyond the end")
        out = bytes(self.data[self.pos:self.pos + n])
        self.pos += n
        return out

    def string(self) -> str:
        try:
            return self.bytes().decode("utf-8")
        except UnicodeDecodeError:
            raise Malformed("invalid UTF-8") from None


def varuint(n: int) -> bytes:
    if n < 0:
        raise ValueError("negative varuint")
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def varbytes(b: bytes) -> bytes:
    return varuint(len(b)) + bytes(b)


def varstring(s: str) -> bytes:
    return varbytes(s.encode("utf-8"))


@dataclass(frozen=True)
class Message:
    """A decoded message: kind is 'step1' | 'step2' | 'update' | 'awareness' | 'query'."""

    kind: str
    payload: bytes = b""  # state vector, update or awareness update
    awareness: tuple[tuple[int, int, object], ...] = ()  # (client id, clock, state or None)


def decode_awareness(data: bytes) -> tuple[tuple[int, int, object], ...]:
    d = Decoder(data)
    n = d.varuint()
    if n > len(data):  # every entry takes at least 3 bytes; a huge count is a lie
        raise Malformed("awareness count beyond the data")
    out = []
    for _ in range(n):
        client = d.varuint()
        clock = d.varuint()
        raw = d.string()
        try:
            state = json.loads(raw)
        except ValueError:
            raise Malformed("awareness state is not JSON") from None
        out.append((client, clock, state))
    if not d.done():
        raise Malformed("trailing bytes in awareness update")
    return tuple(out)


def decode(data) -> Message:
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise Malformed("not binary")
    data = bytes(data)
    d = Decoder(data)
    kind = d.varuint()
    if kind == MESSAGE_SYNC:
        step = d.varuint()
        if step not in (SYNC_STEP1, SYNC_STEP2, SYNC_UPDATE):
            raise Malformed("unknown sync step")
        payload = d.bytes()
        msg = Message(("step1", "step2", "update")[step], payload)
    elif kind == MESSAGE_AWARENESS:
        payload = d.bytes()
        msg = Message("awareness", payload, decode_awareness(payload))
    elif kind == MESSAGE_QUERY_AWARENESS:
        msg = Message("query")
    else:
        raise Malformed("unknown message type")
    if not d.done():
        raise Malformed("trailing bytes")
    return msg


def decode_state_vector(data: bytes) -> dict[int, int]:
    """A Yjs state vector: varuint n, then n × (client, clock)."""
    d = Decoder(data)
    n = d.varuint()
    if n > len(data):
        raise Malformed("state vector count beyond the data")
    out = {}
    for _ in range(n):
        client = d.varuint()
        out[client] = d.varuint()
    if not d.done():
        raise Malformed("trailing bytes in state vector")
    return out


def decode_delete_set(data: bytes) -> list[tuple[int, int, int]]:
    """The delete set of an update with no structs (`0` then the set): [(client, clock, length), ...]."""
    d = Decoder(data)
    if d.varuint() != 0:
        raise Malformed("update has structs")
    out = []
    for _ in range(d.varuint()):
        client = d.varuint()
        for _ in range(d.varuint()):
            clock = d.varuint()
            out.append((client, clock, d.varuint()))
    return out


def step1(state_vector: bytes) -> bytes:
    return varuint(MESSAGE_SYNC) + varuint(SYNC_STEP1) + varbytes(state_vector)


def step2(update: bytes) -> bytes:
    return varuint(MESSAGE_SYNC) + varuint(SYNC_STEP2) + varbytes(update)


def update(update_: bytes) -> bytes:
    return varuint(MESSAGE_SYNC) + varuint(SYNC_UPDATE) + varbytes(update_)


def awareness(entries) -> bytes:
    """An awareness message from [(client id, clock, state or None), ...]."""
    body = varuint(len(entries)) + b"".join(
        varuint(c) + varuint(k) + varstring(json.dumps(s, separators=(",", ":"))) for c, k, s in entries)
    return varuint(MESSAGE_AWARENESS) + varbytes(body)


def query_awareness() -> bytes:
    return varuint(MESSAGE_QUERY_AWARENESS)
