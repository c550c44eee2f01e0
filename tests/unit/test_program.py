"""The program file: the seed evening as published, and every validation problem, precisely."""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import unicodedata
from zoneinfo import ZoneInfo

import pytest

from rooms.program import Phase, Problem, Program, ProgramError, Session, fill_breaks, load_program, parse_program

pytestmark = pytest.mark.unit

AMS = ZoneInfo("Europe/Amsterdam")


# --------------------------------------------------------------------------- a tiny TOML writer

class Raw(str):
    """A TOML literal written as is (an unquoted date, time or date-time)."""


def toml_value(v) -> str:
    if isinstance(v, Raw):
        return str(v)
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)  # a JSON string is a valid TOML basic string
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    raise TypeError(v)


def _is_tables(v) -> bool:
    return isinstance(v, list) and bool(v) and all(isinstance(x, dict) for x in v)


def to_toml(doc: dict) -> str:
    head, body = [], []
    for key, value in doc.items():
        if isinstance(value, dict):
            body.append(f"[{key}]")
            body += [f"{k} = {toml_value(v)}" for k, v in value.items()]
        elif _is_tables(value):
            for table in value:
                body.append(f"[[{key}]]")
                body += [f"{k} = {toml_value(v)}" for k, v in table.items() if not _is_tables(v)]
                for sub, rows in ((k, v) for k, v in table.items() if _is_tables(v)):
                    for row in rows:
                        body.append(f"[[{key}.{sub}]]")
                        body += [f"{k} = {toml_value(v)}" for k, v in row.items()]
        else:
            head.append(f"{key} = {toml_value(value)}")
    return "\n".join(head + body) + "\n"


def base_doc() -> dict:
    """A small valid evening: plenary, (gap), round of two sessions, plenary."""
    return {
        "event": {"slug": "test-avond", "title": "Testavond", "timezone": "Europe/Amsterdam",
                  "date": dt.date(2022, 1, 17)},
        "phases": [
            {"id": "opening", "kind": "plenary", "title": "Opening", "start": "16:00", "end": "16:30"},
            {"id": "ronde-1", "kind": "round", "title": "Ronde 1", "start": "16:45", "end": "17:30",
             "sessions": [
                 {"id": "wonen", "title": "Wonen", "kind": "talk", "capacity": 50},
                 {"id": "tech", "title": "Tech", "kind": "brainstorm", "capacity": 20},
             ]},
            {"id": "afsluiting", "kind": "plenary", "title": "Afsluiting", "start": "17:30", "end": "18:00"},
        ],
    }


@pytest.fixture(params=["parse_program", "load_program"])
def problems_of(request, tmp_path):
    """Run a text through parse_program or (from a file) load_program; return (source, problems)."""

    def run(text: str) -> tuple[str, list[Problem]]:
        if request.param == "parse_program":
            source = "avond.toml"
            with pytest.raises(ProgramError) as info:
                parse_program(text, source=source)
        else:
            path = tmp_path / "avond.toml"
            path.write_text(text, encoding="utf-8")
            source = str(path)
            with pytest.raises(ProgramError) as info:
                load_program(path)
        assert info.value.problems, "a ProgramError must list at least one problem"
        assert str(info.value) == "\n".join(str(p) for p in info.value.problems)
        return source, info.value.problems

    return run


def assert_problem(source: str, problems: list[Problem], where: str, field: str, fragment: str) -> None:
    """Every problem is about exactly this place and field, and one of them says `fragment`."""
    summary = "\n".join(str(p) for p in problems)
    assert all(p.file == source for p in problems), summary
    assert all((p.where, p.field) == (where, field) for p in problems), summary
    assert any(fragment in p.message for p in problems), summary
    for p in problems:
        text = str(p)
        assert text.startswith(f"{source}: {where}: {field}: "), text


# --------------------------------------------------------------------------- the seed evening

PUBLISHED = [
    # id, kind, title, start, end, filled, [(session title, session kind)]
    ("in-beeld", "round", "Coöperatieven in beeld", "16:00", "17:00", False, [
        ("Woon- & Energiecoöperatieven", "talk"),
        ("Voedsel- & Zorgcoöperatieven", "talk"),
    ]),
    ("pauze-1700", "break", "Pauze", "17:00", "17:15", True, []),
    ("ronde-1", "round", "Break-out sessies ronde I", "17:15", "18:15", False, [
        ("De toekomst van de wooncoöperatie", "talk"),
        ("Toolkit voor een coöperatieve energietransitie", "talk"),
        ("Brainstorm – Samen werken aan coöperatieve tech", "brainstorm"),
    ]),
    ("pauze-1815", "break", "Pauze", "18:15", "18:30", True, []),
    ("opening", "plenary", "Plenaire opening", "18:30", "19:30", False, []),
    ("pauze-1930", "break", "Pauze", "19:30", "19:45", True, []),
    ("ronde-2", "round", "Break-out sessies ronde II", "19:45", "20:30", False, [
        ("Samensturing, Samenschuring", "talk"),
        ("Coöperatieve fondsen en financiering", "talk"),
        ("De waarde van de buurtcoöperatie", "talk"),
    ]),
    ("ronde-3", "round", "Break-out sessies ronde III", "20:30", "21:30", False, [
        ("Een Energiewinnend Net", "talk"),
        ("Brainstorm – De Amsterdamse coöperatieven incubator", "brainstorm"),
        ("Brainstorm – Overwaarde van je huis terug naar de buurt", "brainstorm"),
    ]),
    ("afsluiting", "plenary", "Plenaire afsluiting", "21:30", "22:00", False, []),
]


def at_ams(hhmm: str, day: dt.date = dt.date(2022, 1, 17)) -> dt.datetime:
    hh, mm = (int(x) for x in hhmm.split(":"))
    return dt.datetime(day.year, day.month, day.day, hh, mm, tzinfo=AMS)


def test_seed_event_metadata(seed, seed_path):
    assert seed.slug == "cooperatieve-stad-2022"
    assert seed.title == "De Coöperatieve Stad"
    assert seed.timezone == "Europe/Amsterdam"
    assert seed.tz == AMS
    assert seed.date == dt.date(2022, 1, 17)
    assert seed.source == str(seed_path)
    assert "coöperatieve beweging" in seed.description


def test_seed_matches_the_published_program_exactly(seed):
    got = [(p.id, p.kind, p.title, f"{p.starts_at:%H:%M}", f"{p.ends_at:%H:%M}", p.filled,
            [(s.title, s.kind) for s in p.sessions]) for p in seed.phases]
    assert got == PUBLISHED


def test_seed_titles_are_exact_unicode(seed):
    titles = [seed.title] + [p.title for p in seed.phases] + [s.title for p in seed.phases for s in p.sessions]
    assert all(unicodedata.is_normalized("NFC", t) for t in titles)
    brainstorm = seed.phase("ronde-1").session("cooperatieve-tech")
    assert brainstorm.title == "Brainstorm \u2013 Samen werken aan co\u00f6peratieve tech"
    assert "\u2013" in brainstorm.title and "-" not in brainstorm.title  # an en dash, not a hyphen


def test_seed_times_are_amsterdam_winter_time(seed):
    for p in seed.phases:
        for t in (p.starts_at, p.ends_at):
            assert t.tzinfo == AMS
            assert t.date() == dt.date(2022, 1, 17)
            assert t.utcoffset() == dt.timedelta(hours=1)
            assert t.isoformat().endswith("+01:00")
    assert seed.phases[0].starts_at.timestamp() == dt.datetime(2022, 1, 17, 15, 0, tzinfo=dt.timezone.utc).timestamp()
    assert seed.phases[-1].ends_at.timestamp() - seed.phases[0].starts_at.timestamp() == 6 * 3600


def test_seed_is_contiguous_with_breaks_in_the_gaps(seed):
    for prev, cur in zip(seed.phases, seed.phases[1:]):
        assert prev.ends_at == cur.starts_at
    breaks = [(f"{p.starts_at:%H:%M}", f"{p.ends_at:%H:%M}") for p in seed.phases if p.kind == "break"]
    assert breaks == [("17:00", "17:15"), ("18:15", "18:30"), ("19:30", "19:45")]
    assert all(p.filled and not p.sessions for p in seed.phases if p.kind == "break")
    assert not any(p.filled for p in seed.phases if p.kind != "break")


def test_seed_round_two_runs_straight_into_round_three(seed):
    r2, r3 = seed.phase("ronde-2"), seed.phase("ronde-3")
    assert r2.ends_at == r3.starts_at == at_ams("20:30")
    assert seed.index("ronde-3") == seed.index("ronde-2") + 1


def test_seed_rounds_and_sessions(seed):
    assert [p.id for p in seed.rounds] == ["in-beeld", "ronde-1", "ronde-2", "ronde-3"]
    assert [len(p.sessions) for p in seed.rounds] == [2, 3, 3, 3]
    brainstorms = sorted(s.id for p in seed.phases for s in p.sessions if s.kind == "brainstorm")
    assert brainstorms == ["cooperatieve-tech", "incubator", "overwaarde"]
    for p in seed.phases:
        for s in p.sessions:
            assert s.kind == ("brainstorm" if s.title.startswith("Brainstorm – ") else "talk")
            assert isinstance(s.capacity, int) and s.capacity >= 1
    ids = [p.id for p in seed.phases] + [s.id for p in seed.phases for s in p.sessions]
    assert len(ids) == len(set(ids))


def test_seed_plenaries(seed):
    plenaries = [(p.title, f"{p.starts_at:%H:%M}", f"{p.ends_at:%H:%M}") for p in seed.phases if p.kind == "plenary"]
    assert plenaries == [("Plenaire opening", "18:30", "19:30"), ("Plenaire afsluiting", "21:30", "22:00")]
    # Keep the order as published: the opening comes after the first two blocks.
    assert seed.index("opening") > seed.index("ronde-1") > seed.index("in-beeld")


def test_seed_phase_durations(seed):
    assert [p.duration / 60 for p in seed.phases] == [60, 15, 60, 15, 60, 15, 45, 60, 30]


# --------------------------------------------------------------------------- valid programs

def test_base_document_is_valid():
    program = parse_program(to_toml(base_doc()), source="avond.toml")
    assert [p.id for p in program.phases] == ["opening", "pauze-1630", "ronde-1", "afsluiting"]
    assert program.source == "avond.toml"
    assert program.phase("ronde-1").session("tech") == Session("tech", "Tech", "brainstorm", 20)
    assert program.phase("ronde-1").session("nope") is None
    assert program.phase("nope") is None
    assert program.index("afsluiting") == 3
    with pytest.raises(KeyError):
        program.index("nope")


def test_parse_program_default_source():
    assert parse_program(to_toml(base_doc())).source == "<string>"


def test_toml_time_literals_are_accepted():
    doc = base_doc()
    doc["phases"][0]["start"] = Raw("16:00:00")
    doc["phases"][0]["end"] = Raw("16:30:00")
    program = parse_program(to_toml(doc))
    assert program.phases[0].starts_at == at_ams("16:00")
    assert program.phases[0].ends_at == at_ams("16:30")


def test_optional_fields_are_read_and_stripped():
    doc = base_doc()
    doc["event"]["description"] = "  Een avond.  "
    doc["phases"][1]["description"] = "Twee sessies"
    doc["phases"][1]["sessions"][0]["hosts"] = [" Anna de Vries ", "Bo"]
    doc["phases"][1]["sessions"][0]["description"] = "Over wonen"
    program = parse_program(to_toml(doc))
    assert program.description == "Een avond."
    assert program.phase("ronde-1").description == "Twee sessies"
    wonen = program.phase("ronde-1").session("wonen")
    assert wonen.hosts == ("Anna de Vries", "Bo")
    assert wonen.description == "Over wonen"


@pytest.mark.parametrize("capacity", [1, 10_000])
def test_capacity_bounds_are_accepted(capacity):
    doc = base_doc()
    doc["phases"][1]["sessions"][0]["capacity"] = capacity
    assert parse_program(to_toml(doc)).phase("ronde-1").session("wonen").capacity == capacity


def test_an_explicit_break_is_kept_and_not_marked_filled():
    doc = base_doc()
    doc["phases"].insert(1, {"id": "koffie", "kind": "break", "title": "Koffie", "start": "16:30", "end": "16:45"})
    program = parse_program(to_toml(doc))
    assert [p.id for p in program.phases] == ["opening", "koffie", "ronde-1", "afsluiting"]
    assert program.phase("koffie").filled is False


def test_filled_break_ids_do_not_collide_with_phase_or_session_ids():
    doc = base_doc()
    doc["phases"][0]["id"] = "pauze-1630"
    doc["phases"][1]["sessions"][0]["id"] = "pauze-1630-2"
    program = parse_program(to_toml(doc))
    ids = [p.id for p in program.phases] + [s.id for p in program.phases for s in p.sessions]
    assert program.phases[1].filled and program.phases[1].id == "pauze-1630-3"
    assert len(ids) == len(set(ids))


def test_fill_breaks_leaves_contiguous_phases_alone():
    a = Phase("a", "plenary", "A", at_ams("16:00"), at_ams("17:00"))
    b = Phase("b", "plenary", "B", at_ams("17:00"), at_ams("18:00"))
    assert fill_breaks([a, b]) == [a, b]
    assert fill_breaks([]) == []


def test_replace_builds_a_fresh_index():
    program = parse_program(to_toml(base_doc()))
    shorter = dataclasses.replace(program, phases=program.phases[2:])
    assert shorter.phase("opening") is None
    assert shorter.index("ronde-1") == 0
    assert program.index("ronde-1") == 2  # the original is not changed by the copy
    assert program.phase("opening") is program.phases[0]


def test_an_ambiguous_autumn_time_is_the_first_occurrence():
    doc = base_doc()
    doc["event"]["date"] = dt.date(2022, 10, 30)
    doc["phases"] = [{"id": "nacht", "kind": "plenary", "title": "Nacht", "start": "02:30", "end": "03:30"}]
    phase = parse_program(to_toml(doc)).phases[0]
    assert phase.starts_at.utcoffset() == dt.timedelta(hours=2)  # CEST, before the clocks go back
    assert phase.ends_at.utcoffset() == dt.timedelta(hours=1)
    assert phase.duration == 2 * 3600  # 02:30 CEST to 03:30 CET is two real hours


def test_a_phase_across_the_spring_clock_change_lasts_the_real_time():
    doc = base_doc()
    doc["event"]["date"] = dt.date(2022, 3, 27)
    doc["phases"] = [
        {"id": "laat", "kind": "plenary", "title": "Laat", "start": "01:00", "end": "01:30"},
        {"id": "nacht", "kind": "plenary", "title": "Nacht", "start": "01:30", "end": "04:00"},
    ]
    program = parse_program(to_toml(doc))
    nacht = program.phase("nacht")
    assert nacht.duration == 1.5 * 3600  # 01:30 CET to 04:00 CEST: the hour 02:00-03:00 does not exist
    assert nacht.duration == nacht.ends_at.timestamp() - nacht.starts_at.timestamp()


# --------------------------------------------------------------------------- one problem at a time

def _set(path, value):
    """A mutation of base_doc(): set doc[path...] = value (value None deletes the key)."""

    def mutate(doc):
        target = doc
        for key in path[:-1]:
            target = target[key]
        if value is None:
            del target[path[-1]]
        else:
            target[path[-1]] = value

    return mutate


EV, P0, P1, P2 = ("event",), ("phases", 0), ("phases", 1), ("phases", 2)
S0 = P1 + ("sessions", 0)
W0 = "phase 'opening'"
W1 = "phase 'ronde-1'"
WS0 = "phase 'ronde-1' session 'wonen'"

CASES = [
    # event
    ("slug-space", _set(EV + ("slug",), "Test Avond"), "event", "slug", "lowercase letters"),
    ("slug-leading-dash", _set(EV + ("slug",), "-avond"), "event", "slug", "lowercase letters"),
    ("slug-trailing-dash", _set(EV + ("slug",), "avond-"), "event", "slug", "lowercase letters"),
    ("slug-underscore", _set(EV + ("slug",), "test_avond"), "event", "slug", "lowercase letters"),
    ("slug-too-long", _set(EV + ("slug",), "a" * 49), "event", "slug", "longer than 48"),
    ("slug-missing", _set(EV + ("slug",), None), "event", "slug", "is missing"),
    ("slug-number", _set(EV + ("slug",), 2022), "event", "slug", "non-empty text"),
    ("title-missing", _set(EV + ("title",), None), "event", "title", "is missing"),
    ("title-blank", _set(EV + ("title",), "   "), "event", "title", "non-empty text"),
    ("title-too-long", _set(EV + ("title",), "x" * 201), "event", "title", "longer than 200"),
    ("timezone-unknown", _set(EV + ("timezone",), "Mars/Olympus_Mons"), "event", "timezone", "not a known time zone"),
    ("timezone-directory", _set(EV + ("timezone",), "Europe"), "event", "timezone", "not a known time zone"),
    ("timezone-path", _set(EV + ("timezone",), "../etc/passwd"), "event", "timezone", "not a known time zone"),
    ("timezone-empty", _set(EV + ("timezone",), ""), "event", "timezone", "non-empty text"),
    ("timezone-missing", _set(EV + ("timezone",), None), "event", "timezone", "is missing"),
    ("date-missing", _set(EV + ("date",), None), "event", "date", "is missing"),
    ("date-quoted", _set(EV + ("date",), "2022-01-17"), "event", "date", "without quotes"),
    ("date-local-datetime", _set(EV + ("date",), Raw("2022-01-17T16:00:00")), "event", "date", "without a time"),
    ("date-offset-datetime", _set(EV + ("date",), Raw("2022-01-17T16:00:00+01:00")), "event", "date", "without a time"),
    ("date-time-of-day", _set(EV + ("date",), Raw("16:00:00")), "event", "date", "must be a date"),
    ("date-integer", _set(EV + ("date",), 20220117), "event", "date", "must be a date"),
    ("event-typo", _set(EV + ("datum",), "morgen"), "event", "datum", "is not a known field"),
    ("event-description-too-long", _set(EV + ("description",), "x" * 2001), "event", "description", "longer than 2000"),
    ("file-typo", _set(("fases",), 3), "file", "fases", "is not a known field"),
    ("phases-empty", _set(("phases",), []), "file", "phases", "at least one [[phases]]"),
    ("phases-missing", _set(("phases",), None), "file", "phases", "at least one [[phases]]"),
    # phase
    ("phase-kind-unknown", _set(P0 + ("kind",), "workshop"), W0, "kind", "'workshop' is not one of plenary, round, break"),
    ("phase-kind-missing", _set(P0 + ("kind",), None), W0, "kind", "is missing"),
    ("phase-title-missing", _set(P0 + ("title",), None), W0, "title", "is missing"),
    ("phase-typo", _set(P0 + ("titel",), "Opening"), W0, "titel", "is not a known field"),
    ("phase-id-missing", _set(P0 + ("id",), None), "phase #1", "id", "is missing"),
    ("phase-id-number", _set(P0 + ("id",), 1), "phase #1", "id", "non-empty text"),
    ("phase-id-underscore", _set(P0 + ("id",), "ronde_0"), "phase 'ronde_0'", "id", "lowercase letters"),
    ("phase-id-space", _set(P0 + ("id",), "ronde 0"), "phase 'ronde 0'", "id", "lowercase letters"),
    ("phase-id-capitals", _set(P0 + ("id",), "Opening"), "phase 'Opening'", "id", "lowercase letters"),
    ("phase-id-leading-dash", _set(P0 + ("id",), "-opening"), "phase '-opening'", "id", "lowercase letters"),
    ("phase-id-trailing-dash", _set(P0 + ("id",), "opening-"), "phase 'opening-'", "id", "lowercase letters"),
    ("phase-id-dot", _set(P0 + ("id",), "ronde.0"), "phase 'ronde.0'", "id", "lowercase letters"),
    ("phase-id-accent", _set(P0 + ("id",), "öpening"), "phase 'öpening'", "id", "lowercase letters"),
    ("phase-id-too-long", _set(P0 + ("id",), "a" * 41), f"phase '{'a' * 41}'", "id", "longer than 40"),
    ("duplicate-phase-id", _set(P2 + ("id",), "opening"), W0, "id", "'opening' is used twice (also by phase 'opening')"),
    ("round-without-sessions", _set(P1 + ("sessions",), None), W1, "sessions", "a round needs at least one"),
    ("round-with-empty-sessions", _set(P1 + ("sessions",), []), W1, "sessions", "a round needs at least one"),
    ("sessions-not-a-list", _set(P0 + ("sessions",), "wonen"), W0, "sessions", "must be a list"),
    ("plenary-with-sessions",
     _set(P0 + ("sessions",), [{"id": "x", "title": "X", "kind": "talk", "capacity": 5}]),
     W0, "sessions", "a plenary has one room and no sessions"),
    ("break-with-sessions",
     lambda d: d["phases"][0].update(kind="break", sessions=[{"id": "x", "title": "X", "kind": "talk", "capacity": 5}]),
     W0, "sessions", "a break has one room and no sessions"),
    ("start-25h", _set(P0 + ("start",), "25:00"), W0, "start", "'25:00' is not a time of day"),
    ("start-24h", _set(P0 + ("start",), "24:00"), W0, "start", "is not a time of day"),
    ("start-4pm", _set(P0 + ("start",), "4pm"), W0, "start", "'4pm' is not a time of day"),
    ("start-integer", _set(P0 + ("start",), 1600), W0, "start", "1600 is not a time of day"),
    ("start-dutch-dot", _set(P0 + ("start",), "16.00"), W0, "start", "is not a time of day"),
    ("start-one-digit-hour", _set(P0 + ("start",), "9:00"), W0, "start", "is not a time of day"),
    ("start-minute-60", _set(P0 + ("start",), "15:60"), W0, "start", "is not a time of day"),
    ("start-seconds-string", _set(P0 + ("start",), "16:00:00"), W0, "start", "is not a time of day"),
    ("start-empty", _set(P0 + ("start",), ""), W0, "start", "is not a time of day"),
    ("start-toml-seconds", _set(P0 + ("start",), Raw("16:00:30")), W0, "start", "is not a time of day"),
    ("start-toml-datetime", _set(P0 + ("start",), Raw("2022-01-17T16:00:00")), W0, "start", "is not a time of day"),
    ("start-missing", _set(P0 + ("start",), None), W0, "start", "is missing"),
    ("end-missing", _set(P0 + ("end",), None), W0, "end", "is missing"),
    ("end-bad", _set(P0 + ("end",), "half vijf"), W0, "end", "'half vijf' is not a time of day"),
    ("end-equals-start", _set(P0 + ("end",), "16:00"), W0, "end", "16:00 is not after start 16:00"),
    ("end-before-start", _set(P0 + ("end",), "15:00"), W0, "end", "15:00 is not after start 16:00"),
    ("overlap", _set(P2 + ("start",), "17:15"), "phase 'afsluiting'", "start",
     "overlaps phase 'ronde-1', which ends at 17:30"),
    ("overlap-by-one-minute", _set(P2 + ("start",), "17:29"), "phase 'afsluiting'", "start",
     "overlaps phase 'ronde-1', which ends at 17:30"),
    ("unordered", lambda d: d["phases"][2].update(start="15:00", end="15:30"), "phase 'afsluiting'", "start",
     "starts before the phase above it ('ronde-1')"),
    # session
    ("capacity-zero", _set(S0 + ("capacity",), 0), WS0, "capacity", "0 must be between 1 and 10000"),
    ("capacity-negative", _set(S0 + ("capacity",), -1), WS0, "capacity", "-1 must be between 1 and 10000"),
    ("capacity-too-big", _set(S0 + ("capacity",), 10_001), WS0, "capacity", "must be between 1 and 10000"),
    ("capacity-string", _set(S0 + ("capacity",), "10"), WS0, "capacity", "'10' is not a whole number"),
    ("capacity-true", _set(S0 + ("capacity",), True), WS0, "capacity", "True is not a whole number"),
    ("capacity-float", _set(S0 + ("capacity",), 2.5), WS0, "capacity", "2.5 is not a whole number"),
    ("capacity-missing", _set(S0 + ("capacity",), None), WS0, "capacity", "is missing"),
    ("session-kind-unknown", _set(S0 + ("kind",), "lecture"), WS0, "kind", "'lecture' is not one of talk, brainstorm"),
    ("session-kind-missing", _set(S0 + ("kind",), None), WS0, "kind", "is missing"),
    ("session-title-missing", _set(S0 + ("title",), None), WS0, "title", "is missing"),
    ("session-typo", _set(S0 + ("titel",), "Wonen"), WS0, "titel", "is not a known field"),
    ("session-id-bad", _set(S0 + ("id",), "Wonen!"), "phase 'ronde-1' session 'Wonen!'", "id", "lowercase letters"),
    ("session-id-missing", _set(S0 + ("id",), None), "phase 'ronde-1' session #1", "id", "is missing"),
    ("hosts-not-a-list", _set(S0 + ("hosts",), "Anna"), WS0, "hosts", "must be a list of names"),
    ("hosts-blank-name", _set(S0 + ("hosts",), ["Anna", " "]), WS0, "hosts", "must be a list of names"),
    ("hosts-number", _set(S0 + ("hosts",), [1]), WS0, "hosts", "must be a list of names"),
    ("duplicate-session-within-phase", _set(P1 + ("sessions", 1, "id"), "wonen"), WS0, "id",
     "'wonen' is used twice (also by phase 'ronde-1' session 'wonen')"),
    ("duplicate-session-across-phases",
     lambda d: d["phases"][2].update(kind="round", sessions=[{"id": "wonen", "title": "W", "kind": "talk", "capacity": 9}]),
     "phase 'afsluiting' session 'wonen'", "id", "'wonen' is used twice (also by phase 'ronde-1' session 'wonen')"),
    ("session-id-equals-phase-id", _set(S0 + ("id",), "opening"), "phase 'ronde-1' session 'opening'", "id",
     "'opening' is used twice (also by phase 'opening')"),
]


@pytest.mark.parametrize("mutate, where, field, fragment", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_problem_is_reported_precisely(problems_of, mutate, where, field, fragment):
    doc = base_doc()
    mutate(doc)
    source, problems = problems_of(to_toml(doc))
    assert_problem(source, problems, where, field, fragment)


def test_case_ids_are_unique():
    assert len({c[0] for c in CASES}) == len(CASES)


# --------------------------------------------------------------------------- other problems

def test_invalid_toml(problems_of):
    source, problems = problems_of(to_toml(base_doc()) + "[[phases]\n")
    assert_problem(source, problems, "file", "-", "is not valid TOML")


def test_toml_without_seconds_is_invalid_toml(problems_of):
    text = to_toml(base_doc()).replace('start = "16:00"', "start = 16:00", 1)
    source, problems = problems_of(text)
    assert_problem(source, problems, "file", "-", "is not valid TOML")


def test_missing_event_table(problems_of):
    doc = base_doc()
    del doc["event"]
    source, problems = problems_of(to_toml(doc))
    assert (problems[0].where, problems[0].field) == ("file", "event")
    assert "the [event] table is missing" in problems[0].message
    # ...and then what the event needs, each by name, in one go.
    assert [(p.where, p.field) for p in problems[1:]] == [
        ("event", "slug"), ("event", "title"), ("event", "timezone"), ("event", "date")]
    assert all(p.file == source for p in problems)


def test_event_that_is_not_a_table(problems_of):
    doc = base_doc()
    doc["event"] = "avond"
    _, problems = problems_of(to_toml(doc))
    assert ("file", "event") == (problems[0].where, problems[0].field)


def test_phases_that_are_not_tables(problems_of):
    doc = base_doc()
    doc["phases"] = [1, "twee"]
    source, problems = problems_of(to_toml(doc))
    assert [(p.where, p.field) for p in problems] == [("phase #1", "-"), ("phase #2", "-")]
    assert all("must be a [[phases]] table" in p.message for p in problems)


def test_sessions_that_are_not_tables(problems_of):
    doc = base_doc()
    doc["phases"][1]["sessions"] = [1]
    source, problems = problems_of(to_toml(doc))
    assert_problem(source, problems, "phase 'ronde-1' session #1", "-", "must be a [[phases.sessions]] table")


@pytest.mark.parametrize("start, end, field", [("02:30", "03:30", "start"), ("02:00", "03:30", "start"),
                                               ("01:00", "02:15", "end")])
def test_a_time_in_the_spring_dst_gap_is_rejected(problems_of, start, end, field):
    doc = base_doc()
    doc["event"]["date"] = dt.date(2022, 3, 27)
    doc["phases"] = [{"id": "nacht", "kind": "plenary", "title": "Nacht", "start": start, "end": end}]
    source, problems = problems_of(to_toml(doc))
    value = start if field == "start" else end
    assert_problem(source, problems, "phase 'nacht'", field,
                   f"{value} does not exist on 2022-03-27 in Europe/Amsterdam (clock change)")


def test_the_hour_after_the_spring_dst_gap_is_fine():
    doc = base_doc()
    doc["event"]["date"] = dt.date(2022, 3, 27)
    doc["phases"] = [{"id": "nacht", "kind": "plenary", "title": "Nacht", "start": "03:00", "end": "04:00"}]
    phase = parse_program(to_toml(doc)).phases[0]
    assert phase.starts_at.utcoffset() == dt.timedelta(hours=2)
    assert phase.duration == 3600


def test_without_a_date_the_times_are_still_checked(problems_of):
    """A missing date must not hide (or crash on) the problems in the phases."""
    doc = base_doc()
    del doc["event"]["date"]
    doc["phases"][0]["end"] = "15:00"  # end before start
    doc["phases"][2]["start"] = "17:15"  # overlaps ronde-1
    source, problems = problems_of(to_toml(doc))
    assert [(p.where, p.field) for p in problems] == [
        ("event", "date"), ("phase 'opening'", "end"), ("phase 'afsluiting'", "start")]
    assert "overlaps phase 'ronde-1'" in problems[2].message


def test_without_a_time_zone_the_order_is_still_checked(problems_of):
    doc = base_doc()
    doc["event"]["timezone"] = "Nergens/Niemandsland"
    doc["phases"][2].update(start="15:00", end="15:30")
    _, problems = problems_of(to_toml(doc))
    assert [(p.where, p.field) for p in problems] == [("event", "timezone"), ("phase 'afsluiting'", "start")]


def test_several_problems_are_reported_together(problems_of):
    doc = base_doc()
    doc["event"]["slug"] = "Test Avond"
    doc["phases"][0]["kind"] = "workshop"
    doc["phases"][1]["sessions"][0]["capacity"] = 0
    doc["phases"][1]["sessions"][1]["titel"] = "Tech"
    doc["phases"][2]["start"] = "25:00"
    doc["phases"].append({"id": "na", "kind": "plenary", "title": "Na", "start": "17:45", "end": "18:30"})
    doc["phases"].append({"id": "laat", "kind": "plenary", "title": "Laat", "start": "18:00", "end": "19:00"})
    source, problems = problems_of(to_toml(doc))
    assert [(p.where, p.field) for p in problems] == [
        ("event", "slug"),
        ("phase 'opening'", "kind"),
        ("phase 'ronde-1' session 'wonen'", "capacity"),
        ("phase 'ronde-1' session 'tech'", "titel"),
        ("phase 'afsluiting'", "start"),
        ("phase 'laat'", "start"),
    ]
    assert all(p.file == source for p in problems)
    assert "overlaps phase 'na'" in problems[-1].message


def test_str_of_a_problem_names_file_phase_and_field(tmp_path):
    doc = base_doc()
    doc["phases"][1]["sessions"][0]["capacity"] = -1
    path = tmp_path / "mijn-avond.toml"
    path.write_text(to_toml(doc), encoding="utf-8")
    with pytest.raises(ProgramError) as info:
        load_program(path)
    (problem,) = info.value.problems
    text = str(problem)
    assert str(path) in text and "ronde-1" in text and "wonen" in text and "capacity" in text
    assert text == f"{path}: phase 'ronde-1' session 'wonen': capacity: -1 must be between 1 and 10000"
    assert str(info.value) == text
    assert isinstance(info.value, ValueError)


def test_load_program_accepts_str_paths(tmp_path):
    path = tmp_path / "avond.toml"
    path.write_text(to_toml(base_doc()), encoding="utf-8")
    assert load_program(str(path)).source == str(path)


def test_a_missing_file(tmp_path):
    path = tmp_path / "bestaat-niet.toml"
    with pytest.raises(ProgramError) as info:
        load_program(path)
    (problem,) = info.value.problems
    assert (problem.file, problem.where, problem.field) == (str(path), "file", "-")
    assert "cannot be read" in problem.message


def test_a_file_that_is_not_utf8(tmp_path):
    path = tmp_path / "latin1.toml"
    path.write_bytes(to_toml(base_doc()).replace("Testavond", "Coöperatie").encode("latin-1"))
    with pytest.raises(ProgramError) as info:
        load_program(path)
    (problem,) = info.value.problems
    assert (problem.file, problem.where, problem.field, problem.message) == (str(path), "file", "-", "is not UTF-8 text")


def test_program_equality_ignores_the_index():
    a = parse_program(to_toml(base_doc()))
    b = parse_program(to_toml(base_doc()))
    assert a == b and hash(a) == hash(b)
    assert isinstance(a, Program)


# --------------------------------------------------------------------------- the evening's language (issue 10, item 8)

def test_the_evenings_language_names_its_filled_breaks():
    dutch = parse_program(to_toml(base_doc()))
    assert dutch.language == "nl" and dutch.phase("pauze-1630").title == "Pauze"
    doc = base_doc()
    doc["event"]["language"] = "en"
    english = parse_program(to_toml(doc))
    assert english.language == "en" and english.phase("pauze-1630").title == "Break"


def test_a_language_plein_does_not_speak_is_named(problems_of):
    doc = base_doc()
    doc["event"]["language"] = "fr"
    source, problems = problems_of(to_toml(doc))
    assert_problem(source, problems, "event", "language", "'fr' is not a language Plein's pages speak (nl or en)")
