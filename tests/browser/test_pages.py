"""The pages in a real Chromium: join, be placed in a room, be moved by the moderator, on a laptop and a phone.

The page loads external_api.js from the configured Jitsi deployment; here that is Jitsi's real IFrame API
served by the loopback Jitsi (tests/fake_jitsi.py), whose room page records what it was opened with (the full
URL: room, JWT, display name, subject), hang-ups and commands, and hands out roles like a real deployment.
"""
from __future__ import annotations

import time

import pytest
import requests
from playwright.sync_api import expect

from support import LAPTOP, MODERATOR_KEY, PHONE, SLUG, join_to_choose, shot


pytestmark = pytest.mark.browser


def join(watch, server, name: str):
    """Join on the event page, land on the choose page, choose later: on to the live page."""
    page = join_to_choose(watch.page, server, name)
    page.locator("#choose-later").click()
    page.wait_for_url(f"**/e/{SLUG}/live")
    page.wait_for_function("window.plein && window.plein.state")
    return page


def join_and_start(watch, server, name: str):
    """Join, let the moderator start the evening, wait for the first room; returns (page, room name)."""
    page = join(watch, server, name)
    server.clock("start")
    page.wait_for_function("window.plein.roomName")
    return page, page.evaluate("window.plein.roomName")


def frames(page) -> int:
    return page.locator("#jitsi iframe").count()


def one_frame(page):
    """Wait until #jitsi holds exactly one iframe (a room being left is disposed within a second)."""
    page.wait_for_function("document.querySelectorAll('#jitsi iframe').length === 1")
    return page.locator("#jitsi iframe")


def wait_room(page, name: str):
    page.wait_for_function("n => window.plein && window.plein.roomName === n", arg=name)


def server_state(server) -> dict:
    return requests.get(server.api("/participants/me/state"), timeout=5).json()


@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["laptop", "phone"])
def test_join_see_the_first_room_and_be_moved_by_the_moderator(server, new_page, viewport, fake_jitsi):
    watch = new_page(viewport=viewport)
    page = join(watch, server, "Anna de Vries")
    assert fake_jitsi.loads == [] and frames(page) == 0  # waiting for the moderator: no room yet
    assert "moderator" in page.locator("body").inner_text().lower()

    first = server.clock("start").json()
    opened = fake_jitsi.wait_load("Anna de Vries")
    state = page.evaluate("window.plein.state")
    assert state["phase"]["id"] == "in-beeld"
    assert opened["room"] == state["room"]["name"] and opened["display_name"] == "Anna de Vries"
    assert opened["url"].startswith(f"https://{server.env['JITSI_DOMAIN']}/{opened['room']}?")
    assert opened["subject"] == state["room"]["title"] and opened["jwt"] is None  # no tokens configured
    assert one_frame(page).get_attribute("src") == opened["url"]  # the IFrame API's URL, hash and all
    assert page.locator("#phase-title").inner_text() == "Coöperatieven in beeld"
    inside = page.frame_locator("#jitsi iframe")
    expect(inside.locator("#room")).to_have_text(opened["room"])
    expect(inside.locator("#name")).to_have_text("Anna de Vries")
    # Joined: the local subject is set (config `subject` shows only once someone is a moderator).
    fake_jitsi.wait_for(lambda f: any(c["name"] == "local-subject" and c["args"] == [state["room"]["title"]]
                                      and c["id"] == opened["id"] for c in f.commands))
    expect(inside.locator("#subject")).to_have_text(state["room"]["title"])
    assert first["phase"]["id"] == "in-beeld"
    countdown = page.locator("#countdown").inner_text()
    assert countdown.count(":") in (1, 2) and countdown != "--:--"
    shot(page, f"live-round-{'phone' if viewport == PHONE else 'laptop'}")

    server.clock("advance")  # into the break: the foyer is the opening plenary's room
    page.wait_for_function("window.plein.state.phase.id === 'pauze-1700'")
    moved = fake_jitsi.wait_load("Anna de Vries", 2)
    # The old room was hung up (Jitsi drops the occupant at once) as the new one opened, then disposed: the old
    # frame itself recorded the `hangup` command, which it could not have done once disposed. (Which of the two
    # frames' reports reaches the loopback Jitsi first is a race between them, so no order is asserted.)
    hangup = fake_jitsi.wait_for(lambda f: [h for h in f.hangups if h["id"] == opened["id"]])
    assert hangup == [{**hangup[0], "room": opened["room"], "source": "command"}]
    assert moved["room"] == page.evaluate("window.plein.state.room.name") != opened["room"]
    assert moved["room"].startswith(f"{SLUG}-opening-") and moved["display_name"] == "Anna de Vries"
    assert one_frame(page).get_attribute("src") == moved["url"]
    assert fake_jitsi.occupants[opened["room"]] == [] and fake_jitsi.occupants[moved["room"]] == [moved["id"]]
    # The page told the server it left the old room's Jitsi ("none"), then its role in the new one.
    page.wait_for_function("([old, now]) => JSON.stringify(window.plein.jitsiRoles.map(r => [r.room, r.role]))"
                           " === JSON.stringify([[old, 'participant'], [old, 'none'], [now, 'participant']])",
                           arg=[opened["room"], moved["room"]])

    if viewport == PHONE:  # nothing wider than the phone, video and countdown both on screen
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        assert page.locator("#jitsi").bounding_box()["height"] > 200
        assert page.locator("#countdown").is_visible()
    assert watch.errors == []


def test_reload_lands_in_the_same_room_with_the_same_countdown(server, new_page, fake_jitsi):
    page, room = join_and_start(new_page(), server, "Bram")
    before = fake_jitsi.wait_load("Bram")
    ends = page.evaluate("window.plein.state.phase.ends_at")
    page.reload()
    page.wait_for_function("window.plein && window.plein.roomName")
    assert page.evaluate("window.plein.roomName") == room
    assert page.evaluate("window.plein.state.phase.ends_at") == ends
    after = fake_jitsi.wait_load("Bram", 2)
    assert after["room"] == before["room"] == room
    # The reloaded page opened the room once, in one frame. (Whether the old frame's goodbye beacon reaches the
    # loopback Jitsi is Chromium's business during an unload, not the page's: no assertion on it.)
    assert one_frame(page).get_attribute("src") == after["url"]
    assert len(fake_jitsi.loads_of("Bram")) == 2


def test_join_form_errors_keep_what_was_typed(server, new_page):
    watch = new_page(viewport=PHONE)
    page = watch.page
    page.goto(f"{server.url}/e/{SLUG}")
    too_long = "Anna " + "x" * 70
    page.evaluate("document.querySelector('input[name=name]').removeAttribute('maxlength')")
    page.fill("input[name=name]", too_long)
    page.locator("form[action$='/join'] button[type=submit]").click()
    alert = page.locator("[role=alert]")
    alert.wait_for()
    assert "60" in alert.inner_text()
    assert page.input_value("input[name=name]") == too_long
    shot(page, "event-join-error-phone")
    assert requests.get(server.api("/state")).status_code == 200


def test_english_page(server, new_page):
    watch = new_page(locale="en-GB")
    page = watch.page
    page.goto(f"{server.url}/e/{SLUG}?lang=en")
    assert page.locator("html").get_attribute("lang") == "en"
    page.fill("input[name=name]", "Alex")
    page.locator("form[action$='/join'] button[type=submit]").click()
    page.wait_for_url(f"**/e/{SLUG}/live")
    assert page.locator("html").get_attribute("lang") == "en"  # the choice is remembered
    page.get_by_role("link", name="Choose every round at once").click()
    page.wait_for_url(f"**/e/{SLUG}/choose")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").inner_text() == "Choose your sessions"


def test_moderator_page_steers_the_participant(server, new_page, fake_jitsi):
    participant = join(new_page(), server, "Chris")
    mod_watch = new_page()
    mod = mod_watch.page
    mod.goto(f"{server.url}/e/{SLUG}/moderator?key={MODERATOR_KEY}")
    mod.wait_for_url(f"**/e/{SLUG}/moderator")
    assert MODERATOR_KEY not in mod.url
    checks = len(fake_jitsi.requests)
    mod.reload()  # every load of the moderator page checks the deployment again
    deadline = time.monotonic() + 10
    while len(fake_jitsi.requests) == checks and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(fake_jitsi.requests) > checks
    mod.locator("#jitsi-check[data-ok=true]").wait_for()
    mod.get_by_role("button", name="Start").click()
    mod.locator("dialog[open]").get_by_role("button", name="Ja, iedereen verplaatsen").click()
    participant.wait_for_function("window.plein.state.phase && window.plein.state.phase.id === 'in-beeld'")
    # Issue 10, item 9: one click on "Volgende" moves nobody; the question names where everyone would go.
    version = mod.evaluate("window.plein.state.version")
    mod.get_by_role("button", name="Volgende").click()
    dialog = mod.locator("dialog[open]")
    expect(dialog.locator("h2")).to_have_text("Iedereen gaat nu naar: Pauze")
    shot(mod, "moderator-confirm-next-laptop")
    dialog.get_by_role("button", name="Annuleren").click()
    assert requests.get(server.api("/state"), timeout=5).json()["version"] == version  # nothing was sent
    assert participant.evaluate("window.plein.state.phase.id") == "in-beeld"
    mod.get_by_role("button", name="Volgende").click()
    mod.locator("dialog[open]").get_by_role("button", name="Ja, iedereen verplaatsen").click()
    participant.wait_for_function("window.plein.state.phase.id === 'pauze-1700'")
    mod.wait_for_function("document.body.innerText.includes('Pauze')")
    shot(mod, "moderator-laptop")
    assert mod_watch.errors == []


def test_clock_warning_banner(server, new_page):
    page = join(new_page(), server, "Dana")
    server.clock("start")
    server.clock("extend", -56)  # 4 minutes left in the round: the 5-minute warning is due now
    page.locator("#warning-text").wait_for(state="visible")
    assert "minuten" in page.locator("#warning-text").inner_text()
    shot(page, "live-warning-laptop")


def test_meet_jit_si_is_named_for_what_it_is(start_server, fake_jitsi, new_page):
    server = start_server(env={"JITSI_DOMAIN": "meet.jit.si", "JITSI_EXTERNAL_API_URL": fake_jitsi.script_url})
    page = join(new_page(), server, "Eva")
    assert "5 minuten" in page.locator("#public-jitsi-notice").inner_text()


def test_server_restart_shows_the_banner_and_keeps_the_call(server, new_page, fake_jitsi):
    """Nothing lives in the server process: after a restart the page reconnects into the same room."""
    watch = new_page()
    page, room = join_and_start(watch, server, "Femke")
    server.stop()
    page.locator("#conn-banner").wait_for(state="visible")
    assert "Verbinding verbroken" in page.locator("#conn-text").inner_text()
    server.start()  # same port, same Redis
    page.locator("#conn-banner").wait_for(state="hidden", timeout=20_000)
    assert page.evaluate("window.plein.roomName") == room
    assert len(fake_jitsi.loads_of("Femke")) == 1 and fake_jitsi.hangups == []  # the call was never interrupted
    # Chromium reports reconnect attempts that met the stopped server; anything else is the page's fault.
    outage = ("WebSocket connection to ", "Failed to load resource: net::ERR_CONNECTION_REFUSED")
    assert [e for e in watch.errors if not e.startswith(outage)] == []


@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["laptop", "phone"])
def test_the_printable_invitation(server, new_page, viewport):
    """Issue 10, item 11: the moderator page offers the QR code and a one-page program; both show as they should."""
    watch = new_page(viewport=viewport)
    mod = watch.page
    mod.goto(f"{server.url}/e/{SLUG}/moderator?key={MODERATOR_KEY}")
    kit = mod.locator("#invite-kit")
    mod.wait_for_function("window.plein && window.plein.console")  # the console has drawn: nothing moves any more
    mod.wait_for_function("document.querySelector('.invite-kit__qr').naturalWidth > 0")
    if viewport == PHONE:  # on a phone the console's cards below the controls start folded: one tap opens it
        assert not kit.is_visible()
        kit.locator("xpath=ancestor::details[1]/summary").click()
    kit.scroll_into_view_if_needed()
    shot(mod, f"moderator-invite-{'phone' if viewport == PHONE else 'laptop'}")
    with mod.context.expect_page() as opened:
        kit.get_by_role("link", name="Programma om af te drukken").click()
    page = opened.value
    page.wait_for_load_state()
    page.wait_for_function("document.querySelector('.invite__qr').naturalWidth > 0")
    expect(page.locator("h1")).to_have_text("De Coöperatieve Stad")
    expect(page.locator(".invite__link")).to_have_text(f"{server.url}/e/{SLUG}")
    assert page.locator(".invite__phase").count() == 9  # every phase of the seed, breaks included
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    shot(page, f"invite-{'phone' if viewport == PHONE else 'laptop'}")
    page.emulate_media(media="print")
    assert page.locator(".site-header").is_hidden() and page.locator("#invite-print").is_hidden()
    assert watch.errors == []
