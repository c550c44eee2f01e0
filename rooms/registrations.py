"""Importing registrations: a CSV from a ticketing tool becomes participants with their choices.

The file (UTF-8, with or without BOM; ';' or ',' between fields, found from the header line) has a
header line and one line per person. Columns, matched case-insensitively after trimming:

- `name` (or `naam`), `email` (or `e-mail`, `e-mailadres`, `emailadres`): required;
- one column per round, headed by the round's id or its title; a cell names a session of *that*
  round by id or title, or is empty (no choice: Plein places the person when the round starts);
- any other column is ignored (and mentioned once, as a note).

`parse_registrations` checks the file on its own (names, e-mail addresses, sessions, e-mail twice
in the file); `import_registrations` checks against Redis (e-mail already registered, capacity)
and writes every accepted row in one MULTI/EXEC, so an import lands whole or not at all.
A problem names the physical line of the file (the header is line 1).
"""
from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field

import redis

from .errors import PleinError
from .participants import Participant, ParticipantService, clean_name, new_participant
from .program import Phase, Program
from .store import Keys

NAME_HEADERS = ("name", "naam")
EMAIL_HEADERS = ("email", "e-mail", "e-mailadres", "emailadres")
EMAIL_MAX = 254
RETRIES = 5
_DASHES = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212"), "-")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Row:
    """One accepted line of the file: who, and round id -> session id for the rounds they chose."""

    line: int
    name: str
    email: str
    choices: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RowProblem:
    """Why a line was rejected (or, with `note`, a remark that rejects nothing)."""

    line: int
    code: str  # bad_row, name_missing/name_control/name_too_long, email_missing, bad_email,
    #            unknown_session, duplicate_email, already_registered, session_full, ignored_columns
    message: str
    note: bool = False

    def __str__(self) -> str:
        return f"note: {self.message}" if self.note else f"line {self.line}: {self.message}"


class RegistrationFileError(ValueError):
    """The file as a whole cannot be imported (no e-mail column, not CSV...); nothing was imported."""


class ImportConflict(RuntimeError):
    """Redis kept changing under the import (WATCH failed every time); nothing was imported."""


@dataclass(frozen=True)
class Imported:
    """An imported row: the new participant, its bearer token and its personal link."""

    row: Row
    participant: Participant
    token: str
    link: str


@dataclass(frozen=True)
class ImportResult:
    imported: list[Imported]
    problems: list[RowProblem]
    written: bool  # False for a dry run


def rejected_lines(problems: list[RowProblem]) -> set[int]:
    """The lines that were rejected (notes reject nothing)."""
    return {p.line for p in problems if not p.note}


# -- reading the file ------------------------------------------------------------------------------

def _fold(text: str) -> str:
    """How headers and cells are compared: NFC, case-folded, any dash as '-', spaces collapsed."""
    return _SPACES.sub(" ", unicodedata.normalize("NFC", text).translate(_DASHES)).strip().casefold()


def _delimiter(header_line: str) -> str:
    """';' or ',': whichever splits the header line into more fields (outside quotes)."""
    def fields(d: str) -> int:
        return len(next(csv.reader([header_line], delimiter=d), []))
    return ";" if fields(";") > fields(",") else ","


def _valid_email(email: str) -> bool:
    if not email or len(email) > EMAIL_MAX or any(c.isspace() for c in email) or email.count("@") != 1:
        return False
    local, domain = email.split("@")
    return bool(local) and "." in domain and not domain.startswith(".") and not domain.endswith(".") \
        and ".." not in domain


def _session_index(rnd: Phase) -> dict[str, str | None]:
    """Folded session id or title -> session id (None when two sessions of the round share it)."""
    index: dict[str, str | None] = {}
    for s in rnd.sessions:
        for key in {_fold(s.id), _fold(s.title)}:
            index[key] = s.id if index.get(key, s.id) == s.id else None
    return index


def parse_registrations(text: str, program: Program) -> tuple[list[Row], list[RowProblem]]:
    """Read the CSV text; the rows that are fine on their own, and a problem per thing wrong.

    Raises RegistrationFileError when the file as a whole cannot be used (no header, no name or
    e-mail column, a round named by two columns).
    """
    if text.startswith("\ufeff"):
        text = text[1:]
    stream = io.StringIO(text, newline="")
    first = stream.readline()
    while first and not first.strip():  # leading blank lines
        first = stream.readline()
    if not first.strip():
        raise RegistrationFileError("the file is empty: it needs a header line (name, email, one column per round)")
    delimiter = _delimiter(first)
    stream.seek(0)
    reader = csv.reader(stream, delimiter=delimiter, strict=False)

    header: list[str] | None = None
    header_line = 1
    while header is None:
        start = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:  # pragma: no cover (the header line was found above)
            raise RegistrationFileError("the file has no header line") from None
        except csv.Error as exc:
            raise RegistrationFileError(f"line {start}: not readable as CSV ({exc})") from None
        if any(c.strip() for c in cells):
            header, header_line = cells, start

    # Which column is what.
    name_col = email_col = None
    round_cols: dict[int, Phase] = {}
    ignored: list[str] = []
    by_header = {}
    for rnd in program.rounds:
        by_header.setdefault(_fold(rnd.id), rnd)
        by_header.setdefault(_fold(rnd.title), rnd)
    file_errors = []
    seen_rounds: dict[str, int] = {}
    for i, raw in enumerate(header):
        key = _fold(raw)
        if key in NAME_HEADERS:
            if name_col is not None:
                file_errors.append(f"columns {name_col + 1} and {i + 1} are both the name column")
            name_col = i
        elif key in EMAIL_HEADERS:
            if email_col is not None:
                file_errors.append(f"columns {email_col + 1} and {i + 1} are both the e-mail column")
            email_col = i
        elif key in by_header:
            rnd = by_header[key]
            if rnd.id in seen_rounds:
                file_errors.append(f"columns {seen_rounds[rnd.id] + 1} and {i + 1} both name round '{rnd.id}'")
            seen_rounds[rnd.id] = i
            round_cols[i] = rnd
        elif raw.strip():
            ignored.append(raw.strip())
        else:
            ignored.append(f"(column {i + 1}, no header)")
    if name_col is None:
        file_errors.append(f"no name column in the header on line {header_line} "
                           f"(head it with one of: {', '.join(NAME_HEADERS)})")
    if email_col is None:
        file_errors.append(f"no e-mail column in the header on line {header_line} "
                           f"(head it with one of: {', '.join(EMAIL_HEADERS)})")
    if file_errors:
        raise RegistrationFileError("; ".join(file_errors))

    problems: list[RowProblem] = []
    if ignored:
        rounds = ", ".join(f"'{r.id}'" for r in program.rounds)
        problems.append(RowProblem(header_line, "ignored_columns",
                                   f"ignored column(s) {', '.join(repr(c) for c in ignored)} "
                                   f"(not name, email or a round of this program: {rounds or 'none'})", note=True))
    sessions = {rnd.id: _session_index(rnd) for rnd in program.rounds}
    elsewhere = {_fold(s.id): rnd.id for rnd in program.rounds for s in rnd.sessions}

    rows: list[Row] = []
    first_line_of: dict[str, int] = {}
    while True:
        start = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise RegistrationFileError(f"line {start}: not readable as CSV ({exc})") from None
        if not any(c.strip() for c in cells):
            continue  # blank line, or only delimiters
        mine: list[RowProblem] = []

        def problem(code: str, message: str) -> None:
            mine.append(RowProblem(start, code, message))

        extra = [c for c in cells[len(header):] if c.strip()]
        if extra:
            problem("bad_row", f"has {len(cells)} fields but the header has {len(header)} "
                               f"(a '{delimiter}' inside a value needs quotes)")
        cell = lambda i: cells[i].strip() if i < len(cells) else ""  # noqa: E731

        try:
            name = clean_name(cells[name_col] if name_col < len(cells) else "")
        except PleinError as exc:
            name = ""
            problem(exc.code, f"name: {exc.message('en')} ({exc.code})")
        email = cell(email_col)
        if not email:
            problem("email_missing", "no e-mail address")
        elif not _valid_email(email):
            problem("bad_email", f"'{email}' is not an e-mail address")
        else:
            first_line = first_line_of.setdefault(email.lower(), start)
            if first_line != start:
                problem("duplicate_email", f"'{email}' is already on line {first_line}")
        choices: dict[str, str] = {}
        for i, rnd in round_cols.items():
            value = cell(i)
            if not value:
                continue
            key = _fold(value)
            sid = sessions[rnd.id].get(key)
            if sid:
                choices[rnd.id] = sid
                continue
            hint = ""
            if key in sessions[rnd.id]:
                hint = " (two sessions of the round have that title: use the session id)"
            elif key in elsewhere:
                hint = f" (that is a session of round '{elsewhere[key]}')"
            problem("unknown_session", f"unknown session '{value}' in round '{rnd.id}'{hint}")
        if mine:
            problems.extend(mine)
        else:
            rows.append(Row(start, name, email, choices))
    return rows, problems


# -- writing to Redis -------------------------------------------------------------------------------

def _check(pipe, program: Program, keys: Keys, rows: list[Row]) -> tuple[list[Row], list[RowProblem]]:
    """The rows that fit now: e-mail not yet registered, every choice within capacity (file order)."""
    registered = pipe.hmget(keys.emails, [row.email.lower() for row in rows]) if rows else []
    taken = {rnd.id: {s: max(0, int(n)) for s, n in pipe.hgetall(keys.taken(rnd.id)).items()}
             for rnd in program.rounds}
    accepted: list[Row] = []
    problems: list[RowProblem] = []
    for row, pid in zip(rows, registered):
        if pid is not None:
            problems.append(RowProblem(row.line, "already_registered",
                                       f"'{row.email}' is already registered (participant {pid})"))
            continue
        full = []
        for round_id, sid in row.choices.items():
            session = program.phase(round_id).session(sid)
            if taken[round_id].get(sid, 0) + 1 > session.capacity:
                full.append(RowProblem(row.line, "session_full",
                                       f"session '{session.title}' ({sid}) in round '{round_id}' is full: "
                                       f"capacity {session.capacity}"))
        if full:
            problems.extend(full)
            continue
        for round_id, sid in row.choices.items():
            taken[round_id][sid] = taken[round_id].get(sid, 0) + 1
        accepted.append(row)
    return accepted, problems


def import_registrations(r: redis.Redis, program: Program, rows: list[Row], base_url: str,
                         *, dry_run: bool = False) -> ImportResult:
    """Create a participant with its choices for every row that fits; all in one transaction.

    Every taken:<round> key and the e-mail index are WATCHed while the rows are checked, so a
    choice or a registration made meanwhile (by the running server, another import) makes the
    check run again: capacity is never exceeded and no e-mail address is registered twice.
    Raises ImportConflict after RETRIES such races (then nothing was written).
    """
    keys = Keys(program.slug)
    people = ParticipantService(r, program)
    base_url = base_url.rstrip("/")
    watched = [keys.emails, *(keys.taken(rnd.id) for rnd in program.rounds)]
    for _ in range(RETRIES):
        with r.pipeline() as pipe:
            try:
                pipe.watch(*watched)
                accepted, problems = _check(pipe, program, keys, rows)
                imported = []
                for row in accepted:
                    participant, token = new_participant(row.name)
                    # The token after '#': browsers never send it, so no server or proxy log sees it.
                    imported.append(Imported(row, participant, token,
                                             f"{base_url}/e/{program.slug}/p#{token}"))
                if dry_run:
                    pipe.unwatch()
                    return ImportResult(imported, problems, written=False)
                pipe.multi()
                for item in imported:
                    pid = item.participant.id
                    people.write(pipe, item.participant, item.token, email=item.row.email)
                    for round_id, sid in item.row.choices.items():
                        pipe.hset(keys.seats(round_id), pid, sid)
                        pipe.sadd(keys.chosen(round_id), pid)
                        pipe.hincrby(keys.taken(round_id), sid, 1)
                if imported:
                    pipe.execute()
                else:
                    pipe.reset()
                return ImportResult(imported, problems, written=bool(imported))
            except redis.WatchError:
                continue
    raise ImportConflict(f"the evening kept changing during the import ({RETRIES} tries); nothing was imported, "
                         "try again")
