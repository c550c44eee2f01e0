"""The HTTP API and the pages, in process (Flask test client) on the real test Redis."""
from __future__ import annotations

import re
import threading

import pytest

pytestmark = pytest.mark.redis

API = "/api/events/cooperatieve-stad-2022"


def test_event_lists_the_program_in_order_with_offsets(client, program):
    data = client.get(API).get_json()
    assert data["slug"] == "cooperatieve-stad-2022" and data["timezone"] == "Europe/Amsterdam"
    assert data["title"] == "De Coöperatieve Stad"
    assert [p["id"] for p in data["phases"]] == [p.id for p in program.phases]
    first = data["phases"][0]
    assert first["starts_at"].startswith("2022-01-17T16:00:00") and first["starts_at"].endswith("+01:00")
    assert [p["kind"] for p in data["phases"]] == [
        "round", "break", "round", "break", "plenary", "break", "round", "round", "plenary"]
    ronde3 = data["phases"][7]
    assert [s["kind"] for s in ronde3["sessions"]] == ["talk", "brainstorm", "brainstorm"]
    assert set(ronde3["sessions"][0]) >= {"id", "title", "kind", "capacity"}


def test_unknown_event_is_404_json(client):
    resp = client.get("/api/events/another-evening")
    assert resp.status_code == 404 and resp.get_json()["error"]["code"] == "not_found"


def test_state_waits_for_the_moderator_when_the_date_has_passed(client):
    state = client.get(API + "/state").get_json()
    assert state["status"] == "waiting" and state["phase"] is None and state["next"]["id"] == "in-beeld"
    assert set(state) >= {"version", "phase", "next", "server_time", "speed", "paused"}
    assert "room" not in state


def test_join_returns_id_token_and_cookie(client, r):
    resp = client.post(API + "/participants", json={"name": "  Anna de Vries \t"})
    assert resp.status_code == 201
    body = resp.get_json()
    assert body["name"] == "Anna de Vries" and len(body["token"]) >= 40 and body["id"]
    assert "plein_session" in resp.headers.get("Set-Cookie", "")
    # the token is stored only as a hash
    assert body["token"] not in str(r.hgetall("plein:{cooperatieve-stad-2022}:tokens"))
    # the cookie alone now authenticates, and so does the bearer token
    assert client.get(API + "/participants/me/state").status_code == 200
    other = client.application.test_client()
    assert other.get(API + "/participants/me/state").status_code == 401
    assert other.get(API + "/participants/me/state",
                     headers={"Authorization": f"Bearer {body['token']}"}).status_code == 200


@pytest.mark.parametrize("name, code", [
    ("", "name_missing"), ("   ", "name_missing"), (None, "name_missing"), (42, "name_missing"),
    ("x" * 61, "name_too_long"), ("Anna\nde Vries", "name_control"), ("Anna\x00", "name_control"),
    ("tab\there", "name_control"),
    # issue 9, item 6: nothing visible, bidi tricks, the console's own names
    ("\u200b\u200b", "name_invisible"), ("\u2060\u200d\u3164", "name_invisible"), ("\u0301\u0301", "name_invisible"),
    ("Anna\u202erotaredoM", "name_control"), ("\u2067Bram\u2069", "name_control"), ("\u200fEva", "name_control"),
    ("Moderator", "name_reserved"), ("moderator 8845", "name_reserved"), ("M o d e r a t o r", "name_reserved"),
    ("\uff2d\uff2f\uff24\uff25\uff32\uff21\uff34\uff2f\uff32", "name_reserved"), ("Modérator!", "name_reserved"),
    ("API", "name_reserved"), ("A.P.I.", "name_reserved"), ("Plein", "name_reserved"),
])
def test_bad_names_are_refused_and_change_nothing(client, r, name, code):
    resp = client.post(API + "/participants", json={"name": name})
    assert resp.status_code == 400
    assert resp.get_json()["error"]["code"] == code
    assert r.zcard("plein:{cooperatieve-stad-2022}:participants") == 0


def test_name_limits_are_inclusive(client):
    assert client.post(API + "/participants", json={"name": "x" * 60}).status_code == 201
    assert client.post(API + "/participants", json={"name": "Ö"}).status_code == 201


def test_errors_speak_dutch_first_and_english_when_asked(client):
    nl = client.post(API + "/participants", json={"name": ""}).get_json()["error"]["message"]
    en = client.post(API + "/participants", json={"name": ""},
                     headers={"Accept-Language": "en-GB,en;q=0.9"}).get_json()["error"]["message"]
    assert nl == "Vul je naam in." and en == "Please enter your name."


def test_bad_json_bodies(client):
    for kwargs in ({"data": "not json", "content_type": "application/json"}, {"json": ["Anna"]},
                   {"data": "name=Anna", "content_type": "application/x-www-form-urlencoded"}):
        resp = client.post(API + "/participants", **kwargs)
        assert resp.status_code == 400 and resp.get_json()["error"]["code"] == "bad_json"


def test_concurrent_joins_then_the_round_start_places_evenly(app, program):
    """90 simultaneous sign-ups, nobody chooses: each round's start splits them 45/45 and 30/30/30."""
    ev = app.extensions["plein"]
    threads = [threading.Thread(target=ev.participants.create, args=(f"P{i}",)) for i in range(90)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert ev.participants.count() == 90
    for rnd in program.rounds:
        assert len(ev.seats.place(rnd.id)) == 90
        taken = ev.seats.taken()[rnd.id]
        assert set(taken.values()) == {90 // len(rnd.sessions)}
        assert ev.seats.place(rnd.id) == []  # a second start places nobody twice


def test_clock_via_api_and_via_moderator_cookie(client, moderator_headers):
    assert client.post(API + "/clock", json={"action": "start"}).status_code == 401
    resp = client.post(API + "/clock", json={"action": "start"}, headers=moderator_headers)
    assert resp.status_code == 200 and resp.get_json()["phase"]["id"] == "in-beeld"
    again = client.post(API + "/clock", json={"action": "start"}, headers=moderator_headers)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_running"
    # the moderator link exchanges the key for a cookie and drops it from the address
    from support import MODERATOR_KEY
    page = client.get(f"/e/cooperatieve-stad-2022/moderator?key={MODERATOR_KEY}")
    assert page.status_code == 303 and "key=" not in page.headers["Location"]
    assert MODERATOR_KEY not in page.headers.get("Set-Cookie", "")
    resp = client.post(API + "/clock", json={"action": "advance"})
    assert resp.status_code == 200 and resp.get_json()["phase"]["id"] == "pauze-1700"


def test_wrong_moderator_key_gets_403_page(client):
    resp = client.get("/e/cooperatieve-stad-2022/moderator?key=guess")
    assert resp.status_code == 403
    assert client.post(API + "/clock", json={"action": "start"}).status_code == 401


def test_join_form_keeps_the_typed_name_on_error(client):
    resp = client.post("/e/cooperatieve-stad-2022/join", data={"name": "Anna\tB" + "x" * 70})
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    assert "Anna\tB" in html
    resp = client.post("/e/cooperatieve-stad-2022/join", data={"name": "Anna"})
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/e/cooperatieve-stad-2022/live")
    assert client.get("/e/cooperatieve-stad-2022/live").status_code == 200


def test_live_page_without_sign_in_goes_to_the_event_page(client):
    resp = client.get("/e/cooperatieve-stad-2022/live")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/e/cooperatieve-stad-2022")


def test_event_page_tells_about_meet_jit_si(r, redis_url, tmp_path, monkeypatch):
    from support import app_config
    from server import create_app
    monkeypatch.setenv("PLEIN_INSTANCE", str(tmp_path))
    public = create_app(app_config(redis_url, JITSI_DOMAIN="meet.jit.si")).test_client()
    assert "5 minuten" in public.get("/e/cooperatieve-stad-2022").get_data(as_text=True)


def test_healthz(client):
    assert client.get("/healthz").get_json() == {"status": "ok", "redis": "ok"}


def test_healthz_503_when_redis_goes_away(tmp_path, monkeypatch):
    from support import app_config
    from rooms.embedded import EmbeddedRedis
    from server import create_app
    monkeypatch.setenv("PLEIN_INSTANCE", str(tmp_path))
    embedded = EmbeddedRedis(tmp_path / "redis")
    url = embedded.start()
    try:
        client = create_app(app_config(url)).test_client()
        assert client.get("/healthz").status_code == 200
    finally:
        embedded.stop()
    resp = client.get("/healthz")
    assert resp.status_code == 503 and resp.get_json()["redis"] == "down"
    resp = client.get(API + "/state")
    assert resp.status_code == 503 and resp.get_json()["error"]["code"] == "redis_down"


def test_room_names(app, program):
    ev = app.extensions["plein"]
    names = set()
    for phase in program.phases:
        for part in [s.id for s in phase.sessions] or [phase.id]:
            name = ev.rooms.name(phase.id, part)
            assert re.fullmatch(r"[a-z0-9-]+", name) and len(name) < 100
            names.add(name)
    assert len(names) == sum(max(1, len(p.sessions)) for p in program.phases)
    from rooms.jitsi import JitsiSettings, RoomService
    other = RoomService(program, "another secret", JitsiSettings())
    assert other.name("ronde-1", "incubator") != ev.rooms.name("ronde-1", "incubator")


def test_breaks_use_a_plenary_room_as_foyer(app, program):
    ev = app.extensions["plein"]
    idx = {p.id: i for i, p in enumerate(program.phases)}
    # before the first plenary: the next one; after it: the last one before
    assert ev.rooms.foyer_phase(idx["pauze-1700"]).id == "opening"
    assert ev.rooms.foyer_phase(idx["pauze-1815"]).id == "opening"
    assert ev.rooms.foyer_phase(idx["pauze-1930"]).id == "opening"


def test_http_level_errors_are_coded_and_translated(client):
    resp = client.get("/api/nope")
    assert resp.status_code == 404 and resp.get_json()["error"] == {
        "code": "no_such_path", "message": "Dit adres bestaat niet."}
    resp = client.get(API + "/clock", headers={"Accept-Language": "en"})
    assert resp.status_code == 405 and resp.get_json()["error"]["message"] == "This address does not accept that method."
    resp = client.post(API + "/participants", data="x" * 70000, content_type="application/json")
    assert resp.status_code == 413 and resp.get_json()["error"]["code"] == "too_large"


def test_pages_show_errors_as_pages_in_the_users_language(client):
    resp = client.get("/no/such/page")
    assert resp.status_code == 404 and "Dit adres bestaat niet." in resp.get_data(as_text=True)
    resp = client.get("/e/another-evening?lang=en")
    assert resp.status_code == 404 and "This evening does not exist." in resp.get_data(as_text=True)
    assert "404" in resp.get_data(as_text=True)


@pytest.mark.parametrize("name", ["Ånne-Marie O'Neill", "李小龍", "Zoë 🙂", "Api Jansen", "Moderne Mensen", "José",
                                  "محمد", "Hostel de Wit"])
def test_ordinary_names_are_welcome(client, name):
    resp = client.post(API + "/participants", json={"name": name})
    assert resp.status_code == 201, resp.get_json()


def test_the_invitation_kit_qr_codes_and_printable_program(client):
    """Issue 10, item 11: the join link as a QR code (SVG and PNG, kept libraries) and a one-page program."""
    svg = client.get("/e/cooperatieve-stad-2022/invite/qr.svg")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml" and b"<svg" in svg.data
    png = client.get("/e/cooperatieve-stad-2022/invite/qr.png?download=1")
    assert png.status_code == 200 and png.data.startswith(b"\x89PNG")
    assert png.headers["Content-Disposition"].startswith("attachment") and "cooperatieve-stad-2022-qr.png" in \
        png.headers["Content-Disposition"]
    assert client.get("/e/cooperatieve-stad-2022/invite/qr.gif").status_code == 404
    page = client.get("/e/cooperatieve-stad-2022/invite").get_data(as_text=True)
    assert "http://localhost/e/cooperatieve-stad-2022" in page and "Doe mee" in page
    assert "16:00–17:00" in page and "21:30–22:00" in page  # planned times, in the event's time zone
    assert "Alle tijden in Europe/Amsterdam." in page


def test_a_dutch_evening_opens_in_dutch_whatever_the_browser_asks(app):
    """Issue 10, item 8: Chromium asks for English by default; the evening's own language wins on the pages,
    and the NL|EN switch (?lang=, kept in a cookie) wins over both."""
    english_browser = {"Accept-Language": "en-US,en;q=0.9"}
    c = app.test_client()

    def lang(path: str) -> str:
        html = c.get(path, headers=english_browser).get_data(as_text=True)
        return html.split('<html lang="', 1)[1][:2]

    assert lang("/e/cooperatieve-stad-2022") == "nl"  # was "en"
    assert lang("/e/cooperatieve-stad-2022?lang=en") == "en"
    assert lang("/e/cooperatieve-stad-2022") == "en"  # the switch is remembered
    assert lang("/e/cooperatieve-stad-2022?lang=nl") == "nl"
    assert lang("/e/cooperatieve-stad-2022") == "nl"
