"""The moderator console as a moderator lives it (issue 10, items 9 and 10): played phases keep the times they ran;
names are found without unfolding rooms; no column clipped at 1,280 px; plain words; a name asked at a key-link
sign-in; on a phone the controls and help first and the rest folded."""
from __future__ import annotations

import shutil

import pytest
import requests
from playwright.sync_api import expect

from support import LAPTOP, MODERATOR_KEY, PHONE, ROOT, SLUG, shot

pytestmark = pytest.mark.browser

PUSH = 8000  # ms: the console push is throttled to one a second; allow a few
SCREENSHOTS = ROOT / "docs" / "screenshots"


def save_screenshot(page, name: str, full_page: bool = False):
    """A screenshot for a person to look at (test-artifacts/) and for the docs (docs/screenshots/)."""
    path = shot(page, name)
    if full_page:
        page.screenshot(path=str(path), full_page=True)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, SCREENSHOTS / f"{name}.png")


def open_console(new_page, server, viewport=LAPTOP):
    watch = new_page(viewport=viewport)
    page = watch.page
    page.goto(f"{server.url}/e/{SLUG}/moderator?key={MODERATOR_KEY}")
    page.wait_for_function("window.plein && window.plein.console && window.plein.connected")
    return watch, page


def clock(page, action: str, confirm: str | None = "Ja, iedereen verplaatsen", minutes: str | None = None):
    """A clock button, confirmed when it asks; waits for the page to take the new state."""
    version = page.evaluate("window.plein.state.version")
    selector = f"[data-action={action}]" + (f"[data-minutes='{minutes}']" if minutes else "")
    page.locator(selector).click()
    if confirm:
        page.locator("dialog[open]").get_by_role("button", name=confirm).click()
    page.wait_for_function("v => window.plein.state.version > v", arg=version)


def name_later(page):
    """Put off the name question (a key-link sign-in asks it)."""
    form = page.locator("#me-form")
    if form.is_visible():
        page.locator("#me-cancel").click()


def test_played_phases_keep_the_times_they_actually_ran(server, new_page):
    watch, mod = open_console(new_page, server)
    name_later(mod)
    clock(mod, "start")
    clock(mod, "extend", confirm=None, minutes="1")
    clock(mod, "advance")
    clock(mod, "advance")
    clock(mod, "back")  # back into the break: the first round is behind us, the second round ran for a moment
    event = requests.get(server.api(""), timeout=5).json()
    first = next(p for p in event["phases"] if p["id"] == "in-beeld")
    assert len(first["ran"]) == 1
    ran = first["ran"][0]
    # The timeline has moved the first round (it now ends where the break began again): not how it ran.
    assert first["starts_at"] != ran["starts_at"]
    item = mod.locator("#program [data-phase=in-beeld]")
    expect(item).to_have_attribute("data-played", "true")
    shown = item.locator(".program__time time").evaluate_all("ts => ts.map(t => Date.parse(t.dateTime))")
    assert shown == [mod.evaluate("s => Date.parse(s)", ran["starts_at"]), mod.evaluate("s => Date.parse(s)", ran["ends_at"])]
    # The second round ran between the two moves and comes again: the list says when it ran before.
    again = mod.locator("#program [data-phase=ronde-1] .program__earlier")
    expect(again).to_contain_text("Eerder gespeeld")
    assert mod.locator("#program [data-phase=pauze-1700]").get_attribute("aria-current") == "step"
    mod.locator("#program-heading").scroll_into_view_if_needed()
    save_screenshot(mod, "console-program-laptop")
    assert watch.errors == []


def test_no_table_cell_or_table_is_clipped_at_1280(server, new_page, listen):
    people = {name: server.join(name) for name in ("Bram", "Chris")}
    ear = listen(server, token=people["Bram"]["token"])
    watch, mod = open_console(new_page, server)
    name_later(mod)
    clock(mod, "start")
    mod.wait_for_function("document.querySelector('#rounds .tag--now')", timeout=PUSH)
    mod.wait_for_function("document.querySelector('#console-round').textContent.startsWith('Ronde')", timeout=PUSH)
    clipped = mod.evaluate("""() => {
        const out = [];
        for (const cell of document.querySelectorAll('th, td'))
            if (cell.scrollWidth > cell.clientWidth) out.push(`${cell.textContent}: ${cell.scrollWidth} > ${cell.clientWidth}`);
        for (const box of document.querySelectorAll('.table-scroll'))
            if (box.scrollWidth > box.clientWidth) out.push(`table ${box.scrollWidth} > ${box.clientWidth}`);
        for (const table of document.querySelectorAll('table'))
            if (table.getBoundingClientRect().right > table.closest('.card').getBoundingClientRect().right)
                out.push(`table out of its card`);
        return out;
    }""")
    assert clipped == []
    assert mod.evaluate("document.documentElement.scrollWidth") <= LAPTOP["width"]
    save_screenshot(mod, "console-laptop")
    mod.locator("#rounds-heading").scroll_into_view_if_needed()
    save_screenshot(mod, "console-rounds-laptop")
    assert watch.errors == []
    ear.close()


def test_the_console_speaks_plainly_and_says_what_it_did(server, new_page):
    watch, mod = open_console(new_page, server)
    name_later(mod)
    text = mod.locator("main").inner_text()
    assert "Klokversie" not in text and "(versie" not in text
    # Before the start the countdown is not said to be running.
    assert mod.locator("#status-pill").inner_text() == "Wacht op start"
    assert "loopt" not in mod.locator(".mod-status .facts").inner_text()
    clock(mod, "start")
    assert "loopt" in mod.locator(".mod-status .facts").inner_text()
    expect(mod.locator("#mod-ok")).to_have_text("Gedaan: iedereen is nu in Coöperatieven in beeld.")
    clock(mod, "extend", confirm=None, minutes="5")
    expect(mod.locator("#mod-ok")).to_contain_text("Gedaan: Coöperatieven in beeld eindigt nu om ")
    assert "(versie" not in mod.locator("main").inner_text()
    clock(mod, "pause", confirm="Ja, zet stil")
    assert "staat stil" in mod.locator(".mod-status .facts").inner_text()
    assert watch.errors == []


def test_a_key_link_sign_in_asks_for_a_name_used_on_messages(server, new_page, listen):
    bram = server.join("Bram")
    ear = listen(server, token=bram["token"])
    watch, mod = open_console(new_page, server)
    form = mod.locator("#me-form")
    expect(form).to_be_visible()
    expect(mod.locator("#me-input")).to_be_focused()
    expect(form).to_contain_text("Welke naam zien deelnemers")
    expect(mod.get_by_label("Welke naam zien deelnemers bij je berichten?")).to_be_focused()
    mod.fill("#me-input", "   ")
    mod.locator("#me-form button[type=submit]").click()
    expect(mod.locator("#me-error")).not_to_be_empty()
    mod.fill("#me-input", "Femke (moderator)")
    mod.locator("#me-form button[type=submit]").click()
    expect(form).to_be_hidden()
    expect(mod.locator("#me-name")).to_have_text("Femke (moderator)")
    mod.fill("#broadcast-text", "Welkom allemaal")
    mod.locator("#broadcast-button").click()
    got = ear.wait_for(lambda d: d["text"] == "Welkom allemaal", timeout=8, event="broadcast")
    assert got["from"] == "Femke (moderator)"
    mod.reload()  # remembered for the session: not asked again
    mod.wait_for_function("window.plein && window.plein.console")
    expect(mod.locator("#me-name")).to_have_text("Femke (moderator)")
    assert not form.is_visible()
    assert [e for e in watch.errors if "status of 400" not in e] == []  # the blank name was refused: 400


def test_a_put_off_name_question_stays_away_for_the_session(server, new_page):
    watch, mod = open_console(new_page, server)
    expect(mod.locator("#me-form")).to_be_visible()
    mod.locator("#me-cancel").click()
    mod.reload()
    mod.wait_for_function("window.plein && window.plein.console")
    assert not mod.locator("#me-form").is_visible()
    expect(mod.locator("#me-name")).to_have_text("(nog geen naam)")


def test_names_are_found_across_rooms_without_unfolding_them(server, new_page, listen):
    people = {name: server.join(name) for name in ("Bram", "Dana")}
    dana = listen(server, token=people["Dana"]["token"])
    watch, mod = open_console(new_page, server)
    name_later(mod)
    clock(mod, "start")
    mod.wait_for_function(
        "window.plein.console.rooms.some(r => r.session && r.present.some(p => p.name === 'Dana'))", timeout=PUSH)
    title = mod.evaluate("window.plein.console.rooms.find(r => r.present.some(p => p.name === 'Dana')).title")
    mod.fill("#console-filter", "da")
    hits = mod.locator("#console-finds .find")
    expect(hits).to_have_count(1)
    expect(hits.first).to_contain_text("Dana")
    expect(hits.first).to_contain_text(title)
    mod.fill("#console-filter", "bra")
    expect(hits.first).to_contain_text("Niet verbonden")
    mod.fill("#console-filter", "da")
    mod.evaluate("document.querySelector('.filter').scrollIntoView({block: 'start'})")
    save_screenshot(mod, "console-find-laptop")
    hits.first.get_by_role("button", name="Dana").click()
    dialog = mod.locator("dialog[open]")
    expect(dialog.get_by_role("button", name="Verwijderen uit de avond")).to_be_visible()
    expect(dialog.locator("select#move-target")).to_be_visible()
    dialog.get_by_role("button", name="Annuleren").click()
    # A modal dialog makes the rest of the page inert: the filter can be typed in once it has closed.
    expect(mod.locator("dialog[open]")).to_have_count(0)
    mod.fill("#console-filter", "")
    expect(mod.locator("#console-filter")).to_have_value("")
    expect(hits).to_have_count(0)
    assert watch.errors == []
    dana.close()


def test_on_a_phone_controls_and_help_come_first_and_the_rest_is_folded(server, new_page):
    for name in ("Bram", "Chris", "Dana"):
        server.join(name)
    watch, mod = open_console(new_page, server, viewport=PHONE)
    name_later(mod)
    mod.locator("#rounds .round-table").first.wait_for(state="attached")
    tops = mod.evaluate("""() => Object.fromEntries(['.mod-status', '.mod-help', '.mod-controls', '.mod-rooms', '.mod-program']
        .map(s => [s, document.querySelector(s).getBoundingClientRect().top + window.scrollY]))""")
    assert tops[".mod-status"] < tops[".mod-help"] < tops[".mod-controls"] < tops[".mod-rooms"] < tops[".mod-program"]
    folds = mod.locator("details.fold")
    assert folds.count() >= 6
    assert all(not f.get_attribute("open") and f.get_attribute("open") != "" for f in folds.all())
    height = mod.evaluate("document.documentElement.scrollHeight")
    print("console height at 390:", height)
    assert height < 4200, height
    assert mod.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    save_screenshot(mod, "console-phone")
    save_screenshot(mod, "console-phone-full", full_page=True)
    # A fold opens from the keyboard.
    summary = mod.locator(".mod-rooms summary.fold__summary")
    summary.focus()
    mod.keyboard.press("Enter")
    expect(mod.locator(".mod-rooms details.fold")).to_have_attribute("open", "")
    expect(mod.locator("#console-filter")).to_be_visible()
    # On a laptop the same page shows everything unfolded.
    wide_watch, wide = open_console(new_page, server)
    assert all(f.get_attribute("open") is not None for f in wide.locator("details.fold").all())
    assert watch.errors == [] and wide_watch.errors == []
