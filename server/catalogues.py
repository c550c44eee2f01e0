"""The catalogues' upkeep for developers: extract the messages from the code (babel.cfg), bring every
rooms/translations/<lang>/LC_MESSAGES/messages.po up to date, start a new language, and list what is missing.

The same `pybabel` commands the README names, run through Babel's own command line; `plein translations ...`
saves remembering the keywords. Translators need none of it: they edit a .po with Poedit or Weblate.
"""
from __future__ import annotations

import re
import tempfile
from pathlib import Path

from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

from rooms.i18n import DOMAIN, translations_dir

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = ["--no-default-keywords", "-k", "M:1c,2", "-k", "P:1c,2,3"]
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def pybabel(*args: str) -> None:
    CommandLineInterface().run(["pybabel", "-q", *args])


def extract(pot: Path) -> Path:
    """Every message of the code into `pot` (what `pybabel extract -F babel.cfg ...` does)."""
    pybabel("extract", "-F", str(ROOT / "babel.cfg"), *KEYWORDS, "--no-location", "--no-wrap",
            "--sort-by-file", "--project", "Plein", "-o", str(pot), str(ROOT))
    return pot


def update(directory: Path | None = None) -> None:
    """Add new messages to every catalogue (as untranslated, or fuzzy when one looks like an old message),
    drop messages the code no longer has."""
    with tempfile.TemporaryDirectory() as tmp:
        pot = extract(Path(tmp) / f"{DOMAIN}.pot")
        pybabel("update", "-i", str(pot), "-d", str(directory or translations_dir()), "-D", DOMAIN,
                "--no-wrap", "--ignore-obsolete")


def new(lang: str, directory: Path | None = None) -> Path:
    """Start a catalogue for `lang` with every message untranslated (Poedit's "New from POT" does the same)."""
    directory = directory or translations_dir()
    with tempfile.TemporaryDirectory() as tmp:
        pot = extract(Path(tmp) / f"{DOMAIN}.pot")
        pybabel("init", "-i", str(pot), "-d", str(directory), "-D", DOMAIN, "-l", lang, "--no-wrap")
    return directory / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def _ids(message) -> tuple:
    return message.id if isinstance(message.id, tuple) else (message.id,)


def problems(directory: Path | None = None) -> list[str]:
    """What keeps the catalogues from matching the code: a message missing, untranslated or fuzzy in some
    language, one no longer in the code, or a translation whose {placeholders} differ from the Dutch."""
    directory = directory or translations_dir()
    with tempfile.TemporaryDirectory() as tmp:
        with extract(Path(tmp) / f"{DOMAIN}.pot").open("rb") as fh:
            template = read_po(fh)
    wanted = {(m.context, m.id if isinstance(m.id, str) else m.id[0]): m for m in template if m.id}
    found: list[str] = []
    for po in sorted(directory.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        lang = po.parent.parent.name
        with po.open("rb") as fh:
            catalog = read_po(fh, locale=lang)
        have = {(m.context, m.id if isinstance(m.id, str) else m.id[0]): m for m in catalog if m.id}
        for key, source in wanted.items():
            m = have.get(key)
            strings = [] if m is None else (list(m.string) if isinstance(m.string, tuple) else [m.string])
            if m is None:
                found.append(f"{lang}: '{key[0]}' is missing ({key[1]!r})")
            elif m.fuzzy:
                found.append(f"{lang}: '{key[0]}' is fuzzy: check it and clear the flag")
            elif _ids(m) != _ids(source):
                found.append(f"{lang}: '{key[0]}' has other plural forms than the code")
            elif not all(s.strip() for s in strings) or len(strings) < (catalog.num_plurals if m.pluralizable else 1):
                found.append(f"{lang}: '{key[0]}' is not translated")
            else:
                names = set(PLACEHOLDER.findall(" ".join(_ids(source))))
                for s in strings:
                    if set(PLACEHOLDER.findall(s)) - names:
                        found.append(f"{lang}: '{key[0]}' uses placeholders the Dutch has not: {s!r}")
                        break
        for key in have.keys() - wanted.keys():
            found.append(f"{lang}: '{key[0]}' is not used by the code any more ({key[1]!r})")
    return found
