"""Choosing a session per round in a real Chromium: the choose page, a full session, switching mid-round,
"Mijn avond" with its calendar files, and the moderator's rounds card with the lock.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import requests
from icalendar import Calendar

from support import LAPTOP, MODERATOR_KEY, PHONE, SLUG, join_to_choose, shot


pytestmark = pytest.mark.browser

# Chromium logs every 4xx answer of a fetch as this line; a test that provokes one on purpose filters exactly it.
REFUSED_409 = "Failed to load resource: the server responded with a status of 409"

SMALL_EVENING = """
[event]
slug = "{slug}"
title = "Buurtavond Oost"
timezone = "Europe/Amsterdam"
date = 2022-01-17

[[phases]]
id = "welkom"
kind = "plenary"
title = "Welkom"
start = "19:00"
end = "19:15"

[[phases]]
id = "gesprek"
kind = "round"
title = "Gespreksronde"
start = "19:15"
end = "20:00"

  [[phases.sessions]]
  id = "klein"
  title = "Het kleine gesprek"
  kind = "talk"
  capacity = {small}
  hosts = ["Mira Jansen"]
  description = "Aan een kleine tafel over het buurthuis."

  [[phases.sessions]]
  id = "groot"
  title = "Het grote gesprek"
  kind = "brainstorm"
  capacity = {large}
  hosts = ["Sem de Boer", "Noor Bakker"]
  description = "Ideeën voor het plein, met iedereen."
"""


def small_evening(tmp_path, small: int = 1, large: int = 20) -> str:
    path = tmp_path / "buurtavond.toml"
    path.write_text(SMALL_EVENING.format(slug=SLUG, small=small, large=large), encoding="utf-8")
    return str(path)


def save(page):
    page.locator("#choose-save").click()
    page.wait_for_url(f"**/e/{SLUG}/live")
    page.wait_for_function("window.plein && window.plein.state")


def me(page, server) -> dict:
    """GET participants/me with the page's own cookie."""
    return page.request.get(server.api("/participants/me")).json()


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def download(page, selector: str) -> Calendar:
    with page.expect_download() as info:
        page.locator(selector).click()
    return Calendar.from_ical(Path(info.value.path()).read_bytes())


CHOICES = {
    "ronde-1": ("toolkit-energietransitie", "Toolkit voor een coöperatieve energietransitie"),
    "ronde-2": ("fondsen-financiering", "Coöperatieve fondsen en financiering"),
    "ronde-3": ("incubator", "Brainstorm – De Amsterdamse coöperatieven incubator"),
}


def test_choices_are_kept_shown_in_my_evening_and_in_the_calendar(server, new_page):
    watch = new_page(viewport=LAPTOP)
    page = join_to_choose(watch.page, server, "Anna de Vries")
    assert page.locator("h1").inner_text() == "Kies je sessies"
    # Every round, its time, its sessions with places left, and "no preference" selected to begin with.
    assert page.locator("fieldset.round-choice").count() == 4
    first = page.locator("[data-round=ronde-1]")
    assert first.locator("legend time").all_inner_texts() == ["17:15", "18:15"]
    assert "Break-out sessies ronde I" in first.locator("legend").inner_text()
    assert "nog 200 plaatsen" in first.inner_text()
    assert "brainstorm" in first.locator("[data-session=cooperatieve-tech]").inner_text()
    assert page.is_checked("#opt-ronde-1__none")
    for round_id, (session_id, _title) in CHOICES.items():
        page.check(f"#opt-{round_id}-{session_id}")
    shot(page, "choose-laptop")
    save(page)
    assert me(page, server)["choices"] == {r: s for r, (s, _t) in CHOICES.items()}

    page.goto(f"{server.url}/e/{SLUG}/choose")  # the choices are kept
    page.locator(".round-choice").first.wait_for()
    for round_id, (session_id, _title) in CHOICES.items():
        assert page.is_checked(f"#opt-{round_id}-{session_id}")
    assert page.is_checked("#opt-in-beeld__none")
    # One seat taken by us: one place fewer.
    assert "nog 199 plaatsen" in page.locator("[data-round=ronde-1] [data-session=toolkit-energietransitie]").inner_text()

    page.locator("#choose-later").click()
    page.wait_for_url(f"**/e/{SLUG}/live")
    page.wait_for_function("window.plein && window.plein.state")
    mine = page.locator("#mine")
    for _round_id, (_session_id, title) in CHOICES.items():
        assert mine.locator(".program__where", has_text=title).count() == 1
    assert "Nog niet gekozen" in mine.locator("[data-phase=in-beeld]").inner_text()
    assert "Plenaire zaal" in mine.locator("[data-phase=opening]").inner_text()
    assert "Pauze (foyer)" in mine.locator("[data-phase=pauze-1700]").inner_text()
    assert page.locator("#mine-change").is_visible()
    shot(page, "live-mine-laptop")

    phases = requests.get(server.api(""), timeout=5).json()["phases"]
    personal = download(page, "#mine-ics")
    events = {str(e["UID"]): e for e in personal.walk("VEVENT")}
    assert len(events) == len(phases)
    for phase in phases:
        assert f"{SLUG}-{phase['id']}-mine@plein" in events
    for round_id, (_session_id, title) in CHOICES.items():
        assert title in str(events[f"{SLUG}-{round_id}-mine@plein"]["SUMMARY"])

    program = download(page, "#program-ics")
    summaries = [str(e["SUMMARY"]) for e in program.walk("VEVENT")]
    assert summaries == [p["title"] for p in phases]

    page.locator("#tab-program").click()  # the whole program, own sessions marked
    assert page.locator("#panel-program").is_visible() and page.locator("#panel-mine").is_hidden()
    assert page.locator("#program .session.is-mine").count() == 3
    assert watch.errors == []


def test_a_full_session_offers_the_others(start_server, new_page, tmp_path):
    server = start_server("--program", small_evening(tmp_path, small=1, large=20))
    watch = new_page(viewport=PHONE)
    page = join_to_choose(watch.page, server, "Bram")
    klein = page.locator("[data-round=gesprek] [data-session=klein]")
    assert "nog 1 plaats" in klein.inner_text()
    assert "Gespreksleider: Mira Jansen" in klein.inner_text()
    assert "Gespreksleiders: Sem de Boer, Noor Bakker" in page.locator("[data-session=groot]").inner_text()
    shot(page, "choose-phone")

    # Someone else takes the last place while this page is open.
    other = server.join("Piet")
    resp = requests.put(server.api("/participants/me/choices"), json={"gesprek": "klein"},
                        headers=bearer(other["token"]), timeout=5)
    assert resp.status_code == 200, resp.text

    page.check("#opt-gesprek-klein")
    page.locator("#choose-save").click()
    box = page.locator("#round-gesprek-error")
    box.wait_for()
    assert "Het kleine gesprek" in box.get_by_role("alert").inner_text() and "vol" in box.inner_text()
    assert "nog niet opgeslagen" in page.locator("#choose-error").inner_text()
    assert page.url.endswith("/choose")
    # The places were fetched again: the small session is full now and cannot be picked.
    klein.locator(".option__places", has_text="vol").wait_for()
    assert page.is_disabled("#opt-gesprek-klein")
    suggestion = box.get_by_role("button", name="Het grote gesprek")
    assert "nog 20 plaatsen" in suggestion.inner_text()
    box.scroll_into_view_if_needed()
    shot(page, "choose-full-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    suggestion.click()
    assert page.is_checked("#opt-gesprek-groot")
    assert page.locator("#round-gesprek-error").count() == 0
    save(page)
    assert me(page, server)["choices"] == {"gesprek": "groot"}
    assert [e for e in watch.errors if not e.startswith(REFUSED_409)] == []
    assert len(watch.errors) == 1


def test_switching_session_during_a_round(server, new_page, fake_jitsi):
    watch = new_page(viewport=LAPTOP)
    page = join_to_choose(watch.page, server, "Chris")
    page.check("#opt-in-beeld-wonen-energie")
    save(page)
    assert page.locator("#switch").is_hidden()  # nothing runs yet

    server.clock("start")
    page.wait_for_function("window.plein.roomName && window.plein.roomName.includes('-wonen-energie-')")
    first = page.evaluate("window.plein.roomName")
    switch = page.locator("#switch")
    switch.wait_for()
    switch.locator("summary").click()
    page.locator("#switch-select option[value=voedsel-zorg]").wait_for(state="attached")
    assert page.locator("#switch-select option").count() == 1  # only the other session
    assert "nog 300 plaatsen" in page.locator("#switch-select option").inner_text()
    shot(page, "live-switch-laptop")

    page.select_option("#switch-select", "voedsel-zorg")
    page.locator("#switch-button").click()
    # The server moves the page with a new `state`; the page itself does not navigate.
    page.wait_for_function("window.plein.roomName && window.plein.roomName.includes('-voedsel-zorg-')")
    assert page.url.endswith("/live")
    old, new = fake_jitsi.wait_load("Chris"), fake_jitsi.wait_load("Chris", 2)
    assert old["room"] == first and new["room"] == page.evaluate("window.plein.roomName")
    # The old room was hung up as the new one opened, and its frame is gone.
    fake_jitsi.wait_for(lambda f: [h for h in f.hangups if h["id"] == old["id"] and h["source"] == "command"])
    page.wait_for_function("document.querySelectorAll('#jitsi iframe').length === 1")
    assert page.locator("#jitsi iframe").get_attribute("src") == new["url"]
    assert len(fake_jitsi.loads) == 2
    assert page.locator("#room-title").inner_text() == "Voedsel- & Zorgcoöperatieven"
    page.locator("#switch-status").wait_for(state="hidden")
    assert "Voedsel- & Zorgcoöperatieven" in page.locator("#mine [data-phase=in-beeld]").inner_text()
    assert me(page, server)["placements"]["in-beeld"] == "voedsel-zorg"
    assert watch.errors == []


def test_plein_places_whoever_did_not_choose_and_my_evening_shows_it(server, new_page):
    watch = new_page(viewport=PHONE)
    page = join_to_choose(watch.page, server, "Dana")
    page.locator("#choose-later").click()
    page.wait_for_url(f"**/e/{SLUG}/live")
    page.wait_for_function("window.plein && window.plein.state")
    assert "Nog niet gekozen" in page.locator("#mine [data-phase=in-beeld]").inner_text()
    server.clock("start")
    page.wait_for_function("window.plein.roomName")
    title = page.evaluate("window.plein.state.room.session.title")
    page.wait_for_function("window.plein.me.placements['in-beeld']")  # `me` fetched again after the new phase
    assert title in page.locator("#mine [data-phase=in-beeld]").inner_text()
    page.locator("#mine").scroll_into_view_if_needed()
    shot(page, "live-mine-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert watch.errors == []


def test_moderator_sees_the_counts_and_locks_a_round(server, new_page):
    watch = new_page()
    page = join_to_choose(watch.page, server, "Eva")
    page.check("#opt-ronde-1-toolkit-energietransitie")
    save(page)

    mod_watch = new_page()
    mod = mod_watch.page
    mod.goto(f"{server.url}/e/{SLUG}/moderator?key={MODERATOR_KEY}")
    row = mod.locator("[data-round=ronde-1] tr[data-session=toolkit-energietransitie]")
    row.wait_for()
    cells = row.locator("td")
    # capacity, chosen, placed, connected (Eva's live page is connected)
    assert [cells.nth(i).inner_text() for i in range(4)] == ["200", "1", "0", "1"]
    assert mod.locator("[data-round=ronde-1] thead").inner_text().split() == [
        "Sessie", "Capaciteit", "Gekozen", "Ingedeeld", "Verbonden"]

    # A second participant chooses: the card follows by itself (every 5 s).
    other = server.join("Femke")
    requests.put(server.api("/participants/me/choices"), json={"ronde-1": "toolkit-energietransitie"},
                 headers=bearer(other["token"]), timeout=5).raise_for_status()
    mod.wait_for_function(
        "document.querySelector('[data-round=ronde-1] tr[data-session=toolkit-energietransitie] td:nth-child(3)')"
        ".textContent === '2'", timeout=8000)

    # Eva opens the choose page; then the moderator locks round III.
    page.goto(f"{server.url}/e/{SLUG}/choose")
    page.locator(".round-choice").first.wait_for()
    mod.locator("label[for=lock-ronde-3]").click()
    mod.locator("#rounds-ok").wait_for()
    assert mod.is_checked("#lock-ronde-3")
    rounds = requests.get(server.api("/rounds"), headers=bearer(MODERATOR_KEY), timeout=5).json()["rounds"]
    assert [r["locked"] for r in rounds] == [False, False, False, True]
    mod.locator(".mod-rounds").scroll_into_view_if_needed()
    shot(mod, "moderator-rounds-laptop")

    # Her stale page still offers round III: saving is refused, and the round turns read-only.
    page.check("#opt-ronde-3-overwaarde")
    page.locator("#choose-save").click()
    page.locator("[data-round=ronde-3][data-readonly=true]").wait_for()
    assert "liggen vast" in page.locator("#round-ronde-3-error").inner_text()  # said next to that round
    assert "niet opgeslagen" in page.locator("#choose-error").inner_text()
    assert page.url.endswith("/choose")
    # The API refuses it too (a write with her cookie, sent as her page would: with its Origin); the other
    # rounds can still be chosen.
    resp = page.request.put(server.api("/participants/me/choices"), data={"ronde-3": "incubator"},
                            headers={"Origin": server.url})
    assert resp.status == 409 and resp.json()["error"]["code"] == "choices_locked"
    page.check("#opt-ronde-2-samensturing")
    save(page)
    assert me(page, server)["choices"] == {"ronde-1": "toolkit-energietransitie", "ronde-2": "samensturing"}

    page.goto(f"{server.url}/e/{SLUG}/choose")  # after a reload: read-only from the start
    assert page.locator("[data-round=ronde-3][data-readonly=true]").is_visible()
    assert page.locator("input[name=round-ronde-3]").count() == 0

    mod.locator("label[for=lock-ronde-3]").click()  # and open again
    mod.wait_for_function("!document.querySelector('#lock-ronde-3').checked && document.querySelector('#rounds-ok').textContent")
    assert "weer open" in mod.locator("#rounds-ok").inner_text()
    assert [e for e in watch.errors if not e.startswith(REFUSED_409)] == []
    assert mod_watch.errors == []


def test_moderator_is_warned_when_plein_overfills_a_session(start_server, new_page, tmp_path):
    server = start_server("--program", small_evening(tmp_path, small=1, large=1))
    for name in ("Gijs", "Hanna", "Ilse"):  # three people, two places, nobody chose
        server.join(name)
    mod_watch = new_page()
    mod = mod_watch.page
    mod.goto(f"{server.url}/e/{SLUG}/moderator?key={MODERATOR_KEY}")
    mod.locator("[data-round=gesprek]").wait_for()
    server.clock("start")
    server.clock("advance")  # into the round: Plein places everyone, one of them over capacity
    banner = mod.locator("#overflow-banner")
    banner.wait_for()
    assert banner.inner_text().startswith("Gespreksronde: 1 deelnemer ingedeeld in een volle sessie")
    mod.wait_for_function(
        "[...document.querySelectorAll('[data-round=gesprek] tfoot td')].map(td => td.textContent).join(',') === '2,0,3,0'")
    shot(mod, "moderator-overflow-laptop")
    mod.locator("#overflow-close").click()
    assert banner.is_hidden()
    assert mod_watch.errors == []
