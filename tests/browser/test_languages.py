"""Issue 10, item 12, in a real Chromium: a catalogue dropped into the translations folder is a language of the
pages (switch, server-rendered words, dates) and of the page scripts (plural forms through Intl.PluralRules)."""
from __future__ import annotations

import shutil

import pytest
from babel.messages.pofile import read_po, write_po

from rooms.i18n import PACKAGED
from support import LAPTOP, PHONE, SLUG, german_catalogues, shot

pytestmark = pytest.mark.browser

EVENING = """
[event]
slug = "{slug}"
title = "Buurtavond Oost"
timezone = "Europe/Amsterdam"
language = "nl"
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
  capacity = 1

  [[phases.sessions]]
  id = "groot"
  title = "Het grote gesprek"
  kind = "talk"
  capacity = 20
"""


@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["laptop", "phone"])
def test_a_new_catalogue_is_offered_and_spoken_by_pages_and_scripts(start_server, new_page, tmp_path, viewport):
    program = tmp_path / "buurtavond.toml"
    program.write_text(EVENING.format(slug=SLUG), encoding="utf-8")
    server = start_server("--program", str(program), env={"PLEIN_TRANSLATIONS": str(german_catalogues(tmp_path))})
    watch = new_page(viewport=viewport)
    page = watch.page
    page.goto(f"{server.url}/e/{SLUG}")
    switch = page.locator("nav.lang-switch a")
    assert switch.evaluate_all("links => links.map(a => a.getAttribute('hreflang'))") == ["nl", "de", "en"]
    page.get_by_role("link", name="Deutsch").click()
    page.wait_for_function("document.documentElement?.lang === 'de'")
    assert page.locator("nav.lang-switch").get_attribute("aria-label") == "Sprache"
    assert page.locator(".event-meta__date").inner_text() == "Montag, 17. Januar 2022"
    assert page.locator(".session__places").first.inner_text() == "noch 1 Platz"  # the first session: klein
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= viewport["width"]
    shot(page, f"languages-de-event-{'phone' if viewport == PHONE else 'laptop'}")

    page.fill("input[name=name]", "Bram")
    page.locator("form[action$='/join'] button[type=submit]").click()
    page.wait_for_load_state()
    page.goto(f"{server.url}/e/{SLUG}/choose")  # the choice page, drawn by choose.js from config.strings
    page.locator(".round-choice").first.wait_for()
    assert "noch 1 Platz" in page.locator("[data-round=gesprek] [data-session=klein]").inner_text()
    assert "noch 20 Plätze" in page.locator("[data-round=gesprek] [data-session=groot]").inner_text()
    assert watch.errors == []


def test_a_regional_catalogue_is_named_in_bcp47_for_the_browser(start_server, new_page, tmp_path):
    """Catalogue folders are gettext locales (pt_BR); HTML and Intl want BCP 47 (pt-BR): the page says pt-BR, the
    switch still asks for ?lang=pt_BR, and the page scripts' plurals and clock work in it."""
    directory = tmp_path / "translations"
    shutil.copytree(PACKAGED, directory)
    with (PACKAGED / "en" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalog = read_po(fh, locale="pt_BR")
    catalog.locale = "pt_BR"
    catalog.get(("nog {n} plaats", "nog {n} plaatsen"), context="places_left").string = (
        "resta {n} vaga", "restam {n} vagas")
    (directory / "pt_BR" / "LC_MESSAGES").mkdir(parents=True)
    with (directory / "pt_BR" / "LC_MESSAGES" / "messages.po").open("wb") as fh:
        write_po(fh, catalog, width=0)
    program = tmp_path / "buurtavond.toml"
    program.write_text(EVENING.format(slug=SLUG), encoding="utf-8")
    server = start_server("--program", str(program), env={"PLEIN_TRANSLATIONS": str(directory)})
    watch = new_page(viewport=PHONE)
    page = watch.page
    page.goto(f"{server.url}/e/{SLUG}")
    link = page.locator("nav.lang-switch a[hreflang=pt-BR]")
    assert link.get_attribute("href").endswith("?lang=pt_BR") and link.get_attribute("title") == "Português (Brasil)"
    assert link.locator("[aria-hidden=true]").inner_text() == "PT-BR"
    link.click()
    page.wait_for_function("document.documentElement?.lang === 'pt-BR'")
    page.fill("input[name=name]", "Bram")
    page.locator("form[action$='/join'] button[type=submit]").click()
    page.wait_for_load_state()
    page.goto(f"{server.url}/e/{SLUG}/choose")
    page.locator(".round-choice").first.wait_for()
    assert "resta 1 vaga" in page.locator("[data-round=gesprek] [data-session=klein]").inner_text()
    assert "restam 20 vagas" in page.locator("[data-round=gesprek] [data-session=groot]").inner_text()
    assert watch.errors == []
