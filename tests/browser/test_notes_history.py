"""Earlier versions of a note in Chromium (issue 9, item 1): someone wrecks the note; the session's host opens
"Eerdere versies" in the notes panel, restores the version from before, confirms, and every open page follows.
The moderator console lists the same versions under each brainstorm's exports. Screenshots at 1280 and 390 px."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from support import LAPTOP, MODERATOR_KEY, PHONE, SLUG, shot
from test_notes import SESSION, SYNC, choose_brainstorm, clock, wait_live, wait_text

pytestmark = pytest.mark.browser


def test_the_host_restores_an_earlier_version_and_every_page_follows(start_server, new_page, axe):
    server = start_server(env={"PLEIN_NOTES_SNAPSHOT_SECONDS": "1"})
    anna = choose_brainstorm(new_page(viewport=LAPTOP), server, "Anna de Vries")
    bert = choose_brainstorm(new_page(viewport=PHONE), server, "Bert Jansen")
    anna_id = anna.evaluate("JSON.parse(document.getElementById('plein-config').textContent).participant.id")
    resp = server.call("POST", f"/participants/{anna_id}/host", {"session": SESSION, "host": True})
    assert resp.status_code == 200, resp.text
    clock(server, "jump", phase="ronde-1")
    for page in (anna, bert):
        wait_live(page)
    # only the host sees the versions in the notes panel
    expect(anna.locator("#notes-history details")).to_be_visible(timeout=SYNC)
    assert bert.locator("#notes-history").is_hidden()

    anna.locator("#notes .cm-content").click()
    anna.keyboard.type("Ons plan: een gedeelde server.")
    wait_text(bert, "t === 'Ons plan: een gedeelde server.'")
    anna.wait_for_timeout(1200)  # the next change falls in a new period of the history (1 s here)
    bert.locator("#notes .cm-content").click()
    bert.keyboard.press("Control+a")
    bert.keyboard.type("weg ermee")
    wait_text(anna, "t === 'weg ermee'")

    anna.locator("#notes-history summary").click()
    rows = anna.locator("#notes-history .history__item")
    good = rows.filter(has_text="Ons plan: een gedeelde server.").first
    expect(good).to_contain_text("Bert Jansen", timeout=SYNC)  # who wrote after it: what a restore undoes
    expect(anna.locator("#notes-history .history__who")).to_contain_text("Anna de Vries")
    shot(anna, "notes-history-host-laptop")
    axe.check(anna, "the host's versions panel")
    good.locator("button").click()
    dialog = anna.locator("dialog")
    expect(dialog).to_contain_text("terugzetten")
    axe.check(anna, "the restore confirmation")
    dialog.locator("button.button--danger").click()
    for page in (anna, bert):
        wait_text(page, "t === 'Ons plan: een gedeelde server.'")
    expect(anna.locator("#notes-history .mod-ok")).to_contain_text("Teruggezet naar")
    # editing goes on from the restored text
    bert.keyboard.press("Control+End")
    bert.keyboard.type(" Ja!")
    wait_text(anna, "t === 'Ons plan: een gedeelde server. Ja!'")
    anna.set_viewport_size(PHONE)
    anna.locator("#notes-history").scroll_into_view_if_needed()
    shot(anna, "notes-history-host-phone")

    # the console: the same versions under the brainstorm's exports, the restore in the audit log
    for viewport, name in ((LAPTOP, "notes-history-console-laptop"), (PHONE, "notes-history-console-phone")):
        mod = new_page(viewport=viewport)
        page = mod.page
        page.goto(f"{server.url}/e/{SLUG}/moderator?key={MODERATOR_KEY}")
        if viewport == PHONE:  # on a phone the console's cards after the controls start folded
            page.locator(".mod-notes summary.fold__summary").click()
        row = page.locator(f".mod-notes__item[data-session={SESSION}]")
        row.locator("summary").click()
        expect(row.locator(".history__item").first).to_be_visible(timeout=SYNC)
        expect(row.locator(".history__item", has_text="weg ermee").first).to_contain_text("vóór het terugzetten")
        expect(row.locator(".history__who")).to_contain_text("Anna de Vries (teruggezet)")
        row.scroll_into_view_if_needed()
        shot(page, name)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "sideways scrolling"
        assert not mod.errors, mod.errors
    expect(page.locator("#audit-list")).to_contain_text("zette de notities van")


def test_the_host_takes_one_participants_writing_out(start_server, new_page):
    """Issue 9, item 6: from the versions panel, the host takes out everything one participant wrote; what the
    others wrote around it stays, on every page."""
    server = start_server()
    anna = choose_brainstorm(new_page(viewport=LAPTOP), server, "Anna de Vries")
    bert = choose_brainstorm(new_page(viewport=PHONE), server, "Bert Jansen")
    anna_id = anna.evaluate("JSON.parse(document.getElementById('plein-config').textContent).participant.id")
    assert server.call("POST", f"/participants/{anna_id}/host", {"session": SESSION, "host": True}).status_code == 200
    clock(server, "jump", phase="ronde-1")
    for page in (anna, bert):
        wait_live(page)
    anna.locator("#notes .cm-content").click()
    anna.keyboard.type("Een buurtfonds.")
    wait_text(bert, "t === 'Een buurtfonds.'")
    bert.locator("#notes .cm-content").click()
    bert.keyboard.press("Control+End")
    bert.keyboard.type(" ONZIN")
    wait_text(anna, "t === 'Een buurtfonds. ONZIN'")

    anna.locator("#notes-history summary").click()
    take_out = anna.get_by_role("button", name="Haal weg wat Bert Jansen schreef")
    expect(take_out).to_be_visible(timeout=SYNC)
    take_out.click()
    dialog = anna.locator("dialog")
    expect(dialog).to_contain_text("Alles wat Bert Jansen schreef weghalen?")
    dialog.get_by_role("button", name="Ja, haal weg").click()
    for page in (anna, bert):
        wait_text(page, "t === 'Een buurtfonds.'")
    expect(anna.locator("#notes-history .mod-ok")).to_contain_text("Wat Bert Jansen schreef")
    anna.locator("#notes-history").scroll_into_view_if_needed()
    shot(anna, "notes-hide-writer-laptop")
