"""The evening as a participant lives it, in a real Chromium: two actions from the event page to the room, choosing
as an invitation on the live page, messages that belong to their phase, the foyer named as such, and each move
announced once to a screen reader.
"""
from __future__ import annotations

import pytest
import requests

from support import LAPTOP, PHONE, SLUG, shot


pytestmark = pytest.mark.browser


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
    shot(page, "live-choose-invite-laptop")
    option.locator("button").click()
    # Chosen: the page knows it at once, the server has it, and the invitation moves on to the next round.
    page.wait_for_function("id => window.plein.me.choices['in-beeld'] === id", arg=session["id"])
    assert me(page)["choices"] == {"in-beeld": session["id"]}
    page.wait_for_function("() => document.querySelector('#choose-invite-title').textContent"
                           ".includes('Break-out sessies ronde I')")
    assert "gekozen" in page.locator("#choose-invite-status").inner_text().lower()
    # "Niet nu" puts it away, also after a reload; the choose page stays there for who wants it.
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
    shot(page, "live-choose-invite-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert watch.errors == []
