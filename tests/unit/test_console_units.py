"""Pure pieces of the moderator console: message cleaning, spreadsheet-safe cells, actors, the action table."""
from __future__ import annotations

import pytest

from rooms.audit import Actor, spreadsheet_safe
from rooms.console import BROADCAST_MAX, clean_text
from rooms.errors import MESSAGES, PleinError

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("raw, expected", [
    ("  Hallo  ", "Hallo"),
    ("regel een\r\nregel twee", "regel een\nregel twee"),
    ("e\u0301", "é"),  # NFC
    ("x" * BROADCAST_MAX, "x" * BROADCAST_MAX),
])
def test_clean_text_keeps_what_a_person_typed(raw, expected):
    assert clean_text(raw, max_len=BROADCAST_MAX, code="message") == expected


@pytest.mark.parametrize("raw, code", [
    (None, "message_missing"), (42, "message_missing"), ("", "message_missing"), (" \n\t ", "message_missing"),
    ("x" * (BROADCAST_MAX + 1), "message_too_long"), ("tab\there", "message_control"), ("bel\x07", "message_control"),
    ("nul\x00", "message_control"), ("\ud800", "message_control"),
])
def test_clean_text_refuses_with_a_code(raw, code):
    with pytest.raises(PleinError) as info:
        clean_text(raw, max_len=BROADCAST_MAX, code="message")
    assert info.value.code == code and info.value.status == 400
    assert code in MESSAGES  # every code has its Dutch and English text


def test_clean_text_optional():
    assert clean_text(None, max_len=10, code="help", required=False) == ""
    assert clean_text("   ", max_len=10, code="help", required=False) == ""
    with pytest.raises(PleinError, match="at most 10"):
        clean_text("x" * 11, max_len=10, code="help", required=False)


@pytest.mark.parametrize("cell, expected", [
    ("=SUM(A1)", "'=SUM(A1)"), ("+31 6 1234", "'+31 6 1234"), ("-1", "'-1"), ("@Mila", "'@Mila"),
    ("\tx", "'\tx"), ("\rx", "'\rx"), ("Anna", "Anna"), ("", ""), ("2022-01-17T19:00:00+01:00", "2022-01-17T19:00:00+01:00"),
])
def test_spreadsheet_safe(cell, expected):
    assert spreadsheet_safe(cell) == expected


def test_actors():
    mod = Actor("moderator", "Mila", "ab12")
    host = Actor("host", "Hanna", "p1", frozenset({"zaal-2"}))
    assert mod.is_moderator and not host.is_moderator
    assert host.hosts("zaal-2") and not host.hosts("zaal-3") and not host.hosts(None)
    assert not mod.hosts("zaal-2")  # a moderator may do everything, but hosts nothing
    assert host.to_dict() == {"kind": "host", "name": "Hanna", "id": "p1"}


def test_the_action_table_lets_hosts_do_only_room_actions():
    from server.moderation import ACTIONS
    assert set(ACTIONS) == {"clock", "broadcast", "move", "signup", "lock", "host", "help:answer", "help:done",
                            "console", "remove", "host:link", "notes:history", "notes:restore",
                            "cards:hide", "notes:hide"}
    assert {name for name, action in ACTIONS.items() if action.hosts} == {"broadcast", "help:answer", "help:done",
                                                                          "remove", "notes:history", "notes:restore",
                                                                          "cards:hide", "notes:hide"}


@pytest.mark.parametrize("name", ["clock", "move", "console", "signup"])
def test_run_refuses_anonymous_and_participants_before_touching_anything(name):
    from server import moderation
    with pytest.raises(PleinError) as info:
        moderation.run(name, None, {})
    assert (info.value.code, info.value.status) == ("moderator_only", 401)
    with pytest.raises(PleinError) as info:
        moderation.run(name, Actor("participant", "Anna", "p1"), {})
    assert (info.value.code, info.value.status) == ("moderator_only", 403)
    with pytest.raises(PleinError) as info:  # a host, for an action hosts may not do
        moderation.run(name, Actor("host", "Hanna", "p1", frozenset({"zaal-2"})), {})
    assert info.value.code == "moderator_only"


@pytest.mark.parametrize("body, kind, error", [
    ({"open": 1}, bool, True), ({"open": True}, bool, False), ({"n": True}, int, True), ({"n": 3}, int, False),
    ({}, str, True), ({"s": "x"}, str, False),
])
def test_field_types(body, kind, error):
    from server.moderation import field
    name = next(iter(body), "s")
    if error:
        with pytest.raises(PleinError) as info:
            field(body, name, kind)
        assert info.value.code == "bad_field" and info.value.params == {"field": name}
    else:
        assert field(body, name, kind) == body[name]
    assert field({}, "missing", str, required=False) is None
