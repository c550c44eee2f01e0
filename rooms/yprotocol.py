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


class Foreign(Malformed):
    """A well-formed Yjs update that writes something other than text into the note's root Y.Text."""


class Early(ValueError):
    """A well-formed update that builds on what the document has not got (Yjs would hold it as pending)."""


# Yjs v1 struct and content kinds (the low 5 bits of a struct's info byte), and their flags
_GC, _SKIP = 0, 10
GC, SKIP = _GC, _SKIP  # struct kinds that are no one's writing
_DELETED, _JSON, _BINARY, _STRING, _EMBED, _FORMAT, _TYPE, _ANY, _DOC = 1, 2, 3, 4, 5, 6, 7, 8, 9
_ORIGIN, _RIGHT_ORIGIN, _PARENT_SUB = 0x80, 0x40, 0x20
TEXT_CONTENT = (_DELETED, _STRING, _EMBED, _FORMAT)  # what a Y.Text holds; the rest (maps, arrays, types) is refused


@dataclass(frozen=True)
class Struct:
    client: int
    clock: int
    length: int
    kind: int  # _GC, _SKIP or the content kind of an item
    origins: tuple[tuple[int, int], ...] = ()  # the left and right origin ids it is placed between


@dataclass(frozen=True)
class Update:
    structs: tuple[Struct, ...]
    deletions: tuple[tuple[int, int, int], ...]  # (client, clock, length)
    delete_set_at: int  # where the delete set starts in the bytes (what comes before it: the structs)


def _utf16_length(s: str) -> int:
    return len(s.encode("utf-16-le")) // 2  # a Yjs string's length (and clock span) is in UTF-16 units


def decode_update(data: bytes, root: str) -> Update:
    """Read a Yjs v1 update strictly, as the note's root Y.Text `root` must take it: items are text content of
    that root (no map keys, no nested or other types, no other root); raises Malformed / Foreign."""
    d = Decoder(bytes(data))
    structs = []
    groups = d.varuint()
    if groups > len(data):
        raise Malformed("struct group count beyond the data")
    for _ in range(groups):
        count = d.varuint()
        if count > len(data):
            raise Malformed("struct count beyond the data")
        client = d.varuint()
        clock = d.varuint()
        for _ in range(count):
            if d.pos >= len(d.data):
                raise Malformed("truncated struct")
            info = d.data[d.pos]
            d.pos += 1
            kind = info & 0x1F
            if kind in (_GC, _SKIP):
                length = d.varuint()
                structs.append(Struct(client, clock, length, kind))
                clock += length
                continue
            origins = []
            if info & _ORIGIN:
                origins.append((d.varuint(), d.varuint()))
            if info & _RIGHT_ORIGIN:
                origins.append((d.varuint(), d.varuint()))
            if not info & (_ORIGIN | _RIGHT_ORIGIN):  # placed at the start of a parent: which one
                if d.varuint() != 1 or d.string() != root:
                    raise Foreign("an item outside the note's text")
                if info & _PARENT_SUB:
                    raise Foreign("a map entry in the note's root")
            if kind not in TEXT_CONTENT:
                raise Foreign("content that is not text")
            if kind == _DELETED:
                length = d.varuint()
            elif kind == _STRING:
                length = _utf16_length(d.string())
            elif kind == _EMBED:
                d.string()
                length = 1
            else:  # _FORMAT: a key and a JSON value
                d.string()
                d.string()
                length = 1
            structs.append(Struct(client, clock, length, kind, tuple(origins)))
            clock += length
    at = d.pos
    deletions = []
    clients = d.varuint()
    if clients > len(data):
        raise Malformed("delete set count beyond the data")
    for _ in range(clients):
        client = d.varuint()
        ranges = d.varuint()
        if ranges > len(data):
            raise Malformed("delete range count beyond the data")
        for _ in range(ranges):
            deletions.append((client, d.varuint(), d.varuint()))
    if not d.done():
        raise Malformed("trailing bytes after the delete set")
    return Update(tuple(structs), tuple(deletions), at)


def check_integrates(update: Update, clocks: dict[int, int]) -> None:
    """Raise Early unless a document with this state vector integrates all of `update` at once: each client's
    structs continue where the document (or the update itself) stops, every origin is an item it will have,
    every deletion is of items it will have. (Yjs keeps anything else as pending, possibly forever.)"""
    end = dict(clocks)
    for s in update.structs:
        if s.kind == _SKIP:
            continue
        if s.clock > end.get(s.client, 0):
            raise Early("a gap before this struct")
        end[s.client] = max(end.get(s.client, 0), s.clock + s.length)
    for s in update.structs:
        for client, clock in s.origins:
            if clock >= end.get(client, 0):
                raise Early("an origin the document has not got")
    for client, clock, length in update.deletions:
        if clock + length > end.get(client, 0):
            raise Early("a deletion of items the document has not got")


def encode_update(structs: bytes, deletions) -> bytes:
    """An update from the struct part of another (its bytes before the delete set) and a delete set."""
    by_client: dict[int, list[tuple[int, int]]] = {}
    for client, clock, length in deletions:
        by_client.setdefault(client, []).append((clock, length))
    out = bytearray(structs)
    out += varuint(len(by_client))
    for client, ranges in by_client.items():
        out += varuint(client) + varuint(len(ranges))
        for clock, length in ranges:
            out += varuint(clock) + varuint(length)
    return bytes(out)


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
