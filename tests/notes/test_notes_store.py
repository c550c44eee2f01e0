"""The notes' pieces without a server: the y-protocols codec, and the Redis store with its compactor."""
from __future__ import annotations

import dataclasses
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

ANNA = {"id": "p-anna", "name": "Anna"}
BRAM = {"id": "p-bram", "name": "Bram"}


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
        notes.append("idee", ANNA, u)
    appended = sum(len(u) for u in updates)
    assert notes.stored_bytes("idee") == appended and notes.stream_length("idee") == 500
    result = notes.compact("idee")
    assert result == {"folded": 500, "dropped": 0, "snapshot_bytes": result["snapshot_bytes"]}
    assert notes.stream_length("idee") == 0
    assert notes.text("idee") == str(text)
    snapshot = notes.r.get(notes.key("idee", "snapshot"))
    assert notes.stored_bytes("idee") == len(snapshot) == result["snapshot_bytes"]
    # bounded by the note itself (its own encoding), not by its history of 500 updates
    assert len(snapshot) <= len(doc.get_update()) + 64 and len(snapshot) < appended
    # more edits, compacted again: the stored size follows the note, not its history
    edit(text, rng, 500)
    for u in updates[500:]:
        notes.append("idee", ANNA, u)
    notes.compact("idee")
    assert notes.text("idee") == str(text) and notes.stream_length("idee") == 0
    assert notes.stored_bytes("idee") == len(notes.r.get(notes.key("idee", "snapshot")))
    assert notes.stored_bytes("idee") <= len(doc.get_update()) + 64


@pytest.mark.redis
def test_an_update_whose_predecessor_is_missing_is_refused_and_comes_later(notes):
    doc, text, updates, _ = editor(2)
    text += "eerste "
    text += "tweede "
    text.insert(0, "> ")
    first, second, third = updates
    notes.append("idee", ANNA, first)
    with pytest.raises(yprotocol.Early):
        notes.append("idee", ANNA, third)  # its predecessor (second) is not stored: Yjs would hold it back
    assert notes.stream_length("idee") == 1 and notes.text("idee") == "eerste "
    notes.append("idee", ANNA, second)
    notes.append("idee", ANNA, third)
    assert notes.text("idee") == "> eerste tweede "
    assert notes.append("idee", ANNA, second) is None  # nothing new: not stored again
    assert notes.stream_length("idee") == 3


@pytest.mark.redis
def test_a_step2_that_repeats_known_deletions_stores_only_what_is_new(notes):
    doc, text, updates, rng = editor(4)
    edit(text, rng, 300)
    for u in updates:
        notes.append("idee", ANNA, u)
    before = notes.stored_bytes("idee")
    # a client's step 2 against the note's state vector: no structs, every deletion it knows of
    assert notes.append("idee", ANNA, doc.get_update(doc.get_state())) is None
    del text[0:2]
    step2 = doc.get_update(notes.state_vector("idee"))
    _, _, stored = notes.append("idee", ANNA, step2)
    assert len(stored) < 20 < len(step2) and notes.stored_bytes("idee") == before + len(stored)
    assert notes.text("idee") == str(text)


@pytest.mark.redis
def test_compaction_drops_what_older_versions_stored_and_never_integrates(notes):
    doc, text, updates, _ = editor(6)
    text += "a"
    text += "b"
    notes.append("idee", ANNA, updates[0])
    notes.r.xadd(notes.key("idee", "stream"), {"u": updates[1][:0] + b"\x00\x01\xb9\x8f\x3c\x01\x05\x03"})
    result = notes.compact("idee")
    assert result["folded"] == 1 and result["dropped"] == 1 and notes.stream_length("idee") == 0
    assert notes.text("idee") == "a"


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
    editors = [editor(30 + i) for i in range(4)]  # four people editing side by side, each in their own order
    for _, text, _, rng in editors:
        edit(text, rng, 300)
    stop = threading.Event()
    results: list = []

    def write(updates):
        for u in updates:
            notes.append("idee", ANNA, u)

    def compact():
        while not stop.is_set():
            results.append(notes.compact("idee"))

    compactors = [threading.Thread(target=compact) for _ in range(4)]
    writers = [threading.Thread(target=write, args=(e[2],)) for e in editors]
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
    assert notes.text("idee") == str(build(None, [u for e in editors for u in e[2]]).get("notes", type=Text))
    snapshot = notes.r.get(notes.key("idee", "snapshot"))
    left = sum(len(f[b"u"]) for _, f in notes.r.xrange(notes.key("idee", "stream")))
    assert notes.stored_bytes("idee") == len(snapshot) + left


def typed(n: int, size: int) -> list[bytes]:
    """n updates of one editor, each inserting `size` characters."""
    doc, text, updates, _ = editor(9)
    for i in range(n):
        text.insert(0, "x" * size)
    return updates


@pytest.mark.redis
def test_limits_of_the_store(r, redis_url):
    rb = connect(redis_url, binary=True)
    try:
        ups = typed(5, 70)
        clock = [1000.5]
        notes = NoteStore(rb, Keys(SLUG), NoteLimits(max_update_bytes=100, max_note_bytes=len(ups[0]) + len(ups[1]) + 5,
                                                     updates_per_second=2), now=lambda: clock[0])
        with pytest.raises(PleinError) as big:
            notes.append("idee", ANNA, b"x" * 101)
        assert big.value.code == "note_update_too_large"
        notes.append("idee", ANNA, ups[0])
        notes.append("idee", BRAM, ups[1])
        size = notes.stored_bytes("idee")
        with pytest.raises(PleinError) as full:
            notes.append("idee", BRAM, ups[2])
        assert full.value.code == "note_too_large"
        assert notes.stream_length("idee") == 2 and notes.stored_bytes("idee") == size
        notes.limits = dataclasses.replace(notes.limits, max_note_bytes=10**6)  # room again
        clock[0] += 1
        notes.append("idee", ANNA, ups[2])
        notes.append("idee", ANNA, ups[3])
        with pytest.raises(PleinError) as fast:
            notes.append("idee", ANNA, ups[4])  # her third in this second
        assert fast.value.code == "notes_rate_limited"
        notes.append("idee", BRAM, ups[4])  # per person: Bram's first
        assert notes.stream_length("idee") == 5
    finally:
        rb.close()


@pytest.mark.redis
def test_bytes_per_person_per_minute_and_in_all(r, redis_url):
    rb = connect(redis_url, binary=True)
    clock = [6000.0]
    try:
        ups = typed(8, 100)
        notes = NoteStore(rb, Keys(SLUG), NoteLimits(updates_per_second=1000,
                                                     person_bytes_per_minute=2 * max(map(len, ups)) + 5,
                                                     person_bytes=sum(len(u) for u in ups[:6]) + 5), now=lambda: clock[0])
        for u in ups[:2]:
            notes.append("idee", ANNA, u)
        with pytest.raises(PleinError) as minute:
            notes.append("idee", ANNA, ups[2])
        assert minute.value.code == "notes_person_minute"
        other = typed(1, 10)  # someone else writes on
        notes.append("idee", BRAM, other[0])
        clock[0] += 60
        for u in ups[2:4]:
            notes.append("idee", ANNA, u)
        clock[0] += 60
        for u in ups[4:6]:
            notes.append("idee", ANNA, u)
        clock[0] += 60
        with pytest.raises(PleinError) as full:
            notes.append("idee", ANNA, ups[6])
        assert full.value.code == "notes_person_full"
        who = {c["id"]: c for c in notes.history("idee")["contributions"]}
        assert who["p-anna"]["updates"] == 6 and who["p-anna"]["bytes"] == sum(len(u) for u in ups[:6])
        assert who["p-bram"]["updates"] == 1
        # PLEIN_RATE_LIMITS=off lifts the rates, not the sizes
        off = NoteStore(rb, Keys(SLUG), NoteLimits(updates_per_second=1, person_bytes_per_minute=1,
                                                   person_bytes=10**6, rate_limits=False), now=lambda: clock[0])
        notes.r.delete(notes.key("idee", "by:bytes"))
        for u in ups[6:]:
            off.append("idee", ANNA, u)
    finally:
        rb.close()


@pytest.mark.redis
def test_snapshots_and_restore_on_the_store(notes, monkeypatch):
    from rooms import notes as notes_module
    clock = [7000.0]
    notes.now = lambda: clock[0]
    doc, text, updates, _ = editor(11)
    text += "Ons plan"
    notes.append("idee", ANNA, updates[-1])
    clock[0] += 61
    text.insert(0, "é rommel ")
    notes.append("idee", BRAM, updates[-1])
    hist = notes.history("idee")
    assert [s["preview"] for s in hist["snapshots"]] == ["", "Ons plan"]
    assert hist["snapshots"][1]["after"] == [{"id": "p-bram", "name": "Bram", "bytes": len(updates[-1]), "restore": False}]
    update = notes.restore("idee", hist["snapshots"][1]["id"], {"id": "restore:mod", "name": "Mod"})
    assert notes.text("idee") == "Ons plan"
    doc.apply_update(update)  # a client that applies the relayed edit has the restored text
    assert str(text) == "Ons plan"
    with pytest.raises(PleinError) as unknown:
        notes.restore("idee", "nope", {"id": "restore:mod"})
    assert unknown.value.code == "unknown_snapshot"
    notes.r.set(notes.key("idee", "restoring"), b"another worker")  # a restore of this note under way elsewhere
    with pytest.raises(PleinError) as busy:
        notes.restore("idee", hist["snapshots"][0]["id"], {"id": "restore:mod"})
    assert busy.value.code == "busy" and notes.text("idee") == "Ons plan"
    notes.r.delete(notes.key("idee", "restoring"))
    kept = notes.history("idee")["snapshots"]
    assert len(kept) == 3 and kept[-1]["before_restore"] and kept[-1]["preview"] == "é rommel Ons plan"
    for i in range(40):
        clock[0] += 61
        text += "x"
        notes.append("idee", ANNA, updates[-1])
    assert len(notes.history("idee")["snapshots"]) == notes.limits.snapshots
    # and at most HISTORY_NOTES notes' worth of text (here: 300 bytes): the oldest go
    monkeypatch.setattr(notes_module, "HISTORY_NOTES", 300 / notes.limits.max_note_bytes)
    clock[0] += 61
    text += "z"
    notes.append("idee", ANNA, updates[-1])
    kept = notes.history("idee")["snapshots"]
    assert 1 <= len(kept) < notes.limits.snapshots and sum(s["chars"] for s in kept) <= 300
    assert kept[-1]["preview"] == notes.text("idee")[:-1]  # the newest stays


@pytest.mark.redis
def test_awareness_caps_on_the_store(notes):
    state = {"user": {"name": "Anna"}}
    notes.remember_awareness("idee", "s1", [(1, 1, state), (2, 1, state)])
    for entries in ([(3, 1, state)], [(1, 2, {"user": {"name": "x" * 3000}})], [(k, 1, state) for k in range(10, 20)]):
        with pytest.raises(PleinError) as refused:
            notes.remember_awareness("idee", "s1", entries)
        assert refused.value.code == "notes_awareness_too_large"
    notes.remember_awareness("idee", "s1", [(1, 3, None), (3, 1, state)])
    assert notes.forget_awareness("idee", "s1") == yprotocol.awareness([(2, 2, None), (3, 2, None)])


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
