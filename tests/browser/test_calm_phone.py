"""A calm live page on a phone and after a brainstorm (issue 10, items 2, 3, 4 and 7), in a real Chromium against a
real server: a status bar that stays at the top of a phone while notes are written; several banners folded into
one line that opens on a tap or a key; the notes of a finished round folded into a link, so the next plenary gets
the width; no page wider than a 390 px phone in any phase. Screenshots of every phase kind at 1280 and 390 px.

Nothing here sleeps for correctness: every wait is Playwright's own or a wait_for_function.
"""
from __future__ import annotations

import re
import shutil

import pytest
from playwright.sync_api import expect

from support import LAPTOP, MODERATOR_KEY, PHONE, ROOT, SLUG, shot

pytestmark = pytest.mark.browser

SESSION = "cooperatieve-tech"
TITLE = "Brainstorm – Samen werken aan coöperatieve tech"
SYNC = 10_000  # ms
LINE = 56  # px: one line of the page (a 44 px control and its padding)


def save_screenshot(page, name: str):
    """A screenshot for a person to look at, also kept in docs/screenshots/ (the README shows some)."""
    path = shot(page, name)
    (ROOT / "docs" / "screenshots").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, ROOT / "docs" / "screenshots" / f"{name}.png")


def enter(watch, server, name: str, brainstorm: bool = False):
    """Join on the event page and open the live page (whatever page the join lands on first); with
    brainstorm=True the participant has chosen the tech brainstorm of round I."""
    page = watch.page
    page.goto(f"{server.url}/e/{SLUG}")
    page.fill("input[name=name]", name)
    page.locator("form[action$='/join'] button[type=submit]").click()
    page.wait_for_url(re.compile(rf"/e/{SLUG}/(choose|live)"))
    if brainstorm:
        status = page.evaluate("""([slug, session]) => fetch(`/api/events/${slug}/participants/me/choices`, {
            method: "PUT", credentials: "same-origin", headers: {"Content-Type": "application/json"},
            body: JSON.stringify({"ronde-1": session})}).then((r) => r.status)""", [SLUG, SESSION])
        assert status == 200, status
    if not page.url.endswith("/live"):
        page.goto(f"{server.url}/e/{SLUG}/live")
    page.wait_for_function("window.plein && window.plein.state")
    return page


def jump(server, phase: str):
    resp = server.call("POST", "/clock", {"action": "jump", "phase": phase})
    assert resp.status_code == 200, resp.text


def at_phase(page, phase: str):
    page.wait_for_function("p => window.plein.state && window.plein.state.phase && window.plein.state.phase.id === p",
                           arg=phase, timeout=SYNC)


def wait_note_live(page):
    page.wait_for_function("() => { const n = window.plein.notes && window.plein.notes.note;"
                           " return n && n.synced && !n.readonly; }", timeout=SYNC)


def painted(page):
    """Let a frame be painted (Chromium routes a click by the layout it last painted)."""
    page.evaluate("new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")


def type_in_note(page, text: str):
    editor = page.locator("#notes .cm-content")
    editor.scroll_into_view_if_needed()
    painted(page)
    editor.click()
    page.keyboard.press("Control+End")
    page.keyboard.type(text)
    page.wait_for_function("t => window.plein.notes.note.text.includes(t)", arg=text)


def in_viewport(page, selector: str) -> bool:
    return page.evaluate("""sel => { const node = document.querySelector(sel); if (!node) return false;
        const r = node.getBoundingClientRect(); return r.height > 0 && r.top >= 0 && r.bottom <= window.innerHeight
        && r.left >= 0 && r.right <= window.innerWidth; }""", selector)


def seen(locator) -> bool:
    """On screen for the eye (a folded banner is 1 px, out of sight but still in the accessibility tree)."""
    box = locator.bounding_box()
    return bool(box) and box["height"] > 1 and box["width"] > 1


def page_width(page) -> int:
    return page.evaluate("document.scrollingElement.scrollWidth")


def too_wide(page) -> list[str]:
    """The innermost elements that reach past the window's right edge (to say what made a page too wide)."""
    return page.evaluate("""() => [...document.querySelectorAll('body *')].filter((n) => {
        const r = n.getBoundingClientRect(); return r.width && r.right > window.innerWidth + 0.5
          && ![...n.children].some((c) => c.getBoundingClientRect().right > window.innerWidth + 0.5); })
        .slice(0, 8).map((n) => `${n.tagName.toLowerCase()}#${n.id}.${[...n.classList].join('.')}`
          + ` right=${Math.round(n.getBoundingClientRect().right)}`)""")


# -- item 2: the status bar ---------------------------------------------------------------------------------------

def test_phone_status_bar_stays_at_the_top_and_opens_help(server, new_page):
    watch = new_page(viewport=PHONE)
    page = enter(watch, server, "Anna de Vries", brainstorm=True)
    bar = page.locator("#statusbar")
    # Before the evening starts too: the bar says what is going on.
    expect(bar).to_be_visible()
    expect(bar).to_contain_text("moderator")

    jump(server, "ronde-1")
    at_phase(page, "ronde-1")
    wait_note_live(page)
    expect(bar.locator("#statusbar-phase")).to_have_text("Break-out sessies ronde I")
    expect(bar.locator("#statusbar-room")).to_have_text(TITLE)
    expect(bar.locator("#statusbar-time")).to_have_text(re.compile(r"^\d{1,2}:\d{2}(:\d{2})?$"))
    page.wait_for_function("window.plein.roomName")
    save_screenshot(page, "live-phone")

    # Writing notes far down the page: the bar is on screen, the countdown ~1,000 px below is not.
    type_in_note(page, "Een gedeelde server. ")
    assert page.evaluate("window.scrollY") > 300
    assert page.evaluate("document.activeElement.closest('#notes') !== null")
    assert in_viewport(page, "#statusbar"), "the status bar left the screen while writing notes"
    assert not in_viewport(page, "#countdown")
    save_screenshot(page, "live-notes-statusbar-phone")
    page.evaluate("window.scrollTo(0, document.scrollingElement.scrollHeight)")
    painted(page)
    assert in_viewport(page, "#statusbar")
    # The time runs in the bar as in the countdown.
    page.wait_for_function("document.querySelector('#statusbar-time').textContent"
                           " === document.querySelector('#countdown').textContent")

    # Help from the bar: the form opens, on screen, with the cursor in it.
    bar.get_by_role("button", name="Hulp").click()
    expect(page.locator("#help-form")).to_be_visible()
    expect(page.locator("#help-text")).to_be_focused()
    page.wait_for_function("() => { const r = document.querySelector('#help-text').getBoundingClientRect();"
                           " return r.top >= 0 && r.bottom <= window.innerHeight; }")
    shot(page, "statusbar-help-phone")
    page.locator("#help-cancel").click()

    # Every phase: a plenary, a break, the end.
    for phase in ("opening", "afsluiting"):
        jump(server, phase)
        at_phase(page, phase)
        page.evaluate("window.scrollTo(0, document.scrollingElement.scrollHeight)")
        painted(page)
        assert in_viewport(page, "#statusbar"), phase
        expect(bar.locator("#statusbar-phase")).not_to_be_empty()
    # On a laptop the side panel shows all of it: no second bar.
    page.set_viewport_size(LAPTOP)
    expect(bar).to_be_hidden()
    assert [e for e in watch.errors if "external_api" not in e] == []


# -- item 3: the banners on a phone ---------------------------------------------------------------------------------

def test_phone_banners_fold_into_one_line_that_opens(server, new_page):
    watch = new_page(viewport=PHONE)
    page = enter(watch, server, "Bert Jansen")
    jump(server, "opening")
    at_phase(page, "opening")
    page.wait_for_function("window.plein.roomName")
    top = page.locator("#jitsi").bounding_box()["y"]
    texts = ["De pauze duurt vijf minuten langer dan gepland, neem rustig koffie.",
             "Wie het geluid kwijt is: ververs de pagina, dan komt het terug.",
             "Na de opening gaan we door met de tweede ronde van de break-outs."]
    for text in texts:
        resp = server.call("POST", "/broadcasts", {"text": text})
        assert resp.status_code == 201, resp.text
    expect(page.locator("#messages .message")).to_have_count(3, timeout=SYNC)

    toggle = page.locator("#banner-toggle")
    expect(toggle).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(toggle).to_contain_text("3")
    moved = page.locator("#jitsi").bounding_box()["y"] - top
    assert moved <= LINE, f"three banners push the video down {moved} px"
    assert not seen(page.locator("#messages"))  # out of sight (a screen reader still reads them)
    save_screenshot(page, "live-banners-folded-phone")

    # By keyboard: open, all three on the page; close again.
    toggle.focus()
    page.keyboard.press("Enter")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    for text in texts:
        expect(page.locator("#messages .message", has_text=text)).to_be_visible()
    page.wait_for_function("document.querySelector('#messages').getBoundingClientRect().height > 90")
    bottom = page.locator("#messages .message").last.bounding_box()
    assert page.locator("#jitsi").bounding_box()["y"] >= bottom["y"] + bottom["height"] - 1
    save_screenshot(page, "live-banners-open-phone")
    page.keyboard.press("Enter")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    page.wait_for_function("document.querySelector('#messages').getBoundingClientRect().height <= 1")

    # Tabbing into a folded banner (its dismiss button) opens the stack: no focus on something unseen.
    toggle.focus()
    page.keyboard.press("Tab")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    assert page.evaluate("document.activeElement.closest('.live__banners') !== null")
    # Dismissing down to one: no fold any more.
    for _ in range(2):
        page.locator("#messages .message .banner__close").first.click()
    expect(page.locator("#messages .message")).to_have_count(1)
    expect(toggle).to_be_hidden()
    assert seen(page.locator("#messages"))

    # A laptop shows every banner as it is.
    server.call("POST", "/broadcasts", {"text": "Nog een bericht."})
    expect(page.locator("#messages .message")).to_have_count(2, timeout=SYNC)
    page.set_viewport_size(LAPTOP)
    expect(toggle).to_be_hidden()
    assert seen(page.locator("#messages"))
    assert [e for e in watch.errors if "external_api" not in e] == []


# -- item 4: the notes after the round ------------------------------------------------------------------------------

@pytest.mark.parametrize("locale,lang,link", [
    ("nl-NL", "nl", f"Aantekeningen van {TITLE} bekijken"),
    ("en-GB", "en", f"View the notes of {TITLE}"),
], ids=["nl", "en"])
def test_notes_fold_into_a_link_when_the_round_ends(start_server, new_page, locale, lang, link):
    server = start_server(env={"PLEIN_NOTES_GRACE_SECONDS": "0"})
    watch = new_page(viewport=LAPTOP, locale=locale)
    watch.page.goto(f"{server.url}/e/{SLUG}?lang={lang}")
    page = enter(watch, server, "Anna de Vries", brainstorm=True)
    jump(server, "ronde-1")
    at_phase(page, "ronde-1")
    wait_note_live(page)
    type_in_note(page, "Laatste woorden voor de pauze.")
    # Stored before the round ends (no grace here: a change after the end is refused).
    page.wait_for_function("""s => fetch(`/api/events/${s}/sessions/cooperatieve-tech/notes.md`)
        .then((r) => r.text()).then((t) => t.includes('Laatste woorden voor de pauze.'))""", arg=SLUG, timeout=SYNC,
                           polling=250)
    assert page.locator("#jitsi").bounding_box()["width"] < 700  # the notes take their column

    # The round ends (into the break after it): the notes fold at once.
    server.call("POST", "/clock", {"action": "advance"})
    page.wait_for_function("window.plein.state.phase && window.plein.state.phase.kind === 'break'", timeout=SYNC)
    expect(page.locator("#notes")).to_be_hidden()
    expect(page.get_by_role("button", name=link)).to_be_visible()
    jump(server, "opening")
    at_phase(page, "opening")
    expect(page.locator("#notes")).to_be_hidden()
    expect(page.locator("#notes-people")).to_be_hidden()
    page.wait_for_function("!document.querySelector('main.live').classList.contains('has-notes')")
    video = page.locator("#jitsi").bounding_box()["width"]
    info = page.locator("aside.info").bounding_box()["width"]
    assert video >= LAPTOP["width"] - info - 2, f"the plenary's video gets {video} of {LAPTOP['width']} px"
    assert video > 880
    fold = page.get_by_role("button", name=link)
    expect(fold).to_be_visible()
    if lang == "nl":
        save_screenshot(page, "notes-folded-laptop")
    else:
        shot(page, f"notes-folded-laptop-{lang}")

    # A reload keeps the fold.
    page.reload()
    page.wait_for_function("window.plein && window.plein.state")
    expect(fold).to_be_visible()
    expect(page.locator("#notes")).to_be_hidden()
    # The link opens them read-only; closing folds them again.
    fold.click()
    expect(page.locator("#notes")).to_be_visible()
    page.wait_for_function("window.plein.notes.note && window.plein.notes.note.synced"
                           " && window.plein.notes.note.text.includes('Laatste woorden')", timeout=SYNC)
    expect(page.locator("#notes-status")).to_have_attribute("data-kind", "readonly")
    expect(fold).to_be_hidden()
    page.locator("#notes-close").click()
    expect(page.locator("#notes")).to_be_hidden()
    expect(fold).to_be_visible()

    # The closing plenary keeps its yield.
    jump(server, "afsluiting")
    at_phase(page, "afsluiting")
    expect(page.locator(f"#yield [data-session={SESSION}]")).to_contain_text("Laatste woorden", timeout=SYNC)
    assert [e for e in watch.errors if "external_api" not in e] == []


# -- item 7: nothing wider than the phone ---------------------------------------------------------------------------

LONG_WORD = "Coöperatiegemeenschapsontwikkelingsondersteuningsprogrammavo"  # 60 characters


def look(page, name: str):
    """A phone first (nothing wider than 390 px), then a laptop; a screenshot of each."""
    page.set_viewport_size(PHONE)
    painted(page)
    assert page_width(page) <= PHONE["width"], f"{name}: {page_width(page)} px wide on a 390 px phone: {too_wide(page)}"
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, f"{name}-phone")
    page.set_viewport_size(LAPTOP)
    painted(page)
    assert page_width(page) <= LAPTOP["width"], name
    shot(page, f"{name}-laptop")
    page.set_viewport_size(PHONE)


def test_no_page_is_wider_than_a_phone(server, new_page):
    assert len(LONG_WORD) == 60
    watch = new_page(viewport=PHONE)
    page = watch.page
    page.goto(f"{server.url}/e/{SLUG}")
    look(page, "wide-event")
    page = enter(watch, server, "Carla Smit-Van den Berg-Oosterhout", brainstorm=True)
    page.goto(f"{server.url}/e/{SLUG}/choose")
    page.locator(".round-choice").first.wait_for()
    look(page, "wide-choose")
    page.goto(f"{server.url}/e/{SLUG}/live")
    page.wait_for_function("window.plein && window.plein.state")
    look(page, "wide-live-waiting")

    jump(server, "in-beeld")
    at_phase(page, "in-beeld")
    look(page, "wide-live-round")
    server.call("POST", "/clock", {"action": "advance"})  # the break after the first round
    page.wait_for_function("window.plein.state.phase && window.plein.state.phase.kind === 'break'", timeout=SYNC)
    look(page, "wide-live-break")
    jump(server, "ronde-1")
    at_phase(page, "ronde-1")
    wait_note_live(page)
    type_in_note(page, f"Ons idee: {LONG_WORD} voor iedereen.")
    look(page, "wide-live-brainstorm")
    # For the whole evening: a message of the round's own would end with the round (issue 10, item 3).
    server.call("POST", "/broadcasts", {"text": f"Lees ook {LONG_WORD} na afloop.", "lifetime": "evening"})
    jump(server, "opening")
    at_phase(page, "opening")
    expect(page.locator("#messages .message")).to_have_count(1, timeout=SYNC)
    look(page, "wide-live-plenary")
    jump(server, "afsluiting")
    at_phase(page, "afsluiting")
    expect(page.locator(f"#yield [data-session={SESSION}]")).to_contain_text(LONG_WORD, timeout=SYNC)
    look(page, "wide-live-closing")
    server.call("POST", "/clock", {"action": "advance"})
    page.wait_for_function("window.plein.state.status === 'ended'", timeout=SYNC)
    look(page, "wide-live-ended")

    mod = new_page(viewport=PHONE).page
    mod.goto(f"{server.url}/e/{SLUG}/moderator?key={MODERATOR_KEY}")
    mod.wait_for_load_state("load")
    look(mod, "wide-moderator")
    mod.goto(f"{server.url}/e/{SLUG}/invite")
    look(mod, "wide-invite")
    assert [e for e in watch.errors if "external_api" not in e] == []
