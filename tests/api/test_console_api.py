"""The moderator console's HTTP API, in process (Flask test client) on the real test Redis."""
from __future__ import annotations

import csv
import io
import re

import jwt
import pytest

from rooms.errors import MESSAGES
from rooms.i18n import gettext
from support import CONSOLE_PROGRAM, MODERATOR_KEY, SLUG, participant, redis_snapshot

pytestmark = pytest.mark.redis

API = f"/api/events/{SLUG}"
MOD = {"Authorization": f"Bearer {MODERATOR_KEY}"}
KEYS = f"plein:{{{SLUG}}}:"
JITSI_SECRET = "jitsi-app-secret-for-tests-0123456789"


@pytest.fixture
def app(make_app):
    """The console tests' evening: round `vijf` (zaal-1..5), plenary `plenum`, round `twee` (zaal-a, zaal-b)."""
    return make_app(PLEIN_PROGRAM=str(CONSOLE_PROGRAM))


@pytest.fixture
def ev(app):
    return app.extensions["plein"]


def me(c) -> dict:
    return c.get(API + "/participants/me").get_json()


def started(app, *names):
    """The first round running, with these participants signed in (test clients) and seated in it, as the
    ticker seats them at the round's start."""
    clients = [participant(app, name) for name in names]
    ev = app.extensions["plein"]
    ev.clock.act("start")
    ev.due()
    return clients


def error(resp, status: int, code: str) -> dict:
    assert resp.status_code == status, resp.get_data(as_text=True)
    body = resp.get_json()["error"]
    assert body["code"] == code, body
    return body


# -- access -------------------------------------------------------------------------------------

ENDPOINTS = [
    ("get", "/console", None),
    ("post", "/clock", {"action": "start"}),
    ("post", "/broadcasts", {"text": "Hallo"}),
    ("post", "/participants/<pid>/move", {"session": "zaal-2"}),
    ("post", "/participants/<pid>/host", {"session": "zaal-2", "host": True}),
    ("put", "/signup", {"open": False}),
    ("post", "/rounds/twee/lock", {"locked": True}),
    ("post", "/help/<help>/answer", {"text": "Ververs de pagina"}),
    ("post", "/help/<help>/done", None),
    ("get", "/audit", None),
    ("get", "/audit.csv", None),
    ("get", "/rounds", None),
    ("post", "/moderator-key/rotate", None),
    ("put", "/moderators/me", {"name": "Mo"}),
]


def test_every_console_endpoint_needs_a_moderator(app, ev, r):
    anna = participant(app, "Anna")
    pid = me(anna)["id"]
    help_id = anna.post(API + "/participants/me/help", json={"text": "Help"}).get_json()["id"]
    anonymous = app.test_client()
    before = redis_snapshot(r)
    for method, path, body in ENDPOINTS:
        path = API + path.replace("<pid>", pid).replace("<help>", help_id)
        kwargs = {} if body is None else {"json": body}
        error(getattr(anonymous, method)(path, **kwargs), 401, "moderator_only")
        refused = error(getattr(anna, method)(path, **kwargs), 403, "moderator_only")
        assert refused["message"] == "Alleen een moderator mag dit doen."
        english = getattr(anna, method)(path + "?lang=en", **kwargs).get_json()["error"]["message"]
        assert english == "Only a moderator can do this."
        wrong = getattr(anonymous, method)(path, headers={"Authorization": "Bearer not-the-key"}, **kwargs)
        assert wrong.status_code == 401
    assert redis_snapshot(r) == before
    error(anonymous.get(API + "/sessions/zaal-1/room"), 401, "host_only")
    error(anna.get(API + "/sessions/zaal-1/room"), 403, "host_only")


def test_console_endpoints_work_with_the_bearer_key(app, ev):
    anna, bram = started(app, "Anna", "Bram")
    anna_id, bram_id = me(anna)["id"], me(bram)["id"]
    c = app.test_client()
    console = c.get(API + "/console", headers=MOD).get_json()
    assert console["state"]["phase"]["id"] == "vijf" and console["signup_open"] is True
    assert console["totals"] == {"participants": 2, "connected": 0, "not_connected": 2}
    assert [p["name"] for p in console["not_connected"]] == ["Anna", "Bram"]
    assert [room["session"] for room in console["rooms"]] == [f"zaal-{i}" for i in range(1, 6)]
    assert all(room["count"] == 0 and room["present"] == [] for room in console["rooms"])
    assert sum(room["seated"] for room in console["rooms"]) == 2

    ev.presence.connect(anna_id, "sid-anna", "worker-1")
    console = c.get(API + "/console", headers=MOD).get_json()
    seat = me(anna)["placements"]["vijf"]
    room = next(room for room in console["rooms"] if room["session"] == seat)
    assert room["count"] == 1 and [p["name"] for p in room["present"]] == ["Anna"] and room["present"][0]["since"]
    assert console["totals"] == {"participants": 2, "connected": 1, "not_connected": 1}

    resp = c.post(API + "/broadcasts", json={"text": "  Nog vijf minuten\r\ntot de pauze "}, headers=MOD)
    assert resp.status_code == 201
    item = resp.get_json()
    assert item["text"] == "Nog vijf minuten\ntot de pauze" and item["session"] is None and item["from"] == "API"
    target = "zaal-5" if seat != "zaal-5" else "zaal-4"
    moved = c.post(API + f"/participants/{anna_id}/move", json={"session": target}, headers=MOD).get_json()
    assert moved["from"] == seat and moved["to"] == target and moved["round"] == "vijf"
    assert me(anna)["placements"]["vijf"] == target
    # a move in a later round, named; capacity does not stop a moderator
    moved = c.post(API + f"/participants/{bram_id}/move", json={"session": "zaal-b", "round": "twee"}, headers=MOD)
    assert moved.status_code == 200 and me(bram)["placements"]["twee"] == "zaal-b"
    bram_seat = me(bram)["placements"]["vijf"]
    hosted = c.post(API + f"/participants/{bram_id}/host", json={"session": "zaal-3", "host": True}, headers=MOD)
    assert hosted.get_json() == {"participant": {"id": bram_id, "name": "Bram"}, "hosting": ["zaal-3"]}
    assert me(bram)["placements"]["vijf"] == "zaal-3"  # a host sits in their own room
    locked = c.post(API + "/rounds/twee/lock", json={"locked": True}, headers=MOD).get_json()
    assert [r_["locked"] for r_ in locked["rounds"]] == [False, True]
    assert c.put(API + "/signup", json={"open": False}, headers=MOD).get_json() == {"signup_open": False}
    console = c.get(API + "/console", headers=MOD).get_json()
    assert console["signup_open"] is False
    assert next(room for room in console["rooms"] if room["session"] == "zaal-3")["hosts"] == [
        {"id": bram_id, "name": "Bram"}]
    moved_in = ["move"] if bram_seat != "zaal-3" else []  # a new host is seated in their room: a move, if any
    assert [e["action"] for e in console["audit"]] == ["signup", "lock", *moved_in, "host", "move", "move", "broadcast"]
    room = c.get(API + "/sessions/zaal-3/room", headers=MOD).get_json()
    assert room["session"] == "zaal-3" and room["hosts"][0]["name"] == "Bram"
    error(c.get(API + "/sessions/zaal-a/room", headers=MOD), 409, "session_not_running")


# -- bad bodies ---------------------------------------------------------------------------------

BAD = [
    ("post", "/broadcasts", {}, 400, "message_missing"),
    ("post", "/broadcasts", {"text": "   \n "}, 400, "message_missing"),
    ("post", "/broadcasts", {"text": 42}, 400, "message_missing"),
    ("post", "/broadcasts", {"text": "x" * 501}, 400, "message_too_long"),
    ("post", "/broadcasts", {"text": "bel\x07"}, 400, "message_control"),
    ("post", "/broadcasts", {"text": "Hoi", "session": 3}, 400, "bad_field"),
    ("post", "/broadcasts", {"text": "Hoi", "session": "nergens"}, 400, "unknown_session"),
    ("post", "/broadcasts", {"text": "Hoi", "session": "zaal-a"}, 409, "session_not_running"),
    ("post", "/broadcasts", ["Hoi"], 400, "bad_json"),
    ("post", "/participants/<pid>/move", {}, 400, "bad_field"),
    ("post", "/participants/<pid>/move", {"session": "nergens"}, 400, "unknown_session"),
    ("post", "/participants/<pid>/move", {"session": "zaal-1", "round": 2}, 400, "bad_field"),
    ("post", "/participants/<pid>/move", {"session": "zaal-1", "round": "plenum"}, 400, "unknown_round"),
    ("post", "/participants/nobody/move", {"session": "zaal-1"}, 404, "unknown_participant"),
    ("post", "/participants/<pid>/host", {"session": "zaal-1"}, 400, "bad_field"),
    ("post", "/participants/<pid>/host", {"session": "nergens", "host": True}, 400, "unknown_session"),
    ("post", "/participants/nobody/host", {"session": "zaal-1", "host": True}, 404, "unknown_participant"),
    ("put", "/signup", {"open": "nee"}, 400, "bad_field"),
    ("put", "/signup", {"open": 0}, 400, "bad_field"),
    ("post", "/rounds/twee/lock", {"locked": 1}, 400, "bad_field"),
    ("post", "/rounds/plenum/lock", {"locked": True}, 404, "unknown_round"),
    ("post", "/help/<help>/answer", {"text": ""}, 400, "message_missing"),
    ("post", "/help/<help>/answer", {"text": "y" * 501}, 400, "message_too_long"),
    ("post", "/help/nope/answer", {"text": "Hoi"}, 404, "unknown_help"),
    ("post", "/help/nope/done", None, 404, "unknown_help"),
    ("post", "/clock", {"action": "jump"}, 400, "unknown_phase"),
    ("post", "/clock", {"action": "jump", "phase": "nergens"}, 400, "unknown_phase"),
    ("post", "/clock", {"action": "extend", "minutes": True}, 400, "bad_minutes"),
    ("post", "/clock", {"action": "start"}, 409, "already_running"),
    ("put", "/moderators/me", {"name": "Mo"}, 400, "cookie_only"),
]


@pytest.mark.parametrize("method, path, body, status, code", BAD, ids=[f"{b[1]}-{b[4]}" for b in BAD])
def test_bad_bodies_are_refused_in_both_languages_and_change_nothing(app, r, method, path, body, status, code):
    anna, = started(app, "Anna")
    pid = me(anna)["id"]
    help_id = anna.post(API + "/participants/me/help", json={"text": "Help"}).get_json()["id"]
    path = API + path.replace("<pid>", pid).replace("<help>", help_id)
    c = app.test_client()
    kwargs = {} if body is None else {"json": body}
    before = redis_snapshot(r)
    dutch = error(getattr(c, method)(path, headers=MOD, **kwargs), status, code)
    english = error(getattr(c, method)(path, headers={**MOD, "Accept-Language": "en-GB,en;q=0.8"}, **kwargs),
                    status, code)
    assert error(getattr(c, method)(path + "?lang=en", headers=MOD, **kwargs), status, code) == english
    nl, en = MESSAGES[code], gettext("en", code, MESSAGES[code])
    assert dutch["message"].startswith(re.split("['{]", nl)[0]) and english["message"].startswith(re.split("['{]", en)[0])
    assert redis_snapshot(r) == before


def test_broadcast_text_limits(app):
    started(app)
    c = app.test_client()
    for text in ("x" * 500, "é" * 500, "a", "regel een\nregel twee"):
        resp = c.post(API + "/broadcasts", json={"text": text}, headers=MOD)
        assert resp.status_code == 201 and resp.get_json()["text"] == text
    decomposed = "e\u0301" * 500  # 1000 code points, 500 after NFC
    assert c.post(API + "/broadcasts", json={"text": decomposed}, headers=MOD).get_json()["text"] == "é" * 500
    error(c.post(API + "/broadcasts", json={"text": "x" * 501}, headers=MOD), 400, "message_too_long")


def test_participants_see_broadcasts_for_everyone_and_their_own_room(app, ev):
    anna, bram = started(app, "Anna", "Bram")
    seats = {me(c)["placements"]["vijf"]: c for c in (anna, bram)}
    assert len(seats) == 2
    (room_a, anna), (room_b, bram) = sorted(seats.items())
    c = app.test_client()
    everyone = c.post(API + "/broadcasts", json={"text": "Voor iedereen"}, headers=MOD).get_json()
    mine = c.post(API + "/broadcasts", json={"text": "Alleen A", "session": room_a}, headers=MOD).get_json()
    assert mine["session"]["id"] == room_a
    assert [b["id"] for b in anna.get(API + "/participants/me/broadcasts").get_json()["broadcasts"]] == [
        everyone["id"], mine["id"]]
    assert [b["id"] for b in bram.get(API + "/participants/me/broadcasts").get_json()["broadcasts"]] == [
        everyone["id"]]
    assert app.test_client().get(API + "/participants/me/broadcasts").status_code == 401


# -- help requests --------------------------------------------------------------------------------

def test_help_ask_answer_done_and_closing_ones_own(app, ev):
    anna, bram = started(app, "Anna", "Bram")
    c = app.test_client()
    assert anna.get(API + "/participants/me/help").get_json() == {"request": None}
    resp = anna.post(API + "/participants/me/help", json={})
    assert resp.status_code == 201
    first = resp.get_json()
    seat = me(anna)["placements"]["vijf"]
    assert first["status"] == "open" and first["messages"] == [] and first["name"] == "Anna"
    assert first["room"]["session"] == seat and first["room"]["name"].startswith(SLUG)
    again = anna.post(API + "/participants/me/help", json={"text": "ik kom er niet uit"}).get_json()
    assert again["id"] == first["id"] and [m["text"] for m in again["messages"]] == ["ik kom er niet uit"]
    error(anna.post(API + "/participants/me/help", json={"text": "z" * 501}), 400, "help_too_long")
    error(app.test_client().post(API + "/participants/me/help", json={}), 401, "unauthorized")

    console = c.get(API + "/console", headers=MOD).get_json()
    assert [(h["id"], h["name"], h["room"]["session"]) for h in console["help"]] == [(first["id"], "Anna", seat)]
    # moved while waiting: the console points at the room she is in now
    elsewhere = "zaal-1" if seat != "zaal-1" else "zaal-2"
    assert c.post(API + f"/participants/{me(anna)['id']}/move", json={"session": elsewhere},
                  headers=MOD).status_code == 200
    console = c.get(API + "/console", headers=MOD).get_json()
    assert [h["room"]["session"] for h in console["help"]] == [elsewhere]
    answered = c.post(API + f"/help/{first['id']}/answer", json={"text": "Ververs de pagina"}, headers=MOD)
    assert answered.status_code == 200 and answered.get_json()["status"] == "answered"
    mine = anna.get(API + "/participants/me/help").get_json()["request"]
    assert [(m["from"], m["name"], m["text"]) for m in mine["messages"]] == [
        ("participant", "Anna", "ik kom er niet uit"), ("moderator", "API", "Ververs de pagina")]
    # the participant closes their own request ("gelukt, bedankt")
    closed = anna.post(API + "/participants/me/help/done")
    assert closed.status_code == 200 and closed.get_json()["status"] == "done" and closed.get_json()["done_by"] == "Anna"
    assert anna.get(API + "/participants/me/help").get_json() == {"request": None}
    error(anna.post(API + "/participants/me/help/done"), 404, "unknown_help")
    error(c.post(API + f"/help/{first['id']}/done", headers=MOD), 409, "help_done_already")
    assert c.get(API + "/console", headers=MOD).get_json()["help"] == []
    # a moderator marks another one done
    other = bram.post(API + "/participants/me/help", json={"text": "Geen beeld"}).get_json()
    assert other["id"] != first["id"]
    done = c.post(API + f"/help/{other['id']}/done", headers=MOD).get_json()
    assert done["status"] == "done" and done["done_by"] == "API"
    assert bram.get(API + "/participants/me/help").get_json() == {"request": None}
    actions = [(e["action"], e["details"]) for e in c.get(API + "/audit", headers=MOD).get_json()["entries"]]
    assert [a for a, _ in actions[:1]] == ["move"]
    assert actions[1:] == [
        ("help_answer", {"request": first["id"], "participant": "Anna", "text": "Ververs de pagina"}),
        ("help_done", {"request": other["id"], "participant": "Bram"})]


# -- the audit log ----------------------------------------------------------------------------------

def test_every_action_is_in_the_audit_log_and_the_csv(app, ev):
    anna, = started(app, "=HYPERLINK(\"x\")")
    pid = me(anna)["id"]
    mod = app.test_client()
    assert mod.post(f"/e/{SLUG}/moderator", data={"key": MODERATOR_KEY, "name": "@Mila"}).status_code == 303
    assert mod.put(API + "/moderators/me", json={"name": "+Mila de Mod"}).get_json() == {"name": "+Mila de Mod"}
    error(mod.put(API + "/moderators/me", json={"name": ""}), 400, "name_missing")
    mod.post(API + "/clock", json={"action": "extend", "minutes": 5})
    mod.post(API + "/broadcasts", json={"text": "Hoi allemaal"})
    mod.post(API + f"/participants/{pid}/move", json={"session": "zaal-4"})
    mod.put(API + "/signup", json={"open": False})
    mod.post(API + "/rounds/twee/lock", json={"locked": True})
    mod.post(API + f"/participants/{pid}/host", json={"session": "zaal-4", "host": True})
    help_id = anna.post(API + "/participants/me/help", json={"text": "Hulp"}).get_json()["id"]
    mod.post(API + f"/help/{help_id}/answer", json={"text": "Komt eraan"})
    mod.post(API + f"/help/{help_id}/done")
    # a host acting is logged as the host
    anna.post(API + "/broadcasts", json={"text": "Welkom", "session": "zaal-4"})
    entries = mod.get(API + "/audit").get_json()["entries"]
    name = '=HYPERLINK("x")'
    version = ev.state().version
    assert [(e["who"]["kind"], e["who"]["name"], e["action"], e["details"]) for e in entries] == [
        ("moderator", "@Mila", "sign_in", {}),
        ("moderator", "+Mila de Mod", "clock", {"action": "extend", "version": version, "minutes": 5}),
        ("moderator", "+Mila de Mod", "broadcast", {"session": None, "text": "Hoi allemaal"}),
        ("moderator", "+Mila de Mod", "move", {"participant": {"id": pid, "name": name}, "round": "vijf",
                                               "from": entries[3]["details"]["from"], "to": "zaal-4"}),
        ("moderator", "+Mila de Mod", "signup", {"open": False}),
        ("moderator", "+Mila de Mod", "lock", {"round": "twee", "locked": True}),
        ("moderator", "+Mila de Mod", "host", {"participant": {"id": pid, "name": name}, "session": "zaal-4",
                                               "host": True}),
        ("moderator", "+Mila de Mod", "help_answer", {"request": help_id, "participant": name, "text": "Komt eraan"}),
        ("moderator", "+Mila de Mod", "help_done", {"request": help_id, "participant": name}),
        ("host", name, "broadcast", {"session": "zaal-4", "text": "Welkom"}),
    ]
    ids = {e["who"]["id"] for e in entries[:-1]}
    assert len(ids) == 1 and ids != {""}  # one sign-in, one id
    assert all(e["at"].endswith("+01:00") for e in entries)
    assert mod.get(API + "/console").get_json()["audit"][0]["action"] == "broadcast"  # newest first

    resp = mod.get(API + "/audit.csv")
    assert resp.status_code == 200 and resp.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert resp.headers["Content-Disposition"] == f'attachment; filename="{SLUG}-logboek.csv"'
    assert resp.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(resp.data.decode("utf-8-sig"))))
    assert rows[0] == ["time", "role", "name", "id", "action", "details"]
    assert len(rows) == len(entries) + 1
    assert [row[2] for row in rows[1:3]] == ["'@Mila", "'+Mila de Mod"]  # no formulas in a spreadsheet
    assert rows[-1][1:3] == ["host", "'" + name] and rows[-1][4] == "broadcast"
    assert rows[3][5] == '{"session": null, "text": "Hoi allemaal"}'


def test_console_audit_shows_the_thirty_newest(app, ev):
    started(app)
    c = app.test_client()
    for i in range(35):
        c.post(API + "/broadcasts", json={"text": f"Bericht {i}"}, headers=MOD)
    audit = c.get(API + "/console", headers=MOD).get_json()["audit"]
    assert len(audit) == 30 and audit[0]["details"]["text"] == "Bericht 34" and audit[-1]["details"]["text"] == "Bericht 5"
    assert len(c.get(API + "/audit", headers=MOD).get_json()["entries"]) == 35


# -- sign-up --------------------------------------------------------------------------------------------

def test_closing_sign_up_refuses_new_participants_only(app, ev):
    anna = participant(app, "Anna")
    c = app.test_client()
    assert c.put(API + "/signup", json={"open": False}, headers=MOD).status_code == 200
    error(c.post(API + "/participants", json={"name": "Laat"}), 403, "signup_closed")
    assert c.post(API + "/participants?lang=en", json={"name": "Laat"}).get_json()["error"]["message"] == \
        "Sign-up for this evening is closed."
    form = c.post(f"/e/{SLUG}/join", data={"name": "Laat"})
    assert form.status_code == 403 and "Aanmelden voor deze avond is gesloten." in form.get_data(as_text=True)
    page = c.get(f"/e/{SLUG}").get_data(as_text=True)
    assert 'id="signup-closed"' in page
    assert ev.participants.count() == 1
    assert anna.get(API + "/participants/me/state").status_code == 200  # who is in stays in
    person, token = ev.participants.create("Geïmporteerd")  # imports and personal links still work
    assert app.test_client().get(f"/e/{SLUG}/p/{token}").status_code == 303
    assert c.put(API + "/signup", json={"open": True}, headers=MOD).get_json() == {"signup_open": True}
    assert 'id="signup-closed"' not in c.get(f"/e/{SLUG}").get_data(as_text=True)
    assert c.post(API + "/participants", json={"name": "Laat"}).status_code == 201


# -- the moderator key --------------------------------------------------------------------------------------

def test_rotating_the_key_signs_the_other_moderators_out(make_app, r):
    app = make_app(PLEIN_MODERATOR_KEY=None, PLEIN_PROGRAM=str(CONSOLE_PROGRAM))
    old = r.get(KEYS + "moderator-key")
    first, second = app.test_client(), app.test_client()
    assert first.get(f"/e/{SLUG}/moderator?key={old}").status_code == 303
    assert second.post(f"/e/{SLUG}/moderator", data={"key": old, "name": "Sam"}).status_code == 303
    error(participant(app, "Anna").post(API + "/moderator-key/rotate"), 403, "moderator_only")
    resp = second.post(API + "/moderator-key/rotate")
    assert resp.status_code == 200
    new = resp.get_json()["key"]
    assert new != old and len(new) >= 43 and r.get(KEYS + "moderator-key") == new
    assert resp.get_json()["link"] == f"http://localhost/e/{SLUG}/moderator#key={new}"
    assert second.get(API + "/console").status_code == 200  # the one who rotated stays signed in
    error(first.get(API + "/console"), 401, "moderator_only")
    bearer = app.test_client()
    error(bearer.get(API + "/console", headers={"Authorization": f"Bearer {old}"}), 401, "moderator_only")
    assert bearer.get(API + "/console", headers={"Authorization": f"Bearer {new}"}).status_code == 200
    assert first.get(f"/e/{SLUG}/moderator?key={old}").status_code == 403
    entries = second.get(API + "/audit").get_json()["entries"]
    assert [(e["who"]["name"], e["action"]) for e in entries] == [
        ("Moderator " + entries[0]["who"]["id"][:4], "sign_in"), ("Sam", "sign_in"), ("Sam", "rotate_key")]


def test_a_configured_key_cannot_rotate(app, r):
    c = app.test_client()
    error(c.post(API + "/moderator-key/rotate", headers=MOD), 409, "key_configured")
    assert c.get(API + "/console", headers=MOD).status_code == 200
    assert r.llen(KEYS + "audit") == 0


# -- hosts -----------------------------------------------------------------------------------------

def host_link(ev, session_id: str) -> str:
    return f"/e/{SLUG}/host/{session_id}/{ev.host_token(session_id)}"


def test_the_host_link_gives_jitsi_moderator_rights_in_that_room_only(make_app):
    app = make_app(PLEIN_PROGRAM=str(CONSOLE_PROGRAM), JITSI_APP_ID="plein-test", JITSI_APP_SECRET=JITSI_SECRET)
    ev = app.extensions["plein"]
    hanna, gast = started(app, "Hanna", "Gast")
    assert hanna.get(f"/e/{SLUG}/host/zaal-2/{'0' * 32}").status_code == 404
    assert hanna.get(f"/e/{SLUG}/host/zaal-2/{ev.host_token('zaal-3')}").status_code == 404
    resp = hanna.get(host_link(ev, "zaal-2"))
    assert resp.status_code == 303 and resp.headers["Location"].endswith(f"/e/{SLUG}/live")
    state = hanna.get(API + "/participants/me/state").get_json()
    assert state["hosting"] == ["zaal-2"] and state["room"]["session"]["id"] == "zaal-2"

    def user(token):
        return jwt.decode(token, JITSI_SECRET, algorithms=["HS256"], audience="jitsi")["context"]["user"]

    assert user(state["room"]["jwt"])["moderator"] == "true" and user(state["room"]["jwt"])["affiliation"] == "owner"
    assert state["next_room"]["name"] != state["room"]["name"]
    assert user(state["next_room"]["jwt"]) == {**user(state["next_room"]["jwt"]), "moderator": "false",
                                               "affiliation": "member"}
    other = gast.get(API + "/participants/me/state").get_json()
    assert other["hosting"] == [] and user(other["room"]["jwt"])["moderator"] == "false"
    # Moved into another room by a moderator, the host is no Jitsi moderator there.
    hid = me(hanna)["id"]
    app.test_client().post(API + f"/participants/{hid}/move", json={"session": "zaal-4"}, headers=MOD)
    state = hanna.get(API + "/participants/me/state").get_json()
    assert state["room"]["session"]["id"] == "zaal-4" and user(state["room"]["jwt"])["moderator"] == "false"


def test_without_token_auth_a_host_gets_no_jwt(app, ev):
    hanna, = started(app, "Hanna")
    hanna.get(host_link(ev, "zaal-1"))
    state = hanna.get(API + "/participants/me/state").get_json()
    assert state["hosting"] == ["zaal-1"] and "jwt" not in state["room"] and state["room"]["token_required"] is False


def test_someone_not_signed_in_becomes_host_after_joining(app, ev):
    c = app.test_client()
    resp = c.get(host_link(ev, "zaal-a"))
    assert resp.status_code == 303 and resp.headers["Location"].endswith(f"/e/{SLUG}")
    assert 'id="host-invite"' in c.get(f"/e/{SLUG}").get_data(as_text=True)
    resp = c.post(f"/e/{SLUG}/join", data={"name": "Nieuwe Host"})
    assert resp.status_code == 303 and resp.headers["Location"].endswith(f"/e/{SLUG}/live")
    state = c.get(API + "/participants/me/state").get_json()
    assert state["hosting"] == ["zaal-a"]
    assert me(c)["placements"]["twee"] == "zaal-a"  # a seat in their room, ahead of its round


def test_a_host_acts_in_their_own_room_only(app, ev):
    hanna, gast = started(app, "Hanna", "Gast")
    hanna.get(host_link(ev, "zaal-2"))
    c = app.test_client()
    gid = me(gast)["id"]
    c.post(API + f"/participants/{gid}/move", json={"session": "zaal-2"}, headers=MOD)
    resp = hanna.post(API + "/broadcasts", json={"text": "Welkom", "session": "zaal-2"})
    assert resp.status_code == 201 and resp.get_json()["from"] == "Hanna"
    assert [b["text"] for b in gast.get(API + "/participants/me/broadcasts").get_json()["broadcasts"]] == ["Welkom"]
    error(hanna.post(API + "/broadcasts", json={"text": "Elders", "session": "zaal-3"}), 403, "host_only")
    error(hanna.post(API + "/broadcasts", json={"text": "Iedereen"}), 403, "host_only")
    room = hanna.get(API + "/sessions/zaal-2/room").get_json()
    assert room["session"] == "zaal-2" and room["hosts"] == [{"id": me(hanna)["id"], "name": "Hanna"}]
    assert room["seated"] == 2
    error(hanna.get(API + "/sessions/zaal-3/room"), 403, "host_only")
    for method, path, body in [("post", "/clock", {"action": "advance"}), ("get", "/console", None),
                               ("post", f"/participants/{gid}/move", {"session": "zaal-3"}),
                               ("put", "/signup", {"open": False}), ("get", "/audit", None)]:
        error(getattr(hanna, method)(API + path, **({} if body is None else {"json": body})), 403, "moderator_only")
    # help in their room: yes; elsewhere: no
    asked = gast.post(API + "/participants/me/help", json={"text": "Geen geluid"}).get_json()
    answer = hanna.post(API + f"/help/{asked['id']}/answer", json={"text": "Microfoon aan"})
    assert answer.status_code == 200 and answer.get_json()["messages"][-1] == {
        **answer.get_json()["messages"][-1], "from": "host", "name": "Hanna"}
    c.post(API + f"/participants/{gid}/move", json={"session": "zaal-5"}, headers=MOD)
    elsewhere = gast.post(API + "/participants/me/help", json={"text": "Weer iets"}).get_json()
    assert elsewhere["room"]["session"] == "zaal-5"
    error(hanna.post(API + f"/help/{elsewhere['id']}/done"), 403, "host_only")
    # a moderator takes the right away
    resp = c.post(API + f"/participants/{me(hanna)['id']}/host", json={"session": "zaal-2", "host": False}, headers=MOD)
    assert resp.get_json()["hosting"] == []
    error(hanna.post(API + "/broadcasts", json={"text": "Nog eens", "session": "zaal-2"}), 403, "moderator_only")
    assert hanna.get(API + "/participants/me/state").get_json()["hosting"] == []


# -- the clock: jump and end --------------------------------------------------------------------------

def test_jump_and_end_through_the_clock_endpoint(app, ev):
    c = app.test_client()
    resp = c.post(API + "/clock", json={"action": "jump", "phase": "twee"}, headers=MOD)
    assert resp.status_code == 200
    state = resp.get_json()
    assert state["status"] == "running" and state["phase"]["id"] == "twee" and state["next"] is None
    assert state["remaining"] == pytest.approx(30 * 60, abs=2)
    back = c.post(API + "/clock", json={"action": "jump", "phase": "vijf"}, headers=MOD).get_json()
    assert back["phase"]["id"] == "vijf" and back["next"]["id"] == "plenum" and back["version"] == state["version"] + 1
    assert back["remaining"] == pytest.approx(60 * 60, abs=2)
    ended = c.post(API + "/clock", json={"action": "end"}, headers=MOD).get_json()
    assert ended["status"] == "ended" and ended["phase"] is None and ended["next"] is None
    error(c.post(API + "/clock", json={"action": "end"}, headers=MOD), 409, "already_ended")
    assert ev.state().version == ended["version"]
    assert [e["details"] for e in c.get(API + "/audit", headers=MOD).get_json()["entries"]] == [
        {"action": "jump", "phase": "twee", "version": state["version"]},
        {"action": "jump", "phase": "vijf", "version": back["version"]},
        {"action": "end", "version": ended["version"]}]


def test_host_links_are_revocable_and_do_not_undo_a_moderator(make_app, r):
    """Issue 9, item 11: the host link was a fixed HMAC that survived a key rotation and gave back host rights a
    moderator had taken away."""
    app = make_app(PLEIN_PROGRAM=str(CONSOLE_PROGRAM))
    ev = app.extensions["plein"]
    hanna, gast = started(app, "Hanna", "Gast")
    old = host_link(ev, "zaal-2")
    assert hanna.get(old).status_code == 303 and me(hanna)["id"] in ev.hosts.all()["zaal-2"]
    hid = me(hanna)["id"]
    mod = app.test_client()

    # A moderator takes the rights away: the same link does not give them back.
    assert mod.post(API + f"/participants/{hid}/host", json={"session": "zaal-2", "host": False}, headers=MOD).status_code == 200
    page = hanna.get(old)
    assert page.status_code == 403 and "hostrechten" in page.get_data(as_text=True)
    assert "zaal-2" not in ev.hosts.of(hid)
    assert mod.post(API + f"/participants/{hid}/host", json={"session": "zaal-2", "host": True}, headers=MOD).status_code == 200
    assert "zaal-2" in ev.hosts.of(hid)

    # Re-issued: the old link is void, the new one works; only a moderator may re-issue.
    resp = mod.post(API + "/sessions/zaal-2/host-link", headers=MOD)
    assert resp.status_code == 200, resp.get_json()
    new = resp.get_json()["link"]
    assert new.endswith(f"/e/{SLUG}/host/zaal-2/{ev.host_token('zaal-2')}") and not new.endswith(old)
    assert gast.get(old).status_code == 404
    assert gast.post(API + "/sessions/zaal-2/host-link").status_code == 403
    error(mod.post(API + "/sessions/nope/host-link", headers=MOD), 400, "unknown_session")
    assert any(e["action"] == "host_link" for e in mod.get(API + "/audit", headers=MOD).get_json()["entries"])

    # A new moderator key makes new host links: whoever had the old moderator page had them all.
    app = make_app(PLEIN_MODERATOR_KEY=None, PLEIN_PROGRAM=str(CONSOLE_PROGRAM))  # a key that can rotate
    ev, gast = app.extensions["plein"], app.test_client()
    mod = app.test_client()
    assert mod.get(f"/e/{SLUG}/moderator?key={ev.moderator_key}").status_code == 303
    before = {s: ev.host_token(s) for s in ("zaal-1", "zaal-2")}
    rotated = mod.post(API + "/moderator-key/rotate").get_json()
    assert set(rotated["hosts"]) >= {"zaal-1", "zaal-2"}
    for s, token in before.items():
        assert gast.get(f"/e/{SLUG}/host/{s}/{token}").status_code == 404
        assert rotated["hosts"][s].endswith(ev.host_token(s)) and ev.host_token(s) != token
