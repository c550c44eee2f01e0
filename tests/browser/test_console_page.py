"""The moderator console in a real Chromium, with a participant's live page beside it: extend the round, send a
message, move the participant, answer a help request and mark it done; each seen on the other side.

The console's overview is pushed at most once a second, so waits on it allow a few seconds. Nothing here
sleeps for correctness: every wait is Playwright's own or a wait_for_function.
"""
from __future__ import annotations

import pytest
import requests
from playwright.sync_api import expect

from support import LAPTOP, MODERATOR_KEY, PHONE, SLUG, join_to_choose, shot

pytestmark = pytest.mark.browser

PUSH = 8000  # ms: the console push is throttled to one a second; allow a few
WONEN = "Woon- & Energiecoöperatieven"

def open_console(new_page, server, viewport=LAPTOP, key=MODERATOR_KEY):
    watch = new_page(viewport=viewport)
    page = watch.page
    page.goto(f"{server.url}/e/{SLUG}/moderator?key={key}")
    page.wait_for_function("window.plein && window.plein.console && window.plein.connected")
    return watch, page


def room_count(page, session: str, n: int):
    page.wait_for_function(
        "([s, n]) => { const c = document.querySelector(`[data-room='${s}'] .room__count`);"
        " return c && Number(c.dataset.count) === n; }", arg=[session, n], timeout=PUSH)


def test_console_and_live_page_see_each_other(server, new_page, axe):
    # A participant chose "Wonen & Energie" for the first round and waits on the live page.
    anna_watch = new_page(viewport=LAPTOP)
    anna = join_to_choose(anna_watch.page, server, "Anna de Vries")
    anna.check("#opt-in-beeld-wonen-energie")
    anna.locator("#choose-save").click()
    anna.wait_for_url(f"**/e/{SLUG}/live")
    anna.wait_for_function("window.plein && window.plein.state")

    mod_watch, mod = open_console(new_page, server)
    assert mod.locator("#rooms-heading").inner_text() == "Zalen nu"
    assert mod.locator("#total-participants").inner_text() == "1"

    # Start from the console (it says first where everyone goes): the participant is taken into her room; the
    # console counts her there.
    mod.locator("[data-action=start]").click()
    expect(mod.locator("dialog[open] h2")).to_have_text("Iedereen gaat nu naar: Coöperatieven in beeld")
    mod.locator("dialog[open]").get_by_role("button", name="Ja, iedereen verplaatsen").click()
    anna.wait_for_function("window.plein.roomName && window.plein.roomName.includes('-wonen-energie-')")
    room_count(mod, "wonen-energie", 1)
    room_count(mod, "voedsel-zorg", 0)
    assert mod.locator("#total-connected").inner_text() == "1"
    assert mod.locator(".room .room__fact dt", has_text="Video").count() == 0  # no room-size endpoint configured

    # Extend by 5 minutes: the participant's countdown grows by as much.
    before = anna.evaluate("Date.parse(window.plein.state.phase.ends_at)")
    countdown_before = anna.locator("#countdown").inner_text()
    mod.locator("[data-action=extend][data-minutes='5']").click()
    anna.wait_for_function("b => Date.parse(window.plein.state.phase.ends_at) >= b + 299000", arg=before)
    anna.wait_for_function(
        "b => { const secs = (t) => t.split(':').map(Number).reduce((total, part) => total * 60 + part, 0);"
        " return secs(document.querySelector('#countdown').textContent) >= secs(b) + 240; }",
        arg=countdown_before)
    expect(mod.locator("#mod-ok")).to_contain_text("Gedaan: Coöperatieven in beeld eindigt nu om")

    # A custom number of minutes: shorten by 2.
    mod.fill("#extend-minutes", "-2")
    mod.locator("[data-action=extend][data-minutes=custom]").click()
    anna.wait_for_function("b => Date.parse(window.plein.state.phase.ends_at) <= b + 181000", arg=before)

    # A message to everyone: a banner on the live page that stays until dismissed (and not back after a reload).
    anna.set_viewport_size(PHONE)
    text = "Over vijf minuten gaan we verder in de plenaire zaal."
    mod.fill("#broadcast-text", text)
    assert mod.locator("#broadcast-count").inner_text() == f"{len(text)}/500 tekens"
    mod.locator("#broadcast-button").click()
    mod.locator("#broadcast-ok").wait_for()
    assert "Iedereen" in mod.locator("#broadcast-ok").inner_text()
    banner = anna.locator("#messages .message--broadcast")
    banner.wait_for()
    assert banner.locator(".message__text").inner_text() == text
    assert "Bericht van" in banner.locator(".message__meta").inner_text()
    assert anna.locator("#messages").get_attribute("aria-live") == "assertive"
    shot(anna, "live-broadcast-phone")
    axe.check(anna, "the live page with a broadcast")
    assert anna.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    banner.get_by_role("button").click()
    assert anna.locator("#messages .message").count() == 0

    anna.reload()  # the server replays recent messages on connect; a dismissed one stays away
    anna.wait_for_function("window.plein && window.plein.roomName")
    mod.select_option("#broadcast-target", "wonen-energie")
    mod.fill("#broadcast-text", "Alleen voor deze zaal")
    mod.locator("#broadcast-button").click()
    only = anna.locator("#messages .message--broadcast", has_text="Alleen voor deze zaal")
    only.wait_for()
    assert "alleen jouw zaal" in only.inner_text()
    assert anna.locator("#messages .message--broadcast").count() == 1
    only.get_by_role("button").click()
    anna.set_viewport_size(LAPTOP)

    # Move her from the console: her page goes to the other room with a notice; the counts follow.
    wonen = mod.locator("[data-room=wonen-energie]")
    wonen.locator("summary").click()
    wonen.get_by_role("button", name="Anna de Vries").click()
    dialog = mod.locator("dialog[open]")
    assert f"In {WONEN} sinds" in dialog.inner_text()
    axe.check(mod, "the console's move dialog")
    dialog.locator("select").select_option("voedsel-zorg")
    dialog.get_by_role("button", name="Verplaats").click()
    anna.wait_for_function("window.plein.roomName && window.plein.roomName.includes('-voedsel-zorg-')")
    notice = anna.locator("#messages .message--moved")
    notice.wait_for()
    assert notice.inner_text().startswith("Een moderator heeft je naar Voedsel- & Zorgcoöperatieven verplaatst.")
    assert anna.locator("#room-title").inner_text() == "Voedsel- & Zorgcoöperatieven"
    assert "Voedsel- & Zorgcoöperatieven" in anna.locator("#mine [data-phase=in-beeld]").inner_text()
    room_count(mod, "voedsel-zorg", 1)
    room_count(mod, "wonen-energie", 0)
    expect(mod.locator("#console-ok")).to_contain_text("verplaatst naar Voedsel- & Zorgcoöperatieven")

    # A help request: the console shows it with her name, room and words; the answer reaches her.
    anna.locator("#help-open").click()
    anna.fill("#help-text", "Ik hoor de anderen niet.")
    anna.locator("#help-send").click()
    expect(anna.locator("#help-status-text")).to_have_text("Je vraag is verstuurd. Een moderator komt zo bij je.")
    item = mod.locator("#help-list .help-item")
    item.wait_for(timeout=PUSH)
    assert "Anna de Vries" in item.inner_text() and "Voedsel- & Zorgcoöperatieven" in item.inner_text()
    assert "Ik hoor de anderen niet." in item.inner_text()
    assert "is-new" in item.get_attribute("class")
    assert mod.locator("#help-count").inner_text() == "1"
    assert mod.title().startswith("(1) ")
    assert "Nieuwe hulpvraag van Anna de Vries" in mod.locator("#help-live").inner_text()
    item.locator("textarea").fill("Klik onderin op het microfoontje en kies je koptelefoon.")
    item.get_by_role("button", name="Antwoord sturen").click()
    anna.locator("#help-thread", has_text="Klik onderin op het microfoontje").wait_for()
    expect(anna.locator("#help-status-text")).to_have_text("Een moderator heeft geantwoord:")
    anna.locator("#messages .message--answer").wait_for()
    anna.locator("#help-box").scroll_into_view_if_needed()
    shot(anna, "live-help-laptop")
    axe.check(anna, "the live page with a moved notice and a help answer")
    mod.locator("#help-section").scroll_into_view_if_needed()
    shot(mod, "console-help-laptop")

    # The moderator marks it done: she sees so, and may ask again; "Gelukt, bedankt" closes her second one.
    item.get_by_role("button", name="Afgehandeld").click()
    anna.locator("#help-note", has_text="afgehandeld").wait_for()
    assert anna.locator("#help-open").is_visible()
    expect(mod.locator("#help-list .help-item")).to_have_count(0, timeout=PUSH)
    anna.locator("#help-open").click()
    anna.locator("#help-send").click()  # without a text: allowed
    mod.locator("#help-list .help-item").wait_for(timeout=PUSH)
    assert "Geen toelichting" in mod.locator("#help-list .help-item").inner_text()
    anna.locator("#help-thanks").click()
    anna.locator("#help-note", has_text="Fijn dat het gelukt is").wait_for()
    mod.wait_for_function("document.querySelectorAll('#help-list .help-item').length === 0", timeout=PUSH)
    assert not mod.title().startswith("(")

    # The log: who did what, newest first, in words; the CSV has it all.
    log = mod.locator("#audit-list")
    log.locator(".audit__entry", has_text="Handelde de hulpvraag van Anna de Vries af").wait_for(timeout=PUSH)
    words = log.inner_text()
    for line in ("Startte de avond", "Verlengde met 5 min", "Verkortte met 2 min",
                 "Bericht aan iedereen: “Over vijf minuten", f"Bericht aan {WONEN}",
                 f"Verplaatste Anna de Vries van {WONEN} naar Voedsel- & Zorgcoöperatieven",
                 "Antwoordde Anna de Vries", "Logde in"):
        assert line in words, line
    first = log.locator(".audit__entry").first.inner_text()
    assert "Handelde de hulpvraag" in first
    csv = mod.request.get(server.url + mod.locator("#audit-csv").get_attribute("href"))
    assert csv.status == 200 and "help_done" in csv.text()

    # Closing sign-up refuses a new participant; opening it again lets them in.
    mod.locator("label[for=signup-open]").click()
    mod.locator("#evening-ok", has_text="gesloten").wait_for()
    assert requests.post(server.api("/participants"), json={"name": "Laat"}, timeout=5).status_code == 403
    mod.locator("label[for=signup-open]").click()
    mod.locator("#evening-ok", has_text="weer open").wait_for()
    assert requests.post(server.api("/participants"), json={"name": "Laat"}, timeout=5).status_code == 201

    mod.locator(".mod-rooms").scroll_into_view_if_needed()
    shot(mod, "console-rooms-laptop")
    mod.evaluate("window.scrollTo(0, 0)")
    shot(mod, "console-laptop")
    mod.set_viewport_size(PHONE)
    shot(mod, "console-phone")
    assert mod.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert anna_watch.errors == []
    assert mod_watch.errors == []


def test_console_finds_names_jumps_ends_and_makes_a_host(server, new_page, listen):
    people = {name: server.join(name) for name in ("Bram", "Chris", "Dana", "Eva")}
    dana = listen(server, token=people["Dana"]["token"])  # only Dana is connected (a socket, no page)
    mod_watch, mod = open_console(new_page, server)
    mod.locator("[data-action=start]").click()
    mod.locator("dialog[open]").get_by_role("button", name="Ja, iedereen verplaatsen").click()
    mod.wait_for_function("window.plein.state && window.plein.state.status === 'running'")
    mod.wait_for_function("document.querySelector('#total-not-connected').textContent === '3'", timeout=PUSH)
    assert mod.locator("#total-connected").inner_text() == "1"

    # The filter finds a name among the absent ones, and among those present (their room unfolds).
    mod.fill("#console-filter", "br")
    assert mod.locator("#console-filter-status").inner_text() == "0 in een zaal, 1 niet verbonden"
    absent = mod.locator("#console-absent")
    assert absent.get_attribute("open") is not None
    assert absent.locator(".person__name").all_inner_texts() == ["Bram"]
    mod.wait_for_function(  # Plein has placed her in a session (for a moment she may show as not placed yet)
        "window.plein.console.rooms.some(r => r.session && r.present.some(p => p.name === 'Dana'))", timeout=PUSH)
    mod.fill("#console-filter", "DAN")
    assert mod.locator("#console-filter-status").inner_text() == "1 in een zaal, 0 niet verbonden"
    found = mod.locator(".room__people[open] .person__name")
    assert found.all_inner_texts() == ["Dana"]
    title = mod.evaluate("window.plein.console.rooms.find(r => r.present.some(p => p.name === 'Dana')).title")
    session = mod.evaluate("window.plein.console.rooms.find(r => r.present.some(p => p.name === 'Dana')).session")

    # Make Dana host of her room from her name: the console lists her as host; her socket gets the room.
    found.click()
    mod.locator("dialog[open]").get_by_role("button", name=f"Maak host van {title}").click()
    expect(mod.locator("#console-ok")).to_contain_text("Dana is nu host van")
    mod.fill("#console-filter", "")
    mod.wait_for_function(
        "s => document.querySelector(`[data-room='${s}'] .room__hosts`).textContent.includes('Dana')",
        arg=session, timeout=PUSH)
    dana.wait_for(lambda d: d["session"] == session and d["hosts"][0]["name"] == "Dana", timeout=8, event="host:room")
    room = requests.get(server.api(f"/sessions/{session}/room"),
                        headers={"Authorization": f"Bearer {people['Dana']['token']}"}, timeout=5)
    assert room.status_code == 200 and room.json()["hosts"][0]["name"] == "Dana"

    # Jump to the closing plenary (after a confirm), then end the evening (after a confirm; cancel first).
    mod.select_option("#jump-select", "afsluiting")
    mod.locator("[data-action=jump]").click()
    mod.locator("dialog[open]").get_by_role("button", name="Ja, spring").click()
    mod.wait_for_function("window.plein.state.phase && window.plein.state.phase.id === 'afsluiting'")
    mod.locator("[data-action=end]").click()
    mod.locator("dialog[open]").get_by_role("button", name="Annuleren").click()
    assert mod.evaluate("window.plein.state.status") == "running"
    mod.locator("[data-action=end]").click()
    mod.locator("dialog[open]").get_by_role("button", name="Ja, beëindig de avond").click()
    mod.wait_for_function("window.plein.state.status === 'ended'")
    assert mod.locator("#status-pill").inner_text() == "Afgelopen"
    log = mod.locator("#audit-list")
    log.locator(".audit__entry", has_text="Beëindigde de avond").wait_for(timeout=PUSH)
    assert "Sprong naar ‘Plenaire afsluiting" in log.inner_text()
    assert f"Maakte Dana host van {title}" in log.inner_text()

    # The key is set in the configuration here: the console says so instead of offering a new one.
    assert mod.locator("#rotate-key").is_disabled() and mod.locator("#rotate-configured").is_visible()

    # Her name for the log.
    mod.locator("#me-edit").click()
    mod.fill("#me-input", "Femke (moderator)")
    mod.locator("#me-form button[type=submit]").click()
    mod.locator("#me-name", has_text="Femke (moderator)").wait_for()
    assert mod_watch.errors == []


def test_a_host_sees_their_room_and_messages_it(server, new_page, listen):
    watch = new_page(viewport=LAPTOP)
    mira = join_to_choose(watch.page, server, "Mira Jansen")
    mira.check("#opt-in-beeld-wonen-energie")
    mira.locator("#choose-save").click()
    mira.wait_for_url(f"**/e/{SLUG}/live")
    noor = server.join("Noor Bakker")
    requests.put(server.api("/participants/me/choices"), json={"in-beeld": "wonen-energie"},
                 headers={"Authorization": f"Bearer {noor['token']}"}, timeout=5).raise_for_status()
    noor_socket = listen(server, token=noor["token"])
    server.clock("start")
    mira.wait_for_function("window.plein.roomName && window.plein.roomName.includes('-wonen-energie-')")
    assert mira.locator("#host-panel").is_hidden()

    # A moderator makes her host of her room: the panel shows who is there, and a message goes to that room only.
    mira_id = mira.request.get(server.api("/participants/me")).json()["id"]
    made = server.call("POST", f"/participants/{mira_id}/host", {"session": "wonen-energie", "host": True})
    assert made.status_code == 200, made.text
    panel = mira.locator("#host-panel")
    expect(panel.locator("#host-title")).to_have_text(f"Je bent host van {WONEN}")
    expect(panel.locator("#host-count")).to_have_text("2 van 300 aanwezig", timeout=PUSH)
    panel.locator("summary").click()
    assert panel.locator("#host-people").inner_text().count("sinds") == 2
    assert "Noor Bakker" in panel.locator("#host-people").inner_text()
    mark = noor_socket.mark()
    mira.fill("#host-text", "Welkom! We beginnen met een rondje namen.")
    mira.locator("#host-send").click()
    expect(mira.locator("#host-ok")).to_contain_text("Verstuurd om")
    got = noor_socket.wait_for(lambda d: True, event="broadcast", start=mark)
    assert got["session"]["id"] == "wonen-energie" and got["from"] == "Mira Jansen"
    mine = mira.locator("#messages .message--broadcast")
    mine.wait_for()
    assert "alleen jouw zaal" in mine.inner_text()
    panel.scroll_into_view_if_needed()
    shot(mira, "live-host-laptop")
    assert watch.errors == []


def test_a_new_key_signs_the_other_moderators_out(start_server, new_page, r):
    server = start_server(env={"PLEIN_MODERATOR_KEY": ""})  # the key lives in Redis: it can be changed
    key = r.get(next(k for k in r.keys("*") if k.endswith(":moderator-key")))
    ada_watch, ada = open_console(new_page, server, key=key)
    ada.locator("#me-edit").click()
    ada.fill("#me-input", "Ada")
    ada.locator("#me-form button[type=submit]").click()
    ada.locator("#me-name", has_text="Ada").wait_for()
    _bob_watch, bob = open_console(new_page, server, key=key)

    ada.locator("#rotate-key").click()
    ada.locator("dialog[open]").get_by_role("button", name="Ja, nieuwe sleutel").click()
    ada.locator("#rotate-result").wait_for()
    new_link = ada.locator("#new-moderator-link").input_value()
    assert key not in new_link and "#key=" in new_link

    banner = bob.locator("#revoked-banner")
    banner.wait_for()
    assert banner.locator("#revoked-text").inner_text().startswith("Ada heeft de moderatorsleutel vervangen")
    assert bob.locator("#broadcast-button").is_disabled()
    assert bob.locator("#revoked-link").get_attribute("href").endswith("/moderator")

    # Ada is still signed in, and her console still acts and follows the evening.
    ada.fill("#broadcast-text", "Nieuwe sleutel, alles loopt door.")
    ada.locator("#broadcast-button").click()
    expect(ada.locator("#broadcast-ok")).to_contain_text("Verstuurd")
    ada.locator("#audit-list .audit__entry", has_text="Maakte een nieuwe moderatorsleutel").wait_for(timeout=PUSH)
    bob.goto(new_link)  # the new link lets Bob back in (pasted into his tab: only the fragment changes)
    bob.locator("#revoked-banner").wait_for(state="hidden")
    bob.wait_for_function("window.plein && window.plein.console")
    assert "#key=" not in bob.url
    assert ada_watch.errors == []


def test_a_moderator_removes_a_participant_from_the_evening(server, new_page):
    """Issue 9, item 6: from the name in the console, after a confirmation; the participant's page says so and
    leaves the video; the console and the audit log follow."""
    from test_jitsi import join_live

    troll_watch = new_page()
    troll = join_live(troll_watch, server, "Trol")
    server.clock("start")
    troll.wait_for_function("window.plein.roomName")
    mod_watch, mod = open_console(new_page, server)
    mod.fill("#console-filter", "Trol")
    mod.locator(".room__people[open] .person__name", has_text="Trol").click()
    mod.locator("dialog[open]").get_by_role("button", name="Verwijderen uit de avond").click()
    confirm = mod.locator("dialog[open]")
    expect(confirm).to_contain_text("Trol uit de avond verwijderen?")
    shot(mod, "console-remove-confirm-laptop")
    confirm.get_by_role("button", name="Ja, verwijderen").click()
    expect(mod.locator("#console-ok")).to_contain_text("Trol is uit de avond verwijderd.")

    expect(troll.locator("#conn-banner")).to_contain_text("Je bent uit deze avond verwijderd")
    expect(troll.locator("#jitsi iframe")).to_have_count(0)
    mod.fill("#console-filter", "")
    mod.wait_for_function("document.querySelector('#total-participants').textContent === '0'", timeout=PUSH)
    expect(mod.locator("#audit-list")).to_contain_text("Verwijderde Trol uit de avond")
    troll.reload()
    assert f"/e/{SLUG}/live" not in troll.url  # signed out: back to the event page
    assert mod_watch.errors == []
