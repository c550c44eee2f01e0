"""Issue 10, item 12: the words in gettext catalogues. The code's messages (extracted as `pybabel extract` does,
with babel.cfg) and every language's .po match; a new .po is all a new language needs; plurals and dates
come from Babel."""
from __future__ import annotations

import json
import re
import shutil
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from babel.messages.pofile import read_po, write_po

from rooms.i18n import PACKAGED, clock_time, long_date, ngettext, words
from server.catalogues import problems
from support import german_catalogues

ROOT = Path(__file__).resolve().parent.parent.parent
EN_PO = PACKAGED / "en" / "LC_MESSAGES" / "messages.po"
EVENT = "/e/cooperatieve-stad-2022"


def test_every_language_has_every_message_of_the_code_and_no_other():
    assert problems() == []


def edited_copy(tmp_path: Path, edit) -> Path:
    """The catalogues copied to tmp_path, the English one changed by `edit(catalog)`."""
    directory = tmp_path / "translations"
    shutil.copytree(PACKAGED, directory)
    po = directory / "en" / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as fh:
        catalog = read_po(fh, locale="en")
    edit(catalog)
    with po.open("wb") as fh:
        write_po(fh, catalog, width=0)
    return directory


@pytest.mark.parametrize("edit, complaint", [
    (lambda c: c.delete("Taal", context="lang_label"), "'lang_label' is missing"),
    (lambda c: setattr(c.get("Taal", context="lang_label"), "string", ""), "'lang_label' is not translated"),
    (lambda c: c.get("Taal", context="lang_label").flags.add("fuzzy"), "'lang_label' is fuzzy"),
    (lambda c: c.add("Niemand gebruikt dit", "Nobody uses this", context="stale_key"), "'stale_key' is not used"),
    (lambda c: setattr(c.get(("nog {n} plaats", "nog {n} plaatsen"), context="places_left"), "string",
                       ("{n} place left", "")), "'places_left' is not translated"),
    (lambda c: setattr(c.get("Foutcode {status}", context="error_status"), "string", "Error {code}"),
     "'error_status' uses placeholders"),
])
def test_a_missing_fuzzy_untranslated_or_unused_message_is_found(tmp_path, edit, complaint):
    found = problems(edited_copy(tmp_path, edit))
    assert any(p.startswith("en: ") and complaint in p for p in found), found


def test_a_message_added_to_the_code_is_missing_until_extracted_into_the_catalogues(tmp_path):
    """The check extracts from the code itself: a message in the code but in no .po fails it."""
    from server import catalogues
    directory = tmp_path / "translations"
    shutil.copytree(PACKAGED, directory)
    (directory / "en" / "LC_MESSAGES" / "messages.po").write_text(
        EN_PO.read_text(encoding="utf-8").split('msgctxt "site_name"', 1)[0], encoding="utf-8")
    found = catalogues.problems(directory)
    assert "en: 'site_name' is missing ('Plein')" in found


def test_plurals_follow_the_language():
    assert ngettext("nl", "places_left", "nog {n} plaats", "nog {n} plaatsen", 1) == "nog {n} plaats"
    nl, en = words({"places_left": ("nog {n} plaats", "nog {n} plaatsen")}, "nl"), words(
        {"places_left": ("nog {n} plaats", "nog {n} plaatsen")}, "en")
    assert [nl["places_left"].format(n=n) for n in (1, 3)] == ["nog 1 plaats", "nog 3 plaatsen"]
    assert [en["places_left"].format(n=n) for n in (1, 0)] == ["1 place left", "0 places left"]
    assert en.for_script()["places_left"] == {"one": "{n} place left", "other": "{n} places left"}


def test_dates_and_times_are_babels_in_the_evenings_time_zone():
    assert long_date(date(2026, 12, 1), "nl") == "dinsdag 1 december 2026"
    assert long_date(date(2026, 12, 1), "en") == "Tuesday, December 1, 2026"
    moment = datetime(2026, 12, 1, 18, 30, tzinfo=timezone.utc)
    assert clock_time(moment, "nl", "Europe/Amsterdam") == "19:30"
    assert clock_time(moment.isoformat(), "en", "Europe/Amsterdam") == "19:30"


def config_of(html: str) -> dict:
    return json.loads(html.split('id="plein-config">', 1)[1].split("</script>", 1)[0])


def test_the_page_scripts_get_the_catalogue_with_its_plurals(app):
    c = app.test_client()
    c.post(EVENT + "/join", data={"name": "Anna"})
    strings = config_of(c.get(EVENT + "/live?lang=en").get_data(as_text=True))["strings"]
    assert strings["lang_label"] == "Language"
    assert strings["cards_votes"] == {"one": "{n} vote", "other": "{n} votes"}
    assert not [key for key in strings if key.endswith("_one")]


def used_keys() -> set[str]:
    """The keys the templates (`t.key`) and page scripts (`tr("key"`) name literally."""
    keys = set()
    for template in (ROOT / "web" / "templates").glob("*.html"):
        keys |= set(re.findall(r"\bt\.(\w+)", template.read_text(encoding="utf-8")))
    for script in (ROOT / "web" / "static").glob("*.js"):
        keys |= set(re.findall(r"""\btr\(\s*["'](\w+)["']""", script.read_text(encoding="utf-8")))
    return keys


def test_every_key_the_templates_and_scripts_name_is_a_message():
    from server.i18n import PAGE
    assert used_keys() - set(PAGE) == set()


def test_a_new_catalogue_is_a_new_language(app, tmp_path, monkeypatch):
    """A translator adds de/LC_MESSAGES/messages.po (here: the English one with a German header and two
    messages translated) and nothing else: German is in the language switch, its pages and its scripts' strings
    are German where translated, its dates are German, and an evening may be German."""
    directory = german_catalogues(tmp_path)
    c = app.test_client()
    assert 'hreflang="de"' not in c.get(EVENT).get_data(as_text=True)

    monkeypatch.setenv("PLEIN_TRANSLATIONS", str(directory))
    dutch = c.get(EVENT).get_data(as_text=True)
    switch = dutch.split('class="lang-switch"', 1)[1].split("</nav>", 1)[0]
    assert re.findall(r'hreflang="(\w+)"', switch) == ["nl", "de", "en"]
    assert 'title="Deutsch"' in switch
    german = c.get(EVENT + "?lang=de").get_data(as_text=True)
    assert '<html lang="de"' in german and 'aria-label="Sprache"' in german
    assert re.search(r'session__places">noch \d+ Plätze<', german)
    assert "Montag, 17. Januar 2022" in german
    c.post(EVENT + "/join", data={"name": "Anna"})
    strings = config_of(c.get(EVENT + "/live").get_data(as_text=True))["strings"]  # the switch is remembered
    assert strings["lang_label"] == "Sprache"
    assert strings["places_left"] == {"one": "noch {n} Platz", "other": "noch {n} Plätze"}

    from rooms.program import load_program
    from support import SEED
    german_evening = tmp_path / "avond.toml"
    german_evening.write_text(SEED.read_text(encoding="utf-8").replace('language = "nl"', 'language = "de"'),
                              encoding="utf-8")
    assert load_program(german_evening).language == "de"


@pytest.mark.parametrize("query, said, unsaid", [
    ("", "Nog geen sessie gekozen", "No session chosen"),
    ("?lang=en", "No session chosen", "Nog geen sessie gekozen"),
])
def test_the_personal_calendar_speaks_the_pages_language_only(client, query, said, unsaid):
    from icalendar import Calendar
    client.post("/api/events/cooperatieve-stad-2022/participants", json={"name": "Eva"})
    ics = client.get("/api/events/cooperatieve-stad-2022/participants/me/calendar.ics" + query)
    descriptions = " ".join(str(e.get("DESCRIPTION", "")) for e in Calendar.from_ical(ics.data).walk("VEVENT"))
    assert said in descriptions and unsaid not in descriptions


def test_an_unexpected_socket_failure_is_said_in_the_connections_language():
    from rooms.errors import PleinError
    assert PleinError("server_error", 500).message("nl") == "Er ging iets mis op de server."
    assert PleinError("server_error", 500).message("en") == "Something went wrong on the server."


def test_plein_translations_check_says_the_catalogues_are_complete(capsys, tmp_path, monkeypatch):
    from server.cli import main
    assert main(["translations", "check"]) == 0
    assert "Every catalogue is complete." in capsys.readouterr().out
    monkeypatch.setenv("PLEIN_TRANSLATIONS", str(edited_copy(tmp_path, lambda c: c.delete("Taal", context="lang_label"))))
    assert main(["translations", "check"]) == 1
    assert "en: 'lang_label' is missing" in capsys.readouterr().err


def test_a_push_to_sockets_of_every_language_says_it_in_each(tmp_path, monkeypatch):
    """notes:state reaches every socket of a note at once: its message is in every language, Dutch first."""
    from server.notes import both
    dutch = "De sessie is voorbij: de notities en ideeën zijn nu alleen te lezen."
    english = "The session is over: the notes and ideas are now read-only."
    assert both("notes_closed") == f"{dutch} / {english}"
    directory = tmp_path / "translations"
    shutil.copytree(PACKAGED, directory)
    with EN_PO.open("rb") as fh:
        catalog = read_po(fh, locale="de")
    catalog.locale = "de"
    catalog.get(dutch, context="notes_closed").string = "Die Sitzung ist vorbei."
    (directory / "de" / "LC_MESSAGES").mkdir(parents=True)
    with (directory / "de" / "LC_MESSAGES" / "messages.po").open("wb") as fh:
        write_po(fh, catalog, width=0)
    monkeypatch.setenv("PLEIN_TRANSLATIONS", str(directory))
    assert both("notes_closed") == f"{dutch} / Die Sitzung ist vorbei. / {english}"


def test_no_key_is_written_twice():
    """`dict([...])` keeps the last of two entries with one key: the invitation kit's title once turned into the
    live page's 'Kies alvast: …' that way. Every key is written once in the code."""
    for path in (ROOT / "server" / "i18n.py", ROOT / "rooms" / "errors.py"):
        keys = re.findall(r'^\s*[MP]\("([^"]+)"', path.read_text(encoding="utf-8"), re.M)
        assert keys, path
        twice = sorted({k for k in keys if keys.count(k) > 1})
        assert twice == [], f"{path.name}: {twice}"
