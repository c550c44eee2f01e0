"""The video room on Jitsi's real IFrame API: Jitsi's own hang-up button, and the roles that tokens carry.

The loopback Jitsi (tests/fake_jitsi.py) plays the Jitsi page inside the iframe: it records what it was
opened with and hands out the moderator role like the deployment it is told to be (`fake_jitsi.mode`).
The live page reports the role it got (`jitsi:role`; `window.plein.jitsiRoles` keeps every report).
"""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from support import LAPTOP, PHONE, SLUG, join_to_choose, shot

pytestmark = pytest.mark.browser

TOKENS = {"JITSI_APP_ID": "plein-test", "JITSI_APP_SECRET": "test-jitsi-secret-0123456789abcdef"}
SESSION = "wonen-energie"


def join_live(watch, server, name: str, session: str | None = None):
    """Join in the browser, choose `session` for the first round (or choose later), land on the live page."""
    page = join_to_choose(watch.page, server, name)
    if session:
        page.check(f"#opt-in-beeld-{session}")
        page.locator("#choose-save").click()
    else:
        page.locator("#choose-later").click()
    page.wait_for_url(f"**/e/{SLUG}/live")
    page.wait_for_function("window.plein && window.plein.state")
    return page


def record_role_emits(page):
    """Keep every `jitsi:role` the page emits on its socket in window.__roleEmits."""
    page.evaluate("""() => {
      const socket = window.plein.socket, emit = socket.emit.bind(socket);
      window.__roleEmits = [];
      socket.emit = (event, ...args) => {
        if (event === "jitsi:role") window.__roleEmits.push(args[0]);
        return emit(event, ...args);
      };
    }""")


def wait_reported(page, role: str, room: str | None = None):
    """Wait until the page's last Jitsi role report is `role` for `room` (default: the room it is in)."""
    page.wait_for_function(
        "([role, room]) => { const last = window.plein.jitsiRoles.at(-1);"
        " return last && last.role === role && last.room === (room || window.plein.state.room.name); }",
        arg=[role, room])


def test_jitsis_own_hang_up_button_offers_to_rejoin_the_same_room(server, new_page, fake_jitsi):
    watch = new_page(viewport=LAPTOP)
    page = join_live(watch, server, "Anna de Vries")
    server.clock("start")
    first = fake_jitsi.wait_load("Anna de Vries")
    room = page.evaluate("window.plein.state.room.name")
    wait_reported(page, "participant")  # no tokens, mode "token": nobody is a moderator

    page.frame_locator("#jitsi iframe").locator("#hangup").click()  # Jitsi's own red button, inside the frame
    hangup = fake_jitsi.wait_for(lambda f: f.hangups)
    assert hangup == [{**hangup[0], "id": first["id"], "room": room, "source": "button"}]
    panel = page.locator("#room-panel")
    expect(panel.locator("#panel-title")).to_have_text("Je hebt de zaal verlaten.")
    expect(page.locator("#jitsi iframe")).to_have_count(0)
    assert page.evaluate("window.plein.roomName") is None
    wait_reported(page, "none", room)

    page.locator("#panel-action").click()  # "Opnieuw deelnemen": the same room again
    again = fake_jitsi.wait_load("Anna de Vries", 2)
    assert again["room"] == room and again["id"] != first["id"]
    expect(page.locator("#jitsi iframe")).to_have_count(1)
    assert page.locator("#jitsi iframe").get_attribute("src") == again["url"]
    expect(panel).to_be_hidden()
    wait_reported(page, "participant")
    assert fake_jitsi.occupants[room] == [again["id"]]
    assert watch.errors == []


@pytest.mark.parametrize("role_first", [False, True], ids=["joined-then-role", "role-then-joined"])
def test_a_host_and_a_participant_get_the_roles_their_tokens_carry(start_server, new_page, fake_jitsi, role_first):
    """Prosody with mod_token_affiliation (mode "token"): the host's token makes her moderator, the other's not;
    each page reports what it got, whichever of Jitsi's two events comes first."""
    server = start_server(env=TOKENS)
    fake_jitsi.role_before_join = role_first
    mira_w, noor_w = new_page(), new_page()
    mira = join_live(mira_w, server, "Mira Jansen", SESSION)
    noor = join_live(noor_w, server, "Noor Bakker", SESSION)
    mira_id = mira.request.get(server.api("/participants/me")).json()["id"]
    made = server.call("POST", f"/participants/{mira_id}/host", {"session": SESSION, "host": True})
    assert made.status_code == 200, made.text
    for page in (mira, noor):
        record_role_emits(page)

    server.clock("start")
    host, other = fake_jitsi.wait_load("Mira Jansen"), fake_jitsi.wait_load("Noor Bakker")
    room = mira.evaluate("window.plein.state.room.name")
    assert host["room"] == other["room"] == room and f"-{SESSION}-" in room
    for load, moderator in ((host, True), (other, False)):
        assert load["jwt"] and load["query"]["jwt"] == load["jwt"]  # the token rides in the room URL
        user = load["claims"]["context"]["user"]
        assert load["claims"]["room"] == room and user["moderator"] == ("true" if moderator else "false")
    assert (host["role"], other["role"]) == ("moderator", "participant")

    wait_reported(mira, "moderator")
    wait_reported(noor, "participant")
    expect(mira.frame_locator("#jitsi iframe").locator("#role")).to_have_text("rol: moderator")
    assert mira.evaluate("window.__roleEmits") == [{"room": room, "role": "moderator"}]
    assert noor.evaluate("window.__roleEmits") == [{"room": room, "role": "participant"}]

    # A new connection (a restarted server, a network switch): the page says its role again.
    mira.evaluate("window.plein.socket.disconnect(); window.plein.socket.connect()")
    mira.wait_for_function("window.__roleEmits.length === 2")
    assert mira.evaluate("window.__roleEmits.at(-1)") == {"room": room, "role": "moderator"}
    assert mira_w.errors == [] and noor_w.errors == []


def test_the_real_iframe_api_opens_a_room_on_another_host(start_server, new_page, fake_jitsi):
    """The loopback Jitsi can play a public host (here 8x8.vc, as for JaaS) through Playwright's routing."""
    server = start_server(env={"JITSI_DOMAIN": "8x8.vc",
                               "JITSI_EXTERNAL_API_URL": "https://8x8.vc/vpaas-magic-cookie-test/external_api.js"})
    watch = new_page()
    fake_jitsi.serve_as(watch.page.context, "8x8.vc")
    page = join_live(watch, server, "Anna de Vries")
    server.clock("start")
    load = fake_jitsi.wait_load("Anna de Vries", page=page)  # page=: the forwarding needs Playwright running
    room = page.evaluate("window.plein.state.room.name")
    assert load["url"].startswith(f"https://8x8.vc/{room}?") and load["room"] == room
    assert "/vpaas-magic-cookie-test/external_api.js" in fake_jitsi.requests
    wait_reported(page, "participant")  # the postis handshake works across the forwarded origin
    page.frame_locator("#jitsi iframe").locator("#hangup").click()
    wait_reported(page, "none", room)
    assert [h["source"] for h in fake_jitsi.hangups] == ["button"]
    assert watch.errors == []


def test_a_debian_jitsi_makes_the_first_occupant_moderator_and_the_page_follows(server, new_page, fake_jitsi):
    """Mode "first" (Debian packages, jicofo auto-owner): the first in the room is moderator; when she hangs up,
    the next one gets it, and his page reports the change (participantRoleChanged after joining)."""
    fake_jitsi.mode = "first"
    anna_w, bram_w = new_page(), new_page()
    anna = join_live(anna_w, server, "Anna de Vries", SESSION)
    bram = join_live(bram_w, server, "Bram", SESSION)
    bram.goto("about:blank")  # Bram comes in after Anna
    server.clock("start")
    wait_reported(anna, "moderator")
    first = fake_jitsi.wait_load("Anna de Vries")
    bram.goto(f"{server.url}/e/{SLUG}/live")
    bram.wait_for_function("window.plein && window.plein.state")
    assert fake_jitsi.wait_load("Bram")["room"] == first["room"]
    wait_reported(bram, "participant")  # both in the room: Anna came first

    anna.frame_locator("#jitsi iframe").locator("#hangup").click()
    wait_reported(anna, "none", first["room"])
    wait_reported(bram, "moderator")
    expect(bram.frame_locator("#jitsi iframe").locator("#role")).to_have_text("rol: moderator")
    assert [(r["room"], r["role"]) for r in bram.evaluate("window.plein.jitsiRoles")] == [
        (first["room"], "participant"), (first["room"], "moderator")]
    assert anna_w.errors == [] and bram_w.errors == []


def test_the_console_warns_when_jitsi_makes_others_than_the_host_moderator(start_server, new_page, fake_jitsi):
    """Issue 8: a docker-jitsi-meet with JWT makes every token holder a moderator. The pages say so, the console
    warns (in Dutch, with the docs' link); once Jitsi gives rights as the tokens ask, the warning goes."""
    from test_console_page import open_console

    server = start_server(env=TOKENS)
    fake_jitsi.mode = "everyone"
    mira_w, noor_w = new_page(), new_page()
    mira = join_live(mira_w, server, "Mira Jansen", SESSION)
    noor = join_live(noor_w, server, "Noor Bakker", SESSION)
    mira_id = mira.request.get(server.api("/participants/me")).json()["id"]
    assert server.call("POST", f"/participants/{mira_id}/host", {"session": SESSION, "host": True}).status_code == 200
    server.clock("start")
    wait_reported(mira, "moderator")
    wait_reported(noor, "moderator")  # what a stock docker-jitsi-meet does with every token

    console_w, console = open_console(new_page, server)
    warning = console.locator("#jitsi-rights")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("Je Jitsi maakt iedereen moderator, ook wie geen host is: "
                                    "Noor Bakker (Woon- & Energiecoöperatieven).")
    expect(warning).to_contain_text("JICOFO_ENABLE_AUTH=0")
    assert warning.get_by_role("link").get_attribute("href").endswith("/docs/deploy#jitsi-host-rights")
    room = console.locator(f"[data-room='{SESSION}'] .room__jitsi")
    expect(room).to_contain_text("Mira Jansen, Noor Bakker")
    expect(room).to_have_class("room__jitsi is-wrong")
    warning.scroll_into_view_if_needed()
    shot(console, "console-jitsi-warning-laptop")

    # The docs link opens the deployment's own guide at the right place.
    guide = console_w.page.context.new_page()
    guide.goto(server.url + warning.get_by_role("link").get_attribute("href"))
    expect(guide.locator("#jitsi-host-rights")).to_have_count(1)
    guide.close()

    # Rights as the tokens ask (inside Jitsi, Noor's rights taken away): the warning goes.
    fake_jitsi.set_role("Noor Bakker", "participant")
    wait_reported(noor, "participant")
    expect(warning).to_be_hidden()
    expect(room).to_have_text("Moderator in Jitsi Mira Jansen")
    assert console_w.errors == [] and mira_w.errors == [] and noor_w.errors == []


def test_the_console_warning_on_a_phone(start_server, new_page, fake_jitsi):
    """The same warning, first-to-arrive flavour, at 390 px: readable, nothing wider than the phone."""
    from test_console_page import open_console

    server = start_server(env=TOKENS)
    fake_jitsi.roles["Noor Bakker"] = "moderator"  # only Noor, as if she had come first on a Debian Jitsi
    noor_w, bram_w = new_page(), new_page()
    noor = join_live(noor_w, server, "Noor Bakker", SESSION)
    bram = join_live(bram_w, server, "Bram", SESSION)
    server.clock("start")
    wait_reported(noor, "moderator")
    wait_reported(bram, "participant")
    _, console = open_console(new_page, server, viewport=PHONE)
    warning = console.locator("#jitsi-rights")
    expect(warning).to_contain_text("Je Jitsi maakt wie het eerst binnenkomt moderator, ook als dat geen host is: "
                                    "Noor Bakker")
    expect(warning).to_be_visible()  # the rooms card is folded on a phone; a warning unfolds it
    assert console.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    warning.scroll_into_view_if_needed()
    shot(console, "console-jitsi-warning-phone")


def test_jaas_opens_the_room_under_the_app_id_on_8x8_with_an_rs256_token(start_server, new_page, fake_jitsi, tmp_path):
    """Issue 8: the real IFrame API opens https://8x8.vc/<AppID>/<room> (the loopback Jitsi plays 8x8.vc) with a
    token that the JaaS public key verifies: header kid, every claim; the host is moderator, the other not."""
    import jwt
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    app_id = "vpaas-magic-cookie-0123456789abcdef0123456789abcdef"
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = tmp_path / "jaas.pem"
    pem.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))
    server = start_server(env={"JITSI_JAAS_APP_ID": app_id, "JITSI_JAAS_KEY_ID": f"{app_id}/4f4910",
                               "JITSI_JAAS_PRIVATE_KEY_FILE": str(pem), "JITSI_EXTERNAL_API_URL": ""})
    mira_w, noor_w = new_page(), new_page()
    for watch in (mira_w, noor_w):
        fake_jitsi.serve_as(watch.page.context, "8x8.vc")
    mira = join_live(mira_w, server, "Mira Jansen", SESSION)
    noor = join_live(noor_w, server, "Noor Bakker", SESSION)
    mira_id = mira.request.get(server.api("/participants/me")).json()["id"]
    assert server.call("POST", f"/participants/{mira_id}/host", {"session": SESSION, "host": True}).status_code == 200
    server.clock("start")

    host = fake_jitsi.wait_load("Mira Jansen", page=mira)
    other = fake_jitsi.wait_load("Noor Bakker", page=noor)
    room = mira.evaluate("window.plein.state.room.name")
    assert f"/{app_id}/external_api.js" in fake_jitsi.requests  # the AppID's own script
    for load, moderator in ((host, "true"), (other, "false")):
        assert load["url"].startswith(f"https://8x8.vc/{app_id}/{room}?jwt=")
        assert load["tenant"] == app_id and load["room"] == room
        assert jwt.get_unverified_header(load["jwt"]) == {"alg": "RS256", "kid": f"{app_id}/4f4910", "typ": "JWT"}
        claims = jwt.decode(load["jwt"], key.public_key(), algorithms=["RS256"], audience="jitsi", issuer="chat")
        assert claims["sub"] == app_id and claims["room"] == room and claims["nbf"] == claims["iat"] - 30
        assert claims["context"]["user"]["moderator"] == moderator
        assert claims["context"]["features"] == {"livestreaming": "false", "recording": "false",
                                                 "transcription": "false", "outbound-call": "false",
                                                 "sip-outbound-call": "false"}
    wait_reported(mira, "moderator")
    wait_reported(noor, "participant")
    assert mira_w.errors == [] and noor_w.errors == []
