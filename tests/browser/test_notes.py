"""Brainstorm notes in a real Chromium against a real server (real Redis, the real ticker): two participants type
in the same note at the same time and converge; a third page opened later sees the text; idea cards and votes
travel live; a phone shows the notes below the video; once the moderator ends the phase the note is read-only
(the page says why, the server refuses a change) and the Markdown exports hold the text; the closing plenary shows
the yield of the evening.

Nothing here sleeps for correctness: every wait is Playwright's own or a wait_for_function.
"""
from __future__ import annotations

import io
import json
import shutil
import zipfile

import pytest
import requests
from playwright.sync_api import TimeoutError as PlaywrightTimeout, expect

from support import LAPTOP, MODERATOR_KEY, PHONE, ROOT, SLUG, clock, join_to_choose, shot

pytestmark = pytest.mark.browser

SESSION = "cooperatieve-tech"
TITLE = "Brainstorm – Samen werken aan coöperatieve tech"
SCREENSHOTS = ROOT / "docs" / "screenshots"
SYNC = 10_000  # ms


def choose_brainstorm(watch, server, name: str):
    """Sign up in the browser and choose the tech brainstorm for round I; lands on the live page."""
    page = join_to_choose(watch.page, server, name)
    page.check(f"#opt-ronde-1-{SESSION}")
    page.locator("#choose-save").click()
    page.wait_for_url(f"**/e/{SLUG}/live")
    page.wait_for_function("window.plein && window.plein.state")
    return page


def wait_live(page):
    """The note is open, joined, synced and writable."""
    page.locator("#notes").wait_for()
    try:
        page.wait_for_function("() => { const n = window.plein.notes && window.plein.notes.note;"
                               " return n && n.synced && !n.readonly; }", timeout=SYNC)
    except PlaywrightTimeout:
        seen = page.evaluate("(() => { const n = window.plein.notes.note; return n && {joined: n.joined,"
                             " synced: n.synced, readonly: n.readonly, status: document.querySelector('#notes-status')"
                             ".textContent, state: window.plein.state && window.plein.state.room}; })()")
        raise AssertionError(f"the note never became live: {seen}") from None
    expect(page.locator("#notes-status")).to_have_attribute("data-kind", "live")


def note_text(page) -> str:
    return page.evaluate("window.plein.notes.note.text")


def wait_text(page, predicate_js: str):
    try:
        page.wait_for_function(f"() => {{ const t = window.plein.notes.note && window.plein.notes.note.text;"
                               f" return typeof t === 'string' && ({predicate_js}); }}", timeout=SYNC)
    except PlaywrightTimeout:
        seen = page.evaluate("window.plein.notes.note && window.plein.notes.note.text")
        error = page.locator("#notes-error").inner_text()
        raise AssertionError(f"note text never matched {predicate_js}: {seen!r} (error shown: {error!r})") from None


def is_subsequence(part: str, whole: str) -> bool:
    """Every character of `part` occurs in `whole` in the same order (others may come between)."""
    chars = iter(whole)
    return all(c in chars for c in part)


def save_screenshot(page, name: str):
    path = shot(page, name)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, SCREENSHOTS / f"{name}.png")


def test_two_write_together_third_reads_then_closed_and_exported(start_server, new_page, axe):
    # No grace after the round (PLEIN_NOTES_GRACE_SECONDS), so that a change made after it is refused at once.
    server = start_server(env={"PLEIN_NOTES_GRACE_SECONDS": "0"})
    anna_w = new_page(viewport=LAPTOP)
    bert_w = new_page(viewport=LAPTOP)
    carla_w = new_page(viewport=LAPTOP)
    anna = choose_brainstorm(anna_w, server, "Anna de Vries")
    bert = choose_brainstorm(bert_w, server, "Bert Jansen")
    carla = choose_brainstorm(carla_w, server, "Carla Smit")
    carla_ctx = carla.context
    carla.close()  # Carla comes back later

    # Before the round nobody sees a notepad.
    assert anna.locator("#notes").is_hidden()

    clock(server, "jump", phase="ronde-1")
    for page in (anna, bert):
        wait_live(page)
        expect(page.locator("#notes-session")).to_contain_text(TITLE)
        assert page.locator("main.live").evaluate("m => m.classList.contains('has-notes')")
        assert page.locator("#notes .cm-content").get_attribute("aria-label") == "Gedeelde aantekeningen van deze brainstorm"

    expect(anna.locator("#mine [data-phase=ronde-1]")).to_contain_text(TITLE)

    # Both are listed as being there, each with their own name (awareness).
    expect(anna.locator("#notes-people")).to_contain_text("Bert Jansen", timeout=SYNC)
    expect(bert.locator("#notes-people")).to_contain_text("Anna de Vries", timeout=SYNC)
    expect(anna.locator("#notes-people")).to_contain_text("Anna de Vries (jij)")
    # Each person has a colour of their own, also when two start with the same one.
    two_colours = ("() => { const dots = [...document.querySelectorAll('#notes-people .notes__dot')]"
                   ".map(d => d.style.background); return dots.length === 2 && dots[0] !== dots[1]; }")
    anna.wait_for_function(two_colours, timeout=SYNC)
    colour = anna.evaluate("window.plein.notes.note.awareness.getLocalState().user.color")
    bert.evaluate("c => { const a = window.plein.notes.note.awareness;"
                  " a.setLocalStateField('user', {...a.getLocalState().user, color: c}); }", colour)
    anna.wait_for_function(two_colours, timeout=SYNC)
    bert.wait_for_function(two_colours, timeout=SYNC)

    # At the same time: Anna types at the end, Bert from the start, in interleaved bursts that do not wait for
    # each other, so their edits cross on the wire. Where their cursors meet, the CRDT may interleave letters of
    # both; what must hold is that nothing is lost, each one's typing keeps its order, and both end up equal.
    anna_editor = anna.locator("#notes .cm-content")
    bert_editor = bert.locator("#notes .cm-content")
    anna_editor.click()
    bert_editor.click()
    anna_words = ["Gedeelde ", "server ", "voor ", "alle ", "coöperaties. "]
    bert_words = ["Open ", "source ", "eerst; ", "samen ", "onderhouden. "]
    bert.keyboard.press("Control+Home")
    for a, b in zip(anna_words, bert_words):
        anna.keyboard.press("Control+End")
        anna.keyboard.type(a)
        bert.keyboard.type(b)
    typed = len("".join(anna_words)) + len("".join(bert_words))
    for page in (anna, bert):
        wait_text(page, f"t.length === {typed}")
    wait_text(bert, f"t === {json.dumps(note_text(anna))}")
    final = note_text(anna)
    assert note_text(bert) == final
    assert is_subsequence("".join(anna_words), final) and is_subsequence("".join(bert_words), final)
    # What the editors show is the note's text.
    assert anna.evaluate("window.plein.notes.note.shown") == bert.evaluate("window.plein.notes.note.shown") == final

    # Undo only takes back one's own typing: Bert's undo never touches Anna's letters; redo brings his back.
    bert.keyboard.press("Control+End")
    bert.wait_for_timeout(700)  # his own undo step, apart from his first words (see Anna's below)
    bert.keyboard.type(" Zelf getypt.")
    wait_text(anna, "t.endsWith(' Zelf getypt.')")
    before_undo = note_text(anna)
    bert.locator("#notes-undo").click()
    wait_text(anna, "!t.includes('Zelf getypt.')")
    assert is_subsequence("".join(anna_words), note_text(anna))
    bert.locator("#notes-redo").click()
    wait_text(anna, f"t === {json.dumps(before_undo)}")
    # And the keyboard: Ctrl+Z in Anna's editor takes back only her own last words.
    anna.locator("#notes .cm-content").click()
    anna.keyboard.press("Control+End")
    # A pause longer than Y.UndoManager's capture window (500 ms), as between a person's sentences: on a quiet
    # machine the steps above take less than that, and her new words joined her first ones in one undo step.
    anna.wait_for_timeout(700)
    anna.keyboard.type(" Van Anna.")
    wait_text(bert, "t.endsWith(' Van Anna.')")
    anna.keyboard.press("Control+z")
    wait_text(bert, f"t === {json.dumps(before_undo)}")
    final = note_text(anna)
    wait_text(bert, f"t === {json.dumps(final)}")

    # Idea cards: Anna adds one (live counter), Bert sees it and votes; both see the vote.
    idea = "Een gedeelde server voor alle coöperaties"
    anna.fill("#cards-text", idea)
    assert anna.locator("#cards-counter").inner_text() == f"{len(idea)}/280 tekens"
    anna.locator("#cards-add").click()
    expect(anna.locator("#cards-ok")).to_have_text("Idee toegevoegd.")
    assert anna.input_value("#cards-text") == ""
    bert_card = bert.locator("#cards-list .card-item", has_text=idea)
    bert_card.wait_for(timeout=SYNC)
    expect(bert_card).to_contain_text("door Anna de Vries")
    assert bert_card.locator("[data-do=edit]").count() == 0  # not his card
    bert_card.locator("[data-do=vote]").click()
    expect(bert_card.locator("[data-do=vote]")).to_have_attribute("aria-pressed", "true")
    anna_card = anna.locator("#cards-list .card-item", has_text=idea)
    expect(anna_card.locator(".card-item__votes")).to_have_text("1", timeout=SYNC)
    expect(anna_card.locator("[data-do=vote]")).to_have_attribute("aria-pressed", "false")

    # Bert's own idea gets two votes and moves to the top on both pages.
    other = "Een coöperatieve app-winkel"
    bert.fill("#cards-text", other)
    bert.locator("#cards-add").click()
    anna.locator("#cards-list .card-item", has_text=other).wait_for(timeout=SYNC)
    anna.locator("#cards-list .card-item", has_text=other).locator("[data-do=vote]").click()
    bert.locator("#cards-list .card-item", has_text=other).locator("[data-do=vote]").click()
    for page in (anna, bert):
        expect(page.locator("#cards-list .card-item").first).to_contain_text(other, timeout=SYNC)
        expect(page.locator("#cards-list .card-item").first.locator(".card-item__votes")).to_have_text("2")

    # Anna edits her card; too long an idea is refused by the server with its reason and stays in the box.
    anna_card = anna.locator(f"[data-card='{anna_card.get_attribute('data-card')}']")
    anna_card.locator("[data-do=edit]").click()
    box = anna_card.locator("textarea")
    expect(box).to_be_focused()
    box.fill(idea + " (en back-ups)")
    anna_card.locator("[data-do=save]").click()
    expect(anna_card.locator(".card-item__text")).to_have_text(idea + " (en back-ups)")
    expect(bert.locator("#cards-list")).to_contain_text("(en back-ups)", timeout=SYNC)
    anna.evaluate("document.querySelector('#cards-text').removeAttribute('maxlength')")
    long_idea = "x" * 281
    anna.fill("#cards-text", long_idea)
    anna.locator("#cards-add").click()
    expect(anna.locator("#cards-error")).not_to_be_empty()
    assert anna.input_value("#cards-text") == long_idea
    anna.fill("#cards-text", "")
    expect(anna.locator("#cards-error")).to_be_empty()  # typing again clears the old refusal

    # Carla opens her live page now: she sees the text and the cards as they are.
    carla = carla_ctx.new_page()
    carla_w.page = carla
    carla.on("pageerror", lambda e: carla_w.errors.append(str(e)))
    carla.goto(f"{server.url}/e/{SLUG}/live")
    wait_live(carla)
    wait_text(carla, f"t === {json.dumps(final)}")
    assert carla.evaluate("window.plein.notes.note.shown") == final
    expect(carla.locator("#cards-list .card-item")).to_have_count(2)
    expect(anna.locator("#notes-people")).to_contain_text("Carla Smit", timeout=SYNC)

    # Laptop: the notes between the video and the side panel, nothing spills over.
    anna.locator("#notes .cm-content").click()
    anna.keyboard.press("Control+End")
    anna.evaluate("document.querySelector('#notes').scrollTop = 0")
    save_screenshot(anna, "notes-laptop")
    assert anna.evaluate("document.documentElement.scrollWidth") <= LAPTOP["width"]
    box_video = anna.locator("#jitsi").bounding_box()
    box_notes = anna.locator("#notes").bounding_box()
    box_info = anna.locator("aside.info").bounding_box()
    assert box_video["x"] + box_video["width"] <= box_notes["x"] + 1
    assert box_notes["x"] + box_notes["width"] <= box_info["x"] + 1

    # Phone: the notes below the video, as wide as the screen; typing works there too.
    bert.set_viewport_size(PHONE)
    video = bert.locator("#jitsi").bounding_box()
    notes = bert.locator("#notes").bounding_box()
    assert notes["y"] >= video["y"] + video["height"] - 1
    assert notes["width"] <= PHONE["width"] and notes["x"] >= 0
    assert bert.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # Scroll first and let a frame be painted: Chromium routes a click to the video's out-of-process iframe
    # by the layout it last painted, and Playwright's own scroll-then-click can land in the iframe.
    bert.locator("#notes .cm-content").scroll_into_view_if_needed()
    bert.evaluate("new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")
    bert.locator("#notes .cm-content").click()
    bert.keyboard.press("Control+End")
    bert.keyboard.type(" Vanaf de telefoon.")
    wait_text(anna, "t.includes('Vanaf de telefoon.')")
    bert.locator("#notes").scroll_into_view_if_needed()
    bert.evaluate("document.querySelector('#notes').scrollIntoView({block: 'start'})")
    save_screenshot(bert, "notes-phone")
    # A narrow laptop or tablet: the notes under the video, the side panel on the right.
    bert.set_viewport_size({"width": 1000, "height": 700})
    video = bert.locator("#jitsi").bounding_box()
    notes = bert.locator("#notes").bounding_box()
    info = bert.locator("aside.info").bounding_box()
    assert notes["y"] >= video["y"] + video["height"] - 1 and notes["x"] + notes["width"] <= info["x"] + 1
    assert bert.evaluate("document.documentElement.scrollWidth") <= 1000
    shot(bert, "notes-narrow-laptop")
    bert.set_viewport_size(LAPTOP)
    final = note_text(anna)

    # The moderator ends the round: the notes fold into a button on every page; opened again, they are read-only
    # and say why.
    clock(server, "advance")
    for page in (anna, bert, carla):
        fold = page.get_by_role("button", name=f"Aantekeningen van {TITLE} bekijken")
        expect(fold).to_be_visible(timeout=SYNC)
        expect(page.locator("#notes")).to_be_hidden()
        fold.click()
        page.wait_for_function("window.plein.notes.note && window.plein.notes.note.readonly", timeout=SYNC)
        expect(page.locator("#notes-status")).to_have_text(
            "De brainstorm is afgelopen. De aantekeningen zijn nu alleen nog te lezen.")
        expect(page.locator("#notes-status")).to_have_attribute("data-kind", "readonly")
        assert page.locator("#notes").is_visible()  # still readable
        assert page.locator("#cards-form").is_hidden()
        assert page.locator("#notes-undo").is_disabled()
    # Typing does nothing in the editor ...
    anna.locator("#notes .cm-content").click()
    anna.keyboard.type("te laat")
    assert note_text(anna) == final
    assert anna.locator("#notes .cm-content").get_attribute("contenteditable") == "false"
    # ... and a change that goes around the editor is refused by the server, with the reason on the page.
    # The page then shows the note as stored again and keeps her version to copy.
    anna.evaluate("window.plein.notes.note.doc.getText('notes').insert(0, 'TE LAAT ')")
    expect(anna.locator("#notes-error")).to_contain_text("Je laatste wijziging is niet bewaard. De brainstorm is afgelopen.",
                                                         timeout=SYNC)
    assert anna.input_value("#notes-kept-text") == "TE LAAT " + final
    axe.check(anna, "closed notes with a refused change kept to copy")
    wait_text(anna, f"t === {json.dumps(final)}")
    assert anna.evaluate("window.plein.notes.note.shown") == final
    expect(anna.locator("#notes-status")).to_have_attribute("data-kind", "readonly")
    assert "TE LAAT" not in note_text(bert)
    assert bert.locator(".card-item [data-do=vote]").first.is_disabled()
    anna.evaluate("document.querySelector('#notes').scrollTop = 0")
    shot(anna, "notes-closed-laptop")

    # Exports hold the text and the ideas; the refused change is not in them.
    md = requests.get(server.api(f"/notes/{SESSION}.md"), headers={"Authorization": f"Bearer {MODERATOR_KEY}"},
                      timeout=5)
    assert md.status_code == 200, md.text
    for line in final.splitlines():
        assert line.strip() in md.text
    assert "Vanaf de telefoon." in md.text and "Een coöperatieve app-winkel" in md.text
    assert "TE LAAT" not in md.text
    # The participant's own download link (with her cookie).
    href = anna.locator("#notes-download").get_attribute("href")
    assert href == f"/api/events/{SLUG}/sessions/{SESSION}/notes.md"
    own = anna.request.get(f"{server.url}{href}")
    assert own.status == 200
    assert "Vanaf de telefoon." in own.text()
    assert "attachment" in own.headers.get("content-disposition", "")

    # The moderator page: per-brainstorm export links and the zip.
    mod = new_page(viewport=LAPTOP).page
    mod.goto(f"{server.url}/e/{SLUG}/moderator?key={MODERATOR_KEY}")
    section = mod.locator("#notes-exports")
    expect(section.locator("h2")).to_have_text("Aantekeningen")
    section.scroll_into_view_if_needed()
    shot(mod, "notes-moderator")
    row = section.locator(f"[data-session={SESSION}]")
    expect(row).to_contain_text(TITLE)
    assert row.locator("a", has_text="Markdown").get_attribute("href") == f"/api/events/{SLUG}/notes/{SESSION}.md"
    json_href = row.locator("a", has_text="JSON").get_attribute("href")
    data = mod.request.get(f"{server.url}{json_href}").json()
    assert "Vanaf de telefoon." in data["text"]
    zip_href = section.locator("a", has_text="Alles als zip").get_attribute("href")
    archive = zipfile.ZipFile(io.BytesIO(mod.request.get(f"{server.url}{zip_href}").body()))
    assert f"{SLUG}-{SESSION}.md" in archive.namelist()
    assert "Vanaf de telefoon." in archive.read(f"{SLUG}-{SESSION}.md").decode()

    # The closing plenary: the yield of the evening, with this brainstorm's notes and top ideas. (Her refused text,
    # kept to copy, would keep the notes open: she has copied it.)
    anna.locator("#notes-kept-dismiss").click()
    clock(server, "jump", phase="afsluiting")
    yld = anna.locator("#yield")
    yld.wait_for(timeout=SYNC)
    expect(yld.locator("h2")).to_have_text("Opbrengst van de avond")
    item = yld.locator(f"[data-session={SESSION}]")
    expect(item).to_contain_text("Vanaf de telefoon.", timeout=SYNC)
    expect(item.locator(".yield__cards li").first).to_contain_text("Een coöperatieve app-winkel")
    assert anna.locator("#notes").is_hidden()
    save_screenshot(anna, "notes-yield-laptop")

    # "Mijn avond" offers the notes of her brainstorm to read again; closing them brings the yield back.
    anna.locator("#mine [data-phase=ronde-1]").get_by_role("button", name="Aantekeningen lezen").click()
    anna.locator("#notes").wait_for()
    assert anna.locator("#yield").is_hidden()
    anna.wait_for_function("window.plein.notes.note && window.plein.notes.note.synced", timeout=SYNC)
    wait_text(anna, "t.includes('Vanaf de telefoon.')")
    expect(anna.locator("#notes-status")).to_have_attribute("data-kind", "readonly")
    anna.locator("#notes-close").click()
    anna.locator("#yield").wait_for()
    assert anna.locator("#notes").is_hidden()

    for watch in (anna_w, bert_w, carla_w):
        assert [e for e in watch.errors if "external_api" not in e] == []


def test_english_page_and_reconnect_merges_offline_edits(server, new_page):
    """In English; a page that loses its connection keeps typing, and its edits are merged after the reconnect."""
    anna_w = new_page(viewport=LAPTOP, locale="en-GB")
    bert_w = new_page(viewport=LAPTOP)
    anna_w.page.goto(f"{server.url}/e/{SLUG}?lang=en")
    anna = choose_brainstorm(anna_w, server, "Anna")
    bert = choose_brainstorm(bert_w, server, "Bert")
    clock(server, "jump", phase="ronde-1")
    wait_live(anna)
    wait_live(bert)
    expect(anna.locator("#notes-heading")).to_contain_text("Notes")
    expect(anna.locator("#notes-status")).to_have_text("All saved. You are writing together with the others.")

    bert.locator("#notes .cm-content").click()
    bert.keyboard.type("Online line. ")
    wait_text(anna, "t.includes('Online line.')")

    # Anna goes offline (the socket is closed by the page itself), types, and comes back.
    anna.evaluate("window.plein.socket.disconnect()")
    expect(anna.locator("#notes-status")).to_have_attribute("data-kind", "offline")
    expect(anna.locator("#notes-status")).to_have_text(
        "No connection. Keep typing; your text goes along as soon as the connection is back.")
    anna.locator("#notes .cm-content").click()
    anna.keyboard.press("Control+End")
    anna.keyboard.type("Typed while offline.")
    bert.keyboard.press("Control+End")
    bert.keyboard.type("Bert meanwhile.")
    wait_text(anna, "t.includes('Typed while offline.') && !t.includes('Bert meanwhile.')")
    anna.evaluate("window.plein.socket.connect()")
    for page in (anna, bert):
        wait_text(page, "t.includes('Typed while offline.') && t.includes('Bert meanwhile.') && t.includes('Online line.')")
    wait_text(bert, f"t === {json.dumps(note_text(anna))}")
    expect(anna.locator("#notes-status")).to_have_attribute("data-kind", "live")

    # Too large a paste is not sent; the page says so and keeps the text to copy.
    big = "groot " * 7000  # about 42 kB, over the default 32 kB per update
    anna.evaluate("""text => {
        const view = window.plein.notes.note.editor.view;
        view.dispatch({changes: {from: view.state.doc.length, insert: text}, userEvent: 'input.paste'});
    }""", big)
    expect(anna.locator("#notes-error")).to_contain_text("too large")
    assert anna.input_value("#notes-kept-text") == big
    assert "groot groot" not in note_text(anna)
    anna.locator("#notes-kept-dismiss").click()
    assert anna.locator("#notes-error-box").is_hidden()
    for watch in (anna_w, bert_w):
        assert [e for e in watch.errors if "external_api" not in e] == []


def test_the_page_keeps_to_the_server_limits(start_server, new_page):
    """With a slow rate and small updates configured, the page learns the limits from the join: a fast typist's
    text all arrives without being refused, and a paste over the (small) limit is kept on the page, not sent."""
    server = start_server(env={"PLEIN_NOTES_RATE": "4", "PLEIN_NOTES_MAX_UPDATE_BYTES": "2000",
                               "PLEIN_NOTES_MAX_NOTE_BYTES": "4000"})
    anna_w = new_page(viewport=LAPTOP)
    bert_w = new_page(viewport=PHONE)
    anna = choose_brainstorm(anna_w, server, "Anna")
    bert = choose_brainstorm(bert_w, server, "Bert")
    clock(server, "jump", phase="ronde-1")
    wait_live(anna)
    wait_live(bert)

    sentence = "Iedereen typt tegelijk en niets gaat verloren, ook niet bij vier berichten per seconde. "
    anna.locator("#notes .cm-content").click()
    anna.keyboard.type(sentence)  # about 90 keystrokes in well under a second each
    wait_text(bert, f"t === {json.dumps(sentence)}")
    assert anna.locator("#notes-error").inner_text() == ""  # never refused: the page merged its updates

    paste = "lang " * 500  # 2500 bytes: over this server's 2000
    anna.evaluate("""text => {
        const view = window.plein.notes.note.editor.view;
        view.dispatch({changes: {from: view.state.doc.length, insert: text}, userEvent: 'input.paste'});
    }""", paste)
    expect(anna.locator("#notes-error")).to_contain_text("te groot")
    expect(anna.locator("#notes-error")).to_contain_text("2 kB")
    assert anna.input_value("#notes-kept-text") == paste
    assert note_text(anna) == sentence
    # A smaller piece goes through.
    anna.keyboard.type("Kort stuk.")
    wait_text(bert, "t.endsWith('Kort stuk.')")
    anna.locator("#notes-kept-dismiss").click()

    # The note fills up (4000 bytes here): whichever side notices first (the page's estimate or the server's
    # count), the participant is told the notes are full, the text that did not fit is kept to copy, and both
    # pages still show the same, stored note.
    for i in range(12):
        anna.keyboard.insert_text(f" Deel {i:02d}: " + "vol " * 80)
        if anna.locator("#notes-kept").is_visible():
            break
    expect(anna.locator("#notes-error")).to_contain_text("vol", timeout=SYNC)
    assert "Deel" in anna.input_value("#notes-kept-text")

    def stored() -> str:
        return requests.get(server.api(f"/notes/{SESSION}.json"), headers={"Authorization": f"Bearer {MODERATOR_KEY}"},
                            timeout=5).json()["text"]

    for page in (anna, bert):  # the stored note no longer changes: only refused changes came after it
        page.wait_for_function("s => window.plein.notes.note && window.plein.notes.note.synced"
                               " && window.plein.notes.note.text === s", arg=stored(), timeout=SYNC)
    assert note_text(anna) == note_text(bert) == stored()
    assert "Deel 00" in stored() and len(stored().encode()) < 4000
    for watch in (anna_w, bert_w):
        assert [e for e in watch.errors if "external_api" not in e] == []
