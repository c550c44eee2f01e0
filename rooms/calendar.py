"""iCalendar files: the whole program, and one participant's own evening (where they will be when).

Planned times (the published program) in the program's time zone, with its VTIMEZONE, one VEVENT per
phase (breaks included), each with the join link.
"""
from __future__ import annotations

import datetime as dt

from icalendar import Calendar, Event

from .i18n import M, gettext
from .program import Phase, Program

UNPLACED = M("calendar_unplaced", "Nog geen sessie gekozen; je wordt bij de start ingedeeld.")


def _calendar(program: Program, name: str) -> Calendar:
    cal = Calendar()
    cal.add("prodid", "-//Plein//plein//NL")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", program.timezone)
    return cal


def _event(program: Program, phase: Phase, uid: str, summary: str, description: str, link: str) -> Event:
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", dt.datetime.now(dt.timezone.utc))
    event.add("dtstart", phase.starts_at)
    event.add("dtend", phase.ends_at)
    event.add("summary", summary)
    event.add("description", f"{description}\n\n{link}".strip())
    event.add("location", link)
    event.add("url", link)
    return event


def program_calendar(program: Program, link: str) -> bytes:
    """The full program: every phase, rounds listing their sessions."""
    cal = _calendar(program, program.title)
    for phase in program.phases:
        lines = [f"- {s.title}" for s in phase.sessions]
        cal.add_component(_event(program, phase, f"{program.slug}-{phase.id}@plein", phase.title,
                                 "\n".join(lines), link))
    cal.add_missing_timezones()
    return cal.to_ical()


def personal_calendar(program: Program, seats: dict[str, str], link: str, name: str, lang: str = "nl") -> bytes:
    """One participant's evening: in each round the session they chose or were placed in (words in `lang`)."""
    cal = _calendar(program, f"{program.title} – {name}")
    for phase in program.phases:
        summary, description = phase.title, ""
        if phase.kind == "round":
            session = phase.session(seats.get(phase.id, ""))
            if session is not None:
                summary = f"{phase.title}: {session.title}"
                description = session.description
            else:
                description = gettext(lang, *UNPLACED)
        cal.add_component(_event(program, phase, f"{program.slug}-{phase.id}-mine@plein", summary,
                                 description, link))
    cal.add_missing_timezones()
    return cal.to_ical()
