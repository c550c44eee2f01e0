"""The notes' pieces without a server: the y-protocols codec, and the Redis store with its compactor."""
from __future__ import annotations

import random
import threading

import pytest
from pycrdt import Doc, Text

from rooms import yprotocol
from rooms.notes import NoteLimits, NoteStore, build
from rooms.store import Keys, connect
from rooms.errors import PleinError
from support import SLUG


# -- the codec ----------------------------------------------------------------------------------

@pytest.mark.unit
@pytest.mark.parametrize("n", [0, 1, 127, 128, 300, 2**31, 2**53 - 1])
def test_varuint_round_trip(n):
    d = yprotocol.Decoder(yprotocol.varuint(n))
    assert d.varuint() == n and d.done()


@pytest.mark.unit
def test_messages_round_trip():
    assert yprotocol.decode(yprotocol.step1(b"\x01\x05\x03")) == yprotocol.Message("step1", b"\x01\x05\x03")
    assert yprotocol.decode(yprotocol.step2(b"\x00\x00")).kind == "step2"
    assert yprotocol.decode(yprotocol.update(b"abc")) == yprotocol.Message("update", b"abc")
    msg = yprotocol.decode(yprotocol.awareness([(7, 3, {"user": {"name": "Anna"}}), (9, 1, None)]))
    assert msg.kind == "awareness" and msg.awareness == ((7, 3, {"user": {"name": "Anna"}}), (9, 1, None))
    assert yprotocol.decode(yprotocol.query_awareness()).kind == "query"


@pytest.mark.unit
@pytest.mark.parametrize("raw", [
    b"", b"\x00", b"\x00\x00", b"\x00\x03\x00", b"\x02", b"\x04", b"\x00\x02\x05ab",  # short, bad step/type
    b"\x00\x02\x01ab",  # trailing byte
    b"\x00\x02\x80\x00",  # overlong varuint
    b"\x00\x02" + b"\xff" * 9 + b"\x01",  # varuint too long
    b"\x01\x03\x01\x01\x01",  # awareness: truncated entry
    b"\x01\x05\x01\x01\x01\x01{",  # awareness state not JSON
    b"\x01\x05\x01\x01\x01\x01\xff",  # not UTF-8
    "text, not bytes", None, 42,
])
def test_malformed_messages_raise_malformed(raw):
    with pytest.raises(yprotocol.Malformed):
        yprotocol.decode(raw)


# -- the store ----------------------------------------------------------------------------------

@pytest.fixture
def notes(r, redis_url):
    rb = connect(redis_url, binary=True)
    yield NoteStore(rb, Keys(SLUG), NoteLimits(updates_per_second=100000, max_note_bytes=10**8))
    rb.close()


def editor(seed: int):
    """A pycrdt doc that records each of its transactions' updates."""
    doc = Doc()
    text = doc.get("notes", type=Text)
    updates: list[bytes] = []
    doc.observe(lambda e: updates.append(e.update))
    return doc, text, updates, random.Random(seed)


def edit(text, rng, n):
    for _ in range(n):
        if len(text) > 5 and rng.random() < 0.4:
            start = rng.randrange(len(text) - 1)
            del text[start:min(len(text), start + rng.randint(1, 3))]
        else:
            text.insert(rng.randint(0, len(text)), rng.choice(["a", "bc", "de f", "\n"]))


@pytest.mark.redis
def test_compaction_trims_the_stream_and_keeps_the_text(notes):
    doc, text, updates, rng = editor(1)
    edit(text, rng, 500)
    for u in updates:
        notes.append("idee", "sock", u)
    appended = sum(len(u) for u in updates)
    assert notes.stored_bytes("idee") == appended and notes.stream_length("idee") == 500
    result = notes.compact("idee")
    assert result == {"folded": 500, "kept": 0, "snapshot_bytes": result["snapshot_bytes"]}
    assert notes.stream_length("idee") == 0
    assert notes.text("idee") == str(text)
    snapshot = notes.r.get(notes.key("idee", "snapshot"))
    assert notes.stored_bytes("idee") == len(snapshot) == result["snapshot_bytes"]
    # bounded by the note itself (its own encoding), not by its history of 500 updates
    assert len(snapshot) <= len(doc.get_update()) + 64 and len(snapshot) < appended
    # more edits, compacted again: the stored size follows the note, not its history
    edit(text, rng, 500)
    for u in updates[500:]:
        notes.append("idee", "sock", u)
    notes.compact("idee")
    assert notes.text("idee") == str(text) and notes.stream_length("idee") == 0
    assert notes.stored_bytes("idee") == len(notes.r.get(notes.key("idee", "snapshot")))
    assert notes.stored_bytes("idee") <= len(doc.get_update()) + 64


@pytest.mark.redis
def test_an_update_stored_before_its_predecessor_is_not_folded_until_that_arrives(notes):
    doc, text, updates, _ = editor(2)
    text += "eerste "
    text += "tweede "
    text.insert(0, "> ")
    first, second, third = updates
    notes.append("idee", "s", first)
    notes.append("idee", "s", third)  # its predecessor (second) is not stored yet
    result = notes.compact("idee")
    assert result["kept"] == 1 and result["folded"] == 1
    assert notes.stream_length("idee") == 1
    notes.append("idee", "s", second)
    assert notes.text("idee") == "> eerste tweede "
    result = notes.compact("idee")
    assert result["kept"] == 0 and notes.stream_length("idee") == 0
    assert notes.text("idee") == "> eerste tweede "


@pytest.mark.redis
def test_build_converges_for_updates_in_any_order():
    docs = [Doc() for _ in range(3)]
    log: list[bytes] = []
    rng = random.Random(5)
    for d in docs:
        d.get("notes", type=Text)
    for _ in range(80):
        i = rng.randrange(3)
        t = docs[i].get("notes", type=Text)
        got: list[bytes] = []
        sub = docs[i].observe(lambda e: got.append(e.update))
        if len(t) > 3 and rng.random() < 0.3:
            del t[rng.randrange(len(t) - 1)]
        else:
            t.insert(rng.randint(0, len(t)), "xyz"[i])
        docs[i].unobserve(sub)
        log.append(got[0])
        for j, d in enumerate(docs):
            if j != i:
                d.apply_update(got[0])
    want = str(docs[0].get("notes", type=Text))
    for seed in range(5):
        shuffled = log[:]
        random.Random(seed).shuffle(shuffled)
        assert str(build(None, shuffled).get("notes", type=Text)) == want


@pytest.mark.redis
def test_concurrent_compactors_and_writers_lose_nothing(notes):
    doc, text, updates, rng = editor(3)
    edit(text, rng, 1200)
    chunks = [updates[i::4] for i in range(4)]  # four writers; each keeps its own order
    stop = threading.Event()
    results: list = []

    def write(chunk):
        for u in chunk:
            notes.append("idee", "w", u)

    def compact():
        while not stop.is_set():
            results.append(notes.compact("idee"))

    compactors = [threading.Thread(target=compact) for _ in range(4)]
    writers = [threading.Thread(target=write, args=(c,)) for c in chunks]
    for t in compactors + writers:
        t.start()
    for t in writers:
        t.join()
    stop.set()
    for t in compactors:
        t.join()
    assert any(r is None for r in results) or len(results) >= 4  # they did run side by side
    assert sum(r["folded"] for r in results if r) > 0
    notes.compact("idee")
    assert notes.text("idee") == str(text)
    snapshot = notes.r.get(notes.key("idee", "snapshot"))
    left = sum(len(f[b"u"]) for _, f in notes.r.xrange(notes.key("idee", "stream")))
    assert notes.stored_bytes("idee") == len(snapshot) + left


@pytest.mark.redis
def test_limits_of_the_store(r, redis_url):
    rb = connect(redis_url, binary=True)
    try:
        notes = NoteStore(rb, Keys(SLUG), NoteLimits(max_update_bytes=100, max_note_bytes=250,
                                                     updates_per_second=3), now=lambda: 1000.5)
        with pytest.raises(PleinError) as big:
            notes.append("idee", "s", b"x" * 101)
        assert big.value.code == "note_update_too_large"
        notes.append("idee", "s", b"x" * 100)
        notes.append("idee", "s", b"x" * 100)
        with pytest.raises(PleinError) as full:
            notes.append("idee", "s", b"x" * 60)
        assert full.value.code == "note_too_large"
        assert notes.stream_length("idee") == 2 and notes.stored_bytes("idee") == 200
        with pytest.raises(PleinError) as fast:
            notes.append("idee", "s", b"x")  # the fourth in this second
        assert fast.value.code == "notes_rate_limited"
        notes.append("idee", "other-socket", b"x")  # per connection
        assert notes.stream_length("idee") == 3
    finally:
        rb.close()


def test_one_person_has_at_most_so_many_cards_up_in_a_session(r):
    from zoneinfo import ZoneInfo

    from rooms.cards import CARDS_PER_PERSON, Cards
    cards = Cards(r, Keys(SLUG), ZoneInfo("Europe/Amsterdam"))
    anna = {"id": "p-anna", "name": "Anna"}
    ids = [cards.add("idee", anna, f"idee {i}")["id"] for i in range(CARDS_PER_PERSON)]
    with pytest.raises(PleinError) as refused:
        cards.add("idee", anna, "nog een")
    assert refused.value.code == "cards_too_many" and len(cards.list("idee")) == CARDS_PER_PERSON
    assert cards.add("ander", anna, "in een andere sessie mag het")["text"]
    assert cards.add("idee", {"id": "p-bram", "name": "Bram"}, "Bram mag ook")["text"]
    cards.withdraw("idee", ids[0], "p-anna")  # withdrawing one makes room for one
    assert cards.add("idee", anna, "nu weer")["text"] == "nu weer"
    with pytest.raises(PleinError):
        cards.add("idee", anna, "maar niet nog een")
    assert len(cards.list("idee")) == CARDS_PER_PERSON + 1
