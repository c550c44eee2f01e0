"""The evening as a participant lives it, in a real Chromium: two actions from the event page to the room, choosing
as an invitation on the live page, messages that belong to their phase, the foyer named as such, and each move
announced once to a screen reader.
"""
from __future__ import annotations

import shutil

import pytest
import requests

from support import ARTIFACTS, LAPTOP, MODERATOR_KEY, PHONE, ROOT, SLUG, clock, shot


pytestmark = pytest.mark.browser

SCREENSHOTS = ROOT / "docs" / "screenshots"


def doc_shot(page, name: str) -> None:
    """A screenshot for a person to look at that the docs show too (docs/screenshots/)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(shot(page, name), SCREENSHOTS / f"{name}.png")


class Actions:
    """What a participant does with their hands, counted: every fill, click and address typed."""

    def __init__(self, page):
        self.page = page
        self.done: list[str] = []

    def goto(self, url: str):
        self.done.append(f"open {url}")
        self.page.goto(url)

    def fill(self, selector: str, text: str):
        self.done.append(f"type in {selector}")
        self.page.fill(selector, text)

    def click(self, selector: str):
        self.done.append(f"click {selector}")
        self.page.locator(selector).click()


def me(page) -> dict:
    return page.evaluate("async () => (await fetch(location.pathname.replace(/\\/live$/, '')"
                         ".replace('/e/', '/api/events/') + '/participants/me')).json()")


@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["laptop", "phone"])
def test_from_the_event_page_to_the_room_in_two_actions(server, new_page, fake_jitsi, viewport):
    watch = new_page(viewport=viewport)
    page = watch.page
    page.goto(f"{server.url}/e/{SLUG}")  # the link someone was sent: where the count starts
    hands = Actions(page)
    hands.fill("input[name=name]", "Anna de Vries")
    hands.click("form[action$='/join'] button[type=submit]")
    page.wait_for_url(f"**/e/{SLUG}/live")
    page.wait_for_function("window.plein && window.plein.state")
    server.clock("start")
    opened = fake_jitsi.wait_load("Anna de Vries")
    page.wait_for_function("n => window.plein.roomName === n", arg=opened["room"])
    assert len(hands.done) == 2, hands.done
    assert watch.errors == []


def test_the_live_page_invites_to_choose_and_never_stands_in_the_way(server, new_page):
    watch = new_page(viewport=LAPTOP)
    page = watch.page
    page.goto(f"{server.url}/e/{SLUG}")
    page.fill("input[name=name]", "Bram")
    page.locator("form[action$='/join'] button[type=submit]").click()
    page.wait_for_url(f"**/e/{SLUG}/live")
    invite = page.locator("#choose-invite")
    invite.wait_for()
    # The coming round (the first one, nothing chosen yet): each session with its places, and a way out.
    assert "Coöperatieven in beeld" in invite.locator("#choose-invite-title").inner_text()
    options = invite.locator("[data-session]")
    phases = requests.get(server.api(""), timeout=5).json()["phases"]
    first = next(p for p in phases if p["kind"] == "round")
    assert options.count() == len(first["sessions"])
    session = first["sessions"][1]
    option = invite.locator(f"[data-session={session['id']}]")
    assert session["title"] in option.inner_text() and "plaatsen" in option.inner_text()
    assert invite.locator("#choose-invite-all").get_attribute("href").endswith(f"/e/{SLUG}/choose")
    doc_shot(page, "live-choose-invite-laptop")
    option.locator("button").click()
    # Chosen: the page knows it at once, the server has it, and the invitation moves on to the next round.
    page.wait_for_function("id => window.plein.me.choices['in-beeld'] === id", arg=session["id"])
    assert me(page)["choices"] == {"in-beeld": session["id"]}
    page.wait_for_function("() => document.querySelector('#choose-invite-title').textContent"
                           ".includes('Break-out sessies ronde I')")
    assert "gekozen" in page.locator("#choose-invite-status").inner_text().lower()
    # "Niet nu" puts it away, also after a reload; the choose page stays there for who wants it.
    assert page.locator("#choose-invite-close").inner_text() == "Niet nu"
    page.locator("#choose-invite-close").click()
    page.wait_for_function("() => document.querySelector('#choose-invite').hidden")
    page.reload()
    page.wait_for_function("window.plein && window.plein.state")
    assert page.locator("#choose-invite").is_hidden()
    page.goto(f"{server.url}/e/{SLUG}/choose")
    page.locator(".round-choice").first.wait_for()
    assert page.is_checked(f"#opt-in-beeld-{session['id']}")
    assert watch.errors == []


def test_the_invitation_on_a_phone(server, new_page):
    watch = new_page(viewport=PHONE)
    page = watch.page
    page.goto(f"{server.url}/e/{SLUG}")
    page.fill("input[name=name]", "Chris")
    page.locator("form[action$='/join'] button[type=submit]").click()
    page.wait_for_url(f"**/e/{SLUG}/live")
    page.locator("#choose-invite [data-session]").first.wait_for()
    page.locator("#choose-invite").scroll_into_view_if_needed()
    doc_shot(page, "live-choose-invite-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert watch.errors == []


def join_and_choose(watch, server, name: str, choices: dict):
    """Join in two actions, then choose sessions for some rounds (as the invitation or the choose page would)."""
    page = watch.page
    page.goto(f"{server.url}/e/{SLUG}")
    page.fill("input[name=name]", name)
    page.locator("form[action$='/join'] button[type=submit]").click()
    page.wait_for_url(f"**/e/{SLUG}/live")
    page.wait_for_function("window.plein && window.plein.state")
    status = page.evaluate("""async (body) => (await fetch(location.pathname.replace(/\\/live$/, '')
        .replace('/e/', '/api/events/') + '/participants/me/choices', {method: 'PUT', credentials: 'same-origin',
        headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body)})).status""", choices)
    assert status == 200
    page.reload()
    page.wait_for_function("window.plein && window.plein.state")
    return page


def at_phase(page, phase_id: str):
    page.wait_for_function("id => window.plein.state && window.plein.state.phase && window.plein.state.phase.id === id",
                           arg=phase_id)


CHOSEN = {"ronde-1": "toolkit-energietransitie", "ronde-2": "fondsen-financiering", "ronde-3": "incubator"}
TITLES = {"ronde-1": "Toolkit voor een coöperatieve energietransitie",
          "ronde-3": "Brainstorm – De Amsterdamse coöperatieven incubator"}


@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["laptop", "phone"])
def test_messages_belong_to_their_phase_and_the_next_room_stays_said(server, new_page, fake_jitsi, viewport):
    size = "phone" if viewport == PHONE else "laptop"
    watch = new_page(viewport=viewport)
    page = join_and_choose(watch, server, "Anna de Vries", CHOSEN)
    clock(server, "start")
    at_phase(page, "in-beeld")
    anna = {"id": page.evaluate("window.plein.me.id")}
    now = server.call("POST", "/broadcasts", {"text": "Alleen in dit onderdeel"})
    assert now.status_code == 201 and now.json()["lifetime"] == "phase" and now.json()["phase"] == "in-beeld"
    late = server.call("POST", "/broadcasts", {"text": "Tot het einde van de avond", "lifetime": "evening"})
    assert late.status_code == 201 and late.json()["lifetime"] == "evening"
    seat = page.evaluate("window.plein.state.room.session.id")
    other = next(s["id"] for s in requests.get(server.api(""), timeout=5).json()["phases"][0]["sessions"]
                 if s["id"] != seat)
    assert server.call("POST", f"/participants/{anna['id']}/move", {"session": other}).ok
    messages = page.locator("#messages .message")
    page.locator("#messages .message--moved").wait_for()
    assert messages.count() == 3
    shot(page, f"live-messages-before-{size}")

    clock(server, "advance")  # into the break: the phase's message and the notice of the move end there
    at_phase(page, "pauze-1700")
    page.wait_for_function("() => document.querySelectorAll('#messages .message').length === 1")
    assert "Tot het einde van de avond" in messages.first.inner_text()
    next_room = page.locator("#next-room-line")
    next_room.wait_for()
    assert next_room.inner_text() == f"Daarna ga je vanzelf naar: {TITLES['ronde-1']}"
    doc_shot(page, f"live-messages-after-{size}")

    clock(server, "jump", phase="ronde-2")  # a round followed at once by the next one
    at_phase(page, "ronde-2")
    page.wait_for_function("t => document.querySelector('#next-room-line').textContent.endsWith(t)",
                           arg=TITLES["ronde-3"])
    assert next_room.is_visible()

    page.reload()  # the reload brings back what still holds, and nothing else
    page.wait_for_function("window.plein && window.plein.state && window.plein.state.phase")
    page.locator("#messages .message--broadcast").wait_for()
    assert [m for m in messages.all_inner_texts()] and messages.count() == 1
    assert "Tot het einde van de avond" in messages.first.inner_text()
    assert next_room.inner_text().endswith(TITLES["ronde-3"])
    assert watch.errors == []


def test_a_late_joiner_sees_the_evening_message_and_not_an_old_phase_one(server, new_page):
    server.join("Eerst")  # someone is there
    clock(server, "start")
    assert server.call("POST", "/broadcasts", {"text": "Welkom in de eerste ronde"}).status_code == 201
    assert server.call("POST", "/broadcasts", {"text": "Vragen? Ik kom er niet uit", "lifetime": "evening"}).ok
    clock(server, "advance")
    watch = new_page()
    page = join_and_choose(watch, server, "Laat", {"ronde-1": "toolkit-energietransitie"})
    page.locator("#messages .message--broadcast").wait_for()
    assert page.locator("#messages").inner_text().count("Vragen?") == 1
    assert "Welkom in de eerste ronde" not in page.locator("#messages").inner_text()
    assert watch.errors == []


def test_the_foyer_is_named_the_foyer(server, new_page, fake_jitsi):
    watch = new_page()
    page = join_and_choose(watch, server, "Bram", CHOSEN)
    clock(server, "start")
    at_phase(page, "in-beeld")
    # Where you go next, when that is a break: the foyer, by that name.
    page.wait_for_function("() => document.querySelector('#next-room-line').textContent === "
                           "'Daarna ga je vanzelf naar: Foyer'")
    assert page.locator("#next-room-line").is_visible()
    clock(server, "advance")
    at_phase(page, "pauze-1700")  # before the opening: the opening's room serves as foyer
    room_line = page.locator("#room-line")
    room_line.wait_for()
    assert room_line.inner_text() == "Jouw zaal: Foyer"
    assert "Plenaire opening" not in page.locator(".now-card").inner_text()
    frame = fake_jitsi.wait_load("Bram", 2)
    fake_jitsi.wait_for(lambda f: any(c["name"] == "local-subject" and c["args"] == ["Foyer"] and c["id"] == frame["id"]
                                      for c in f.commands))
    doc_shot(page, "live-foyer-laptop")
    # The foyer becomes the opening itself: the same room, now under its own name.
    clock(server, "jump", phase="opening")
    at_phase(page, "opening")
    fake_jitsi.wait_for(lambda f: any(c["name"] == "local-subject" and c["args"] == ["Plenaire opening"]
                                      for c in f.commands))
    assert watch.errors == []


def test_the_foyer_in_english_on_a_phone(server, new_page, fake_jitsi):
    watch = new_page(viewport=PHONE, locale="en-GB")
    page = join_and_choose(watch, server, "Chris", CHOSEN)
    page.goto(f"{server.url}/e/{SLUG}/live?lang=en")
    page.wait_for_function("window.plein && window.plein.state")
    clock(server, "start")
    at_phase(page, "in-beeld")
    clock(server, "advance")
    at_phase(page, "pauze-1700")
    page.locator("#room-line").wait_for()
    assert page.locator("#room-line").inner_text() == "Your room: Foyer"
    page.locator(".now-card").scroll_into_view_if_needed()
    doc_shot(page, "live-foyer-phone")
    assert watch.errors == []


COUNT_ANNOUNCEMENTS = """
window.__announced = [];
document.addEventListener("DOMContentLoaded", () => {
  const node = document.getElementById("announcer");
  if (!node) return;
  new MutationObserver(() => window.__announced.push(node.textContent))
    .observe(node, {childList: true, characterData: true, subtree: true});
});
"""


def test_each_move_is_announced_once_politely(server, new_page, fake_jitsi):
    watch = new_page()
    page = watch.page
    page.add_init_script(COUNT_ANNOUNCEMENTS)
    page = join_and_choose(watch, server, "Dana", CHOSEN)
    region = page.locator("#announcer")
    assert region.get_attribute("aria-live") == "polite" and region.get_attribute("role") == "status"
    page.wait_for_function("window.__announced.length === 1")
    assert page.evaluate("window.__announced") == ["We wachten op de moderator."]

    clock(server, "start")
    at_phase(page, "in-beeld")
    page.wait_for_function("window.__announced.length === 2")
    first = page.evaluate("window.__announced[1]")
    seat = page.evaluate("window.plein.state.room.title")
    assert first == f"Nu: Coöperatieven in beeld. Jouw zaal: {seat}."
    # A lost connection and the state that comes with the new one: the same place, not said again.
    page.evaluate("window.plein.socket.disconnect(); window.plein.socket.connect()")
    page.wait_for_function("window.plein.socket.connected")
    page.evaluate("() => new Promise((ok) => window.plein.socket.emit('state:get', ok))")
    clock(server, "advance")
    at_phase(page, "pauze-1700")
    page.wait_for_function("window.__announced.length === 3")
    assert page.evaluate("window.__announced[2]") == "Nu: Pauze. Je bent in de foyer."
    clock(server, "advance")
    at_phase(page, "ronde-1")
    page.wait_for_function("window.__announced.length === 4")
    assert page.evaluate("window.__announced[3]") == f"Nu: Break-out sessies ronde I. Jouw zaal: {TITLES['ronde-1']}."
    assert region.inner_text() == page.evaluate("window.__announced[3]")

    page.reload()  # a new page says once where it is
    page.wait_for_function("window.plein && window.plein.state && window.plein.state.phase")
    page.wait_for_function("window.__announced.length === 1")
    assert page.evaluate("window.__announced") == [f"Nu: Break-out sessies ronde I. Jouw zaal: {TITLES['ronde-1']}."]
    assert watch.errors == []


@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["laptop", "phone"])
def test_the_console_picks_how_long_a_broadcast_stays(server, new_page, listen, viewport):
    watch = new_page(viewport=viewport)
    mod = watch.page
    mod.goto(f"{server.url}/e/{SLUG}/moderator?key={MODERATOR_KEY}")
    mod.wait_for_function("window.plein && window.plein.console && window.plein.connected")
    assert server.clock("start").status_code == 200
    lifetime = mod.locator("#broadcast-lifetime")
    assert lifetime.input_value() == "phase"  # the default: until the next part
    assert [o.strip() for o in lifetime.locator("option").all_inner_texts()] == [
        "Tot het volgende onderdeel", "Tot het einde van de avond"]
    mod.fill("#broadcast-text", "Het loket is de hele avond open")
    lifetime.select_option("evening")
    # The form itself, from the top of the whole page (scrolled, the console's sticky clock card lies over it).
    ARTIFACTS.mkdir(exist_ok=True)
    mod.evaluate("window.scrollTo(0, 0)")
    box = mod.locator(".mod-broadcast").bounding_box()
    name = f"console-broadcast-lifetime-{'phone' if viewport == PHONE else 'laptop'}.png"
    mod.screenshot(path=str(ARTIFACTS / name), full_page=True, clip=box)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(ARTIFACTS / name, SCREENSHOTS / name)
    mod.locator("#broadcast-button").click()
    mod.locator("#broadcast-ok").wait_for()
    assert server.clock("advance").status_code == 200
    late = server.join("Laat")
    client = listen(server, late["token"])
    item = client.wait_for(lambda d: True, event="broadcast")
    assert (item["text"], item["lifetime"]) == ("Het loket is de hele avond open", "evening")
    assert watch.errors == []


def test_a_personal_link_is_one_action_to_the_room(server, new_page, fake_jitsi, r):
    from rooms.program import load_program
    from rooms.registrations import import_registrations, parse_registrations
    from support import SEED
    program = load_program(SEED)
    rows, _ = parse_registrations("name,email\nEef Jansen,eef@example.org\n", program)
    link = import_registrations(r, program, rows, server.url).imported[0].link
    server.clock("start")
    watch = new_page()
    hands = Actions(watch.page)
    hands.goto(link)
    watch.page.wait_for_url(f"**/e/{SLUG}/live")
    opened = fake_jitsi.wait_load("Eef Jansen")
    watch.page.wait_for_function("n => window.plein.roomName === n", arg=opened["room"])
    assert len(hands.done) == 1, hands.done
    assert watch.errors == []


def test_a_running_round_is_never_offered_not_even_before_the_socket_answers(server, new_page):
    server.join("Eerst")
    server.clock("start")  # the first round runs: the invitation offers the next one
    watch = new_page()
    page = watch.page
    page.add_init_script("""
      window.__offered = [];
      new MutationObserver(() => {  // from the first parse on: whatever the invitation ever showed
        const box = document.getElementById("choose-invite");
        const title = document.getElementById("choose-invite-title");
        if (box && title && !box.hidden) window.__offered.push(title.textContent);
      }).observe(document, {attributes: true, childList: true, characterData: true, subtree: true});
    """)
    page.goto(f"{server.url}/e/{SLUG}")
    page.fill("input[name=name]", "Laat")
    page.locator("form[action$='/join'] button[type=submit]").click()
    page.wait_for_url(f"**/e/{SLUG}/live")
    page.wait_for_function("window.plein && window.plein.state && window.plein.roomName !== undefined")
    page.locator("#choose-invite [data-session]").first.wait_for()
    assert "Break-out sessies ronde I" in page.locator("#choose-invite-title").inner_text()
    offered = page.evaluate("window.__offered")
    assert offered and not [t for t in offered if "Coöperatieven in beeld" in t], offered
    assert watch.errors == []
