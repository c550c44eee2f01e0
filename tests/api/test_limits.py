"""Rate limits per person and per address (rooms/limits.py): the attacks from issue 9 and the venue that must
still get in. Real Redis; time is played through the limiter's `now` where a minute must pass in an instant."""
from __future__ import annotations

import pytest

from rooms.limits import Limits, Rate
from rooms.store import Keys
from support import CONSOLE_PROGRAM, MODERATOR_KEY, SLUG, participant, redis_snapshot

pytestmark = pytest.mark.redis

API = f"/api/events/{SLUG}"
MOD = {"Authorization": f"Bearer {MODERATOR_KEY}"}
KEYS = Keys(SLUG)


def allowed(limits: Limits, name: str, who: str, times) -> int:
    n = 0
    for t in times:
        try:
            limits.take(name, who, now=t)
            n += 1
        except Exception as exc:  # noqa: BLE001 - only rate_limited is expected
            assert exc.code == "rate_limited" and exc.status == 429 and exc.details["retry_after"] >= 1
    return n


def test_a_hall_of_200_signs_up_within_a_minute_behind_one_address(r):
    limits = Limits(r, KEYS)
    t0 = 1_800_000_000.0
    assert allowed(limits, "signup", "192.0.2.7", [t0 + i * 60 / 200 for i in range(200)]) == 200
    # ... even when they all arrive in the first 20 seconds, as a hall does when the host says "now".
    assert allowed(limits, "signup", "192.0.2.8", [t0 + i * 20 / 200 for i in range(200)]) == 200
    # A script that signs up 300 in 0.7 s gets the burst and no more; another address is not touched.
    assert allowed(limits, "signup", "198.51.100.1", [t0 + i * 0.7 / 300 for i in range(300)]) in (120, 121, 122, 123)
    assert allowed(limits, "signup", "198.51.100.2", [t0 + 1]) == 1


def test_rates_are_settings():
    assert Rate.parse("60/300", "PLEIN_LIMIT_SIGNUP") == Rate(60, 300)
    for bad in ("60", "a/b", "0/10", "5/0", "2.5/10"):
        with pytest.raises(ValueError, match="PLEIN_LIMIT_SIGNUP"):
            Rate.parse(bad, "PLEIN_LIMIT_SIGNUP")


def test_signup_flood_from_one_address_is_refused_with_a_code_and_changes_nothing(make_app, r):
    app = make_app(PLEIN_LIMITS={"signup": Rate(5, 1)})
    c = app.test_client()
    c.get(f"/e/{SLUG}")  # the event page sets the clock up: before the snapshot
    for i in range(5):
        assert c.post(API + "/participants", json={"name": f"Bot {i}"}).status_code == 201
    before = redis_snapshot(r)
    resp = c.post(API + "/participants", json={"name": "Bot 6"})
    assert resp.status_code == 429 and resp.get_json()["error"]["code"] == "rate_limited"
    assert int(resp.headers["Retry-After"]) >= 1 and "seconden" in resp.get_json()["error"]["message"]
    english = c.post(API + "/participants?lang=en", json={"name": "Bot 7"}, headers={"Accept-Language": "en"})
    assert english.status_code == 429
    form = c.post(f"/e/{SLUG}/join", data={"name": "Bot 8"})
    assert form.status_code == 429 and "Bot 8" in form.get_data(as_text=True)  # the form keeps what was typed
    after = redis_snapshot(r)
    assert {k: v for k, v in after.items() if ":limit:" not in k} == {k: v for k, v in before.items() if ":limit:" not in k}
    # Another address (a second proxy hop trusted) still gets in.
    proxied = make_app(PLEIN_LIMITS={"signup": Rate(5, 1)}, PLEIN_PROXY_HOPS=1).test_client()
    assert proxied.post(API + "/participants", json={"name": "Echt"},
                        headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 201


def test_rate_limits_off_for_load_tests(make_app):
    c = make_app(PLEIN_LIMITS={"signup": Rate(1, 1)}, PLEIN_RATE_LIMITS=False).test_client()
    assert all(c.post(API + "/participants", json={"name": f"Load {i}"}).status_code == 201 for i in range(5))


def test_help_asks_and_host_broadcasts_are_limited_per_person(make_app):
    app = make_app(PLEIN_PROGRAM=str(CONSOLE_PROGRAM), PLEIN_LIMITS={"help": Rate(3, 1), "broadcast": Rate(2, 1)})
    ev = app.extensions["plein"]
    anna, bram = participant(app, "Anna"), participant(app, "Bram")
    ev.clock.act("start")
    ev.due()
    codes = [anna.post(API + "/participants/me/help", json={"text": f"hulp {i}"}).status_code for i in range(6)]
    assert codes == [201, 201, 201, 429, 429, 429]
    assert [m["text"] for m in anna.get(API + "/participants/me/help").get_json()["request"]["messages"]] == ["hulp 0", "hulp 1", "hulp 2"]
    assert bram.post(API + "/participants/me/help", json={"text": "ik ook"}).status_code == 201  # not Anna's limit
    # A host's broadcasts to their room; a moderator is not limited (the key can steer everything anyway).
    bram_id = bram.get(API + "/participants/me").get_json()["id"]
    seat = bram.get(API + "/participants/me").get_json()["placements"]["vijf"]
    app.test_client().post(API + f"/participants/{bram_id}/host", json={"session": seat, "host": True}, headers=MOD)
    sent = [bram.post(API + "/broadcasts", json={"text": f"b{i}", "session": seat}).status_code for i in range(4)]
    assert sent == [201, 201, 429, 429]
    mod = app.test_client()
    assert all(mod.post(API + "/broadcasts", json={"text": f"m{i}"}, headers=MOD).status_code == 201 for i in range(12))


def test_one_help_request_stays_small_however_often_its_participant_asks(r):
    from rooms.console import HELP_MESSAGES_MAX, HelpDesk
    from rooms.participants import Participant
    desk = HelpDesk(r, KEYS, Limits(r, KEYS, enabled=False))
    anna = Participant("anna", "Anna")
    for i in range(HELP_MESSAGES_MAX):
        desk.ask(anna, "x" * 500, None)
    with pytest.raises(Exception) as refused:
        desk.ask(anna, "nog een", None)
    assert refused.value.code == "help_too_many"
    assert len(desk.of("anna")["messages"]) == HELP_MESSAGES_MAX
    assert desk.ask(anna, None, {"session": "zaal-2"})["room"] == {"session": "zaal-2"}  # no text: still a ping
    assert len(r.get(KEYS.help_item(desk.of("anna")["id"]))) < 12_000  # was 175 KB after a flood of asks
