"""Plein's words in gettext catalogues (Babel): which languages there are, a message in one of them, plurals,
dates and times.

The source language is Dutch: every message is written in Dutch in the code (`M("key", "tekst")`,
`P("key", "enkelvoud", "meervoud")`), with a stable key as its gettext context (msgctxt), so templates and page
scripts keep addressing it by key and two keys with the same Dutch text can be translated apart. Every other
language is a catalogue, rooms/translations/<lang>/LC_MESSAGES/messages.po, read as it is (no compiled .mo to
build or commit): dropping in a new one is all it takes for the language to be offered.
"""
from __future__ import annotations

import os
from datetime import date, datetime
from functools import lru_cache
from io import BytesIO
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_skeleton
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

SOURCE = "nl"  # the language the messages are written in
DOMAIN = "messages"
PACKAGED = Path(__file__).with_name("translations")


def M(key: str, text: str) -> tuple[str, str]:
    """A message: its key (the gettext context) and its Dutch text (the msgid). Marks it for `pybabel extract`."""
    return key, text


def P(key: str, singular: str, plural: str) -> tuple[str, tuple[str, str]]:
    """A message with plural forms, chosen by its `{n}`."""
    return key, (singular, plural)


def translations_dir() -> Path:
    """Where the catalogues are: the package's own, or PLEIN_TRANSLATIONS (a copy with more languages)."""
    return Path(os.environ.get("PLEIN_TRANSLATIONS") or PACKAGED)


@lru_cache(maxsize=4)
def _catalogues(directory: str) -> dict[str, Translations]:
    """Every <lang>/LC_MESSAGES/messages.po under `directory`, compiled in memory (fuzzy entries left out, as
    msgfmt does). Read once per process: the catalogues are part of the installed code, not state."""
    found: dict[str, Translations] = {}
    for po in sorted(Path(directory).glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        lang = po.parent.parent.name
        try:
            Locale.parse(lang)
        except (ValueError, UnknownLocaleError):
            continue  # not a language Babel knows: nothing it could format dates or plurals for
        with po.open("rb") as fh:
            catalog = read_po(fh, locale=lang, domain=DOMAIN)
        mo = BytesIO()
        write_mo(mo, catalog)
        mo.seek(0)
        found[lang] = Translations(mo, domain=DOMAIN)
    return found


def languages() -> tuple[str, ...]:
    """The languages Plein speaks: Dutch, then every catalogue in alphabetical order."""
    return (SOURCE, *sorted(lang for lang in _catalogues(str(translations_dir())) if lang != SOURCE))


def _translations(lang: str) -> NullTranslations:
    return _catalogues(str(translations_dir())).get(lang) or NullTranslations()


def gettext(lang: str, key: str, text: str) -> str:
    """`text` (Dutch, the message `key`) in `lang`; the Dutch text when the catalogue lacks it."""
    return _translations(lang).pgettext(key, text)


def ngettext(lang: str, key: str, singular: str, plural: str, n: int) -> str:
    """The form of a plural message for the number `n`, in `lang`."""
    return _translations(lang).npgettext(key, singular, plural, n)


def plural_forms(lang: str, key: str, singular: str, plural: str) -> dict[str, str]:
    """A plural message as the page scripts need it: CLDR category (one, few, many, other...) -> text, for
    Intl.PluralRules in the browser. Each category's text is the catalogue's form for the first number of it,
    counting from 1 (0 last: it is "one" in some languages, which a catalogue's Plural-Forms may not agree on)."""
    rule = Locale.parse(lang).plural_form
    forms: dict[str, str] = {}
    for n in [*range(1, 200), 0]:
        category = rule(n)
        if category not in forms:
            forms[category] = ngettext(lang, key, singular, plural, n)
        if len(forms) == len(rule.tags | {"other"}):
            break
    return forms


class Plural:
    """A plural message in a template: `t.key.format(n=3, ...)` or `t.key(3, ...)`."""

    def __init__(self, lang: str, key: str, singular: str, plural: str):
        self.lang, self.key, self.singular, self.plural = lang, key, singular, plural

    def format(self, n: int, **params) -> str:
        return ngettext(self.lang, self.key, self.singular, self.plural, n).format(n=n, **params)

    def __call__(self, n: int, **params) -> str:
        return self.format(n, **params)


class Words(dict):
    """key -> translated text (or Plural), for templates; `for_script()` is the JSON for the page scripts."""

    lang = SOURCE

    def for_script(self) -> dict[str, str | dict[str, str]]:
        return {key: (plural_forms(self.lang, key, value.singular, value.plural) if isinstance(value, Plural)
                      else value) for key, value in self.items()}


@lru_cache(maxsize=32)
def _words(directory: str, lang: str, table_items: tuple) -> Words:
    """Translated once per catalogue folder, language and table (templates ask for it on every page)."""
    out = Words()
    out.lang = lang
    for key, text in table_items:
        out[key] = Plural(lang, key, *text) if isinstance(text, tuple) else gettext(lang, key, text)
    return out


def words(table: dict, lang: str) -> Words:
    """A message table (key -> Dutch text or (singular, plural)) in `lang`."""
    if lang not in languages():
        lang = SOURCE
    return _words(str(translations_dir()), lang, tuple(table.items()))


def locale_name(lang: str) -> str:
    """The language's name in itself, as the language switch shows it ("Nederlands", "English", "Deutsch")."""
    name = Locale.parse(lang).get_display_name(lang) or lang
    return name[:1].upper() + name[1:]


def bcp47(lang: str) -> str:
    """The language as HTML and the browser's Intl name it: a catalogue's pt_BR is pt-BR."""
    return lang.replace("_", "-")


def long_date(day: date, lang: str) -> str:
    """The date written out in the language's own way: "dinsdag 1 december 2026", "Tuesday, December 1, 2026"."""
    return format_date(day, "full", locale=lang)


def clock_time(moment: datetime | str, lang: str, timezone: str) -> str:
    """Hours and minutes (24-hour clock) of a moment in the evening's time zone, in the language's notation."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return format_skeleton("Hm", moment, tzinfo=ZoneInfo(timezone), locale=lang)
